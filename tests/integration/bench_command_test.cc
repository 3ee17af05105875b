// `hasivu bench` as an operator runs it, against the real binary: a short local run of all ten
// functions (its own seeded server, cold starts, the reports), and its exit codes against a
// running server: 0 when every target holds, 1 when one is missed, 2 for a regression against a
// baseline, 3 when the run itself fails (no data is never a pass).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "tests/integration/harness.h"

namespace hasivu::testing {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

[[maybe_unused]] void Write(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

std::string Describe(const CommandResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout:\n" + r.out + "\nstderr:\n" + r.err;
}

// Thresholds no loopback server misses and none it could not measure remotely (no cold start:
// only a local run starts processes).
constexpr char kLenientTargets[] = R"({"profiles": {"lenient": {
  "description": "only what a remote run measures, with room for a loaded CI machine",
  "warm_p95_ms": 60000, "error_rate": 0, "api_p95_ms": 60000}}})";

// The same, and a warm p95 no server meets.
constexpr char kImpossibleTargets[] = R"({"profiles": {"impossible": {
  "warm_p95_ms": 0.000001, "error_rate": 0}}})";

TEST(BenchCommandTest, AShortLocalRunOfAllTenFunctionsSucceedsAndItsReportsParse) {
  const std::string work = MakeTempDir("hasivu-bench-local");
  std::vector<std::string> args = {
      HasivuBinary(),  "bench", "--size",    "demo", "--work-dir",    work, "--duration", "1",
      "--warmup",      "0",     "--repeat",  "1",    "--cold-starts", "1",  "--writes",   "20",
      "--connections", "4",     "--profile", "seed", "--quiet"};
#ifdef HASIVU_BENCH_TEST_POSTGRES
  // The scale-out configuration: a PostgreSQL schema per repetition and the Redis cache.
  const char* pg = std::getenv("HASIVU_TEST_POSTGRES_URL");
  const char* redis = std::getenv("HASIVU_TEST_REDIS_URL");
  ASSERT_TRUE(pg != nullptr && *pg != '\0' && redis != nullptr && *redis != '\0')
      << "HASIVU_TEST_POSTGRES_URL and HASIVU_TEST_REDIS_URL (run scripts/services.sh start)";
  args.insert(args.end(), {"--store", pg, "--cache", redis});
  // Two repetitions: two stores seeded with the same ids, each with its own cache prefix.
  args[std::find(args.begin(), args.end(), "--repeat") - args.begin() + 1] = "2";
#endif
  CommandResult r = RunCommand(args, {}, std::chrono::seconds(600));
  // The seed's targets are generous for this server; a loaded machine may still miss a latency
  // (exit 1), never anything else.
  ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 1) << Describe(r);

  const json::value report = json::parse(Slurp(work + "/report/report.json"));
  const json::object& root = report.as_object();
  EXPECT_EQ(root.at("exit_code").as_int64(), r.exit_code);
  EXPECT_TRUE(root.at("run_errors").as_array().empty());
  EXPECT_TRUE(root.at("config").at("skipped").as_array().empty())
      << json::serialize(root.at("config").at("skipped"));

  // Every function ran warm, got only its expected status, and started cold.
  std::set<std::string> warm, cold;
  for (const json::value& p : root.at("phases").as_array()) {
    const std::string f(p.at("function").as_string());
    EXPECT_GT(p.at("requests").to_number<double>(), 0) << f;
    EXPECT_EQ(p.at("succeeded").to_number<double>(), p.at("requests").to_number<double>()) << f;
    EXPECT_TRUE(p.at("errors").as_object().empty()) << f << ": " << json::serialize(p.at("errors"));
    EXPECT_TRUE(p.as_object().contains("server")) << f << ": the local server's CPU and RSS";
    warm.insert(f);
  }
  for (const json::value& c : root.at("cold_starts").as_array()) {
    const std::string f(c.at("function").as_string());
    EXPECT_EQ(c.at("first_success_ms").as_array().size(), 1u)
        << f << ": " << json::serialize(c.at("failures"));
    EXPECT_GE(c.at("first_success_ms").as_array()[0].to_number<double>(),
              c.at("listening_ms").as_array()[0].to_number<double>())
        << f;
    cold.insert(f);
  }
  const std::set<std::string> ten = {"auth-register",         "auth-login",      "users-get",
                                     "menus-daily",           "orders-list",     "orders-create",
                                     "payments-create-order", "payments-verify", "rfid-verify-card",
                                     "monitoring-dashboard"};
  EXPECT_EQ(warm, ten);
  EXPECT_EQ(cold, ten);

  // Nothing the seed's profile asks for went unmeasured, and no function failed a request.
  for (const json::value& e : root.at("evaluations").as_array()) {
    EXPECT_EQ(e.at("not_measured").as_int64(), 0) << e.at("profile").as_string();
    for (const json::value& check : e.at("checks").as_array()) {
      if (check.at("metric").as_string() == "error_rate") {
        EXPECT_EQ(check.at("outcome").as_string(), "pass") << json::serialize(check);
      }
    }
  }
  ASSERT_TRUE(root.at("server_view").is_object());
  EXPECT_GT(root.at("server_view").at("db_queries").to_number<double>(), 0);
