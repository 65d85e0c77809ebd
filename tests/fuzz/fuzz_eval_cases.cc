// Eval cases JSONL parser (src/eval/cases.h), which also compiles each regex
// case's pattern.
#include <string_view>

#include "eval/cases.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto cases = slm::eval::ParseCases(text, "cases.jsonl");
  slm::fuzz::Note("cases", cases);
  if (cases.ok()) {
    for (const auto& c : *cases) {
      if (c.match == slm::eval::MatchRule::kRegex) (void)c.regex.Search(c.prompt);
    }
  }
  return 0;
}
