#include "metrics/meters.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace hasivu::metrics {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

class MetersTest : public ::testing::Test {
 protected:
  // What (name, dims) did since the previous call.
  IntervalData Since(std::string_view name, const Dimensions& dims) {
    for (SeriesInterval& s : monitor_.Collect(cursor_)) {
      if (s.info.name == name && s.info.dimensions == dims) return s.data;
    }
    ADD_FAILURE() << "no series " << name;
    return {};
  }
  // Everything since the previous call, for looking up several series at once.
  std::vector<SeriesInterval> All() { return monitor_.Collect(cursor_); }
  static const IntervalData* In(const std::vector<SeriesInterval>& all, std::string_view name,
                                const Dimensions& dims) {
    for (const SeriesInterval& s : all) {
      if (s.info.name == name && s.info.dimensions == dims) return &s.data;
    }
    return nullptr;
  }

  RegistryPtr registry_ = NewRegistry();
  Monitor monitor_{*registry_, {.slow_query = milliseconds(50)}};
  Cursor cursor_;
};

TEST_F(MetersTest, OperationMeterTimesEveryRunAndCountsErrorsByKind) {
  OperationMeter meter(monitor_, "webhook");
  meter.Observe(milliseconds(3), StatusCode::kOk);
  meter.Observe(milliseconds(5), StatusCode::kUnavailable);
  meter.Observe(milliseconds(7), StatusCode::kUnavailable);
  meter.Observe(milliseconds(1), StatusCode::kNotFound);
  std::vector<SeriesInterval> all = All();
  const IntervalData* duration = In(all, "OperationDuration", {{"Operation", "webhook"}});
  ASSERT_NE(duration, nullptr);
  EXPECT_EQ(duration->count, 4u);
  EXPECT_DOUBLE_EQ(duration->sum, 16);
  EXPECT_EQ(
      In(all, "OperationErrors", {{"ErrorKind", "UNAVAILABLE"}, {"Operation", "webhook"}})->count,
      2u);
  EXPECT_EQ(
      In(all, "OperationErrors", {{"ErrorKind", "NOT_FOUND"}, {"Operation", "webhook"}})->count,
      1u);
  // Only the kinds that happened exist as series.
  EXPECT_EQ(In(all, "OperationErrors", {{"ErrorKind", "INTERNAL"}, {"Operation", "webhook"}}),
            nullptr);
  EXPECT_EQ(In(all, "OperationErrors", {{"ErrorKind", "OK"}, {"Operation", "webhook"}}), nullptr);
}

TEST_F(MetersTest, MeasureReturnsTheResultAndRecordsItsCode) {
  OperationMeter meter(monitor_, "refund");
  StatusOr<int> ok = meter.Measure([]() -> StatusOr<int> { return 42; });
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 42);
  Status failed = meter.Measure([] { return FailedPreconditionError("refused"); });
  EXPECT_EQ(failed.code(), StatusCode::kFailedPrecondition);
  {
    OperationTimer timer(meter);
    timer.Set(InternalError("boom"));
  }
  std::vector<SeriesInterval> all = All();
  EXPECT_EQ(In(all, "OperationDuration", {{"Operation", "refund"}})->count, 3u);
  EXPECT_EQ(
      In(all, "OperationErrors", {{"ErrorKind", "FAILED_PRECONDITION"}, {"Operation", "refund"}})
          ->count,
      1u);
  EXPECT_EQ(In(all, "OperationErrors", {{"ErrorKind", "INTERNAL"}, {"Operation", "refund"}})->count,
            1u);
}

TEST_F(MetersTest, QueryMeterCountsQueriesOverTheConfiguredThresholdAsSlow) {
  QueryMeter reads(monitor_, "read");
  QueryMeter writes(monitor_, "write");
  reads.Observe(milliseconds(49));
  reads.Observe(milliseconds(50));  // not over it
  reads.Observe(milliseconds(51));
  writes.Observe(milliseconds(200));
  writes.Observe(microseconds(300));
  std::vector<SeriesInterval> all = All();
  const IntervalData* r = In(all, "DatabaseQueryDuration", {{"QueryKind", "read"}});
  EXPECT_EQ(r->count, 3u);
  EXPECT_DOUBLE_EQ(r->sum, 150);
  EXPECT_EQ(In(all, "DatabaseSlowQueries", {{"QueryKind", "read"}})->count, 1u);
  EXPECT_EQ(In(all, "DatabaseQueryDuration", {{"QueryKind", "write"}})->count, 2u);
  EXPECT_DOUBLE_EQ(In(all, "DatabaseQueryDuration", {{"QueryKind", "write"}})->min, 0.3);
  EXPECT_EQ(In(all, "DatabaseSlowQueries", {{"QueryKind", "write"}})->count, 1u);

  StatusOr<std::string> v =
      reads.Measure([]() -> StatusOr<std::string> { return std::string("row"); });
  EXPECT_EQ(*v, "row");
  EXPECT_EQ(Since("DatabaseQueryDuration", {{"QueryKind", "read"}}).count, 1u);
}

