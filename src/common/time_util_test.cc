#include "common/time_util.h"

#include <date/date.h>
#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace hasivu {
namespace {

using namespace std::chrono;

TEST(TimeUtilTest, Rfc3339RoundTrip) {
  const TimePoint t =
      sys_days(year(2026) / 11 / 27) + hours(13) + minutes(25) + seconds(21) + microseconds(123456);
  EXPECT_EQ(FormatRfc3339(t), "2026-11-27T13:25:21.123456Z");
  EXPECT_EQ(*ParseRfc3339("2026-11-27T13:25:21.123456Z"), t);
  // PostgreSQL's text form and offsets.
  EXPECT_EQ(*ParseRfc3339("2026-11-27 13:25:21.123456+00"), t);
  EXPECT_EQ(*ParseRfc3339("2026-11-27T18:55:21.123456+05:30"), t);
  EXPECT_EQ(FormatRfc3339(*ParseRfc3339("2026-11-27T13:25:21Z")), "2026-11-27T13:25:21.000000Z");
}

TEST(TimeUtilTest, Rfc3339MillisTruncates) {
  const TimePoint t =
      sys_days(year(2026) / 11 / 27) + hours(13) + minutes(25) + seconds(21) + microseconds(123999);
  EXPECT_EQ(FormatRfc3339Millis(t), "2026-11-27T13:25:21.123Z");
  EXPECT_EQ(FormatRfc3339Millis(sys_days(year(2026) / 1 / 2)), "2026-01-02T00:00:00.000Z");
}

// The hand-written digits against the date library's formatting, over the instants a TimePoint
// (nanoseconds) holds, 1678 to 2261: before 1970 included, where floor and truncation differ,
// and the edges of a day.
TEST(TimeUtilTest, Rfc3339FormatsAsTheDateLibraryDoes) {
  std::mt19937_64 rng(20261207);
  const int64_t lo =
      duration_cast<microseconds>(sys_days(year(1678) / 1 / 1).time_since_epoch()).count();
  const int64_t hi =
      duration_cast<microseconds>(sys_days(year(2261) / 12 / 31).time_since_epoch()).count() +
      86'400'000'000 - 1;
  std::vector<TimePoint> instants = {TimePoint(microseconds(lo)), TimePoint(microseconds(hi)),
                                     TimePoint(microseconds(-1)), TimePoint(microseconds(0)),
                                     sys_days(year(2026) / 12 / 31) + hours(23) + minutes(59) +
                                         seconds(59) + microseconds(999999)};
  std::uniform_int_distribution<int64_t> any(lo, hi);
  for (int i = 0; i < 2000; ++i) instants.push_back(TimePoint(microseconds(any(rng))));
  for (const TimePoint t : instants) {
    EXPECT_EQ(FormatRfc3339(t), date::format("%FT%TZ", floor<microseconds>(t)));
    EXPECT_EQ(FormatRfc3339Millis(t), date::format("%FT%TZ", floor<milliseconds>(t)));
  }
  EXPECT_EQ(FormatRfc3339Millis(TimePoint(microseconds(-1))), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatRfc3339(sys_days(year(1700) / 3 / 4)), "1700-03-04T00:00:00.000000Z");
}

TEST(TimeUtilTest, Rfc3339RejectsGarbage) {
  for (const char* bad :
       {"", "2026-11-27", "2026-11-27T25:00:00Z", "2026-11-27T13:25:21Q", "2026-02-30T00:00:00Z",
        "2026-11-27T13:25:21.Z", "x026-11-27T13:25:21Z"}) {
    EXPECT_FALSE(ParseRfc3339(bad).ok()) << bad;
  }
}

// Found by read_helpers_fuzz: an instant a TimePoint (nanoseconds) cannot hold overflowed a
// signed integer (undefined behaviour) while being converted, from text a client sends in an
// orders-list cursor.
TEST(TimeUtilTest, Rfc3339RefusesInstantsATimePointCannotHold) {
  for (const char* far : {"9999-12-31T23:59:59Z", "2263-01-01T00:00:00Z", "0001-01-01T00:00:00Z",
                          "1677-01-01T00:00:00Z", "2262-04-11T23:59:59+00:00"}) {
    EXPECT_FALSE(ParseRfc3339(far).ok()) << far;
  }
  for (const char* near : {"2262-04-10T23:59:59.999999Z", "1678-01-01T00:00:00Z"}) {
    StatusOr<TimePoint> t = ParseRfc3339(near);
    ASSERT_TRUE(t.ok()) << near;
    EXPECT_EQ(*ParseRfc3339(FormatRfc3339(*t)), *t) << near;
  }
}

TEST(TimeUtilTest, Dates) {
  EXPECT_EQ(FormatDate(*ParseDate("2026-11-27")), "2026-11-27");
  EXPECT_FALSE(ParseDate("2026-13-01").ok());
  EXPECT_FALSE(ParseDate("2026-2-01").ok());
  EXPECT_FALSE(ParseDate("2025-02-29").ok());
  EXPECT_TRUE(ParseDate("2024-02-29").ok());
  EXPECT_EQ(IsoWeekday(*ParseDate("2026-11-27")), 5u);  // a Friday
  EXPECT_EQ(IsoWeekday(*ParseDate("2026-11-29")), 7u);  // a Sunday
}

TEST(TimeUtilTest, LocalDateFollowsTheSchoolsZone) {
  // 20:00 UTC on the 27th is already the 28th in India (UTC+05:30), still the 27th in New York.
  const TimePoint t = sys_days(year(2026) / 11 / 27) + hours(20);
  EXPECT_EQ(FormatDate(*LocalDate(t, "Asia/Kolkata")), "2026-11-28");
  EXPECT_EQ(FormatDate(*LocalDate(t, "America/New_York")), "2026-11-27");
  EXPECT_FALSE(LocalDate(t, "Mars/Olympus").ok());
  EXPECT_TRUE(IsValidTimeZone("Asia/Kolkata"));
  EXPECT_FALSE(IsValidTimeZone("Not/AZone"));
}

}  // namespace
}  // namespace hasivu
