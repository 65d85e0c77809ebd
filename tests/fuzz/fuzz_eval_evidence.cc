// Eval evidence reader (src/eval/evidence.h ParseEvidence): any bytes; parsed
// evidence must serialise and parse back to the same serialisation.
#include <string_view>

#include "eval/evidence.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto e = slm::eval::ParseEvidence(text, "evidence.json");
  slm::fuzz::Note("evidence", e);
  if (!e.ok()) return 0;
  std::string s = slm::eval::SerializeEvidence(*e);
  auto again = slm::eval::ParseEvidence(s, "again.json");
  if (!again.ok()) slm::fuzz::Fail("serialised evidence does not parse");
  if (slm::eval::SerializeEvidence(*again) != s) slm::fuzz::Fail("evidence round trip differs");
  (void)slm::eval::DeterministicPart(*e);
  return 0;
}
