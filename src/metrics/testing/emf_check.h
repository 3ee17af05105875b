// An independent check of CloudWatch Embedded Metric Format documents, written from the EMF
// specification (../shared/reference/cloudwatch-facts.md) rather than from metrics/emf.cc, so a
// test that runs the encoder's output through it tests the encoder against the specification.
// Used by the encoder's unit tests and by the end-to-end test on the lines a live server wrote.
//
// Thread-safety: a pure function.
#ifndef HASIVU_METRICS_TESTING_EMF_CHECK_H_
#define HASIVU_METRICS_TESTING_EMF_CHECK_H_

#include <string>

namespace hasivu::metrics::testing {

// "" when `line` is one valid EMF document, else what is wrong with it (the first problem
// found): at most 256 KB, one line, a JSON object whose `_aws` holds an integer `Timestamp` and a
// non-empty `CloudWatchMetrics` array of directives with only `Namespace` (1-255 characters),
// `Dimensions` (a non-empty array of dimension sets of 0-30 names, each a top-level string member)
// and `Metrics` (at most 100 definitions with only `Name`, `Unit` from the documented list and
// `StorageResolution` 1 or 60, each naming a top-level member that is a number or an array of at
// most 100 numbers).
std::string CheckEmfDocument(const std::string& line);

}  // namespace hasivu::metrics::testing

#endif  // HASIVU_METRICS_TESTING_EMF_CHECK_H_
