#include "http/offload_queue.h"

#include <gtest/gtest.h>

namespace hasivu::http {
namespace {

TEST(OffloadQueueTest, SlotsAreBoundedAndCountedInTheGauges) {
  metrics::RegistryPtr registry = metrics::NewRegistry();
  metrics::Counter& rejected = registry->GetCounter("rejected_total", "");
  metrics::Gauge& in_use = registry->GetGauge("in_use", "");
  OffloadQueue queue(2, &rejected, 3, &in_use);
  EXPECT_EQ(queue.capacity(), 2);
  EXPECT_EQ(queue.retry_after_seconds(), 3);
  EXPECT_TRUE(queue.TryAcquire());
  EXPECT_TRUE(queue.TryAcquire());
  EXPECT_EQ(in_use.Value(), 2);
  EXPECT_FALSE(queue.TryAcquire());  // full: refused and counted, the gauge unchanged
  EXPECT_EQ(rejected.Value(), 1u);
  EXPECT_EQ(in_use.Value(), 2);
  EXPECT_EQ(queue.in_use(), 2);
  queue.Release();
  EXPECT_EQ(in_use.Value(), 1);
  EXPECT_TRUE(queue.TryAcquire());
  queue.Release();
  queue.Release();
  EXPECT_EQ(in_use.Value(), 0);
  EXPECT_EQ(queue.in_use(), 0);
}

TEST(OffloadQueueTest, WorksWithoutSeries) {
  OffloadQueue queue(1);
  EXPECT_TRUE(queue.TryAcquire());
  EXPECT_FALSE(queue.TryAcquire());
  queue.Release();
  EXPECT_TRUE(queue.TryAcquire());
}

}  // namespace
}  // namespace hasivu::http
