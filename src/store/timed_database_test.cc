#include "store/timed_database.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "metrics/catalog.h"
#include "metrics/trace.h"
#include "store/testing/test_backend.h"

namespace hasivu::store {
namespace {

using std::chrono::milliseconds;

TEST(TimedDatabaseTest, TimesReadsAndWritesApartWithTheMonitorsSlowThreshold) {
  auto db = testing::NewTestDatabase();
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  metrics::RegistryPtr registry = metrics::NewRegistry();
  metrics::Monitor monitor(*registry, {.slow_query = milliseconds(30)});
  TimedDatabase timed(&(*db)->db(), monitor);

  ASSERT_TRUE(timed.Read([](Connection& c) { return c.Query("SELECT 1").status(); }).ok());
  ASSERT_TRUE(timed
                  .Read([](Connection&) {
                    std::this_thread::sleep_for(milliseconds(40));
                    return Status::Ok();
                  })
                  .ok());
  Status failed = timed.Write([](Connection&) { return InternalError("boom"); });
  EXPECT_EQ(failed.code(), StatusCode::kInternal);  // passed through unchanged

  EXPECT_EQ(TimedDatabase::OperationsOf(*registry, kReadQuery).Snapshot().count, 2u);
  EXPECT_EQ(TimedDatabase::OperationsOf(*registry, kWriteQuery).Snapshot().count, 1u);
  EXPECT_EQ(TimedDatabase::SlowOperationsOf(*registry, kReadQuery).Value(), 1u);
  EXPECT_EQ(TimedDatabase::SlowOperations(*registry), 1u);
  const metrics::HistogramSnapshot both = TimedDatabase::OperationsSnapshot(*registry);
  EXPECT_EQ(both.count, 3u);
  EXPECT_GE(both.max, 40'000);  // microseconds

  // The Monitor shows the same series by QueryKind, in milliseconds, without a second record.
  metrics::Cursor cursor;
  uint64_t reads = 0;
  double slowest_read_ms = 0;
  uint64_t slow_reads = 0;
  for (const metrics::SeriesInterval& s : monitor.Collect(cursor)) {
    if (s.info.dimensions != metrics::Dimensions{{"QueryKind", "read"}}) continue;
    if (s.info.name == metrics::catalog::kDatabaseQueryDuration.name) {
      reads = s.data.count;
      slowest_read_ms = s.data.max;
    }
    if (s.info.name == metrics::catalog::kDatabaseSlowQueries.name) slow_reads = s.data.count;
  }
  EXPECT_EQ(reads, 2u);
  EXPECT_GE(slowest_read_ms, 40);
  EXPECT_EQ(slow_reads, 1u);
  // A second TimedDatabase over the same monitor shares the series.
  TimedDatabase again(&(*db)->db(), monitor);
  EXPECT_EQ(monitor.Series().size(), 4u);
  EXPECT_EQ(monitor.DroppedSeries(), 0u);
}

constexpr size_t kDb = static_cast<size_t>(metrics::SpanKind::kDb);

TEST(TimedDatabaseTest, EveryReadAndWriteIsTimedAndAddsToTheCurrentRequestsDbSpan) {
  auto test_db = testing::NewTestDatabase(2);
  ASSERT_TRUE(test_db.ok()) << test_db.status().ToString();
  metrics::RegistryPtr registry = metrics::NewRegistry();
  metrics::Monitor monitor(*registry);
  TimedDatabase timed(&(*test_db)->db(), monitor);
  auto select_one = [](Connection& c) { return c.Query("SELECT 1").status(); };

  ASSERT_TRUE(timed.Read(select_one).ok());  // no request current: histogram only
  metrics::RequestTrace trace;
  {
    metrics::ScopedRequestTrace current(trace);
    ASSERT_TRUE(timed.Read(select_one).ok());
    ASSERT_TRUE(timed.Write(select_one).ok());
  }
  EXPECT_EQ(trace.spans.count[kDb], 2u);
  EXPECT_GT(trace.spans.nanos[kDb], 0);
  EXPECT_EQ(trace.spans.count[static_cast<size_t>(metrics::SpanKind::kCache)], 0u);
  EXPECT_EQ(TimedDatabase::OperationsSnapshot(*registry).count, 3u);
}

}  // namespace
}  // namespace hasivu::store
