// Decode / prefill throughput of the runtime on seeded random weights in real
// llama shapes (speed does not depend on the values). Not a test; built by
// bench/kernels/build.sh against a release build of libslm.a.
//   decode_bench [--shape s110m|s15m|rand256] [--type f32|q8_0|...] [--threads N]
//                [--kernels scalar|avx2] [--prompt 16] [--tokens 128]
// Decode is a prompt of --prompt tokens, then --tokens greedy steps (as in
// ../shared/notes/peers-baseline.md); prefill times a 128-token prompt.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>

#include "../../tests/wasm/determinism_cases.h"

using namespace slm;

int main(int argc, char** argv) {
  std::string shape = "s110m", type = "q8_0", kernels;
  int threads = 1, prompt = 16, tokens = 128;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string f = argv[i], v = argv[i + 1];
    if (f == "--shape")
      shape = v;
    else if (f == "--type")
      type = v;
    else if (f == "--threads")
      threads = std::stoi(v);
    else if (f == "--kernels")
      kernels = v;
    else if (f == "--prompt")
      prompt = std::stoi(v);
    else if (f == "--tokens")
      tokens = std::stoi(v);
  }
  ModelConfig c = shape == "s15m"      ? determinism::Config(288, 768, 6, 6, 6, 32000, 512)
                  : shape == "rand256" ? determinism::Rand256Config()
                                       : determinism::Config(768, 2048, 12, 12, 12, 32000, 512);
  DType t;
  if (!ParseDType(type, &t)) return 2;
  const auto tensors = determinism::Quantize(determinism::RandomTensors(c, 1, 0.02f), t);
  uint64_t bytes = 0;
  for (const auto& x : tensors) bytes += x.bytes().size();
  auto m = Model::Create(c, tensors);
  if (!m.ok()) {
    std::fprintf(stderr, "%s\n", m.status().ToString().c_str());
    return 1;
  }
  const KernelTable* k = kernels.empty() ? &Kernels() : FindKernels(kernels.c_str());
  if (k == nullptr) return 3;
  auto s = Session::Create(**m, {0, threads, k});
  if (!s.ok()) return 1;
  Session& session = **s;
  std::vector<int32_t> ids;
  for (int i = 0; i < 128; ++i) ids.push_back((i * 7919 + 13) % c.vocab_size);
  using Clock = std::chrono::steady_clock;
  // Prefill 128 tokens.
  auto t0 = Clock::now();
  if (!session.Prefill(ids).ok()) return 1;
  const double prefill_s = std::chrono::duration<double>(Clock::now() - t0).count();
  session.Reset();
  if (!session.Prefill(std::span<const int32_t>(ids).first(prompt)).ok()) return 1;
  t0 = Clock::now();
  const std::clock_t c0 = std::clock();
  for (int i = 0; i < tokens; ++i) {
    auto lg = session.logits();
    int32_t best = 0;
    for (int32_t j = 1; j < c.vocab_size; ++j) best = lg[j] > lg[best] ? j : best;
    if (!session.Decode(best).ok()) return 1;
  }
  const double decode_s = std::chrono::duration<double>(Clock::now() - t0).count();
  // Process CPU time: on a shared machine, tokens / (cpu / threads) estimates
  // the uncontended rate (an estimate: spinning counts as CPU).
  const double cpu_s = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
  std::printf(
      "%s %s %s %dT: prefill %.1f tok/s, decode %.1f tok/s (%.1f per CPU-second x threads), "
      "weights %.1f MB, %.1f GB/s\n",
      shape.c_str(), type.c_str(), k->name, threads, 128 / prefill_s, tokens / decode_s,
      tokens / (cpu_s / threads), bytes / 1e6, bytes / 1e9 * tokens / decode_s);
  return 0;
}
