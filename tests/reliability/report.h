// What a reliability scenario measured, as one JSON line appended to the file named by
// HASIVU_RELIABILITY_REPORT (bench/reliability.sh sets it and renders docs/reliability.md from
// the lines); nothing is written when it is unset. The same figures go to the test's output.
//
// Thread-safety: call from the test's thread.
#ifndef HASIVU_TESTS_RELIABILITY_REPORT_H_
#define HASIVU_TESTS_RELIABILITY_REPORT_H_

#include <boost/json.hpp>
#include <map>
#include <string>

#include "tests/reliability/campaign.h"
#include "tests/reliability/store_check.h"

namespace hasivu::reliability {

// Requests by outcome per function, with p50/p99/max latency of the answered ones (ms).
boost::json::object TallyJson(const std::map<std::string, FunctionTally>& tallies);
// Writes acknowledged and found, per function, from a settled campaign and its store check.
boost::json::object WritesJson(const Campaign& campaign, const StoreCheck& check);
// A line for a person reading the test log: the tallies and the writes.
std::string Summary(const boost::json::object& line);

// Appends `line` (which should hold "scenario" and "backend") to HASIVU_RELIABILITY_REPORT.
void AppendReportLine(const boost::json::object& line);

// An integer from the environment, or `fallback` when unset or not a number (long runs raise
// kills, clients and durations through these).
int EnvInt(const char* name, int fallback);

}  // namespace hasivu::reliability

#endif  // HASIVU_TESTS_RELIABILITY_REPORT_H_
