#include "app/process_limits.h"

#include <sys/resource.h>

#include <gtest/gtest.h>

#include <limits>

namespace hasivu::app {
namespace {

constexpr uint64_t kInfinity = std::numeric_limits<uint64_t>::max();

TEST(PlanOpenFileLimitTest, RaisesTheSoftLimitForTheConnectionsUpToTheHardLimit) {
  FileLimitPlan p = PlanOpenFileLimit(1024, 1048576, 10000);
  EXPECT_EQ(p.before, 1024u);
  EXPECT_EQ(p.soft, 10000u + kReservedFiles);
  EXPECT_FALSE(p.warning);
  // An unlimited hard limit: what is needed, not infinity.
  EXPECT_EQ(PlanOpenFileLimit(1024, kInfinity, 10000).soft, 10000u + kReservedFiles);
  // Never lowered.
  EXPECT_EQ(PlanOpenFileLimit(50000, 1048576, 10000).soft, 50000u);
  EXPECT_FALSE(PlanOpenFileLimit(50000, 1048576, 10000).warning);
}

TEST(PlanOpenFileLimitTest, AHardLimitTooLowIsExplainedWithTheWayToRaiseIt) {
  FileLimitPlan p = PlanOpenFileLimit(1024, 4096, 10000);
  EXPECT_EQ(p.soft, 4096u);
  ASSERT_TRUE(p.warning);
  EXPECT_NE(p.warning->find("the open-file limit is 4096 (hard limit 4096)"), std::string::npos)
      << *p.warning;
  EXPECT_NE(p.warning->find("about 4032 connections"), std::string::npos) << *p.warning;
  EXPECT_NE(p.warning->find("cap of 10000"), std::string::npos) << *p.warning;
  EXPECT_NE(p.warning->find("ulimit -Hn 10064"), std::string::npos) << *p.warning;
  EXPECT_NE(p.warning->find("LimitNOFILE=10064"), std::string::npos) << *p.warning;
  EXPECT_NE(PlanOpenFileLimit(10, 10, 100).warning->find("about 0 connections"), std::string::npos);
}

TEST(RaiseOpenFileLimitTest, SetsThisProcesssSoftLimit) {
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
  if (saved.rlim_max != RLIM_INFINITY && saved.rlim_max < 512 + kReservedFiles) {
    GTEST_SKIP() << "hard limit " << saved.rlim_max << " too low to test raising";
  }
  // Lowering the soft limit is always allowed; the call must bring it back up.
  rlimit low = saved;
  low.rlim_cur = 256;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  StatusOr<FileLimitPlan> plan = RaiseOpenFileLimit(512);
  rlimit now{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &now), 0);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &saved), 0);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->before, 256u);
  EXPECT_EQ(plan->soft, 512u + kReservedFiles);
  EXPECT_EQ(now.rlim_cur, 512u + kReservedFiles);
  EXPECT_FALSE(plan->warning);
}

}  // namespace
}  // namespace hasivu::app
