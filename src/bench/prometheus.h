// The Prometheus text exposition format (version 0.0.4), as the server's GET /metrics answers it:
// a parser, lookups of samples by name and a subset of their labels, and the arithmetic of two
// scrapes of one server (counter increases, histogram bucket differences, quantiles of those).
//
// Format (https://prometheus.io/docs/instrumenting/exposition_formats/): one item a line, lines
// end with '\n' (a '\r' before it is tolerated). Empty lines are skipped. "# HELP name text"
// (text escapes \\ and \n) and "# TYPE name counter|gauge|histogram|summary|untyped" describe a
// family, at most once each per name; any other line starting with '#' is a comment. A sample is
//   name [ "{" label="value" { "," label="value" } [ "," ] "}" ] value [ timestamp_ms ]
// with name [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]*, label values in double
// quotes with the escapes \\ \" \n (any other escape is refused), a value that is a float or
// +Inf / -Inf / NaN (any case, as Go's ParseFloat takes them), and an optional integer timestamp
// in milliseconds. A histogram `h` is the samples h_bucket{...,le="<upper bound>"} (cumulative
// counts, le="+Inf" last), h_sum and h_count; the parser checks that every h_bucket of a family
// typed histogram carries a numeric `le`.
//
// Thread-safety: values and pure functions.
#ifndef HASIVU_BENCH_PROMETHEUS_H_
#define HASIVU_BENCH_PROMETHEUS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace hasivu::bench {

// Label name -> value. Ordered, so two samples with the same labels compare equal.
using MetricLabels = std::map<std::string, std::string, std::less<>>;

struct MetricSample {
  std::string name;  // as written: h_bucket, h_sum, h_count for a histogram's parts
  MetricLabels labels;
  double value = 0;
  std::optional<int64_t> timestamp_ms;
  int line = 0;  // 1-based line of the input
};

enum class MetricType { kUntyped, kCounter, kGauge, kHistogram, kSummary };

struct MetricFamily {
  std::string help;  // unescaped; empty without a HELP line
  MetricType type = MetricType::kUntyped;
};

// One answer of GET /metrics.
struct Scrape {
  std::vector<MetricSample> samples;                          // in input order
  std::map<std::string, MetricFamily, std::less<>> families;  // by name, from HELP/TYPE lines
};

// Parses `text`. Malformed input -> InvalidArgument whose message starts "line N: " (1-based):
// a bad name, label or escape, an unterminated value, a duplicate label in one sample, a value
// or timestamp that is not a number, anything after the timestamp, an unknown TYPE, a second
// HELP or TYPE for one name, a histogram bucket without a numeric `le`.
StatusOr<Scrape> ParsePrometheusText(std::string_view text);

// The samples named `name` whose labels include every pair of `subset` (an empty subset matches
// all of them), in input order. Pointers into `scrape`.
std::vector<const MetricSample*> FindSamples(const Scrape& scrape, std::string_view name,
                                             const MetricLabels& subset = {});
// The first of FindSamples, or nullptr.
const MetricSample* FindSample(const Scrape& scrape, std::string_view name,
                               const MetricLabels& subset = {});

// How much the counters `name` matching `subset` grew from `before` to `after`, summed over the
// matching series. Series are paired by their full label set. A series only in `after` was
// created during the interval and counts from 0; a series that went down was reset (the server
// restarted) and counts its `after` value, as Prometheus's increase() does; a series only in
// `before` contributes nothing. nullopt when no sample of `after` matches.
std::optional<double> CounterIncrease(const Scrape& before, const Scrape& after,
                                      std::string_view name, const MetricLabels& subset = {});

// One histogram's cumulative bucket counts.
struct HistogramBucket {
  double upper_bound = 0;  // `le`; +infinity for the last
  double cumulative_count = 0;
};
struct HistogramCounts {
  std::vector<HistogramBucket> buckets;  // ascending upper bounds
  double sum = 0;
  double count = 0;
};

// The histogram family `name` (without _bucket) in `scrape`, its series matching `subset`
// merged (bucket counts, sums and counts added: e.g. kind="read" and kind="write" together).
// nullopt when no _bucket sample matches; InvalidArgument when the merged series' bucket bounds
// differ (they cannot be added) or a series has two buckets with one bound.
StatusOr<std::optional<HistogramCounts>> FindHistogram(const Scrape& scrape, std::string_view name,
                                                       const MetricLabels& subset = {});

// The observations recorded between two scrapes: after - before, bucket by bucket. `before` may
// be empty (a histogram created during the interval). When any bucket or the count went down,
// the server restarted and `after` alone is the interval's (as CounterIncrease). InvalidArgument
// when both have buckets and their bounds differ.
StatusOr<HistogramCounts> HistogramDelta(const HistogramCounts& before,
                                         const HistogramCounts& after);

// The q-quantile of `h`, as Prometheus's histogram_quantile() estimates it: q is clamped into
// [0, 1]; the rank q * (the +Inf bucket's count) falls in the first bucket whose cumulative count
// reaches it, and the observations are taken as spread evenly inside that bucket (linear
// interpolation from the bucket's lower bound, the previous upper bound, or 0 for the first
// bucket when its upper bound is positive, to its upper bound). Bucket counts that go down along
// the bounds are taken as the running maximum.
//
// The +Inf bucket has no upper bound to interpolate to: a rank that falls in it answers the
// highest finite upper bound, a floor of the true quantile, and sets *in_overflow (when given)
// to true. nullopt when q is NaN, `h` has no observations, has no +Inf bucket or no finite one.
std::optional<double> HistogramQuantile(const HistogramCounts& h, double q,
                                        bool* in_overflow = nullptr);

}  // namespace hasivu::bench

#endif  // HASIVU_BENCH_PROMETHEUS_H_
