#include "sampler/sampler.h"

#include <algorithm>
#include <limits>
#include <string>

#include "base/math.h"

namespace slm {
namespace {
constexpr float kNegInf = -__builtin_huge_valf();
bool IsFinite(float x) { return x == x && x != __builtin_huge_valf() && x != kNegInf; }

// SaveState layout (sampler.h).
constexpr uint8_t kMagic[4] = {'S', 'L', 'S', 'S'};
constexpr uint32_t kStateVersion = 1;
constexpr size_t kHeaderBytes = 56;
constexpr size_t kChecksumBytes = 8;

// Little-endian stores into a buffer sized in advance; return the next position.
uint8_t* PutU32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
  return p + 4;
}
uint8_t* PutU64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
  return p + 8;
}
uint32_t GetU32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(p[i]) << (8 * i);
  return v;
}
uint64_t GetU64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}
// FNV-1a 64 (offset basis 0xcbf29ce484222325, prime 0x100000001b3).
uint64_t Fnv1a64(std::span<const uint8_t> bytes) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (uint8_t b : bytes) {
    h ^= b;
    h *= 0x100000001b3ull;
  }
  return h;
}
Status BadState(const std::string& what) { return FormatError("sampler state: " + what); }
}  // namespace

uint64_t StreamSeed(uint64_t seed, uint64_t stream) {
  if (stream == 0) return seed;
  uint64_t x = stream;
  uint64_t y = seed ^ SplitMix64Next(&x);
  return SplitMix64Next(&y);
}

// Two passes: the largest non-NaN value (8 independent running maxima, so
// the loop is not one long compare chain; NaN never passes `>`), then the
// first id holding it (ties to the lowest id; -0 == +0 as in a single
// pass). 4x faster than one pass that compares against logits[best].
int32_t ArgMax(std::span<const float> logits) {
  const size_t n = logits.size();
  const float* l = logits.data();
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  float m8[8] = {kNegInf, kNegInf, kNegInf, kNegInf, kNegInf, kNegInf, kNegInf, kNegInf};
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (size_t k = 0; k < 8; ++k) m8[k] = l[i + k] > m8[k] ? l[i + k] : m8[k];
  }
  for (; i < n; ++i) m8[0] = l[i] > m8[0] ? l[i] : m8[0];
  float m = m8[0];
  for (size_t k = 1; k < 8; ++k) m = m8[k] > m ? m8[k] : m;
  for (i = 0; i < n; ++i) {
    if (l[i] == m) return static_cast<int32_t>(i);
  }
  return 0;  // every value is NaN (or n == 0)
}

StatusOr<std::unique_ptr<Sampler>> Sampler::Create(int32_t vocab, SamplerConfig config) {
  if (vocab <= 0)
    return InvalidArgument("sampler vocab = " + std::to_string(vocab) + ", expected > 0");
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
  if (!(config.min_p >= 0 && config.min_p <= 1)) {
    return InvalidArgument("sampler min_p = " + std::to_string(config.min_p) +
                           ", expected a value in [0, 1]");
  }
  if (!IsFinite(config.repeat_penalty) || config.repeat_penalty <= 0) {
    return InvalidArgument("sampler repeat_penalty = " + std::to_string(config.repeat_penalty) +
                           ", expected a finite value > 0");
  }
  if (!IsFinite(config.presence_penalty)) {
    return InvalidArgument("sampler presence_penalty = " + std::to_string(config.presence_penalty) +
                           ", expected a finite value");
  }
  if (!IsFinite(config.frequency_penalty)) {
    return InvalidArgument("sampler frequency_penalty = " +
                           std::to_string(config.frequency_penalty) + ", expected a finite value");
  }
  if (config.penalty_last_n < 0 || config.penalty_last_n > kMaxPenaltyWindow) {
    return InvalidArgument("sampler penalty_last_n = " + std::to_string(config.penalty_last_n) +
                           ", expected 0.." + std::to_string(kMaxPenaltyWindow));
  }
  return std::unique_ptr<Sampler>(new Sampler(vocab, config));
}

Sampler::Sampler(int32_t vocab, SamplerConfig config)
    : vocab_(vocab),
      config_(config),
      prng_(StreamSeed(config.seed, config.stream)),
      probs_(vocab),
      ids_(vocab),
      window_(config.penalty_last_n),
      counts_(config.penalty_last_n > 0 ? vocab : 0),
      seen_(config.penalty_last_n > 0 ? vocab : 0) {}

bool Sampler::penalties_active() const {
  return config_.penalty_last_n > 0 &&
         (config_.repeat_penalty != 1 || config_.presence_penalty != 0 ||
          config_.frequency_penalty != 0);
}

void Sampler::Reseed(uint64_t seed) {
  config_.seed = seed;
  prng_.Seed(StreamSeed(seed, config_.stream));
  ClearWindow();
}

