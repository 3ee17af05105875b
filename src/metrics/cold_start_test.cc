#include "metrics/cold_start.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace hasivu::metrics {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

class ColdStartTest : public ::testing::Test {
 protected:
  const IntervalData* In(const std::vector<SeriesInterval>& all, std::string_view name) {
    for (const SeriesInterval& s : all) {
      if (s.info.name == name && s.info.dimensions == Dimensions{{"Store", "sqlite"}}) {
        return &s.data;
      }
    }
    return nullptr;
  }

  RegistryPtr registry_ = NewRegistry();
  Monitor monitor_{*registry_};
  const steady_clock::time_point start_ = steady_clock::time_point() + std::chrono::hours(5);
};

TEST_F(ColdStartTest, ReportsInitPlusTheFirstRequestWithoutTheIdleWait) {
  ColdStartReporter reporter(monitor_, "sqlite", start_);
  EXPECT_FALSE(reporter.Report().has_value());
  reporter.MarkListening(start_ + milliseconds(20));
  EXPECT_FALSE(reporter.Report().has_value());
  // The first client arrives a second after listening; its request takes 3 ms.
  reporter.OnFirstRequest(start_ + milliseconds(1020), start_ + milliseconds(1023));
  std::optional<ColdStartReport> r = reporter.Report();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->store, "sqlite");
  EXPECT_DOUBLE_EQ(r->init_ms, 20);
  EXPECT_DOUBLE_EQ(r->first_request_ms, 3);
  EXPECT_DOUBLE_EQ(r->duration_ms, 23);

  Cursor cursor;
  std::vector<SeriesInterval> all = monitor_.Collect(cursor);
  ASSERT_NE(In(all, "ColdStartDuration"), nullptr);
  EXPECT_EQ(In(all, "ColdStartDuration")->count, 1u);
  EXPECT_DOUBLE_EQ(In(all, "ColdStartDuration")->sum, 23);
  EXPECT_DOUBLE_EQ(In(all, "ColdStartInitDuration")->sum, 20);
  EXPECT_DOUBLE_EQ(In(all, "ColdStartFirstRequestDuration")->sum, 3);
}

TEST_F(ColdStartTest, IsReportedOnceWhateverTheOrderAndTheRepeats) {
  ColdStartReporter reporter(monitor_, "sqlite", start_);
  reporter.OnFirstRequest(start_ + milliseconds(40), start_ + milliseconds(45));
  reporter.OnFirstRequest(start_ + milliseconds(50), start_ + milliseconds(90));  // ignored
  reporter.MarkListening(start_ + milliseconds(30));
  reporter.MarkListening(start_ + milliseconds(35));  // ignored
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      reporter.OnFirstRequest(start_ + milliseconds(100), start_ + milliseconds(900));
      reporter.MarkListening(start_ + milliseconds(99));
    });
  }
  for (std::thread& t : threads) t.join();
  std::optional<ColdStartReport> r = reporter.Report();
  ASSERT_TRUE(r.has_value());
  EXPECT_DOUBLE_EQ(r->duration_ms, 35);
  Cursor cursor;
  std::vector<SeriesInterval> all = monitor_.Collect(cursor);
  EXPECT_EQ(In(all, "ColdStartDuration")->count, 1u);
  EXPECT_EQ(In(all, "ColdStartInitDuration")->count, 1u);
  EXPECT_EQ(In(all, "ColdStartFirstRequestDuration")->count, 1u);
}

TEST_F(ColdStartTest, DefaultsToTheProcessStart) {
  ColdStartReporter reporter(monitor_, "sqlite");
  reporter.MarkListening(ProcessStartSteady() + milliseconds(12));
  reporter.OnFirstRequest(steady_clock::now(), steady_clock::now());
  ASSERT_TRUE(reporter.Report().has_value());
  EXPECT_DOUBLE_EQ(reporter.Report()->init_ms, 12);
}

}  // namespace
}  // namespace hasivu::metrics
