// Packet archive reader (src/eval/archive.h ReadArchive, the ustar file of
// `slm release build -o X.tar`) on any bytes. When the bytes fail only a
// header checksum, every header's checksum is recomputed and the bytes read
// again, so the fuzzer gets past the checksums. A read archive is written
// back (WriteArchive must accept it and read back the same members), and its
// members are checked as a release packet (CheckPacket, as `slm release
// verify` does).
#include <cstring>
#include <string>
#include <vector>

#include "eval/archive.h"
#include "eval/release.h"
#include "fuzz_util.h"

namespace {

constexpr size_t kBlock = 512;

// Rewrites each header's checksum field (6 octal digits, NUL, space), walking
// member by member while the size fields parse.
void FixChecksums(uint8_t* b, size_t n) {
  for (size_t off = 0; n - off >= kBlock;) {
    uint8_t* h = b + off;
    bool zero = true;
    for (size_t i = 0; i < kBlock && zero; ++i) zero = h[i] == 0;
    if (zero) return;
    uint32_t sum = 0;
    for (size_t i = 0; i < kBlock; ++i) sum += (i >= 148 && i < 156) ? ' ' : h[i];
    char field[9];
    std::snprintf(field, sizeof(field), "%06o", sum & 0777777u);
    std::memcpy(h + 148, field, 6);
    h[154] = 0;
    h[155] = ' ';
    uint64_t size = 0;
    size_t i = 124;
    while (i < 136 && h[i] == ' ') ++i;
    for (; i < 136 && h[i] >= '0' && h[i] <= '7'; ++i) {
      if (size > (UINT64_MAX >> 3)) return;
      size = (size << 3) | static_cast<uint64_t>(h[i] - '0');
    }
    const uint64_t avail = n - off - kBlock;
    if (size > avail) return;
    off += kBlock + (size + kBlock - 1) / kBlock * kBlock;
    if (off > n) return;
  }
}

void Exercise(const std::vector<slm::eval::ArchiveMember>& members) {
  auto written = slm::eval::WriteArchive(members);
  if (!written.ok()) slm::fuzz::Fail("WriteArchive refuses members ReadArchive accepted");
  auto back = slm::eval::ReadArchive(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(written->data()), written->size()));
  if (!back.ok() || back->size() != members.size()) slm::fuzz::Fail("archive round trip");
  std::vector<std::string> listing;
  for (size_t i = 0; i < members.size(); ++i) {
    if ((*back)[i].name != members[i].name || (*back)[i].bytes != members[i].bytes) {
      slm::fuzz::Fail("archive round trip changed a member");
    }
    listing.push_back(members[i].name);
  }
  slm::eval::PacketReader read = [&](const std::string& path) -> slm::StatusOr<std::string> {
    for (const auto& m : members) {
      if (m.name == path) return m.bytes;
    }
    return slm::NotFound(path + ": not in the packet");
  };
  slm::eval::PacketCheck c = slm::eval::CheckPacket(read, listing);
  if (std::getenv("SLM_FUZZ_VERBOSE")) {
    std::fprintf(stderr, "  packet: %zu members, %zu problems\n", members.size(),
                 c.problems.size());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Small limits so the ResourceExhausted paths are reachable too.
  slm::eval::ArchiveLimits limits;
  limits.max_members = 64;
  limits.max_total_bytes = 1 << 20;
  auto a = slm::eval::ReadArchive(std::span<const uint8_t>(data, size), limits);
  slm::fuzz::Note("archive", a);
  if (a.ok()) {
    Exercise(*a);
    return 0;
  }
  if (a.status().message().find("checksum") == std::string::npos) return 0;
  std::vector<uint8_t> fixed(data, data + size);
  FixChecksums(fixed.data(), fixed.size());
  auto b = slm::eval::ReadArchive(fixed, limits);
  slm::fuzz::Note("archive (checksums fixed)", b);
  if (b.ok()) Exercise(*b);
  return 0;
}
