#include "bench/proc_stats.h"

#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <climits>
#include <cstring>

namespace hasivu::bench {
namespace {

// ---- parsing captured text ----------------------------------------------------------------------

// A real /proc/PID/stat line of `cat`, with utime 250 and stime 50 put in fields 14 and 15.
constexpr const char* kCatStat =
    "8957 (cat) R 8914 8914 30181 0 -1 4194304 101 0 0 0 250 50 0 0 20 0 1 0 4282266 3133440 "
    "413 18446744073709551615 94244271030272 94244271050153 140720382248032 0 0 0 0 0 0 0 0 0 17 "
    "1 0 0 0 0 0 94244271066160 94244271067776 94244319731712 140720382253691 140720382253711 "
    "140720382253711 140720382255083 0\n";

TEST(ParseProcStatCpuSecondsTest, UserPlusSystemInSeconds) {
  StatusOr<double> s = ParseProcStatCpuSeconds(kCatStat, 100);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_DOUBLE_EQ(*s, 3.0);  // (250 + 50) / 100
  EXPECT_DOUBLE_EQ(*ParseProcStatCpuSeconds(kCatStat, 1000), 0.3);
}

TEST(ParseProcStatCpuSecondsTest, ANameWithSpacesAndParentheses) {
  // prctl(PR_SET_NAME) takes anything: here ") 1 2 (x" would shift every field if the name were
  // split on blanks or cut at its first ')'.
  const std::string stat =
      "4242 (my (odd) ) 1 2 (x) S 1 4242 4242 0 -1 4194560 7 0 0 0 1234 566 0 0 20 0 4 0 99 "
      "1000 10 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n";
  StatusOr<double> s = ParseProcStatCpuSeconds(stat, 100);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_DOUBLE_EQ(*s, 18.0);  // (1234 + 566) / 100
}

TEST(ParseProcStatCpuSecondsTest, RefusesWhatTheKernelDoesNotWrite) {
  EXPECT_EQ(ParseProcStatCpuSeconds("", 100).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseProcStatCpuSeconds("12 cat R 1 2 3", 100).status().code(),
            StatusCode::kInvalidArgument);  // no parentheses
  EXPECT_EQ(ParseProcStatCpuSeconds("12 (cat) R 1 2 3 4 5 6 7 8 9", 100).status().code(),
            StatusCode::kInvalidArgument);  // too few fields
  EXPECT_EQ(ParseProcStatCpuSeconds("1 (c) R 1 1 1 0 -1 0 0 0 0 0 x 5 0", 100).status().code(),
            StatusCode::kInvalidArgument);  // utime not a number
  EXPECT_EQ(ParseProcStatCpuSeconds(kCatStat, 0).status().code(), StatusCode::kInvalidArgument);
}

constexpr const char* kStatus =
    "Name:\tcat\n"
    "Umask:\t0022\n"
    "State:\tR (running)\n"
    "VmPeak:\t    3060 kB\n"
    "VmSize:\t    3060 kB\n"
    "VmLck:\t       0 kB\n"
    "VmHWM:\t    1940 kB\n"
    "VmRSS:\t    1812 kB\n"
    "RssAnon:\t      88 kB\n"
    "Threads:\t1\n";

TEST(ParseProcStatusMemoryTest, HighWaterMarkAndResidentInBytes) {
  StatusOr<ProcessMemory> m = ParseProcStatusMemory(kStatus);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->peak_rss_bytes, 1940u * 1024);
  EXPECT_EQ(m->rss_bytes, 1812u * 1024);
}

TEST(ParseProcStatusMemoryTest, AKernelThreadHasNone) {
  EXPECT_EQ(
      ParseProcStatusMemory("Name:\tkthreadd\nState:\tS (sleeping)\nThreads:\t1\n").status().code(),
      StatusCode::kNotFound);
  // "VmHWMx" is not "VmHWM".
  EXPECT_FALSE(ParseProcStatusMemory("VmHWMx:\t1 kB\nVmRSS:\t1 kB\n").ok());
}

constexpr const char* kProcStat =
    "cpu  2875277 257489 631985 4648058 39048 0 61795 12300 500 0\n"
    "cpu0 1437638 128744 315992 2324029 19524 0 30897 6150 250 0\n"
    "intr 1 2 3\n";

TEST(ParseProcStatCpuLineTest, TheAggregateLineWithoutGuestTime) {
  StatusOr<CpuTimes> t = ParseProcStatCpuLine(kProcStat);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->user, 2875277u);
  EXPECT_EQ(t->nice, 257489u);
  EXPECT_EQ(t->system, 631985u);
  EXPECT_EQ(t->idle, 4648058u);
  EXPECT_EQ(t->iowait, 39048u);
  EXPECT_EQ(t->irq, 0u);
  EXPECT_EQ(t->softirq, 61795u);
  EXPECT_EQ(t->steal, 12300u);
  // guest (500) is already inside user.
  EXPECT_EQ(t->Total(), 2875277u + 257489 + 631985 + 4648058 + 39048 + 0 + 61795 + 12300);
}

