// Comparing candidates: the fitness vectors of several evidence files side by
// side, differences to the first, and which cases flipped between pass and
// fail (matched by case id).
#pragma once

#include <string>
#include <vector>

#include "eval/evidence.h"

namespace slm::eval {

struct NamedEvidence {
  std::string name;  // usually the file name
  Evidence evidence;
};

// A plain-text table (fixed-width columns) followed by the flipped cases and
// warnings (different cases files, partial evidence).
std::string CompareTable(const std::vector<NamedEvidence>& all);
// A self-contained SVG: weighted pass rate overall and per tag (grouped bars,
// one colour per candidate) and mean log-likelihood per candidate.
std::string CompareSvg(const std::vector<NamedEvidence>& all);

}  // namespace slm::eval
