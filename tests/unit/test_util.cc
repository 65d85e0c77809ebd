#include "test_util.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "import/import.h"
#include "package/package.h"
#include "quant/blocks.h"
#include "quant/fp16.h"
#include "slm/slm.h"

namespace slm::test {

std::string ModelsDir() {
  const char* env = std::getenv("SLM_MODELS_DIR");
  return (env && *env) ? env : SLM_MODELS_DIR_DEFAULT;
}

std::string ModelPath(const std::string& name) {
  std::string p = ModelsDir() + "/" + name;
  struct stat st;
  if (::stat(p.c_str(), &st) != 0) {
    ADD_FAILURE() << "missing test model '" << p << "'. Put " << name << " in SLM_MODELS_DIR (now '"
                  << ModelsDir()
                  << "'); see ../shared/models/SOURCES.md (stories260K.bin and tok512.bin come "
                     "from karpathy/tinyllamas).";
    return "";
  }
  return p;
}

namespace {

// One fresh directory per test process, made by mkdtemp and removed at exit. A name from the pid
// alone collided: ctest runs the suites of two builds in turn, a reused pid found the last run's
// files, and write-once outputs (release packets) refused them.
const std::string& TestDir() {
  static const std::string* dir = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/slm_tests_XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) {
      std::fprintf(stderr, "mkdtemp(%s): %s\n", tmpl.c_str(), std::strerror(errno));
      std::abort();
    }
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(TestDir(), ec);
    });
    return new std::string(tmpl);
  }();
  return *dir;
}

}  // namespace

std::string TempPath(const std::string& name) { return TestDir() + "/" + name; }

std::string SourceDir() { return SLM_SOURCE_DIR; }

std::string CliPath() { return SLM_CLI_PATH; }

int RunCommand(const std::string& cmd, std::string* out, bool merge_stderr) {
  std::string full = cmd + (merge_stderr ? " 2>&1" : "");
  FILE* p = ::popen(full.c_str(), "r");
  if (!p) return -1;
  char buf[4096];
  size_t n;
  out->clear();
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out->append(buf, n);
  int rc = ::pclose(p);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

const std::vector<uint8_t>& Stories260KPackage() {
  static const std::vector<uint8_t>* bytes = [] {
    auto* out = new std::vector<uint8_t>;
    const std::string model = ModelPath("stories260K.bin");
    const std::string tok = ModelPath("tok512.bin");
    if (model.empty() || tok.empty()) return out;
    ImportOptions o;
    o.tokenizer_path = tok;
    auto b = ImportModel(model, o);
    if (!b.ok()) {
      ADD_FAILURE() << b.status().ToString();
      return out;
    }
    auto s = SerializePackage(*b);
    if (!s.ok()) {
      ADD_FAILURE() << s.status().ToString();
      return out;
    }
    *out = std::move(s).value();
    return out;
  }();
  return *bytes;
}

slm_package* OpenStories260K() {
  const std::vector<uint8_t>& bytes = Stories260KPackage();
  if (bytes.empty()) return nullptr;
  return OpenPackageBytes(bytes, "stories260K");
}

slm_package* OpenPackageBytes(const std::vector<uint8_t>& bytes, const std::string& name) {
  auto* buf = static_cast<uint8_t*>(slm_alloc(bytes.size()));
  std::memcpy(buf, bytes.data(), bytes.size());
  slm_open_params p;
  slm_open_params_default(&p);
  p.take_ownership = 1;
  slm_package* pkg = nullptr;
  const slm_status st =
      slm_package_open_memory(buf, bytes.size(), name.data(), name.size(), &p, &pkg);
  EXPECT_EQ(st, SLM_OK) << slm_last_error();
  if (st != SLM_OK) slm_free(buf);
  return pkg;
}

std::vector<uint8_t> RandomQuantWeights(WeightFormat f, int32_t rows, int32_t in, Prng& p) {
  const int32_t block = f == WeightFormat::kQ4_K || f == WeightFormat::kQ6_K ? 256 : 32;
  const size_t bytes = f == WeightFormat::kQ8_0   ? sizeof(quant::BlockQ8_0)
                       : f == WeightFormat::kQ4_0 ? sizeof(quant::BlockQ4_0)
                       : f == WeightFormat::kQ4_K ? sizeof(quant::BlockQ4_K)
                                                  : sizeof(quant::BlockQ6_K);
  const size_t n_blocks = static_cast<size_t>(rows) * (in / block);
  std::vector<uint8_t> w(n_blocks * bytes);
  for (uint8_t& b : w) b = static_cast<uint8_t>(p.Next());
  auto scale = [&p]() { return quant::F32ToFp16((p.NextFloat() * 2.0f - 1.0f) / 64.0f); };
  for (size_t i = 0; i < n_blocks; ++i) {
    uint8_t* blk = w.data() + i * bytes;
    const uint16_t d = scale(), d2 = scale();
    if (f == WeightFormat::kQ6_K) {
      std::memcpy(blk + offsetof(quant::BlockQ6_K, d), &d, 2);
    } else {
      std::memcpy(blk, &d, 2);
      if (f == WeightFormat::kQ4_K) std::memcpy(blk + 2, &d2, 2);
    }
  }
  return w;
}

}  // namespace slm::test
