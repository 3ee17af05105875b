// SessionStateCache: a small in-process cache of "is this session family still usable", so that
// checking an access token's sid normally costs no database round trip.
//
// Entries live `ttl` (Default: 5 s): a session revoked by another instance stops working here
// within that time; one revoked on this instance (logout, refresh-token reuse) is marked at once
// through MarkRevoked(). Memory is bounded: 16 shards of at most `max_entries_per_shard`; a full
// shard first drops expired entries, then the oldest half.
//
// Thread-safety: safe to use concurrently (one mutex per shard).
#ifndef HASIVU_DOMAIN_AUTH_SESSION_CACHE_H_
#define HASIVU_DOMAIN_AUTH_SESSION_CACHE_H_

#include <array>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace hasivu::domain {

class SessionStateCache {
 public:
  using SteadyTime = std::chrono::steady_clock::time_point;

  explicit SessionStateCache(std::chrono::milliseconds ttl = std::chrono::seconds(5),
                             size_t max_entries_per_shard = 8192);

  // The cached state of `family_id` (true = usable), or nullopt when unknown or stale.
  std::optional<bool> Get(std::string_view family_id, SteadyTime now) const;
  void Put(std::string_view family_id, bool usable, SteadyTime now);
  // Marks the family unusable for `ttl` from now (revocation on this instance).
  void MarkRevoked(std::string_view family_id, SteadyTime now);

  size_t SizeForTest() const;

 private:
  struct Entry {
    bool usable = false;
    SteadyTime expires;
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, Entry> entries;  // GUARDED_BY(mu)
  };
  Shard& ShardOf(std::string_view key) const;

  std::chrono::milliseconds ttl_;
  size_t max_entries_per_shard_;
  mutable std::array<Shard, 16> shards_;
};

}  // namespace hasivu::domain

#endif  // HASIVU_DOMAIN_AUTH_SESSION_CACHE_H_
