// Baselines of `hasivu bench` (issue 14, point 6): `--save-baseline FILE` keeps a run's figures,
// `--baseline FILE` compares a new run with them, noise-aware (stats.h CompareRuns): each
// figure's repetitions on both sides, medians compared, a regression only when each side's median
// lies outside the other side's range, and then by the seed's levels, 5 / 10 / 20 % worse.
//
// What is kept, of the server under test only (target "hasivu"; the peer is not a baseline):
//   per function and series (a mode, its offered rate and its connection count: only runs of the
//   same series are comparable, since closed-loop latency grows with connections), per
//   repetition: requests/s, p50, p95 and p99 of latency_ms, and the success rate;
//   per function, the cold starts: exec -> listening and exec -> first success of every start
//   (their medians are written too, for people; reading ignores them);
//   the RunConfig the figures came from.
// Figures compared: requests_per_second and success_rate (higher is better), p50_ms, p95_ms,
// p99_ms, cold_listening_ms and cold_first_success_ms (lower is better); a cold start's starts
// are its repetitions. Phases without answers are left out (they have no figures).
//
// The file (JSON):
//   {"format": "hasivu-bench-baseline", "version": 1,
//    "config": {<RunConfig, keys as its fields>},
//    "functions": {
//      "orders-list": {
//        "series": [{"mode": "closed", "offered_rate": 0, "connections": 32,
//                    "runs": [{"requests_per_second": 3443, "p50_ms": 9.5, "p95_ms": 12.1,
//                              "p99_ms": 15.5, "success_rate": 1}, ...]}],
//        "cold_start": {"listening_ms": [...], "first_success_ms": [...],
//                       "listening_median_ms": 17.2, "first_success_median_ms": 19.0}}}}
// Reading refuses another format or version, unknown keys, wrong types and empty run lists
// (InvalidArgument naming the key).
//
// Thread-safety: values and pure functions.
#ifndef HASIVU_BENCH_BASELINE_H_
#define HASIVU_BENCH_BASELINE_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bench/result.h"
#include "bench/stats.h"
#include "common/status.h"

namespace hasivu::bench {

struct BaselineRun {
  double requests_per_second = 0;
  double p50_ms = 0;
  double p95_ms = 0;
  double p99_ms = 0;
  double success_rate = 0;
};

struct BaselineSeries {
  std::string mode = "closed";  // "closed" | "open"
  double offered_rate = 0;      // open loop's requests/s; 0 for closed
  int connections = 0;
  std::vector<BaselineRun> runs;  // one per repetition, in repetition order; not empty
  // "closed, 32 connections" / "open 1000/s, 10 connections".
  std::string Name() const;
};

struct BaselineColdStart {
  std::vector<double> listening_ms;      // per start that listened
  std::vector<double> first_success_ms;  // per start that answered
};

struct BaselineFunction {
  std::vector<BaselineSeries> series;
  std::optional<BaselineColdStart> cold_start;
};

struct Baseline {
  RunConfig config;
  std::map<std::string, BaselineFunction> functions;
};

// The baseline figures of `run` (the server under test's phases and cold starts).
Baseline BaselineFrom(const RunResult& run);
// The file's text, as described above.
std::string BaselineJson(const Baseline& baseline);
// InvalidArgument, prefixed "baseline: ", for anything but a file BaselineJson could have written.
StatusOr<Baseline> ParseBaseline(std::string_view json);
// BaselineJson(BaselineFrom(run)) written to `path` atomically (a temporary file and a rename).
Status SaveBaseline(const RunResult& run, const std::string& path);
// ParseBaseline of the file at `path` (NotFound when it does not exist).
StatusOr<Baseline> LoadBaseline(const std::string& path);

// One figure of one series, baseline against now.
struct FigureComparison {
  std::string function;
  std::string series;  // BaselineSeries::Name(), or "cold start"
  std::string figure;  // "requests_per_second", "p95_ms", "cold_first_success_ms", ...
  Better better = Better::kLower;
  int baseline_runs = 0;
  int current_runs = 0;
  Comparison comparison;
};

struct BaselineComparison {
  std::string baseline_version;           // the baseline's RunConfig::version
  std::string baseline_started_at;        // and when it was measured
  std::vector<FigureComparison> figures;  // in function, series, figure order
  // What the baseline had and this run has not: "payments-verify: in the baseline, not in this
  // run", "orders-list open 1000/s, 10 connections: ...", "users-get cold start: ...".
  std::vector<std::string> missing;
  // Differences of configuration that make the figures less comparable (store, cache, machine,
  // duration), and a warning when a side had a single repetition.
  std::vector<std::string> notes;
  // The worst level among the figures (kNone when none regressed beyond the noise).
  RegressionLevel worst = RegressionLevel::kNone;
  // The figures at `at_least` or worse (REQUIRES: at_least is not kNone).
  std::vector<FigureComparison> Regressions(RegressionLevel at_least) const;
};

// Compares every figure both sides have (CompareRuns per figure).
BaselineComparison CompareWithBaseline(const Baseline& baseline, const RunResult& current);

}  // namespace hasivu::bench

#endif  // HASIVU_BENCH_BASELINE_H_
