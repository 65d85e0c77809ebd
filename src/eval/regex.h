// The regex dialect of eval cases (docs/eval.md, "Regex dialect"): a Thompson
// NFA simulated Pike-style over UTF-8 code points, so matching costs
// O(pattern size x text length) and no pattern can backtrack exponentially.
//
//   literals        any code point except the metacharacters . [ ] ( ) { } * + ? | ^ $ and
//                   backslash
//   .               any code point except '\n'
//   [abc] [a-z]     a class of code points or ranges; [^...] negates it; inside a
//                   class ']' '\' '-' '^' are escaped with '\'; \d \w \s may appear
//   \d \w \s        [0-9], [A-Za-z0-9_], [ \t\n\r\f\v]; \D \W \S their complements
//   \n \t \r \f \v  control characters; '\' + any punctuation = that character
//   ^ $             start / end of the whole text (no multi-line mode)
//   ( )             grouping (no captures are reported: matching is yes/no)
//   a|b             alternation
//   * + ?           repetition; a following '?' (lazy) is accepted and changes
//                   nothing, since only whether a match exists is reported
//   {m} {m,} {m,n}  counted repetition, m <= n <= 1000
// Not supported (refused with the offset): backreferences, lookaround,
// named classes ([:alpha:]), flags. The compiled program is bounded to
// kMaxProgram instructions ("a{1000}{1000}" is refused, not expanded).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace slm::eval {

class Regex {
 public:
  static constexpr int kMaxRepeat = 1000;
  static constexpr size_t kMaxProgram = 100000;
  static constexpr size_t kMaxPatternBytes = 64 * 1024;

  // InvalidArgument "regex at offset N: ..." (N is a byte offset in pattern).
  static StatusOr<Regex> Compile(std::string_view pattern);

  // True if some substring of text matches (use ^ and $ to anchor). Text is
  // decoded as UTF-8; an invalid byte is taken as the code point U+FFFD.
  bool Search(std::string_view text) const;
  // True if the whole text matches.
  bool FullMatch(std::string_view text) const;

  size_t program_size() const { return prog_.size(); }

  enum class Op : uint8_t { kChar, kAny, kClass, kSplit, kJmp, kBol, kEol, kMatch };
  struct Inst {
    Op op;
    uint32_t c = 0;  // kChar: code point; kClass: index into classes_
    uint32_t x = 0;  // kSplit, kJmp: target
    uint32_t y = 0;  // kSplit: second target
  };
  struct Class {
    bool negated = false;
    std::vector<std::pair<uint32_t, uint32_t>> ranges;  // inclusive [lo, hi]
    bool Contains(uint32_t cp) const;
  };

 private:
  friend class RegexCompiler;
  bool Run(std::string_view text, bool anchored_full) const;
  std::vector<Inst> prog_;
  std::vector<Class> classes_;
};

}  // namespace slm::eval
