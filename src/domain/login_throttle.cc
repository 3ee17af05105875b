#include "domain/login_throttle.h"

#include <algorithm>
#include <functional>
#include <iterator>
#include <vector>

#include "common/digest.h"
#include "common/ip_address.h"

namespace hasivu::domain {

SlidingWindowCounter::SlidingWindowCounter(int max, std::chrono::seconds window,
                                           size_t max_keys_per_shard)
    : max_(std::max(max, 1)),
      window_(window),
      max_keys_per_shard_(std::max<size_t>(max_keys_per_shard, 2)) {}

SlidingWindowCounter::Shard& SlidingWindowCounter::ShardOf(std::string_view key) const {
  return shards_[std::hash<std::string_view>{}(key) % shards_.size()];
}

std::chrono::seconds SlidingWindowCounter::WaitLocked(const Shard& shard, const std::string& key,
                                                      ThrottleTime now) const {
  auto it = shard.keys.find(key);
  if (it == shard.keys.end()) return std::chrono::seconds(0);
  const std::deque<ThrottleTime>& times = it->second;
  const ThrottleTime cutoff = now - window_;
  // Failures inside the window, oldest first (the deque is in arrival order).
  auto first_inside =
      std::find_if(times.begin(), times.end(), [cutoff](ThrottleTime t) { return t > cutoff; });
  const auto inside = static_cast<int>(times.end() - first_inside);
  if (inside < max_) return std::chrono::seconds(0);
  // Blocked until enough failures leave the window to bring the count below max.
  const ThrottleTime frees_at = *(first_inside + (inside - max_)) + window_;
  auto wait = std::chrono::ceil<std::chrono::seconds>(frees_at - now);
  return std::max(wait, std::chrono::seconds(1));
}

std::chrono::seconds SlidingWindowCounter::RetryAfter(std::string_view key,
                                                      ThrottleTime now) const {
  Shard& shard = ShardOf(key);
  std::lock_guard<std::mutex> lock(shard.mu);
  return WaitLocked(shard, std::string(key), now);
}

std::chrono::seconds SlidingWindowCounter::TryReserve(std::string_view key, ThrottleTime now) {
  Shard& shard = ShardOf(key);
  const std::string k(key);
  std::lock_guard<std::mutex> lock(shard.mu);
  const std::chrono::seconds wait = WaitLocked(shard, k, now);
  if (wait.count() == 0) RecordLocked(shard, k, now);
  return wait;
}

void SlidingWindowCounter::Evict(Shard& shard, ThrottleTime now) {
  const ThrottleTime cutoff = now - window_;
  std::erase_if(shard.keys, [cutoff](const auto& kv) {
    return kv.second.empty() || kv.second.back() <= cutoff;
  });
  if (shard.keys.size() < max_keys_per_shard_) return;
  // A key at its limit is never dropped: else a flood of fresh keys (new emails, new /64s) would
  // flush a victim's lock-out. Only keys below the limit make room; blocked ones each cost `max_`
  // failures, so what they can add beyond the bound is paid for in full.
  const auto blocked = [this, cutoff](const std::deque<ThrottleTime>& times) {
    return times.size() >= static_cast<size_t>(max_) && times.front() > cutoff;
  };
  std::vector<ThrottleTime> last;
  last.reserve(shard.keys.size());
  for (const auto& kv : shard.keys) {
    if (!blocked(kv.second)) last.push_back(kv.second.back());
  }
  if (last.empty()) return;
  auto mid = last.begin() + static_cast<std::ptrdiff_t>(last.size() / 2);
  std::nth_element(last.begin(), mid, last.end());
  const ThrottleTime cut = *mid;
  std::erase_if(shard.keys,
                [&](const auto& kv) { return !blocked(kv.second) && kv.second.back() <= cut; });
}

void SlidingWindowCounter::Record(std::string_view key, ThrottleTime now) {
  Shard& shard = ShardOf(key);
  std::lock_guard<std::mutex> lock(shard.mu);
  RecordLocked(shard, std::string(key), now);
}

void SlidingWindowCounter::RecordLocked(Shard& shard, const std::string& key, ThrottleTime now) {
  auto it = shard.keys.find(key);
  if (it == shard.keys.end()) {
    if (shard.keys.size() >= max_keys_per_shard_) Evict(shard, now);
    it = shard.keys.emplace(key, std::deque<ThrottleTime>()).first;
  }
  std::deque<ThrottleTime>& times = it->second;
  const ThrottleTime cutoff = now - window_;
  while (!times.empty() && times.front() <= cutoff) times.pop_front();
  times.push_back(now);
  // Only the newest `max` instants can ever matter for the decision.
  while (times.size() > static_cast<size_t>(max_)) times.pop_front();
}

void SlidingWindowCounter::Release(std::string_view key, ThrottleTime at) {
  Shard& shard = ShardOf(key);
  std::lock_guard<std::mutex> lock(shard.mu);
  auto it = shard.keys.find(std::string(key));
  if (it == shard.keys.end()) return;
  std::deque<ThrottleTime>& times = it->second;
  // Newest first: the reservation is usually the last instant recorded.
  for (auto t = times.rbegin(); t != times.rend(); ++t) {
    if (*t == at) {
      times.erase(std::next(t).base());
      break;
    }
  }
  if (times.empty()) shard.keys.erase(it);
}

void SlidingWindowCounter::Clear(std::string_view key) {
  Shard& shard = ShardOf(key);
  std::lock_guard<std::mutex> lock(shard.mu);
  shard.keys.erase(std::string(key));
}

size_t SlidingWindowCounter::KeysForTest() const {
  size_t n = 0;
  for (const Shard& s : shards_) {
    std::lock_guard<std::mutex> lock(s.mu);
    n += s.keys.size();
  }
  return n;
}

LoginThrottle::LoginThrottle(ThrottleLimits limits, size_t max_keys_per_shard)
    : by_email_(limits.max_failures_per_email, limits.email_window, max_keys_per_shard),
      by_address_(limits.max_failures_per_address, limits.address_window, max_keys_per_shard) {}

std::chrono::seconds LoginThrottle::RetryAfter(std::string_view email, std::string_view address,
                                               ThrottleTime now) const {
  std::chrono::seconds wait = by_email_.RetryAfter(EmailThrottleKey(email), now);
  if (!address.empty()) {
    wait = std::max(wait, by_address_.RetryAfter(AddressThrottleKey(address), now));
  }
  return wait;
}

std::chrono::seconds LoginThrottle::TryAcquire(std::string_view email, std::string_view address,
                                               ThrottleTime now) {
  const std::string email_key = EmailThrottleKey(email);
  const std::chrono::seconds email_wait = by_email_.TryReserve(email_key, now);
  if (email_wait.count() > 0 || address.empty()) return email_wait;
  const std::chrono::seconds address_wait =
      by_address_.TryReserve(AddressThrottleKey(address), now);
  // Refused by the address: the email's reservation must not count against its owner.
  if (address_wait.count() > 0) by_email_.Release(email_key, now);
  return address_wait;
}

void LoginThrottle::RecordFailure(std::string_view email, std::string_view address,
                                  ThrottleTime now) {
  by_email_.Record(EmailThrottleKey(email), now);
  if (!address.empty()) by_address_.Record(AddressThrottleKey(address), now);
}

void LoginThrottle::Cancel(std::string_view email, std::string_view address,
                           ThrottleTime acquired_at) {
  by_email_.Release(EmailThrottleKey(email), acquired_at);
  if (!address.empty()) by_address_.Release(AddressThrottleKey(address), acquired_at);
}

void LoginThrottle::RecordSuccess(std::string_view email, std::string_view address,
                                  std::optional<ThrottleTime> acquired_at) {
  by_email_.Clear(EmailThrottleKey(email));
  if (!address.empty() && acquired_at)
    by_address_.Release(AddressThrottleKey(address), *acquired_at);
}

std::string EmailThrottleKey(std::string_view normalized_email) {
  // Half a SHA-256: collisions stay out of reach, and a key is 16 bytes whatever came in.
  const Sha256Digest digest = Sha256(normalized_email);
  return std::string(reinterpret_cast<const char*>(digest.data()), 16);
}

std::string AddressThrottleKey(std::string_view address) {
  return EmailThrottleKey(ClientKeyOfAddress(address));
}

}  // namespace hasivu::domain
