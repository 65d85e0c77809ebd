#include "eval/regex.h"

#include <memory>

#include "base/utf8.h"

namespace slm::eval {

namespace {

struct Node {
  enum Kind { kEmpty, kChar, kAny, kClass, kBol, kEol, kConcat, kAlt, kRepeat } kind = kEmpty;
  uint32_t c = 0;        // kChar code point, kClass index
  int min = 0, max = 0;  // kRepeat; max -1 = unbounded
  std::vector<std::unique_ptr<Node>> kids;
};

constexpr int kMaxDepth = 256;  // nested groups; bounds parser recursion

}  // namespace

// Recursive-descent parser to a Node tree, then code generation.
class RegexCompiler {
 public:
  explicit RegexCompiler(std::string_view p) : p_(p) {}

  StatusOr<Regex> Compile() {
    if (p_.size() > Regex::kMaxPatternBytes) {
      return InvalidArgument("regex is " + std::to_string(p_.size()) + " bytes, expected at most " +
                             std::to_string(Regex::kMaxPatternBytes));
    }
    SLM_RETURN_IF_ERROR(ValidateUtf8(p_).WithContext("regex"));
    SLM_ASSIGN_OR_RETURN(auto root, ParseAlt(0));
    if (pos_ < p_.size()) return Error("unbalanced ')'");
    uint64_t size = Size(*root) + 1;
    if (size > Regex::kMaxProgram) {
      return InvalidArgument("regex compiles to " + std::to_string(size) +
                             " instructions, expected at most " +
                             std::to_string(Regex::kMaxProgram) + " (reduce counted repetition)");
    }
    Emit(*root);
    re_.prog_.push_back({Regex::Op::kMatch});
    return std::move(re_);
  }

 private:
  Status Error(const std::string& what) const {
    return InvalidArgument("regex at offset " + std::to_string(pos_) + ": " + what);
  }
  bool AtEnd() const { return pos_ >= p_.size(); }
  uint32_t Peek() const {
    uint32_t cp = 0;
    return Utf8Decode(p_, pos_, &cp) ? cp : 0xFFFD;
  }
  uint32_t Next() {
    uint32_t cp = 0;
    size_t n = Utf8Decode(p_, pos_, &cp);
    pos_ += n ? n : 1;
    return cp;
  }

  StatusOr<std::unique_ptr<Node>> ParseAlt(int depth) {
    if (depth > kMaxDepth) return Error("groups nested deeper than " + std::to_string(kMaxDepth));
    auto alt = std::make_unique<Node>();
    alt->kind = Node::kAlt;
    while (true) {
      SLM_ASSIGN_OR_RETURN(auto c, ParseConcat(depth));
      alt->kids.push_back(std::move(c));
      if (!AtEnd() && Peek() == '|') {
        ++pos_;
        continue;
      }
      break;
    }
    if (alt->kids.size() == 1) return std::move(alt->kids[0]);
    return alt;
  }

  StatusOr<std::unique_ptr<Node>> ParseConcat(int depth) {
    auto cat = std::make_unique<Node>();
    cat->kind = Node::kConcat;
    while (!AtEnd() && Peek() != '|' && Peek() != ')') {
      SLM_ASSIGN_OR_RETURN(auto atom, ParseAtom(depth));
      SLM_ASSIGN_OR_RETURN(atom, ParseRepeats(std::move(atom)));
      cat->kids.push_back(std::move(atom));
    }
    if (cat->kids.empty()) return std::make_unique<Node>();  // kEmpty
    if (cat->kids.size() == 1) return std::move(cat->kids[0]);
    return cat;
  }

  StatusOr<std::unique_ptr<Node>> ParseRepeats(std::unique_ptr<Node> atom) {
    bool repeated = false;
    while (!AtEnd()) {
      uint32_t c = Peek();
      int lo = 0, hi = 0;
      size_t at = pos_;
      if (c == '*') {
        lo = 0, hi = -1, ++pos_;
      } else if (c == '+') {
        lo = 1, hi = -1, ++pos_;
      } else if (c == '?') {
        lo = 0, hi = 1, ++pos_;
      } else if (c == '{') {
        ++pos_;
        SLM_ASSIGN_OR_RETURN(lo, ParseCount());
        hi = lo;
        if (!AtEnd() && Peek() == ',') {
          ++pos_;
          if (!AtEnd() && Peek() == '}') {
            hi = -1;
          } else {
            SLM_ASSIGN_OR_RETURN(hi, ParseCount());
          }
        }
        if (AtEnd() || Peek() != '}') return Error("expected '}' to close a counted repetition");
        ++pos_;
        if (hi != -1 && hi < lo) {
          pos_ = at;
          return Error("repetition {" + std::to_string(lo) + "," + std::to_string(hi) +
                       "} has max < min");
        }
      } else {
        break;
      }
      if (repeated) {
        pos_ = at;
        return Error("quantifier follows a quantifier (group the operand with ( ) instead)");
      }
      if (atom->kind == Node::kBol || atom->kind == Node::kEol) {
        pos_ = at;
        return Error("quantifier after an anchor");
      }
      repeated = true;
      if (!AtEnd() && Peek() == '?') ++pos_;  // lazy: same yes/no answer
      auto rep = std::make_unique<Node>();
      rep->kind = Node::kRepeat;
      rep->min = lo;
      rep->max = hi;
      rep->kids.push_back(std::move(atom));
      atom = std::move(rep);
    }
    return atom;
  }

