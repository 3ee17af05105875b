// Status and StatusOr<T>: how errors cross module boundaries (architecture decision 7).
//
// Shaped like absl::Status: a canonical code plus a human message. A Status is cheap to copy when
// OK (no allocation). Messages are for operators and logs unless marked as written for clients
// (a reason, ValidationError or ForClient()); the api/ layer sends only marked messages and a
// generic text for the code otherwise, so a message may name internals (a store's driver text)
// but must never carry secrets.
//
// Thread-safety: values; const methods may be called concurrently.
#ifndef HASIVU_COMMON_STATUS_H_
#define HASIVU_COMMON_STATUS_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace hasivu {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // bad input from a caller (-> 400)
  kNotFound,            // (-> 404)
  kAlreadyExists,       // unique constraint hit (-> 409)
  kFailedPrecondition,  // state does not allow the action (-> 409/422)
  kPermissionDenied,    // (-> 403)
  kUnauthenticated,     // (-> 401)
  kResourceExhausted,   // limits, rate limiting (-> 413/429)
  kAborted,             // concurrency conflict, retry may succeed (-> 409)
  kUnavailable,         // a backend cannot be reached (-> 503)
  kDeadlineExceeded,    // a timeout
  kInternal,            // broken invariant (-> 500)
  kUnimplemented,
};

std::string_view StatusCodeName(StatusCode code);

// One field-level validation problem: {"field":"items[2].quantity","issue":"must be 1-10"}.
struct FieldIssue {
  std::string field;
  std::string issue;
  friend bool operator==(const FieldIssue&, const FieldIssue&) = default;
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  // With a machine-readable reason: the API's UPPER_SNAKE error code for this failure
  // ("SOLD_OUT", "EMAIL_TAKEN"); api/ sends it instead of the code's default. A reason makes this
  // a client-facing error: the message is marked as written for clients (ForClient()).
  Status(StatusCode code, std::string message, std::string reason)
      : code_(code), message_(std::move(message)), reason_(std::move(reason)), for_client_(true) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // Empty unless set; see the constructor above.
  const std::string& reason() const { return reason_; }
  // Field-level validation problems (empty unless set).
  const std::vector<FieldIssue>& details() const;
  Status WithDetails(std::vector<FieldIssue> details) const;
  // "NOT_FOUND: user 42" (or "OK").
  std::string ToString() const;

  // Prefixes the message with context, keeping the code: "open db: <message>". The result is
  // operator text: it is no longer marked as written for clients.
  Status WithContext(std::string_view context) const;

  // The same Status with its message marked as written for clients: api/ may send it as the
  // error message. Only for text a domain or api/ author wrote for end users, naming no
  // internals; never for a message that carries a backend's or another service's text.
  Status ForClient() const;
  // True after ForClient(), and for statuses with a reason or from ValidationError. False for
  // everything else, including every status a store or cache builds from its driver.
  bool message_is_for_client() const { return for_client_; }

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_ && a.reason_ == b.reason_ &&
           a.details() == b.details();
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::string reason_;
  std::shared_ptr<const std::vector<FieldIssue>> details_;  // shared: copies stay cheap
  bool for_client_ = false;
};

// kInvalidArgument with field issues: 400 VALIDATION_ERROR with `details`. The message and the
// issues are written for clients (ForClient()).
inline Status ValidationError(std::string m, std::vector<FieldIssue> details) {
  return Status(StatusCode::kInvalidArgument, std::move(m))
      .WithDetails(std::move(details))
      .ForClient();
}
inline Status InvalidArgumentError(std::string m) {
  return {StatusCode::kInvalidArgument, std::move(m)};
}
inline Status NotFoundError(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status AlreadyExistsError(std::string m) {
  return {StatusCode::kAlreadyExists, std::move(m)};
}
inline Status FailedPreconditionError(std::string m) {
  return {StatusCode::kFailedPrecondition, std::move(m)};
}
inline Status PermissionDeniedError(std::string m) {
  return {StatusCode::kPermissionDenied, std::move(m)};
}
inline Status UnauthenticatedError(std::string m) {
  return {StatusCode::kUnauthenticated, std::move(m)};
}
inline Status ResourceExhaustedError(std::string m) {
  return {StatusCode::kResourceExhausted, std::move(m)};
}
inline Status AbortedError(std::string m) { return {StatusCode::kAborted, std::move(m)}; }
inline Status UnavailableError(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status DeadlineExceededError(std::string m) {
  return {StatusCode::kDeadlineExceeded, std::move(m)};
}
inline Status InternalError(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
inline Status UnimplementedError(std::string m) {
  return {StatusCode::kUnimplemented, std::move(m)};
}

// Either a T or a non-OK Status. REQUIRES: value() only when ok().
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(const T& value) : value_(value) {}             // NOLINT: implicit by design
  StatusOr(T&& value) : value_(std::move(value)) {}       // NOLINT
  StatusOr(Status status) : status_(std::move(status)) {  // NOLINT
    if (status_.ok()) status_ = InternalError("StatusOr constructed from OK status");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace hasivu

#define HASIVU_STATUS_CONCAT_INNER_(a, b) a##b
#define HASIVU_STATUS_CONCAT_(a, b) HASIVU_STATUS_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` (a Status) is not OK.
#define RETURN_IF_ERROR(expr)                        \
  do {                                               \
    ::hasivu::Status hasivu_status_ = (expr);        \
    if (!hasivu_status_.ok()) return hasivu_status_; \
  } while (false)

// ASSIGN_OR_RETURN(auto x, StatusOrExpr()): binds the value or returns the status.
#define ASSIGN_OR_RETURN(lhs, expr)                                    \
  auto HASIVU_STATUS_CONCAT_(hasivu_statusor_, __LINE__) = (expr);     \
  if (!HASIVU_STATUS_CONCAT_(hasivu_statusor_, __LINE__).ok())         \
    return HASIVU_STATUS_CONCAT_(hasivu_statusor_, __LINE__).status(); \
  lhs = std::move(HASIVU_STATUS_CONCAT_(hasivu_statusor_, __LINE__)).value()

#endif  // HASIVU_COMMON_STATUS_H_
