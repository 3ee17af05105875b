#include "metrics/startup_phases.h"

#include <gtest/gtest.h>

#include <chrono>

namespace hasivu::metrics {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

TEST(StartupPhasesTest, EachPhaseRunsFromTheEndOfTheOneBefore) {
  const auto t0 = StartupPhases::Clock::time_point() + std::chrono::hours(1);
  StartupPhases phases(t0);
  EXPECT_EQ(phases.End("configuration", t0 + microseconds(150)), microseconds(150));
  EXPECT_EQ(phases.End("store", t0 + milliseconds(4)), microseconds(3850));
  // An instant before the last end is an empty phase, not a negative one.
  EXPECT_EQ(phases.End("accounts", t0 + milliseconds(3)), microseconds(0));
  EXPECT_EQ(phases.End("listen", t0 + milliseconds(5)), microseconds(1000));
  ASSERT_EQ(phases.phases().size(), 4u);
  EXPECT_EQ(phases.phases()[1].name, "store");
  EXPECT_EQ(phases.Total(), milliseconds(5));
  const std::string summary = phases.Summary();
  EXPECT_EQ(summary.rfind("configuration 0.1 ms, store 3.9 ms, accounts 0.0 ms, listen 1.0 ms = "
                          "5.0 ms",
                          0),
            0u)
      << summary;
}

TEST(StartupPhasesTest, CpuBeforeMainIsKeptFromTheFirstMark) {
  MarkMainEntered();
  const auto first = CpuAtMain();
  ASSERT_TRUE(first.has_value());
  EXPECT_GT(first->count(), 0);  // the loader and static initialisers ran on this CPU clock
  volatile double x = 0;
  for (int i = 0; i < 2000000; ++i) x = x + i;  // CPU time passes
  MarkMainEntered();
  EXPECT_EQ(CpuAtMain(), first);
  EXPECT_GT(ProcessCpuTime(), *first);
}

TEST(StartupPhasesTest, PublishesEveryPhaseAndTheCpuPoints) {
  MarkMainEntered();
  const auto t0 = StartupPhases::Clock::now();
  StartupPhases phases(t0);
  phases.End("store", t0 + microseconds(2500));
  phases.End("listen", t0 + microseconds(3000));
  phases.MarkListening();
  RegistryPtr registry = NewRegistry();
  phases.Publish(*registry);
  EXPECT_EQ(
      registry->GetGauge("hasivu_startup_phase_microseconds", "", {{"phase", "store"}}).Value(),
      2500);
  EXPECT_EQ(
      registry->GetGauge("hasivu_startup_phase_microseconds", "", {{"phase", "listen"}}).Value(),
      500);
  const int64_t at_main =
      registry->GetGauge("hasivu_startup_cpu_microseconds", "", {{"at", "main"}}).Value();
  const int64_t at_listening =
      registry->GetGauge("hasivu_startup_cpu_microseconds", "", {{"at", "listening"}}).Value();
  EXPECT_EQ(at_main, CpuAtMain()->count());
  EXPECT_GE(at_listening, at_main);
  EXPECT_NE(phases.Summary().find("before main"), std::string::npos) << phases.Summary();
  EXPECT_NE(registry->RenderPrometheus().find("hasivu_startup_phase_microseconds{phase=\"store\"} "
                                              "2500"),
            std::string::npos)
      << registry->RenderPrometheus();
}

}  // namespace
}  // namespace hasivu::metrics
