// Status and Result<T>: how every fallible operation of VibeKit reports failure.
//
// The library runs inside someone else's agent process, so nothing throws across the public API:
// functions return a Status (code + message) or a Result<T> (a value or a non-OK Status).
// Codes name our real failure modes. kInvalidArgument is the description's "ValidationError";
// kBusy, kUnavailable, kDeadlineExceeded, kCorruption and kIoError are its "DatabaseError".
// kBusy / kUnavailable / kDeadlineExceeded mean "retrying later may help".
//
// Thread-safety: Status and Result are values; distinct objects may be used from any thread.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace vibekit {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // bad input from the caller: ValidationError
  kNotFound,            // the named object does not exist
  kFailedPrecondition,  // the call is not valid in the current state (not initialized, shut down)
  kBusy,                // the database is locked or the ingest queue is full; retry later
  kUnavailable,         // the store cannot be reached (cannot open, disk full, read-only)
  kDeadlineExceeded,    // the operation did not finish within its timeout
  kCorruption,          // the database file is damaged
  kIoError,             // an operating-system level read/write failure
  kInternal,            // a bug or an unexpected library failure
};

// Returns a stable lower-case name for `code` ("invalid_argument", "busy", ...).
std::string_view StatusCodeName(StatusCode code) noexcept;

class [[nodiscard]] Status {
 public:
  Status() noexcept = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() noexcept { return Status(); }
  static Status InvalidArgument(std::string msg) { return {StatusCode::kInvalidArgument, std::move(msg)}; }
  static Status NotFound(std::string msg) { return {StatusCode::kNotFound, std::move(msg)}; }
  static Status FailedPrecondition(std::string msg) {
    return {StatusCode::kFailedPrecondition, std::move(msg)};
  }
  static Status Busy(std::string msg) { return {StatusCode::kBusy, std::move(msg)}; }
  static Status Unavailable(std::string msg) { return {StatusCode::kUnavailable, std::move(msg)}; }
  static Status DeadlineExceeded(std::string msg) {
    return {StatusCode::kDeadlineExceeded, std::move(msg)};
  }
  static Status Corruption(std::string msg) { return {StatusCode::kCorruption, std::move(msg)}; }
  static Status IoError(std::string msg) { return {StatusCode::kIoError, std::move(msg)}; }
  static Status Internal(std::string msg) { return {StatusCode::kInternal, std::move(msg)}; }

  bool ok() const noexcept { return code_ == StatusCode::kOk; }
  StatusCode code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }

  // The description's ValidationError: the input was rejected and retrying it cannot help.
  bool IsValidationError() const noexcept { return code_ == StatusCode::kInvalidArgument; }
  // The description's DatabaseError: the store failed; the input itself was acceptable.
  bool IsDatabaseError() const noexcept;
  // True when the same call may succeed later without any change (busy, unavailable, timeout).
  bool IsRetryable() const noexcept;

  // "busy: database is locked" or "ok".
  std::string ToString() const;

  // Returns a copy whose message is "<context>: <message>"; OK stays OK.
  Status WithContext(std::string_view context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Holds either a T or a non-OK Status. Accessing value() of an error is a programmer error.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : status_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!status_.ok() && "Result<T> built from an OK status without a value");
    if (status_.ok()) { status_ = Status::Internal("Result built from OK status without a value");
}
  }

  bool ok() const noexcept { return value_.has_value(); }
  const Status& status() const noexcept { return status_; }

  T& value() & {
    assert(ok());
    return *value_;
  }
  const T& value() const& {
    assert(ok());
    return *value_;
  }
  T&& value() && {
    assert(ok());
    return std::move(*value_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  Status status_;  // OK exactly when value_ holds a value
  std::optional<T> value_;
};

}  // namespace vibekit

#define VK_STATUS_CONCAT_INNER_(a, b) a##b
#define VK_STATUS_CONCAT_(a, b) VK_STATUS_CONCAT_INNER_(a, b)

// Returns the Status of `expr` from the enclosing function when it is not OK.
#define VK_RETURN_IF_ERROR(expr)                         \
  do {                                                   \
    ::vibekit::Status vk_status_tmp_ = (expr);           \
    if (!vk_status_tmp_.ok()) return vk_status_tmp_;     \
  } while (false)

// `VK_ASSIGN_OR_RETURN(auto x, Foo());` declares x from Foo()'s value or returns its Status.
#define VK_ASSIGN_OR_RETURN(lhs, expr) \
  VK_ASSIGN_OR_RETURN_IMPL_(VK_STATUS_CONCAT_(vk_result_, __LINE__), lhs, expr)
#define VK_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()
