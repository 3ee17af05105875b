#include "domain/login_throttle.h"

#include <algorithm>
#include <functional>
#include <vector>

namespace hasivu::domain {

SlidingWindowCounter::SlidingWindowCounter(int max, std::chrono::seconds window,
                                           size_t max_keys_per_shard)
    : max_(std::max(max, 1)),
      window_(window),
      max_keys_per_shard_(std::max<size_t>(max_keys_per_shard, 2)) {}

SlidingWindowCounter::Shard& SlidingWindowCounter::ShardOf(std::string_view key) const {
  return shards_[std::hash<std::string_view>{}(key) % shards_.size()];
}

std::chrono::seconds SlidingWindowCounter::RetryAfter(std::string_view key,
                                                      ThrottleTime now) const {
  Shard& shard = ShardOf(key);
  std::lock_guard<std::mutex> lock(shard.mu);
  auto it = shard.keys.find(std::string(key));
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

void SlidingWindowCounter::Evict(Shard& shard, ThrottleTime now) {
  const ThrottleTime cutoff = now - window_;
  std::erase_if(shard.keys, [cutoff](const auto& kv) {
    return kv.second.empty() || kv.second.back() <= cutoff;
  });
  if (shard.keys.size() < max_keys_per_shard_) return;
  std::vector<ThrottleTime> last;
  last.reserve(shard.keys.size());
  for (const auto& kv : shard.keys) last.push_back(kv.second.back());
  auto mid = last.begin() + static_cast<std::ptrdiff_t>(last.size() / 2);
  std::nth_element(last.begin(), mid, last.end());
  const ThrottleTime cut = *mid;
  std::erase_if(shard.keys, [cut](const auto& kv) { return kv.second.back() <= cut; });
}

void SlidingWindowCounter::Record(std::string_view key, ThrottleTime now) {
  Shard& shard = ShardOf(key);
  std::lock_guard<std::mutex> lock(shard.mu);
  auto it = shard.keys.find(std::string(key));
  if (it == shard.keys.end()) {
    if (shard.keys.size() >= max_keys_per_shard_) Evict(shard, now);
    it = shard.keys.emplace(std::string(key), std::deque<ThrottleTime>()).first;
  }
  std::deque<ThrottleTime>& times = it->second;
  const ThrottleTime cutoff = now - window_;
  while (!times.empty() && times.front() <= cutoff) times.pop_front();
  times.push_back(now);
  // Only the newest `max` instants can ever matter for the decision.
  while (times.size() > static_cast<size_t>(max_)) times.pop_front();
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
  std::chrono::seconds wait = by_email_.RetryAfter(email, now);
  if (!address.empty()) wait = std::max(wait, by_address_.RetryAfter(address, now));
  return wait;
}

void LoginThrottle::RecordFailure(std::string_view email, std::string_view address,
                                  ThrottleTime now) {
  by_email_.Record(email, now);
  if (!address.empty()) by_address_.Record(address, now);
}

void LoginThrottle::RecordSuccess(std::string_view email) { by_email_.Clear(email); }

}  // namespace hasivu::domain
