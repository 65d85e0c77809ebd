// Our own pseudo-random generator (DESIGN.md principle 3: never <random>,
// whose distributions differ between standard libraries).
//
// Algorithm: xoshiro256** 1.0 (Blackman & Vigna, 2018), state seeded by
// splitmix64: s[i] = SplitMix64Next(&x) for i = 0..3 with x = seed. Both are
// public-domain reference algorithms reproduced from their papers:
//   splitmix64: x += 0x9e3779b97f4a7c15; z = x;
//               z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
//               z = (z ^ (z >> 27)) * 0x94d049bb133111eb; return z ^ (z >> 31)
//   xoshiro256**: result = rotl(s1 * 5, 7) * 9; t = s1 << 17;
//               s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl(s3, 45)
// Floats: NextFloat() = (Next() >> 40) * 2^-24, i.e. the top 24 bits as a
// uniform value in [0, 1) with spacing 2^-24 (exactly representable, no rounding).
// Known-answer vectors: tests/unit/prng_test.cc (computed by
// tests/golden/prng_vectors.py from this description).
#pragma once

#include <cstdint>

namespace slm {

uint64_t SplitMix64Next(uint64_t* state);

class Prng {
 public:
  explicit Prng(uint64_t seed = 0) { Seed(seed); }
  void Seed(uint64_t seed);
  uint64_t Next();
  float NextFloat();  // [0, 1), 24 random bits
  // The four xoshiro256** state words, to save a stream and resume it exactly
  // (sampler state in session files). An all-zero state is degenerate.
  void GetState(uint64_t out[4]) const {
    for (int i = 0; i < 4; ++i) out[i] = s_[i];
  }
  void SetState(const uint64_t in[4]) {
    for (int i = 0; i < 4; ++i) s_[i] = in[i];
  }

 private:
  uint64_t s_[4];
};

}  // namespace slm
