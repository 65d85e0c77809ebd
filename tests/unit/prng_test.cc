// Known-answer vectors from tests/golden/prng_vectors.py (an independent Python
// implementation of the algorithms documented in base/prng.h).
#include "base/prng.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace slm {
namespace {

TEST(Prng, SplitMix64KnownAnswers) {
  uint64_t s = 0;
  EXPECT_EQ(SplitMix64Next(&s), 0xe220a8397b1dcdafull);
  EXPECT_EQ(SplitMix64Next(&s), 0x6e789e6aa1b965f4ull);
  EXPECT_EQ(SplitMix64Next(&s), 0x06c45d188009454full);
}

struct Vector {
  uint64_t seed;
  uint64_t values[5];
};

TEST(Prng, Xoshiro256StarStarKnownAnswers) {
  const Vector kVectors[] = {
      {0x0ull,
       {0x99ec5f36cb75f2b4ull, 0xbf6e1f784956452aull, 0x1a5f849d4933e6e0ull,
        0x6aa594f1262d2d2cull, 0xbba5ad4a1f842e59ull}},
      {0x2aull,
       {0x15780b2e0c2ec716ull, 0x6104d9866d113a7eull, 0xae17533239e499a1ull,
        0xecb8ad4703b360a1ull, 0xfde6dc7fe2ec5e64ull}},
      {0xdeadbeefcafef00dull,
       {0x9e32cfb5bb93eebbull, 0x16006bd9d4ac0014ull, 0x8ada5d6d34b6538eull,
        0x7c327ca32346a238ull, 0xc43a6d6a3492ced2ull}},
  };
  for (const Vector& v : kVectors) {
    Prng p(v.seed);
    for (uint64_t want : v.values) EXPECT_EQ(p.Next(), want) << "seed " << v.seed;
  }
}

TEST(Prng, FloatIsTop24BitsScaled) {
  const uint32_t kTop24[] = {10087519, 12545567, 1728388, 6989204, 12297645};  // seed 0
  Prng p(0);
  for (uint32_t t : kTop24) EXPECT_EQ(p.NextFloat(), static_cast<float>(t) / 16777216.0f);
}

TEST(Prng, FloatRangeAndReseed) {
  Prng p(7);
  float first = p.NextFloat();
  for (int i = 0; i < 100000; ++i) {
    float f = p.NextFloat();
    ASSERT_GE(f, 0.0f);
    ASSERT_LT(f, 1.0f);
  }
  p.Seed(7);
  EXPECT_EQ(p.NextFloat(), first);
}

}  // namespace
}  // namespace slm
