// Eval cases: one JSON object per line (docs/eval.md, "Cases file").
//
//   {"id": "lily", "prompt": "Once upon a time", "expected": ", there was",
//    "max_new_tokens": 20, "match": "prefix", "weight": 2, "tags": ["story"]}
//
// Required: id (unique, non-empty), prompt (string) or prompt_ids (array of
// token ids), expected (non-empty string), max_new_tokens (0..kMaxNewTokens).
// Optional: match (exact | prefix | contains | regex; default exact), weight
// (finite >= 0, default 1), tags (array of non-empty strings), reference
// (the text scored by log-likelihood for regex cases; default: expected for
// the other rules, none for regex). Unknown fields are refused (typos would
// otherwise silently change a run). Blank lines are skipped.
//
// Every error names the source, the 1-based line and the field:
//   "cases.jsonl: line 7: field 'match': expected one of exact|prefix|contains|regex, found
//   'fuzzy'"
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "eval/regex.h"

namespace slm::eval {

enum class MatchRule : int32_t { kExact, kPrefix, kContains, kRegex };
const char* MatchRuleName(MatchRule r);

struct EvalCase {
  int32_t line = 0;  // 1-based line in the cases file
  std::string id;
  bool has_prompt_ids = false;  // prompt_ids given (used as is) instead of prompt text
  std::string prompt;
  std::vector<int32_t> prompt_ids;
  std::string expected;
  int32_t max_new_tokens = 0;
  MatchRule match = MatchRule::kExact;
  double weight = 1;
  std::vector<std::string> tags;
  bool has_reference = false;  // text whose log-likelihood is measured
  std::string reference;
  Regex regex;  // compiled expected, for kRegex
};

inline constexpr size_t kMaxLineBytes = size_t{16} << 20;  // 16 MiB per case line
inline constexpr int32_t kMaxNewTokens = 1 << 20;
inline constexpr size_t kMaxCases = 1000000;

// Parses and validates a whole cases file. `source` names it in errors.
StatusOr<std::vector<EvalCase>> ParseCases(std::string_view text, const std::string& source);

}  // namespace slm::eval