void Sampler::ClearWindow() {
  // Only ids in the window have nonzero counts.
  for (int32_t j = 0; j < window_fill_; ++j) counts_[window_[j]] = 0;
  window_head_ = 0;
  window_fill_ = 0;
}

void Sampler::PushWindow(int32_t id) {
  const int32_t cap = config_.penalty_last_n;
  if (window_fill_ == cap) {
    --counts_[window_[window_head_]];  // the oldest token, about to be overwritten
  } else {
    ++window_fill_;
  }
  window_[window_head_] = id;
  ++counts_[id];
  window_head_ = window_head_ + 1 == cap ? 0 : window_head_ + 1;
}

Status Sampler::Accept(int32_t id) {
  if (id < 0 || id >= vocab_) {
    return InvalidArgument("sampler accept: token id " + std::to_string(id) +
                           " outside the vocab of " + std::to_string(vocab_));
  }
  if (config_.penalty_last_n > 0) PushWindow(id);
  return Status::Ok();
}

void Sampler::ApplyPenalties(std::span<float> logits) {
  if (!penalties_active()) return;
  const int32_t n = static_cast<int32_t>(std::min<size_t>(logits.size(), vocab_));
  float* l = logits.data();
  const float rep = config_.repeat_penalty;
  const float freq = config_.frequency_penalty;
  const float pres = config_.presence_penalty;
  // Each distinct id in the window once (seen_ marks it), then unmark.
  for (int32_t j = 0; j < window_fill_; ++j) {
    const int32_t id = window_[j];
    if (id >= n || seen_[id]) continue;
    seen_[id] = 1;
    float v = l[id];
    v = v <= 0 ? v * rep : v / rep;
    v = v - (static_cast<float>(counts_[id]) * freq + pres);
    l[id] = v;
  }
  for (int32_t j = 0; j < window_fill_; ++j) seen_[window_[j]] = 0;
}

void Sampler::Penalize(std::span<const float> logits, int32_t n) {
  std::copy(logits.begin(), logits.begin() + n, probs_.begin());
  ApplyPenalties(std::span<float>(probs_.data(), n));
}

int32_t Sampler::Sample(std::span<const float> logits) {
  const int32_t n = static_cast<int32_t>(std::min<size_t>(logits.size(), vocab_));
  if (n == 0) return 0;
  // 0. Penalties into probs_; src is the row the chain continues from.
  std::span<const float> src = logits.first(n);
  if (penalties_active() && window_fill_ > 0) {
    Penalize(logits, n);
    src = std::span<const float>(probs_.data(), n);
  }
  if (config_.temperature == 0) return ArgMax(src);

  // 1. Scaled logits (probs_ holds them until step 3; in place is fine, each
  // entry is read once before it is written).
  float* p = probs_.data();
  for (int32_t i = 0; i < n; ++i) {
    const float l = src[i] / config_.temperature;
    p[i] = l == l ? l : kNegInf;
    ids_[i] = i;
  }
  // (value desc, id asc) is a strict total order, so any correct sort gives the
  // same sequence on every standard library.
  auto better = [p](int32_t a, int32_t b) { return p[a] > p[b] || (p[a] == p[b] && a < b); };
  // Candidates are ids_[0..c). A shortcut with the same bits: with min_p on
  // and top_p off, the ids step 5 would cut (Exp(l - max l) < min_p * Exp(0))
  // form the tail of the sorted order and nothing else depends on them, so
  // they are dropped before sorting (a 32k vocab then sorts a few ids, not all).
  int32_t c = n;
  if (config_.min_p > 0 && config_.top_p == 1) {
    float max_all = kNegInf;
    for (int32_t i = 0; i < n; ++i) max_all = std::max(max_all, p[i]);
    if (max_all != kNegInf && max_all != -kNegInf) {
      const float threshold = config_.min_p * Exp(max_all - max_all);
      c = 0;
      for (int32_t i = 0; i < n; ++i) {
        if (Exp(p[i] - max_all) >= threshold) ids_[c++] = i;  // the best always passes
      }
    }
  }
  // 2. Top-k.
  int32_t m = c;
  const bool sorted = config_.top_k > 0 || config_.top_p < 1 || config_.min_p > 0;
  if (config_.top_k > 0 && config_.top_k < c) {
    m = config_.top_k;
    std::partial_sort(ids_.begin(), ids_.begin() + m, ids_.begin() + c, better);
  } else if (sorted) {
    std::sort(ids_.begin(), ids_.begin() + c, better);
  }
  // 3. Softmax numerators over the candidates, summed in candidate order.
  float max_l = kNegInf;
  for (int32_t j = 0; j < m; ++j) max_l = std::max(max_l, p[ids_[j]]);
  if (max_l == kNegInf) {  // nothing finite to sample from: argmax of the step-0 row
    if (src.data() != logits.data()) {
      Penalize(logits, n);
      src = std::span<const float>(probs_.data(), n);
    }
    return ArgMax(src);
  }
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
  // 5. Min-p: relative to the best candidate (sorted first).
  if (config_.min_p > 0) {
    const float threshold = config_.min_p * p[ids_[0]];
    int32_t keep = 1;
    while (keep < m && p[ids_[keep]] >= threshold) ++keep;
    if (keep < m) {
      m = keep;
      sum = 0;
      for (int32_t j = 0; j < m; ++j) sum = sum + p[ids_[j]];
    }
  }
  // 6. Draw.
  const float r = prng_.NextFloat() * sum;
  float run = 0;
  for (int32_t j = 0; j < m; ++j) {
    run = run + p[ids_[j]];
    if (run > r) return ids_[j];
  }
  return ids_[m - 1];
}

