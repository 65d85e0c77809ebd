#include "eval/cases.h"

#include <cmath>
#include <map>

#include "base/json.h"
#include "base/utf8.h"

namespace slm::eval {

const char* MatchRuleName(MatchRule r) {
  switch (r) {
    case MatchRule::kExact:
      return "exact";
    case MatchRule::kPrefix:
      return "prefix";
    case MatchRule::kContains:
      return "contains";
    case MatchRule::kRegex:
      return "regex";
  }
  return "unknown";
}

namespace {

constexpr const char* kKnownFields[] = {"id",       "prompt",         "prompt_ids",
                                        "expected", "max_new_tokens", "match",
                                        "weight",   "tags",           "reference"};

class LineParser {
 public:
  LineParser(const std::string& source, int32_t line)
      : where_(source + ": line " + std::to_string(line)) {}

  Status Err(const std::string& field, const std::string& what) const {
    return InvalidArgument(where_ + ": field '" + field + "': " + what);
  }
  Status Err(const std::string& what) const { return InvalidArgument(where_ + ": " + what); }

  static std::string Found(const JsonValue& v) {
    if (v.is_string()) {
      std::string s = v.as_string();
      if (s.size() > 40) s = s.substr(0, 40) + "...";
      return "'" + s + "'";
    }
    return std::string("a ") + JsonTypeName(v.type());
  }

  Status Parse(const JsonValue& o, EvalCase* c) {
    if (!o.is_object())
      return Err(std::string("expected a JSON object, found a ") + JsonTypeName(o.type()));
    for (const auto& [k, v] : o.members()) {
      bool known = false;
      for (const char* f : kKnownFields) known = known || k == f;
      if (!known) {
        return Err(k,
                   "unknown field (known: id, prompt, prompt_ids, expected, max_new_tokens, match, "
                   "weight, tags, reference)");
      }
    }
    const JsonValue* id = o.Find("id");
    if (id == nullptr) return Err("id", "missing (a non-empty string is required)");
    if (!id->is_string() || id->as_string().empty())
      return Err("id", "expected a non-empty string, found " + Found(*id));
    if (id->as_string().size() > 256) return Err("id", "longer than 256 bytes");
    c->id = id->as_string();

    const JsonValue* prompt = o.Find("prompt");
    const JsonValue* prompt_ids = o.Find("prompt_ids");
    if ((prompt != nullptr) == (prompt_ids != nullptr)) {
      return Err("prompt", prompt ? "give prompt or prompt_ids, not both"
                                  : "missing (give prompt or prompt_ids)");
    }
    if (prompt != nullptr) {
      if (!prompt->is_string()) return Err("prompt", "expected a string, found " + Found(*prompt));
      c->prompt = prompt->as_string();
    } else {
      if (!prompt_ids->is_array() || prompt_ids->size() == 0) {
        return Err("prompt_ids",
                   "expected a non-empty array of token ids, found " + Found(*prompt_ids));
      }
      c->has_prompt_ids = true;
      for (size_t i = 0; i < prompt_ids->items().size(); ++i) {
        const JsonValue& v = prompt_ids->items()[i];
        double d = v.is_number() ? v.as_number() : -1;
        if (!v.is_number() || d < 0 || d > INT32_MAX || d != std::floor(d)) {
          return Err("prompt_ids", "element " + std::to_string(i) +
                                       ": expected a token id (integer >= 0), found " +
                                       (v.is_number() ? JsonValue::Number(d).Dump() : Found(v)));
        }
        c->prompt_ids.push_back(static_cast<int32_t>(d));
      }
    }

    const JsonValue* expected = o.Find("expected");
    if (expected == nullptr) return Err("expected", "missing");
    if (!expected->is_string() || expected->as_string().empty()) {
      return Err("expected", "expected a non-empty string, found " + Found(*expected));
    }
    c->expected = expected->as_string();

    const JsonValue* mnt = o.Find("max_new_tokens");
    if (mnt == nullptr) return Err("max_new_tokens", "missing");
    if (!mnt->is_number() || mnt->as_number() != std::floor(mnt->as_number()) ||
        mnt->as_number() < 0 || mnt->as_number() > kMaxNewTokens) {
      return Err("max_new_tokens", "expected an integer 0.." + std::to_string(kMaxNewTokens) +
                                       ", found " + (mnt->is_number() ? mnt->Dump() : Found(*mnt)));
    }
    c->max_new_tokens = static_cast<int32_t>(mnt->as_number());

    if (const JsonValue* m = o.Find("match")) {
      std::string r = m->is_string() ? m->as_string() : "";
      if (r == "exact")
        c->match = MatchRule::kExact;
      else if (r == "prefix")
        c->match = MatchRule::kPrefix;
      else if (r == "contains")
        c->match = MatchRule::kContains;
      else if (r == "regex")
        c->match = MatchRule::kRegex;
      else
        return Err("match", "expected one of exact|prefix|contains|regex, found " + Found(*m));
    }
    if (c->match == MatchRule::kRegex) {
      auto re = Regex::Compile(c->expected);
      if (!re.ok()) return Err("expected", "bad regex: " + re.status().message());
      c->regex = std::move(re).value();
    }

    if (const JsonValue* w = o.Find("weight")) {
      if (!w->is_number() || !(w->as_number() >= 0) || !std::isfinite(w->as_number())) {
        return Err("weight", "expected a finite number >= 0, found " +
                                 (w->is_number() ? w->Dump() : Found(*w)));
      }
      c->weight = w->as_number();
    }
    if (const JsonValue* t = o.Find("tags")) {
      if (!t->is_array()) return Err("tags", "expected an array of strings, found " + Found(*t));
      for (size_t i = 0; i < t->items().size(); ++i) {
        const JsonValue& v = t->items()[i];
        if (!v.is_string() || v.as_string().empty()) {
          return Err("tags", "element " + std::to_string(i) +
                                 ": expected a non-empty string, found " + Found(v));
        }
        c->tags.push_back(v.as_string());
      }
    }
    if (const JsonValue* r = o.Find("reference")) {
      if (!r->is_string() || r->as_string().empty()) {
        return Err("reference", "expected a non-empty string, found " + Found(*r));
      }
      c->has_reference = true;
      c->reference = r->as_string();
    }
    return Status::Ok();
  }

