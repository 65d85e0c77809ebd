// The in-memory entry points of the file importers (used by the fuzz targets):
// ImportLlama2cFile, ImportHfFromMemory, ImportPeftFromMemory and
// ImportLoraGgufFile run the same parser as their file-path versions, so on
// the same bytes they give the same result (the same package bytes or adapter
// digest) and the same error messages (files are named "<dir>/<name>" either
// way).
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <span>
#include <string>

#include "adapter/adapter_package.h"
#include "adapter/lora_gguf.h"
#include "adapter/peft.h"
#include "adapter_test_util.h"
#include "base/file.h"
#include "import/folder.h"
#include "import/gguf.h"
#include "import/hf_import.h"
#include "import/import.h"
#include "import/llama2c.h"
#include "package/package.h"
#include "test_util.h"

namespace slm {
namespace {

using adapter_test::FixturePath;
using Files = std::map<std::string, std::span<const uint8_t>>;

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::string Read(const std::string& path) {
  auto t = ReadFileToString(path);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.ok() ? *t : std::string();
}

// Package bytes of a bundle (config, tensors, tokenizer, provenance).
std::vector<uint8_t> Serialized(const ModelBundle& b) {
  auto bytes = SerializePackage(b);
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  return bytes.ok() ? *bytes : std::vector<uint8_t>{};
}

std::string Message(const Status& s) { return s.ToString(); }

TEST(FolderTest, DiskAndMemoryAgree) {
  const std::string dir = test::TempPath("folder_test");
  std::filesystem::create_directories(dir);
  ASSERT_TRUE(WriteFileAtomic(dir + "/a.json", Bytes("{}")).ok());
  const std::string text = "{}";
  Files files = {{"a.json", Bytes(text)}};
  const Folder disk = Folder::OnDisk(dir), mem = Folder::InMemory(dir, &files);
  EXPECT_FALSE(disk.in_memory());
  EXPECT_TRUE(mem.in_memory());
  for (const Folder* f : {&disk, &mem}) {
    EXPECT_EQ(f->Path("a.json"), dir + "/a.json");
    EXPECT_TRUE(f->Exists("a.json"));
    EXPECT_FALSE(f->Exists("b.json"));
    auto t = f->ReadText("a.json");
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(*t, "{}");
    auto m = f->Map("a.json");
    ASSERT_TRUE(m.ok());
    EXPECT_EQ((*m)->path(), dir + "/a.json");
    EXPECT_EQ((*m)->bytes().size(), 2u);
    auto missing = f->ReadText("b.json");
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
    EXPECT_NE(Message(missing.status()).find(dir + "/b.json"), std::string::npos)
        << Message(missing.status());
    EXPECT_EQ(f->Map("b.json").status().code(), StatusCode::kNotFound);
  }
}

TEST(ImportMemoryTest, Llama2cFromMemoryEqualsFile) {
  const std::string path = test::ModelPath("stories260K.bin");
  ASSERT_FALSE(path.empty());
  const std::string bytes = Read(path);
  auto from_file = ImportLlama2c(path, "");
  auto from_memory = ImportLlama2cFile(MappedFile::FromMemory(Bytes(bytes), path), "");
  ASSERT_TRUE(from_file.ok()) << from_file.status().ToString();
  ASSERT_TRUE(from_memory.ok()) << from_memory.status().ToString();
  EXPECT_EQ(from_memory->provenance.source_path, path);
  EXPECT_EQ(from_memory->provenance.source_sha256, from_file->provenance.source_sha256);
  ASSERT_EQ(from_memory->tensors.size(), from_file->tensors.size());
  for (size_t i = 0; i < from_file->tensors.size(); ++i) {
    const TensorData &a = from_file->tensors[i], &b = from_memory->tensors[i];
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.shape, b.shape);
    ASSERT_EQ(a.bytes().size(), b.bytes().size()) << a.name;
    EXPECT_TRUE(std::equal(a.bytes().begin(), a.bytes().end(), b.bytes().begin())) << a.name;
  }
  // A truncated copy fails with the same message as the file would.
  auto cut = ImportLlama2cFile(MappedFile::FromMemory(Bytes(bytes.substr(0, 100)), path), "");
  ASSERT_FALSE(cut.ok());
  EXPECT_NE(Message(cut.status()).find(path), std::string::npos) << Message(cut.status());
}

// The fuzz seed tests/fuzz/corpus/hf_import/tiny_spm.hf: config.json,
// model.safetensors and tokenizer.json separated by "\n%%slm%%\n".
std::map<std::string, std::string> TinyHfFolder() {
  const std::string in = Read(test::SourceDir() + "/tests/fuzz/corpus/hf_import/tiny_spm.hf");
  const std::string sep = "\n%%slm%%\n";
  const size_t a = in.find(sep), b = in.find(sep, a + sep.size());
  EXPECT_NE(a, std::string::npos);
  EXPECT_NE(b, std::string::npos);
  return {{"config.json", in.substr(0, a)},
          {"model.safetensors", in.substr(a + sep.size(), b - a - sep.size())},
          {"tokenizer.json", in.substr(b + sep.size())}};
}

std::string WriteFolder(const std::string& name, const std::map<std::string, std::string>& files) {
  const std::string dir = test::TempPath(name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  for (const auto& [n, text] : files) {
    EXPECT_TRUE(WriteFileAtomic(dir + "/" + n, Bytes(text)).ok());
  }
  return dir;
}

Files View(const std::map<std::string, std::string>& files) {
  Files v;
  for (const auto& [n, text] : files) v[n] = Bytes(text);
  return v;
}

TEST(ImportMemoryTest, HfFromMemoryEqualsFolder) {
  const auto files = TinyHfFolder();
  const std::string dir = WriteFolder("hf_memory", files);
  auto from_disk = ImportHfFolder(dir, "");
  auto from_memory = ImportHfFromMemory(dir, View(files), "");
  ASSERT_TRUE(from_disk.ok()) << from_disk.status().ToString();
  ASSERT_TRUE(from_memory.ok()) << from_memory.status().ToString();
  EXPECT_EQ(from_memory->provenance.source_path, "hf_memory");
  EXPECT_EQ(from_memory->tokenizer.pieces.size(), from_disk->tokenizer.pieces.size());
  const std::vector<uint8_t> a = Serialized(*from_disk), b = Serialized(*from_memory);
  EXPECT_FALSE(a.empty());
  EXPECT_TRUE(a == b) << "the in-memory import differs from the folder import";
}

TEST(ImportMemoryTest, HfMissingFilesSameErrors) {
  for (const char* drop : {"config.json", "model.safetensors", "tokenizer.json"}) {
    auto files = TinyHfFolder();
    files.erase(drop);
    const std::string dir = WriteFolder(std::string("hf_missing_") + drop, files);
    auto from_disk = ImportHfFolder(dir, "");
    auto from_memory = ImportHfFromMemory(dir, View(files), "");
    ASSERT_FALSE(from_disk.ok()) << drop;
    ASSERT_FALSE(from_memory.ok()) << drop;
    EXPECT_EQ(from_memory.status().code(), StatusCode::kNotFound) << drop;
    EXPECT_EQ(Message(from_memory.status()), Message(from_disk.status())) << drop;
  }
  // A broken shard name in the index: the same refusal.
  auto files = TinyHfFolder();
  files["model.safetensors.index.json"] = R"({"weight_map": {"a": "../x"}})";
  const std::string dir = WriteFolder("hf_bad_index", files);
  auto from_disk = ImportHfFolder(dir, "");
  auto from_memory = ImportHfFromMemory(dir, View(files), "");
  ASSERT_FALSE(from_memory.ok());
  EXPECT_EQ(Message(from_memory.status()), Message(from_disk.status()));
  EXPECT_NE(Message(from_memory.status()).find("plain file name"), std::string::npos)
      << Message(from_memory.status());
}

class AdapterMemoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string model = test::ModelPath("stories260K.bin");
    const std::string tok = test::ModelPath("tok512.bin");
    ASSERT_FALSE(model.empty());
    ASSERT_FALSE(tok.empty());
    auto b = ImportModel(model, {tok});
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    const std::string path = test::TempPath("memory_base.slm");
    ASSERT_TRUE(WritePackage(*b, path).ok());
    auto p = Package::Open(path);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    base_ = std::move(p).value();
  }
  static Digest DigestOf(const Adapter& a) {
    auto d = AdapterContentDigest(a);
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    return d.ok() ? *d : Digest{};
  }
  std::unique_ptr<Package> base_;
};

