#include "eval/score.h"

#include <algorithm>
#include <string>

#include "base/math.h"
#include "base/utf8.h"

namespace slm::eval {
namespace {

size_t CodePoints(std::string_view s) {
  size_t n = 0;
  for (unsigned char ch : s) n += (ch & 0xC0) != 0x80;
  return n;
}

// Common prefix of a and b in whole code points.
size_t CommonPrefixCodePoints(std::string_view a, std::string_view b) {
  size_t i = 0, n = 0;
  while (i < a.size() && i < b.size()) {
    uint32_t ca = 0, cb = 0;
    size_t la = Utf8Decode(a, i, &ca), lb = Utf8Decode(b, i, &cb);
    if (la == 0 || la != lb || ca != cb) break;
    i += la;
    ++n;
  }
  return n;
}

}  // namespace

MatchResult MatchOutput(const EvalCase& c, std::string_view out) {
  MatchResult r;
  const std::string_view exp = c.expected;
  switch (c.match) {
    case MatchRule::kExact: {
      r.pass = out == exp;
      size_t denom = std::max(CodePoints(exp), CodePoints(out));
      r.score = r.pass ? 1.0
                       : static_cast<double>(CommonPrefixCodePoints(exp, out)) /
                             static_cast<double>(denom);
      break;
    }
    case MatchRule::kPrefix:
      r.pass = out.substr(0, exp.size()) == exp;
      r.score = r.pass ? 1.0
                       : static_cast<double>(CommonPrefixCodePoints(exp, out)) /
                             static_cast<double>(CodePoints(exp));
      break;
    case MatchRule::kContains:
      r.pass = out.find(exp) != std::string_view::npos;
      r.score = r.pass ? 1 : 0;
      break;
    case MatchRule::kRegex:
      r.pass = c.regex.Search(out);
      r.score = r.pass ? 1 : 0;
      break;
  }
  return r;
}

double LogSoftmaxAt(std::span<const float> logits, int32_t id) {
  double m = -1e308;
  for (float v : logits) {
    if (v == v && static_cast<double>(v) > m) m = static_cast<double>(v);  // NaN never wins
  }
  double sum = 0;
  for (float v : logits) {
    if (v == v) sum += ExpD(static_cast<double>(v) - m);
  }
  double l = static_cast<double>(logits[static_cast<size_t>(id)]);
  if (l != l) return -1e308;
  return (l - m) - LogD(sum);
}

StatusOr<std::vector<double>> TeacherForcedLogProbs(Session& s, std::span<const int32_t> prompt,
                                                    std::span<const int32_t> target) {
  const int32_t vocab = s.model().config().vocab_size;
  for (size_t t = 0; t < target.size(); ++t) {
    if (target[t] < 0 || target[t] >= vocab) {
      return OutOfRange("expected token " + std::to_string(t) + " is id " +
                        std::to_string(target[t]) + ", outside the vocabulary (0.." +
                        std::to_string(vocab - 1) + ")");
    }
  }
  s.Reset();
  SLM_RETURN_IF_ERROR(s.Prefill(prompt));
  std::vector<double> lp;
  lp.reserve(target.size());
  for (size_t t = 0; t < target.size(); ++t) {
    lp.push_back(LogSoftmaxAt(s.logits(), target[t]));
    if (t + 1 < target.size()) SLM_RETURN_IF_ERROR(s.Decode(target[t]));
  }
  return lp;
}

}  // namespace slm::eval
