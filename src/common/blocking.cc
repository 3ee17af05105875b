#include "common/blocking.h"

#include <utility>

namespace hasivu {
namespace {

thread_local NonBlockingAttempt* current_attempt = nullptr;
thread_local RetryAfterRefusal* current_retry = nullptr;

}  // namespace

NonBlockingAttempt::NonBlockingAttempt() : outer_(current_attempt) { current_attempt = this; }

NonBlockingAttempt::~NonBlockingAttempt() { current_attempt = outer_; }

bool RefuseToBlock(const char* who, std::string_view detail) {
  NonBlockingAttempt* attempt = current_attempt;
  if (attempt == nullptr) return false;
  if (attempt->refused_by_ == nullptr) {
    attempt->refused_by_ = who;
    attempt->detail_ = detail;
  }
  return true;
}

RetryAfterRefusal::RetryAfterRefusal(const char* refused_by, std::string detail)
    : outer_(current_retry), refused_by_(refused_by), detail_(std::move(detail)) {
  current_retry = this;
}

RetryAfterRefusal::~RetryAfterRefusal() { current_retry = outer_; }

bool RetryingAfter(const char* who, std::string_view detail) {
  const RetryAfterRefusal* retry = current_retry;
  return retry != nullptr && retry->refused_by_ == who && retry->detail_ == detail;
}

}  // namespace hasivu
