// Cache staleness and Redis faults through the API with `--cache redis://...` (in-process L1 +
// Redis L2, invalidations over Redis pub/sub), on SQLite:
//  * two `hasivu serve` processes on one data folder and one Redis: every write scenario of
//    cache_scenarios.h reads through B (filling B's L1 and Redis), writes through A, and reads
//    through B again. Needs HASIVU_TEST_REDIS_URL (scripts/services.sh); skipped without it.
//  * a fault test with a redis-server of its own that is stopped (SIGSTOP), killed and restarted
//    under a load of reads and writes: no request may fail and no read may be stale.
#include <signal.h>

#include <atomic>
#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/api_fixture.h"
#include "tests/integration/cache_scenarios.h"

namespace hasivu::testing {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

// Cross-process invalidation is asynchronous (Redis pub/sub to the other process's L1), so a read
// through B may show the old state for a moment after A answered the write. Bounded at 1 s.
constexpr milliseconds kSettle{1000};

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// One `hasivu serve` on the shared data folder with the scenarios' flags and `cache`.
std::unique_ptr<ServerProcess> StartNode(const std::string& data_dir, const std::string& cache) {
  std::vector<std::string> args = {
      "--data-dir",  data_dir, "--store",      "sqlite:" + data_dir + "/hasivu.db",
      "--cache",     cache,    "--jwt-secret", kCacheJwtSecret,
      "--log-level", "error",  "--access-log", "false"};
  for (const std::string& a : CacheServerArgs()) args.push_back(a);
  return std::make_unique<ServerProcess>(args, CacheServerEnv(), std::chrono::seconds(120));
}

bool LoadFixtures(const std::string& data_dir, json::object* out, std::string* error) {
  boost::system::error_code ec;
  json::value v = json::parse(Slurp(data_dir + "/fixtures.json"), ec);
  if (ec || !v.is_object()) {
    *error = "no fixtures.json in " + data_dir;
    return false;
  }
  *out = std::move(v.as_object());
  return true;
}

// --- Two processes sharing one Redis -----------------------------------------------------------

class TwoProcessCacheTest : public ::testing::Test {
 public:
  static void SetUpTestSuite() {
    State& s = S();
    const char* url = std::getenv("HASIVU_TEST_REDIS_URL");
    if (!url || !*url) return;
    std::smatch m;
    const std::string text = url;
    if (!std::regex_match(text, m, std::regex(R"(redis://127\.0\.0\.1:(\d+)(/\d+)?)"))) {
      s.error = "HASIVU_TEST_REDIS_URL is not redis://127.0.0.1:PORT[/DB]: " + text;
      return;
    }
    // The demo seed gives the same ids on every run, and the server's key prefix is fixed, so
    // this suite takes a database of its own (8-15, at random against a concurrent run) and
    // empties it first: values cached by an earlier run's database must not be served here.
    const int port = std::stoi(m[1]);
    const int db = 8 + static_cast<int>(std::random_device{}() % 8);
    const std::string reply = RedisCommands(port, {"SELECT " + std::to_string(db), "FLUSHDB"});
    if (reply.find("+OK\r\n+OK") == std::string::npos) {
      s.error = "cannot FLUSHDB Redis database " + std::to_string(db) + ": " + reply;
      return;
    }
    s.redis_port = port;
    s.redis_db = db;
    const std::string cache =
        "redis://127.0.0.1:" + std::to_string(port) + "/" + std::to_string(db);
    s.data_dir = MakeTempDir("hasivu-cache-2p");
    // A seeds the empty folder; B starts after A is up, finds the database full and only serves.
    s.a = StartNode(s.data_dir, cache);
    if (!s.a->started()) {
      s.error = "A did not start: " + s.a->Stderr();
      return;
    }
    if (!LoadFixtures(s.data_dir, &s.fixtures, &s.error)) return;
    s.b = StartNode(s.data_dir, cache);
    if (!s.b->started()) s.error = "B did not start: " + s.b->Stderr();
  }
  static void TearDownTestSuite() {
    State& s = S();
    if (s.b) s.b->StopWith(SIGTERM);
    if (s.a) s.a->StopWith(SIGTERM);
    s.a.reset();
    s.b.reset();
    if (!s.data_dir.empty()) std::filesystem::remove_all(s.data_dir);
    if (s.redis_port > 0) {
      RedisCommands(s.redis_port, {"SELECT " + std::to_string(s.redis_db), "FLUSHDB"});
    }
  }