#ifdef HASIVU_BENCH_TEST_POSTGRES
  EXPECT_EQ(root.at("config").at("store").as_string(), "postgresql");
  // Each store is seeded anew with the same ids: each has its own Redis prefix, so no repetition
  // is served another's (or an earlier run's) cached answers.
  std::string run_tag;
  for (const fs::directory_entry& e : fs::directory_iterator(work)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("run-", 0) == 0) run_tag = name.substr(4);
  }
  ASSERT_FALSE(run_tag.empty());
  for (const std::string label : {"0", "1", "cold"}) {
    CommandResult keys = RunCommand({"/usr/bin/redis-cli", "-u", redis, "--scan", "--pattern",
                                     "hasivu-bench:" + run_tag + ":" + label + ":*"},
                                    {}, std::chrono::seconds(30));
    ASSERT_EQ(keys.exit_code, 0) << Describe(keys);
    EXPECT_FALSE(keys.out.empty()) << "no cache entry under the prefix of store " << label;
  }
#endif

  // The report a person reads: its tables, and a plot per function.
  const std::string md = Slurp(work + "/report/report.md");
  EXPECT_NE(md.find("## Cold start"), std::string::npos);
  EXPECT_NE(md.find("| rfid-verify-card |"), std::string::npos);
  const std::string svg = Slurp(work + "/report/latency.svg");
  EXPECT_NE(svg.find("<svg"), std::string::npos) << svg.substr(0, 80);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  for (const std::string& f : ten) EXPECT_NE(svg.find(f), std::string::npos) << f;
  fs::remove_all(work);
}

