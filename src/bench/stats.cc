#include "bench/stats.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace hasivu::bench {

double Percentile(std::span<const double> sorted, double q) {
  if (sorted.empty()) return 0;
  // Out of range (or NaN) would index past the ends; the nearest end is the only sensible answer.
  q = std::isnan(q) ? 0.5 : std::clamp(q, 0.0, 1.0);
  const double h = q * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(h));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

StatusOr<Summary> Summarize(std::vector<double> values) {
  Summary s;
  if (values.empty()) return s;
  for (double v : values) {
    if (!std::isfinite(v)) {
      return InvalidArgumentError("bench statistics: a value is not a finite number");
    }
  }
  std::sort(values.begin(), values.end());
  s.count = values.size();
  s.min = values.front();
  s.max = values.back();
  // Two passes (mean, then squared deviations): one pass loses digits when the spread is small
  // beside the mean, as latencies around a fixed cost are.
  double sum = 0;
  for (double v : values) sum += v;
  s.mean = sum / static_cast<double>(s.count);
  if (s.count > 1) {
    double squares = 0;
    for (double v : values) squares += (v - s.mean) * (v - s.mean);
    s.stddev = std::sqrt(squares / static_cast<double>(s.count - 1));
  }
  s.p50 = Percentile(values, 0.50);
  s.p90 = Percentile(values, 0.90);
  s.p95 = Percentile(values, 0.95);
  s.p99 = Percentile(values, 0.99);
  s.p999 = Percentile(values, 0.999);
  return s;
}

Spread SpreadOf(std::span<const double> runs) {
  std::vector<double> sorted(runs.begin(), runs.end());
  std::sort(sorted.begin(), sorted.end());
  return {.median = Percentile(sorted, 0.5), .min = sorted.front(), .max = sorted.back()};
}

std::string_view RegressionLevelName(RegressionLevel level) {
  switch (level) {
    case RegressionLevel::kNone:
      return "none";
    case RegressionLevel::kMinor:
      return "minor";
    case RegressionLevel::kModerate:
      return "moderate";
    case RegressionLevel::kSevere:
      return "severe";
  }
  return "none";
}

Comparison CompareRuns(std::span<const double> baseline, std::span<const double> current,
                       Better better) {
  Comparison c;
  c.baseline = SpreadOf(baseline);
  c.current = SpreadOf(current);
  const double base = c.baseline.median;
  c.ratio = base != 0 ? c.current.median / base : 0;
  if (base != 0) {
    const double delta = (c.current.median - base) / std::abs(base);
    c.worse_by = better == Better::kLower ? delta : -delta;
  }
  const auto outside = [](double v, const Spread& s) { return v < s.min || v > s.max; };
  c.beyond_noise = outside(c.current.median, c.baseline) && outside(c.baseline.median, c.current);
  if (c.beyond_noise) {
    if (c.worse_by >= kSevereRegression) {
      c.level = RegressionLevel::kSevere;
    } else if (c.worse_by >= kModerateRegression) {
      c.level = RegressionLevel::kModerate;
    } else if (c.worse_by >= kMinorRegression) {
      c.level = RegressionLevel::kMinor;
    }
  }
  return c;
}

}  // namespace hasivu::bench
