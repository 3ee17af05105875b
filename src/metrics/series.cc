#include "metrics/series.h"

#include <algorithm>
#include <cmath>

namespace hasivu::metrics {

std::string_view UnitName(Unit unit) {
  switch (unit) {
    case Unit::kNone:
      return "None";
    case Unit::kCount:
      return "Count";
    case Unit::kMicroseconds:
      return "Microseconds";
    case Unit::kMilliseconds:
      return "Milliseconds";
    case Unit::kSeconds:
      return "Seconds";
    case Unit::kBytes:
      return "Bytes";
    case Unit::kPercent:
      return "Percent";
    case Unit::kCountPerSecond:
      return "Count/Second";
  }
  return "None";
}

double IntervalData::Quantile(double q) const {
  if (count == 0 || values.empty()) return 0;
  q = std::clamp(q, 0.0, 1.0);
  // Nearest rank: the smallest value with at least q * count observations at or below it, the
  // definition CloudWatch's percentile statistics use.
  const uint64_t rank =
      std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(count))));
  uint64_t seen = 0;
  for (const auto& [value, n] : values) {
    seen += n;
    if (seen >= rank) return value;
  }
  return values.back().first;
}

}  // namespace hasivu::metrics
