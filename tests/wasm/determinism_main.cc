// wasm32-wasi program for the determinism test: for each case of
// determinism_cases.h and each kernel table of this build (scalar, simd128),
// prints "<model> <format> <table> <sha256 of the logits bits>", then for
// each sampling case of sampling_cases.h, weight format and table
// "sampling <case>@<format> <table> <id,id,...>", and first, per quantized
// format and table, "tiles <format> <table> <ok>/<n>" (tile_cases.h: matmuls
// on random bytes vs the scalar table). Run by tests/wasm/run.mjs under
// node:wasi with the models directory preopened as /models;
// tests/unit/determinism_test.cc compares the digests with the native scalar
// run and the ids with the native ones.
#include <cstdio>

#include "determinism_cases.h"
#include "import/llama2c.h"
#include "sampling_cases.h"
#include "tile_cases.h"

using namespace slm;

namespace {

int RunCases(const char* name, const ModelConfig& c, const std::vector<TensorData>& base) {
  const KernelTable* tables[4];
  const int n_tables = AvailableKernelTables(tables, 4);
  for (DType t : determinism::Formats()) {
    const auto tensors = determinism::Quantize(base, t);
    auto m = Model::Create(c, tensors);
    if (!m.ok()) {
      std::fprintf(stderr, "%s %s: %s\n", name, DTypeName(t), m.status().ToString().c_str());
      return 1;
    }
    for (int i = 0; i < n_tables; ++i) {
      const auto logits = determinism::RunLogits(**m, {0, 1, tables[i]}, false, 4);
      if (logits.empty()) return 1;
      std::printf("%s %s %s %s\n", name, DTypeName(t), tables[i]->name,
                  determinism::BitsDigest(logits).c_str());
    }
  }
  return 0;
}

// stories260K: the sampled ids of every sampling case, format and table.
int RunSampling(const ModelConfig& c, const std::vector<TensorData>& base) {
  const KernelTable* tables[4];
  const int n_tables = AvailableKernelTables(tables, 4);
  for (DType t : determinism::SamplingFormats()) {
    const auto tensors = determinism::Quantize(base, t);
    auto m = Model::Create(c, tensors);
    if (!m.ok()) {
      std::fprintf(stderr, "sampling %s: %s\n", DTypeName(t), m.status().ToString().c_str());
      return 1;
    }
    for (const auto& sc : determinism::SamplingCases()) {
      for (int i = 0; i < n_tables; ++i) {
        const auto ids = determinism::SampleIds(**m, tables[i], sc);
        if (ids.empty()) return 1;
        std::printf("sampling %s@%s %s %s\n", sc.name, DTypeName(t), tables[i]->name,
                    determinism::IdsText(ids).c_str());
      }
    }
  }
  return 0;
}

// Kernel level: each quantized matmul of each table against scalar on random
// bytes and odd shapes (tile_cases.h): "tiles <format> <table> <ok>/<n>".
void RunTiles() {
  const KernelTable* tables[4];
  const int n_tables = AvailableKernelTables(tables, 4);
  for (DType t : {DType::kQ8_0, DType::kQ4_0, DType::kQ4_K, DType::kQ6_K}) {
    for (int i = 0; i < n_tables; ++i) {
      int ok = 0, n = 0;
      tiles::CheckFormat(*tables[i], t, &ok, &n);
      std::printf("tiles %s %s %d/%d\n", DTypeName(t), tables[i]->name, ok, n);
    }
  }
}

}  // namespace

int main() {
  RunTiles();
  auto b = ImportLlama2c("/models/stories260K.bin", "");
  if (!b.ok()) {
    std::fprintf(stderr, "%s\n", b.status().ToString().c_str());
    return 1;
  }
  if (RunCases("stories260K", b->config, b->tensors) != 0) return 1;
  if (RunSampling(b->config, b->tensors) != 0) return 1;
  const ModelConfig c = determinism::Rand256Config();
  return RunCases("rand256", c, determinism::RandomTensors(c, 42, 0.05f));
}
