// The targets `hasivu bench` judges a run against (issue 14, point 5): profiles of thresholds, the
// built-in `seed` and `strict`, a targets file, and the evaluation of a RunResult into checks and
// a score.
//
// What each threshold is judged on (the figure of the run, per function unless stated):
//   cold_start_ms   the worst exec -> first expected answer over the N fresh starts; a start that
//                   never answered makes the check a miss whatever the others did.
//   warm_p95_ms     the client's p95 (latency_ms, target "hasivu") of the closed-loop phases: the
//                   median over the repetitions.
//   api_p95_ms      the server's own request p95 of the function (ServerView::api_p95_ms).
//   error_rate      1 - success rate of the function's worst phase (closed and open, every
//                   repetition), so an error burst in one repetition is not diluted by clean ones.
//   db_p95_ms       server-wide: the server's database query p95 (ServerView::db_query_p95_ms).
//   cache_hit_rate  server-wide: the hit rate of all tiers (ServerView::cache_hit_rate["all"]).
// Checks are never averaged across functions: every function gets its own check of every
// per-function threshold, so one slow function fails however fast the others are.
//
// A threshold is the edge of the pass region, inclusive: upper bounds pass when actual <= the
// threshold, cache_hit_rate passes when actual >= it. The seed's "< 1000 ms" is stored as 1000 (at
// microsecond resolution the edge itself is moot) and the inclusive edge lets "errors 0" mean none.
//
// A check whose figure the run did not produce (no cold starts, a remote server without /metrics,
// the cache off, a function that never ran) is "not measured": never a pass, it counts as a miss
// in the score and in the verdict. Functions judged: RunConfig::functions, plus any function with
// a phase of the server under test or a cold start in the run.
//
// The targets file (JSON; several profiles in one file):
//   {
//     "profiles": {
//       "<name>": {
//         "description": "what the profile is for",           (optional string)
//         "cold_start_ms": 100,                                 (each threshold optional, a number)
//         "warm_p95_ms": 10,
//         "db_p95_ms": 5,
//         "api_p95_ms": 20,
//         "cache_hit_rate": 0.9,                                (a fraction in [0, 1], not percent)
//         "error_rate": 0,                                      (a fraction in [0, 1])
//         "functions": {                                        (optional per-function overrides)
//           "auth-login": {"warm_p95_ms": 250, "api_p95_ms": 200, "why": "argon2id on purpose"}
//         }
//       }
//     }
//   }
// An override may set cold_start_ms, warm_p95_ms, api_p95_ms and error_rate (replacing the
// profile's value for that function, or adding a check the profile lacks) and a "why" string;
// db_p95_ms and cache_hit_rate are server-wide and refused there. Function names must be among the
// ten (scenarios.h). Unknown keys, wrong types, negative thresholds, fractions outside [0, 1] and a
// profile with no threshold at all are InvalidArgument naming the key by its path.
//
// Thread-safety: values and pure functions.
#ifndef HASIVU_BENCH_TARGETS_H_
#define HASIVU_BENCH_TARGETS_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bench/result.h"
#include "common/status.h"

namespace hasivu::bench {

// Absent: no check of that figure.
struct Thresholds {
  std::optional<double> cold_start_ms;
  std::optional<double> warm_p95_ms;
  std::optional<double> db_p95_ms;  // server-wide only
  std::optional<double> api_p95_ms;
  std::optional<double> cache_hit_rate;  // server-wide only; a minimum
  std::optional<double> error_rate;
};

struct FunctionOverride {
  Thresholds thresholds;  // db_p95_ms and cache_hit_rate unset
  std::string why;        // shown in the report beside the exception
};

struct TargetSet {
  std::string profile;
  std::string description;
  Thresholds defaults;
  std::map<std::string, FunctionOverride> overrides;  // function -> override
  // The thresholds that apply to `function`: the defaults with the override's fields replacing
  // theirs.
  Thresholds For(std::string_view function) const;
};

// The seed's targets (its performance summary): cold < 1000 ms, warm p95 < 150 ms, DB p95 <
// 100 ms, API p95 < 300 ms, cache hit > 70 %, errors < 0.1 %; no per-function exception.
TargetSet SeedTargets();
// Ours, each number set against what the server does (targets.cc says why for each).
TargetSet StrictTargets();
// "seed" or "strict"; NotFound naming the known ones otherwise.
StatusOr<TargetSet> BuiltinTargets(std::string_view profile);

// Every profile of a targets file's text, in the file's order. InvalidArgument as described above,
// prefixed "targets file: ".
StatusOr<std::vector<TargetSet>> ParseTargets(std::string_view json);
// ParseTargets of the file at `path` (NotFound when it does not exist).
StatusOr<std::vector<TargetSet>> ReadTargetsFile(const std::string& path);
// The profile named `profile` of `sets`; NotFound naming those there are.
StatusOr<TargetSet> FindProfile(const std::vector<TargetSet>& sets, std::string_view profile);

enum class Metric { kColdStart, kWarmP95, kDbP95, kApiP95, kCacheHitRate, kErrorRate };
// "cold_start_ms", "warm_p95_ms", "db_p95_ms", "api_p95_ms", "cache_hit_rate", "error_rate": the
// keys of the targets file and of the JSON report.
std::string_view MetricKey(Metric metric);
// "cold start (worst of N)", "warm p95 (client)", ...: for people.
std::string_view MetricLabel(Metric metric);
// Whether the metric is judged once for the server rather than per function.
bool IsServerWide(Metric metric);
// True for cache_hit_rate (a minimum); false for the others (maxima).
bool IsLowerBound(Metric metric);

enum class Outcome { kPass, kMiss, kNotMeasured };
std::string_view OutcomeName(Outcome outcome);  // "pass", "miss", "not measured"

struct Check {
  std::string function;  // empty for a server-wide metric
  Metric metric = Metric::kWarmP95;
  double threshold = 0;
  // Absent when not measured, and for a cold start whose every start failed (a miss).
  std::optional<double> actual;
  Outcome outcome = Outcome::kNotMeasured;
  bool overridden = false;  // the threshold is the function's own (FunctionOverride)
  std::string note;         // how the figure was taken, or why it is missing
};

struct Evaluation {
  std::string profile;
  std::vector<Check> checks;  // server-wide checks first, then functions in kFunctions order
  int passed = 0;
  int missed = 0;
  int not_measured = 0;
  // Targets left out because they cannot apply to this run, each with why (a cache hit rate when
  // the local server ran with --cache none). Not checks: they count neither way in the score.
  std::vector<std::string> not_applicable;
  // 100 * passed / checks, 0 when there are no checks (ScoreFormula()).
  double score = 0;
  // Every check passed, and there was at least one.
  bool all_passed() const { return !checks.empty() && passed == static_cast<int>(checks.size()); }
};

// The score's formula as a sentence for the report.
std::string_view ScoreFormula();

// Judges `run` against `targets`.
Evaluation Evaluate(const RunResult& run, const TargetSet& targets);

// The functions a run is judged on (see above), in kFunctions order, then any others by name.
std::vector<std::string> JudgedFunctions(const RunResult& run);

}  // namespace hasivu::bench

#endif  // HASIVU_BENCH_TARGETS_H_
