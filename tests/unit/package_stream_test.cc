// PackageStream (src/package/package_stream.h): hashing while the bytes
// arrive gives exactly Package::FromMemory's result and errors, whatever the
// chunk sizes, and leaves nothing to hash at Finish.
#include "package/package_stream.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "import/import.h"
#include "package/package.h"
#include "package_test_util.h"
#include "test_util.h"

namespace slm {
namespace {

std::vector<uint8_t> Synthetic() {
  auto bytes = SerializePackage(test::MakeSyntheticBundle(5));
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  return bytes.ok() ? *bytes : std::vector<uint8_t>{};
}

// Feeds `bytes` in chunks of 1..max_chunk bytes (random, seeded); every Feed
// must succeed. Returns the stream's Finish.
StatusOr<std::unique_ptr<Package>> Stream(PackageStream& ps, size_t size, uint32_t seed,
                                          size_t max_chunk) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<size_t> chunk(1, max_chunk);
  uint64_t got = 0;
  while (got < size) {
    got = std::min<uint64_t>(size, got + chunk(rng));
    Status st = ps.Feed(got);
    if (!st.ok()) return st;
  }
  return ps.Finish();
}

// The status of opening `bytes` with FromMemory, and with a stream fed in
// random chunks: must be the same code and message.
void ExpectSameOutcome(const std::vector<uint8_t>& bytes, uint32_t seed, const std::string& what) {
  auto direct = Package::FromMemory(bytes, "pkg.slm");
  PackageStream ps(bytes, "pkg.slm");
  auto streamed = Stream(ps, bytes.size(), seed, 97);
  ASSERT_EQ(direct.ok(), streamed.ok())
      << what << ": " << direct.status().ToString() << " vs " << streamed.status().ToString();
  if (direct.ok()) {
    EXPECT_EQ((*direct)->digest_hex(), (*streamed)->digest_hex()) << what;
  } else {
    EXPECT_EQ(direct.status().code(), streamed.status().code()) << what;
    EXPECT_EQ(direct.status().message(), streamed.status().message()) << what;
  }
}

TEST(PackageStream, RandomChunksGiveFromMemorysPackage) {
  const auto& bytes = test::Stories260KPackage();
  ASSERT_FALSE(bytes.empty());
  auto direct = Package::FromMemory(bytes, "stories260K.slm");
  ASSERT_TRUE(direct.ok()) << direct.status().ToString();
  uint64_t tensor_bytes = 0;
  for (const TensorData& t : (*direct)->tensors()) tensor_bytes += t.bytes().size();
  for (uint32_t seed : {1u, 2u, 3u}) {
    for (size_t max_chunk : {size_t{1} << 10, size_t{1} << 16, bytes.size()}) {
      PackageStream ps(bytes, "stories260K.slm");
      auto p = Stream(ps, bytes.size(), seed, max_chunk);
      ASSERT_TRUE(p.ok()) << p.status().ToString();
      EXPECT_EQ((*p)->digest_hex(), (*direct)->digest_hex());
      EXPECT_EQ((*p)->tensors().size(), (*direct)->tensors().size());
      EXPECT_EQ((*p)->tensors()[0].bytes().data(),
                bytes.data() + (*p)->tensor_offset(0));  // in place
      // Every tensor and every hashed section was finished while streaming:
      // Finish had nothing left to hash.
      EXPECT_EQ(ps.ranges(), (*direct)->tensors().size() + 3);  // + metadata, tokenizer, table
      EXPECT_EQ(ps.finished_ranges(), ps.ranges());
      EXPECT_GT(ps.hashed_bytes(), tensor_bytes);
      EXPECT_LT(ps.hashed_bytes(), bytes.size());
    }
  }
}

TEST(PackageStream, OneByteAtATime) {
  const auto bytes = Synthetic();
  ASSERT_FALSE(bytes.empty());
  PackageStream ps(bytes, "synthetic.slm");
  auto p = Stream(ps, bytes.size(), 9, 1);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ((*p)->digest_hex(), (*Package::FromMemory(bytes, "x"))->digest_hex());
  EXPECT_EQ(ps.finished_ranges(), ps.ranges());
  EXPECT_EQ(ps.ranges(), (*p)->tensors().size() + 3);
}

TEST(PackageStream, CorruptedTensorIsRefusedNamingIt) {
  auto bytes = test::Stories260KPackage();
  ASSERT_FALSE(bytes.empty());
  bytes[bytes.size() - 3] ^= 0x55;  // in the last tensor
  auto direct = Package::FromMemory(bytes, "bad.slm");
  ASSERT_FALSE(direct.ok());
  PackageStream ps(bytes, "bad.slm");
  auto p = Stream(ps, bytes.size(), 4, 4096);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kIntegrityError);
  EXPECT_EQ(p.status().ToString(), direct.status().ToString());
  EXPECT_NE(p.status().message().find("bad.slm: tensor '"), std::string::npos)
      << p.status().ToString();
  EXPECT_EQ(ps.finished_ranges(), ps.ranges());  // the mismatch comes from the streamed digest
}