 protected:
  struct State {
    std::unique_ptr<ServerProcess> a;
    std::unique_ptr<ServerProcess> b;
    std::string data_dir;
    json::object fixtures;
    std::string error;
    int redis_port = 0;
    int redis_db = 0;
  };
  static State& S() {
    static State s;
    return s;
  }

  void SetUp() override {
    const char* url = std::getenv("HASIVU_TEST_REDIS_URL");
    if (!url || !*url) GTEST_SKIP() << "HASIVU_TEST_REDIS_URL is not set (scripts/services.sh)";
    ASSERT_TRUE(S().error.empty()) << S().error;
    ASSERT_TRUE(S().a && S().b && S().b->started());
  }

  // Reads through B, writes through A.
  static CacheScenario Scenario() {
    return CacheScenario{.fixtures = S().fixtures,
                         .read_port = S().b->port(),
                         .write_port = S().a->port(),
                         .settle = kSettle};
  }
};

TEST_F(TwoProcessCacheTest, BothProcessesUseRedis) {
  for (ServerProcess* p : {S().a.get(), S().b.get()}) {
    ApiResponse metrics = CallAt(p->port(), "GET", "/metrics");
    ASSERT_EQ(metrics.status, 200);
    EXPECT_GE(MetricValue(metrics.body, "hasivu_cache_redis_breaker_state"), 0)
        << "no Redis cache series in /metrics of the process on port " << p->port();
  }
}

TEST_F(TwoProcessCacheTest, OrderCreateThroughAIsSeenThroughB) { Scenario().OrderCreate(); }

TEST_F(TwoProcessCacheTest, OrderCreateThroughALowersTheMenuThroughB) {
  Scenario().OrderCreateDecrementsMenu();
}

TEST_F(TwoProcessCacheTest, KitchenStatusThroughAIsSeenThroughB) { Scenario().KitchenStatus(); }

TEST_F(TwoProcessCacheTest, PaymentVerifyThroughAIsSeenThroughB) { Scenario().PaymentVerify(); }

TEST_F(TwoProcessCacheTest, PaymentWebhookThroughAIsSeenThroughB) { Scenario().PaymentWebhook(); }

TEST_F(TwoProcessCacheTest, RfidDeliveryThroughAIsSeenThroughB) { Scenario().RfidDelivery(); }

TEST_F(TwoProcessCacheTest, MenuPutThroughAIsSeenThroughB) { Scenario().MenuPut(); }

TEST_F(TwoProcessCacheTest, RehashingLoginThroughAIsSeenThroughB) { Scenario().UserRehash(); }

// --- Redis stopped, killed and restarted under load --------------------------------------------

class CacheFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(HasivuBinary().empty()) << "HASIVU_BINARY is not set";
    redis_ = std::make_unique<RedisProcess>();
    ASSERT_TRUE(redis_->started()) << "redis-server did not start";
    data_dir_ = MakeTempDir("hasivu-cache-fault");
    server_ = StartNode(data_dir_, "redis://127.0.0.1:" + std::to_string(redis_->port()) + "/0");
    ASSERT_TRUE(server_->started()) << server_->Stderr();
    std::string error;
    ASSERT_TRUE(LoadFixtures(data_dir_, &fixtures_, &error)) << error;
  }
  void TearDown() override {
    if (server_) server_->StopWith(SIGTERM);
    server_.reset();
    redis_.reset();
    if (!data_dir_.empty()) std::filesystem::remove_all(data_dir_);
  }

  double Metric(const std::string& name) {
    return MetricValue(CallAt(server_->port(), "GET", "/metrics").body, name);
  }

  std::unique_ptr<RedisProcess> redis_;
  std::unique_ptr<ServerProcess> server_;
  std::string data_dir_;
  json::object fixtures_;
};

// What the load saw. Any failure or stale read is recorded with its first few messages.
struct LoadReport {
  std::atomic<int> failures{0};
  std::atomic<int> stale{0};
  std::atomic<int> rounds{0};
  std::mutex mu;
  std::vector<std::string> messages;

