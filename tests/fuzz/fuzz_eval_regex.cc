// Eval regex dialect (src/eval/regex.h): the input is "pattern\0text"; the
// pattern is compiled and, if accepted, searched and full-matched against the
// text (Pike VM: linear time, so no input may make it slow or crash).
#include <string_view>

#include "eval/regex.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t nul = in.find('\0');
  std::string_view pattern = in.substr(0, nul);
  std::string_view text = nul == std::string_view::npos ? std::string_view() : in.substr(nul + 1);
  auto re = slm::eval::Regex::Compile(pattern);
  slm::fuzz::Note("regex", re);
  if (!re.ok()) return 0;
  if (re->program_size() > slm::eval::Regex::kMaxProgram) slm::fuzz::Fail("program over the bound");
  bool full = re->FullMatch(text);
  bool any = re->Search(text);
  if (full && !any) slm::fuzz::Fail("FullMatch without Search");
  return 0;
}
