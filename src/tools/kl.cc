#include "tools/kl.h"

#include <string>

#include "base/math.h"
#include "runtime/model.h"
#include "runtime/session.h"

namespace slm::tools {
namespace {

// log-sum-exp of the logits, in double (max subtracted first).
double LogSumExp(std::span<const float> x, double max) {
  double s = 0;
  for (float v : x) s += ExpD(static_cast<double>(v) - max);
  return max + LogD(s);
}

double Max(std::span<const float> x) {
  double m = x[0];
  for (float v : x) m = v > m ? v : m;
  return m;
}

int32_t ArgMax(std::span<const float> x) {
  size_t best = 0;
  for (size_t i = 1; i < x.size(); ++i) {
    if (x[i] > x[best]) best = i;  // ties: lowest id
  }
  return static_cast<int32_t>(best);
}

}  // namespace

double KlFromLogits(std::span<const float> p_logits, std::span<const float> q_logits) {
  if (p_logits.empty() || p_logits.size() != q_logits.size()) return 0;
  const double lp = LogSumExp(p_logits, Max(p_logits));
  const double lq = LogSumExp(q_logits, Max(q_logits));
  double kl = 0;
  for (size_t i = 0; i < p_logits.size(); ++i) {
    const double log_p = p_logits[i] - lp;
    const double log_q = q_logits[i] - lq;
    kl += ExpD(log_p) * (log_p - log_q);
  }
  return kl > 0 ? kl : 0;  // rounding can leave a tiny negative for equal inputs
}

StatusOr<KlReport> KlDivergence(const ModelConfig& c, const std::vector<TensorData>& reference,
                                const std::vector<TensorData>& test, std::span<const int32_t> ids,
                                int32_t n_threads) {
  if (ids.empty() || ids.size() > static_cast<size_t>(c.max_seq_len)) {
    return InvalidArgument("KL text: " + std::to_string(ids.size()) + " tokens, expected 1.." +
                           std::to_string(c.max_seq_len));
  }
  SLM_ASSIGN_OR_RETURN(auto ref_model, Model::Create(c, reference));
  SLM_ASSIGN_OR_RETURN(auto test_model, Model::Create(c, test));
  SessionOptions so;
  so.n_ctx = static_cast<int32_t>(ids.size());
  so.n_threads = n_threads;
  SLM_ASSIGN_OR_RETURN(auto ref, Session::Create(*ref_model, so));
  SLM_ASSIGN_OR_RETURN(auto tst, Session::Create(*test_model, so));
  KlReport r;
  int32_t agree = 0;
  double sum = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    SLM_RETURN_IF_ERROR(ref->Decode(ids[i]));
    SLM_RETURN_IF_ERROR(tst->Decode(ids[i]));
    const double kl = KlFromLogits(ref->logits(), tst->logits());
    sum += kl;
    if (kl > r.max || i == 0) {
      r.max = kl;
      r.max_position = static_cast<int32_t>(i);
    }
    agree += ArgMax(ref->logits()) == ArgMax(tst->logits());
  }
  r.positions = static_cast<int32_t>(ids.size());
  r.mean = sum / r.positions;
  r.top1_agree = static_cast<double>(agree) / r.positions;
  return r;
}

}  // namespace slm::tools
