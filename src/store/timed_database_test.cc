#include "store/timed_database.h"

#include <gtest/gtest.h>

#include "metrics/trace.h"
#include "store/testing/test_backend.h"

namespace hasivu::store {
namespace {

constexpr size_t kDb = static_cast<size_t>(metrics::SpanKind::kDb);

TEST(TimedDatabaseTest, EveryReadAndWriteIsTimedAndAddsToTheCurrentRequestsDbSpan) {
  auto test_db = testing::NewTestDatabase(2);
  ASSERT_TRUE(test_db.ok()) << test_db.status().ToString();
  metrics::RegistryPtr registry = metrics::NewRegistry();
  TimedDatabase timed(&(*test_db)->db(), *registry);
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
  EXPECT_EQ(TimedDatabase::OperationsOf(*registry).Snapshot().count, 3u);
}

}  // namespace
}  // namespace hasivu::store
