#include "bench/format.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace hasivu::bench::internal {

std::string Fixed(double v, int decimals) {
  if (!std::isfinite(v)) return "–";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  // "-0.00" reads as a sign that is not there.
  std::string out(buf);
  if (out.size() > 1 && out[0] == '-' && out.find_first_not_of("-0.") == std::string::npos) {
    out.erase(0, 1);
  }
  return out;
}

std::string Significant(double v) {
  if (!std::isfinite(v)) return "–";
  const double a = std::abs(v);
  if (a >= 100 || a == 0) return Fixed(v, 0);
  // Digits after the point for three significant ones; latencies span 0.01 ms to 1000 ms.
  const int decimals = std::min(6, 2 - static_cast<int>(std::floor(std::log10(a))));
  return Fixed(v, decimals);
}

std::string Shortest(double v) {
  if (!std::isfinite(v)) return "–";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.6g", v);
  return buf;
}

std::string Grouped(double v) {
  if (!std::isfinite(v)) return "–";
  std::string digits = Fixed(std::abs(v), 0);
  std::string out;
  const size_t n = digits.size();
  for (size_t i = 0; i < n; ++i) {
    if (i > 0 && (n - i) % 3 == 0) out += ' ';
    out += digits[i];
  }
  if (v < 0 && out != "0") out.insert(0, "-");
  return out;
}

std::string Percent(double fraction, int decimals) {
  if (!std::isfinite(fraction)) return "–";
  return Fixed(fraction * 100, decimals) + " %";
}

}  // namespace hasivu::bench::internal