#ifndef HASIVU_BENCH_TEST_POSTGRES
// Live processes (not zombies, whose command line is empty) whose command line names `needle`.
std::vector<pid_t> ProcessesNaming(const std::string& needle) {
  std::vector<pid_t> out;
  for (const fs::directory_entry& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    std::string cmdline = Slurp(e.path().string() + "/cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find(needle) != std::string::npos) out.push_back(std::stoi(name));
  }
  return out;
}

TEST(BenchCommandTest, SigtermStopsEveryProcessTheBenchStartedAndExitsThree) {
  const std::string work = MakeTempDir("hasivu-bench-interrupt");
  const std::string err_path = work + "/stderr.txt";
  std::vector<std::string> args = {
      HasivuBinary(), "bench", "--size",   "demo", "--work-dir",  work,          "--duration", "20",
      "--warmup",     "0",     "--repeat", "3",    "--functions", "orders-list", "--quiet"};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t bench = fork();
  ASSERT_GE(bench, 0);
  if (bench == 0) {
    if (std::freopen(err_path.c_str(), "w", stderr) == nullptr) _exit(126);
    if (std::freopen("/dev/null", "w", stdout) == nullptr) _exit(126);
    execv(argv[0], argv.data());
    _exit(127);
  }
  // Wait for the server under test: a `hasivu serve` on this run's copy of the database.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  bool serving = false;
  while (!serving && std::chrono::steady_clock::now() < deadline) {
    for (pid_t pid : ProcessesNaming(work + "/run-")) {
      serving = serving || Slurp("/proc/" + std::to_string(pid) + "/cmdline").find("serve") !=
                               std::string::npos;
    }
    if (!serving) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (!serving) kill(bench, SIGKILL);
  ASSERT_TRUE(serving) << "no server started; the bench's stderr:\n" << Slurp(err_path);
  // Into the 20 s phase, then as an operator's Ctrl-C or a CI timeout would.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  ASSERT_EQ(kill(bench, SIGTERM), 0);
  const auto signalled = std::chrono::steady_clock::now();
  int status = 0;
  pid_t done = 0;
  const auto stop_deadline = signalled + std::chrono::seconds(60);
  while ((done = waitpid(bench, &status, WNOHANG)) == 0 &&
         std::chrono::steady_clock::now() < stop_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (done == 0) {
    kill(bench, SIGKILL);
    waitpid(bench, &status, 0);
    FAIL() << "the bench did not end within 60 s of SIGTERM";
  }
  // Well before the 20 s phase would have ended by itself: the handler stopped the server and
  // the run gave up at once.
  EXPECT_LT(std::chrono::steady_clock::now() - signalled, std::chrono::seconds(10));
  ASSERT_TRUE(WIFEXITED(status)) << "the bench was killed by the signal instead of handling it";
  EXPECT_EQ(WEXITSTATUS(status), 3) << Slurp(err_path);
  EXPECT_NE(Slurp(err_path).find("interrupted"), std::string::npos) << Slurp(err_path);
  // Nothing it started outlives it: no server, no peer, no seed of this run.
  EXPECT_EQ(ProcessesNaming(work + "/run-"), std::vector<pid_t>{});
  // The report of what was measured before is still written, without the phase that was cut
  // short (it measured a stopped server).
  EXPECT_TRUE(fs::exists(work + "/report/report.md"));
  const json::value report = json::parse(Slurp(work + "/report/report.json"));
  EXPECT_TRUE(report.at("phases").as_array().empty()) << json::serialize(report.at("phases"));
  EXPECT_EQ(report.at("exit_code").as_int64(), 3);
  fs::remove_all(work);
}

// One server for the exit-code runs: each run is a client of it, as an operator's would be.
class BenchExitCodeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    data_ = new std::string(MakeTempDir("hasivu-bench-exit"));
    server_ = new ServerProcess({"--data-dir", *data_, "--log-level", "warn", "--register-limit",
                                 "100000", "--access-log", "false"});
  }
  static void TearDownTestSuite() {
    delete server_;
    fs::remove_all(*data_);
    delete data_;
  }
  void SetUp() override { ASSERT_TRUE(server_->started()) << server_->Stderr(); }

  // A short remote run of two reads; `extra` flags replace the defaults of the same name.
  static CommandResult Bench(std::vector<std::string> extra) {
    const std::vector<std::pair<std::string, std::string>> defaults = {
        {"--url", "http://127.0.0.1:" + std::to_string(server_->port())},
        {"--fixtures", *data_ + "/fixtures.json"},
        {"--work-dir", *data_ + "/bench"},
        {"--functions", "users-get,orders-list"},
        {"--duration", "0.5"},
        {"--warmup", "0"},
        {"--connections", "2"}};
    std::vector<std::string> args = {HasivuBinary(), "bench", "--quiet"};
    for (const auto& [flag, value] : defaults) {
      if (std::find(extra.begin(), extra.end(), flag) == extra.end()) {
        args.push_back(flag);
        args.push_back(value);
      }
    }
    args.insert(args.end(), extra.begin(), extra.end());
    return RunCommand(args, {}, std::chrono::seconds(300));
  }

  static std::string* data_;
  static ServerProcess* server_;
};
std::string* BenchExitCodeTest::data_ = nullptr;
ServerProcess* BenchExitCodeTest::server_ = nullptr;

TEST_F(BenchExitCodeTest, EveryTargetMetIsZeroAndAMissedOneIsOne) {
  Write(*data_ + "/lenient.json", kLenientTargets);
  CommandResult pass =
      Bench({"--targets", *data_ + "/lenient.json", "--profile", "lenient", "--repeat", "1"});
  EXPECT_EQ(pass.exit_code, 0) << Describe(pass);

  Write(*data_ + "/impossible.json", kImpossibleTargets);
  CommandResult miss =
      Bench({"--targets", *data_ + "/impossible.json", "--profile", "impossible", "--repeat", "1"});
  EXPECT_EQ(miss.exit_code, 1) << Describe(miss);
  EXPECT_NE(miss.out.find("warm_p95_ms"), std::string::npos) << miss.out;
}

TEST_F(BenchExitCodeTest, ABaselineFarBetterThanThisRunIsARegression) {
  Write(*data_ + "/lenient.json", kLenientTargets);
  const std::string baseline = *data_ + "/baseline.json";
  CommandResult saved = Bench({"--targets", *data_ + "/lenient.json", "--profile", "lenient",
                               "--repeat", "3", "--save-baseline", baseline});
  ASSERT_EQ(saved.exit_code, 0) << Describe(saved);

  // A baseline from a server ten times faster than this one: the same file with every throughput
  // multiplied and every latency divided by ten.
  json::value b = json::parse(Slurp(baseline));
  int touched = 0;
  std::function<void(json::value&)> faster = [&](json::value& v) {
    if (v.is_object()) {
      for (auto& [key, value] : v.as_object()) {
        if (key == "requests_per_second" && value.is_number()) {
          value = value.to_number<double>() * 10;
          ++touched;
        } else if ((key == "p50_ms" || key == "p95_ms" || key == "p99_ms") && value.is_number()) {
          value = value.to_number<double>() / 10;
          ++touched;
        } else {
          faster(value);
        }
      }
    } else if (v.is_array()) {
      for (json::value& e : v.as_array()) faster(e);
    }
  };
  faster(b);
  ASSERT_GE(touched, 2 * 3 * 4) << "two functions, three runs, four figures";
  const std::string better = *data_ + "/better.json";
  Write(better, json::serialize(b));

  CommandResult regressed = Bench({"--targets", *data_ + "/lenient.json", "--profile", "lenient",
                                   "--repeat", "3", "--baseline", better});
  EXPECT_EQ(regressed.exit_code, 2) << Describe(regressed);
  const json::value report = json::parse(Slurp(*data_ + "/bench/report/report.json"));
  EXPECT_EQ(report.at("exit_code").as_int64(), 2);
  EXPECT_NE(Slurp(*data_ + "/bench/report/report.md").find("regression"), std::string::npos);
}

TEST_F(BenchExitCodeTest, TheWrkCheckRunsWrkBesideTheGeneratorOnTheSameRequest) {
  if (!fs::exists("/usr/bin/wrk")) GTEST_SKIP() << "wrk is not installed (scripts/install-deps.sh)";
  Write(*data_ + "/lenient.json", kLenientTargets);
  CommandResult r = Bench({"--targets", *data_ + "/lenient.json", "--profile", "lenient",
                           "--repeat", "1", "--duration", "1", "--wrk-check"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  const json::value report = json::parse(Slurp(*data_ + "/bench/report/report.json"));
  const json::array& checks = report.at("wrk_checks").as_array();
  ASSERT_EQ(checks.size(), 1u) << json::serialize(report.at("config").at("notes"));
  EXPECT_EQ(checks[0].at("function").as_string(), "orders-list");
  EXPECT_GT(checks[0].at("wrk_requests_per_second").to_number<double>(), 0);
  EXPECT_GT(checks[0].at("bench_requests_per_second").to_number<double>(), 0);
  EXPECT_GT(checks[0].at("wrk_p50_ms").to_number<double>(), 0);
}

TEST_F(BenchExitCodeTest, ARunThatCannotRunIsThreeNeverAPass) {
  // Nobody listens there: no data.
  const int closed = FreePort();
  CommandResult unreachable =
      RunCommand({HasivuBinary(), "bench", "--url", "http://127.0.0.1:" + std::to_string(closed),
                  "--fixtures", *data_ + "/fixtures.json", "--work-dir", *data_ + "/bench-closed",
                  "--functions", "users-get", "--duration", "0.5", "--repeat", "1", "--quiet"},
                 {}, std::chrono::seconds(120));
  EXPECT_EQ(unreachable.exit_code, 3) << Describe(unreachable);

  // A misconfigured run: an unknown function, a bad flag value, a missing fixtures file, a URL
  // that is not plain http.
  for (std::vector<std::string> bad :
       std::vector<std::vector<std::string>>{{"--functions", "orders-delete"},
                                             {"--connections", "0"},
                                             {"--no-such-flag"},
                                             {"--fixtures", *data_ + "/missing.json"},
                                             {"--url", "https://127.0.0.1:1"}}) {
    CommandResult r = Bench(bad);
    EXPECT_EQ(r.exit_code, 3) << bad.front() << "\n" << Describe(r);
    EXPECT_FALSE(r.err.empty()) << bad.front() << ": says why";
  }
}

#endif  // HASIVU_BENCH_TEST_POSTGRES

}  // namespace
}  // namespace hasivu::testing