  StatusOr<int> ParseCount() {
    int v = 0;
    size_t start = pos_;
    while (!AtEnd() && p_[pos_] >= '0' && p_[pos_] <= '9') {
      v = v * 10 + (p_[pos_] - '0');
      ++pos_;
      if (v > Regex::kMaxRepeat) {
        return Error("repetition count above " + std::to_string(Regex::kMaxRepeat));
      }
    }
    if (pos_ == start) return Error("expected a number in a counted repetition");
    return v;
  }

  StatusOr<std::unique_ptr<Node>> ParseAtom(int depth) {
    auto n = std::make_unique<Node>();
    size_t at = pos_;
    uint32_t c = Next();
    switch (c) {
      case '(': {
        SLM_ASSIGN_OR_RETURN(n, ParseAlt(depth + 1));
        if (AtEnd() || Peek() != ')') {
          pos_ = at;
          return Error("unclosed '('");
        }
        ++pos_;
        return n;
      }
      case '.':
        n->kind = Node::kAny;
        return n;
      case '^':
        n->kind = Node::kBol;
        return n;
      case '$':
        n->kind = Node::kEol;
        return n;
      case '[':
        return ParseClass(at);
      case '\\':
        return ParseEscapeAtom(at);
      case '*':
      case '+':
      case '?':
      case '{':
        pos_ = at;
        return Error("quantifier '" + std::string(1, static_cast<char>(c)) +
                     "' has nothing to repeat");
      case ']':
      case '}':
        pos_ = at;
        return Error("unescaped '" + std::string(1, static_cast<char>(c)) + "' (write \\" +
                     std::string(1, static_cast<char>(c)) + ")");
      default:
        n->kind = Node::kChar;
        n->c = c;
        return n;
    }
  }

  // After '\': a class shorthand or an escaped character. Adds a class or
  // fills *cp; returns false and an error status via *err.
  Status ParseEscape(size_t at, uint32_t* cp, Regex::Class* cls, bool* is_class) {
    *is_class = false;
    if (AtEnd()) {
      pos_ = at;
      return Error("pattern ends with '\\'");
    }
    uint32_t c = Next();
    auto set = [&](bool neg, std::vector<std::pair<uint32_t, uint32_t>> r) {
      *is_class = true;
      cls->negated = neg;
      cls->ranges = std::move(r);
    };
    switch (c) {
      case 'd':
        set(false, {{'0', '9'}});
        break;
      case 'D':
        set(true, {{'0', '9'}});
        break;
      case 'w':
        set(false, {{'a', 'z'}, {'A', 'Z'}, {'0', '9'}, {'_', '_'}});
        break;
      case 'W':
        set(true, {{'a', 'z'}, {'A', 'Z'}, {'0', '9'}, {'_', '_'}});
        break;
      case 's':
        set(false, {{' ', ' '}, {'\t', '\r'}});
        break;  // \t \n \v \f \r
      case 'S':
        set(true, {{' ', ' '}, {'\t', '\r'}});
        break;
      case 'n':
        *cp = '\n';
        break;
      case 't':
        *cp = '\t';
        break;
      case 'r':
        *cp = '\r';
        break;
      case 'f':
        *cp = '\f';
        break;
      case 'v':
        *cp = '\v';
        break;
      default:
        if (c < 0x80 &&
            !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) {
          *cp = c;  // escaped punctuation
          break;
        }
        pos_ = at;
        return Error("unsupported escape '\\" +
                     std::string(1, static_cast<char>(c < 0x80 ? c : '?')) +
                     "' (no backreferences; supported: \\d \\w \\s \\D \\W \\S \\n \\t \\r \\f \\v "
                     "and escaped punctuation)");
    }
    return Status::Ok();
  }

  StatusOr<std::unique_ptr<Node>> ParseEscapeAtom(size_t at) {
    uint32_t cp = 0;
    Regex::Class cls;
    bool is_class = false;
    SLM_RETURN_IF_ERROR(ParseEscape(at, &cp, &cls, &is_class));
    auto n = std::make_unique<Node>();
    if (is_class) {
      n->kind = Node::kClass;
      n->c = static_cast<uint32_t>(re_.classes_.size());
      re_.classes_.push_back(std::move(cls));
    } else {
      n->kind = Node::kChar;
      n->c = cp;
    }
    return n;
  }