  void Fail(std::atomic<int>& counter, const std::string& what) {
    ++counter;
    std::lock_guard<std::mutex> lock(mu);
    if (messages.size() < 10) messages.push_back(what);
  }
};

TEST_F(CacheFaultTest, NoFailedRequestAndNoStaleReadWhileRedisStopsDiesAndReturns) {
  const int port = server_->port();
  const json::value& school = fixtures_.at("schools").at(0);
  const std::string school_id = Str(school, "id");
  const std::string base(fixtures_.at("baseDate").as_string());
  const std::string kitchen = LoginAt(port, school.at("kitchenStaff").at(0));
  ASSERT_FALSE(kitchen.empty());

  constexpr int kWorkers = 3;
  struct Worker {
    std::string token;
    std::string student_id;
    std::string date;
    std::string item;
  };
  std::vector<Worker> workers;
  for (int w = 0; w < kWorkers; ++w) {
    const json::value& parent = school.at("parents").at(w);
    Worker k{LoginAt(port, parent), Str(parent.at("children").at(0), "id"),
             NextWeekday(base, 3 + w), ""};
    ASSERT_FALSE(k.token.empty());
    ApiResponse menu = CallAt(
        port, "GET", "/api/v1/menus/daily?schoolId=" + school_id + "&date=" + k.date, k.token);
    ASSERT_EQ(menu.status, 200) << menu.body;
    // Unlimited, and dear enough for a payment order.
    for (const json::value& v : menu.Data().at("items").as_array()) {
      const json::object& m = v.as_object();
      if (m.at("maxPerOrder").is_null() && m.at("availableQuantity").is_null() &&
          m.at("price").as_int64() >= 100) {
        k.item = std::string(m.at("menuItemId").as_string());
        break;
      }
    }
    ASSERT_FALSE(k.item.empty()) << menu.body;
    workers.push_back(k);
  }

  LoadReport report;
  std::atomic<bool> stop{false};
  auto expect = [&](const ApiResponse& r, int status, const std::string& what) {
    if (r.status == status) return true;
    report.Fail(report.failures,
                what + " answered " + std::to_string(r.status) + ": " + r.body.substr(0, 300));
    return false;
  };
  auto fresh = [&](bool ok, const std::string& what) {
    if (!ok) report.Fail(report.stale, "stale: " + what);
  };
  auto run = [&](const Worker& k) {
    const std::string list = "/api/v1/orders?includeTotal=true&limit=5&studentId=" + k.student_id;
    ApiResponse first = CallAt(port, "GET", list, k.token);
    if (!expect(first, 200, "first list")) return;
    int64_t total = first.Data().at("pagination").at("total").as_int64();
    while (!stop.load()) {
      ApiResponse created = CallAt(
          port, "POST", "/api/v1/orders", k.token,
          Json(json::object{
              {"studentId", k.student_id},
              {"deliveryDate", k.date},
              {"items", json::array{json::object{{"menuItemId", k.item}, {"quantity", 1}}}}}));
      if (!expect(created, 201, "orders-create")) continue;
      ++total;
      const std::string id(created.Data().at("order").at("id").as_string());
      const std::string detail = "/api/v1/orders/" + id;

      ApiResponse l = CallAt(port, "GET", list, k.token);
      if (expect(l, 200, "orders-list")) {
        const json::array& orders = l.Data().at("orders").as_array();
        fresh(!orders.empty() && Str(orders.at(0), "id") == id &&
                  l.Data().at("pagination").at("total").as_int64() == total,
              "orders-list after orders-create: " + l.body.substr(0, 200));
      }
      ApiResponse d = CallAt(port, "GET", detail, k.token);
      if (expect(d, 200, "order detail")) {
        fresh(Str(d.Data().at("order"), "status") == "pending", "detail after create");
      }

      ApiResponse po = CallAt(port, "POST", "/api/v1/payments/orders", k.token,
                              Json(json::object{{"orderId", id}}));
      if (!expect(po, 201, "payments-create-order")) continue;
      const std::string gid(po.Data().at("paymentOrder").at("gatewayOrderId").as_string());
      ApiResponse sim = CallAt(port, "POST", "/api/v1/payments/simulate", k.token,
                               Json(json::object{{"razorpayOrderId", gid}}));
      if (!expect(sim, 200, "payments/simulate")) continue;
      ApiResponse v =
          CallAt(port, "POST", "/api/v1/payments/verify", k.token,
                 Json(json::object{{"razorpayOrderId", gid},
                                   {"razorpayPaymentId", sim.Data().at("razorpayPaymentId")},
                                   {"razorpaySignature", sim.Data().at("razorpaySignature")}}));
      if (!expect(v, 200, "payments-verify")) continue;
      d = CallAt(port, "GET", detail, k.token);
      if (expect(d, 200, "order detail")) {
        fresh(Str(d.Data().at("order"), "paymentStatus") == "paid" &&
                  Str(d.Data().at("order"), "status") == "confirmed",
              "detail after verify: " + d.body.substr(0, 200));
      }

      ApiResponse p =
          CallAt(port, "PATCH", detail + "/status", kitchen, "{\"status\":\"preparing\"}");
      if (!expect(p, 200, "PATCH status")) continue;
      d = CallAt(port, "GET", detail, k.token);
      if (expect(d, 200, "order detail")) {
        fresh(Str(d.Data().at("order"), "status") == "preparing", "detail after PATCH");
      }
      l = CallAt(port, "GET", list, k.token);
      if (expect(l, 200, "orders-list")) {
        const json::array& orders = l.Data().at("orders").as_array();
        fresh(!orders.empty() && Str(orders.at(0), "id") == id &&
                  Str(orders.at(0), "status") == "preparing",
              "orders-list after PATCH: " + l.body.substr(0, 200));
      }
      ApiResponse menu = CallAt(
          port, "GET", "/api/v1/menus/daily?schoolId=" + school_id + "&date=" + k.date, k.token);
      expect(menu, 200, "menus-daily");
      ApiResponse me = CallAt(port, "GET", "/api/v1/users/me", k.token);
      expect(me, 200, "users-get");
      ++report.rounds;
    }
  };

  std::vector<std::thread> threads;
  for (const Worker& k : workers) threads.emplace_back(run, std::cref(k));
  // The phases are wall-clock spans of load, not synchronisation: each lasts long enough for
  // several rounds and, for the outage, for the breaker to open (3 failures of 100 ms timeouts).
  auto phase = [&](milliseconds span) {
    const int before = report.rounds.load();
    std::this_thread::sleep_for(span);
    return report.rounds.load() - before;
  };
  const int healthy = phase(milliseconds(1000));
  redis_->Signal(SIGSTOP);
  const int stopped = phase(milliseconds(1000));
  redis_->Kill();
  const int dead = phase(milliseconds(1000));
  const int redis_port = redis_->port();
  redis_.reset();
  redis_ = std::make_unique<RedisProcess>(redis_port);
  const bool restarted = redis_->started();
  // Back to normal: the breaker probes with backoff; wait (bounded) for the recovery to count.
  const auto deadline = steady_clock::now() + std::chrono::seconds(10);
  while (restarted && Metric("hasivu_cache_redis_recoveries_total") < 1 &&
         steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(100));
  }
  const int recovered = phase(milliseconds(1000));
  stop = true;
  for (std::thread& t : threads) t.join();

  std::string messages;
  for (const std::string& m : report.messages) messages += "\n  " + m;
  EXPECT_EQ(report.failures.load(), 0) << messages;
  EXPECT_EQ(report.stale.load(), 0) << messages;
  EXPECT_TRUE(restarted) << "redis-server did not come back on port " << redis_port;
  // Load ran in every phase (a hang would show as no rounds).
  EXPECT_GT(healthy, 0);
  EXPECT_GT(stopped, 0);
  EXPECT_GT(dead, 0);
  EXPECT_GT(recovered, 0);
  EXPECT_GE(Metric("hasivu_cache_redis_faults_total"), 1) << "the outage was not counted";
  EXPECT_GE(Metric("hasivu_cache_redis_recoveries_total"), 1) << "the recovery was not counted";
  EXPECT_EQ(Metric("hasivu_cache_redis_breaker_state"), 0) << "breaker not closed after recovery";
}

}  // namespace
}  // namespace hasivu::testing
