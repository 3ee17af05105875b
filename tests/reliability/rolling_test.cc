// Scenario 2 of docs/reliability.md, the pair: two `hasivu serve` processes on the same
// PostgreSQL and Redis behind a round-robin front that follows each one's /readyz (front.h).
// Under steady load each process in turn gets SIGTERM (with --drain-ms), drains, exits 0 and is
// started again on its port; the front moves the load over and back. No request may go without
// an answer, be refused or fail, and the store is checked as in scenario 1.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>
#include <thread>

#include "tests/integration/api_fixture.h"
#include "tests/reliability/campaign.h"
#include "tests/reliability/front.h"
#include "tests/reliability/report.h"
#include "tests/reliability/server_under_test.h"
#include "tests/reliability/store_check.h"

namespace hasivu::reliability {
namespace {

namespace json = boost::json;
using hasivu::testing::ApiServer;
using hasivu::testing::ServerProcess;

constexpr int kDrainMs = 1500;
constexpr int kGraceMs = 8000;  // http::ServerSettings::shutdown_grace

double MsSince(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

// Waits up to `within` for the front to see `port` as `ready`; the time it took, or -1.
double WaitFront(const ReadinessFront& front, int port, bool ready,
                 std::chrono::milliseconds within) {
  const Clock::time_point start = Clock::now();
  while (Clock::now() - start < within) {
    if (front.Ready(port) == ready) return MsSince(start);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return -1;
}

TEST(RollingTest, RollingRestartOfAPairBehindAFrontLosesNoRequest) {
  const char* redis = std::getenv("HASIVU_TEST_REDIS_URL");
  ASSERT_NE(redis, nullptr) << "HASIVU_TEST_REDIS_URL is not set (scripts/services.sh env)";
  const std::string prefix = "rolling" + std::to_string(::getpid()) + ":";
  const std::vector<std::string> pair_args = {"--drain-ms", std::to_string(kDrainMs), "--cache",
                                              redis,        "--cache-prefix",         prefix};
  std::string error;
  std::unique_ptr<ServerUnderTest> sut = ServerUnderTest::Start(pair_args, &error);
  ASSERT_NE(sut, nullptr) << error;
  ASSERT_TRUE(sut->postgres()) << "the pair shares one PostgreSQL: a _pgtest only";
  ApiServer& first = sut->server();
  std::unique_ptr<ServerProcess> second = first.StartPeer({}, &error);
  ASSERT_NE(second, nullptr) << error;
  const int first_port = first.port();
  const int second_port = second->port();

  ReadinessFront front({first_port, second_port});
  front.Start();
  CampaignSettings settings;
  settings.clients = EnvInt("HASIVU_RELIABILITY_CLIENTS", 16);
  settings.writes_per_function = 1200;
  // About 8 s of writes: through both restarts.
  settings.write_rate = 150;
  settings.run_tag = "rolling";
  settings.checkout = sut->Checkout();
  auto campaign = Campaign::Prepare(first_port, sut->FixturesJson(), settings);
  ASSERT_TRUE(campaign.ok()) << campaign.status().ToString();
  (*campaign)->SetPortChooser([&front] { return front.Choose(); });
  StatusOr<StoreCounts> before = CountRows(sut->Sql());
  ASSERT_TRUE(before.ok()) << before.status().ToString();

  (*campaign)->Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  json::array restarts;
  // One process after the other, as a deployment rolls: SIGTERM, the front takes it out, it
  // drains and exits, it starts again on its port, the front takes it back.
  for (int round = 0; round < 2; ++round) {
    const bool is_first = round == 0;
    const int port = is_first ? first_port : second_port;
    const pid_t pid = is_first ? first.process().pid() : second->pid();
    const uint64_t chosen_before = front.Chosen(port);
    const Clock::time_point term = Clock::now();
    ASSERT_EQ(kill(pid, SIGTERM), 0);
    const double out_ms = WaitFront(front, port, false, std::chrono::milliseconds(kDrainMs));
    EXPECT_GE(out_ms, 0) << "the front never saw port " << port << " leave";
    ServerProcess& process = is_first ? first.process() : *second;
    const int exit_code = process.WaitExit(std::chrono::milliseconds(kDrainMs + kGraceMs));
    const double exit_ms = MsSince(term);
    EXPECT_EQ(exit_code, 0) << process.Stderr();
    // Started again on the same port, as the deployment's next version.
    if (is_first) {
      ASSERT_TRUE(first.Restart(SIGTERM, &error)) << error;
    } else {
      second = first.StartPeer({}, &error, second_port);
      ASSERT_NE(second, nullptr) << error;
    }
    const double back_ms = WaitFront(front, port, true, std::chrono::seconds(10));
    EXPECT_GE(back_ms, 0) << "the front never took port " << port << " back";
    const uint64_t chosen_at_back = front.Chosen(port);
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    EXPECT_GT(front.Chosen(port), chosen_at_back) << "no load reached the restarted process";
    restarts.push_back(json::object{{"port", port},
                                    {"frontOutAfterMs", out_ms},
                                    {"exitAfterMs", exit_ms},
                                    {"exitCode", exit_code},
                                    {"requestsBeforeTerm", chosen_before},
                                    {"backAfterExitMs", MsSince(term) - exit_ms}});
  }
  const bool settled = (*campaign)->Settle(std::chrono::seconds(60));
  front.Stop();
  const std::map<std::string, FunctionTally> tallies = (*campaign)->Tallies();
  const std::vector<std::string> replays = (*campaign)->CheckReplays();
  const StoreCheck check = CheckStore(sut->Sql(), sut->postgres(), *before, (*campaign)->writes(),
                                      (*campaign)->base_date());

  json::object line{{"scenario", "rolling restart"},
                    {"backend", "postgresql+redis"},
                    {"clients", settings.clients},
                    {"drainMs", kDrainMs},
                    {"restarts", restarts},
                    {"chosenWithoutReady", front.ChosenWithoutReady()},
                    {"requests", TallyJson(tallies)},
                    {"writes", WritesJson(**campaign, check)},
                    {"replayMismatches", replays.size()}};
  std::cout << Summary(line) << "\n";
  AppendReportLine(line);
  second->StopWith(SIGTERM);

  uint64_t lost = 0;
  for (const auto& [function, t] : tallies) {
    lost += t.no_answer + t.timed_out + t.not_accepted + t.server_error + t.unavailable;
  }
  EXPECT_EQ(lost, 0u) << "requests went unanswered, were refused or failed during the roll";
  EXPECT_EQ(front.ChosenWithoutReady(), 0u) << "the front had no ready process at some moment";
  EXPECT_TRUE(settled) << "writes still unsettled after 60 s";
  for (const std::string& r : replays) ADD_FAILURE() << "replay: " << r;
  for (const std::string& v : check.violations) ADD_FAILURE() << "store: " << v;
}

}  // namespace
}  // namespace hasivu::reliability
