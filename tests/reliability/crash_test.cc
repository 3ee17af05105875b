// Scenario 1 of docs/reliability.md: the server is killed with SIGKILL at random moments while
// clients create orders, verify payments and scan cards; it is started again on the same store
// and port each time. Afterwards every write must be settled, every acknowledged write must be
// in the store exactly once, a repeat of any of them must get its first answer again, and the
// store must pass its integrity checks and invariants (store_check.h).
//
// Built twice: reliability_crash_test (SQLite) and reliability_crash_pgtest (PostgreSQL).
// HASIVU_RELIABILITY_KILLS (default 3), _CLIENTS (16) and _WRITES (per write function, 250)
// lengthen it; bench/reliability.sh runs it with 20 kills.
#include <gtest/gtest.h>
#include <signal.h>

#include <random>
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

uint64_t AcknowledgedOrAnswered(const Campaign& campaign) {
  uint64_t n = 0;
  for (const auto& [function, t] : campaign.Tallies()) n += t.ok;
  return n;
}

TEST(CrashTest, KillNineMidWriteLosesAndDuplicatesNothing) {
  const int kills = EnvInt("HASIVU_RELIABILITY_KILLS", 3);
  std::string error;
  std::unique_ptr<ServerUnderTest> sut = ServerUnderTest::Start({}, &error);
  ASSERT_NE(sut, nullptr) << error;
  ApiServer& server = sut->server();
  const bool postgres = sut->postgres();
  const SqlRunner sql = sut->Sql();

  CampaignSettings settings;
  settings.clients = EnvInt("HASIVU_RELIABILITY_CLIENTS", 16);
  settings.writes_per_function = EnvInt("HASIVU_RELIABILITY_WRITES", 400);
  // Writes spread over the kills: about a second of them between two kills.
  settings.write_rate = 3.0 * settings.writes_per_function / (1.0 * (kills + 1));
  settings.run_tag = "crash";
  settings.checkout = sut->Checkout();
  auto campaign = Campaign::Prepare(server.port(), sut->FixturesJson(), settings);
  ASSERT_TRUE(campaign.ok()) << campaign.status().ToString();
  StatusOr<StoreCounts> before = CountRows(sql);
  ASSERT_TRUE(before.ok()) << before.status().ToString();

  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> pause_ms(200, 900);
  json::array kill_log;
  const Clock::time_point load_start = Clock::now();
  (*campaign)->Start();
  for (int k = 0; k < kills; ++k) {
    // Some progress since the last restart, then a random moment.
    const uint64_t answered = AcknowledgedOrAnswered(**campaign);
    const Clock::time_point wait_until = Clock::now() + std::chrono::seconds(30);
    while (AcknowledgedOrAnswered(**campaign) < answered + 50 && Clock::now() < wait_until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    const int pause = pause_ms(rng);
    std::this_thread::sleep_for(std::chrono::milliseconds(pause));
    // Mid-write: the first instant after the pause with a write in flight.
    const Clock::time_point give_up = Clock::now() + std::chrono::seconds(5);
    while ((*campaign)->WritesInFlight() == 0 && Clock::now() < give_up) {
    }
    const size_t in_flight = (*campaign)->WritesInFlight();
    const Clock::time_point killed = Clock::now();
    int exit_code = 0;
    ASSERT_TRUE(server.Restart(SIGKILL, &error, &exit_code)) << error;
    const double down_ms = std::chrono::duration<double, std::milli>(Clock::now() - killed).count();
    kill_log.push_back(
        json::object{{"afterMs", pause}, {"writesInFlight", in_flight}, {"downMs", down_ms}});
  }
  const bool settled = (*campaign)->Settle(std::chrono::seconds(120));
  const double load_seconds = std::chrono::duration<double>(Clock::now() - load_start).count();
  const std::vector<std::string> replays = (*campaign)->CheckReplays();
  const StoreCheck check =
      CheckStore(sql, postgres, *before, (*campaign)->writes(), (*campaign)->base_date());

  json::object line{{"scenario", "kill -9 mid-write"},
                    {"backend", postgres ? "postgresql" : "sqlite"},
                    {"clients", settings.clients},
                    {"loadSeconds", load_seconds},
                    {"kills", kill_log},
                    {"requests", TallyJson((*campaign)->Tallies())},
                    {"writes", WritesJson(**campaign, check)},
                    {"replayMismatches", replays.size()}};
  std::cout << Summary(line) << "\n";
  AppendReportLine(line);

  EXPECT_TRUE(settled) << "writes still unsettled after 120 s";
  for (const std::string& r : replays) ADD_FAILURE() << "replay: " << r;
  for (const std::string& v : check.violations) ADD_FAILURE() << "store: " << v;
  // The kills must have landed on writes in flight, or nothing was tested.
  uint64_t cut = 0;
  for (const auto& [function, t] : (*campaign)->Tallies()) {
    if (function == "orders-create" || function == "payments-verify" ||
        function == "rfid-verify-card") {
      cut += t.no_answer;
    }
  }
  EXPECT_GT(cut, 0u) << "no write was cut by a kill";
  // No answer of the server may be a 500.
  for (const auto& [function, t] : (*campaign)->Tallies()) {
    EXPECT_EQ(t.server_error, 0u) << function;
  }
}

}  // namespace
}  // namespace hasivu::reliability