TEST_F(AdapterMemoryTest, PeftFromMemoryEqualsFolder) {
  const std::string dir = FixturePath("peft");
  const std::string cfg = Read(dir + "/adapter_config.json");
  const std::string st = Read(dir + "/adapter_model.safetensors");
  auto from_disk = ImportPeft(dir, *base_);
  auto from_memory = ImportPeftFromMemory(
      dir, {{"adapter_config.json", Bytes(cfg)}, {"adapter_model.safetensors", Bytes(st)}}, *base_);
  ASSERT_TRUE(from_disk.ok()) << from_disk.status().ToString();
  ASSERT_TRUE(from_memory.ok()) << from_memory.status().ToString();
  EXPECT_EQ(from_memory->name, from_disk->name);
  EXPECT_EQ(from_memory->deltas.size(), from_disk->deltas.size());
  EXPECT_TRUE(DigestOf(*from_memory) == DigestOf(*from_disk));

  // No weights but a pickle: Unsupported; no config: NotFound (as on disk).
  const std::string pickle = "not read";
  auto bin = ImportPeftFromMemory(
      dir, {{"adapter_config.json", Bytes(cfg)}, {"adapter_model.bin", Bytes(pickle)}}, *base_);
  ASSERT_FALSE(bin.ok());
  EXPECT_EQ(bin.status().code(), StatusCode::kUnsupported) << Message(bin.status());
  auto none = ImportPeftFromMemory(dir, {{"adapter_model.safetensors", Bytes(st)}}, *base_);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
  EXPECT_NE(Message(none.status()).find("no adapter_config.json"), std::string::npos);
}

