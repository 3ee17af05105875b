// LoginThrottle: in-process sliding windows of failed logins (api.md auth-login): per normalised
// email (Default: 5 failures in 15 minutes) and per client address (Default: 30 failed attempts
// a minute). It needs no cache service; with several instances each counts its own traffic.
//
// A key is blocked while it has `max` failures inside the window; the wait returned is the real
// time until the oldest of those leaves the window (rounded up to whole seconds, at least 1).
// Memory is bounded: each key keeps at most `max` instants, each of 16 shards at most
// `max_keys_per_shard` keys; a full shard first drops keys whose failures all left the window,
// then the keys with the oldest last failure.
//
// Thread-safety: safe to use concurrently (one mutex per shard).
#ifndef HASIVU_DOMAIN_LOGIN_THROTTLE_H_
#define HASIVU_DOMAIN_LOGIN_THROTTLE_H_

#include <array>
#include <chrono>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace hasivu::domain {

using ThrottleTime = std::chrono::system_clock::time_point;

// Failures per key in a sliding window.
class SlidingWindowCounter {
 public:
  SlidingWindowCounter(int max, std::chrono::seconds window, size_t max_keys_per_shard = 8192);

  // Zero when `key` may try now, else how long it must wait.
  std::chrono::seconds RetryAfter(std::string_view key, ThrottleTime now) const;
  void Record(std::string_view key, ThrottleTime now);
  void Clear(std::string_view key);
  size_t KeysForTest() const;

 private:
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, std::deque<ThrottleTime>> keys;  // GUARDED_BY(mu)
  };
  Shard& ShardOf(std::string_view key) const;
  void Evict(Shard& shard, ThrottleTime now);

  int max_;
  std::chrono::seconds window_;
  size_t max_keys_per_shard_;
  mutable std::array<Shard, 16> shards_;
};

struct ThrottleLimits {
  int max_failures_per_email = 5;
  std::chrono::seconds email_window{15 * 60};
  int max_failures_per_address = 30;
  std::chrono::seconds address_window{60};
};

class LoginThrottle {
 public:
  explicit LoginThrottle(ThrottleLimits limits, size_t max_keys_per_shard = 8192);

  // Zero when a login for (email, address) may be attempted now, else the wait. An empty
  // address is not counted.
  std::chrono::seconds RetryAfter(std::string_view email, std::string_view address,
                                  ThrottleTime now) const;
  void RecordFailure(std::string_view email, std::string_view address, ThrottleTime now);
  // A successful login clears the email's failures (not the address's).
  void RecordSuccess(std::string_view email);

 private:
  SlidingWindowCounter by_email_;
  SlidingWindowCounter by_address_;
};

}  // namespace hasivu::domain

#endif  // HASIVU_DOMAIN_LOGIN_THROTTLE_H_
