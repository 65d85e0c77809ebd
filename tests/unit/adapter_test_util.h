// Shared by the adapter tests that read the fine-tune fixture (tests/adapter):
// its paths, the id lists of expected.json, and a greedy run with optional
// runtime deltas.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "base/json.h"
#include "model/config.h"
#include "model/tensor.h"
#include "runtime/deltas.h"
#include "runtime/model.h"
#include "runtime/session.h"
#include "test_util.h"

namespace slm::adapter_test {

inline std::string FixturePath(const std::string& name) {
  return test::SourceDir() + "/tests/adapter/" + name;
}

inline std::vector<int32_t> Ints(const JsonValue& a) {
  std::vector<int32_t> v;
  for (const JsonValue& x : a.items()) v.push_back(static_cast<int32_t>(x.as_number()));
  return v;
}

struct GenRun {
  std::vector<int32_t> greedy;
  std::vector<float> logits;  // final prompt position
};

// Greedy decoding (ties -> lowest id) after `prompt`, optionally with deltas.
inline GenRun Greedy(const ModelConfig& c, const std::vector<TensorData>& tensors,
                     const std::vector<int32_t>& prompt, int n,
                     const WeightDeltas* deltas = nullptr) {
  GenRun r;
  auto m = Model::Create(c, tensors);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  if (!m.ok()) return r;
  SessionOptions so;
  so.n_ctx = 64;
  auto s = Session::Create(**m, so);
  EXPECT_TRUE(s.ok());
  if (!s.ok()) return r;
  (*s)->SetDeltas(deltas);
  EXPECT_TRUE((*s)->Prefill(prompt).ok());
  auto lg = (*s)->logits();
  r.logits.assign(lg.begin(), lg.end());
  for (int i = 0; i < n; ++i) {
    auto l = (*s)->logits();
    const int32_t id = static_cast<int32_t>(std::max_element(l.begin(), l.end()) - l.begin());
    r.greedy.push_back(id);
    EXPECT_TRUE((*s)->Decode(id).ok());
  }
  return r;
}

}  // namespace slm::adapter_test
