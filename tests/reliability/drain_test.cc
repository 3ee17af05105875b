// Scenario 2 of docs/reliability.md, the single-process part: under steady load, SIGTERM to a
// server started with --drain-ms. /readyz must answer 503 at once, new connections must still be
// accepted and served during the drain window and refused after it, the process must exit 0
// within the window plus the shutdown grace, and no request the server accepted may go without
// an answer or get a 5xx. The writes the drain turned away (refused connections) are then sent to
// the server started again, and the store is checked as in scenario 1.
#include <gtest/gtest.h>
#include <signal.h>

#include <thread>

#include "tests/integration/api_fixture.h"
#include "tests/reliability/campaign.h"
#include "tests/reliability/report.h"
#include "tests/reliability/server_under_test.h"
#include "tests/reliability/store_check.h"

namespace hasivu::reliability {
namespace {

namespace json = boost::json;
using hasivu::testing::ApiServer;
using hasivu::testing::HttpRequest;
using hasivu::testing::HttpResponse;

constexpr int kDrainMs = 1500;
constexpr int kGraceMs = 8000;  // http::ServerSettings::shutdown_grace

double MsSince(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

TEST(DrainTest, SigtermDrainsUnderLoadWithoutFailingAnAcceptedRequest) {
  std::string error;
  std::unique_ptr<ServerUnderTest> sut =
      ServerUnderTest::Start({"--drain-ms", std::to_string(kDrainMs)}, &error);
  ASSERT_NE(sut, nullptr) << error;
  ApiServer& server = sut->server();
  const int port = server.port();

  CampaignSettings settings;
  settings.clients = EnvInt("HASIVU_RELIABILITY_CLIENTS", 16);
  settings.writes_per_function = 300;
  // About 3 s of writes: through the drain and after it.
  settings.write_rate = 300;
  settings.run_tag = "drain";
  settings.checkout = sut->Checkout();
  auto campaign = Campaign::Prepare(port, sut->FixturesJson(), settings);
  ASSERT_TRUE(campaign.ok()) << campaign.status().ToString();
  StatusOr<StoreCounts> before = CountRows(sut->Sql());
  ASSERT_TRUE(before.ok()) << before.status().ToString();

  (*campaign)->Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  ASSERT_EQ(HttpRequest(port, "GET", "/readyz").status, 200);

  const Clock::time_point term = Clock::now();
  ASSERT_EQ(kill(server.process().pid(), SIGTERM), 0);
  // Readiness fails at once.
  double not_ready_ms = -1;
  while (MsSince(term) < kDrainMs) {
    HttpResponse r = HttpRequest(port, "GET", "/readyz");
    if (r.ok && r.status == 503) {
      not_ready_ms = MsSince(term);
      break;
    }
  }
  EXPECT_GE(not_ready_ms, 0) << "/readyz never answered 503 during the drain";
  EXPECT_LT(not_ready_ms, 250) << "readiness took long to fail";
  // A new connection in the middle of the window is still served.
  std::this_thread::sleep_for(std::chrono::milliseconds(kDrainMs / 2) -
                              std::chrono::milliseconds(static_cast<int>(MsSince(term))));
  HttpResponse mid = HttpRequest(port, "GET", "/healthz");
  EXPECT_TRUE(mid.ok && mid.status == 200) << "a new connection during the drain was not served";

  const int exit_code = server.process().WaitExit(std::chrono::milliseconds(kDrainMs + kGraceMs));
  const double exit_ms = MsSince(term);
  EXPECT_EQ(exit_code, 0) << server.process().Stderr();
  EXPECT_GE(exit_ms, kDrainMs * 0.95) << "the process left before its drain window";
  HttpResponse after = HttpRequest(port, "GET", "/healthz");
  EXPECT_FALSE(after.ok) << "a connection after the drain was accepted";
  (*campaign)->Stop();
  const std::map<std::string, FunctionTally> during = (*campaign)->Tallies();

  // The turned-away writes go to the server started again (a restart of the same deployment).
  ASSERT_TRUE(server.Restart(SIGTERM, &error)) << error;
  const bool settled = (*campaign)->Settle(std::chrono::seconds(60));
  const std::vector<std::string> replays = (*campaign)->CheckReplays();
  const StoreCheck check = CheckStore(sut->Sql(), sut->postgres(), *before, (*campaign)->writes(),
                                      (*campaign)->base_date());

  json::object line{{"scenario", "SIGTERM drain"},
                    {"backend", sut->postgres() ? "postgresql" : "sqlite"},
                    {"clients", settings.clients},
                    {"drainMs", kDrainMs},
                    {"readyz503AfterMs", not_ready_ms},
                    {"exitAfterMs", exit_ms},
                    {"exitCode", exit_code},
                    {"requestsUntilExit", TallyJson(during)},
                    {"writes", WritesJson(**campaign, check)},
                    {"replayMismatches", replays.size()}};
  std::cout << Summary(line) << "\n";
  AppendReportLine(line);

  uint64_t accepted_unanswered = 0;
  for (const auto& [function, t] : during) {
    accepted_unanswered += t.no_answer + t.timed_out + t.server_error + t.unavailable;
  }
  EXPECT_EQ(accepted_unanswered, 0u) << "requests the server accepted went unanswered or failed";
  EXPECT_TRUE(settled) << "writes still unsettled after 60 s";
  for (const std::string& r : replays) ADD_FAILURE() << "replay: " << r;
  for (const std::string& v : check.violations) ADD_FAILURE() << "store: " << v;
}

}  // namespace
}  // namespace hasivu::reliability
