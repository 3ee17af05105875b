// The tiered cache: an in-process L1 (memory cache) in front of a shared L2 (Redis), the
// `--cache redis://host:port/db` configuration.
//
// Reads: L1, then L2; an L2 hit is copied into L1 with TTL min(time left in L2, l1_ttl). Writes
// go to L2 then L1 (L1 TTL min(ttl, l1_ttl)). Invalidations go to L2 then L1, so a concurrent L1
// fill from L2 can never resurrect an invalidated value (the fill is dropped when any L1
// invalidation lands while it reads L2).
//
// Guarantees
//  * This process: when Delete / InvalidateTags / InvalidatePattern / Clear returns, no later
//    Get returns an older value, whether or not Redis answered (L1 is always invalidated; an L2
//    failure marks the Redis namespace suspect and it gets a new epoch before it is used again,
//    see redis/redis_cache.h).
//  * Other processes sharing the Redis: asynchronous. Their L1 drops the value when the
//    published invalidation reaches their subscriber thread (pub/sub on loopback: usually well
//    under a millisecond after the call returns, longer when the machine is loaded); until then
//    their Get may still return it. L1 is used only while the subscription is live as far as
//    this process knows (or while Redis is unreachable for everyone, when nobody can publish);
//    each (re)subscription clears L1. A dropped subscription is noticed like a message, when its
//    close reaches the subscriber thread: an invalidation published between the drop and that
//    moment is never heard, but L1 is bypassed from then on and cleared on resubscription, so
//    the old value is served at most until the drop is noticed. If a message is lost on a
//    connection that stays up (not expected from Redis), staleness is bounded by l1_ttl.
//  * Redis down: reads and writes keep working from L1 and the loader within the L2 command
//    timeout (then instantly, once the breaker is open); L2 failures are counted and never
//    returned as errors by this class.
//
// Thread-safety: all methods may be called concurrently. Owns both tiers.
#ifndef HASIVU_CACHE_TIERED_CACHE_H_
#define HASIVU_CACHE_TIERED_CACHE_H_

#include <chrono>

#include "cache/cache.h"
#include "cache/memory/memory_cache.h"
#include "cache/redis/redis_cache.h"

namespace hasivu::cache {

struct TieredCacheSettings {
  // Longest life of an L1 copy: the bound on cross-process staleness if a message is lost.
  std::chrono::milliseconds l1_ttl{5000};  // Default: 5 s
  // True: L2 publishes other processes' invalidations (Redis); L1 is used only while the
  // subscription is live or L2 is unreachable. False (L2 private to this process, e.g. tests
  // with two memory caches): L1 is always used.
  bool l2_publishes = true;  // Default: true
};

// REQUIRES: l1 and l2 non-null (kInvalidArgument otherwise); l1_ttl > 0.
StatusOr<CachePtr> NewTieredCache(CachePtr l1, CachePtr l2, TieredCacheSettings settings = {});

// The production shape: memory L1 (tier "l1") in front of Redis L2 (tier "l2"); the `tier`
// fields of the given settings are overwritten.
StatusOr<CachePtr> NewTieredRedisCache(MemoryCacheSettings l1, RedisCacheSettings l2,
                                       TieredCacheSettings settings = {});

}  // namespace hasivu::cache

#endif  // HASIVU_CACHE_TIERED_CACHE_H_
