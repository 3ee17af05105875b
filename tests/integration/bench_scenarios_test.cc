// hasivu bench's scenarios against the real server: `hasivu serve` on an empty data folder seeds
// the demo data and writes fixtures.json; PrepareScenarios prepares the ten functions from it
// through the API, and every prepared request, sent as the load generator would, must get its
// expected status. Writes must be fresh (a second send is refused or answered as a repeat), and a
// second preparation on the same server (another run tag) must work too: runs repeat.
#include <signal.h>

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "bench/scenarios.h"
#include "tests/integration/harness.h"

namespace hasivu::testing {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using bench::HttpClient;
using bench::PreparedScenarios;
using bench::Request;
using bench::Response;
using bench::Scenario;

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// bench::HttpClient over the harness's socket client (a connection per request): what the bench
// sends, byte for byte the same headers and body.
class HarnessClient : public HttpClient {
 public:
  explicit HarnessClient(int port) : port_(port) {}

  StatusOr<Response> Send(const Request& r) override {
    ++sent;
    std::vector<std::string> headers;
    for (const bench::Header& h : r.headers) headers.push_back(h.name + ": " + h.value);
    if (!r.body.empty()) headers.push_back("Content-Type: application/json");
    HttpResponse got = HttpRequest(port_, r.method, r.target, headers, r.body);
    if (!got.ok) return UnavailableError("no answer from 127.0.0.1:" + std::to_string(port_));
    Response out;
    out.status = got.status;
    for (const auto& [name, value] : got.headers) out.headers.push_back({name, value});
    out.body = std::move(got.body);
    return out;
  }

  uint64_t sent = 0;

 private:
  int port_;
};

std::string HeaderOf(const Response& r, std::string_view name) {
  for (const bench::Header& h : r.headers) {
    if (h.name == name) return h.value;
  }
  return "";
}

// The request without Accept-Encoding, so that the answer can be read.
Request Plain(Request r) {
  std::erase_if(r.headers, [](const bench::Header& h) { return h.name == "Accept-Encoding"; });
  return r;
}

std::string CodeOf(const Response& r) {
  boost::system::error_code ec;
  json::value v = json::parse(r.body, ec);
  if (ec || !v.is_object() || !v.as_object().contains("error")) return "";
  return std::string(v.at("error").at("code").as_string());
}

const Scenario* Find(const PreparedScenarios& p, std::string_view function) {
  for (const Scenario& s : p.scenarios) {
    if (s.function == function) return &s;
  }
  return nullptr;
}

std::string Joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

// Sends every request of every scenario once; each must get its scenario's status.
void SendAll(HttpClient& client, const PreparedScenarios& p) {
  for (const Scenario& sc : p.scenarios) {
    for (const Request& r : sc.requests) {
      StatusOr<Response> got = client.Send(r);
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      if (got->status != sc.expected_status) {
        // The answer may be compressed: ask again without Accept-Encoding to see why.
        StatusOr<Response> plain = client.Send(Plain(r));
        ADD_FAILURE() << sc.function << " " << r.method << " " << r.target << " " << r.body
                      << ": got " << got->status << ", expected " << sc.expected_status
                      << "; again: " << (plain.ok() ? plain->body : plain.status().ToString());
      }
    }
  }
}

std::set<std::string> CardsOf(const Scenario& rfid) {
  std::set<std::string> cards;
  for (const Request& r : rfid.requests) {
    cards.emplace(json::parse(r.body).at("cardNumber").as_string());
  }
  return cards;
}

class BenchScenariosTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(HasivuBinary().empty()) << "HASIVU_BINARY is not set";
    dir_ = MakeTempDir("hasivu-bench-it");
    ASSERT_FALSE(dir_.empty());
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string dir_;
};