TEST(ParseProcStatCpuLineTest, OldKernelsAndMalformedText) {
  StatusOr<CpuTimes> old = ParseProcStatCpuLine("cpu  10 20 30 40\n");  // Linux 2.4
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->idle, 40u);
  EXPECT_EQ(old->steal, 0u);
  EXPECT_FALSE(ParseProcStatCpuLine("cpu0 1 2 3 4\n").ok());  // no aggregate line
  EXPECT_FALSE(ParseProcStatCpuLine("cpu  1 2 3\n").ok());
  EXPECT_FALSE(ParseProcStatCpuLine("cpu  1 2 x 4\n").ok());
}

TEST(MachineUsageBetweenTest, StealAndBusyFractions) {
  const CpuTimes before{.user = 100, .idle = 1000, .steal = 10};
  // +200 ticks: 60 user, 20 system, 80 idle, 20 iowait, 20 steal.
  const CpuTimes after{.user = 160, .system = 20, .idle = 1080, .iowait = 20, .steal = 30};
  const std::optional<MachineUsage> u = MachineUsageBetween(before, after);
  ASSERT_TRUE(u.has_value());
  EXPECT_DOUBLE_EQ(u->steal_fraction, 0.1);
  EXPECT_DOUBLE_EQ(u->busy_fraction, 0.5);  // (60 + 20 + 20) / 200

  EXPECT_FALSE(MachineUsageBetween(after, after).has_value());   // no tick passed
  EXPECT_FALSE(MachineUsageBetween(after, before).has_value());  // another boot
  // iowait may go down (proc(5)); that alone does not void the interval.
  CpuTimes later = after;
  later.idle += 100;
  later.iowait -= 5;
  const std::optional<MachineUsage> w = MachineUsageBetween(after, later);
  ASSERT_TRUE(w.has_value());
  EXPECT_DOUBLE_EQ(w->busy_fraction, 0);
}

TEST(ServerUsageBetweenTest, CpuDifferenceAndTheEndsPeak) {
  const ServerUsage u =
      ServerUsageBetween({.cpu_seconds = 2.5, .peak_rss_bytes = 900, .rss_at_start_bytes = 600},
                         {.cpu_seconds = 4.0, .peak_rss_bytes = 700, .rss_at_start_bytes = 650});
  EXPECT_DOUBLE_EQ(u.cpu_seconds, 1.5);
  EXPECT_EQ(u.peak_rss_bytes, 700u);
  EXPECT_EQ(u.rss_at_start_bytes, 600u);  // the phase's start, not its end
  EXPECT_DOUBLE_EQ(ServerUsageBetween({.cpu_seconds = 9}, {.cpu_seconds = 1}).cpu_seconds, 0);
}

// ---- this test process, through /proc -----------------------------------------------------------

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

TEST(ReadProcessTest, CpuGrowsAfterABusyLoop) {
  StatusOr<double> start = ReadProcessCpuSeconds(getpid());
  ASSERT_TRUE(start.ok()) << start.status().ToString();
  const double clock_start = ThreadCpuSeconds();
  volatile uint64_t sink = 0;
  while (ThreadCpuSeconds() - clock_start < 0.3) {
    for (int i = 0; i < 100000; ++i) sink = sink + static_cast<uint64_t>(i);
  }
  const double spent = ThreadCpuSeconds() - clock_start;
  StatusOr<double> end = ReadProcessCpuSeconds(getpid());
  ASSERT_TRUE(end.ok()) << end.status().ToString();
  // Ticks are 10 ms at USER_HZ 100: allow a few either way, and catch a wrong unit (ticks read as
  // seconds would be 100 times too much).
  EXPECT_GT(*end - *start, spent - 0.1);
  EXPECT_LT(*end - *start, spent + 0.5);

  StatusOr<ServerUsage> usage = ReadServerUsage(getpid());
  ASSERT_TRUE(usage.ok()) << usage.status().ToString();
  // The precise sum and the tick count describe the same CPU time.
  EXPECT_NEAR(usage->cpu_seconds, *end, 0.1);
}

