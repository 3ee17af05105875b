// A thread's deadline for the work it does on behalf of one request. Code that waits on another
// system (a database round trip, a wait for a pooled connection, a connect) stops waiting when
// the deadline passes and fails the call instead, so that no request is held past it: a client
// gets an answer (503, retry) instead of a hang when a backend goes silent.
//
// The HTTP server sets one around each handler (http::ServerSettings::request_deadline); work
// outside any scope (start-up, migrations, background jobs) has none.
//
// Thread-safety: per thread; a scope may not be moved to another thread. An inner scope can only
// make the deadline earlier: a later one leaves the outer one in force until it ends.
#ifndef HASIVU_COMMON_DEADLINE_H_
#define HASIVU_COMMON_DEADLINE_H_

#include <chrono>
#include <optional>

namespace hasivu {

class ScopedDeadline {
 public:
  explicit ScopedDeadline(std::chrono::steady_clock::time_point at);
  ~ScopedDeadline();
  ScopedDeadline(const ScopedDeadline&) = delete;
  ScopedDeadline& operator=(const ScopedDeadline&) = delete;

 private:
  std::optional<std::chrono::steady_clock::time_point> outer_;
};

// The calling thread's deadline, or nullopt outside every ScopedDeadline.
std::optional<std::chrono::steady_clock::time_point> CurrentDeadline();

// The earlier of CurrentDeadline() and `bound` (either may be absent).
std::optional<std::chrono::steady_clock::time_point> EarlierDeadline(
    std::optional<std::chrono::steady_clock::time_point> bound);

}  // namespace hasivu

#endif  // HASIVU_COMMON_DEADLINE_H_
