// MonitoringService: the monitoring-dashboard's data (api.md), computed from the live metrics
// registry, the database and facts about the running service. No JSON here; api/ renders it.
//
// Sources:
//   runtime    requestsTotal = the ten functions' counts summed; warm p50/p95/p99 from their
//              latency histograms merged (every request since start, so the process's first,
//              cold one is among them: one sample in many); rssBytes = the resident pages of
//              /proc/self/statm times the page size (nullopt where there is no /proc).
//   endpoints  the HTTP server's series for each of the ten functions (route name = function
//              name): hasivu_http_requests_total{route,method,class} summed over classes (and
//              HEAD for GET routes) is `count`; errorRate = 5xx / count (server faults only:
//              4xx are refusals the API is meant to give, reported apart as clientErrorRate);
//              p50/p95/p99 from hasivu_http_request_duration_seconds{route} (all methods).
//              Registry::Get* returns the series the server records into (same name and
//              labels), so the numbers are live; functions not routed report `routed=false`.
//   database   store::TimedDatabase (store/timed_database.h) records every Read/Write it runs
//              into hasivu_db_operation_duration_seconds{kind} (one callback = one operation,
//              including the wait for a connection) and counts operations over the slow-query
//              threshold in hasivu_db_slow_operations_total{kind}. queryP50Ms/queryP95Ms are the
//              p50/p95 of both kinds (nullopt before the first operation). Pool from
//              Database::Stats().
//   compression the HTTP server's compression series (http/server.h), summed over br, zstd and
//              gzip: responses it compressed, bytes before/after, errors, and bodies handlers
//              supplied already encoded. ratio = bytes out / bytes in (nullopt before the first
//              compressed response); bytesSaved = bytes in - bytes out.
//   health     one Ping() of the database, timed.
//   alarms     the alarms the app evaluates in-process (metrics/alarms.h: the seed's thresholds
//              plus the 5xx rate, CloudWatch's semantics), as MonitoringServiceInfo::alarms
//              returns them: state, reason, since, and the last transitions.
//   cold start MonitoringServiceInfo::cold_start (metrics/cold_start.h): exec -> listening + the
//              first request's own service time, once the first request has been served.
//   windows    with MonitoringServiceInfo::monitor, the same numbers over the last 1, 5 and 15
//              minutes (metrics::kStatsWindows) beside the since-start ones, so a five-minute
//              incident shows at its size after hours of fast traffic: Monitor::Stats of the
//              catalog series the app adopts (app/monitor_wiring.cc, store/timed_database.cc):
//              per function ApiLatency, ApiRequests and ApiServerErrors{Function}; the runtime's
//              the same merged over the functions (Monitor::MergedStats); the database's
//              DatabaseQueryDuration and DatabaseSlowQueries over both QueryKinds; per cache tier
//              CacheHits and CacheMisses{Tier}. As of the monitor's last Tick (every 10 s), so a
//              window ends up to one resolution ago; a series the monitor does not hold reads as
//              an empty window.
//
// Thread-safety: Dashboard() is safe to call concurrently. The registry and database outlive
// the service.
#ifndef HASIVU_DOMAIN_MONITORING_SERVICE_H_
#define HASIVU_DOMAIN_MONITORING_SERVICE_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "domain/principal.h"
#include "metrics/alarms.h"
#include "metrics/cold_start.h"
#include "metrics/metrics.h"
#include "metrics/monitor.h"
#include "store/database.h"

