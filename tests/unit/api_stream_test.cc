// slm_package_stream_* (include/slm/slm.h): verify while streaming gives
// slm_package_open_memory's package and, on bad bytes, its exact error.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "import/import.h"
#include "package/package.h"
#include "slm/slm.h"
#include "test_util.h"

namespace slm {
namespace {

// The bytes in an slm_alloc buffer.
uint8_t* Copy(const std::vector<uint8_t>& bytes) {
  auto* buf = static_cast<uint8_t*>(slm_alloc(bytes.size()));
  std::memcpy(buf, bytes.data(), bytes.size());
  return buf;
}

std::string Digest(const slm_package* pkg) {
  char hex[64];
  size_t len = 0;
  EXPECT_EQ(slm_package_digest(pkg, hex, sizeof hex, &len), SLM_OK);
  return std::string(hex, len);
}

// Streams buf (already complete: only the feeding is simulated) in random
// chunks; returns finish's status, the package in *out. Feed errors return early.
slm_status StreamOpen(uint8_t* buf, size_t size, const char* name, const slm_open_params* params,
                      uint32_t seed, slm_package** out) {
  slm_package_stream* st = nullptr;
  slm_status s = slm_package_stream_begin(buf, size, name, std::strlen(name), params, &st);
  if (s != SLM_OK) return s;
  std::mt19937 rng(seed);
  std::uniform_int_distribution<size_t> chunk(1, 20000);
  size_t got = 0;
  while (got < size && s == SLM_OK) {
    got = std::min(size, got + chunk(rng));
    s = slm_package_stream_feed(st, got);
  }
  if (s == SLM_OK) s = slm_package_stream_finish(st, out);
  slm_package_stream_destroy(st);
  return s;
}

TEST(ApiStreamTest, StreamedPackageEqualsOpenMemory) {
  const auto& bytes = test::Stories260KPackage();
  ASSERT_FALSE(bytes.empty());
  uint8_t* a = Copy(bytes);
  slm_package* direct = nullptr;
  ASSERT_EQ(slm_package_open_memory(a, bytes.size(), "s.slm", 5, nullptr, &direct), SLM_OK);
  slm_open_params p;
  slm_open_params_default(&p);
  p.take_ownership = 1;
  uint8_t* b = Copy(bytes);
  slm_package* streamed = nullptr;
  ASSERT_EQ(StreamOpen(b, bytes.size(), "s.slm", &p, 1, &streamed), SLM_OK) << slm_last_error();
  EXPECT_EQ(Digest(streamed), Digest(direct));
  // It runs: greedy ids equal those of the directly opened package.
  std::vector<int32_t> ids[2];
  int k = 0;
  for (slm_package* pkg : {direct, streamed}) {
    slm_session* s = nullptr;
    ASSERT_EQ(slm_session_create(pkg, nullptr, &s), SLM_OK);
    const int32_t bos = 1;
    ASSERT_EQ(slm_generate_begin(s, &bos, 1, 20), SLM_OK);
    for (int32_t id = 0; slm_generate_next(s, &id) == SLM_OK && id >= 0;) ids[k].push_back(id);
    slm_session_destroy(s);
    ++k;
  }
  EXPECT_EQ(ids[0].size(), 20u);
  EXPECT_EQ(ids[0], ids[1]);
  slm_package_destroy(streamed);  // frees b (take_ownership)
  slm_package_destroy(direct);
  slm_free(a);
}

TEST(ApiStreamTest, ErrorsAreOpenMemorys) {
  const auto& good = test::Stories260KPackage();
  ASSERT_FALSE(good.empty());
  // A flipped byte in the last tensor, in the header's file size field, in
  // the directory, near the middle and in the first quarter.
  for (size_t at : {good.size() - 3, size_t{24}, size_t{100}, good.size() / 2, good.size() / 4}) {
    auto bytes = good;
    bytes[at] ^= 0x40;
    uint8_t* buf = Copy(bytes);
    slm_package* pkg = nullptr;
    const slm_status code = slm_package_open_memory(buf, bytes.size(), "bad.slm", 7, nullptr, &pkg);
    ASSERT_NE(code, SLM_OK) << "byte " << at;
    const std::string direct = slm_last_error();
    EXPECT_EQ(StreamOpen(buf, bytes.size(), "bad.slm", nullptr, 3, &pkg), code);
    EXPECT_EQ(std::string(slm_last_error()), direct) << "byte " << at;
    EXPECT_EQ(pkg, nullptr);
    slm_free(buf);
  }
  {  // The last tensor: an integrity error naming it.
    auto bytes = good;
    bytes[bytes.size() - 3] ^= 0x40;
    uint8_t* buf = Copy(bytes);
    slm_package* pkg = nullptr;
    EXPECT_EQ(StreamOpen(buf, bytes.size(), "bad.slm", nullptr, 5, &pkg), SLM_INTEGRITY_ERROR);
    EXPECT_NE(std::string(slm_last_error()).find("bad.slm: tensor '"), std::string::npos)
        << slm_last_error();
    slm_free(buf);
  }
  // Not a package: refused at the first feed that completes the header.
  std::vector<uint8_t> junk(4096, 'x');
  uint8_t* buf = Copy(junk);
  slm_package_stream* st = nullptr;
  ASSERT_EQ(slm_package_stream_begin(buf, junk.size(), "junk", 4, nullptr, &st), SLM_OK);
  EXPECT_EQ(slm_package_stream_feed(st, 10), SLM_OK);
  EXPECT_EQ(slm_package_stream_feed(st, 64), SLM_FORMAT_ERROR);
  EXPECT_NE(std::string(slm_last_error()).find("junk: header: offset 0: bad magic"),
            std::string::npos)
      << slm_last_error();
  slm_package_stream_destroy(st);
  slm_free(buf);
}

TEST(ApiStreamTest, TruncatedBodyAndMisuse) {
  const auto& bytes = test::Stories260KPackage();
  ASSERT_FALSE(bytes.empty());
  uint8_t* buf = Copy(bytes);
  slm_package_stream* st = nullptr;
  EXPECT_EQ(slm_package_stream_begin(buf, bytes.size(), "t", 1, nullptr, nullptr),
            SLM_INVALID_ARGUMENT);
  EXPECT_EQ(slm_package_stream_begin(buf + 4, bytes.size() - 4, "t", 1, nullptr, &st),
            SLM_INVALID_ARGUMENT);
  EXPECT_NE(std::string(slm_last_error()).find("64-byte aligned"), std::string::npos);
  EXPECT_EQ(st, nullptr);
  EXPECT_EQ(slm_package_stream_feed(nullptr, 1), SLM_INVALID_ARGUMENT);
  slm_package_stream_destroy(nullptr);
  ASSERT_EQ(slm_package_stream_begin(buf, bytes.size(), "t.slm", 5, nullptr, &st), SLM_OK);
  ASSERT_EQ(slm_package_stream_feed(st, 1000), SLM_OK);
  EXPECT_EQ(slm_package_stream_feed(st, 999), SLM_INVALID_ARGUMENT);
  EXPECT_EQ(slm_package_stream_feed(st, bytes.size() + 1), SLM_INVALID_ARGUMENT);
  slm_package* pkg = nullptr;
  EXPECT_EQ(slm_package_stream_finish(st, &pkg), SLM_IO_ERROR);
  EXPECT_NE(std::string(slm_last_error()).find("1000 of " + std::to_string(bytes.size())),
            std::string::npos)
      << slm_last_error();
  EXPECT_EQ(pkg, nullptr);
  ASSERT_EQ(slm_package_stream_feed(st, bytes.size()), SLM_OK);
  ASSERT_EQ(slm_package_stream_finish(st, &pkg), SLM_OK) << slm_last_error();
  slm_package* again = nullptr;
  EXPECT_EQ(slm_package_stream_finish(st, &again), SLM_INVALID_ARGUMENT);  // one package
  EXPECT_EQ(again, nullptr);
  slm_package_stream_destroy(st);  // the package lives on
  slm_package_info info;
  EXPECT_EQ(slm_package_get_info(pkg, &info), SLM_OK);
  EXPECT_EQ(info.vocab_size, 512);
  slm_package_destroy(pkg);
  slm_free(buf);
}

}  // namespace
}  // namespace slm
