// Errors are values (DESIGN.md principle 4). Library code never throws, never
// exits: every fallible call returns a Status (code + message naming what was
// expected and what was found) or a StatusOr<T>.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace slm {

// Stable numeric codes: they cross the C ABI (include/slm/slm.h) unchanged.
enum class StatusCode : int {
  kOk = 0,
  kInvalidArgument = 1,   // caller passed something unusable (flag, prompt, id)
  kNotFound = 2,          // file, tensor or key absent
  kIoError = 3,           // the OS refused a read or write
  kFormatError = 4,       // bytes do not follow the documented format
  kUnsupported = 5,       // well-formed, but a feature we do not implement
  kOutOfRange = 6,        // a value exceeds a limit (context length, vocab)
  kIntegrityError = 7,    // a digest does not match its content
  kResourceExhausted = 8, // a size ceiling or memory budget would be exceeded
  kInternal = 9,          // our own bug
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "format error: <message>"
  std::string ToString() const;
  // Prepends context ("reading foo.slm: ") to the message; keeps the code.
  Status WithContext(const std::string& context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status IoError(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
inline Status FormatError(std::string m) { return {StatusCode::kFormatError, std::move(m)}; }
inline Status Unsupported(std::string m) { return {StatusCode::kUnsupported, std::move(m)}; }
inline Status OutOfRange(std::string m) { return {StatusCode::kOutOfRange, std::move(m)}; }
inline Status IntegrityError(std::string m) { return {StatusCode::kIntegrityError, std::move(m)}; }
inline Status ResourceExhausted(std::string m) { return {StatusCode::kResourceExhausted, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

// A value or the Status explaining why there is none.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  StatusOr(Status status) : v_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(v_).ok() && "StatusOr built from an OK status");
  }
  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(v_);
  }
  T& value() & { assert(ok()); return std::get<T>(v_); }
  const T& value() const& { assert(ok()); return std::get<T>(v_); }
  T&& value() && { assert(ok()); return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace slm

#define SLM_CONCAT_INNER(a, b) a##b
#define SLM_CONCAT(a, b) SLM_CONCAT_INNER(a, b)

#define SLM_RETURN_IF_ERROR(expr)              \
  do {                                         \
    ::slm::Status slm_status_ = (expr);        \
    if (!slm_status_.ok()) return slm_status_; \
  } while (0)

#define SLM_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()

// SLM_ASSIGN_OR_RETURN(auto x, Foo()); returns Foo()'s status on failure.
#define SLM_ASSIGN_OR_RETURN(lhs, expr) \
  SLM_ASSIGN_OR_RETURN_IMPL(SLM_CONCAT(slm_statusor_, __LINE__), lhs, expr)

// Asserts are for our own bugs only, never for input (principle 4).
#define SLM_CHECK(cond) assert(cond)
