// The statistics behind `hasivu bench` (issue 14): exact summaries of the latencies one run
// recorded, and the noise-aware comparison of repeated runs against a baseline.
//
// Latencies are kept whole, not bucketed: a run of a minute at 50 000 requests/s is 3 M doubles
// (24 MB), and exact percentiles leave no bucket error to argue about when the numbers are set
// beside wrk's. Percentiles interpolate linearly between the two closest ranks (Hyndman and
// Fan's type 7, the default of numpy and R), so p50 of {1, 2, 3, 4} is 2.5.
//
// Thread-safety: pure functions of their arguments.
#ifndef HASIVU_BENCH_STATS_H_
#define HASIVU_BENCH_STATS_H_

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace hasivu::bench {

// One run's latencies (in the unit recorded), or any sample of a measure.
struct Summary {
  uint64_t count = 0;
  double min = 0;
  double max = 0;
  double mean = 0;
  double stddev = 0;  // sample standard deviation (n - 1); 0 for fewer than two values
  double p50 = 0;
  double p90 = 0;
  double p95 = 0;
  double p99 = 0;
  double p999 = 0;
};

// The q-quantile (q in [0, 1]; clamped into it, NaN taken as 0.5) of `sorted` (ascending,
// finite), type 7. 0 when empty. REQUIRES: `sorted` is sorted.
double Percentile(std::span<const double> sorted, double q);

// Summary of `values`, which it sorts. An empty sample gives count 0 and zeros. A NaN or an
// infinity is refused (InvalidArgument): a latency that is not a number is a bug upstream.
StatusOr<Summary> Summarize(std::vector<double> values);

// Median and range of one figure over repeated runs (e.g. each run's p95 or requests/s).
struct Spread {
  double median = 0;
  double min = 0;
  double max = 0;
};
// REQUIRES: `runs` is not empty and finite.
Spread SpreadOf(std::span<const double> runs);

// The seed's escalation of a regression: 5, 10 and 20 % worse than the baseline.
enum class RegressionLevel { kNone, kMinor, kModerate, kSevere };
inline constexpr double kMinorRegression = 0.05;
inline constexpr double kModerateRegression = 0.10;
inline constexpr double kSevereRegression = 0.20;
std::string_view RegressionLevelName(RegressionLevel level);  // "none", "minor", ...

enum class Better { kLower, kHigher };  // latency: lower is better; throughput: higher

struct Comparison {
  Spread baseline;
  Spread current;
  // current.median / baseline.median (0 when the baseline's median is 0).
  double ratio = 0;
  // How much worse the current median is, as a fraction of the baseline's (negative: better).
  double worse_by = 0;
  // Whether the runs' own spreads tell the two apart: each median lies outside the other's
  // range. A difference within the noise is never a regression, however large its median.
  bool beyond_noise = false;
  RegressionLevel level = RegressionLevel::kNone;  // kNone unless beyond_noise and worse
};

// Compares repeated runs of one figure. With a single run on a side its range is that run, so
// the verdict rests on the other side's spread alone; with one run on each, any difference is
// beyond the (unknown) noise: run three or more.
// REQUIRES: both non-empty and finite.
Comparison CompareRuns(std::span<const double> baseline, std::span<const double> current,
                       Better better);

}  // namespace hasivu::bench

#endif  // HASIVU_BENCH_STATS_H_