TEST_F(AdapterMemoryTest, LoraGgufFromMemoryEqualsFile) {
  const std::string path = FixturePath("lora.gguf");
  const std::string bytes = Read(path);
  // GGUF data is 32-byte aligned in the file; keep the copy 64-byte aligned.
  std::vector<uint64_t> aligned((bytes.size() + 7) / 8 + 8);
  uint8_t* p = reinterpret_cast<uint8_t*>(aligned.data());
  p += (64 - reinterpret_cast<uintptr_t>(p) % 64) % 64;
  std::copy(bytes.begin(), bytes.end(), p);
  auto g = GgufFile::Parse(MappedFile::FromMemory({p, bytes.size()}, path));
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  auto from_memory = ImportLoraGgufFile(std::move(*g), *base_);
  auto from_file = ImportLoraGguf(path, *base_);
  ASSERT_TRUE(from_file.ok()) << from_file.status().ToString();
  ASSERT_TRUE(from_memory.ok()) << from_memory.status().ToString();
  EXPECT_EQ(from_memory->name, from_file->name);
  EXPECT_TRUE(DigestOf(*from_memory) == DigestOf(*from_file));
}

// Found by the adapter_lora_gguf fuzzer (a > 20 s hang): a token_embd pair of
// rank 0 made the transpose loop run once per row of lora_b, a dim the file
// may claim up to 2^62 when the other dim is 0 (no data to check it against).
// A zero dim is now refused before any loop.
TEST_F(AdapterMemoryTest, LoraGgufZeroRankRefused) {
  const std::string path =
      test::SourceDir() + "/tests/fuzz/regressions/adapter_lora_gguf/timeout-zero-rank-token-embd";
  auto a = ImportLoraGguf(path, *base_);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), StatusCode::kInvalidArgument) << Message(a.status());
  EXPECT_NE(Message(a.status()).find("empty tensor"), std::string::npos) << Message(a.status());
  EXPECT_NE(Message(a.status()).find("token_embd.weight"), std::string::npos);
}

}  // namespace
}  // namespace slm