std::vector<uint8_t> Sampler::SaveState() const {
  const size_t body = kHeaderBytes + 4 * static_cast<size_t>(window_fill_);
  std::vector<uint8_t> out(body + kChecksumBytes);
  uint8_t* w = out.data();
  for (uint8_t c : kMagic) *w++ = c;
  w = PutU32(w, kStateVersion);
  w = PutU32(w, static_cast<uint32_t>(vocab_));
  w = PutU32(w, static_cast<uint32_t>(config_.penalty_last_n));
  w = PutU32(w, static_cast<uint32_t>(window_fill_));
  w = PutU32(w, 0);
  uint64_t s[4];
  prng_.GetState(s);
  for (uint64_t v : s) w = PutU64(w, v);
  // Oldest first: when the ring is full the oldest sits at window_head_.
  const int32_t cap = config_.penalty_last_n;
  const int32_t start = window_fill_ == cap ? window_head_ : 0;
  for (int32_t j = 0; j < window_fill_; ++j) {
    const int32_t slot = start + j < cap ? start + j : start + j - cap;
    w = PutU32(w, static_cast<uint32_t>(window_[slot]));
  }
  PutU64(w, Fnv1a64(std::span<const uint8_t>(out.data(), body)));
  return out;
}

Status Sampler::RestoreState(std::span<const uint8_t> bytes) {
  if (bytes.size() < kHeaderBytes + kChecksumBytes) {
    return BadState(std::to_string(bytes.size()) + " bytes, expected at least " +
                    std::to_string(kHeaderBytes + kChecksumBytes));
  }
  const uint8_t* b = bytes.data();
  if (!std::equal(kMagic, kMagic + 4, b)) return BadState("magic is not \"SLSS\"");
  const uint32_t version = GetU32(b + 4);
  if (version != kStateVersion) {
    return BadState("version " + std::to_string(version) + ", expected " +
                    std::to_string(kStateVersion));
  }
  const int32_t vocab = static_cast<int32_t>(GetU32(b + 8));
  const int32_t cap = static_cast<int32_t>(GetU32(b + 12));
  const int32_t fill = static_cast<int32_t>(GetU32(b + 16));
  if (cap < 0 || cap > kMaxPenaltyWindow || fill < 0 || fill > cap || GetU32(b + 20) != 0) {
    return BadState("window of " + std::to_string(fill) + " tokens in a capacity of " +
                    std::to_string(cap) + ", expected 0 <= tokens <= capacity <= " +
                    std::to_string(kMaxPenaltyWindow) + " and a zero reserved word");
  }
  const size_t want = kHeaderBytes + 4 * static_cast<size_t>(fill) + kChecksumBytes;
  if (bytes.size() != want) {
    return BadState(std::to_string(bytes.size()) + " bytes, expected " + std::to_string(want) +
                    " for " + std::to_string(fill) + " tokens");
  }
  const uint64_t sum = GetU64(b + want - kChecksumBytes);
  if (sum != Fnv1a64(bytes.first(want - kChecksumBytes))) {
    return IntegrityError("sampler state: checksum mismatch (corrupted bytes)");
  }
  if (vocab != vocab_) {
    return InvalidArgument("sampler state: vocab " + std::to_string(vocab) +
                           ", this sampler's vocab is " + std::to_string(vocab_));
  }
  uint64_t s[4];
  for (int i = 0; i < 4; ++i) s[i] = GetU64(b + 24 + 8 * i);
  if ((s[0] | s[1] | s[2] | s[3]) == 0) return BadState("all-zero generator state");
  for (int32_t j = 0; j < fill; ++j) {
    const int32_t id = static_cast<int32_t>(GetU32(b + kHeaderBytes + 4 * j));
    if (id < 0 || id >= vocab_) {
      return BadState("token " + std::to_string(j) + " = " + std::to_string(id) +
                      " outside the vocab of " + std::to_string(vocab_));
    }
  }
  // Valid: apply.
  prng_.SetState(s);
  ClearWindow();
  const int32_t keep = std::min(fill, config_.penalty_last_n);
  for (int32_t j = fill - keep; j < fill; ++j) {
    PushWindow(static_cast<int32_t>(GetU32(b + kHeaderBytes + 4 * j)));
  }
  return Status::Ok();
}

}  // namespace slm
