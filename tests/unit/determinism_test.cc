// The determinism contract (DESIGN.md section 3, issue 3 item 5): for every
// weight format, logits are bit-identical across kernel tables (scalar, avx2
// here; simd128 through the wasm build under node:wasi), thread counts 1-3,
// and prefill of N tokens versus N single decode steps. Models and runs come
// from tests/wasm/determinism_cases.h, shared with the wasm program.
// Sampling (issue 6): the same seed draws the same ids on every native table
// and in the wasm build, for top-k, top-p and min-p with penalties on
// (tests/wasm/sampling_cases.h). The wasm programs also check each quantized
// matmul against scalar on random bytes (tests/wasm/tile_cases.h), and run
// twice: slm.wasm's build (scalar, simd128) and slm-relaxed.wasm's (plus
// simd128r) under node --experimental-wasm-relaxed-simd.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "../wasm/determinism_cases.h"
#include "../wasm/sampling_cases.h"
#include "import/llama2c.h"
#include "test_util.h"

namespace slm {
namespace {

using determinism::BitsDigest;
using determinism::Formats;
using determinism::RunLogits;

struct Base {
  std::string name;
  ModelConfig config;
  std::vector<TensorData> tensors;
};

std::vector<Base> Bases() {
  std::vector<Base> out;
  const std::string path = test::ModelPath("stories260K.bin");
  EXPECT_FALSE(path.empty());
  if (!path.empty()) {
    auto b = ImportLlama2c(path, "");
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    // Owned copies: the bundle's tensors may view its mapped file, which
    // closes with the bundle.
    if (b.ok())
      out.push_back({"stories260K", b->config, determinism::Quantize(b->tensors, DType::kF32)});
  }
  const ModelConfig c = determinism::Rand256Config();
  out.push_back({"rand256", c, determinism::RandomTensors(c, 42, 0.05f)});
  return out;
}

// Native scalar, 1 thread, one-call prefill: the reference digest per case
// ("<model> <format>").
std::map<std::string, std::string> ScalarDigests() {
  std::map<std::string, std::string> m;
  for (const Base& base : Bases()) {
    for (DType t : Formats()) {
      const auto tensors = determinism::Quantize(base.tensors, t);  // viewed by the model
      auto model = Model::Create(base.config, tensors);
      EXPECT_TRUE(model.ok()) << model.status().ToString();
      if (!model.ok()) continue;
      m[base.name + " " + DTypeName(t)] =
          BitsDigest(RunLogits(**model, {0, 1, &ScalarKernels()}, false, 4));
    }
  }
  return m;
}

// Native scalar sampled ids per "<case>@<format>" (stories260K).
std::map<std::string, std::string> ScalarSamplingIds() {
  std::map<std::string, std::string> m;
  const std::vector<Base> bases = Bases();
  if (bases.empty() || bases[0].name != "stories260K") return m;
  for (DType t : determinism::SamplingFormats()) {
    const auto tensors = determinism::Quantize(bases[0].tensors, t);
    auto model = Model::Create(bases[0].config, tensors);
    EXPECT_TRUE(model.ok()) << model.status().ToString();
    if (!model.ok()) continue;
    for (const auto& sc : determinism::SamplingCases()) {
      m[std::string(sc.name) + "@" + DTypeName(t)] =
          determinism::IdsText(determinism::SampleIds(**model, &ScalarKernels(), sc));
    }
  }
  return m;
}

TEST(Determinism, SampledIdsAreIdenticalAcrossNativeTables) {
  const auto scalar = ScalarSamplingIds();
  ASSERT_EQ(scalar.size(),
            determinism::SamplingCases().size() * determinism::SamplingFormats().size());
  const std::vector<Base> bases = Bases();
  ASSERT_FALSE(bases.empty());
  const KernelTable* tables[4];
  const int n_tables = AvailableKernelTables(tables, 4);
  std::set<std::string> distinct;
  for (DType t : determinism::SamplingFormats()) {
    const auto tensors = determinism::Quantize(bases[0].tensors, t);
    auto model = Model::Create(bases[0].config, tensors);
    ASSERT_TRUE(model.ok());
    for (const auto& sc : determinism::SamplingCases()) {
      const std::string name = std::string(sc.name) + "@" + DTypeName(t);
      const std::string& want = scalar.at(name);
      EXPECT_EQ(std::count(want.begin(), want.end(), ',') + 1, determinism::kSamplingTokens)
          << name << ": " << want;
      distinct.insert(want);
      for (int ti = 0; ti < n_tables; ++ti) {
        EXPECT_EQ(determinism::IdsText(determinism::SampleIds(**model, tables[ti], sc)), want)
            << name << " on " << tables[ti]->name;
      }
    }
  }
  // The cases really differ from one another (each one's settings act).
  EXPECT_GE(distinct.size(), determinism::SamplingCases().size());
}

TEST(Determinism, EveryFormatIsBitIdenticalAcrossTablesThreadsAndPrefill) {
  const KernelTable* tables[4];
  const int n_tables = AvailableKernelTables(tables, 4);
  for (const Base& base : Bases()) {
    for (DType t : Formats()) {
      const auto tensors = determinism::Quantize(base.tensors, t);
      auto m = Model::Create(base.config, tensors);
      ASSERT_TRUE(m.ok()) << m.status().ToString();
      const std::string name = base.name + " " + DTypeName(t);
      const auto want = RunLogits(**m, {0, 1, &ScalarKernels()}, false, 4);
      ASSERT_FALSE(want.empty()) << name;
      for (int ti = 0; ti < n_tables; ++ti) {
        for (int32_t threads : {1, 2, 3}) {
          for (bool stepwise : {false, true}) {
            const auto got = RunLogits(**m, {0, threads, tables[ti]}, stepwise, 4);
            ASSERT_EQ(got.size(), want.size());
            EXPECT_EQ(std::memcmp(got.data(), want.data(), want.size() * 4), 0)
                << name << ": " << tables[ti]->name << ", " << threads << " threads, "
                << (stepwise ? "decode steps" : "prefill");
          }
        }
      }
    }
  }
}

// Decode attention over a long context is split across threads by kv heads
// (Session::kSplitAttentionMin); 3 threads split 4 kv heads unevenly (1, 1, 2).
TEST(Determinism, DecodeAttentionSplitByHeadsIsBitIdentical) {
  const ModelConfig c = determinism::Config(512, 256, 2, 8, 4, 320, 160);
  constexpr int32_t kSteps = 140;
  const int64_t last_pos = static_cast<int64_t>(determinism::Prompt().size()) + kSteps;
  ASSERT_GE(last_pos * c.q_dim(), 2 * Session::kSplitAttentionMin) << "the split is not reached";
  const auto tensors = determinism::RandomTensors(c, 7, 0.05f);
  auto m = Model::Create(c, tensors);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const auto want = RunLogits(**m, {0, 1, &ScalarKernels()}, true, kSteps);
  ASSERT_EQ(want.size(), static_cast<size_t>(kSteps + 1) * c.vocab_size);
  const KernelTable* tables[4];
  const int n_tables = AvailableKernelTables(tables, 4);
  for (int ti = 0; ti < n_tables; ++ti) {
    for (int32_t threads : {1, 2, 3}) {
      const auto got = RunLogits(**m, {0, threads, tables[ti]}, true, kSteps);
      ASSERT_EQ(got.size(), want.size());
      EXPECT_EQ(std::memcmp(got.data(), want.data(), want.size() * 4), 0)
          << tables[ti]->name << ", " << threads << " threads";
    }
  }
}

// A prompt longer than one prefill batch (Session::kMaxBatch) equals decode steps.
TEST(Determinism, LongPromptAcrossBatchesEqualsDecodeSteps) {
  const ModelConfig c = determinism::Rand256Config();
  const auto tensors = determinism::Quantize(determinism::RandomTensors(c, 7, 0.05f), DType::kQ8_0);
  auto m = Model::Create(c, tensors);
  ASSERT_TRUE(m.ok());
  std::vector<int32_t> ids;
  for (int32_t i = 0; i < Session::kMaxBatch + 9; ++i) ids.push_back((i * 37 + 1) % c.vocab_size);
  auto a = Session::Create(**m, {0, 2, nullptr});
  auto b = Session::Create(**m, {0, 1, &ScalarKernels()});
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE((*a)->Prefill(ids).ok());
  for (int32_t id : ids) ASSERT_TRUE((*b)->Decode(id).ok());
  EXPECT_EQ(std::memcmp((*a)->logits().data(), (*b)->logits().data(), c.vocab_size * 4), 0);
}

// Runs a wasm determinism program (tests/wasm/determinism_main.cc: one line
// per case, "<model> <format> <table> <sha256 of the logits bits>", plus
// "sampling ..." and "tiles ..." lines) under node:wasi with `node_flags`,
// and checks every table in `tables` gives the native scalar bits.
void CheckWasmProgram(const char* env_name, const std::string& default_path,
                      const std::string& node_flags, const std::vector<std::string>& tables) {
  const char* env = std::getenv(env_name);
  const std::string wasm = env != nullptr && *env != '\0' ? env : default_path;
  if (!std::ifstream(wasm).good()) {
    FAIL() << "wasm determinism program not found at " << wasm
           << "; build it first: cmake --preset wasm && cmake --build --preset wasm"
           << " (or set " << env_name << " to its path)";
  }
  std::string out;
  const std::string cmd = "node --no-warnings " + node_flags + " " + test::SourceDir() +
                          "/tests/wasm/run.mjs " + wasm + " " + test::ModelsDir();
  ASSERT_EQ(test::RunCommand(cmd, &out, true), 0) << cmd << "\n" << out;
  std::istringstream in(out);
  std::string model, format, table, digest;
  const std::map<std::string, std::string> native = ScalarDigests();
  const std::map<std::string, std::string> native_ids = ScalarSamplingIds();
  std::map<std::string, int> seen, seen_sampling, seen_tiles;
  while (in >> model >> format >> table >> digest) {
    if (model == "sampling") {  // "sampling <case>@<format> <table> <ids>"
      ASSERT_TRUE(native_ids.count(format)) << "unexpected sampling case " << format;
      EXPECT_EQ(digest, native_ids.at(format))
          << "sampling " << format << " " << table << " (wasm) draws other ids";
      ++seen_sampling[table];
      continue;
    }
    if (model == "tiles") {  // "tiles <format> <table> <ok>/<n>": matmuls vs scalar
      const size_t slash = digest.find('/');
      ASSERT_NE(slash, std::string::npos) << digest;
      EXPECT_EQ(digest.substr(0, slash), digest.substr(slash + 1))
          << "tiles " << format << " " << table << " (wasm): shapes bit-identical / shapes";
      EXPECT_GT(std::atoi(digest.c_str() + slash + 1), 0) << digest;
      ++seen_tiles[table];
      continue;
    }
    const std::string name = model + " " + format;
    ASSERT_TRUE(native.count(name)) << "unexpected case " << name;
    EXPECT_EQ(digest, native.at(name)) << name << " " << table << " (wasm) differs";
    ++seen[table];
  }
  for (const std::string& t : tables) {
    EXPECT_EQ(seen[t], static_cast<int>(native.size())) << t << "\n" << out;
    EXPECT_EQ(seen_sampling[t], static_cast<int>(native_ids.size())) << t << "\n" << out;
    EXPECT_EQ(seen_tiles[t], 4) << t << " (q8_0, q4_0, q4_k, q6_k)\n" << out;
  }
  EXPECT_EQ(seen.size(), tables.size()) << "tables in the wasm output\n" << out;
}

// slm.wasm's tables (simd128, scalar) under node:wasi.
TEST(Determinism, WasmSimd128AndScalarMatchNativeScalar) {
  CheckWasmProgram("SLM_WASM_DETERMINISM",
                   test::SourceDir() + "/build/wasm/src/slm_determinism_wasm.wasm", "",
                   {"scalar", "simd128"});
}

// slm-relaxed.wasm's tables (simd128r: relaxed-SIMD q8_0/q4_0 products, plus
// simd128 and scalar) under node:wasi with relaxed SIMD enabled (Node 20 has
// it behind a flag; the i16x8 relaxed dot it runs is the one the kernels use).
TEST(Determinism, WasmRelaxedSimdMatchesNativeScalar) {
  // Node 20 needs the flag; a later Node whose V8 ships relaxed SIMD may no
  // longer accept it, so it is passed only if node starts with it.
  std::string probe;
  const char* flag = "--experimental-wasm-relaxed-simd";
  const bool has_flag = test::RunCommand(std::string("node ") + flag + " -e 0", &probe, true) == 0;
  CheckWasmProgram("SLM_WASM_DETERMINISM_RELAXED",
                   test::SourceDir() + "/build/wasm/src/slm_determinism_wasm_relaxed.wasm",
                   has_flag ? flag : "", {"scalar", "simd128", "simd128r"});
}

}  // namespace
}  // namespace slm
