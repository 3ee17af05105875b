// Retry: runs an operation until it succeeds, fails in a way that is not worth retrying, runs out
// of attempts or would pass its deadline, with exponential backoff and optional jitter between
// attempts. One helper for every retry loop (gateway calls, transactions that lost a race).
//
//   RetryPolicy policy{.max_attempts = 3, .initial_backoff = 200ms};
//   StatusOr<Answer> a = Retry<Answer>(policy, [&](int attempt) { return SendOnce(); },
//                                      [](const Status& s) { return IsTransient(s); });
//
// Thread-safety: a pure function of its arguments; the hooks run on the caller's thread.
#ifndef HASIVU_COMMON_RETRY_H_
#define HASIVU_COMMON_RETRY_H_

#include <algorithm>
#include <chrono>
#include <functional>
#include <optional>
#include <utility>

#include "common/status.h"

namespace hasivu {

struct RetryPolicy {
  // Attempts in all, the first included. Values below 1 mean 1.
  int max_attempts = 1;
  // The wait before the second attempt; each further wait doubles, up to max_backoff.
  std::chrono::milliseconds initial_backoff{0};
  std::chrono::milliseconds max_backoff{std::chrono::seconds(30)};
  // 0..1: each wait is drawn uniformly from [wait * (1 - jitter), wait], so that many callers
  // failing together do not retry together. 0: exact waits.
  double jitter = 0.0;
  // No attempt starts after this instant (steady clock); nullopt: no deadline.
  std::optional<std::chrono::steady_clock::time_point> deadline = std::nullopt;
};

// How Retry waits and draws jitter; tests replace them to run without sleeping.
struct RetryHooks {
  std::function<void(std::chrono::milliseconds)> sleep = nullptr;  // default: sleep_for
  std::function<double()> random_fraction = nullptr;               // in [0, 1); default: libsodium
  std::function<std::chrono::steady_clock::time_point()> now = nullptr;  // default: steady now
};

// The waits before attempts 2, 3, ... of `policy`, without jitter (exposed for tests).
std::chrono::milliseconds RetryBackoff(const RetryPolicy& policy, int retry_index);

namespace retry_internal {
// Waits before the attempt after `attempt` (0-based), unless the deadline would pass: then
// false. Defined in retry.cc.
bool WaitBeforeNext(const RetryPolicy& policy, int attempt, const RetryHooks& hooks);
}  // namespace retry_internal

// Calls attempt(n) for n = 0, 1, ... and returns its first result that is OK, that `retryable`
// refuses, or the last one when attempts or time run out. `attempt` returns StatusOr<T>.
template <typename T, typename Attempt, typename Retryable>
StatusOr<T> Retry(const RetryPolicy& policy, Attempt&& attempt, Retryable&& retryable,
                  const RetryHooks& hooks = {}) {
  const int attempts = std::max(1, policy.max_attempts);
  for (int n = 0;; ++n) {
    StatusOr<T> result = attempt(n);
    if (result.ok() || !retryable(result.status()) || n + 1 >= attempts) return result;
    if (!retry_internal::WaitBeforeNext(policy, n, hooks)) return result;
  }
}

// The same for operations that return a Status.
template <typename Attempt, typename Retryable>
Status RetryStatus(const RetryPolicy& policy, Attempt&& attempt, Retryable&& retryable,
                   const RetryHooks& hooks = {}) {
  const int attempts = std::max(1, policy.max_attempts);
  for (int n = 0;; ++n) {
    Status result = attempt(n);
    if (result.ok() || !retryable(result) || n + 1 >= attempts) return result;
    if (!retry_internal::WaitBeforeNext(policy, n, hooks)) return result;
  }
}

}  // namespace hasivu

#endif  // HASIVU_COMMON_RETRY_H_