TEST_F(MetersTest, QueryMeterOverAdoptedHandlesRecordsIntoThem) {
  Histogram& us = registry_->GetHistogram("db_us", "db", {}, 1e-6);
  Counter& slow = registry_->GetCounter("db_slow_total", "slow");
  QueryMeter meter(
      monitor_.AdoptHistogram(catalog::kDatabaseQueryDuration, {{"QueryKind", "read"}}, us, 1e-3),
      monitor_.AdoptCounter(catalog::kDatabaseSlowQueries, {{"QueryKind", "read"}}, slow),
      milliseconds(10));
  meter.Observe(milliseconds(12));
  EXPECT_EQ(us.Snapshot().sum, 12'000);  // microseconds, as the histogram is kept
  EXPECT_EQ(slow.Value(), 1u);
  EXPECT_DOUBLE_EQ(Since("DatabaseQueryDuration", {{"QueryKind", "read"}}).sum, 12);
}

TEST_F(MetersTest, ExternalCallMeterRecordsOutcomeRetriesAndTimeouts) {
  ExternalCallMeter capture(monitor_, "razorpay", "capture_payment");
  ExternalCallMeter refund(monitor_, "razorpay", "refund_payment");
  capture.Observe(milliseconds(120), "2xx", 0, 0);
  capture.Observe(milliseconds(900), "5xx", 2, 1);
  capture.Observe(milliseconds(3000), "timeout", 2, 3);
  refund.Observe(milliseconds(80), "4xx", 1, 0);
  refund.Observe(milliseconds(10), "weird", 0, 0);
  std::vector<SeriesInterval> all = All();
  const Dimensions cap = {{"Operation", "capture_payment"}, {"Service", "razorpay"}};
  EXPECT_EQ(In(all, "ExternalCallDuration", cap)->count, 3u);
  EXPECT_DOUBLE_EQ(In(all, "ExternalCallDuration", cap)->sum, 4020);
  auto calls = [&](std::string_view op, std::string_view cls) -> uint64_t {
    const IntervalData* d = In(all, "ExternalCalls",
                               {{"Operation", std::string(op)},
                                {"Service", "razorpay"},
                                {"StatusClass", std::string(cls)}});
    return d == nullptr ? 0 : d->count;
  };
  EXPECT_EQ(calls("capture_payment", "2xx"), 1u);
  EXPECT_EQ(calls("capture_payment", "5xx"), 1u);
  EXPECT_EQ(calls("capture_payment", "timeout"), 1u);
  EXPECT_EQ(calls("refund_payment", "4xx"), 1u);
  EXPECT_EQ(calls("refund_payment", "error"), 1u);  // an unknown class is an error
  EXPECT_EQ(In(all, "ExternalCallRetries", {{"Service", "razorpay"}})->count, 5u);
  EXPECT_EQ(In(all, "ExternalCallTimeouts", {{"Service", "razorpay"}})->count, 4u);
}

TEST_F(MetersTest, BusinessEventMeterCountsEventsAndAddsAmounts) {
  BusinessEventMeter orders(monitor_, "order_created");
  BusinessEventMeter deliveries(monitor_, "delivery_verified");
  orders.Track(12'345);
  orders.Track(655);
  orders.Track(-5);  // counted as an event, no amount
  deliveries.Track();
  std::vector<SeriesInterval> all = All();
  EXPECT_EQ(In(all, "BusinessEvents", {{"Event", "order_created"}})->count, 3u);
  const IntervalData* amount = In(all, "BusinessAmountPaise", {{"Event", "order_created"}});
  EXPECT_EQ(amount->count, 13'000u);
  EXPECT_DOUBLE_EQ(amount->sum, 13'000);
  EXPECT_EQ(In(all, "BusinessEvents", {{"Event", "delivery_verified"}})->count, 1u);
  // An event without amounts has no amount series.
  EXPECT_EQ(In(all, "BusinessAmountPaise", {{"Event", "delivery_verified"}}), nullptr);
}

TEST_F(MetersTest, FlowTimerRecordsEachSegmentAndTheCumulativeTime) {
  FlowMeter meter(monitor_, "orders_create", {"validated", "committed", "invalidated"});
  const steady_clock::time_point t0 = steady_clock::time_point() + std::chrono::hours(1);
  FlowTimer timer = meter.Start(t0);
  timer.Checkpoint("validated", t0 + milliseconds(2));
  timer.Checkpoint("committed", t0 + milliseconds(7));
  timer.Checkpoint("invalidated", t0 + milliseconds(8));
  // A second pass that skips a checkpoint: its segment spans from the last one reached.
  FlowTimer again = meter.Start(t0);
  again.Checkpoint("committed", t0 + milliseconds(4));

  std::vector<SeriesInterval> all = All();
  auto segment = [&](std::string_view s) {
    return In(all, "FlowSegmentDuration", {{"Flow", "orders_create"}, {"Segment", std::string(s)}});
  };
  auto cumulative = [&](std::string_view c) {
    return In(all, "FlowCumulativeDuration",
              {{"Checkpoint", std::string(c)}, {"Flow", "orders_create"}});
  };
  EXPECT_EQ(segment("validated")->count, 1u);
  EXPECT_DOUBLE_EQ(segment("validated")->sum, 2);
  EXPECT_EQ(segment("committed")->count, 2u);
  EXPECT_DOUBLE_EQ(segment("committed")->min, 4);  // the second pass: start -> committed
  EXPECT_DOUBLE_EQ(segment("committed")->max, 5);  // the first: validated -> committed
  EXPECT_DOUBLE_EQ(segment("invalidated")->sum, 1);
  EXPECT_DOUBLE_EQ(cumulative("validated")->sum, 2);
  EXPECT_DOUBLE_EQ(cumulative("committed")->sum, 7 + 4);
  EXPECT_DOUBLE_EQ(cumulative("invalidated")->sum, 8);

  // A checkpoint the meter was not given still records (resolved through the Monitor).
  FlowTimer other = meter.Start(t0);
  other.Checkpoint("retried", t0 + milliseconds(3));
  EXPECT_DOUBLE_EQ(
      Since("FlowSegmentDuration", {{"Flow", "orders_create"}, {"Segment", "retried"}}).sum, 3);
}

}  // namespace
}  // namespace hasivu::metrics
