// Cache: the key -> bytes store in front of the database (architecture decision 4).
//
// Overview
//   A Cache maps a string key to an immutable byte value with a time to live and a set of tags.
//   Three backends share this interface:
//     NewMemoryCache  (memory/memory_cache.h)  in-process, sharded, bounded by bytes;
//     NewRedisCache   (redis/redis_cache.h)    Redis through hiredis, pooled, circuit breaker;
//     NewTieredCache  (tiered_cache.h)         an in-process L1 in front of a shared L2.
//   Cache-aside with single-flight lives above the interface in CacheAside (cache_aside.h): read
//   code should use CacheAside::GetOrLoad, not Get/Set directly.
//
// Invalidation that is never stale
//   Every key, every tag and the cache as a whole ("pattern") have a generation number. A Stamp
//   records the generations that matter for one (key, tags) pair at one instant. SetIfCurrent
//   stores a value only if none of those generations moved since the stamp was taken; a value
//   read from the database AFTER stamping therefore can never be cached once a writer has
//   invalidated any of its tags, key or a matching pattern in the meantime:
//       stamp = cache.StampFor(key, tags);   // 1. before reading the database
//       value = load();                      // 2. may see the old state
//       cache.SetIfCurrent(key, value, ttl, tags, stamp);  // 3. dropped if a write intervened
//   Writers commit first, then call InvalidateTags / Delete / InvalidatePattern; when that call
//   returns, no later Get on this Cache object returns a value written before it (per-backend
//   and cross-process guarantees are stated in the backend headers).
//
// Wiring (app/ and api/)
//   --cache memory:           NewMemoryCache({.registry = &registry})
//   --cache redis://h:p/db:   ParseRedisUrl(url) -> set .registry (and .key_prefix per
//                             deployment) -> NewTieredRedisCache({.registry = &registry}, redis)
//   One CacheAside over it per process (cache_aside.h). A read endpoint caches
//   EncodeCachedBody(etag, body) (cached_body.h) under a key naming the route, its canonical
//   query and the caller's scope, e.g. "orders:list:u=7:page=1:limit=20", with the tags of
//   everything it shows ("user:7:orders", "school:3:orders", "order:<id>" ...) and the TTL of
//   its kind (ttl.h). Compressed variants: DerivedKey(key, "br") with the same tags. A write
//   endpoint, after its transaction commits, calls InvalidateTags with the tags of what it
//   changed. Health() and Stats() feed the monitoring dashboard; /metrics gets hasivu_cache_*.
//
// Errors: every failure is a Status (kInvalidArgument for bad keys/tags/ttl, kUnavailable or
// kDeadlineExceeded for a backend that cannot be reached); nothing throws and no call blocks
// longer than the backend's configured timeouts.
//
// Thread-safety: every method of every implementation may be called concurrently.
#ifndef HASIVU_CACHE_CACHE_H_
#define HASIVU_CACHE_CACHE_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace hasivu::cache {

using Tags = std::vector<std::string>;
using ValuePtr = std::shared_ptr<const std::string>;

// Limits checked by every backend (kInvalidArgument beyond them).
inline constexpr size_t kMaxKeyBytes = 1024;
inline constexpr size_t kMaxTagBytes = 256;
inline constexpr size_t kMaxTagsPerEntry = 32;

// A hit. `value` is shared and immutable: keep it as long as needed, never cast constness away.
struct Entry {
  ValuePtr value;
  // Time left before the entry expires, when the backend knows it.
  std::optional<std::chrono::milliseconds> ttl_left;
  // The tags the entry was stored with.
  Tags tags;
};

// Generations of one (key, tags) pair at one instant. Opaque: only meaningful to the Cache that
// made it (and equal stamps mean "no invalidation in between").
struct Stamp {
  std::vector<uint64_t> generations;
  std::string token;  // backend-defined (Redis: the namespace epoch); empty if none
  // Number of invalidations this backend had applied, read AFTER `generations` (0 if the backend
  // does not count them). A tiered cache uses it to detect invalidations racing an L1 fill.
  uint64_t sequence = 0;
  std::vector<Stamp> tiers;  // a tiered cache's per-tier stamps
  bool valid = true;         // false: the backend could not be asked; SetIfCurrent stores nothing
  friend bool operator==(const Stamp&, const Stamp&) = default;
};

