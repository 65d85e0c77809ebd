// JSON reader (src/base/json.h): any bytes; a parsed document must re-parse
// from its own serialisation to the same serialisation.
#include <string_view>

#include "base/json.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto v = slm::ParseJson(text, "fuzz.json");
  slm::fuzz::Note("json", v);
  if (!v.ok()) {
    if (v.status().message().empty()) slm::fuzz::Fail("json error without a message");
    return 0;
  }
  std::string dumped = v->Dump();
  auto again = slm::ParseJson(dumped, "dump");
  if (!again.ok()) slm::fuzz::Fail("Dump() output does not parse");
  if (again->Dump() != dumped) slm::fuzz::Fail("Dump() is not a fixed point");
  (void)v->DumpPretty();
  return 0;
}