TEST(PackageStream, EveryFlippedByteGivesFromMemorysError) {
  const auto good = Synthetic();
  ASSERT_FALSE(good.empty());
  int refused = 0;
  for (size_t at = 0; at < good.size(); at += (at < 4096 ? 3 : 61)) {
    auto bytes = good;
    bytes[at] ^= 0x21;
    ExpectSameOutcome(bytes, static_cast<uint32_t>(at), "byte " + std::to_string(at));
    refused += Package::FromMemory(bytes, "x").ok() ? 0 : 1;
  }
  EXPECT_GT(refused, 100);
}

TEST(PackageStream, TruncatedBodyAndTruncatedFile) {
  const auto& bytes = test::Stories260KPackage();
  ASSERT_FALSE(bytes.empty());
  // The body ended early: Finish says how much arrived.
  PackageStream ps(bytes, "cut.slm");
  ASSERT_TRUE(ps.Feed(bytes.size() / 2).ok());
  auto p = ps.Finish();
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kIoError);
  EXPECT_NE(p.status().message().find(std::to_string(bytes.size() / 2) + " of " +
                                      std::to_string(bytes.size()) + " bytes"),
            std::string::npos)
      << p.status().ToString();
  // A shorter file streamed whole: FromMemory's error (the header's size).
  for (size_t keep : {size_t{64}, size_t{65}, size_t{4000}, bytes.size() - 1}) {
    std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + keep);
    ExpectSameOutcome(cut, 7, "first " + std::to_string(keep) + " bytes");
  }
  std::vector<uint8_t> tiny(bytes.begin(), bytes.begin() + 10);
  ExpectSameOutcome(tiny, 7, "10 bytes");
}

TEST(PackageStream, BadHeaderFailsAsSoonAsItArrives) {
  std::vector<uint8_t> junk(100000, 'x');
  auto direct = Package::FromMemory(junk, "junk.bin");
  ASSERT_FALSE(direct.ok());
  PackageStream ps(junk, "junk.bin");
  EXPECT_TRUE(ps.Feed(63).ok());
  Status st = ps.Feed(64);
  EXPECT_EQ(st.ToString(), direct.status().ToString());
  EXPECT_NE(st.message().find("bad magic"), std::string::npos) << st.ToString();
  EXPECT_EQ(ps.Feed(5000).ToString(), st.ToString());  // and stays refused
  EXPECT_EQ(ps.Finish().status().ToString(), st.ToString());
}

TEST(PackageStream, MisuseIsRefusedWithoutChange) {
  const auto bytes = Synthetic();
  PackageStream ps(bytes, "s.slm");
  ASSERT_TRUE(ps.Feed(1000).ok());
  Status back = ps.Feed(999);
  EXPECT_EQ(back.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(back.message().find("999"), std::string::npos) << back.ToString();
  EXPECT_EQ(ps.Feed(bytes.size() + 1).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ps.available(), 1000u);
  ASSERT_TRUE(ps.Feed(bytes.size()).ok());
  EXPECT_TRUE(ps.Finish().ok());
  EXPECT_TRUE(ps.Finish().ok());  // Finish does not consume the stream
}

TEST(PackageStream, WithoutVerificationTensorsAreNotHashed) {
  auto bytes = Synthetic();
  bytes[bytes.size() - 3] ^= 0x55;
  PackageOpenOptions o;
  o.verify_digests = false;
  PackageStream ps(bytes, "s.slm", o);
  auto p = Stream(ps, bytes.size(), 3, 500);
  ASSERT_TRUE(p.ok()) << p.status().ToString();  // as FromMemory without verification
  EXPECT_EQ(ps.ranges(), 3u);                    // metadata, tokenizer, table
  EXPECT_EQ((*p)->digest_hex(), (*Package::FromMemory(bytes, "x", o))->digest_hex());
}

TEST(PackageStream, KnownDigestsAreUsedOnlyForTheirExactRange) {
  const auto bytes = Synthetic();
  auto p = Package::FromMemory(bytes, "s.slm");
  ASSERT_TRUE(p.ok());
  // A wrong known digest for tensor 0's exact range is what the check sees...
  std::vector<RangeDigest> known = {
      {(*p)->tensor_offset(0), (*p)->tensors()[0].bytes().size(), {}}};
  auto bad = Package::FromMemory(bytes, "s.slm", {}, known);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find((*p)->tensors()[0].name), std::string::npos);
  // ... and one byte shorter it is ignored.
  known[0].size -= 1;
  EXPECT_TRUE(Package::FromMemory(bytes, "s.slm", {}, known).ok());
}

}  // namespace
}  // namespace slm
