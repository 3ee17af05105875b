#include "domain/auth_session_cache.h"

#include <algorithm>
#include <functional>
#include <vector>

namespace hasivu::domain {

SessionStateCache::SessionStateCache(std::chrono::milliseconds ttl, size_t max_entries_per_shard)
    : ttl_(ttl), max_entries_per_shard_(std::max<size_t>(max_entries_per_shard, 2)) {}

SessionStateCache::Shard& SessionStateCache::ShardOf(std::string_view key) const {
  return shards_[std::hash<std::string_view>{}(key) % shards_.size()];
}

std::optional<bool> SessionStateCache::Get(std::string_view family_id, SteadyTime now) const {
  Shard& shard = ShardOf(family_id);
  std::lock_guard<std::mutex> lock(shard.mu);
  auto it = shard.entries.find(std::string(family_id));
  if (it == shard.entries.end() || it->second.expires <= now) return std::nullopt;
  return it->second.usable;
}

void SessionStateCache::Put(std::string_view family_id, bool usable, SteadyTime now) {
  Shard& shard = ShardOf(family_id);
  std::lock_guard<std::mutex> lock(shard.mu);
  if (shard.entries.size() >= max_entries_per_shard_ &&
      shard.entries.find(std::string(family_id)) == shard.entries.end()) {
    std::erase_if(shard.entries, [now](const auto& kv) { return kv.second.expires <= now; });
    if (shard.entries.size() >= max_entries_per_shard_) {
      // All fresh: keep the younger half. A dropped entry only costs one database check later.
      std::vector<SteadyTime> times;
      times.reserve(shard.entries.size());
      for (const auto& kv : shard.entries) times.push_back(kv.second.expires);
      auto mid = times.begin() + static_cast<std::ptrdiff_t>(times.size() / 2);
      std::nth_element(times.begin(), mid, times.end());
      const SteadyTime cut = *mid;
      std::erase_if(shard.entries, [cut](const auto& kv) { return kv.second.expires <= cut; });
    }
  }
  shard.entries[std::string(family_id)] = Entry{usable, now + ttl_};
}

void SessionStateCache::MarkRevoked(std::string_view family_id, SteadyTime now) {
  Put(family_id, false, now);
}

size_t SessionStateCache::SizeForTest() const {
  size_t n = 0;
  for (const Shard& s : shards_) {
    std::lock_guard<std::mutex> lock(s.mu);
    n += s.entries.size();
  }
  return n;
}

}  // namespace hasivu::domain
