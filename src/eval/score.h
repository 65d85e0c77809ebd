// Per-case scoring: the match rule applied to the generated text, and the
// teacher-forced log-likelihood of the expected continuation.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "eval/cases.h"
#include "runtime/session.h"

namespace slm::eval {

struct MatchResult {
  bool pass = false;
  // Partial credit in [0, 1] (docs/eval.md): exact = common prefix / max(len
  // expected, len output); prefix = common prefix / len expected (lengths in
  // code points); contains and regex = 1 or 0.
  double score = 0;
};
MatchResult MatchOutput(const EvalCase& c, std::string_view output);

// log p(target[t] | prompt, target[0..t)) for every t, in nats. Runs the
// prompt from position 0 (Reset first), then feeds target[0..n-2] one at a
// time. log_softmax(l)[j] = (l[j] - m) - LogD(sum_i ExpD(l[i] - m)) with
// m = max l, in double, summed in id order (base/math.h: bit-identical on
// every platform).
StatusOr<std::vector<double>> TeacherForcedLogProbs(Session& s, std::span<const int32_t> prompt,
                                                    std::span<const int32_t> target);
double LogSoftmaxAt(std::span<const float> logits, int32_t id);

}  // namespace slm::eval
