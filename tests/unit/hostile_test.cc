// The hostile-input corpus (tests/hostile/, written by make_hostile.py): every
// file listed in tests/hostile/MANIFEST.tsv is opened with its loader and must
// fail with the listed StatusCode and a message containing the listed
// fragment, without allocating anything large (a replaced operator new
// records the largest single allocation: a 4 GiB tensor claimed by a file of a
// few hundred bytes must be refused before any allocation is sized from it).
// Every file under tests/hostile/ must be listed, so no input goes unasserted.
// Also: eval files with 10^6-character lines, and the JSON depth bound.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <fstream>
#include <new>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "adapter/adapter_package.h"
#include "base/file.h"
#include "base/json.h"
#include "eval/cases.h"
#include "import/gguf.h"
#include "import/gguf_import.h"
#include "import/llama2c.h"
#include "import/safetensors.h"
#include "package/package.h"
#include "runtime/session_file.h"
#include "test_util.h"
#include "tokenizer/load.h"
#include "tokenizer/tokenizer.h"

// ---- allocation accounting ---------------------------------------------------
namespace {
std::atomic<size_t> g_largest_alloc{0};
void NoteAlloc(size_t n) {
  size_t cur = g_largest_alloc.load(std::memory_order_relaxed);
  while (n > cur && !g_largest_alloc.compare_exchange_weak(cur, n)) {
  }
}
void* AllocOrDie(size_t n) {
  NoteAlloc(n);
  void* p = std::malloc(n ? n : 1);
  if (!p) std::abort();  // -fno-exceptions: no bad_alloc
  return p;
}
void* AlignedAllocOrDie(size_t n, std::align_val_t a) {
  NoteAlloc(n);
  size_t al = static_cast<size_t>(a);
  void* p = std::aligned_alloc(al, (n + al - 1) / al * al);
  if (!p) std::abort();
  return p;
}
}  // namespace

void* operator new(size_t n) { return AllocOrDie(n); }
void* operator new[](size_t n) { return AllocOrDie(n); }
void* operator new(size_t n, std::align_val_t a) { return AlignedAllocOrDie(n, a); }
void* operator new[](size_t n, std::align_val_t a) { return AlignedAllocOrDie(n, a); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t, std::align_val_t) noexcept { std::free(p); }

