// Recursive-descent JSON reader with an explicit depth bound, and a writer.
#include "base/json.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <unordered_set>

#include "base/utf8.h"

namespace slm {

JsonValue JsonValue::Bool(bool b) { JsonValue v; v.type_ = Type::kBool; v.bool_ = b; return v; }
JsonValue JsonValue::Number(double d) { JsonValue v; v.type_ = Type::kNumber; v.number_ = d; return v; }
JsonValue JsonValue::String(std::string s) { JsonValue v; v.type_ = Type::kString; v.string_ = std::move(s); return v; }
JsonValue JsonValue::Array() { JsonValue v; v.type_ = Type::kArray; return v; }
JsonValue JsonValue::Object() { JsonValue v; v.type_ = Type::kObject; return v; }

const char* JsonTypeName(JsonValue::Type t) {
  switch (t) {
    case JsonValue::Type::kNull: return "null";
    case JsonValue::Type::kBool: return "bool";
    case JsonValue::Type::kNumber: return "number";
    case JsonValue::Type::kString: return "string";
    case JsonValue::Type::kArray: return "array";
    case JsonValue::Type::kObject: return "object";
  }
  return "?";
}

const JsonValue* JsonValue::Find(std::string_view key) const {
  if (!is_object()) return nullptr;
  for (const auto& [k, v] : members_) {
    if (k == key) return &v;
  }
  return nullptr;
}

JsonValue& JsonValue::Append(JsonValue v) {
  items_.push_back(std::move(v));
  return items_.back();
}

JsonValue& JsonValue::AddUnique(std::string key, JsonValue v) {
  members_.emplace_back(std::move(key), std::move(v));
  return members_.back().second;
}

JsonValue& JsonValue::Set(std::string key, JsonValue v) {
  for (auto& [k, old] : members_) {
    if (k == key) return old = std::move(v);
  }
  members_.emplace_back(std::move(key), std::move(v));
  return members_.back().second;
}

namespace {
Status MemberError(std::string_view key, const JsonValue* v, const char* want) {
  if (v == nullptr) return NotFound("missing key \"" + std::string(key) + "\"");
  return InvalidArgument("key \"" + std::string(key) + "\" is " + JsonTypeName(v->type()) +
                         ", expected " + want);
}
}  // namespace

StatusOr<std::string> JsonValue::GetString(std::string_view key) const {
  const JsonValue* v = Find(key);
  if (!v || !v->is_string()) return MemberError(key, v, "string");
  return v->as_string();
}

StatusOr<double> JsonValue::GetNumber(std::string_view key) const {
  const JsonValue* v = Find(key);
  if (!v || !v->is_number()) return MemberError(key, v, "number");
  return v->as_number();
}

StatusOr<int64_t> JsonValue::GetInt(std::string_view key) const {
  const JsonValue* v = Find(key);
  if (!v || !v->is_number()) return MemberError(key, v, "integer");
  double d = v->as_number();
  if (!(d >= -9007199254740992.0 && d <= 9007199254740992.0) || d != std::floor(d)) {
    return InvalidArgument("key \"" + std::string(key) + "\" is " + std::to_string(d) +
                           ", expected an integer");
  }
  return static_cast<int64_t>(d);
}

StatusOr<bool> JsonValue::GetBool(std::string_view key) const {
  const JsonValue* v = Find(key);
  if (!v || !v->is_bool()) return MemberError(key, v, "bool");
  return v->as_bool();
}

namespace {

class Parser {
 public:
  Parser(std::string_view text, const std::string& source, const JsonLimits& limits)
      : s_(text), source_(source), limits_(limits) {}

  Status Parse(JsonValue* out) {
    SkipWs();
    SLM_RETURN_IF_ERROR(Value(out, 0));
    SkipWs();
    if (pos_ != s_.size()) return Error("unexpected trailing characters");
    return Status::Ok();
  }

 private:
  Status Error(const std::string& what) const {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < pos_ && i < s_.size(); ++i) {
      if (s_[i] == '\n') { ++line; col = 1; } else { ++col; }
    }
    return FormatError(source_ + ": line " + std::to_string(line) + ", column " +
                       std::to_string(col) + ": " + what);
  }
  void SkipWs() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }
  bool Consume(std::string_view lit) {
    if (s_.substr(pos_, lit.size()) == lit) { pos_ += lit.size(); return true; }
    return false;
  }

