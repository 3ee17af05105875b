// Test helper (bench tests only): RunResults built by hand, with figures chosen so the tests can
// work out every evaluation, score and comparison on paper.
#ifndef HASIVU_BENCH_TESTING_SYNTHETIC_RUN_H_
#define HASIVU_BENCH_TESTING_SYNTHETIC_RUN_H_

#include <string>
#include <vector>

#include "bench/result.h"
#include "bench/scenarios.h"

namespace hasivu::bench::testing {

// A summary whose percentiles climb from p50 to max = 3 x p50.
inline Summary LatencyOf(double p50, uint64_t count = 10000) {
  Summary s;
  s.count = count;
  s.min = p50 / 2;
  s.p50 = p50;
  s.p90 = p50 * 1.4;
  s.p95 = p50 * 1.6;
  s.p99 = p50 * 2;
  s.p999 = p50 * 2.5;
  s.max = p50 * 3;
  s.mean = p50 * 1.1;
  s.stddev = p50 / 4;
  return s;
}

// One closed-loop phase of `function` whose p95 is `p95_ms`, all requests succeeded.
inline PhaseResult ClosedPhase(const std::string& function, double p95_ms, int repetition = 0,
                               double rps = 2000, const std::string& target = "hasivu") {
  PhaseResult p;
  p.function = function;
  p.target = target;
  p.repetition = repetition;
  p.mode = "closed";
  p.connections = 32;
  p.latency_ms = LatencyOf(p95_ms / 1.6);
  p.service_ms = p.latency_ms;
  p.requests_per_second = rps;
  p.requests = p.latency_ms.count;
  p.succeeded = p.requests;
  p.success_rate = 1;
  p.response_bytes = p.requests * 500;
  p.server = ServerUsage{.cpu_seconds = 0.0003 * static_cast<double>(p.requests),
                         .peak_rss_bytes = 40u << 20,
                         .rss_at_start_bytes = 20u << 20};
  p.machine = MachineUsage{.steal_fraction = 0.01, .busy_fraction = 0.9};
  for (double q : {0.0, 0.5, 0.9, 0.95, 0.99, 0.999, 0.9999, 1.0}) {
    const double ms = q == 0       ? p.latency_ms.min
                      : q <= 0.5   ? p.latency_ms.p50
                      : q <= 0.9   ? p.latency_ms.p90
                      : q <= 0.95  ? p.latency_ms.p95
                      : q <= 0.99  ? p.latency_ms.p99
                      : q <= 0.999 ? p.latency_ms.p999
                                   : p.latency_ms.max;
    p.percentile_curve.emplace_back(q, ms);
  }
  return p;
}

inline ColdStartResult ColdStart(const std::string& function, double worst_ms, int starts = 10) {
  ColdStartResult c;
  c.function = function;
  for (int i = 0; i < starts; ++i) {
    c.listening_ms.push_back(15 + i * 0.1);
    c.first_success_ms.push_back(i == starts - 1 ? worst_ms : worst_ms / 2);
  }
  return c;
}

// All ten functions, three repetitions each with a p95 of `p95_ms` (1.0 ms by default), cold
// starts of 40 ms at worst, the server's view well inside the strict targets.
inline RunResult GoodRun(double p95_ms = 1.0, int repetitions = 3) {
  RunResult run;
  run.config.version = "0.1.0";
  run.config.started_at = "2026-12-08T10:00:00Z";
  run.config.url = "http://127.0.0.1:8080";
  run.config.store = "sqlite";
  run.config.cache = "memory";
  run.config.machine = "2 cores, 24 GiB, Linux 6.1";
  run.config.repetitions = repetitions;
  run.config.connections = 32;
  run.config.duration_seconds = 10;
  run.config.cold_starts = 10;
  for (std::string_view f : kFunctions) run.config.functions.emplace_back(f);
  ServerView view;
  view.db_query_p95_ms = 0.4;
  view.db_queries = 123456;
  view.cache_hit_rate = {{"memory", 0.97}, {"all", 0.97}};
  view.compression_ratio = 0.2;
  view.compression_bytes_saved = 1e6;
  view.api_p95_ms_max = 0.8;
  view.error_rate_5xx = 0;
  for (const std::string& f : run.config.functions) {
    for (int r = 0; r < repetitions; ++r) {
      run.phases.push_back(ClosedPhase(f, p95_ms * (1 + 0.01 * r), r));
    }
    run.cold_starts.push_back(ColdStart(f, 40));
    view.api_p95_ms[f] = 0.8;
  }
  run.server_view = view;
  return run;
}

// The phases of `function` (target "hasivu") in `run`.
inline std::vector<PhaseResult*> PhasesOf(RunResult& run, const std::string& function) {
  std::vector<PhaseResult*> out;
  for (PhaseResult& p : run.phases) {
    if (p.function == function && p.target == "hasivu") out.push_back(&p);
  }
  return out;
}

}  // namespace hasivu::bench::testing

#endif  // HASIVU_BENCH_TESTING_SYNTHETIC_RUN_H_
