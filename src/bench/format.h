// Internal to hasivu_bench (targets.cc, baseline.cc, cost.cc, report.cc): numbers as the reports
// print them. The bench layer sees only common/, Boost and the standard library (D29), and GCC 12
// has no std::format, so these wrap snprintf.
//
// Thread-safety: pure functions.
#ifndef HASIVU_BENCH_FORMAT_H_
#define HASIVU_BENCH_FORMAT_H_

#include <string>

namespace hasivu::bench::internal {

// `v` with `decimals` digits after the point ("12.35"); "–" when it is not finite.
std::string Fixed(double v, int decimals);
// Three significant digits or whole numbers, whichever is longer: 0.0123, 1.23, 12.3, 123, 1234.
std::string Significant(double v);
// As few digits as say it exactly, up to six significant: 10, 0.1, 1769, 0.0000166667
// as 1.66667e-05. For thresholds and settings, which are round numbers a person typed.
std::string Shortest(double v);
// A whole number in groups of three separated by spaces: "24 951".
std::string Grouped(double v);
// A fraction as a percentage with `decimals` digits: 0.955 -> "95.5 %".
std::string Percent(double fraction, int decimals = 1);

}  // namespace hasivu::bench::internal

#endif  // HASIVU_BENCH_FORMAT_H_
