// The CloudWatch-facing description of a metric series and of what it did over an interval: the
// data that passes from the monitor (metrics/monitor.h, which records) to its readers (the EMF
// exporter, the alarm evaluator, the dashboard), so each reader works on plain values and can be
// tested without a live monitor.
//
// A series is (metric name, dimension set): CloudWatch treats a name with dimensions as a
// different metric from the same name without them, so both travel together everywhere.
//
// Thread-safety: plain values; no shared state.
#ifndef HASIVU_METRICS_SERIES_H_
#define HASIVU_METRICS_SERIES_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hasivu::metrics {

// The CloudWatch units hasivu uses (a subset of the documented list).
enum class Unit {
  kNone,
  kCount,
  kMicroseconds,
  kMilliseconds,
  kSeconds,
  kBytes,
  kPercent,
  kCountPerSecond,
};

// The CloudWatch spelling: "None", "Count", "Microseconds", "Milliseconds", "Seconds", "Bytes",
// "Percent", "Count/Second".
std::string_view UnitName(Unit unit);

// (dimension name, value) pairs, sorted by name, names unique. Values come from small fixed sets
// (function name, store kind, cache tier, query kind, error kind): never a user, order or
// request id.
using Dimensions = std::vector<std::pair<std::string, std::string>>;

// How a series aggregates over an interval.
enum class Aggregation {
  kDistribution,  // observations (latencies, sizes): every statistic, percentiles included
  kSum,           // a count or amount added up (requests, errors, paise captured)
  kLatest,        // a level sampled at collection (pool in use, RSS, a computed rate)
};

struct SeriesInfo {
  std::string name;  // CloudWatch metric name, e.g. "ApiLatency"
  Unit unit = Unit::kNone;
  Dimensions dimensions;
  Aggregation aggregation = Aggregation::kDistribution;
};

// What one series did between two collections.
struct IntervalData {
  // kDistribution: observations in the interval; kSum: additions; kLatest: 1 when a level is
  // known, 0 when not (the data point is missing).
  uint64_t count = 0;
  // kDistribution: sum of the values observed; kSum: the total added; kLatest: the level.
  double sum = 0;
  // kDistribution only: smallest and largest value observed (within the histogram's bucket
  // error), and the distribution as (representative value, how many), ascending by value, each
  // representative clamped to [min, max]. The counts add up to `count`.
  double min = 0;
  double max = 0;
  std::vector<std::pair<double, uint64_t>> values;

  // kDistribution: the q-quantile (q in [0,1]) of `values`, 0 when count == 0.
  double Quantile(double q) const;
};

struct SeriesInterval {
  SeriesInfo info;
  IntervalData data;
};

}  // namespace hasivu::metrics

#endif  // HASIVU_METRICS_SERIES_H_
