// TierMetrics: the /metrics series of one cache tier, registered once at construction
// (metrics::Registry contract) and recorded into on every operation.
//
// Series (label tier="memory"|"redis"|"l1"|"l2"):
//   hasivu_cache_hits_total, hasivu_cache_misses_total, hasivu_cache_errors_total,
//   hasivu_cache_sets_total, hasivu_cache_stale_sets_total, hasivu_cache_evictions_total,
//   hasivu_cache_invalidations_total (counters); hasivu_cache_keys, hasivu_cache_bytes (gauges).
//
// Ownership: the Registry owns the series; TierMetrics holds references, so the Registry must
// outlive it. With no Registry given, TierMetrics owns a private one (stats still work).
// Thread-safety: all methods are safe to call concurrently.
#ifndef HASIVU_CACHE_TIER_METRICS_H_
#define HASIVU_CACHE_TIER_METRICS_H_

#include <string>

#include "cache/cache.h"
#include "metrics/metrics.h"

namespace hasivu::cache {

class TierMetrics {
 private:
  // First: members are initialised in declaration order and the series below live in registry_.
  metrics::RegistryPtr owned_;
  metrics::Registry* registry_;
  std::string tier_;

 public:
  TierMetrics(metrics::Registry* registry, const std::string& tier);
  TierMetrics(const TierMetrics&) = delete;
  TierMetrics& operator=(const TierMetrics&) = delete;

  metrics::Registry& registry() { return *registry_; }
  const std::string& tier() const { return tier_; }

  metrics::Counter& hits;
  metrics::Counter& misses;
  metrics::Counter& errors;
  metrics::Counter& sets;
  metrics::Counter& stale_sets;
  metrics::Counter& evictions;
  metrics::Counter& invalidations;
  metrics::Gauge& keys;
  metrics::Gauge& bytes;

  // Counters as TierStats; keys/bytes from the gauges when `has_size`, else -1.
  TierStats Snapshot(bool has_size) const;
};

}  // namespace hasivu::cache

#endif  // HASIVU_CACHE_TIER_METRICS_H_
