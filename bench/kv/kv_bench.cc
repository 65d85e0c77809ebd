// KV cache benchmarks (issue 6 targets). Not a test; built by bench/kv/build.sh
// against a release libslm.a. Weights are seeded random in the real shapes
// (tests/wasm/determinism_cases.h, as bench/kernels/decode_bench): speed does
// not depend on the values.
//   kv_bench prefix [--threads N] [--group G]
//     stories110M shape, Q8_0: 64 prompts = one shared 256-token prefix + a
//     distinct 16-token suffix, 16 greedy tokens each. The prompts run G at a
//     time (G live sequences, prefilled one by one, then decoded together
//     with DecodeBatch), once with prefix reuse off and once on; prints both
//     times, the ratio and the hit rate.
//   kv_bench batch [--threads N]
//     stories15M shape, Q8_0: 8 sequences (16-token prompts), 64 greedy steps
//     each: one after the other (Decode) vs together (DecodeBatch); prints
//     tokens/s of both and the ratio. Both produce the same tokens (checked).
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "../../tests/wasm/determinism_cases.h"
#include "sampler/sampler.h"

using namespace slm;
using Clock = std::chrono::steady_clock;

namespace {

double Since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Process CPU seconds: on a shared, loaded machine wall time mostly measures
// the neighbours; CPU time (all threads) is the steadier figure.
double Cpu() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

std::unique_ptr<Model> MakeModel(const ModelConfig& c, std::vector<TensorData>* keep) {
  *keep = determinism::Quantize(determinism::RandomTensors(c, 1, 0.02f), DType::kQ8_0);
  auto m = Model::Create(c, *keep);
  if (!m.ok()) {
    std::fprintf(stderr, "%s\n", m.status().ToString().c_str());
    return nullptr;
  }
  return std::move(m).value();
}

#define CHECK_OK(expr)                                                 \
  do {                                                                 \
    Status st_ = (expr);                                               \
    if (!st_.ok()) {                                                   \
      std::fprintf(stderr, "%s: %s\n", #expr, st_.ToString().c_str()); \
      return 1;                                                        \
    }                                                                  \
  } while (0)

// One pass over the 64 prompts; returns 0 on success, fills time and the
// generated ids.
int PrefixPass(const Model& m, bool reuse, int threads, int group, double* prefill_s,
               double* decode_s, double* cpu_s, KvStats* stats, std::vector<int32_t>* gen) {
  const ModelConfig& c = m.config();
  SessionOptions o;
  o.n_threads = threads;
  o.prefix_reuse = reuse;
  // Room for `group` whole sequences of 288 positions plus the cached prefix.
  const int64_t page_mib = KvCache::PageFloats(c.n_layers, c.kv_dim()) * 4;  // bytes of a page
  o.kv_budget_mib = static_cast<int32_t>((page_mib * (18 * group + 20)) >> 20) + 1;
  auto s = Session::Create(m, o);
  CHECK_OK(s.status());
  Session& ses = **s;
  std::vector<int32_t> prefix;
  for (int i = 0; i < 256; ++i) prefix.push_back((i * 7919 + 13) % c.vocab_size);
  std::vector<SeqId> seqs(static_cast<size_t>(group));
  for (int g = 1; g < group; ++g) {
    auto id = ses.NewSequence();
    CHECK_OK(id.status());
    seqs[g] = *id;
  }
  const double c_start = Cpu();
  *prefill_s = *decode_s = 0;
  std::vector<int32_t> next(static_cast<size_t>(group));
  for (int p0 = 0; p0 < 64; p0 += group) {
    auto t0 = Clock::now();
    for (int g = 0; g < group; ++g) {
      std::vector<int32_t> prompt = prefix;
      for (int i = 0; i < 16; ++i) prompt.push_back(((p0 + g) * 131 + i * 17 + 5) % c.vocab_size);
      CHECK_OK(ses.ResetSequence(seqs[g]));
      CHECK_OK(ses.Prefill(seqs[g], prompt));
    }
    *prefill_s += Since(t0);
    t0 = Clock::now();
    for (int step = 0; step < 16; ++step) {
      for (int g = 0; g < group; ++g) {
        next[g] = ArgMax(ses.logits(seqs[g]));
        gen->push_back(next[g]);
      }
      if (step < 15) CHECK_OK(ses.DecodeBatch(seqs, next));
    }
    *decode_s += Since(t0);
  }
  *cpu_s = Cpu() - c_start;
  *stats = ses.kv_stats();
  return 0;
}

int Prefix(int threads, int group) {
  const ModelConfig c = determinism::Config(768, 2048, 12, 12, 12, 32000, 512);
  std::vector<TensorData> keep;
  auto m = MakeModel(c, &keep);
  if (!m) return 1;
  double pf[2], dc[2], cpu[2];
  KvStats st[2];
  std::vector<int32_t> gen[2];
  for (int r = 0; r < 2; ++r) {
    if (PrefixPass(*m, r == 1, threads, group, &pf[r], &dc[r], &cpu[r], &st[r], &gen[r]) != 0)
      return 1;
    std::printf(
        "prefix reuse %-3s: %.2f s wall (prefill %.2f s, decode %.2f s), %.2f s CPU, "
        "hit rate %.3f (%lld of %lld prompt tokens reused), evictions %lld\n",
        r == 1 ? "on" : "off", pf[r] + dc[r], pf[r], dc[r], cpu[r], st[r].prefix_hit_rate,
        static_cast<long long>(st[r].reused_tokens), static_cast<long long>(st[r].prompt_tokens),
        static_cast<long long>(st[r].evictions));
    std::fflush(stdout);
  }
  std::printf(
      "stories110M-shape q8_0, 64 prompts x (256 shared + 16) tokens, 16 generated, "
      "group %d, %d thread(s): speed-up %.2fx wall, %.2fx CPU, same tokens: %s\n",
      group, threads, (pf[0] + dc[0]) / (pf[1] + dc[1]), cpu[0] / cpu[1],
      gen[0] == gen[1] ? "yes" : "NO");
  return gen[0] == gen[1] ? 0 : 1;
}

int Batch(int threads) {
  const ModelConfig c = determinism::Config(288, 768, 6, 6, 6, 32000, 512);
  std::vector<TensorData> keep;
  auto m = MakeModel(c, &keep);
  if (!m) return 1;
  constexpr int kSeqs = 8, kSteps = 64;
  double secs[2], cpu[2];
  std::vector<int32_t> gen[2];
  for (int r = 0; r < 2; ++r) {
    SessionOptions o;
    o.n_threads = threads;
    o.kv_budget_mib = 64;
    auto s = Session::Create(*m, o);
    CHECK_OK(s.status());
    Session& ses = **s;
    std::vector<SeqId> seqs(kSeqs);
    for (int g = 0; g < kSeqs; ++g) {
      if (g > 0) {
        auto id = ses.NewSequence();
        CHECK_OK(id.status());
        seqs[g] = *id;
      }
      std::vector<int32_t> prompt;
      for (int i = 0; i < 16; ++i) prompt.push_back((g * 977 + i * 31 + 7) % c.vocab_size);
      CHECK_OK(ses.Prefill(seqs[g], prompt));
    }
    std::vector<int32_t> next(kSeqs);
    auto t0 = Clock::now();
    const double c0 = Cpu();
    if (r == 0) {
      for (int g = 0; g < kSeqs; ++g) {
        for (int step = 0; step < kSteps; ++step) {
          const int32_t id = ArgMax(ses.logits(seqs[g]));
          gen[r].push_back(id);
          CHECK_OK(ses.Decode(seqs[g], id));
        }
      }
    } else {
      std::vector<std::vector<int32_t>> per(kSeqs);
      for (int step = 0; step < kSteps; ++step) {
        for (int g = 0; g < kSeqs; ++g) {
          next[g] = ArgMax(ses.logits(seqs[g]));
          per[g].push_back(next[g]);
        }
        CHECK_OK(ses.DecodeBatch(seqs, next));
      }
      for (auto& v : per) gen[r].insert(gen[r].end(), v.begin(), v.end());
    }
    secs[r] = Since(t0);
    cpu[r] = Cpu() - c0;
    std::printf("%s: %d tokens in %.2f s wall, %.2f s CPU: %.1f tok/s wall, %.1f tok/CPU-s\n",
                r == 0 ? "8 sequential runs" : "batch of 8", kSeqs * kSteps, secs[r], cpu[r],
                kSeqs * kSteps / secs[r], kSeqs * kSteps / cpu[r]);
    std::fflush(stdout);
  }
  std::printf(
      "stories15M-shape q8_0, %d thread(s): batched/sequential tokens/s %.2fx wall, "
      "%.2fx CPU, same tokens: %s\n",
      threads, secs[0] / secs[1], cpu[0] / cpu[1], gen[0] == gen[1] ? "yes" : "NO");
  return gen[0] == gen[1] ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: kv_bench prefix|batch [--threads N] [--group G]\n");
    return 2;
  }
  const std::string mode = argv[1];
  int threads = 1, group = 16;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string f = argv[i];
    if (f == "--threads") threads = std::atoi(argv[i + 1]);
    if (f == "--group") group = std::atoi(argv[i + 1]);
  }
  if (group < 1 || group > Session::kMaxBatch || 64 % group != 0) {
    std::fprintf(stderr, "--group must divide 64 and be at most %d\n", Session::kMaxBatch);
    return 2;
  }
  if (mode == "prefix") return Prefix(threads, group);
  if (mode == "batch") return Batch(threads);
  std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
  return 2;
}
