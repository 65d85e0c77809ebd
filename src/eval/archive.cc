#include "eval/archive.h"

#include <cstring>
#include <set>

namespace slm::eval {
namespace {

constexpr size_t kBlock = 512;
// ustar header fields: offset, length.
constexpr size_t kName = 0, kNameLen = 100;
constexpr size_t kMode = 100, kUid = 108, kGid = 116, kSize = 124, kMtime = 136;
constexpr size_t kChksum = 148, kTypeflag = 156, kMagic = 257, kVersion = 263;
constexpr char kUstarMagic[6] = {'u', 's', 't', 'a', 'r', '\0'};

// Writes v as `len - 1` octal digits + NUL (the classic tar form).
void PutOctal(uint8_t* p, size_t len, uint64_t v) {
  p[len - 1] = 0;
  for (size_t i = len - 1; i-- > 0;) {
    p[i] = static_cast<uint8_t>('0' + (v & 7));
    v >>= 3;
  }
}

uint32_t HeaderChecksum(const uint8_t* h) {  // chksum field counted as spaces
  uint32_t sum = 0;
  for (size_t i = 0; i < kBlock; ++i) sum += (i >= kChksum && i < kChksum + 8) ? ' ' : h[i];
  return sum;
}

// Octal digits, optionally space/NUL padded on both sides; false otherwise.
bool ParseOctal(const uint8_t* p, size_t len, uint64_t* out) {
  size_t i = 0;
  while (i < len && p[i] == ' ') ++i;
  uint64_t v = 0;
  size_t digits = 0;
  for (; i < len && p[i] >= '0' && p[i] <= '7'; ++i, ++digits) {
    if (v > (UINT64_MAX >> 3)) return false;
    v = (v << 3) | static_cast<uint64_t>(p[i] - '0');
  }
  for (; i < len; ++i) {
    if (p[i] != ' ' && p[i] != 0) return false;
  }
  *out = v;
  return digits > 0;
}

Status CheckName(const std::string& name) {
  if (name.empty() || name.size() > kNameLen || name == "." || name == ".." ||
      name.find('/') != std::string::npos || name.find('\0') != std::string::npos) {
    return InvalidArgument("archive member name '" + name +
                           "': expected a flat file name of 1..100 bytes (no '/', '.' or '..')");
  }
  return Status::Ok();
}

bool AllZero(const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (p[i] != 0) return false;
  }
  return true;
}

}  // namespace

bool LooksLikeArchive(std::span<const uint8_t> bytes) {
  return bytes.size() >= kBlock && std::memcmp(bytes.data() + kMagic, kUstarMagic, 6) == 0;
}

StatusOr<std::string> WriteArchive(const std::vector<ArchiveMember>& members) {
  std::set<std::string> seen;
  size_t total = 2 * kBlock;
  for (const ArchiveMember& m : members) {
    SLM_RETURN_IF_ERROR(CheckName(m.name));
    if (!seen.insert(m.name).second)
      return InvalidArgument("archive member '" + m.name + "' twice");
    total += kBlock + (m.bytes.size() + kBlock - 1) / kBlock * kBlock;
  }
  std::string out(total, '\0');
  uint8_t* p = reinterpret_cast<uint8_t*>(out.data());
  for (const ArchiveMember& m : members) {
    std::memcpy(p + kName, m.name.data(), m.name.size());
    PutOctal(p + kMode, 8, 0644);
    PutOctal(p + kUid, 8, 0);
    PutOctal(p + kGid, 8, 0);
    PutOctal(p + kSize, 12, m.bytes.size());
    PutOctal(p + kMtime, 12, 0);
    p[kTypeflag] = '0';
    std::memcpy(p + kMagic, kUstarMagic, 6);
    p[kVersion] = '0';
    p[kVersion + 1] = '0';
    PutOctal(p + kChksum, 7, HeaderChecksum(p));  // 6 digits + NUL, then a space
    p[kChksum + 7] = ' ';
    p += kBlock;
    std::memcpy(p, m.bytes.data(), m.bytes.size());
    p += (m.bytes.size() + kBlock - 1) / kBlock * kBlock;
  }
  return out;
}

StatusOr<std::vector<ArchiveMember>> ReadArchive(std::span<const uint8_t> bytes,
                                                 const ArchiveLimits& limits) {
  if (bytes.size() % kBlock != 0) {
    return FormatError("archive of " + std::to_string(bytes.size()) +
                       " bytes: expected a multiple of 512 (truncated?)");
  }
  std::vector<ArchiveMember> out;
  std::set<std::string> seen;
  uint64_t total = 0;
  size_t off = 0;
  while (true) {
    if (bytes.size() - off < kBlock) {
      return FormatError("archive ends at offset " + std::to_string(off) +
                         " without the two zero end blocks (truncated?)");
    }
    const uint8_t* h = bytes.data() + off;
    if (AllZero(h, kBlock)) {
      if (bytes.size() - off < 2 * kBlock || !AllZero(h + kBlock, kBlock)) {
        return FormatError("archive at offset " + std::to_string(off) +
                           ": expected two zero end blocks");
      }
      break;  // anything after the end blocks is ignored, as tar does
    }
    const std::string where = "archive header at offset " + std::to_string(off);
    uint64_t sum = 0, size = 0;
    if (!ParseOctal(h + kChksum, 8, &sum) || sum != HeaderChecksum(h)) {
      return FormatError(where + ": header checksum does not match");
    }
    if (std::memcmp(h + kMagic, kUstarMagic, 6) != 0) {
      return FormatError(where + ": expected the ustar magic");
    }
    const size_t name_len = strnlen(reinterpret_cast<const char*>(h + kName), kNameLen);
    std::string name(reinterpret_cast<const char*>(h + kName), name_len);
    if (h[345] != 0)
      return FormatError(where + ": '" + name + "' uses a name prefix (expected flat names)");
    Status ns = CheckName(name);
    if (!ns.ok()) return FormatError(where + ": " + ns.message());
    if (h[kTypeflag] != '0' && h[kTypeflag] != 0) {
      return FormatError(where + ": '" + name + "' has type '" +
                         std::string(1, static_cast<char>(h[kTypeflag])) +
                         "', expected a regular file ('0')");
    }
    if (!ParseOctal(h + kSize, 12, &size)) return FormatError(where + ": bad size field");
    const uint64_t avail = bytes.size() - off - kBlock;
    if (size > avail) {
      return FormatError(where + ": '" + name + "' claims " + std::to_string(size) +
                         " bytes, only " + std::to_string(avail) + " follow (truncated?)");
    }
    if (!seen.insert(name).second) return FormatError(where + ": '" + name + "' appears twice");
    total += size;
    if (out.size() + 1 > limits.max_members || total > limits.max_total_bytes) {
      return ResourceExhausted(where + ": more than " + std::to_string(limits.max_members) +
                               " members or " + std::to_string(limits.max_total_bytes) + " bytes");
    }
    const size_t padded = static_cast<size_t>((size + kBlock - 1) / kBlock * kBlock);
    if (padded > avail) return FormatError(where + ": '" + name + "' padding is truncated");
    out.push_back({std::move(name), std::string(reinterpret_cast<const char*>(h + kBlock),
                                                static_cast<size_t>(size))});
    off += kBlock + padded;
  }
  return out;
}

}  // namespace slm::eval
