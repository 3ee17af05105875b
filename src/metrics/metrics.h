// Metrics core (architecture decision 5): counters and log-linear latency histograms recorded
// without a lock shared by all threads, rendered as Prometheus text.
//
// Usage: a module asks the Registry once (at wiring time) for the series it records into and keeps
// the returned references; recording on a request path is then a few relaxed atomic adds into a
// per-thread shard. Metric names and label sets are fixed at registration (no per-request
// cardinality).
//
// Ownership: the Registry owns every Counter, Gauge and Histogram it returns; they live as long
// as the Registry. Thread-safety: all methods of all classes here are safe to call concurrently.
#ifndef HASIVU_METRICS_METRICS_H_
#define HASIVU_METRICS_METRICS_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hasivu::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  virtual ~Counter() = default;
  virtual void Add(uint64_t n = 1) = 0;
  virtual uint64_t Value() const = 0;  // sum over shards
};

class Gauge {
 public:
  virtual ~Gauge() = default;
  virtual void Set(int64_t v) = 0;
  virtual void Add(int64_t d) = 0;
  virtual int64_t Value() const = 0;
};

// Linear sub-buckets per power of two in a Histogram.
inline constexpr int kSubBuckets = 16;

// Summary of a histogram at one moment. Quantiles are interpolated within the bucket that holds
// them, so their error is bounded by the bucket width (under 1/kSubBuckets of the value), and
// clamped to [min, max].
struct HistogramSnapshot {
  uint64_t count = 0;
  double sum = 0;  // in the unit recorded
  double min = 0;
  double max = 0;
  double Quantile(double q) const;  // q in [0,1]; 0 when count == 0
  // Non-empty buckets as (upper bound, count in this bucket), ascending.
  std::vector<std::pair<double, uint64_t>> buckets;
};

// The bucket layout every Histogram shares (described below), for readers that keep or diff
// snapshots (metrics/monitor.h): bucket `index` in [0, kHistogramBucketCount) holds values in
// [HistogramBucketLower(index), HistogramBucketUpper(index)); HistogramSnapshot::buckets names a
// bucket by its upper bound. Pure functions.
inline constexpr size_t kHistogramBucketCount = 802;
size_t HistogramBucketIndex(double value);  // NaN and negatives: bucket 0
double HistogramBucketLower(size_t index);
double HistogramBucketUpper(size_t index);  // +infinity for the overflow bucket

// Log-linear histogram of non-negative values (latencies in microseconds, sizes in bytes).
// Buckets: values below 2^-10 (~0.001) in one bucket, then each power of two from 2^-10 up to
// 2^40 (~1.1e12) split into kSubBuckets linear sub-buckets, then one overflow bucket (there,
// quantiles interpolate towards max). min, max, sum and count are exact.
class Histogram {
 public:
  virtual ~Histogram() = default;
  // Negative values are recorded as 0; NaN and infinities are ignored.
  virtual void Record(double value) = 0;
  virtual HistogramSnapshot Snapshot() const = 0;
};

class Registry {
 public:
  virtual ~Registry() = default;
  // Returns the series with this name and labels, creating it on first call. Calling again with
  // the same name and labels (in any order) returns the same object. `help` is kept from the
  // first call. Characters not allowed in Prometheus metric or label names become '_'; label
  // values may hold anything (they are escaped on output).
  // Creation takes a mutex: call these at wiring time and keep the reference, not per request.
  // REQUIRES: a name is used for one kind only (counter, gauge or histogram); breaking that is a
  // programming error and aborts with a message naming the metric.
  virtual Counter& GetCounter(std::string_view name, std::string_view help,
                              const Labels& labels = {}) = 0;
  virtual Gauge& GetGauge(std::string_view name, std::string_view help,
                          const Labels& labels = {}) = 0;
  // `scale` converts recorded values to the exported unit (e.g. 1e-6 for microseconds recorded
  // and seconds exported, as Prometheus wants). Exported as a Prometheus histogram with the
  // standard fixed `le` bounds of `export_bounds` (in the exported unit). Default (empty): latency
  // bounds in seconds 0.0001 .. 10. Exported bucket counts are exact: each Record also counts
  // into a small per-bound array (a value within 1e-12 relative of a bound counts as <= it, so
  // unit-conversion rounding never moves a value across a bound). `scale` and `export_bounds`
  // are kept from the first call for that series.
  virtual Histogram& GetHistogram(std::string_view name, std::string_view help,
                                  const Labels& labels = {}, double scale = 1.0,
                                  std::vector<double> export_bounds = {}) = 0;
  // Prometheus text exposition format 0.0.4.
  virtual std::string RenderPrometheus() const = 0;
};

// The union of histogram snapshots taken of the same bucket layout (Histogram): counts, sums and
// bucket counts added, min and max over the non-empty ones. Quantile() of the result is that of
// one histogram that had recorded every value. Pure.
HistogramSnapshot MergeSnapshots(const std::vector<HistogramSnapshot>& parts);

// Export bounds in seconds (1-2-5 steps from 10 us to 5 s) for waits judged against a query's
// p99, which on loopback is well under the default bounds' first millisecond.
std::vector<double> FineLatencyBoundsSeconds();

using RegistryPtr = std::unique_ptr<Registry>;
RegistryPtr NewRegistry();

// "1xx".."5xx" for an HTTP status code, "other" outside 100..599: the `code` label value of
// per-route request counters.
std::string_view StatusClass(int status);

// The process's start instant, captured as early as possible (a static initialiser), so cold
// start can be reported as start -> first request served.
std::chrono::steady_clock::time_point ProcessStartSteady();
std::chrono::system_clock::time_point ProcessStartWall();

}  // namespace hasivu::metrics

#endif  // HASIVU_METRICS_METRICS_H_
