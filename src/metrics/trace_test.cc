#include "metrics/trace.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

namespace hasivu::metrics {
namespace {

using std::chrono::nanoseconds;

constexpr std::string_view kTraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr std::string_view kSpanId = "00f067aa0ba902b7";

std::string TraceIdOf(const TraceContext& c) {
  std::string s;
  AppendTraceIdHex(s, c);
  return s;
}

std::string SpanIdOf(const TraceContext& c) {
  std::string s;
  AppendSpanIdHex(s, c);
  return s;
}

struct ValidCase {
  std::string value;
  std::string trace_id;
  std::string span_id;
  uint8_t flags;
};

TEST(ParseTraceparentTest, ValidValues) {
  const std::string ids = std::string(kTraceId) + "-" + std::string(kSpanId);
  const std::vector<ValidCase> cases = {
      {"00-" + ids + "-01", std::string(kTraceId), std::string(kSpanId), 0x01},
      {"00-" + ids + "-00", std::string(kTraceId), std::string(kSpanId), 0x00},
      // Unknown flags of version 00 are carried as they came.
      {"00-" + ids + "-09", std::string(kTraceId), std::string(kSpanId), 0x09},
      {"00-" + ids + "-ff", std::string(kTraceId), std::string(kSpanId), 0xff},
      // Only one of the two ids needs a non-zero byte anywhere.
      {"00-00000000000000000000000000000001-0000000000000001-01",
       "00000000000000000000000000000001", "0000000000000001", 0x01},
      // A later version: its first 55 characters, then nothing or '-' and more fields; only the
      // sampled flag is kept.
      {"01-" + ids + "-01", std::string(kTraceId), std::string(kSpanId), 0x01},
      {"01-" + ids + "-03-what-the-future-holds", std::string(kTraceId), std::string(kSpanId),
       0x01},
      {"cc-" + ids + "-02", std::string(kTraceId), std::string(kSpanId), 0x00},
      {"fe-" + ids + "-01-", std::string(kTraceId), std::string(kSpanId), 0x01},
  };
  for (const ValidCase& c : cases) {
    SCOPED_TRACE(c.value);
    std::optional<TraceContext> parsed = ParseTraceparent(c.value);
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(TraceIdOf(*parsed), c.trace_id);
    EXPECT_EQ(SpanIdOf(*parsed), c.span_id);
    EXPECT_EQ(parsed->flags, c.flags);
    EXPECT_TRUE(parsed->valid());
  }
}

TEST(ParseTraceparentTest, InvalidValues) {
  const std::string ids = std::string(kTraceId) + "-" + std::string(kSpanId);
  const std::vector<std::string> cases = {
      "",
      "00",
      // Too short by one, or a version-00 value with anything after the flags.
      "00-" + ids + "-0",
      "00-" + ids + "-01-",
      "00-" + ids + "-01x",
      "00-" + ids + "-01 ",
      // Version ff is invalid, whatever follows; a version must be lowercase hex.
      "ff-" + ids + "-01",
      "0g-" + ids + "-01",
      "0A-" + ids + "-01",
      "-0-" + ids + "-01",
      // A later version whose 56th character is not '-'.
      "01-" + ids + "-01x",
      "01-" + ids + "-011",
      // All-zero ids.
      "00-00000000000000000000000000000000-" + std::string(kSpanId) + "-01",
      "00-" + std::string(kTraceId) + "-0000000000000000-01",
      "01-00000000000000000000000000000000-" + std::string(kSpanId) + "-01",
      // Uppercase hex anywhere.
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-" + std::string(kSpanId) + "-01",
      "00-" + std::string(kTraceId) + "-00F067AA0BA902B7-01",
      "00-" + ids + "-0A",
      // Not hex, wrong separators, wrong field lengths.
      "00-4bf92f3577b34da6a3ce929d0e0e473z-" + std::string(kSpanId) + "-01",
      "00-" + std::string(kTraceId) + "-00f067aa0ba902bz-01",
      "00-" + ids + "-0z",
      "00_" + ids + "-01",
      "00-" + std::string(kTraceId) + "_" + std::string(kSpanId) + "-01",
      "00-" + ids + "_01",
      "00-4bf92f3577b34da6a3ce929d0e0e47366-00f067aa0ba902b-01",
      "00-" + std::string(kTraceId) + "-" + std::string(kSpanId) + "0-1",
  };
  for (const std::string& c : cases) {
    EXPECT_FALSE(ParseTraceparent(c).has_value()) << "'" << c << "'";
  }
}

TEST(FormatTraceparentTest, RoundTripsAndAlwaysWritesVersion00) {
  const std::string ids = std::string(kTraceId) + "-" + std::string(kSpanId);
  const std::optional<TraceContext> parsed = ParseTraceparent("00-" + ids + "-01");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(FormatTraceparent(*parsed), "00-" + ids + "-01");
  // A later version is answered in the version this code knows.
  const std::optional<TraceContext> future = ParseTraceparent("07-" + ids + "-01-extra");
  ASSERT_TRUE(future);
  EXPECT_EQ(FormatTraceparent(*future), "00-" + ids + "-01");
  std::string appended = "x=";
  AppendTraceparent(appended, *parsed);
  EXPECT_EQ(appended, "x=00-" + ids + "-01");
}

TEST(NewTraceTest, FreshIdsAreValidSampledAndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const TraceContext c = NewTrace();
    EXPECT_TRUE(c.valid());
    EXPECT_TRUE(c.sampled());
    const std::string text = FormatTraceparent(c);
    ASSERT_EQ(text.size(), kTraceparentLength);
    const std::optional<TraceContext> back = ParseTraceparent(text);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, c);
    seen.insert(text);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(NewTraceTest, ThreadsDrawDifferentIds) {
  std::string a, b;
  std::thread ta([&] { a = FormatTraceparent(NewTrace()); });
  std::thread tb([&] { b = FormatTraceparent(NewTrace()); });
  ta.join();
  tb.join();
  EXPECT_NE(a.substr(3, 32), b.substr(3, 32));
}

TEST(ChildOfTest, KeepsTraceAndFlagsWithANewSpan) {
  TraceContext parent = NewTrace();
  parent.flags = 0;
  const TraceContext child = ChildOf(parent);
  EXPECT_EQ(child.trace_id, parent.trace_id);
  EXPECT_EQ(child.flags, 0);
  EXPECT_NE(child.span_id, parent.span_id);
  EXPECT_TRUE(child.valid());
}

TEST(SpanTest, TimeGoesToTheCurrentRequestOnly) {
  EXPECT_FALSE(CurrentTrace().has_value());
  AddSpanTime(SpanKind::kDb, nanoseconds(5));  // no request: ignored

  RequestTrace outer;
  outer.context = NewTrace();
  {
    ScopedRequestTrace scope(outer);
    ASSERT_TRUE(CurrentTrace().has_value());
    EXPECT_EQ(*CurrentTrace(), outer.context);
    AddSpanTime(SpanKind::kDb, nanoseconds(1500));
    AddSpanTime(SpanKind::kDb, nanoseconds(500));
    AddSpanTime(SpanKind::kGateway, nanoseconds(7));
    RequestTrace inner;
    inner.context = ChildOf(outer.context);
    {
      ScopedRequestTrace nested(inner);
      EXPECT_EQ(*CurrentTrace(), inner.context);
      AddSpanTime(SpanKind::kCache, nanoseconds(40));
    }
    EXPECT_EQ(*CurrentTrace(), outer.context);
    EXPECT_EQ(inner.spans.nanos[static_cast<size_t>(SpanKind::kCache)], 40);
    EXPECT_EQ(inner.spans.count[static_cast<size_t>(SpanKind::kCache)], 1u);
    // Another thread has no current request.
    std::thread other([] {
      EXPECT_FALSE(CurrentTrace().has_value());
      AddSpanTime(SpanKind::kDb, nanoseconds(1000000));
    });
    other.join();
  }
  EXPECT_FALSE(CurrentTrace().has_value());
  AddSpanTime(SpanKind::kDb, nanoseconds(5));
  EXPECT_EQ(outer.spans.nanos[static_cast<size_t>(SpanKind::kDb)], 2000);
  EXPECT_EQ(outer.spans.count[static_cast<size_t>(SpanKind::kDb)], 2u);
  EXPECT_EQ(outer.spans.nanos[static_cast<size_t>(SpanKind::kCache)], 0);
  EXPECT_EQ(outer.spans.count[static_cast<size_t>(SpanKind::kCache)], 0u);
  EXPECT_EQ(outer.spans.nanos[static_cast<size_t>(SpanKind::kGateway)], 7);
  EXPECT_EQ(outer.spans.count[static_cast<size_t>(SpanKind::kGateway)], 1u);
}

TEST(SpanTest, ScopedSpanAddsOneCall) {
  RequestTrace trace;
  {
    ScopedRequestTrace scope(trace);
    { ScopedSpan span(SpanKind::kCache); }
  }
  EXPECT_EQ(trace.spans.count[static_cast<size_t>(SpanKind::kCache)], 1u);
  EXPECT_GE(trace.spans.nanos[static_cast<size_t>(SpanKind::kCache)], 0);
  EXPECT_EQ(SpanKindName(SpanKind::kGateway), "gateway");
}

}  // namespace
}  // namespace hasivu::metrics
