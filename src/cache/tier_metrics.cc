#include "cache/tier_metrics.h"

namespace hasivu::cache {
namespace {

metrics::Labels TierLabel(const std::string& tier) { return {{"tier", tier}}; }

}  // namespace

TierMetrics::TierMetrics(metrics::Registry* registry, const std::string& tier)
    : owned_(registry == nullptr ? metrics::NewRegistry() : nullptr),
      registry_(registry == nullptr ? owned_.get() : registry),
      tier_(tier),
      hits(registry_->GetCounter("hasivu_cache_hits_total", "Cache lookups that found a value",
                                 TierLabel(tier))),
      misses(registry_->GetCounter("hasivu_cache_misses_total",
                                   "Cache lookups that found nothing usable", TierLabel(tier))),
      errors(registry_->GetCounter("hasivu_cache_errors_total",
                                   "Cache backend failures (served degraded)", TierLabel(tier))),
      sets(registry_->GetCounter("hasivu_cache_sets_total", "Values stored in the cache",
                                 TierLabel(tier))),
      stale_sets(registry_->GetCounter(
          "hasivu_cache_stale_sets_total",
          "Stores dropped because an invalidation happened while the value was loaded",
          TierLabel(tier))),
      evictions(registry_->GetCounter("hasivu_cache_evictions_total",
                                      "Entries removed for space or expiry", TierLabel(tier))),
      invalidations(registry_->GetCounter("hasivu_cache_invalidations_total",
                                          "Delete, tag, pattern and clear invalidations",
                                          TierLabel(tier))),
      keys(registry_->GetGauge("hasivu_cache_keys", "Entries held by the cache tier",
                               TierLabel(tier))),
      bytes(registry_->GetGauge("hasivu_cache_bytes", "Bytes charged by the cache tier",
                                TierLabel(tier))) {}

TierStats TierMetrics::Snapshot(bool has_size) const {
  TierStats s;
  s.tier = tier_;
  s.hits = hits.Value();
  s.misses = misses.Value();
  s.errors = errors.Value();
  s.sets = sets.Value();
  s.stale_sets = stale_sets.Value();
  s.evictions = evictions.Value();
  s.invalidations = invalidations.Value();
  s.keys = has_size ? keys.Value() : -1;
  s.bytes = has_size ? bytes.Value() : -1;
  return s;
}

}  // namespace hasivu::cache
