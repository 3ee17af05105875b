#include "metrics/periodic.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <latch>
#include <thread>
#include <vector>

namespace hasivu::metrics {
namespace {

using std::chrono::milliseconds;

TEST(PeriodicThreadTest, TicksUntilStopped) {
  std::atomic<int> ticks{0};
  std::latch ticked(3);
  PeriodicThread thread(milliseconds(1), [&] {
    if (ticks.fetch_add(1) < 3) ticked.count_down();
  });
  ticked.wait();  // three ticks came
  thread.Stop();
  const int after_stop = ticks.load();
  thread.Stop();  // idempotent
  EXPECT_GE(after_stop, 3);
  EXPECT_EQ(ticks.load(), after_stop);  // joined: no tick after Stop() returned
}

// Stop() from two threads at once (and then the destructor): one joins, the other waits for that
// join, so each returns only once the thread has ended. Run under ThreadSanitizer too, which
// reports two concurrent joins.
TEST(PeriodicThreadTest, StopFromTwoThreadsAtOnce) {
  for (int round = 0; round < 50; ++round) {
    std::atomic<bool> in_tick{false};
    std::atomic<int> ticks{0};
    std::latch first_tick(1);
    PeriodicThread thread(milliseconds(1), [&] {
      in_tick.store(true);
      if (ticks.fetch_add(1) == 0) first_tick.count_down();
      std::this_thread::yield();
      in_tick.store(false);
    });
    first_tick.wait();
    std::latch go(2);
    std::atomic<int> returned_with_tick_running{0};
    std::vector<std::thread> stoppers;
    for (int i = 0; i < 2; ++i) {
      stoppers.emplace_back([&] {
        go.arrive_and_wait();
        thread.Stop();
        if (in_tick.load()) returned_with_tick_running.fetch_add(1);
      });
    }
    for (std::thread& s : stoppers) s.join();
    EXPECT_EQ(returned_with_tick_running.load(), 0) << "round " << round;
  }
}

}  // namespace
}  // namespace hasivu::metrics
