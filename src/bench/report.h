// The reports of `hasivu bench` (issue 14, point 7) and its exit code (point 5), from a finished
// RunResult and what was judged of it: Markdown for people, JSON for CI, SVG plots.
//
// The exit code (DecideVerdict):
//   3 the run itself failed: RunResult::run_errors is not empty, or not one request of any
//     function got its expected answer (in a phase or a cold start): such a run shows the setup
//     is wrong (the URL, fixtures of another database), and no data is never a pass;
//   2 a regression: a figure regressed beyond the noise at ReportInputs::regression_fails_at or
//     worse against the baseline;
//   1 a target missed: a check of the deciding profile missed or was not measured;
//   0 pass: every check of the deciding profile passed.
// When several apply the highest wins, 3 > 2 > 1: a failed run makes the other verdicts
// meaningless, and a regression is news about a change, which is what a CI gate exists to catch,
// while a missed target may be as old as the target. Verdict::reasons lists every one that
// applies.
//
// Thread-safety: pure functions of their arguments.
#ifndef HASIVU_BENCH_REPORT_H_
#define HASIVU_BENCH_REPORT_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bench/baseline.h"
#include "bench/cost.h"
#include "bench/result.h"
#include "bench/stats.h"
#include "bench/targets.h"
#include "common/status.h"

namespace hasivu::bench {

enum class ExitCode { kPass = 0, kTargetMissed = 1, kRegression = 2, kRunFailed = 3 };
// "pass", "target missed", "regression", "run failed".
std::string_view ExitCodeName(ExitCode code);

struct ReportInputs {
  // The profiles to judge the run by. The first decides the exit code (the one --targets chose);
  // the others are shown beside it (the seed's beside ours). Empty: the seed's alone.
  std::vector<TargetSet> targets;
  std::optional<BaselineComparison> baseline;  // --baseline
  // A regression at this level or worse exits 2. REQUIRES: not kNone.
  RegressionLevel regression_fails_at = RegressionLevel::kMinor;
  std::optional<CostEstimate> cost;
};

struct Verdict {
  ExitCode code = ExitCode::kRunFailed;
  // Every condition that applies, the deciding one first ("3 checks of strict missed: ...").
  std::vector<std::string> reasons;
  int exit_code() const { return static_cast<int>(code); }
};

// Whether any function got an expected answer (a phase's succeeded > 0 of the server under test,
// or a cold start's first success).
bool RunProducedData(const RunResult& run);

Verdict DecideVerdict(const RunResult& run, const ReportInputs& inputs);

// The report a person reads: summary (score, verdict, machine, configuration, host steal), the
// targets of every profile side by side with each function's checks, cold-start and warm tables
// per function (p50/p90/p95/p99/p99.9, mean, max, requests/s, success rate, error kinds; medians
// over repetitions), the peer side by side with ratios, the wrk check, the server's view, the rate
// sweep, the baseline comparison, cost, what failed, and recommendations drawn from the numbers.
std::string MarkdownReport(const RunResult& run, const ReportInputs& inputs);

// Everything in `run` (every phase with its percentile curve, every cold start, the server's view,
// the wrk checks, the sweep, the run's errors) plus the evaluations with their checks, the score
// and its formula, the baseline comparison, the cost and the verdict with its exit code, as one
// JSON object: {"format": "hasivu-bench-report", "version": 1, "config": ..., "phases": [...],
// ..., "evaluations": [...], "score": ..., "verdict": {...}, "exit_code": n}. Keys are the field
// names of result.h; a figure not measured is null.
std::string JsonReport(const RunResult& run, const ReportInputs& inputs);

// Latency percentile curves, one line (an SVG <path>) per function and per target (the peer's
// dashed): x is the percentile on the HdrHistogram-style scale -log10(1 - q), ticks at 0, 90, 99,
// 99.9 and 99.99 %; y the latency in ms on a log scale. Each line is the closed-loop repetition
// whose p95 is the median of that function's (a real run's curve, not a blend), else its open-
// loop phase at the highest offered rate; the phase's percentile_curve, or its Summary's
// percentiles when the curve is empty. An SVG with a "no data" note when nothing was measured.
std::string LatencySvg(const RunResult& run);

// The rate sweep: achieved requests/s (x, linear) against p99 latency (y, ms, log scale), one line
// per function through its sweep points in offered-rate order, a dot at each.
std::string SweepSvg(const RunResult& run);

// Writes a report to `path` atomically (a temporary file beside it and a rename).
Status WriteReportFile(const std::string& path, std::string_view text);

}  // namespace hasivu::bench

#endif  // HASIVU_BENCH_REPORT_H_