  StatusOr<std::unique_ptr<Node>> ParseClass(size_t at) {
    Regex::Class cls;
    if (!AtEnd() && Peek() == '^') {
      cls.negated = true;
      ++pos_;
    }
    bool first = true;
    while (true) {
      if (AtEnd()) {
        pos_ = at;
        return Error("unclosed '['");
      }
      size_t item = pos_;
      uint32_t c = Next();
      if (c == ']' && !first) break;
      if (c == ']') {
        pos_ = item;
        return Error("empty class '[]' (write \\] for a literal ']')");
      }
      first = false;
      uint32_t lo = c;
      if (c == '\\') {
        Regex::Class sub;
        bool is_class = false;
        SLM_RETURN_IF_ERROR(ParseEscape(item, &lo, &sub, &is_class));
        if (is_class) {
          if (sub.negated) {
            pos_ = item;
            return Error("negated shorthand (\\D \\W \\S) inside a class is not supported");
          }
          cls.ranges.insert(cls.ranges.end(), sub.ranges.begin(), sub.ranges.end());
          continue;
        }
      } else if (c == '[') {
        pos_ = item;
        return Error(
            "unescaped '[' inside a class (named classes like [:alpha:] are not supported)");
      }
      uint32_t hi = lo;
      if (pos_ + 1 < p_.size() && p_[pos_] == '-' && p_[pos_ + 1] != ']') {
        ++pos_;
        size_t hi_at = pos_;
        hi = Next();
        if (hi == '\\') {
          Regex::Class sub;
          bool is_class = false;
          SLM_RETURN_IF_ERROR(ParseEscape(hi_at, &hi, &sub, &is_class));
          if (is_class) {
            pos_ = hi_at;
            return Error("class shorthand cannot end a range");
          }
        }
        if (hi < lo) {
          pos_ = item;
          return Error("range out of order in class");
        }
      }
      cls.ranges.push_back({lo, hi});
    }
    auto n = std::make_unique<Node>();
    n->kind = Node::kClass;
    n->c = static_cast<uint32_t>(re_.classes_.size());
    re_.classes_.push_back(std::move(cls));
    return n;
  }

  // Instructions Emit(n) will produce, saturating well above kMaxProgram.
  static uint64_t Size(const Node& n) {
    constexpr uint64_t kCap = uint64_t{1} << 40;
    switch (n.kind) {
      case Node::kEmpty:
        return 0;
      case Node::kConcat: {
        uint64_t s = 0;
        for (const auto& k : n.kids) s = std::min(kCap, s + Size(*k));
        return s;
      }
      case Node::kAlt: {
        uint64_t s = 0;
        for (const auto& k : n.kids) s = std::min(kCap, s + Size(*k) + 2);
        return s;
      }
      case Node::kRepeat: {
        uint64_t k = Size(*n.kids[0]);
        uint64_t s = static_cast<uint64_t>(n.min) * k;
        s += n.max < 0 ? k + 2 : static_cast<uint64_t>(n.max - n.min) * (k + 1);
        return std::min(kCap, s);
      }
      default:
        return 1;
    }
  }

  uint32_t Pc() const { return static_cast<uint32_t>(re_.prog_.size()); }
  uint32_t Push(Regex::Inst i) {
    re_.prog_.push_back(i);
    return Pc() - 1;
  }

  void Emit(const Node& n) {
    using Op = Regex::Op;
    switch (n.kind) {
      case Node::kEmpty:
        return;
      case Node::kChar:
        Push({Op::kChar, n.c});
        return;
      case Node::kAny:
        Push({Op::kAny});
        return;
      case Node::kClass:
        Push({Op::kClass, n.c});
        return;
      case Node::kBol:
        Push({Op::kBol});
        return;
      case Node::kEol:
        Push({Op::kEol});
        return;
      case Node::kConcat:
        for (const auto& k : n.kids) Emit(*k);
        return;
      case Node::kAlt: {
        // split L1, next; L1: a; jmp end; next: split L2, next2; ... last: z
        std::vector<uint32_t> jumps;
        for (size_t i = 0; i < n.kids.size(); ++i) {
          if (i + 1 < n.kids.size()) {
            uint32_t split = Push({Op::kSplit});
            re_.prog_[split].x = Pc();
            Emit(*n.kids[i]);
            jumps.push_back(Push({Op::kJmp}));
            re_.prog_[split].y = Pc();
          } else {
            Emit(*n.kids[i]);
          }
        }
        for (uint32_t j : jumps) re_.prog_[j].x = Pc();
        return;
      }
      case Node::kRepeat: {
        const Node& body = *n.kids[0];
        for (int i = 0; i < n.min; ++i) Emit(body);
        if (n.max < 0) {  // L: split body, end; body; jmp L
          uint32_t split = Push({Op::kSplit});
          re_.prog_[split].x = Pc();
          Emit(body);
          Push({Op::kJmp, 0, split});
          re_.prog_[split].y = Pc();
          return;
        }
        for (int i = n.min; i < n.max; ++i) {  // (body)? chained
          uint32_t split = Push({Op::kSplit});
          re_.prog_[split].x = Pc();
          Emit(body);
          re_.prog_[split].y = Pc();
        }
        return;
      }
    }
  }

  std::string_view p_;
  size_t pos_ = 0;
  Regex re_;
};

StatusOr<Regex> Regex::Compile(std::string_view pattern) {
  return RegexCompiler(pattern).Compile();
}

}  // namespace slm::eval