// Counters of one tier since it was created (the same numbers are exported at /metrics).
struct TierStats {
  std::string tier;  // "memory", "redis", "l1", "l2"
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t errors = 0;         // backend failures (each also a miss or a dropped write)
  uint64_t sets = 0;           // values stored
  uint64_t stale_sets = 0;     // SetIfCurrent calls dropped because a generation moved
  uint64_t evictions = 0;      // removed for space or expiry (not invalidations)
  uint64_t invalidations = 0;  // Delete / InvalidateTags / InvalidatePattern / Clear calls
  int64_t keys = -1;           // entries held now; -1 when the tier cannot tell (Redis)
  int64_t bytes = -1;          // bytes charged now; -1 when the tier cannot tell
  double HitRate() const {
    return hits + misses == 0 ? 0.0
                              : static_cast<double>(hits) / static_cast<double>(hits + misses);
  }
};

struct CacheStats {
  std::vector<TierStats> tiers;  // outermost first
};

struct CacheHealth {
  bool ok = true;      // false while a tier is unreachable (the cache still answers, degraded)
  std::string detail;  // e.g. "redis: breaker open since 3 s: Connection refused"
  // Last Redis PING round trip, when there is a Redis tier and it answered.
  std::optional<std::chrono::microseconds> ping;
  // Tiered cache: true while the subscription to other processes' invalidations is live (L1 is
  // used only then, or while L2 is unreachable). False for single-tier caches.
  bool subscribed = false;
};

// Receives invalidations made by OTHER processes (Redis pub/sub). Implemented by the tiered
// cache to keep its L1 in step; called from a backend thread, so implementations must be
// thread-safe and quick.
class InvalidationListener {
 public:
  virtual ~InvalidationListener() = default;
  virtual void OnTagsInvalidated(const Tags& tags) = 0;
  virtual void OnKeyDeleted(std::string_view key) = 0;
  virtual void OnPatternInvalidated(std::string_view glob) = 0;
  // Everything may be stale (epoch change, Clear in another process): forget everything.
  virtual void OnEverythingInvalidated() = 0;
  // live == true: the subscription has just been (re)established; messages sent before may have
  // been missed, so treat it as OnEverythingInvalidated too. live == false: the subscription is
  // lost; invalidations by other processes are not heard until it is live again.
  virtual void OnSubscription(bool live) = 0;
};

class Cache {
 public:
  virtual ~Cache() = default;

  // The entry under `key`, or nullopt on a miss (absent, expired or invalidated).
  virtual StatusOr<std::optional<Entry>> Get(std::string_view key) = 0;

  // The current generations of `key` and `tags`; take it BEFORE loading the value.
  virtual StatusOr<Stamp> StampFor(std::string_view key, const Tags& tags) = 0;

  // Stores `value` under `key` for `ttl`, unless an invalidation of the key, one of `tags` or a
  // pattern happened since `stamp` was taken (then it stores nothing and returns OK; counted as
  // a stale set). Replaces any previous value. REQUIRES: `stamp` came from StampFor(key, tags)
  // on this object. Errors: kInvalidArgument (empty or too long key, ttl <= 0, bad tags),
  // kResourceExhausted (value larger than the backend accepts), backend errors.
  virtual Status SetIfCurrent(std::string_view key, ValuePtr value, std::chrono::milliseconds ttl,
                              const Tags& tags, const Stamp& stamp) = 0;

  // Unconditional store: SetIfCurrent with a stamp taken now.
  Status Set(std::string_view key, std::string value, std::chrono::milliseconds ttl,
             const Tags& tags = {});

  // Removes `key` (OK if absent) and makes in-flight loads of it uncacheable.
  virtual Status Delete(std::string_view key) = 0;

  // Removes every entry stored with any of `tags` and makes in-flight loads stamped with them
  // uncacheable. Tags are free-form ("order:42", "school:7:orders"); an empty list is a no-op.
  virtual Status InvalidateTags(const Tags& tags) = 0;

  // Removes every key matching the Redis glob `glob` (`*`, `?`, `[...]`, `\` escapes; a glob
  // without wildcards names one key). Returns how many entries this tier removed (for a tiered
  // cache, the L2 count). Makes every in-flight load uncacheable (coarse but safe).
  virtual StatusOr<size_t> InvalidatePattern(std::string_view glob) = 0;

  // Removes everything this cache holds (in Redis: this namespace only).
  virtual Status Clear() = 0;

  virtual CacheStats Stats() const = 0;
  virtual CacheHealth Health() const = 0;

  // Shared backends (Redis) call `listener` for invalidations published by other processes.
  // `listener` must outlive this Cache or be replaced by nullptr first. Default: ignored.
  virtual void SetInvalidationListener(InvalidationListener* /*listener*/) {}
};

using CachePtr = std::unique_ptr<Cache>;

// Argument checks shared by the backends: OK or kInvalidArgument naming the problem.
Status ValidateKey(std::string_view key);
Status ValidateTags(const Tags& tags);
Status ValidateTtl(std::chrono::milliseconds ttl);

}  // namespace hasivu::cache

#endif  // HASIVU_CACHE_CACHE_H_