  // `depth` = number of enclosing arrays/objects; at most kMaxDepth containers nest.
  Status Value(JsonValue* out, int depth) {
    if (pos_ >= s_.size()) return Error("unexpected end of input, expected a value");
    char c = s_[pos_];
    if ((c == '{' || c == '[') && depth >= JsonValue::kMaxDepth) {
      return Error("nesting deeper than " + std::to_string(JsonValue::kMaxDepth) + " levels");
    }
    if (++values_ > limits_.max_values) {
      Status e = Error("more than " + std::to_string(limits_.max_values) +
                       " values (JsonLimits::max_values)");
      return ResourceExhausted(e.message());
    }
    if (c == '{') return Object(out, depth);
    if (c == '[') return Array(out, depth);
    if (c == '"') {
      std::string str;
      SLM_RETURN_IF_ERROR(String(&str));
      *out = JsonValue::String(std::move(str));
      return Status::Ok();
    }
    if (Consume("true")) { *out = JsonValue::Bool(true); return Status::Ok(); }
    if (Consume("false")) { *out = JsonValue::Bool(false); return Status::Ok(); }
    if (Consume("null")) { *out = JsonValue::Null(); return Status::Ok(); }
    if (c == '-' || (c >= '0' && c <= '9')) return Number(out);
    return Error(std::string("unexpected character '") + c + "', expected a value");
  }

  Status Object(JsonValue* out, int depth) {
    *out = JsonValue::Object();
    ++pos_;
    SkipWs();
    if (Consume("}")) return Status::Ok();
    // A set, not Find(): vocab objects have 10^5 members, and a linear
    // duplicate check would make parsing quadratic.
    std::unordered_set<std::string> seen;
    while (true) {
      SkipWs();
      if (pos_ >= s_.size() || s_[pos_] != '"') return Error("expected a string key");
      std::string key;
      SLM_RETURN_IF_ERROR(String(&key));
      SkipWs();
      if (!Consume(":")) return Error("expected ':' after key");
      SkipWs();
      JsonValue v;
      SLM_RETURN_IF_ERROR(Value(&v, depth + 1));
      if (!seen.insert(key).second) return Error("duplicate key \"" + key + "\"");
      out->AddUnique(std::move(key), std::move(v));
      SkipWs();
      if (Consume("}")) return Status::Ok();
      if (!Consume(",")) return Error("expected ',' or '}' in object");
    }
  }

  Status Array(JsonValue* out, int depth) {
    *out = JsonValue::Array();
    ++pos_;
    SkipWs();
    if (Consume("]")) return Status::Ok();
    while (true) {
      SkipWs();
      JsonValue v;
      SLM_RETURN_IF_ERROR(Value(&v, depth + 1));
      out->Append(std::move(v));
      SkipWs();
      if (Consume("]")) return Status::Ok();
      if (!Consume(",")) return Error("expected ',' or ']' in array");
    }
  }

