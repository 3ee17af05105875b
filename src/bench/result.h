// What one `hasivu bench` run measured: the model the reports (Markdown, JSON, SVG), the targets
// and the baselines are computed from. Filled by the runner (app/bench_command.cc).
//
// Units are in the names: _ms milliseconds, _seconds, _bytes. A figure that was not measured is
// absent (std::optional), never 0.
//
// Thread-safety: values.
#ifndef HASIVU_BENCH_RESULT_H_
#define HASIVU_BENCH_RESULT_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bench/stats.h"

namespace hasivu::bench {

// The host's CPU over one measured phase, from /proc/stat: steal is the time other tenants took
// from this VM's vCPUs, the reason absolute figures drift between runs (docs/performance.md).
struct MachineUsage {
  double steal_fraction = 0;  // steal / all CPU time of the machine over the phase
  double busy_fraction = 0;   // non-idle / all
};

// The server process over one phase, from /proc/PID (local servers only).
struct ServerUsage {
  double cpu_seconds = 0;       // user + system
  uint64_t peak_rss_bytes = 0;  // VmHWM, reset at the phase's start where the kernel allows
  // VmRSS when the phase began (before its warm-up): the server at rest after its start, the
  // scenarios' preparation and the phases before it in that process.
  uint64_t rss_at_start_bytes = 0;
};

// One measured phase: one function, one target (the server under test or the peer), one
// repetition, one mode.
struct PhaseResult {
  std::string function;
  std::string target = "hasivu";  // "hasivu", or "peer" for --compare
  int repetition = 0;             // 0-based
  std::string mode = "closed";    // "closed" | "open"
  double offered_rate = 0;        // open loop: requests/s scheduled; 0 for closed
  int connections = 0;
  Summary latency_ms;  // from the scheduled send (open) / the send (closed), all answered requests
  Summary service_ms;  // from the actual send
  double requests_per_second = 0;
  uint64_t requests = 0;                   // answered
  uint64_t succeeded = 0;                  // with the expected status
  std::map<std::string, uint64_t> errors;  // kind -> count (load.h)
  double success_rate = 0;                 // succeeded / sent; 0 when nothing was sent
  bool exhausted = false;
  uint64_t response_bytes = 0;
  std::optional<ServerUsage> server;
  std::optional<MachineUsage> machine;
  // The latency at each of these quantiles, for the percentile curves (SVG).
  std::vector<std::pair<double, double>> percentile_curve;  // (quantile, ms)
};

// Cold start of one function over N fresh server processes.
struct ColdStartResult {
  std::string function;
  std::vector<double> listening_ms;      // exec -> the server listens, per start
  std::vector<double> first_success_ms;  // exec -> this function's first expected answer, per start
  std::vector<std::string> failures;     // starts that never got the expected answer, and why
};

// One latency histogram's increase over the measured phases, in ms.
struct LatencyFigures {
  double count = 0;
  std::optional<double> p99_ms;
  // The upper bound of the highest bucket that grew: no observation took longer. With
  // worst_beyond_bounds, the highest finite bound, which some took longer than.
  std::optional<double> worst_ms;
  bool worst_beyond_bounds = false;
};

// The server's own view over the measured phases, from /metrics scraped before and after.
struct ServerView {
  // Where the server exports them (PostgreSQL): a blocking handler's wait for a thread of the
  // server's pool (one per pooled connection), the pool's wait for a connection, and how long
  // each operation held its connection (the query, with BEGIN and COMMIT for a write).
  std::optional<LatencyFigures> offload_wait;
  std::optional<LatencyFigures> db_pool_wait;
  std::optional<LatencyFigures> db_pool_hold;
  std::optional<double> db_query_p95_ms;
  std::optional<double> db_queries;
  std::map<std::string, double>
      cache_hit_rate;                       // tier ("memory", "redis", "all") -> hits/(hits+misses)
  std::optional<double> compression_ratio;  // bytes out / bytes in of compressed responses
  std::optional<double> compression_bytes_saved;
  std::optional<double> api_p95_ms_max;      // the server's own request p95, worst function
  std::map<std::string, double> api_p95_ms;  // function -> p95 the server measured
  std::optional<double> error_rate_5xx;
};

// The bench's load generator beside wrk on the same endpoint in the same minutes.
struct WrkCheck {
  std::string function;
  double bench_requests_per_second = 0;
  double wrk_requests_per_second = 0;
  double bench_p50_ms = 0;
  double wrk_p50_ms = 0;
  bool within_10_percent = false;
};

// One point of the rate sweep (open loop).
struct SweepPoint {
  std::string function;
  double offered_rate = 0;
  double achieved_rate = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  double success_rate = 0;
};

struct RunConfig {
  std::string version;     // hasivu's
  std::string started_at;  // RFC 3339 UTC
  std::string url;         // the server under test
  std::string peer_url;    // --compare, or empty
  std::string store;       // "sqlite" | "postgresql" | "remote"
  std::string cache;       // the server's --cache when local
  std::string machine;     // "2 cores, 24 GiB, Linux 6.1"
  int repetitions = 1;
  int connections = 0;
  double duration_seconds = 0;
  int cold_starts = 0;
  std::vector<std::string> functions;
  uint64_t setup_requests = 0;
  uint64_t setup_writes = 0;
  std::vector<std::string> skipped;  // function: why
  std::vector<std::string> notes;    // anything a reader must know (limits raised for the run, ...)
};

struct RunResult {
  RunConfig config;
  std::vector<PhaseResult> phases;
  std::vector<ColdStartResult> cold_starts;
  std::optional<ServerView> server_view;
  std::vector<WrkCheck> wrk_checks;
  std::vector<SweepPoint> sweep;
  // Why the run itself failed (the server never came up, no function produced data), or empty.
  std::vector<std::string> run_errors;
};

}  // namespace hasivu::bench

#endif  // HASIVU_BENCH_RESULT_H_
