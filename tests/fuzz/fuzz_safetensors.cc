// safetensors reader (src/import/safetensors.h) on any bytes; a parsed file's
// tensors must lie inside the file and re-serialise.
#include "fuzz_util.h"
#include "import/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  slm::fuzz::AlignedBytes buf(data, size);
  auto f = slm::SafetensorsFile::Parse(slm::MappedFile::FromMemory(buf.span(), "fuzz.safetensors"));
  slm::fuzz::Note("safetensors", f);
  if (!f.ok()) return 0;
  const auto all = buf.span();
  for (const auto& t : (*f)->tensors()) {
    if (!t.data.empty() &&
        (t.data.data() < all.data() || t.data.data() + t.data.size() > all.data() + all.size())) {
      slm::fuzz::Fail("tensor view outside the file");
    }
    if ((*f)->Find(t.name) == nullptr) slm::fuzz::Fail("Find misses a listed tensor");
  }
  auto out = slm::WriteSafetensors((*f)->tensors());
  (void)out;
  return 0;
}
