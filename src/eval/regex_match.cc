// The matcher half of the regex dialect (regex.h): a Pike VM without
// captures over the program RegexCompiler emits (regex.cc).
#include <vector>

#include "base/utf8.h"
#include "eval/regex.h"

namespace slm::eval {

bool Regex::Class::Contains(uint32_t cp) const {
  bool in = false;
  for (const auto& [lo, hi] : ranges) {
    if (cp >= lo && cp <= hi) {
      in = true;
      break;
    }
  }
  return in != negated;
}

bool Regex::Search(std::string_view text) const { return Run(text, false); }
bool Regex::FullMatch(std::string_view text) const { return Run(text, true); }

// Pike VM without captures: two sparse sets of program counters, one per
// text position; each set is closed over Split/Jmp/anchors before stepping.
bool Regex::Run(std::string_view text, bool full) const {
  const size_t n = prog_.size();
  std::vector<uint32_t> cur, next, stack;
  std::vector<uint64_t> mark(n, 0);  // generation in which pc was added
  uint64_t gen = 0;
  cur.reserve(n);
  next.reserve(n);
  bool matched = false;
  // Adds pc's epsilon closure at text offset `at` to *list.
  auto add = [&](std::vector<uint32_t>* list, uint32_t pc0, size_t at) {
    stack.push_back(pc0);
    while (!stack.empty()) {
      uint32_t pc = stack.back();
      stack.pop_back();
      if (mark[pc] == gen) continue;
      mark[pc] = gen;
      const Inst& in = prog_[pc];
      switch (in.op) {
        case Op::kJmp:
          stack.push_back(in.x);
          break;
        case Op::kSplit:
          stack.push_back(in.y);
          stack.push_back(in.x);
          break;
        case Op::kBol:
          if (at == 0) stack.push_back(pc + 1);
          break;
        case Op::kEol:
          if (at == text.size()) stack.push_back(pc + 1);
          break;
        case Op::kMatch:
          if (!full || at == text.size()) matched = true;
          break;
        default:
          list->push_back(pc);
          break;
      }
    }
  };
  size_t i = 0;
  ++gen;
  add(&cur, 0, 0);
  while (true) {
    if (matched) return true;
    if (i >= text.size()) return false;
    uint32_t cp = 0;
    size_t len = Utf8Decode(text, i, &cp);
    if (len == 0) cp = 0xFFFD, len = 1;
    ++gen;
    next.clear();
    for (uint32_t pc : cur) {
      const Inst& in = prog_[pc];
      bool ok = (in.op == Op::kChar && in.c == cp) || (in.op == Op::kAny && cp != '\n') ||
                (in.op == Op::kClass && classes_[in.c].Contains(cp));
      if (ok) add(&next, pc + 1, i + len);
    }
    i += len;
    if (!full) add(&next, 0, i);  // a match may start at every position
    std::swap(cur, next);
    if (cur.empty() && full) return false;
  }
}

}  // namespace slm::eval
