// Command-line flags, declared once per command: name, value placeholder and
// help text drive parsing, --help output and error messages alike.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/status.h"

namespace slm::cli {

struct FlagSpec {
  const char* name;        // "--temp" (or "-n")
  const char* value_name;  // "T"; nullptr for a boolean switch
  const char* help;
};

struct CommandSpec {
  const char* name;         // "generate"
  const char* usage;        // "PKG [--prompt STR | --prompt-ids 1,2,3] ..."
  const char* summary;      // one line
  int min_positional;
  int max_positional;
  std::vector<FlagSpec> flags;
};

class Args {
 public:
  // Parses argv (after the command name). --help is handled by the caller via help().
  static StatusOr<Args> Parse(const CommandSpec& spec, int argc, char** argv);

  bool help() const { return help_; }
  const std::vector<std::string>& positional() const { return positional_; }
  bool Has(const std::string& name) const { return values_.count(name) > 0; }
  std::string Get(const std::string& name, const std::string& fallback = "") const;
  // Every value of a repeatable flag, in command-line order (Get returns the last).
  std::vector<std::string> GetAll(const std::string& name) const;
  // Typed getters: InvalidArgument naming the flag and the bad value.
  StatusOr<int64_t> GetInt(const std::string& name, int64_t fallback) const;
  StatusOr<double> GetDouble(const std::string& name, double fallback) const;

 private:
  bool help_ = false;
  std::vector<std::string> positional_;
  std::map<std::string, std::string> values_;
  std::map<std::string, std::vector<std::string>> all_values_;
};

std::string UsageText(const CommandSpec& spec);

// "1,2,3" -> {1,2,3}; errors name the bad element.
StatusOr<std::vector<int32_t>> ParseIdList(const std::string& s);

}  // namespace slm::cli
