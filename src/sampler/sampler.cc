#include "sampler/sampler.h"

#include <algorithm>
#include <string>

#include "base/math.h"

namespace slm {
namespace {
constexpr float kNegInf = -__builtin_huge_valf();
bool IsFinite(float x) { return x == x && x != __builtin_huge_valf() && x != kNegInf; }
}  // namespace

int32_t ArgMax(std::span<const float> logits) {
  int32_t best = -1;
  for (size_t i = 0; i < logits.size(); ++i) {
    if (logits[i] != logits[i]) continue;  // NaN never wins
    if (best < 0 || logits[i] > logits[best]) best = static_cast<int32_t>(i);
  }
  return best < 0 ? 0 : best;
}

StatusOr<std::unique_ptr<Sampler>> Sampler::Create(int32_t vocab, SamplerConfig config) {
  if (vocab <= 0) return InvalidArgument("sampler vocab = " + std::to_string(vocab) + ", expected > 0");
  if (!IsFinite(config.temperature) || config.temperature < 0) {
    return InvalidArgument("sampler temperature = " + std::to_string(config.temperature) +
                           ", expected a finite value >= 0");
  }
  if (config.top_k < 0) {
    return InvalidArgument("sampler top_k = " + std::to_string(config.top_k) + ", expected >= 0");
  }
  if (!(config.top_p > 0 && config.top_p <= 1)) {
    return InvalidArgument("sampler top_p = " + std::to_string(config.top_p) +
                           ", expected a value in (0, 1]");
  }
  return std::unique_ptr<Sampler>(new Sampler(vocab, config));
}

Sampler::Sampler(int32_t vocab, SamplerConfig config)
    : vocab_(vocab), config_(config), prng_(config.seed), probs_(vocab), ids_(vocab) {}

int32_t Sampler::Sample(std::span<const float> logits) {
  const int32_t n = static_cast<int32_t>(std::min<size_t>(logits.size(), vocab_));
  if (n == 0) return 0;
  if (config_.temperature == 0) return ArgMax(logits.first(n));

  // 1. Scaled logits (probs_ holds them until step 3).
  float* p = probs_.data();
  for (int32_t i = 0; i < n; ++i) {
    const float l = logits[i] / config_.temperature;
    p[i] = l == l ? l : kNegInf;
    ids_[i] = i;
  }
  // (value desc, id asc) is a strict total order, so any correct sort gives the
  // same sequence on every standard library.
  auto better = [p](int32_t a, int32_t b) { return p[a] > p[b] || (p[a] == p[b] && a < b); };
  // 2. Top-k.
  int32_t m = n;
  const bool sorted = config_.top_k > 0 || config_.top_p < 1;
  if (config_.top_k > 0 && config_.top_k < n) {
    m = config_.top_k;
    std::partial_sort(ids_.begin(), ids_.begin() + m, ids_.begin() + n, better);
  } else if (sorted) {
    std::sort(ids_.begin(), ids_.begin() + n, better);
  }
  // 3. Softmax numerators over the candidates, summed in candidate order.
  float max_l = kNegInf;
  for (int32_t j = 0; j < m; ++j) max_l = std::max(max_l, p[ids_[j]]);
  if (max_l == kNegInf) return ArgMax(logits.first(n));  // nothing finite to sample from
  float sum = 0;
  for (int32_t j = 0; j < m; ++j) {
    const int32_t id = ids_[j];
    p[id] = Exp(p[id] - max_l);
    sum = sum + p[id];
  }
  // 4. Top-p on the sorted candidates (exp is monotonic, so the order still holds).
  if (config_.top_p < 1) {
    const float target = config_.top_p * sum;
    float run = 0;
    int32_t keep = 0;
    while (keep < m) {
      run = run + p[ids_[keep]];
      ++keep;
      if (run >= target) break;
    }
    m = keep;
    sum = run;
  }
  // 5. Draw.
  const float r = prng_.NextFloat() * sum;
  float run = 0;
  for (int32_t j = 0; j < m; ++j) {
    run = run + p[ids_[j]];
    if (run > r) return ids_[j];
  }
  return ids_[m - 1];
}

}  // namespace slm
