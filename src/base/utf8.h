// UTF-8 validation and decoding (RFC 3629: no overlongs, no surrogates,
// max U+10FFFF).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace slm {

// Length of the valid sequence starting at s[i], or 0 if it is invalid or
// incomplete. *cp receives the code point.
size_t Utf8Decode(std::string_view s, size_t i, uint32_t* cp);
// OK, or InvalidArgument naming the first bad byte offset and value.
Status ValidateUtf8(std::string_view s);
void AppendUtf8(std::string* out, uint32_t cp);
// Number of bytes at the end of s that form an incomplete (but so far valid)
// sequence prefix: what a streaming decoder must hold back.
size_t Utf8IncompleteTail(std::string_view s);

}  // namespace slm
