#include "metrics/window.h"

#include <algorithm>
#include <cmath>

namespace hasivu::metrics::window {

HistogramCounts FromSnapshot(const HistogramSnapshot& snapshot) {
  HistogramCounts out;
  out.count = snapshot.count;
  out.sum = snapshot.sum;
  out.min = snapshot.min;
  out.max = snapshot.max;
  out.buckets.reserve(snapshot.buckets.size());
  for (const auto& [upper, n] : snapshot.buckets) {
    if (n == 0) continue;
    // An upper bound is the next bucket's lower bound; the overflow bucket's is +infinity.
    const size_t index =
        std::isinf(upper) ? kHistogramBucketCount - 1 : HistogramBucketIndex(upper) - 1;
    out.buckets.push_back({static_cast<uint32_t>(index), n});
  }
  return out;
}

HistogramCounts Diff(const HistogramCounts& now, const HistogramCounts& before) {
  HistogramCounts out;
  size_t j = 0;
  for (const BucketCount& b : now.buckets) {
    while (j < before.buckets.size() && before.buckets[j].index < b.index) ++j;
    const uint64_t earlier = j < before.buckets.size() && before.buckets[j].index == b.index
                                 ? before.buckets[j].count
                                 : 0;
    // Counts only grow; a smaller one would be a torn read, never a negative interval.
    if (b.count > earlier) {
      out.buckets.push_back({b.index, b.count - earlier});
      out.count += b.count - earlier;
    }
  }
  if (out.count == 0) return HistogramCounts{};
  out.sum = std::max(0.0, now.sum - before.sum);
  if (before.count == 0) {
    out.min = now.min;
    out.max = now.max;
  } else {
    // A new low or high was recorded in the interval, so it is exact; otherwise the interval's
    // extreme lies in its extreme bucket and no further out than the cumulative one.
    out.min = now.min < before.min
                  ? now.min
                  : std::max(HistogramBucketLower(out.buckets.front().index), now.min);
    out.max = now.max > before.max
                  ? now.max
                  : std::min(HistogramBucketUpper(out.buckets.back().index), now.max);
  }
  if (out.max < out.min) out.max = out.min;
  return out;
}

void AddTo(std::span<uint64_t> dense, const HistogramCounts& part) {
  for (const BucketCount& b : part.buckets) {
    if (b.index < dense.size()) dense[b.index] += b.count;
  }
}

HistogramSnapshot SnapshotOf(std::span<const uint64_t> dense, double sum, double min, double max) {
  HistogramSnapshot s;
  for (size_t i = 0; i < dense.size(); ++i) {
    if (dense[i] == 0) continue;
    s.count += dense[i];
    s.buckets.emplace_back(HistogramBucketUpper(i), dense[i]);
  }
  s.sum = sum;
  s.min = min;
  s.max = max;
  return s;
}

std::vector<std::pair<double, uint64_t>> Representatives(const HistogramCounts& interval,
                                                         double scale) {
  std::vector<std::pair<double, uint64_t>> out;
  out.reserve(interval.buckets.size());
  for (size_t i = 0; i < interval.buckets.size(); ++i) {
    const BucketCount& b = interval.buckets[i];
    const double upper = HistogramBucketUpper(b.index);
    double v = std::isinf(upper) ? interval.max : (HistogramBucketLower(b.index) + upper) / 2;
    // A lone value in the lowest or highest bucket is the interval's min or max itself.
    if (b.count == 1 && i == 0) v = interval.min;
    if (b.count == 1 && i + 1 == interval.buckets.size()) v = interval.max;
    const double value = std::clamp(v, interval.min, interval.max) * scale;
    if (!out.empty() && out.back().first == value) {
      out.back().second += b.count;
    } else {
      out.emplace_back(value, b.count);
    }
  }
  return out;
}

double NearestRank(std::vector<double>& values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  q = std::clamp(q, 0.0, 1.0);
  const size_t rank =
      std::max<size_t>(1, static_cast<size_t>(std::ceil(q * static_cast<double>(values.size()))));
  return values[std::min(rank, values.size()) - 1];
}

}  // namespace hasivu::metrics::window
