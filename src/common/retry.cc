#include "common/retry.h"

#include <sodium.h>

#include <cstdint>
#include <thread>

namespace hasivu {

std::chrono::milliseconds RetryBackoff(const RetryPolicy& policy, int retry_index) {
  std::chrono::milliseconds wait = policy.initial_backoff;
  for (int i = 0; i < retry_index && wait < policy.max_backoff; ++i) wait *= 2;
  return std::min(wait, policy.max_backoff);
}

namespace retry_internal {

bool WaitBeforeNext(const RetryPolicy& policy, int attempt, const RetryHooks& hooks) {
  std::chrono::milliseconds wait = RetryBackoff(policy, attempt);
  if (policy.jitter > 0 && wait.count() > 0) {
    const double fraction = hooks.random_fraction
                                ? hooks.random_fraction()
                                : static_cast<double>(randombytes_uniform(1u << 30)) / (1u << 30);
    const double keep = 1.0 - std::clamp(policy.jitter, 0.0, 1.0) * fraction;
    wait =
        std::chrono::milliseconds(static_cast<int64_t>(static_cast<double>(wait.count()) * keep));
  }
  if (policy.deadline) {
    const auto now = hooks.now ? hooks.now() : std::chrono::steady_clock::now();
    if (now + wait >= *policy.deadline) return false;
  }
  if (wait.count() > 0) {
    if (hooks.sleep) {
      hooks.sleep(wait);
    } else {
      std::this_thread::sleep_for(wait);
    }
  }
  return true;
}

}  // namespace retry_internal
}  // namespace hasivu
