// Session file reader (src/runtime/session_file.h): any bytes. An accepted
// file must have sections whose sizes match its header exactly, and writing
// the header back must give the same leading bytes.
#include <cstring>
#include <vector>

#include "fuzz_util.h"
#include "runtime/session_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto v = slm::ParseSessionFile(std::span<const uint8_t>(data, size), "fuzz.slmkv");
  slm::fuzz::Note("session file", v);
  if (!v.ok()) {
    if (v.status().message().empty()) slm::fuzz::Fail("session file error without a message");
    return 0;
  }
  const slm::SessionFileHeader& h = v->h;
  if (v->tokens.size() != 4ull * h.position) slm::fuzz::Fail("token section size");
  if (v->kv.size() != 8ull * h.n_layers * h.position * h.kv_dim) slm::fuzz::Fail("kv size");
  if (v->logits.size() != (h.has_logits ? 4ull * h.vocab_size : 0)) slm::fuzz::Fail("logits");
  if (v->sampler.size() != h.sampler_bytes) slm::fuzz::Fail("sampler section size");
  std::vector<uint8_t> header;
  slm::AppendSessionFileHeader(h, &header);
  if (header.size() != slm::kSessionFileHeaderBytes ||
      std::memcmp(header.data(), data, header.size()) != 0) {
    slm::fuzz::Fail("header does not re-encode to the same bytes");
  }
  return 0;
}
