// Shared test helpers: where the models are, and temp files.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/prng.h"
#include "kernels/kernels.h"

struct slm_package;

namespace slm::test {

// $SLM_MODELS_DIR, or the directory configured at build time.
std::string ModelsDir();
// Full path of a model fixture. A missing fixture is a test failure with a
// message that says which file to get and where to put it (never a skip).
// Returns "" when missing; callers ASSERT_FALSE(path.empty()).
std::string ModelPath(const std::string& name);
// stories260K.bin + tok512.bin converted once by the C++ importer, as .slm
// bytes. Empty when a fixture is missing (ModelPath already failed the test)
// or the import failed (reported once, as a test failure).
const std::vector<uint8_t>& Stories260KPackage();
// Those bytes opened through the C ABI from an slm_alloc copy the handle owns
// (take_ownership); nullptr (after a test failure) if anything failed.
slm_package* OpenStories260K();
// Package bytes opened through the C ABI from an slm_alloc copy the handle
// owns (take_ownership), named `name` in errors; nullptr after a test failure.
slm_package* OpenPackageBytes(const std::vector<uint8_t>& bytes, const std::string& name);
// A fresh path under the test temp dir (file not created).
std::string TempPath(const std::string& name);
// The repository root (for tests/golden, tests/hostile).
std::string SourceDir();
// The built slm CLI binary.
std::string CliPath();
// rows x in weights of format f (q8_0, q4_0, q4_k, q6_k): random bytes for the
// codes (every bit pattern, q8_0's -128 included) and valid f16 scales in
// [-1/64, 1/64], so no product overflows. For the kernel comparisons.
std::vector<uint8_t> RandomQuantWeights(WeightFormat f, int32_t rows, int32_t in, Prng& p);
// Runs a shell command, captures stdout (and stderr when merge_stderr), returns exit code.
int RunCommand(const std::string& cmd, std::string* out, bool merge_stderr = false);

}  // namespace slm::test
