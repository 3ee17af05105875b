// Internal to hasivu_bench (report.cc, report_svg.cc): how the reports pick phases out of a run.
//
// Thread-safety: pure functions.
#ifndef HASIVU_BENCH_REPORT_INTERNAL_H_
#define HASIVU_BENCH_REPORT_INTERNAL_H_

#include <string>
#include <vector>

#include "bench/result.h"

namespace hasivu::bench::internal {

// A series: the phases of one mode, offered rate and connection count, which repetitions repeat.
struct SeriesKey {
  std::string mode;
  double offered_rate = 0;
  int connections = 0;
  friend bool operator==(const SeriesKey&, const SeriesKey&) = default;
  // Closed before open, then by rate and connections.
  friend bool operator<(const SeriesKey& a, const SeriesKey& b);
};
SeriesKey KeyOf(const PhaseResult& p);
// "closed loop, 32 connections" / "open loop at 1000 requests/s, 10 connections".
std::string SeriesTitle(const SeriesKey& key);

// The phases of `function` on `target` with answers (latency_ms.count > 0), in run order.
std::vector<const PhaseResult*> AnsweredPhases(const RunResult& run, const std::string& function,
                                               const std::string& target);

// The phase whose latency curve stands for `function` on `target` (see LatencySvg), or null.
const PhaseResult* RepresentativePhase(const RunResult& run, const std::string& function,
                                       const std::string& target);

// The (quantile, ms) points of `p`: its percentile_curve, or its Summary's percentiles.
std::vector<std::pair<double, double>> CurveOf(const PhaseResult& p);

// The functions with phases on `target`, in kFunctions order, then others by name.
std::vector<std::string> FunctionsOn(const RunResult& run, const std::string& target);

}  // namespace hasivu::bench::internal

#endif  // HASIVU_BENCH_REPORT_INTERNAL_H_