TEST_F(BenchScenariosTest, EveryPreparedRequestGetsItsStatusAndWritesAreFresh) {
  const std::string data = dir_ + "/data";
  // auth-register is throttled per client address (10 in 15 minutes by default); the bench's
  // registrations all come from loopback.
  ServerProcess server({"--data-dir", data, "--log-level", "warn", "--register-limit", "1000"});
  ASSERT_TRUE(server.started()) << server.Stderr();
  StatusOr<bench::Fixtures> fixtures = bench::ParseFixtures(Slurp(data + "/fixtures.json"));
  ASSERT_TRUE(fixtures.ok()) << fixtures.status().ToString();
  ASSERT_EQ(fixtures->schools.size(), 2u);

  HarnessClient client(server.port());
  bench::ScenarioOptions options;
  options.writes_per_function = 6;
  options.read_variety = 12;
  options.run_tag = "it-first";
  // The ten and the mixed read set (its requests are the three reads', so every one must answer).
  options.functions.assign(bench::kFunctions.begin(), bench::kFunctions.end());
  options.functions.emplace_back(bench::kMixedReads);
  StatusOr<PreparedScenarios> first = bench::PrepareScenarios(*fixtures, client, options);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  // The demo data has published menus around today and, in every school, paid orders of today
  // awaiting delivery (the seed forces confirmed..out_for_delivery ones), so nothing is skipped.
  EXPECT_TRUE(first->skipped.empty()) << Joined(first->skipped);
  ASSERT_EQ(first->scenarios.size(), bench::kFunctions.size() + 1) << Joined(first->skipped);
  EXPECT_EQ(first->scenarios.back().function, bench::kMixedReads);
  EXPECT_EQ(first->setup_requests, client.sent);
  // payments-create-order: an order each; payments-verify: an order, a payment order and a
  // simulated checkout each.
  EXPECT_EQ(first->setup_writes, 6u + 3u * 6u);

  for (const Scenario& sc : first->scenarios) {
    if (sc.writes && sc.function != "rfid-verify-card") {
      EXPECT_EQ(sc.requests.size(), 6u) << sc.function;
    }
    if (!sc.writes && sc.function != bench::kMixedReads) {
      EXPECT_LE(sc.requests.size(), 12u) << sc.function;
    }
  }
  // 12 parents over two schools: the reads rotate over twelve distinct requests.
  EXPECT_EQ(Find(*first, "auth-login")->requests.size(), 12u);
  EXPECT_EQ(Find(*first, "users-get")->requests.size(), 12u);
  EXPECT_EQ(Find(*first, "menus-daily")->requests.size(), 12u);
  EXPECT_EQ(Find(*first, "orders-list")->requests.size(), 12u);  // one a kitchen's list
  EXPECT_EQ(Find(*first, bench::kMixedReads)->requests.size(), 36u);
  const Scenario& rfid = *Find(*first, "rfid-verify-card");
  EXPECT_GE(rfid.requests.size(), 1u);
  EXPECT_LE(rfid.requests.size(), 6u);

  SendAll(client, *first);
  if (HasFailure()) return;

  // Sent again, every write shows it was done once, and by the first send.
  StatusOr<Response> rescan = client.Send(Plain(rfid.requests.front()));
  ASSERT_TRUE(rescan.ok());
  EXPECT_EQ(rescan->status, 409);
  EXPECT_EQ(CodeOf(*rescan), "ALREADY_DELIVERED");

  StatusOr<Response> reorder = client.Send(Plain(Find(*first, "orders-create")->requests.front()));
  ASSERT_TRUE(reorder.ok());
  EXPECT_EQ(reorder->status, 201);
  EXPECT_EQ(HeaderOf(*reorder, "idempotent-replayed"), "true");

  // The payment order made by the first send is returned again (200), not a new one (201).
  StatusOr<Response> repay =
      client.Send(Plain(Find(*first, "payments-create-order")->requests.front()));
  ASSERT_TRUE(repay.ok());
  EXPECT_EQ(repay->status, 200) << repay->body;

  // Verification is idempotent on the payment id: the same 200, and the order is now paid.
  StatusOr<Response> reverify =
      client.Send(Plain(Find(*first, "payments-verify")->requests.front()));
  ASSERT_TRUE(reverify.ok());
  EXPECT_EQ(reverify->status, 200) << reverify->body;

  StatusOr<Response> reregister =
      client.Send(Plain(Find(*first, "auth-register")->requests.front()));
  ASSERT_TRUE(reregister.ok());
  EXPECT_EQ(reregister->status, 409);
  EXPECT_EQ(CodeOf(*reregister), "EMAIL_TAKEN");

  // A second run on the same server: new emails and keys, fresh orders to pay, unscanned cards
  // (or, once the day's cards are used up, rfid-verify-card skipped with its reason).
  options.run_tag = "it-second";
  options.read_variety = 5;
  StatusOr<PreparedScenarios> second = bench::PrepareScenarios(*fixtures, client, options);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  const Scenario* rfid_again = Find(*second, "rfid-verify-card");
  if (rfid_again != nullptr) {
    EXPECT_EQ(second->scenarios.size(), bench::kFunctions.size() + 1) << Joined(second->skipped);
    for (const std::string& card : CardsOf(*rfid_again)) {
      EXPECT_EQ(CardsOf(rfid).count(card), 0u) << card << " was scanned by the first run";
    }
  } else {
    ASSERT_EQ(second->skipped.size(), 1u) << Joined(second->skipped);
    EXPECT_NE(second->skipped[0].find("rfid-verify-card: "), std::string::npos);
    EXPECT_EQ(second->scenarios.size(), bench::kFunctions.size() - 1);
  }
  SendAll(client, *second);

  EXPECT_EQ(server.StopWith(SIGTERM), 0) << server.Stderr();
}

TEST_F(BenchScenariosTest, NoServerIsAnErrorOfTheSetup) {
  bench::Fixtures fixtures;
  fixtures.base_date = "2026-11-27";
  fixtures.admin = {"a", "admin@demo.hasivu.test", "x"};
  HarnessClient client(FreePort());  // nothing listens there
  bench::ScenarioOptions options;
  options.run_tag = "it-none";
  options.functions = {"monitoring-dashboard"};
  StatusOr<PreparedScenarios> p = bench::PrepareScenarios(fixtures, client, options);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kUnavailable) << p.status().ToString();
}

}  // namespace
}  // namespace hasivu::testing