namespace slm {
namespace {

// No hostile file is larger than 64 KiB; nothing it claims may be allocated.
constexpr size_t kMaxAllocation = size_t{16} << 20;

struct Entry {
  std::string path, loader, code, fragment;
};

std::string HostileDir() { return test::SourceDir() + "/tests/hostile"; }

std::vector<Entry> ReadManifest() {
  std::vector<Entry> out;
  std::ifstream in(HostileDir() + "/MANIFEST.tsv");
  EXPECT_TRUE(in.good()) << "missing " << HostileDir() << "/MANIFEST.tsv";
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f;
    std::stringstream ss(line);
    std::string part;
    while (std::getline(ss, part, '\t')) f.push_back(part);
    f.resize(4);
    out.push_back({f[0], f[1], f[2], f[3]});
  }
  return out;
}

template <typename T>
Status StatusOf(const StatusOr<T>& s) {
  return s.status();
}

Status Load(const std::string& loader, const std::string& path) {
  if (loader == "package") {  // as the runtime loads one: the package, then its tokenizer
    auto p = Package::Open(path);
    if (!p.ok()) return p.status();
    return StatusOf(Tokenizer::Create((*p)->tokenizer()));
  }
  if (loader == "gguf") {
    auto g = GgufFile::Open(path);
    if (!g.ok()) return g.status();
    auto td = TokenizerFromGguf(**g);
    if (!td.ok()) return td.status();
    auto t = Tokenizer::Create(std::move(*td));
    if (!t.ok()) return t.status();
    return StatusOf(ImportGgufFile(std::move(*g)));
  }
  if (loader == "safetensors") return StatusOf(SafetensorsFile::Open(path));
  if (loader == "tokenizer") {
    auto td = LoadTokenizerFile(path);
    if (!td.ok()) return td.status();
    return StatusOf(Tokenizer::Create(std::move(*td)));
  }
  if (loader == "llama2c") return StatusOf(ImportLlama2c(path, ""));
  if (loader == "adapter") return StatusOf(ReadAdapterPackage(path));
  if (loader == "session_file") {  // the reader only: no session needed
    auto f = MappedFile::Open(path);
    if (!f.ok()) return f.status();
    return StatusOf(ParseSessionFile((*f)->bytes(), path));
  }
  if (loader == "eval_cases" || loader == "json") {
    auto text = ReadFileToString(path);
    if (!text.ok()) return text.status();
    if (loader == "json") return StatusOf(ParseJson(*text, path));
    return StatusOf(eval::ParseCases(*text, path));
  }
  return Internal("hostile_test: unknown loader '" + loader + "'");
}

// The accounting itself works (so "no large allocation" above means something).
TEST(Hostile, AllocationAccountingSeesAllocations) {
  g_largest_alloc = 0;
  auto v = std::make_unique<std::vector<uint8_t>>(size_t{3} << 20);
  EXPECT_GE(g_largest_alloc.load(), size_t{3} << 20);
  EXPECT_EQ(v->size(), size_t{3} << 20);
}

TEST(Hostile, EveryFileIsListed) {
  std::set<std::string> listed;
  for (const Entry& e : ReadManifest()) listed.insert(e.path);
  ASSERT_GT(listed.size(), 50u);
  namespace fs = std::filesystem;
  size_t n = 0;
  for (const auto& f : fs::recursive_directory_iterator(HostileDir())) {
    if (!f.is_regular_file() || f.path().parent_path() == fs::path(HostileDir())) continue;
    std::string rel = fs::relative(f.path(), HostileDir()).string();
    EXPECT_TRUE(listed.count(rel)) << rel << " is not in MANIFEST.tsv";
    EXPECT_LE(f.file_size(), 64u * 1024) << rel << ": hostile files must stay small";
    ++n;
  }
  EXPECT_EQ(n, listed.size()) << "MANIFEST.tsv lists files that do not exist";
}

TEST(Hostile, EachFileFailsWithItsCodeAndMessage) {
  for (const Entry& e : ReadManifest()) {
    SCOPED_TRACE(e.path);
    const std::string path = HostileDir() + "/" + e.path;
    if (e.loader == "validate") continue;  // CLI test below
    g_largest_alloc = 0;
    Status s = Load(e.loader, path);
    size_t largest = g_largest_alloc.load();
    if (std::getenv("SLM_HOSTILE_DUMP")) {  // make_hostile.py --expect reads this
      std::printf("HOSTILE\t%s\t%s\t%s\n", e.path.c_str(), StatusCodeName(s.code()),
                  s.message().c_str());
    }
    EXPECT_FALSE(s.ok()) << "accepted";
    EXPECT_STREQ(StatusCodeName(s.code()), e.code.c_str()) << s.ToString();
    EXPECT_NE(s.message().find(e.fragment), std::string::npos)
        << "message lacks '" << e.fragment << "': " << s.ToString();
    EXPECT_LT(largest, kMaxAllocation) << "largest single allocation " << largest << " bytes";
  }
}

// NaN/Inf weights have valid digests: only a full scan finds them.
TEST(Hostile, ValidateReportsNonFiniteWeights) {
  const std::string cli = test::CliPath();
  ASSERT_FALSE(cli.empty()) << "the slm CLI is not built";
  size_t n = 0;
  for (const Entry& e : ReadManifest()) {
    if (e.loader != "validate") continue;
    SCOPED_TRACE(e.path);
    ++n;
    const std::string path = HostileDir() + "/" + e.path;
    EXPECT_TRUE(Package::Open(path).ok()) << "the digests of " << e.path << " should be valid";
    std::string out;
    int rc = test::RunCommand("'" + cli + "' validate '" + path + "'", &out, true);
    EXPECT_NE(rc, 0) << out;
    EXPECT_NE(out.find(e.code), std::string::npos) << out;
    EXPECT_NE(out.find(e.fragment), std::string::npos) << out;
  }
  EXPECT_EQ(n, 3u);
}

// Eval cases files with 10^6-character lines: a valid one parses (the line
// ceiling is 16 MiB), a malformed one is refused naming line 2, and one over
// the ceiling is refused without reading it as JSON.
TEST(Hostile, EvalMillionCharacterLines) {
  const std::string big(1000000, 'x');
  std::string ok = "{\"id\":\"a\",\"prompt\":\"p\",\"expected\":\"y\",\"max_new_tokens\":1}\n"
                   "{\"id\":\"b\",\"prompt\":\"" + big + "\",\"expected\":\"" + big +
                   "\",\"max_new_tokens\":1}\n";
  auto cases = eval::ParseCases(ok, "big.jsonl");
  ASSERT_TRUE(cases.ok()) << cases.status().ToString();
  EXPECT_EQ((*cases)[1].prompt.size(), big.size());

  std::string bad = "{\"id\":\"a\",\"prompt\":\"p\",\"expected\":\"y\",\"max_new_tokens\":1}\n" + big + "\n";
  auto r = eval::ParseCases(bad, "bad.jsonl");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
  EXPECT_NE(r.status().message().find("line 2"), std::string::npos) << r.status().ToString();

  std::string regex_line = "{\"id\":\"r\",\"prompt\":\"p\",\"expected\":\"" + std::string(999000, 'a') +
                           "\",\"max_new_tokens\":1,\"match\":\"regex\"}\n";
  auto rr = eval::ParseCases(regex_line, "regex.jsonl");
  ASSERT_FALSE(rr.ok());
  EXPECT_NE(rr.status().message().find("line 1"), std::string::npos) << rr.status().ToString();

  std::string huge = std::string(eval::kMaxLineBytes + 1, ' ') + "\n";
  g_largest_alloc = 0;
  auto h = eval::ParseCases(huge, "huge.jsonl");
  ASSERT_FALSE(h.ok());
  EXPECT_NE(h.status().message().find("line 1"), std::string::npos) << h.status().ToString();
}

// JSON nesting is bounded at JsonValue::kMaxDepth: exactly that depth parses,
// one more is a FormatError (no stack overflow, however deep the input).
TEST(Hostile, JsonDepthBound) {
  const int d = JsonValue::kMaxDepth;
  auto at = ParseJson(std::string(d, '[') + std::string(d, ']'));
  EXPECT_TRUE(at.ok()) << at.status().ToString();
  auto over = ParseJson(std::string(d + 1, '[') + std::string(d + 1, ']'));
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.status().code(), StatusCode::kFormatError);
  EXPECT_NE(over.status().message().find("nesting deeper than 256 levels"), std::string::npos)
      << over.status().ToString();
  auto deep = ParseJson(std::string(1 << 20, '['));
  EXPECT_FALSE(deep.ok());
}

// JSON value ceiling (JsonLimits): refused with ResourceExhausted once the
// count passes the limit, before the tree grows further; the default admits
// a real tokenizer.json.
TEST(Hostile, JsonValueCeiling) {
  std::string many = "[";
  for (int i = 0; i < 1000; ++i) many += "0,";
  many += "0]";
  auto ok = ParseJson(many, "many.json", JsonLimits{.max_values = 1001 + 1});
  EXPECT_TRUE(ok.ok()) << ok.status().ToString();
  auto over = ParseJson(many, "many.json", JsonLimits{.max_values = 1001});
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.status().code(), StatusCode::kResourceExhausted) << over.status().ToString();
  EXPECT_NE(over.status().message().find("more than 1001 values"), std::string::npos)
      << over.status().ToString();
  const std::string path = test::ModelPath("gpt2-tokenizer.json");
  ASSERT_FALSE(path.empty());
  auto text = ReadFileToString(path);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  auto real = ParseJson(*text, path);
  EXPECT_TRUE(real.ok()) << real.status().ToString();
}

}  // namespace
}  // namespace slm