namespace hasivu::domain {

// One of the ten functions and the HTTP methods its routes answer.
struct MonitoredFunction {
  std::string name;                  // "orders-list"
  std::vector<std::string> methods;  // methods of the routes named so; empty = not routed
};

// The ten functions of api.md with their methods, in the api.md order.
std::vector<MonitoredFunction> TenFunctions();

struct MonitoringServiceInfo {
  std::string version;
  std::string store_backend;
  std::string cache_backend;
  // The cold-start report, once the first request has been served (nullopt before).
  std::function<std::optional<metrics::ColdStartReport>()> cold_start;
  // The alarms' current statuses; unset: no alarms are evaluated.
  std::function<std::vector<metrics::AlarmStatus>()> alarms;
  // Whether every route's database work is timed (the app wraps the database in a
  // TimedDatabase) or only this service's and the RFID route's.
  bool database_timed_globally = false;
  // The rolling windows' source; null: the dashboard has since-start numbers only. Not owned;
  // outlives the service.
  const metrics::Monitor* monitor = nullptr;
};

// The label of a window of metrics::kStatsWindows: "1m", "5m", "15m".
std::string WindowLabel(std::chrono::minutes window);

// Requests of a function (or of all ten) over one recent window.
struct RequestWindow {
  std::string window;                            // WindowLabel
  uint64_t count = 0;                            // requests answered (ApiRequests)
  uint64_t server_errors = 0;                    // 5xx (ApiServerErrors)
  double error_rate = 0;                         // server_errors / count, 0 when count == 0
  std::optional<double> p50_ms, p95_ms, p99_ms;  // ApiLatency; nullopt without samples
};

// Database operations, reads and writes together, over one recent window.
struct DatabaseWindow {
  std::string window;
  uint64_t count = 0;         // operations (DatabaseQueryDuration samples)
  uint64_t slow_queries = 0;  // DatabaseSlowQueries
  std::optional<double> p50_ms, p95_ms, p99_ms;
};

// One cache tier's lookups over one recent window.
struct CacheWindow {
  std::string window;
  uint64_t hits = 0;
  uint64_t misses = 0;
  std::optional<double> hit_rate;  // hits / (hits + misses); nullopt without lookups
};

struct CacheTierWindows {
  std::string tier;  // the Tier dimension: "memory", "l1", "l2"
  std::vector<CacheWindow> windows;
};

struct EndpointStats {
  std::string function;
  bool routed = false;
  uint64_t count = 0;
  uint64_t client_errors = 0;  // 4xx
  uint64_t server_errors = 0;  // 5xx
  double error_rate = 0;       // server_errors / count, 0 when count == 0
  double client_error_rate = 0;
  std::optional<double> p50_ms, p95_ms, p99_ms;  // nullopt without samples
  // The recent windows in kStatsWindows order; empty without a monitor.
  std::vector<RequestWindow> windows;
};

// The process as a whole (the dashboard's runtime panel).
struct RuntimeStats {
  uint64_t requests_total = 0;                                  // the ten functions' requests
  std::optional<double> warm_p50_ms, warm_p95_ms, warm_p99_ms;  // nullopt without samples
  std::optional<int64_t> rss_bytes;                             // nullopt when unreadable
  // The ten functions together over the recent windows; empty without a monitor.
  std::vector<RequestWindow> windows;
};

struct AlarmTransitionView {
  std::chrono::system_clock::time_point at;
  std::string from, to;  // "ok" | "alarm" | "insufficient_data"
  std::string reason;
};

struct Alarm {
  std::string name;
  std::string state;            // "ok" | "alarm" | "insufficient_data"
  std::optional<double> value;  // the last datapoint
  double threshold = 0;
  std::string reason;  // CloudWatch's StateReason style
  std::chrono::system_clock::time_point since;
  std::string metric;      // "ApiLatency{Function=orders-list}"
  std::string statistic;   // "p95", "Maximum", ...
  std::string comparison;  // "GreaterThanThreshold", ...
  int period_seconds = 0;
  int evaluation_periods = 0;
  int datapoints_to_alarm = 0;
  std::vector<AlarmTransitionView> transitions;  // the latest last, at most kAlarmTransitionsShown
};

inline constexpr size_t kAlarmTransitionsShown = 5;

// The dashboard's view of evaluated alarms (pure; exposed for tests).
std::vector<Alarm> AlarmsOf(const std::vector<metrics::AlarmStatus>& statuses);

struct EncodingStats {
  std::string encoding;  // "br" | "zstd" | "gzip"
  uint64_t responses = 0;
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
};

struct CompressionSummary {
  uint64_t responses = 0;  // compressed by the server
  uint64_t precompressed = 0;
  uint64_t errors = 0;
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  std::optional<double> ratio;  // bytes_out / bytes_in
  uint64_t bytes_saved = 0;
  std::vector<EncodingStats> by_encoding;  // br, zstd, gzip
};

struct Dashboard {
  std::string version;
  std::chrono::system_clock::time_point started_at;
  double uptime_seconds = 0;
  std::optional<double> cold_start_ms;
  std::optional<metrics::ColdStartReport> cold_start;
  std::string store_backend;
  std::string cache_backend;
  RuntimeStats runtime;
  std::vector<EndpointStats> endpoints;
  std::optional<double> query_p50_ms;
  std::optional<double> query_p95_ms;
  uint64_t query_count = 0;
  uint64_t slow_queries = 0;
  std::string query_scope;  // "all routes" | "rfid-verify-card and monitoring-dashboard"
  std::vector<DatabaseWindow> database_windows;  // empty without a monitor
  // The tiers the monitor holds CacheHits of, in their creation order; empty without a monitor.
  std::vector<CacheTierWindows> cache_windows;
  store::PoolStats pool;
  std::vector<Alarm> alarms;
  std::string database_status;  // "up" | "down"
  double database_latency_ms = 0;
  CompressionSummary compression;
};

class MonitoringService {
 public:
  // `functions` from TenFunctions() with `methods` filled from the router. The series are
  // resolved here (call at wiring time).
  MonitoringService(metrics::Registry& registry, store::Database* db, MonitoringServiceInfo info,
                    std::vector<MonitoredFunction> functions);

  Dashboard Build() const;

  // Whether `reader` may read the dashboard: admins only (a caller with the monitoring token is
  // let in by api/ before any principal is made). Errors: kPermissionDenied, reason FORBIDDEN.
  static Status MayRead(const Principal& reader);
  // The statistics of the ten functions alone (no database round trip).
  std::vector<EndpointStats> Endpoints() const;
  // The same, and the runtime numbers derived from them (also no database round trip).
  std::vector<EndpointStats> Endpoints(RuntimeStats* runtime) const;
  // The compression summary alone.
  CompressionSummary Compression() const;
  // The database's and the cache tiers' recent windows alone (empty without a monitor).
  std::vector<DatabaseWindow> DatabaseWindows() const;
  std::vector<CacheTierWindows> CacheWindows() const;

 private:
  struct Series {
    MonitoredFunction function;
    std::vector<metrics::Counter*> by_class[4];  // 2xx, 3xx, 4xx, 5xx
    metrics::Histogram* latency = nullptr;
  };
  metrics::Registry& registry_;
  store::Database* db_;
  MonitoringServiceInfo info_;
  std::vector<Series> series_;
  // The windows of the series named by `dims` (one: a function's; several: merged).
  std::vector<RequestWindow> RequestWindows(const std::vector<metrics::Dimensions>& dims) const;
  std::vector<metrics::Dimensions> routed_dims_;  // Function={name} of each routed function
  metrics::Histogram& db_ping_;
  struct CompressionSeries {
    std::string encoding;
    metrics::Counter* responses = nullptr;
    metrics::Counter* bytes_in = nullptr;
    metrics::Counter* bytes_out = nullptr;
    metrics::Counter* errors = nullptr;
    metrics::Counter* precompressed = nullptr;
  };
  std::vector<CompressionSeries> compression_;
};

}  // namespace hasivu::domain

#endif  // HASIVU_DOMAIN_MONITORING_SERVICE_H_
