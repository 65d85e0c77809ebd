// .slm package reader (src/package/package.h) on any bytes. When the only
// problem is a section digest, the digests are recomputed and the file parsed
// again, so the fuzzer also reaches everything after the digest checks
// (PackageToBundle, re-serialisation, VerifyAll).
#include <cstring>

#include "fuzz_util.h"
#include "package/package.h"
#include "package_digests.h"

namespace {

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
  if (!slm::fuzz::FixSectionDigests(buf.data(), size)) return 0;
  auto q = slm::Package::FromMemory(buf.span(), "fuzz.slm", {.verify_digests = false});
  if (q.ok()) Exercise(**q);
  return 0;
}
