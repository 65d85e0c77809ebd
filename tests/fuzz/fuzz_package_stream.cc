// PackageStream (src/package/package_stream.h) against Package::FromMemory on
// the same bytes: fed in chunks whose sizes come from the input's length and
// last byte (1 byte up to 4 KiB), the stream must give FromMemory's result
// exactly: both open or both refuse with the same code and message, and a
// header refused during Feed is FromMemory's error too. Like fuzz_package,
// an input refused only for a section digest is re-sealed and tried again,
// so the tensor table and the per-tensor hashing across chunks are reached.
#include <cstdio>
#include <cstdlib>

#include "fuzz_util.h"
#include "package/package.h"
#include "package/package_stream.h"
#include "package_digests.h"

namespace {

[[noreturn]] void Mismatch(const char* what, const std::string& stream, const std::string& mem) {
  std::fprintf(stderr, "package_stream: %s\n  stream: %s\n  memory: %s\n", what, stream.c_str(),
               mem.c_str());
  std::abort();
}

// Returns FromMemory's status code (kOk when it opens).
slm::StatusCode Compare(std::span<const uint8_t> bytes, uint8_t seed) {
  const slm::PackageOpenOptions o{.verify_digests = true};
  auto mem = slm::Package::FromMemory(bytes, "fuzz.slm", o);
  const std::string mem_err = mem.ok() ? "ok" : mem.status().ToString();

  slm::PackageStream ps(bytes, "fuzz.slm", o);
  uint64_t got = 0;
  uint32_t x = static_cast<uint32_t>(bytes.size()) * 2654435761u + seed;
  while (got < bytes.size()) {
    x = x * 1103515245u + 12345u;
    const uint64_t step = 1 + (x >> 8) % 4096;
    got = bytes.size() - got < step ? bytes.size() : got + step;
    const slm::Status st = ps.Feed(got);
    if (!st.ok()) {
      // Only a refused header stops a stream early: it must be FromMemory's error.
      if (mem.ok() || st.ToString() != mem_err) Mismatch("Feed refused", st.ToString(), mem_err);
      return mem.status().code();
    }
  }
  auto s = ps.Finish();
  const std::string s_err = s.ok() ? "ok" : s.status().ToString();
  if (s_err != mem_err) Mismatch("Finish differs", s_err, mem_err);
  if (s.ok() && (*s)->digest_hex() != (*mem)->digest_hex()) {
    Mismatch("digest differs", (*s)->digest_hex(), (*mem)->digest_hex());
  }
  return mem.ok() ? slm::StatusCode::kOk : mem.status().code();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  slm::fuzz::AlignedBytes buf(data, size);
  const uint8_t seed = size ? data[size - 1] : 0;
  if (Compare(buf.span(), seed) != slm::StatusCode::kIntegrityError) return 0;
  if (!slm::fuzz::FixSectionDigests(buf.data(), size)) return 0;
  Compare(buf.span(), seed);
  return 0;
}
