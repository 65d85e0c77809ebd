// A small JSON reader and writer (RFC 8259). The reader builds a tree of
// JsonValue; it bounds nesting depth (kMaxDepth) so hostile input cannot
// overflow the stack, rejects invalid UTF-8 and lone surrogates, and reports
// errors as "<source>: line L, column C: ...". Object member order is kept.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace slm {

class JsonValue {
 public:
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };
  static constexpr int kMaxDepth = 256;

  JsonValue() = default;
  static JsonValue Null() { return JsonValue(); }
  static JsonValue Bool(bool b);
  static JsonValue Number(double d);
  static JsonValue String(std::string s);
  static JsonValue Array();
  static JsonValue Object();

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_bool() const { return type_ == Type::kBool; }
  bool is_number() const { return type_ == Type::kNumber; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_object() const { return type_ == Type::kObject; }

  bool as_bool() const { return bool_; }
  double as_number() const { return number_; }
  const std::string& as_string() const { return string_; }
  const std::vector<JsonValue>& items() const { return items_; }       // array
  const std::vector<std::pair<std::string, JsonValue>>& members() const { return members_; }  // object
  size_t size() const { return is_array() ? items_.size() : members_.size(); }

  // Object lookup; nullptr if absent or not an object.
  const JsonValue* Find(std::string_view key) const;
  // Mutators for building documents.
  JsonValue& Append(JsonValue v);                      // array
  JsonValue& Set(std::string key, JsonValue v);        // object (replaces)
  // Object append without the duplicate search; the caller guarantees `key`
  // is not present yet (the parser checks with a hash set).
  JsonValue& AddUnique(std::string key, JsonValue v);

  // Typed member access with errors naming the key and the found type.
  StatusOr<std::string> GetString(std::string_view key) const;
  StatusOr<double> GetNumber(std::string_view key) const;
  StatusOr<int64_t> GetInt(std::string_view key) const;  // must be integral
  StatusOr<bool> GetBool(std::string_view key) const;

  // Compact serialisation; numbers use the shortest form that round-trips.
  std::string Dump() const;
  // Indented serialisation (2 spaces).
  std::string DumpPretty() const;

 private:
  void DumpTo(std::string* out, int indent, int depth) const;
  Type type_ = Type::kNull;
  bool bool_ = false;
  double number_ = 0;
  std::string string_;
  std::vector<JsonValue> items_;
  std::vector<std::pair<std::string, JsonValue>> members_;
};

const char* JsonTypeName(JsonValue::Type t);

// Resource ceilings for ParseJson. Each value costs sizeof(JsonValue) (96
// bytes) and takes as little as 2 input bytes ("0,"), so without a ceiling a
// 100 MB safetensors header of "[0,0,...]" would build a ~4.8 GB tree.
// Llama 3's tokenizer.json has ~0.4 M values.
struct JsonLimits {
  size_t max_values = size_t{1} << 22;  // values of any kind, containers included
};

// Parses a whole document (trailing whitespace only). `source` names it in
// errors. More than limits.max_values values -> ResourceExhausted.
StatusOr<JsonValue> ParseJson(std::string_view text, const std::string& source = "json",
                              const JsonLimits& limits = {});

// Appends s as a JSON string literal (quoted, escaped) to *out.
void AppendJsonString(std::string* out, std::string_view s);

}  // namespace slm
