// .slm package reader (src/package/package.h) on any bytes. When the only
// problem is a section digest, the digests are recomputed and the file parsed
// again, so the fuzzer also reaches everything after the digest checks
// (PackageToBundle, re-serialisation, VerifyAll).
#include <cstring>

#include "base/sha256.h"
#include "fuzz_util.h"
#include "package/package.h"

namespace {

uint64_t Load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
uint32_t Load32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Writes each in-bounds directory entry's SHA-256 of its section (tensor data
// stays zero). Returns false if nothing could be fixed.
bool FixSectionDigests(uint8_t* b, size_t n) {
  if (n < 64) return false;
  uint32_t count = Load32(b + 20);
  uint64_t dir = Load64(b + 32);
  if (count > 1024 || dir > n || (n - dir) / 56 < count) return false;
  for (uint32_t i = 0; i < count; ++i) {
    uint8_t* e = b + dir + 56ull * i;
    uint32_t id = Load32(e);
    uint64_t off = Load64(e + 8), sz = Load64(e + 16);
    if (off > n || sz > n - off) continue;
    if (id == 4) {
      std::memset(e + 24, 0, 32);
    } else {
      slm::Digest d = slm::Sha256Of(std::span<const uint8_t>(b + off, sz));
      std::memcpy(e + 24, d.data(), 32);
    }
  }
  return true;
}

void Exercise(const slm::Package& p) {
  slm::ModelBundle b = slm::PackageToBundle(p);
  auto bytes = slm::SerializePackage(b);
  (void)p.VerifyAll();
  (void)p.digest_hex();
  (void)bytes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  slm::fuzz::AlignedBytes buf(data, size);
  auto p = slm::Package::FromMemory(buf.span(), "fuzz.slm", {.verify_digests = true});
  slm::fuzz::Note("package", p);
  if (p.ok()) {
    Exercise(**p);
    return 0;
  }
  if (p.status().code() != slm::StatusCode::kIntegrityError) return 0;
  if (!FixSectionDigests(buf.data(), size)) return 0;
  auto q = slm::Package::FromMemory(buf.span(), "fuzz.slm", {.verify_digests = false});
  if (q.ok()) Exercise(**q);
  return 0;
}
