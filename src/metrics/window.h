// The arithmetic behind the monitor's windows and collections (metrics/monitor.h), apart from
// its bookkeeping so it can be tested on its own: a histogram's cumulative state as a sparse list
// of bucket counts, the difference of two such states (what was recorded in between), the
// (representative value, count) list CloudWatch readers get, and statistics over merged counts.
//
// Everything is in the histogram's recorded unit unless a `scale` (exported unit per recorded
// unit) is passed. Min and max of a difference are exact when the interval set a new low or high
// (or is the first), and otherwise the bound of the lowest/highest bucket it touched, clamped to
// the cumulative min/max: within one bucket width (< 1/kSubBuckets relative) of the truth.
//
// Thread-safety: pure functions over values.
#ifndef HASIVU_METRICS_WINDOW_H_
#define HASIVU_METRICS_WINDOW_H_

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "metrics/metrics.h"

namespace hasivu::metrics::window {

// One non-empty bucket of a histogram layout (metrics.h, kHistogramBucketCount).
struct BucketCount {
  uint32_t index = 0;
  uint64_t count = 0;
};

// A histogram's state since it began, or what it recorded over an interval: `buckets` ascending
// by index, no zero counts; min/max meaningful only when count > 0.
struct HistogramCounts {
  uint64_t count = 0;
  double sum = 0;
  double min = 0;
  double max = 0;
  std::vector<BucketCount> buckets;
};

// The cumulative state of `snapshot` (its buckets named by index instead of upper bound).
HistogramCounts FromSnapshot(const HistogramSnapshot& snapshot);

// What was recorded between `before` and `now`, two cumulative states of one histogram taken in
// that order (an empty `before`: everything in `now`). Min and max as in the file comment.
HistogramCounts Diff(const HistogramCounts& now, const HistogramCounts& before);

// Adds `part`'s bucket counts into `dense` (kHistogramBucketCount entries).
void AddTo(std::span<uint64_t> dense, const HistogramCounts& part);

// `dense` (kHistogramBucketCount counts) with the given min and max as a snapshot, so its
// Quantile() interpolates within buckets.
HistogramSnapshot SnapshotOf(std::span<const uint64_t> dense, double sum, double min, double max);

// One (value, count) per non-empty bucket of `interval`, ascending: the bucket's midpoint (the
// overflow bucket: max; a lowest or highest bucket holding one value: min or max) clamped to
// [min, max], times `scale`; equal neighbours merged. Counts add up to interval.count.
std::vector<std::pair<double, uint64_t>> Representatives(const HistogramCounts& interval,
                                                         double scale);

// Nearest-rank q-quantile of `values` (sorted in place); 0 when empty.
double NearestRank(std::vector<double>& values, double q);

}  // namespace hasivu::metrics::window

#endif  // HASIVU_METRICS_WINDOW_H_
