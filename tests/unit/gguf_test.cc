#include "import/gguf.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace slm {
namespace {

TEST(Gguf, ReadsStories260K) {
  std::string path = test::ModelPath("stories260K.gguf");
  ASSERT_FALSE(path.empty());
  auto g = GgufFile::Open(path);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ((*g)->version(), 3u);
  EXPECT_EQ((*g)->tensors().size(), 48u);
  auto arch = (*g)->GetString("general.architecture");
  ASSERT_TRUE(arch.ok());
  EXPECT_EQ(*arch, "llama");
  auto tokens = (*g)->GetStringArray("tokenizer.ggml.tokens");
  ASSERT_TRUE(tokens.ok());
  EXPECT_EQ((*tokens)->size(), 512u);
}

TEST(Gguf, RejectsEveryTruncation) {
  std::string path = test::ModelPath("stories260K.gguf");
  ASSERT_FALSE(path.empty());
  auto full = MappedFile::Open(path);
  ASSERT_TRUE(full.ok());
  auto bytes = (*full)->bytes();
  // Cut inside the header, the kv section and the tensor table.
  for (size_t cut : {0ul, 3ul, 7ul, 15ul, 23ul, 100ul, 1000ul, 20000ul, bytes.size() - 1}) {
    auto g = GgufFile::Parse(MappedFile::FromMemory(bytes.first(cut), "cut"));
    ASSERT_FALSE(g.ok()) << "cut at " << cut;
    EXPECT_NE(g.status().message().find("offset"), std::string::npos) << g.status().message();
  }
}

}  // namespace
}  // namespace slm
