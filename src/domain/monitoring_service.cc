#include "domain/monitoring_service.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <iterator>
#include <map>

#include "metrics/catalog.h"
#include "metrics/http_series.h"
#include "store/timed_database.h"

namespace hasivu::domain {
namespace {

using std::chrono::steady_clock;

constexpr std::string_view kClasses[4] = {"2xx", "3xx", "4xx", "5xx"};

constexpr std::string_view kDbPingName = "hasivu_db_ping_duration_seconds";
constexpr std::string_view kDbPingHelp = "Database ping round trips";

// The server's compression series (metrics/http_series.h), one per encoding.
constexpr std::string_view kCompressionEncodings[] = {"br", "zstd", "gzip"};

double MicrosToMs(double us) { return us / 1000.0; }

double MillisSince(steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(steady_clock::now() - start).count();
}

namespace catalog = metrics::catalog;

// A series the monitor does not hold (a function not routed, a tier not adopted) is an empty
// window, as is every window before the monitor's first Tick.
metrics::WindowStats StatsOf(const metrics::Monitor& monitor, const catalog::MetricDef& def,
                             const std::vector<metrics::Dimensions>& dims,
                             std::chrono::minutes window) {
  return monitor.MergedStats(def, dims, window).value_or(metrics::WindowStats{});
}

// Distribution percentiles in milliseconds (the catalog's unit of every latency it reads).
void PercentilesOf(const metrics::WindowStats& w, std::optional<double>* p50,
                   std::optional<double>* p95, std::optional<double>* p99) {
  if (w.count == 0) return;
  *p50 = w.p50;
  *p95 = w.p95;
  *p99 = w.p99;
}

}  // namespace

std::string WindowLabel(std::chrono::minutes window) {
  return std::to_string(window.count()) + "m";
}

std::vector<MonitoredFunction> TenFunctions() {
  return {{"auth-register", {}},         {"auth-login", {}},      {"users-get", {}},
          {"menus-daily", {}},           {"orders-list", {}},     {"orders-create", {}},
          {"payments-create-order", {}}, {"payments-verify", {}}, {"rfid-verify-card", {}},
          {"monitoring-dashboard", {}}};
}

namespace {

std::string StateOf(metrics::AlarmState state) {
  std::string out(metrics::AlarmStateName(state));
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string MetricOf(const metrics::AlarmDefinition& def) {
  std::string out(def.metric.name);
  if (def.dimensions.empty()) return out;
  out += '{';
  for (size_t i = 0; i < def.dimensions.size(); ++i) {
    if (i > 0) out += ',';
    out += def.dimensions[i].first + "=" + def.dimensions[i].second;
  }
  return out + '}';
}

}  // namespace

std::vector<Alarm> AlarmsOf(const std::vector<metrics::AlarmStatus>& statuses) {
  std::vector<Alarm> out;
  out.reserve(statuses.size());
  for (const metrics::AlarmStatus& s : statuses) {
    const metrics::AlarmDefinition& def = s.definition;
    Alarm a{.name = def.name,
            .state = StateOf(s.state),
            .value = s.last_datapoint,
            .threshold = def.threshold,
            .reason = s.reason,
            .since = s.since,
            .metric = MetricOf(def),
            .statistic = def.statistic.Name(),
            .comparison = std::string(metrics::ComparisonOperatorName(def.comparison)),
            .period_seconds = def.period_seconds,
            .evaluation_periods = def.evaluation_periods,
            .datapoints_to_alarm = def.datapoints_to_alarm,
            .transitions = {}};
    const size_t first =
        s.history.size() > kAlarmTransitionsShown ? s.history.size() - kAlarmTransitionsShown : 0;
    for (size_t i = first; i < s.history.size(); ++i) {
      const metrics::AlarmTransition& t = s.history[i];
      a.transitions.push_back({t.time, StateOf(t.from), StateOf(t.to), t.reason});
    }
    out.push_back(std::move(a));
  }
  return out;
}

MonitoringService::MonitoringService(metrics::Registry& registry, store::Database* db,
                                     MonitoringServiceInfo info,
                                     std::vector<MonitoredFunction> functions)
    : registry_(registry),
      db_(db),
      info_(std::move(info)),
      db_ping_(registry.GetHistogram(kDbPingName, kDbPingHelp, {}, 1e-6)) {
  for (MonitoredFunction& f : functions) {
    Series s;
    s.function = f;
    std::vector<std::string> methods = f.methods;
    // The server counts HEAD of a GET route under the route too.
    if (std::find(methods.begin(), methods.end(), "GET") != methods.end() &&
        std::find(methods.begin(), methods.end(), "HEAD") == methods.end()) {
      methods.push_back("HEAD");
    }
    for (const std::string& method : methods) {
      for (int c = 0; c < 4; ++c) {
        s.by_class[c].push_back(&metrics::HttpRequests(registry_, f.name, method, kClasses[c]));
      }
    }
    if (!methods.empty()) {
      s.latency = &metrics::HttpRequestLatency(registry_, f.name);
      routed_dims_.push_back({{"Function", f.name}});
    }
    series_.push_back(std::move(s));
  }
  for (std::string_view encoding : kCompressionEncodings) {
    const metrics::HttpCompressionSeries series = metrics::HttpCompression(registry_, encoding);
    compression_.push_back(CompressionSeries{.encoding = std::string(encoding),
                                             .responses = series.responses,
                                             .bytes_in = series.bytes_in,
                                             .bytes_out = series.bytes_out,
                                             .errors = series.errors,
                                             .precompressed = series.precompressed});
  }
}

CompressionSummary MonitoringService::Compression() const {
  CompressionSummary c;
  for (const CompressionSeries& s : compression_) {
    EncodingStats e{.encoding = s.encoding,
                    .responses = s.responses->Value(),
                    .bytes_in = s.bytes_in->Value(),
                    .bytes_out = s.bytes_out->Value()};
    c.responses += e.responses;
    c.bytes_in += e.bytes_in;
    c.bytes_out += e.bytes_out;
    c.errors += s.errors->Value();
    c.precompressed += s.precompressed->Value();
    c.by_encoding.push_back(std::move(e));
  }
  if (c.bytes_in > 0) c.ratio = static_cast<double>(c.bytes_out) / c.bytes_in;
  c.bytes_saved = c.bytes_in > c.bytes_out ? c.bytes_in - c.bytes_out : 0;
  return c;
}

std::vector<RequestWindow> MonitoringService::RequestWindows(
    const std::vector<metrics::Dimensions>& dims) const {
  std::vector<RequestWindow> out;
  if (info_.monitor == nullptr) return out;
  const metrics::Monitor& monitor = *info_.monitor;
  for (std::chrono::minutes window : metrics::kStatsWindows) {
    RequestWindow w;
    w.window = WindowLabel(window);
    w.count = StatsOf(monitor, catalog::kApiRequests, dims, window).count;
    w.server_errors = StatsOf(monitor, catalog::kApiServerErrors, dims, window).count;
    if (w.count > 0) w.error_rate = static_cast<double>(w.server_errors) / w.count;
    PercentilesOf(StatsOf(monitor, catalog::kApiLatency, dims, window), &w.p50_ms, &w.p95_ms,
                  &w.p99_ms);
    out.push_back(std::move(w));
  }
  return out;
}

std::vector<DatabaseWindow> MonitoringService::DatabaseWindows() const {
  std::vector<DatabaseWindow> out;
  if (info_.monitor == nullptr) return out;
  const std::vector<metrics::Dimensions> kinds = {{{"QueryKind", std::string(store::kReadQuery)}},
                                                  {{"QueryKind", std::string(store::kWriteQuery)}}};
  for (std::chrono::minutes window : metrics::kStatsWindows) {
    DatabaseWindow w;
    w.window = WindowLabel(window);
    const metrics::WindowStats ops =
        StatsOf(*info_.monitor, catalog::kDatabaseQueryDuration, kinds, window);
    w.count = ops.count;
    PercentilesOf(ops, &w.p50_ms, &w.p95_ms, &w.p99_ms);
    w.slow_queries = StatsOf(*info_.monitor, catalog::kDatabaseSlowQueries, kinds, window).count;
    out.push_back(std::move(w));
  }
  return out;
}

std::vector<CacheTierWindows> MonitoringService::CacheWindows() const {
  std::vector<CacheTierWindows> out;
  if (info_.monitor == nullptr) return out;
  // The tiers are the app's to adopt (app/monitor_wiring.cc); read them off the monitor.
  for (const metrics::SeriesInfo& series : info_.monitor->Series()) {
    if (series.name != catalog::kCacheHits.name || series.dimensions.size() != 1 ||
        series.dimensions[0].first != "Tier") {
      continue;
    }
    CacheTierWindows tier{.tier = series.dimensions[0].second, .windows = {}};
    const std::vector<metrics::Dimensions> dims = {series.dimensions};
    for (std::chrono::minutes window : metrics::kStatsWindows) {
      CacheWindow w;
      w.window = WindowLabel(window);
      w.hits = StatsOf(*info_.monitor, catalog::kCacheHits, dims, window).count;
      w.misses = StatsOf(*info_.monitor, catalog::kCacheMisses, dims, window).count;
      if (w.hits + w.misses > 0) {
        w.hit_rate = static_cast<double>(w.hits) / static_cast<double>(w.hits + w.misses);
      }
      tier.windows.push_back(std::move(w));
    }
    out.push_back(std::move(tier));
  }
  return out;
}

std::vector<EndpointStats> MonitoringService::Endpoints() const { return Endpoints(nullptr); }

std::vector<EndpointStats> MonitoringService::Endpoints(RuntimeStats* runtime) const {
  std::vector<metrics::HistogramSnapshot> latencies;
  std::vector<EndpointStats> out;
  out.reserve(series_.size());
  for (const Series& s : series_) {
    EndpointStats e;
    e.function = s.function.name;
    e.routed = !s.function.methods.empty();
    uint64_t by_class[4] = {0, 0, 0, 0};
    for (int c = 0; c < 4; ++c) {
      for (const metrics::Counter* counter : s.by_class[c]) by_class[c] += counter->Value();
    }
    e.count = by_class[0] + by_class[1] + by_class[2] + by_class[3];
    e.client_errors = by_class[2];
    e.server_errors = by_class[3];
    if (e.count > 0) {
      e.error_rate = static_cast<double>(e.server_errors) / e.count;
      e.client_error_rate = static_cast<double>(e.client_errors) / e.count;
    }
    if (s.latency != nullptr) {
      metrics::HistogramSnapshot snap = s.latency->Snapshot();
      if (snap.count > 0) {
        e.p50_ms = MicrosToMs(snap.Quantile(0.50));
        e.p95_ms = MicrosToMs(snap.Quantile(0.95));
        e.p99_ms = MicrosToMs(snap.Quantile(0.99));
      }
      if (runtime != nullptr) latencies.push_back(std::move(snap));
    }
    e.windows = RequestWindows({{{"Function", s.function.name}}});
    out.push_back(std::move(e));
  }
  if (runtime != nullptr) {
    *runtime = RuntimeStats{};
    for (const EndpointStats& e : out) runtime->requests_total += e.count;
    const metrics::HistogramSnapshot all = metrics::MergeSnapshots(latencies);
    if (all.count > 0) {
      runtime->warm_p50_ms = MicrosToMs(all.Quantile(0.50));
      runtime->warm_p95_ms = MicrosToMs(all.Quantile(0.95));
      runtime->warm_p99_ms = MicrosToMs(all.Quantile(0.99));
    }
    runtime->rss_bytes = metrics::ProcessResidentBytes();
    runtime->windows = RequestWindows(routed_dims_);
  }
  return out;
}

Status MonitoringService::MayRead(const Principal& reader) {
  if (reader.IsAdmin()) return Status::Ok();
  return Status(StatusCode::kPermissionDenied, "Only admins may read the dashboard", "FORBIDDEN");
}

Dashboard MonitoringService::Build() const {
  Dashboard d;
  d.version = info_.version;
  d.started_at = metrics::ProcessStartWall();
  d.uptime_seconds =
      std::chrono::duration<double>(steady_clock::now() - metrics::ProcessStartSteady()).count();
  if (info_.cold_start) {
    d.cold_start = info_.cold_start();
    if (d.cold_start) d.cold_start_ms = d.cold_start->duration_ms;
  }
  d.store_backend = info_.store_backend;
  d.cache_backend = info_.cache_backend;
  d.endpoints = Endpoints(&d.runtime);

  const auto ping_start = steady_clock::now();
  const Status ping = db_->Ping();
  d.database_latency_ms = MillisSince(ping_start);
  d.database_status = ping.ok() ? "up" : "down";
  db_ping_.Record(d.database_latency_ms * 1000.0);

  const metrics::HistogramSnapshot ops = store::TimedDatabase::OperationsSnapshot(registry_);
  d.query_count = ops.count;
  if (ops.count > 0) {
    d.query_p50_ms = MicrosToMs(ops.Quantile(0.50));
    d.query_p95_ms = MicrosToMs(ops.Quantile(0.95));
  }
  d.slow_queries = store::TimedDatabase::SlowOperations(registry_);
  d.query_scope =
      info_.database_timed_globally ? "all routes" : "rfid-verify-card and monitoring-dashboard";
  d.database_windows = DatabaseWindows();
  d.cache_windows = CacheWindows();
  d.pool = db_->Stats();
  if (info_.alarms) d.alarms = AlarmsOf(info_.alarms());
  d.compression = Compression();
  return d;
}

}  // namespace hasivu::domain
