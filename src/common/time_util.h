// Instants and calendar dates as the API writes them.
//
// Instants are RFC 3339 UTC with microseconds ("2026-11-27T13:25:21.123456Z"); dates are
// "YYYY-MM-DD" in a school's IANA time zone. Time zones come from the system tzdata through
// howardhinnant-date (C++20's std::chrono zones are not in GCC 12).
// Thread-safety: all functions are safe to call concurrently.
#ifndef HASIVU_COMMON_TIME_UTIL_H_
#define HASIVU_COMMON_TIME_UTIL_H_

#include <chrono>
#include <string>
#include <string_view>

#include "common/status.h"

namespace hasivu {

using TimePoint = std::chrono::system_clock::time_point;
using Date = std::chrono::sys_days;  // a calendar day, zone-free

// "2026-11-27T13:25:21.123456Z".
std::string FormatRfc3339(TimePoint t);
// "2026-11-27T13:25:21.123Z" (milliseconds, truncated): log lines.
std::string FormatRfc3339Millis(TimePoint t);
// Accepts "YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)" and "YYYY-MM-DD HH:MM:SS[.f][±HH[:MM]]"
// (PostgreSQL's text form), for instants a TimePoint holds (1677-09-22 .. 2262-04-11 UTC).
StatusOr<TimePoint> ParseRfc3339(std::string_view text);

// "2026-11-27".
std::string FormatDate(Date d);
// Strict "YYYY-MM-DD" with a real calendar day.
StatusOr<Date> ParseDate(std::string_view text);

// The calendar day of instant `t` in IANA zone `tz` (e.g. "Asia/Kolkata").
StatusOr<Date> LocalDate(TimePoint t, std::string_view tz);
// True if `tz` names a zone known to the system tzdata.
bool IsValidTimeZone(std::string_view tz);

// 1 = Monday ... 7 = Sunday (ISO 8601).
unsigned IsoWeekday(Date d);

}  // namespace hasivu

#endif  // HASIVU_COMMON_TIME_UTIL_H_
