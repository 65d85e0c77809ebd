#include "flags.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace slm::cli {

StatusOr<Args> Args::Parse(const CommandSpec& spec, int argc, char** argv) {
  Args a;
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      a.help_ = true;
      continue;
    }
    if (arg.size() > 1 && arg[0] == '-' && !(arg[1] >= '0' && arg[1] <= '9')) {
      std::string name = arg, value;
      bool inline_value = false;
      if (size_t eq = arg.find('='); eq != std::string::npos && arg.rfind("--", 0) == 0) {
        name = arg.substr(0, eq);
        value = arg.substr(eq + 1);
        inline_value = true;
      }
      const FlagSpec* f = nullptr;
      for (const FlagSpec& s : spec.flags) {
        if (name == s.name) f = &s;
      }
      if (f == nullptr) {
        return InvalidArgument("unknown flag '" + name + "' for 'slm " + spec.name +
                               "' (see slm " + spec.name + " --help)");
      }
      if (f->value_name != nullptr && !inline_value) {
        if (i + 1 >= argc) return InvalidArgument("flag " + name + " needs a value " + f->value_name);
        value = argv[++i];
      } else if (f->value_name == nullptr && inline_value) {
        return InvalidArgument("flag " + name + " takes no value");
      }
      if (f->value_name == nullptr) value = "1";
      a.values_[name] = value;
      a.all_values_[name].push_back(value);
      continue;
    }
    a.positional_.push_back(arg);
  }
  if (a.help_) return a;
  int n = static_cast<int>(a.positional_.size());
  if (n < spec.min_positional || n > spec.max_positional) {
    return InvalidArgument("'slm " + std::string(spec.name) + "' expects " +
                           (spec.min_positional == spec.max_positional
                                ? std::to_string(spec.min_positional)
                                : std::to_string(spec.min_positional) + ".." +
                                      std::to_string(spec.max_positional)) +
                           " positional argument(s), got " + std::to_string(n) + " (usage: slm " +
                           spec.name + " " + spec.usage + ")");
  }
  return a;
}

std::string Args::Get(const std::string& name, const std::string& fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second;
}

std::vector<std::string> Args::GetAll(const std::string& name) const {
  auto it = all_values_.find(name);
  return it == all_values_.end() ? std::vector<std::string>{} : it->second;
}

StatusOr<int64_t> Args::GetInt(const std::string& name, int64_t fallback) const {
  if (!Has(name)) return fallback;
  std::string v = Get(name);
  errno = 0;
  char* end = nullptr;
  long long x = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || errno == ERANGE) {
    return InvalidArgument("flag " + name + ": expected an integer, found '" + v + "'");
  }
  return static_cast<int64_t>(x);
}

StatusOr<double> Args::GetDouble(const std::string& name, double fallback) const {
  if (!Has(name)) return fallback;
  std::string v = Get(name);
  char* end = nullptr;
  double x = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0' || !std::isfinite(x)) {
    return InvalidArgument("flag " + name + ": expected a number, found '" + v + "'");
  }
  return x;
}

std::string UsageText(const CommandSpec& spec) {
  std::string s = "usage: slm " + std::string(spec.name) + " " + spec.usage + "\n\n" +
                  spec.summary + "\n";
  if (!spec.flags.empty()) s += "\nflags:\n";
  for (const FlagSpec& f : spec.flags) {
    std::string left = std::string("  ") + f.name + (f.value_name ? std::string(" ") + f.value_name : "");
    if (left.size() < 24) left.resize(24, ' ');
    else left += "  ";
    s += left + f.help + "\n";
  }
  s += "  --help                help for this command\n";
  return s;
}

StatusOr<std::vector<int32_t>> ParseIdList(const std::string& s) {
  std::vector<int32_t> ids;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    std::string item = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    char* end = nullptr;
    errno = 0;
    long long v = std::strtoll(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || errno == ERANGE || v < 0 || v > INT32_MAX) {
      return InvalidArgument("token id list '" + s + "': element " + std::to_string(ids.size()) +
                             " is '" + item + "', expected a non-negative integer");
    }
    ids.push_back(static_cast<int32_t>(v));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return ids;
}

}  // namespace slm::cli
