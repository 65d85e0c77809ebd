// Unicode character classes for the pre-tokenizers (regex \p{L}, \p{N}, \s
// and friends), and GPT-2's bytes_to_unicode mapping.
//
// Classes follow llama.cpp's unicode_cpt_flags (what its test vectors were
// produced with): one class per code point from its general category, plus
// the White_Space property kept separately because \t \n \v \f \r are Cc.
// Tables come from tools/gen_unicode_tables.py (unicode_tables.cc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace slm {

enum class UnicodeClass : uint8_t {
  kUndefined = 0,    // Cn (unassigned)
  kNumber = 1,       // N*
  kLetter = 2,       // L*
  kSeparator = 3,    // Z*
  kMark = 4,         // M*
  kPunctuation = 5,  // P*
  kSymbol = 6,       // S*
  kControl = 7,      // C* except Cn
};

// Class of a code point; kUndefined above U+10FFFF.
UnicodeClass GetUnicodeClass(uint32_t cp);
inline bool IsLetter(uint32_t cp) { return GetUnicodeClass(cp) == UnicodeClass::kLetter; }
inline bool IsNumber(uint32_t cp) { return GetUnicodeClass(cp) == UnicodeClass::kNumber; }
inline bool IsPunctuation(uint32_t cp) { return GetUnicodeClass(cp) == UnicodeClass::kPunctuation; }
// Unicode White_Space (regex \s in Python/Rust): 25 code points.
bool IsWhitespace(uint32_t cp);

// GPT-2 bytes_to_unicode: byte -> code point (printable bytes map to
// themselves, the other 68 to U+0100.. in order).
uint32_t ByteToUnicode(uint8_t b);
// Inverse; -1 when cp is not the image of any byte.
int UnicodeToByte(uint32_t cp);

// Version of the generated tables ("14.0.0").
extern const char kUnicodeTablesVersion[];
extern const uint32_t kUnicodeRuns[];
extern const size_t kUnicodeRunCount;

}  // namespace slm
