#include "import/safetensors.h"

#include <gtest/gtest.h>

#include <cstring>

#include "test_util.h"

namespace slm {
namespace {

std::vector<uint8_t> Floats(std::initializer_list<float> v) {
  std::vector<uint8_t> b(v.size() * 4);
  std::memcpy(b.data(), v.begin(), b.size());
  return b;
}

std::vector<uint8_t> Raw(const std::string& header, size_t data_bytes) {
  std::vector<uint8_t> out(8 + header.size() + data_bytes, 0);
  uint64_t n = header.size();
  std::memcpy(out.data(), &n, 8);
  std::memcpy(out.data() + 8, header.data(), header.size());
  return out;
}

SafetensorsTensor Make(std::string name, DType t, std::vector<int64_t> shape,
                       std::span<const uint8_t> data) {
  SafetensorsTensor st;
  st.name = std::move(name);
  st.dtype = t;
  st.shape = std::move(shape);
  st.data = data;
  return st;
}

StatusOr<std::unique_ptr<SafetensorsFile>> ParseBytes(const std::vector<uint8_t>& b) {
  return SafetensorsFile::Parse(MappedFile::FromMemory(b, "t.safetensors"));
}

TEST(Safetensors, WriteThenRead) {
  std::vector<uint8_t> a = Floats({1, 2, 3, 4, 5, 6}), c = {0, 0x3c, 0, 0xc0};  // f16 1, -2
  std::vector<SafetensorsTensor> ts;
  ts.push_back(Make("a.weight", DType::kF32, {2, 3}, a));
  ts.push_back(Make("b", DType::kF16, {2}, c));
  auto bytes = WriteSafetensors(ts);
  ASSERT_TRUE(bytes.ok());
  uint64_t n;
  std::memcpy(&n, bytes->data(), 8);
  EXPECT_EQ(n % 8, 0u);
  auto st = ParseBytes(*bytes);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  ASSERT_EQ((*st)->tensors().size(), 2u);
  const SafetensorsTensor* t = (*st)->Find("a.weight");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_TRUE(std::equal(t->data.begin(), t->data.end(), a.begin(), a.end()));
  EXPECT_EQ((*st)->Find("b")->dtype, DType::kF16);
  EXPECT_EQ((*st)->Find("nope"), nullptr);
}

TEST(Safetensors, ReadsMetadata) {
  auto b = Raw(R"({"__metadata__":{"format":"pt"},"x":{"dtype":"BF16","shape":[],"data_offsets":[0,2]}})", 2);
  auto st = ParseBytes(b);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ((*st)->metadata().at("format"), "pt");
  EXPECT_TRUE((*st)->Find("x")->shape.empty());
}

TEST(Safetensors, RejectsHostileHeaders) {
  struct Case {
    std::vector<uint8_t> bytes;
    std::string needle;
  };
  std::vector<uint8_t> huge(16, 0);
  uint64_t big = 200'000'000;
  std::memcpy(huge.data(), &big, 8);
  std::vector<uint8_t> past(16, 0);
  uint64_t n = 100;
  std::memcpy(past.data(), &n, 8);
  std::vector<Case> cases = {
      {{1, 2, 3}, "at least 8"},
      {huge, "100 MB"},
      {past, "past the end"},
      {Raw("{not json", 0), "t.safetensors"},
      {Raw("[1,2]", 0), "not a JSON object"},
      {Raw(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 4), "run past the data buffer"},
      {Raw(R"({"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8), "expected 12"},
      {Raw(R"({"x":{"dtype":"I8","shape":[8],"data_offsets":[0,8]}})", 8), "dtype I8"},
      {Raw(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 8), "begin <= end"},
      {Raw(R"({"x":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8), "shape entry"},
      {Raw(R"({"x":{"dtype":"F32","shape":[1.5],"data_offsets":[0,8]}})", 8), "shape entry"},
      {Raw(R"({"x":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", 8), "expected"},
      {Raw(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"y":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12), "overlaps"},
      {Raw(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"x":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})", 16), "x"},
      {Raw(R"({"x":{"dtype":"F32","shape":[2]}})", 8), "data_offsets"},
      {Raw(R"({"x":5})", 8), "not an object"},
  };
  for (const Case& c : cases) {
    auto st = ParseBytes(c.bytes);
    ASSERT_FALSE(st.ok()) << c.needle;
    EXPECT_NE(st.status().message().find(c.needle), std::string::npos) << st.status().message();
  }
}

TEST(Safetensors, EveryTruncationIsAnError) {
  std::vector<uint8_t> a = Floats({1, 2, 3, 4});
  std::vector<SafetensorsTensor> ts;
  ts.push_back(Make("w", DType::kF32, {4}, a));
  auto bytes = WriteSafetensors(ts);
  ASSERT_TRUE(bytes.ok());
  for (size_t cut = 0; cut < bytes->size(); ++cut) {
    std::vector<uint8_t> b(bytes->begin(), bytes->begin() + cut);
    EXPECT_FALSE(ParseBytes(b).ok()) << cut;
  }
}

}  // namespace
}  // namespace slm
