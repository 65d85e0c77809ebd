// Softmax and paged attention of every table against scalar, bit for bit:
// softmax lengths around the 8-lane vector step (1, 7, 8, 9, 100, 513) with
// values that underflow Exp to subnormals and to 0 (x - max below -87 and
// -104), ties for the maximum, signed zeros; attention with 8-position score
// groups and their remainders (1..40 positions), positions spread over
// 16-token pages, grouped heads, head_dim 64 and 12 (no 8-wide scores).
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "base/prng.h"
#include "kernels/kernels.h"

namespace slm {
namespace {

std::vector<float> Random(int32_t n, uint64_t seed, float scale) {
  Prng p(seed);
  std::vector<float> v(n);
  for (float& x : v) x = (p.NextFloat() * 2.0f - 1.0f) * scale;
  return v;
}

TEST(KernelsAttention, SoftmaxMatchesScalarBits) {
  const KernelTable* tables[4];
  const int n_tables = AvailableKernelTables(tables, 4);
  int checked = 0;
  for (int32_t n : {1, 7, 8, 9, 100, 513}) {
    for (int kind = 0; kind < 4; ++kind) {
      std::vector<float> x = Random(n, 100 + n + kind, kind == 1 ? 120.0f : 4.0f);
      if (kind == 2) {  // ties for the max, signed zeros, far below the max
        for (int32_t i = 0; i < n; ++i) x[i] = i % 3 == 0 ? 0.0f : (i % 3 == 1 ? -0.0f : -200.0f);
      }
      if (kind == 3) {  // the region where Exp returns subnormals
        for (int32_t i = 0; i < n; ++i) x[i] = -86.0f - static_cast<float>(i % 19);
      }
      std::vector<float> want = x;
      ScalarKernels().softmax(want.data(), n);
      for (int ti = 0; ti < n_tables; ++ti) {
        std::vector<float> got = x;
        tables[ti]->softmax(got.data(), n);
        ASSERT_EQ(std::memcmp(got.data(), want.data(), n * 4), 0)
            << tables[ti]->name << " n " << n << " kind " << kind;
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 6 * 4 * n_tables);
}

TEST(KernelsAttention, PagedAttentionMatchesScalarBits) {
  const KernelTable* tables[4];
  const int n_tables = AvailableKernelTables(tables, 4);
  constexpr int32_t kPage = 16;
  int checked = 0;
  for (int32_t head_dim : {12, 64}) {
    const int32_t n_heads = 6, n_kv = 2, kv_dim = n_kv * head_dim;
    for (int32_t n_pos : {1, 7, 8, 9, 16, 17, 40}) {
      const int32_t n_pages = (n_pos + kPage - 1) / kPage;
      // Pages stored out of order in one arena, as the KV cache does.
      const std::vector<float> k = Random(n_pages * kPage * kv_dim, 7 + n_pos, 2.0f),
                               v = Random(n_pages * kPage * kv_dim, 8 + n_pos, 2.0f),
                               q = Random(n_heads * head_dim, 9 + n_pos, 2.0f);
      std::vector<const float*> kp(n_pages), vp(n_pages);
      for (int32_t p = 0; p < n_pages; ++p) {
        const int32_t slot = n_pages - 1 - p;
        kp[p] = k.data() + static_cast<size_t>(slot) * kPage * kv_dim;
        vp[p] = v.data() + static_cast<size_t>(slot) * kPage * kv_dim;
      }
      std::vector<float> want(n_heads * head_dim), scores(n_pos);
      ScalarKernels().attention(want.data(), q.data(), kp.data(), vp.data(), kPage, scores.data(),
                                n_pos, n_heads, n_kv, head_dim, kv_dim);
      for (int ti = 0; ti < n_tables; ++ti) {
        std::vector<float> got(want.size(), -1.0f);
        tables[ti]->attention(got.data(), q.data(), kp.data(), vp.data(), kPage, scores.data(),
                              n_pos, n_heads, n_kv, head_dim, kv_dim);
        ASSERT_EQ(std::memcmp(got.data(), want.data(), want.size() * 4), 0)
            << tables[ti]->name << " head_dim " << head_dim << " n_pos " << n_pos;
        // KV heads one at a time (as Session splits decode across threads):
        // page pointers offset to the head, kv_stride the full row.
        std::vector<float> split(want.size(), -1.0f);
        const int32_t group = n_heads / n_kv;
        for (int32_t g = 0; g < n_kv; ++g) {
          std::vector<const float*> kg(n_pages), vg(n_pages);
          for (int32_t p = 0; p < n_pages; ++p) {
            kg[p] = kp[p] + g * head_dim;
            vg[p] = vp[p] + g * head_dim;
          }
          const size_t off = static_cast<size_t>(g) * group * head_dim;
          tables[ti]->attention(split.data() + off, q.data() + off, kg.data(), vg.data(), kPage,
                                scores.data(), n_pos, group, 1, head_dim, kv_dim);
        }
        ASSERT_EQ(std::memcmp(split.data(), want.data(), want.size() * 4), 0)
            << tables[ti]->name << " by kv head, head_dim " << head_dim << " n_pos " << n_pos;
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 2 * 7 * n_tables);
}

}  // namespace
}  // namespace slm