  Status Hex4(uint32_t* v) {
    if (pos_ + 4 > s_.size()) return Error("truncated \\u escape");
    *v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = s_[pos_++];
      int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10
              : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
      if (d < 0) return Error("bad hex digit in \\u escape");
      *v = *v * 16 + uint32_t(d);
    }
    return Status::Ok();
  }

  Status String(std::string* out) {
    ++pos_;  // opening quote
    while (true) {
      if (pos_ >= s_.size()) return Error("unterminated string");
      char c = s_[pos_];
      if (c == '"') { ++pos_; return Status::Ok(); }
      if (uint8_t(c) < 0x20) return Error("control character in string");
      if (c != '\\') {
        uint32_t cp = 0;
        size_t n = Utf8Decode(s_, pos_, &cp);
        if (n == 0) return Error("invalid UTF-8 in string");
        out->append(s_.substr(pos_, n));
        pos_ += n;
        continue;
      }
      ++pos_;
      if (pos_ >= s_.size()) return Error("unterminated escape");
      char e = s_[pos_++];
      switch (e) {
        case '"': *out += '"'; break;
        case '\\': *out += '\\'; break;
        case '/': *out += '/'; break;
        case 'b': *out += '\b'; break;
        case 'f': *out += '\f'; break;
        case 'n': *out += '\n'; break;
        case 'r': *out += '\r'; break;
        case 't': *out += '\t'; break;
        case 'u': {
          uint32_t cp = 0;
          SLM_RETURN_IF_ERROR(Hex4(&cp));
          if (cp >= 0xDC00 && cp <= 0xDFFF) return Error("lone low surrogate in \\u escape");
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t lo = 0;
            if (!Consume("\\u")) return Error("high surrogate not followed by \\u low surrogate");
            SLM_RETURN_IF_ERROR(Hex4(&lo));
            if (lo < 0xDC00 || lo > 0xDFFF) return Error("high surrogate followed by a non-low surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          AppendUtf8(out, cp);
          break;
        }
        default: return Error(std::string("bad escape '\\") + e + "'");
      }
    }
  }

  Status Number(JsonValue* out) {
    size_t start = pos_;
    if (s_[pos_] == '-') ++pos_;
    auto digits = [&] { size_t b = pos_; while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_; return pos_ - b; };
    if (pos_ < s_.size() && s_[pos_] == '0') {
      ++pos_;
    } else if (digits() == 0) {
      return Error("expected digits");
    }
    if (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      if (digits() == 0) return Error("expected digits after '.'");
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (digits() == 0) return Error("expected exponent digits");
    }
    std::string tok(s_.substr(start, pos_ - start));
    char* end = nullptr;
    double d = std::strtod(tok.c_str(), &end);
    if (end != tok.c_str() + tok.size()) return Error("bad number '" + tok + "'");
    if (!std::isfinite(d)) return Error("number '" + tok + "' out of range");
    *out = JsonValue::Number(d);
    return Status::Ok();
  }

  std::string_view s_;
  const std::string& source_;
  size_t pos_ = 0;
  const JsonLimits& limits_;
  size_t values_ = 0;
};

void AppendNumber(std::string* out, double d) {
  if (!std::isfinite(d)) {  // JSON has no NaN/Inf
    *out += "null";
    return;
  }
  if (d == std::floor(d) && std::fabs(d) < 9007199254740992.0) {
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", static_cast<long long>(d));
    *out += buf;
    return;
  }
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, d);  // shortest round-trip form
  out->append(buf, r.ptr);
}

}  // namespace

StatusOr<JsonValue> ParseJson(std::string_view text, const std::string& source,
                              const JsonLimits& limits) {
  JsonValue v;
  Parser p(text, source, limits);
  SLM_RETURN_IF_ERROR(p.Parse(&v));
  return v;
}

void AppendJsonString(std::string* out, std::string_view s) {
  static const char* kHex = "0123456789abcdef";
  *out += '"';
  for (char c : s) {
    switch (c) {
      case '"': *out += "\\\""; break;
      case '\\': *out += "\\\\"; break;
      case '\n': *out += "\\n"; break;
      case '\r': *out += "\\r"; break;
      case '\t': *out += "\\t"; break;
      default:
        if (uint8_t(c) < 0x20) {
          *out += "\\u00";
          *out += kHex[uint8_t(c) >> 4];
          *out += kHex[uint8_t(c) & 15];
        } else {
          *out += c;
        }
    }
  }
  *out += '"';
}

void JsonValue::DumpTo(std::string* out, int indent, int depth) const {
  auto newline = [&](int d) {
    if (indent > 0) {
      *out += '\n';
      out->append(size_t(indent * d), ' ');
    }
  };
  switch (type_) {
    case Type::kNull: *out += "null"; break;
    case Type::kBool: *out += bool_ ? "true" : "false"; break;
    case Type::kNumber: AppendNumber(out, number_); break;
    case Type::kString: AppendJsonString(out, string_); break;
    case Type::kArray:
      *out += '[';
      for (size_t i = 0; i < items_.size(); ++i) {
        if (i) *out += ',';
        newline(depth + 1);
        items_[i].DumpTo(out, indent, depth + 1);
      }
      if (!items_.empty()) newline(depth);
      *out += ']';
      break;
    case Type::kObject:
      *out += '{';
      for (size_t i = 0; i < members_.size(); ++i) {
        if (i) *out += ',';
        newline(depth + 1);
        AppendJsonString(out, members_[i].first);
        *out += indent > 0 ? ": " : ":";
        members_[i].second.DumpTo(out, indent, depth + 1);
      }
      if (!members_.empty()) newline(depth);
      *out += '}';
      break;
  }
}

std::string JsonValue::Dump() const {
  std::string s;
  DumpTo(&s, 0, 0);
  return s;
}

std::string JsonValue::DumpPretty() const {
  std::string s;
  DumpTo(&s, 2, 0);
  return s;
}

}  // namespace slm
