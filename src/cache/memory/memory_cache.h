// The in-process cache: the embedded default (`--cache memory`) and the L1 of a tiered cache.
//
// Layout: `shards` independent shards (one mutex each), each bounded by max_bytes / shards. An
// entry is charged key + value + tags + a fixed overhead. Storing into a full shard first drops
// expired entries (soonest expiry first), then least recently used ones. A value larger than a
// shard's budget is refused with kResourceExhausted.
//
// Expiry uses the injected Clock; an expired entry is never returned (checked on every Get).
//
// Generations: a fixed table of `generation_slots` counters; a key or tag maps to a slot by hash.
// Two tags sharing a slot only cause extra misses, never a stale read, and memory stays bounded
// however many tags are used (with T tags in use, an invalidation also drops entries of about
// T / generation_slots other tags). InvalidateTags is O(number of tags): invalidated entries stay
// charged until a Get meets them or eviction takes them (stale ones are never returned). Guarantees
// (single process): once Delete / InvalidateTags / InvalidatePattern / Clear returns, no Get
// returns a value stored before it, and no SetIfCurrent whose stamp was taken before it stores
// anything.
//
// Thread-safety: all methods may be called concurrently. Get copies a shared_ptr under the shard
// lock; no value bytes are copied.
#ifndef HASIVU_CACHE_MEMORY_MEMORY_CACHE_H_
#define HASIVU_CACHE_MEMORY_MEMORY_CACHE_H_

#include <cstddef>
#include <string>

#include "cache/cache.h"
#include "common/clock.h"
#include "metrics/metrics.h"

namespace hasivu::cache {

struct MemoryCacheSettings {
  size_t max_bytes = 64u << 20;        // Default: 64 MiB over all shards.
  size_t shards = 16;                  // Default: 16. Rounded up to a power of two, at least 1.
  size_t generation_slots = 1u << 16;  // Default: 65536 (512 KiB). Rounded up to a power of two.
  // Not owned; must outlive the cache. Default (nullptr): SystemClock().
  const Clock* clock = nullptr;
  // Where hasivu_cache_* series go. Not owned; must outlive the cache. Default (nullptr): a
  // private registry (Stats() still works). One cache per `tier` label per registry.
  metrics::Registry* registry = nullptr;
  std::string tier = "memory";  // Default: "memory" ("l1" inside a tiered cache).
};

// kInvalidArgument if max_bytes is 0.
StatusOr<CachePtr> NewMemoryCache(MemoryCacheSettings settings = {});

}  // namespace hasivu::cache

#endif  // HASIVU_CACHE_MEMORY_MEMORY_CACHE_H_
