// LoginThrottle: in-process sliding windows of failed logins (api.md auth-login): per normalised
// email (Default: 5 failures in 15 minutes) and per client address (Default: 30 failed attempts
// a minute). It needs no cache service; with several instances each counts its own traffic.
//
// A key is blocked while it has `max` failures inside the window; the wait returned is the real
// time until the oldest of those leaves the window (rounded up to whole seconds, at least 1).
// Memory is bounded: keys are stored as 16-byte digests of the email or address key (so a
// 64 KiB "email" costs what a short one costs), each key keeps at most `max` instants, each of 16
// shards at most `max_keys_per_shard` keys; a full shard first drops keys whose failures all
// left the window, then the keys with the oldest last failure.
//
// Addresses are counted by ClientKeyOfAddress() (common/ip_address.h): IPv4 as such, IPv6 by
// its /64, IPv4-mapped IPv6 as the IPv4 address.
//
// Check and record are one step (TryAcquire): the attempt is counted as a failure when it is
// let through, and given back by RecordSuccess(). So N concurrent attempts at a key with room
// for k let at most k through, instead of all N passing the check before any is recorded.
//
// Thread-safety: safe to use concurrently (one mutex per shard).
#ifndef HASIVU_DOMAIN_LOGIN_THROTTLE_H_
#define HASIVU_DOMAIN_LOGIN_THROTTLE_H_

#include <array>
#include <chrono>
#include <deque>
#include <mutex>
#include <optional>
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
  // RetryAfter() and, when that is zero, Record() under one lock.
  std::chrono::seconds TryReserve(std::string_view key, ThrottleTime now);
  void Record(std::string_view key, ThrottleTime now);
  // Forgets one instant `at` recorded for `key` (a reservation that turned out not to count).
  void Release(std::string_view key, ThrottleTime at);
  void Clear(std::string_view key);
  size_t KeysForTest() const;

 private:
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, std::deque<ThrottleTime>> keys;  // GUARDED_BY(mu)
  };
  Shard& ShardOf(std::string_view key) const;
  void Evict(Shard& shard, ThrottleTime now);
  // REQUIRES: the shard's mutex is held.
  std::chrono::seconds WaitLocked(const Shard& shard, const std::string& key,
                                  ThrottleTime now) const;
  void RecordLocked(Shard& shard, const std::string& key, ThrottleTime now);

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
  // address is not counted. A peek: use TryAcquire() to decide.
  std::chrono::seconds RetryAfter(std::string_view email, std::string_view address,
                                  ThrottleTime now) const;
  // Zero when the attempt may go ahead, which then counts as a failure of the email and the
  // address at `now` until RecordSuccess(email, address, now) gives it back; else the wait (and
  // nothing is counted). Atomic per key.
  std::chrono::seconds TryAcquire(std::string_view email, std::string_view address,
                                  ThrottleTime now);
  void RecordFailure(std::string_view email, std::string_view address, ThrottleTime now);
  // Gives back both slots TryAcquire() took at `acquired_at`: the attempt never got to check a
  // password (the database was down).
  void Cancel(std::string_view email, std::string_view address, ThrottleTime acquired_at);
  // A successful login clears the email's failures and, when `acquired_at` is the instant of its
  // TryAcquire(), returns that attempt's slot to the address (the address's other failures stay).
  void RecordSuccess(std::string_view email, std::string_view address = {},
                     std::optional<ThrottleTime> acquired_at = std::nullopt);

 private:
  SlidingWindowCounter by_email_;
  SlidingWindowCounter by_address_;
};

// The bounded counter key of a normalised email or a client address (a 16-byte digest; addresses
// through ClientKeyOfAddress first). For counters outside LoginThrottle that key on the same.
std::string EmailThrottleKey(std::string_view normalized_email);
std::string AddressThrottleKey(std::string_view address);

}  // namespace hasivu::domain

#endif  // HASIVU_DOMAIN_LOGIN_THROTTLE_H_
