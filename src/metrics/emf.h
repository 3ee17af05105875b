// CloudWatch Embedded Metric Format (EMF): what the monitor's series did over an interval,
// encoded as JSON documents, one per log line, that CloudWatch Logs turns into metrics of the
// namespace catalog::kNamespace (architecture decision 5: written by a background flusher, never
// on a request's path).
//
// EncodeEmf is pure (plain inputs, no clock, no I/O); EmfFlusher (emf_flusher.h) runs it on a
// schedule and writes the lines.
//
// Document shape (the EMF specification): a root object whose `_aws` member holds `Timestamp`
// (integer milliseconds since the epoch) and `CloudWatchMetrics`, one directive with `Namespace`,
// `Dimensions` (one dimension set: the names of the document's dimensions, possibly none) and
// `Metrics` (at most 100 definitions with `Name`, `Unit` and `StorageResolution` 60). Each
// dimension is a top-level member holding its value (a string), so one document carries one set
// of dimension values: series are grouped by identical (name, value) sets. Each metric is a
// top-level member holding
//   kSum:          the interval's total (one number);
//   kLatest:       the level (one number); a series with no known level is omitted;
//   kDistribution: the observations as an array of at most 100 numbers, each representative
//                  value of IntervalData::values repeated by its count. A series with more
//                  values continues in further documents with the same dimensions (its kSum and
//                  kLatest neighbours are written once, in the first), so CloudWatch sees every
//                  observation: its SampleCount, Sum, Minimum, Maximum and percentiles are those
//                  of the interval.
// Distributions without observations and levels without a value are skipped; a kSum that did
// not move is written as 0 (a known zero, not missing data).
//
// Bounding a flush: a distribution holding more than EmfLimits::max_values_per_series values is
// scaled down to that many, each representative's count proportionally (largest remainder, the
// smallest and largest representative kept at least once so Minimum and Maximum stay exact), so
// percentiles and Average stay right within 1/max_values_per_series; the values not sent are
// counted in EmfStats::values_dropped.
//
// No `<Name>SampleCount` companion metric. A companion would be a second billed metric that no
// dashboard or alarm reads, and it cannot make the distribution's own SampleCount right when
// scaling happened; instead the bound is set high enough (default 3000 observations per series
// per flush, 50/s at the default 60 s interval) that in normal operation nothing is scaled and
// CloudWatch's SampleCount of each distribution is the true count, and where a true count matters
// at any load the catalog records it as a kSum series of its own (ApiRequests beside
// ApiLatency). A flush that did scale is visible in EmfStats and the Prometheus counter
// hasivu_emf_dropped_values_total.
//
// Thread-safety: EncodeEmf is a pure function.
#ifndef HASIVU_METRICS_EMF_H_
#define HASIVU_METRICS_EMF_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "metrics/series.h"

namespace hasivu::metrics {

struct EmfLimits {
  // EMF: at most 100 metric definitions per directive. Default: 100.
  size_t max_metrics_per_document = 100;
  // EMF: a metric value is a number or an array of at most 100 numbers. Default: 100.
  size_t max_values_per_metric = 100;
  // EMF: a dimension set names 0-30 dimensions; a series with more is dropped. Default: 30.
  size_t max_dimensions = 30;
  // CloudWatch Logs: at most 256 KB per event. Default: 262144.
  size_t max_document_bytes = 256 * 1024;
  // Observations of one distribution sent per call; more are scaled down (see above).
  // Default: 3000. REQUIRES: >= 2.
  size_t max_values_per_series = 3000;
};

// What one EncodeEmf call did (added to, so one EmfStats can sum several calls).
struct EmfStats {
  uint64_t documents = 0;           // lines returned
  uint64_t oversize_documents = 0;  // one metric's document over max_document_bytes, not returned
  uint64_t series = 0;              // series written (in one or more documents)
  uint64_t series_skipped = 0;      // no data: a distribution without values, a level without one
  // Series that could not be encoded: over max_dimensions, a non-finite kSum/kLatest value, a
  // name clashing with a dimension of the same document or with "_aws", or a single metric's
  // first document over max_document_bytes.
  uint64_t series_dropped = 0;
  uint64_t values = 0;          // numbers written in distribution arrays
  uint64_t values_dropped = 0;  // observations not sent: scaled away, non-finite, or dropped
};

// Encodes `intervals` as EMF documents stamped `timestamp_ms` (milliseconds since the epoch), one
// JSON object per string, without a trailing newline. Documents come out grouped by dimension
// set (sorted by dimension names and values), each group's series in input order; empty input
// (or input without data) gives no documents. `stats` may be null.
std::vector<std::string> EncodeEmf(const std::vector<SeriesInterval>& intervals,
                                   int64_t timestamp_ms, const EmfLimits& limits = {},
                                   EmfStats* stats = nullptr);

// The counts sent for a distribution of `counts` (one per representative value) scaled down to
// `budget` values in all when they add up to more (largest remainder; the first and last nonzero
// count keep at least one when budget >= 2); unchanged when they fit. Exposed for tests.
std::vector<uint64_t> ScaleCountsForEmf(const std::vector<uint64_t>& counts, uint64_t budget);

}  // namespace hasivu::metrics

#endif  // HASIVU_METRICS_EMF_H_
