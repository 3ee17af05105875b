// Black-box tests of the `hasivu` program: first run on the embedded default, the HTTP basics
// through the real binary, graceful shutdown, configuration errors, migrate and seed.
#include <signal.h>
#include <sys/stat.h>

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/integration/harness.h"

namespace hasivu::testing {
namespace {

namespace fs = std::filesystem;

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class ServeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(HasivuBinary().empty()) << "HASIVU_BINARY is not set";
    dir_ = MakeTempDir("hasivu-it");
    ASSERT_FALSE(dir_.empty());
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string dir_;
};

TEST_F(ServeTest, FirstRunCreatesTheDataFolderSeedsAndServes) {
  const std::string data = dir_ + "/nested/data";
  ServerProcess server({"--data-dir", data, "--log-level", "warn"});
  ASSERT_TRUE(server.started()) << server.Stderr();

  EXPECT_TRUE(fs::exists(data + "/hasivu.db"));
  ASSERT_TRUE(fs::exists(data + "/fixtures.json"));
  const auto fixtures = boost::json::parse(Slurp(data + "/fixtures.json")).as_object();
  EXPECT_EQ(fixtures.at("schools").as_array().size(), 2u);
  const std::string admin_email(fixtures.at("admin").at("email").as_string());

  const std::string out = server.Stdout();
  EXPECT_NE(out.find("http://127.0.0.1:" + std::to_string(server.port())), std::string::npos)
      << out;
  EXPECT_NE(out.find(admin_email), std::string::npos) << out;

  HttpResponse health = HttpRequest(server.port(), "GET", "/healthz");
  ASSERT_TRUE(health.ok);
  EXPECT_EQ(health.status, 200);
  const auto body = boost::json::parse(health.body).as_object();
  EXPECT_TRUE(body.at("success").as_bool());
  EXPECT_EQ(body.at("meta").at("requestId").as_string(), health.headers["x-request-id"]);

  HttpResponse ready = HttpRequest(server.port(), "GET", "/readyz");
  EXPECT_EQ(ready.status, 200);

  HttpResponse missing = HttpRequest(server.port(), "GET", "/api/v1/nope", {"X-Request-Id: it-1"});
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.headers["x-request-id"], "it-1");
  const auto err = boost::json::parse(missing.body).as_object();
  EXPECT_FALSE(err.at("success").as_bool());
  EXPECT_EQ(err.at("error").at("code").as_string(), "NOT_FOUND");
  EXPECT_EQ(err.at("meta").at("requestId").as_string(), "it-1");

  HttpResponse wrong_method =
      HttpRequest(server.port(), "POST", "/healthz", {"Content-Type: application/json"}, "{}");
  EXPECT_EQ(wrong_method.status, 405);
  EXPECT_NE(wrong_method.headers["allow"].find("GET"), std::string::npos);

  HttpResponse too_big = HttpRequest(server.port(), "POST", "/api/v1/orders",
                                     {"Content-Type: application/json"}, std::string(70000, ' '));
  EXPECT_EQ(too_big.status, 413);

