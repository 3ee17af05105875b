// A thread's promise not to block, for work tried first where waiting is not allowed (an HTTP
// I/O thread answering a cached read before handing the request to the blocking pool).
//
// Inside a NonBlockingAttempt, code that would wait (for a pooled database connection, a Redis
// round trip, another caller's load) calls RefuseToBlock() first: true means "fail this call now
// and do nothing more", and marks the attempt refused. The attempt's owner then discards what the
// work produced and runs it again where blocking is allowed, inside a RetryAfterRefusal naming
// who refused and about what (a cache key), so that the refuser can skip what the attempt
// already did (the lookup of that key that missed, which would otherwise be counted twice).
// Work that runs in an attempt must have no effect before its first RefuseToBlock() call that it
// would not also have on the retry.
//
// Outside an attempt RefuseToBlock() is false and costs a thread-local read.
//
// Thread-safety: both scopes are per thread; they may not be moved to another thread, and an
// inner scope of the same kind shadows the outer one until it ends.
#ifndef HASIVU_COMMON_BLOCKING_H_
#define HASIVU_COMMON_BLOCKING_H_

#include <string>
#include <string_view>

namespace hasivu {

class NonBlockingAttempt {
 public:
  NonBlockingAttempt();
  ~NonBlockingAttempt();
  NonBlockingAttempt(const NonBlockingAttempt&) = delete;
  NonBlockingAttempt& operator=(const NonBlockingAttempt&) = delete;

  bool refused() const { return refused_by_ != nullptr; }
  // The first refuser's name (a string literal) and what it refused, or nullptr and "".
  const char* refused_by() const { return refused_by_; }
  const std::string& refused_detail() const { return detail_; }

 private:
  friend bool RefuseToBlock(const char* who, std::string_view detail);
  NonBlockingAttempt* outer_;
  const char* refused_by_ = nullptr;
  std::string detail_;
};

// True inside a NonBlockingAttempt on this thread (which is then refused, by `who`, a string
// literal compared by address, about `detail`, unless refused already); false elsewhere.
bool RefuseToBlock(const char* who, std::string_view detail = {});

// The run of work whose attempt `refused_by` refused about `detail`.
class RetryAfterRefusal {
 public:
  RetryAfterRefusal(const char* refused_by, std::string detail);
  ~RetryAfterRefusal();
  RetryAfterRefusal(const RetryAfterRefusal&) = delete;
  RetryAfterRefusal& operator=(const RetryAfterRefusal&) = delete;

 private:
  friend bool RetryingAfter(const char* who, std::string_view detail);
  RetryAfterRefusal* outer_;
  const char* refused_by_;
  std::string detail_;
};

// Whether this thread is in a RetryAfterRefusal whose attempt `who` refused about `detail`.
bool RetryingAfter(const char* who, std::string_view detail);

}  // namespace hasivu

#endif  // HASIVU_COMMON_BLOCKING_H_
