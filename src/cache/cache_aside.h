// CacheAside: read-through caching with single-flight over any Cache (the seed's getCached /
// setCached / invalidateCache / getCacheStats / warmUpCache, done right).
//
//   CacheAside aside(*cache, {.registry = &registry});
//   StatusOr<Loaded> r = aside.GetOrLoad("orders:u:7:p1", ttls.For(Kind::kOrderList),
//                                        {"user:7:orders", "school:3:orders"},
//                                        [&]() -> StatusOr<std::string> { return Render(...); });
//
// Rules:
//  * A hit returns the cached bytes; the loader is not called.
//  * Concurrent misses of one key in this process run the loader ONCE; the others wait for and
//    share its result (Loaded::source == kShared). A waiter joins a running load only if no
//    invalidation of the key or its tags happened since that load was stamped; otherwise it
//    starts its own, so a read that begins after a write's invalidation returned never gets a
//    value loaded before it.
//  * Waiters wait as long as the leader's loader runs (loaders bound their own I/O: database
//    and Redis calls have timeouts).
//  * A failing loader's Status is returned to the caller and every waiter of that load; it is
//    not cached and the loader is not retried within the call. The next GetOrLoad tries again.
//  * Cache failures never fail a read: a Get error counts as a miss, a Set error is counted and
//    the loaded value is still returned.
//  * The value is stamped BEFORE the loader runs and stored with SetIfCurrent, so a write that
//    commits and invalidates while the loader reads the old state leaves nothing stale behind.
//
// Writers: commit to the database first, then call Invalidate / InvalidateTags (these forward to
// the Cache). Compressed variants: GetOrLoad(DerivedKey(key, "br"), same ttl, same tags, loader
// that compresses the identity body) (see cached_body.h).
//
// Metrics (registry given in settings): hasivu_cache_loader_seconds (histogram),
// hasivu_cache_loads_total, hasivu_cache_loader_errors_total, hasivu_cache_shared_loads_total.
// Tracing: each GetOrLoad that passes validation adds one call to the current request's cache
// span (metrics/trace.h), timed as the call less its loader and any wait for another caller's
// load.
//
// Ownership: does not own the Cache (it must outlive this object). Thread-safety: all methods
// may be called concurrently. A loader must not call GetOrLoad for the same key (it would wait
// for itself until its own load ends, i.e. deadlock); other keys are fine.
#ifndef HASIVU_CACHE_CACHE_ASIDE_H_
#define HASIVU_CACHE_CACHE_ASIDE_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cache/cache.h"
#include "metrics/metrics.h"

namespace hasivu::cache {

struct CacheAsideSettings {
  // Not owned; must outlive the CacheAside. Default (nullptr): a private registry.
  metrics::Registry* registry = nullptr;
};

struct Loaded {
  enum class Source { kHit, kLoaded, kShared };
  ValuePtr value;  // never null on success
  Source source = Source::kHit;
};

struct AsideStats {
  uint64_t loads = 0;          // loader calls
  uint64_t loader_errors = 0;  // loader calls that failed
  uint64_t shared = 0;         // callers served by another caller's load
  double loader_seconds = 0;   // total time in loaders
};

// One item of a warm-up: key, TTL, tags and the loader that produces its value.
struct WarmUpItem {
  std::string key;
  std::chrono::milliseconds ttl{0};
  Tags tags;
  std::function<StatusOr<std::string>()> loader;
};

struct WarmUpResult {
  size_t loaded = 0;   // values loaded and offered to the cache
  size_t present = 0;  // already cached, loader not called
  size_t failed = 0;   // loader failed (first error in `first_error`)
  Status first_error;
};

class CacheAside {
 public:
  using Loader = std::function<StatusOr<std::string>()>;

  explicit CacheAside(Cache& cache, CacheAsideSettings settings = {});
  ~CacheAside();
  CacheAside(const CacheAside&) = delete;
  CacheAside& operator=(const CacheAside&) = delete;

  // See the rules above. Errors: kInvalidArgument for a bad key/tags/ttl (loader not called),
  // or the loader's own Status.
  StatusOr<Loaded> GetOrLoad(std::string_view key, std::chrono::milliseconds ttl, const Tags& tags,
                             const Loader& loader);

  Status Invalidate(std::string_view key) { return cache_.Delete(key); }
  Status InvalidateTags(const Tags& tags) { return cache_.InvalidateTags(tags); }
  StatusOr<size_t> InvalidatePattern(std::string_view glob) {
    return cache_.InvalidatePattern(glob);
  }

  // Loads each item not yet cached, one after another on the calling thread (run it on a
  // background thread at start-up). Never stops early: failures are counted and the rest go on.
  WarmUpResult WarmUp(const std::vector<WarmUpItem>& items);

  AsideStats Stats() const;
  Cache& cache() { return cache_; }

  // Callers currently waiting for the running load of `key` (0 if none).
  size_t WaitersForTest(std::string_view key) const;

 private:
  struct Flight;
  std::shared_ptr<Flight> Join(const std::string& key, const Stamp& stamp, bool& leader);
  void Finish(const std::string& key, const std::shared_ptr<Flight>& flight,
              StatusOr<ValuePtr> result);

  Cache& cache_;
  metrics::RegistryPtr owned_registry_;
  metrics::Histogram& loader_seconds_;
  metrics::Counter& loads_;
  metrics::Counter& loader_errors_;
  metrics::Counter& shared_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<Flight>> flights_;  // GUARDED_BY(mu_)
};

}  // namespace hasivu::cache

#endif  // HASIVU_CACHE_CACHE_ASIDE_H_
