#include "bench/server_view.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "bench/scenarios.h"

namespace hasivu::bench {
namespace {

constexpr std::string_view kDbOperations = "hasivu_db_operation_duration_seconds";
constexpr std::string_view kCacheHits = "hasivu_cache_hits_total";
constexpr std::string_view kCacheMisses = "hasivu_cache_misses_total";
constexpr std::string_view kCompressionIn = "hasivu_http_compression_bytes_in_total";
constexpr std::string_view kCompressionOut = "hasivu_http_compression_bytes_out_total";
constexpr std::string_view kRequestDuration = "hasivu_http_request_duration_seconds";
constexpr std::string_view kRequests = "hasivu_http_requests_total";
constexpr std::string_view kOffloadWait = "hasivu_http_offload_wait_seconds";
constexpr std::string_view kPoolWait = "hasivu_db_pool_wait_seconds";
constexpr std::string_view kPoolHold = "hasivu_db_pool_hold_seconds";
constexpr double kP95 = 0.95;
constexpr double kP99 = 0.99;

// The histogram's increase over the interval, or nullopt when it is not exported or unreadable.
std::optional<HistogramCounts> HistogramIncrease(const Scrape& before, const Scrape& after,
                                                 std::string_view name,
                                                 const MetricLabels& subset) {
  StatusOr<std::optional<HistogramCounts>> now = FindHistogram(after, name, subset);
  if (!now.ok() || !now->has_value()) return std::nullopt;
  StatusOr<std::optional<HistogramCounts>> then = FindHistogram(before, name, subset);
  if (!then.ok()) return std::nullopt;
  StatusOr<HistogramCounts> delta =
      HistogramDelta(then->has_value() ? **then : HistogramCounts{}, **now);
  if (!delta.ok()) return std::nullopt;
  return *std::move(delta);
}

std::optional<double> P95Ms(const HistogramCounts& seconds) {
  const std::optional<double> q = HistogramQuantile(seconds, kP95);
  if (!q) return std::nullopt;
  return *q * 1000.0;
}

std::optional<LatencyFigures> LatencyOf(const Scrape& before, const Scrape& after,
                                        std::string_view name) {
  const std::optional<HistogramCounts> h = HistogramIncrease(before, after, name, {});
  if (!h) return std::nullopt;
  LatencyFigures f;
  f.count = h->count;
  if (const std::optional<double> q = HistogramQuantile(*h, kP99)) f.p99_ms = *q * 1000.0;
  double below = 0;  // cumulative count of the buckets under the current one
  double highest_finite = 0;
  for (const HistogramBucket& b : h->buckets) {
    const bool finite = std::isfinite(b.upper_bound);
    if (b.cumulative_count > below) {
      f.worst_ms = (finite ? b.upper_bound : highest_finite) * 1000.0;
      f.worst_beyond_bounds = !finite;
    }
    if (finite) highest_finite = b.upper_bound;
    below = b.cumulative_count;
  }
  return f;
}

std::set<std::string> TiersOf(const Scrape& scrape) {
  std::set<std::string> tiers;
  for (std::string_view name : {kCacheHits, kCacheMisses}) {
    for (const MetricSample* s : FindSamples(scrape, name)) {
      const auto tier = s->labels.find("tier");
      if (tier != s->labels.end()) tiers.insert(tier->second);
    }
  }
  return tiers;
}

void FillDatabase(const Scrape& before, const Scrape& after, ServerView& view) {
  const std::optional<HistogramCounts> ops = HistogramIncrease(before, after, kDbOperations, {});
  if (!ops) return;
  view.db_queries = ops->count;
  view.db_query_p95_ms = P95Ms(*ops);
}

void FillWaits(const Scrape& before, const Scrape& after, ServerView& view) {
  view.offload_wait = LatencyOf(before, after, kOffloadWait);
  view.db_pool_wait = LatencyOf(before, after, kPoolWait);
  view.db_pool_hold = LatencyOf(before, after, kPoolHold);
}

void FillCache(const Scrape& before, const Scrape& after, ServerView& view) {
  struct Tier {
    std::string name;
    double hits = 0;
    double lookups = 0;
  };
  std::vector<Tier> tiers;
  for (const std::string& name : TiersOf(after)) {
    const MetricLabels label = {{"tier", name}};
    const double hits = CounterIncrease(before, after, kCacheHits, label).value_or(0);
    const double misses = CounterIncrease(before, after, kCacheMisses, label).value_or(0);
    tiers.push_back({name, hits, hits + misses});
    if (hits + misses > 0) view.cache_hit_rate[name] = hits / (hits + misses);
  }
  if (tiers.empty()) return;
  const auto l1 =
      std::find_if(tiers.begin(), tiers.end(), [](const Tier& t) { return t.name == "l1"; });
  // Without the tiered cache's names, the outermost tier is the one every lookup passed.
  const auto outermost =
      l1 != tiers.end()
          ? l1
          : std::max_element(tiers.begin(), tiers.end(),
                             [](const Tier& a, const Tier& b) { return a.lookups < b.lookups; });
  if (outermost->lookups <= 0) return;
  double all_hits = 0;
  for (const Tier& t : tiers) all_hits += t.hits;
  view.cache_hit_rate["all"] = std::min(1.0, all_hits / outermost->lookups);
}

void FillCompression(const Scrape& before, const Scrape& after, ServerView& view) {
  const std::optional<double> in = CounterIncrease(before, after, kCompressionIn);
  const std::optional<double> out = CounterIncrease(before, after, kCompressionOut);
  if (!in || !out) return;
  view.compression_bytes_saved = std::max(0.0, *in - *out);
  if (*in > 0) view.compression_ratio = *out / *in;
}

void FillApi(const Scrape& before, const Scrape& after, ServerView& view) {
  double requests = 0;
  double server_errors = 0;
  bool exported = false;
  for (std::string_view function : kFunctions) {
    const MetricLabels route = {{"route", std::string(function)}};
    const std::optional<HistogramCounts> latency =
        HistogramIncrease(before, after, kRequestDuration, route);
    if (latency && latency->count > 0) {
      if (const std::optional<double> p95 = P95Ms(*latency)) {
        view.api_p95_ms[std::string(function)] = *p95;
        view.api_p95_ms_max = std::max(view.api_p95_ms_max.value_or(*p95), *p95);
      }
    }
    if (const std::optional<double> n = CounterIncrease(before, after, kRequests, route)) {
      exported = true;
      requests += *n;
    }
    MetricLabels errors = route;
    errors.emplace("class", "5xx");
    server_errors += CounterIncrease(before, after, kRequests, errors).value_or(0);
  }
  if (exported && requests > 0) view.error_rate_5xx = server_errors / requests;
}

}  // namespace

ServerView DiffServerView(const Scrape& before, const Scrape& after) {
  ServerView view;
  FillDatabase(before, after, view);
  FillWaits(before, after, view);
  FillCache(before, after, view);
  FillCompression(before, after, view);
  FillApi(before, after, view);
  return view;
}

}  // namespace hasivu::bench