 private:
  std::string where_;
};

}  // namespace

StatusOr<std::vector<EvalCase>> ParseCases(std::string_view text, const std::string& source) {
  std::vector<EvalCase> cases;
  std::map<std::string, int32_t> seen;  // id -> line
  size_t start = 0;
  int32_t line = 0;
  while (start < text.size()) {
    ++line;
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view l = text.substr(start, end - start);
    start = end + 1;
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    const std::string where = source + ": line " + std::to_string(line);
    if (l.size() > kMaxLineBytes) {
      return InvalidArgument(where + ": " + std::to_string(l.size()) + " bytes, expected at most " +
                             std::to_string(kMaxLineBytes) + " per case");
    }
    if (l.find_first_not_of(" \t") == std::string_view::npos) continue;
    if (Status u = ValidateUtf8(l); !u.ok()) return InvalidArgument(where + ": " + u.message());
    auto json = ParseJson(l, where);
    if (!json.ok()) {
      // The line is a one-line document: "line 1, column C" -> "column C".
      std::string m = json.status().message();
      const std::string one = where + ": line 1, column ";
      if (m.rfind(one, 0) == 0) m = where + ": column " + m.substr(one.size());
      return InvalidArgument(m);
    }
    if (cases.size() >= kMaxCases) {
      return InvalidArgument(where + ": more than " + std::to_string(kMaxCases) + " cases");
    }
    EvalCase c;
    c.line = line;
    SLM_RETURN_IF_ERROR(LineParser(source, line).Parse(*json, &c));
    auto [it, fresh] = seen.emplace(c.id, line);
    if (!fresh) {
      return InvalidArgument(where + ": field 'id': '" + c.id + "' already used on line " +
                             std::to_string(it->second));
    }
    cases.push_back(std::move(c));
  }
  if (cases.empty())
    return InvalidArgument(source + ": no cases (expected one JSON object per line)");
  return cases;
}

}  // namespace slm::eval
