// Adapter package reader (src/adapter/adapter_package.h) on any bytes:
// ParseAdapterPackage, then CheckAdapterStructure. When the bytes fail only
// an integrity check, every blob digest in the delta table and the info /
// table section digests are recomputed and the bytes parsed again, so the
// fuzzer also reaches the decoding behind the digests. A parsed adapter is
// re-serialized (it must parse back with the same content digest), validated
// against the stories260K base and, if valid, merged into it.
#include <cstring>

#include "adapter/adapter_package.h"
#include "adapter/merge.h"
#include "adapter/validate.h"
#include "base/sha256.h"
#include "fuzz_adapter_base.h"
#include "fuzz_util.h"

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

// The [offset, size) of the section with `id` in the directory, or false.
bool FindSection(const uint8_t* b, size_t n, uint32_t id, uint64_t* off, uint64_t* sz,
                 uint8_t** entry) {
  if (n < 64) return false;
  uint32_t count = Load32(b + 20);
  uint64_t dir = Load64(b + 32);
  if (count > 1024 || dir > n || (n - dir) / 56 < count) return false;
  for (uint32_t i = 0; i < count; ++i) {
    uint8_t* e = const_cast<uint8_t*>(b) + dir + 56ull * i;
    if (Load32(e) != id) continue;
    *off = Load64(e + 8);
    *sz = Load64(e + 16);
    *entry = e;
    return *off <= n && *sz <= n - *off;
  }
  return false;
}

// Blob records in the delta table are {u64 offset, u64 size, u8[32] sha256}
// at unaligned positions: every position whose offset/size fit the blob
// section (offset a multiple of 64) gets the blob's SHA-256 (a guess: a false
// hit only rewrites 32 bytes, which is one more mutation). Then the info and
// table section digests are rewritten. False if there was nothing to fix.
bool FixDigests(uint8_t* b, size_t n) {
  uint64_t boff, bsz, toff, tsz;
  uint8_t* e;
  if (!FindSection(b, n, slm::adapter_pkg::kSectionBlobs, &boff, &bsz, &e)) return false;
  if (FindSection(b, n, slm::adapter_pkg::kSectionDeltaTable, &toff, &tsz, &e)) {
    for (uint64_t p = toff; p + 48 <= toff + tsz; ++p) {
      uint64_t o = Load64(b + p), s = Load64(b + p + 8);
      if (o % 64 != 0 || o < boff || o > boff + bsz || s > boff + bsz - o) continue;
      slm::Digest d = slm::Sha256Of(std::span<const uint8_t>(b + o, s));
      std::memcpy(b + p + 16, d.data(), 32);
      p += 47;
    }
  }
  for (uint32_t id : {slm::adapter_pkg::kSectionInfo, slm::adapter_pkg::kSectionDeltaTable}) {
    uint64_t off, sz;
    if (!FindSection(b, n, id, &off, &sz, &e)) continue;
    slm::Digest d = slm::Sha256Of(std::span<const uint8_t>(b + off, sz));
    std::memcpy(e + 24, d.data(), 32);
  }
  return true;
}

void Exercise(const slm::AdapterFile& f) {
  slm::Status st = slm::CheckAdapterStructure(f.adapter);
  // ParseAdapterPackage already ran it: a parsed adapter is well formed.
  if (!st.ok()) slm::fuzz::Fail("parsed adapter fails CheckAdapterStructure");
  auto bytes = slm::SerializeAdapter(f.adapter);
  if (!bytes.ok()) slm::fuzz::Fail("parsed adapter does not serialize");
  slm::fuzz::AlignedBytes copy(bytes->data(), bytes->size());
  auto again = slm::ParseAdapterPackage(copy.span(), "reserialized.slm");
  if (!again.ok()) slm::fuzz::Fail("re-serialized adapter does not parse");
  auto digest = slm::AdapterContentDigest(f.adapter);
  if (!digest.ok() || *digest != again->digest) slm::fuzz::Fail("content digest changed");
  const slm::Package& base = slm::fuzz::StoriesBase();
  slm::Status v = slm::ValidateAdapter(base, f.adapter);
  if (std::getenv("SLM_FUZZ_VERBOSE")) {
    std::fprintf(stderr, "  validate: %s\n", v.ok() ? "ok" : v.ToString().c_str());
  }
  if (!v.ok()) return;
  slm::AssemblyEntry entry{&f.adapter, f.digest, 0.5f};
  auto merged = slm::MergeAdapters(base, std::span<const slm::AssemblyEntry>(&entry, 1), {});
  slm::fuzz::Note("merge", merged);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  slm::fuzz::AlignedBytes in(data, size);
  auto f = slm::ParseAdapterPackage(in.span(), "fuzz.slm");
  slm::fuzz::Note("adapter package", f);
  if (f.ok()) {
    Exercise(*f);
    return 0;
  }
  if (f.status().code() != slm::StatusCode::kIntegrityError) return 0;
  if (!FixDigests(in.data(), size)) return 0;
  auto g = slm::ParseAdapterPackage(in.span(), "fuzz.slm");
  slm::fuzz::Note("adapter package (digests fixed)", g);
  if (g.ok()) Exercise(*g);
  return 0;
}
