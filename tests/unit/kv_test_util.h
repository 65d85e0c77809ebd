// Shared by kv_cache_test, batch_decode_test and session_file_test:
// stories260K as a Model, sessions with given options, greedy decoding and
// bit comparison of logits.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "import/llama2c.h"
#include "runtime/model.h"
#include "runtime/session.h"
#include "test_util.h"

namespace slm::test {

inline bool SameBits(std::span<const float> a, std::span<const float> b) {
  return !a.empty() && a.size() == b.size() &&
         std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Greedy choice: the largest logit, ties to the lowest id.
inline int32_t Argmax(std::span<const float> l) {
  int32_t best = 0;
  for (size_t i = 1; i < l.size(); ++i) {
    if (l[i] > l[best]) best = static_cast<int32_t>(i);
  }
  return best;
}

// Deterministic distinct-looking ids in [3, 512) (stories260K's vocab).
inline std::vector<int32_t> Ids(int32_t n, uint32_t seed) {
  std::vector<int32_t> v(static_cast<size_t>(n));
  uint32_t x = seed * 2654435761u + 12345u;
  for (int32_t i = 0; i < n; ++i) {
    x = x * 1664525u + 1013904223u;
    v[i] = 3 + static_cast<int32_t>((x >> 8) % 509u);
  }
  return v;
}

inline std::vector<int32_t> Concat(std::vector<int32_t> a, const std::vector<int32_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

class KvFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string path = ModelPath("stories260K.bin");
    ASSERT_FALSE(path.empty());
    auto b = ImportLlama2c(path, "");
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    bundle_ = std::move(b).value();
    auto m = Model::Create(bundle_.config, bundle_.tensors);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    model_ = std::move(m).value();
  }
  std::unique_ptr<Session> Make(bool reuse = true, int32_t budget_mib = 0, int32_t n_threads = 1,
                                int32_t n_ctx = 0) {
    SessionOptions o;
    o.n_ctx = n_ctx;
    o.n_threads = n_threads;
    o.kv_budget_mib = budget_mib;
    o.prefix_reuse = reuse;
    auto s = Session::Create(*model_, o);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }
  // Prefill then n greedy steps on sequence s; returns the generated ids and
  // appends every logits vector (after the prompt and after each step).
  std::vector<int32_t> Run(Session& ses, SeqId s, const std::vector<int32_t>& prompt, int32_t n,
                           std::vector<std::vector<float>>* logits) {
    std::vector<int32_t> out;
    Status st = ses.Prefill(s, prompt);
    EXPECT_TRUE(st.ok()) << st.ToString();
    if (!st.ok()) return out;
    for (int32_t i = 0; i < n; ++i) {
      auto l = ses.logits(s);
      if (logits) logits->emplace_back(l.begin(), l.end());
      out.push_back(Argmax(l));
      st = ses.Decode(s, out.back());
      EXPECT_TRUE(st.ok()) << st.ToString();
    }
    auto l = ses.logits(s);
    if (logits) logits->emplace_back(l.begin(), l.end());
    return out;
  }
  ModelBundle bundle_;
  std::unique_ptr<Model> model_;
};

}  // namespace slm::test
