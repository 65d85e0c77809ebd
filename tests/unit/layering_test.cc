// DESIGN.md principle 1: src/ includes only the C++ standard library and the
// project. The only exceptions are named here with their reason: the OS file
// layer (mmap natively), peak-memory reading for evidence, and the ISA
// intrinsics headers inside their own kernel folders.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <string>

#include "test_util.h"

namespace slm {
namespace {

const std::set<std::string> kStdHeaders = {
    "algorithm", "array", "atomic", "bit", "cassert", "cctype", "cerrno", "charconv", "chrono",
    "climits", "cmath", "compare", "concepts", "condition_variable", "csignal", "cstddef",
    "cstdint", "cstdio", "cstdlib", "cstring", "deque", "functional", "initializer_list",
    "iterator", "limits", "map", "memory", "mutex", "new", "numeric", "optional", "queue", "set",
    "span", "string", "string_view", "thread", "tuple", "type_traits", "unordered_map",
    "unordered_set", "utility", "variant", "vector"};

bool Allowed(const std::string& file, const std::string& header) {
  if (kStdHeaders.count(header)) return true;
  if (file.ends_with("src/base/file.cc")) {
    return header == "fcntl.h" || header == "sys/stat.h" || header == "unistd.h" ||
           header == "sys/mman.h";
  }
  if (file.ends_with("src/eval/environment.cc")) return header == "sys/resource.h";
  if (file.find("src/kernels/avx2/") != std::string::npos) return header == "immintrin.h";
  if (file.find("src/kernels/avx512/") != std::string::npos) return header == "immintrin.h";
  if (file.find("src/kernels/simd128/") != std::string::npos) return header == "wasm_simd128.h";
  return false;
}

TEST(Layering, SrcIncludesOnlyTheStandardLibraryAndTheProject) {
  namespace fs = std::filesystem;
  std::string root = test::SourceDir() + "/src";
  ASSERT_TRUE(fs::is_directory(root)) << root;
  std::regex include_re(R"(^\s*#\s*include\s*<([^>]+)>)");
  int files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    std::string path = entry.path().string();
    if (!entry.is_regular_file() || !(path.ends_with(".cc") || path.ends_with(".h"))) continue;
    ++files;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
      std::smatch m;
      if (std::regex_search(line, m, include_re)) {
        EXPECT_TRUE(Allowed(path, m[1].str())) << path << " includes <" << m[1].str() << ">";
      }
    }
  }
  EXPECT_GT(files, 50);
}

}  // namespace
}  // namespace slm
