// UTF-8 (src/base/utf8.h): ValidateUtf8 must agree with a Utf8Decode walk;
// decoded code points re-encode to the same bytes; the incomplete tail is
// never longer than 3 bytes.
#include <string>
#include <string_view>

#include "base/utf8.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view s(reinterpret_cast<const char*>(data), size);
  bool valid = slm::ValidateUtf8(s).ok();
  bool walk_ok = true;
  std::string re;
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = 0;
    size_t n = slm::Utf8Decode(s, i, &cp);
    if (n == 0) {
      walk_ok = false;
      ++i;
      continue;
    }
    if (n > 4 || i + n > s.size()) slm::fuzz::Fail("Utf8Decode length out of range");
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) slm::fuzz::Fail("bad code point decoded");
    std::string one;
    slm::AppendUtf8(&one, cp);
    if (one != s.substr(i, n)) slm::fuzz::Fail("decode/encode round trip differs");
    re += one;
    i += n;
  }
  if (valid != walk_ok) slm::fuzz::Fail("ValidateUtf8 disagrees with Utf8Decode");
  if (valid && re != s) slm::fuzz::Fail("valid text does not round-trip");
  if (slm::Utf8IncompleteTail(s) > 3) slm::fuzz::Fail("incomplete tail longer than 3 bytes");
  return 0;
}
