// Packet archives (src/eval/archive.h): deterministic ustar that the system
// `tar` reads and writes, and strict reading of hostile archives.
#include "eval/archive.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "test_util.h"

namespace slm::eval {
namespace {

using test::RunCommand;
using test::TempPath;

std::vector<ArchiveMember> Sample() {
  return {{"manifest.json", "{\"a\": 1}\n"},
          {"empty.txt", ""},
          {"block.bin", std::string(512, 'x')},
          {"big.bin", std::string(1500, '\x01')}};
}

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST(Archive, RoundTripIsExactAndDeterministic) {
  auto a = WriteArchive(Sample());
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_EQ(a->size() % 512, 0u);
  EXPECT_TRUE(LooksLikeArchive(Bytes(*a)));
  auto again = WriteArchive(Sample());
  EXPECT_EQ(*a, *again);
  auto r = ReadArchive(Bytes(*a));
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ((*r)[i].name, Sample()[i].name);
    EXPECT_EQ((*r)[i].bytes, Sample()[i].bytes);
  }
}

TEST(Archive, SystemTarExtractsWhatWeWrite) {
  auto a = WriteArchive(Sample());
  ASSERT_TRUE(a.ok());
  const std::string dir = TempPath("archive_extract");
  const std::string tar = dir + ".tar";
  WriteFile(tar, *a);
  std::string out;
  ASSERT_EQ(
      RunCommand("rm -rf " + dir + " && mkdir -p " + dir + " && tar -xf " + tar + " -C " + dir,
                 &out, true),
      0)
      << out;
  for (const ArchiveMember& m : Sample())
    EXPECT_EQ(ReadFile(dir + "/" + m.name), m.bytes) << m.name;
}

TEST(Archive, ReadsWhatSystemTarWrites) {
  const std::string dir = TempPath("archive_src");
  std::string out;
  ASSERT_EQ(RunCommand("rm -rf " + dir + " && mkdir -p " + dir, &out, true), 0);
  for (const ArchiveMember& m : Sample()) WriteFile(dir + "/" + m.name, m.bytes);
  const std::string tar = dir + ".tar";
  ASSERT_EQ(RunCommand("cd " + dir + " && tar --format=ustar -cf " + tar +
                           " manifest.json empty.txt block.bin big.bin",
                       &out, true),
            0)
      << out;
  const std::string bytes = ReadFile(tar);
  auto r = ReadArchive(Bytes(bytes));
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), 4u);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ((*r)[i].bytes, Sample()[i].bytes);
}

TEST(Archive, RefusesBadNamesOnWrite) {
  for (const char* bad : {"", ".", "..", "a/b", "../x"}) {
    EXPECT_EQ(WriteArchive({{bad, "x"}}).status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(WriteArchive({{std::string(101, 'n'), "x"}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(WriteArchive({{"a", "x"}, {"a", "y"}}).status().code(), StatusCode::kInvalidArgument);
}

// Re-computes a header's checksum after an edit, so only the edit is wrong.
void FixChecksum(std::string* a, size_t header) {
  uint32_t sum = 0;
  for (size_t i = 0; i < 512; ++i) {
    sum += (i >= 148 && i < 156) ? ' ' : static_cast<uint8_t>((*a)[header + i]);
  }
  char buf[8];
  std::snprintf(buf, sizeof buf, "%06o", sum);
  std::memcpy(&(*a)[header + 148], buf, 7);
}

TEST(Archive, RefusesHostileArchives) {
  const std::string good = *WriteArchive(Sample());
  auto code = [](const std::string& a) { return ReadArchive(Bytes(a)).status().code(); };
  // Truncated at every block boundary and mid-block.
  for (size_t cut = 0; cut < good.size(); cut += 256) {
    EXPECT_NE(code(good.substr(0, cut)), StatusCode::kOk) << "cut at " << cut;
  }
  std::string a = good;
  a[0] ^= 1;  // name byte changed, checksum not updated
  EXPECT_EQ(code(a), StatusCode::kFormatError);
  a = good;
  a[0] = '/';  // absolute name
  FixChecksum(&a, 0);
  EXPECT_EQ(code(a), StatusCode::kFormatError);
  a = good;
  std::memcpy(&a[0], "..\0", 3);
  FixChecksum(&a, 0);
  EXPECT_EQ(code(a), StatusCode::kFormatError);
  a = good;
  a[156] = '2';  // symlink
  FixChecksum(&a, 0);
  EXPECT_EQ(code(a), StatusCode::kFormatError);
  a = good;
  std::memcpy(&a[124], "77777777777", 11);  // size far beyond the archive
  FixChecksum(&a, 0);
  EXPECT_EQ(code(a), StatusCode::kFormatError);
  a = good;
  std::memcpy(&a[124], "0000000x010", 11);  // not octal
  FixChecksum(&a, 0);
  EXPECT_EQ(code(a), StatusCode::kFormatError);
  // Duplicate member names.
  std::string dup = *WriteArchive({{"a", "1"}});
  dup = dup.substr(0, 1024) + dup;
  EXPECT_EQ(code(dup), StatusCode::kFormatError);
  // Member count ceiling.
  ArchiveLimits few;
  few.max_members = 2;
  EXPECT_EQ(ReadArchive(Bytes(good), few).status().code(), StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace slm::eval