TEST(ReadProcessTest, ThePreciseSumFollowsTheThreadsClockToTheMillisecond) {
  StatusOr<double> start = ReadProcessCpuSecondsPrecise(getpid());
  ASSERT_TRUE(start.ok()) << start.status().ToString();
  const double clock_start = ThreadCpuSeconds();
  volatile uint64_t sink = 0;
  while (ThreadCpuSeconds() - clock_start < 0.2) {
    for (int i = 0; i < 100000; ++i) sink = sink + static_cast<uint64_t>(i);
  }
  const double spent = ThreadCpuSeconds() - clock_start;
  StatusOr<double> end = ReadProcessCpuSecondsPrecise(getpid());
  ASSERT_TRUE(end.ok()) << end.status().ToString();
  // One thread ran: the sum over the tasks moved by what its own clock says, not by 10 ms steps.
  EXPECT_GT(*end - *start, spent - 0.005);
  EXPECT_LT(*end - *start, spent + 0.02);
}

TEST(ParseSchedstatTest, NanosecondsOnCpuInSeconds) {
  auto s = ParseSchedstatCpuSeconds("261321617 95641722 747\n");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_DOUBLE_EQ(*s, 0.261321617);
  EXPECT_FALSE(ParseSchedstatCpuSeconds("").ok());
  EXPECT_FALSE(ParseSchedstatCpuSeconds("abc 1 2").ok());
  EXPECT_FALSE(ParseSchedstatCpuSeconds("12x 1 2").ok());
}

TEST(ReadProcessTest, PeakIsAtLeastResidentAndResetLowersIt) {
  constexpr size_t kSize = 64u << 20;
  void* block = mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(block, MAP_FAILED);
  std::memset(block, 1, kSize);  // resident now
  StatusOr<ProcessMemory> touched = ReadProcessMemory(getpid());
  ASSERT_TRUE(touched.ok()) << touched.status().ToString();
  EXPECT_GT(touched->rss_bytes, 0u);
  EXPECT_GE(touched->peak_rss_bytes, touched->rss_bytes);
  EXPECT_GE(touched->rss_bytes, kSize);
  munmap(block, kSize);

  StatusOr<ProcessMemory> freed = ReadProcessMemory(getpid());
  ASSERT_TRUE(freed.ok());
  EXPECT_GE(freed->peak_rss_bytes, kSize);  // the peak remembers the block
  EXPECT_LT(freed->rss_bytes + kSize / 2, freed->peak_rss_bytes);

  const Status reset = ResetPeakRss(getpid());
  if (!reset.ok()) {
    // The kernel refused (a sandbox, an old kernel): the error says which, nothing changed.
    EXPECT_TRUE(reset.code() == StatusCode::kNotFound ||
                reset.code() == StatusCode::kPermissionDenied ||
                reset.code() == StatusCode::kUnimplemented)
        << reset.ToString();
    GTEST_SKIP() << "clear_refs refused here: " << reset.ToString();
  }
  StatusOr<ProcessMemory> after = ReadProcessMemory(getpid());
  ASSERT_TRUE(after.ok());
  EXPECT_LT(after->peak_rss_bytes + kSize / 2, freed->peak_rss_bytes);
  EXPECT_GE(after->peak_rss_bytes, after->rss_bytes);
}

TEST(ReadProcessTest, NoSuchProcess) {
  // Above any pid_max (at most 2^22).
  const pid_t none = INT_MAX;
  EXPECT_EQ(ReadProcessCpuSeconds(none).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ReadProcessMemory(none).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ReadServerUsage(none).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ResetPeakRss(none).code(), StatusCode::kNotFound);
}

TEST(ReadMachineCpuTimesTest, TheMachineHasTicks) {
  StatusOr<CpuTimes> a = ReadMachineCpuTimes();
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_GT(a->Total(), 0u);
  const double clock_start = ThreadCpuSeconds();
  volatile uint64_t sink = 0;
  while (ThreadCpuSeconds() - clock_start < 0.1) {
    for (int i = 0; i < 100000; ++i) sink = sink + static_cast<uint64_t>(i);
  }
  StatusOr<CpuTimes> b = ReadMachineCpuTimes();
  ASSERT_TRUE(b.ok());
  const std::optional<MachineUsage> u = MachineUsageBetween(*a, *b);
  ASSERT_TRUE(u.has_value());      // 100 ms of CPU is at least a tick
  EXPECT_GT(u->busy_fraction, 0);  // this loop was running
  EXPECT_LE(u->busy_fraction, 1);
  EXPECT_GE(u->steal_fraction, 0);
  EXPECT_LE(u->steal_fraction, 1);
}

}  // namespace
}  // namespace hasivu::bench
