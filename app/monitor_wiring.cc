#include "app/monitor_wiring.h"

#include <algorithm>
#include <array>
#include <string_view>

#include "cache/tier_metrics.h"
#include "metrics/catalog.h"
#include "metrics/http_series.h"

namespace hasivu::app {

namespace catalog = metrics::catalog;

void AdoptApiSeries(metrics::Monitor& monitor,
                    const std::vector<domain::MonitoredFunction>& functions) {
  metrics::Registry& registry = monitor.registry();
  static constexpr std::array<std::string_view, 4> kClasses = {"2xx", "3xx", "4xx", "5xx"};
  std::vector<const metrics::Counter*> all_requests;
  std::vector<const metrics::Counter*> all_errors;
  for (const domain::MonitoredFunction& f : functions) {
    if (f.methods.empty()) continue;  // not routed: the server records nothing under it
    std::vector<std::string> methods = f.methods;
    // The server counts HEAD of a GET route under the route too.
    if (std::find(methods.begin(), methods.end(), "GET") != methods.end() &&
        std::find(methods.begin(), methods.end(), "HEAD") == methods.end()) {
      methods.push_back("HEAD");
    }
    std::vector<const metrics::Counter*> requests;
    std::vector<const metrics::Counter*> errors;
    for (const std::string& method : methods) {
      for (std::string_view c : kClasses) {
        const metrics::Counter* counter = &metrics::HttpRequests(registry, f.name, method, c);
        requests.push_back(counter);
        if (c == "5xx") errors.push_back(counter);
      }
    }
    const metrics::Dimensions dims = {{"Function", f.name}};
    monitor.AdoptHistogram(catalog::kApiLatency, dims,
                           metrics::HttpRequestLatency(registry, f.name), 1e-3);
    monitor.AdoptCounters(catalog::kApiRequests, dims, requests);
    monitor.AdoptCounters(catalog::kApiServerErrors, dims, errors);
    all_requests.insert(all_requests.end(), requests.begin(), requests.end());
    all_errors.insert(all_errors.end(), errors.begin(), errors.end());
  }
  monitor.AdoptRatio(catalog::kApiErrorRate, {}, std::move(all_errors), std::move(all_requests));
}

void AdoptCacheSeries(metrics::Monitor& monitor, const std::vector<std::string>& tiers) {
  std::vector<const metrics::Counter*> all_hits;
  std::vector<const metrics::Counter*> outermost_lookups;
  for (const std::string& tier : tiers) {
    // The tier's own series: the Registry hands back the counters the tier records into.
    const cache::TierMetrics series(&monitor.registry(), tier);
    const metrics::Dimensions dims = {{"Tier", tier}};
    monitor.AdoptCounters(catalog::kCacheHits, dims, {&series.hits});
    monitor.AdoptCounters(catalog::kCacheMisses, dims, {&series.misses});
    monitor.AdoptCounters(catalog::kCacheErrors, dims, {&series.errors});
    monitor.AdoptCounters(catalog::kCacheEvictions, dims, {&series.evictions});
    monitor.AdoptRatio(catalog::kCacheHitRate, dims, {&series.hits},
                       {&series.hits, &series.misses});
    all_hits.push_back(&series.hits);
    if (outermost_lookups.empty()) outermost_lookups = {&series.hits, &series.misses};
  }
  // Every lookup passes the outermost tier and an inner tier sees only its misses, so the
  // tiers' hits over the outermost tier's lookups is the share the cache answered at all.
  if (tiers.size() > 1) {
    monitor.AdoptRatio(catalog::kCacheHitRate, {{"Tier", std::string(catalog::kAllTiers)}},
                       std::move(all_hits), std::move(outermost_lookups));
  }
}

void AddProcessLevels(metrics::Monitor& monitor, const store::Database& db) {
  monitor.AddLevel(catalog::kMemoryRss, {}, []() -> std::optional<double> {
    const std::optional<int64_t> rss = metrics::ProcessResidentBytes();
    if (!rss) return std::nullopt;
    return static_cast<double>(*rss);
  });
  monitor.AddLevel(catalog::kDatabasePoolInUse, {},
                   [&db]() -> std::optional<double> { return db.Stats().in_use; });
  monitor.AddLevel(catalog::kDatabasePoolSize, {},
                   [&db]() -> std::optional<double> { return db.Stats().size; });
}

}  // namespace hasivu::app