  HttpResponse metrics = HttpRequest(server.port(), "GET", "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("hasivu_http_requests_total"), std::string::npos);

  EXPECT_EQ(server.StopWith(SIGTERM), 0) << server.Stderr();
}

TEST_F(ServeTest, SecondStartKeepsTheDataAndDoesNotReseed) {
  const std::string data = dir_ + "/data";
  {
    ServerProcess first({"--data-dir", data, "--log-level", "warn"});
    ASSERT_TRUE(first.started()) << first.Stderr();
    EXPECT_EQ(first.StopWith(SIGTERM), 0);
  }
  const std::string fixtures_before = Slurp(data + "/fixtures.json");
  ServerProcess second({"--data-dir", data, "--log-level", "warn"});
  ASSERT_TRUE(second.started()) << second.Stderr();
  EXPECT_EQ(Slurp(data + "/fixtures.json"), fixtures_before);
  EXPECT_EQ(second.Stdout().find("admin@"), std::string::npos);  // no fresh logins printed
  EXPECT_EQ(second.StopWith(SIGINT), 0);
}

TEST_F(ServeTest, SigtermWithOpenConnectionsExitsZeroPromptly) {
  ServerProcess server({"--data-dir", dir_ + "/data", "--log-level", "warn"});
  ASSERT_TRUE(server.started()) << server.Stderr();
  // An idle keep-alive connection and a half-sent request must not hold the shutdown.
  std::thread idle([&] {
    RawExchange(server.port(), "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
                std::chrono::seconds(12));
  });
  std::thread partial([&] {
    RawExchange(server.port(), "GET /healthz HTTP/1.1\r\nHost:", std::chrono::seconds(12));
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(server.StopWith(SIGTERM, std::chrono::seconds(10)), 0) << server.Stderr();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  idle.join();
  partial.join();
}

TEST_F(ServeTest, InvalidConfigurationExitsWithOneLine) {
  const std::vector<std::vector<std::string>> cases = {
      {"serve", "--listen", "nonsense"}, {"serve", "--listen", "127.0.0.1:99999"},
      {"serve", "--mode", "staging"},    {"serve", "--store", "mysql://db"},
      {"serve", "--threads", "many"},    {"serve", "--log-level", "loud"},
      {"serve", "--mode", "production"},  // no JWT secret
      {"seed", "--size", "huge"},        {"frobnicate"},
  };
  for (auto args : cases) {
    args.insert(args.begin(), HasivuBinary());
    args.push_back("--data-dir");
    args.push_back(dir_ + "/cfg");
    const CommandResult r = RunCommand(args);
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    EXPECT_NE(r.exit_code, 0) << joined;
    EXPECT_NE(r.exit_code, -1) << joined;
    ASSERT_FALSE(r.err.empty()) << joined;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "more than one line: " << r.err;
  }
  // The environment variable is read too.
  const CommandResult env = RunCommand({HasivuBinary(), "serve", "--data-dir", dir_ + "/cfg"},
                                       {{"HASIVU_LISTEN", "bad"}});
  EXPECT_EQ(env.exit_code, 2);
  EXPECT_NE(env.err.find("--listen"), std::string::npos) << env.err;
}

TEST_F(ServeTest, PortInUseIsAClearError) {
  ServerProcess server({"--data-dir", dir_ + "/a", "--log-level", "warn"});
  ASSERT_TRUE(server.started());
  const CommandResult r =
      RunCommand({HasivuBinary(), "serve", "--listen", "127.0.0.1:" + std::to_string(server.port()),
                  "--data-dir", dir_ + "/b", "--log-level", "warn"},
                 {}, std::chrono::seconds(60));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("listen"), std::string::npos) << r.err;
}

TEST_F(ServeTest, MigrateTwiceIsANoOp) {
  const std::string url = "sqlite:" + dir_ + "/m.db";
  const CommandResult first = RunCommand({HasivuBinary(), "migrate", "--store", url});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_FALSE(first.out.empty());
  const CommandResult second = RunCommand({HasivuBinary(), "migrate", "--store", url});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(first.out, second.out);  // same versions, same applied_at: nothing re-applied
}

TEST_F(ServeTest, SeedWritesFixturesAndRefusesAFullDatabase) {
  const std::string url = "sqlite:" + dir_ + "/s.db";
  const std::string fixtures = dir_ + "/fixtures.json";
  const CommandResult r = RunCommand({HasivuBinary(), "seed", "--store", url, "--size", "demo",
                                      "--seed", "7", "--fixtures-out", fixtures});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto f = boost::json::parse(Slurp(fixtures)).as_object();
  EXPECT_EQ(f.at("schools").as_array().size(), 2u);
  EXPECT_TRUE(f.contains("baseDate"));

  const CommandResult again = RunCommand({HasivuBinary(), "seed", "--store", url});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_FALSE(again.err.empty());
}

TEST_F(ServeTest, VersionAndHelp) {
  const CommandResult v = RunCommand({HasivuBinary(), "version"});
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_EQ(v.out.rfind("hasivu ", 0), 0u);
  for (const char* sub : {"serve", "migrate", "seed"}) {
    const CommandResult h = RunCommand({HasivuBinary(), sub, "--help"});
    EXPECT_EQ(h.exit_code, 0) << sub;
    EXPECT_NE(h.out.find("--store"), std::string::npos) << sub;
  }
}

}  // namespace
}  // namespace hasivu::testing
