// Cache staleness through the API in one process (the default in-process cache, `--cache
// memory`), on both backends: for every write endpoint, reads fill the cache, the write answers,
// and the very next reads show the write with a new ETag (cache_scenarios.h). A cache that did
// not invalidate would serve the pre-write body, or a 304 for its ETag.
#include <gtest/gtest-spi.h>

#include <csignal>
#include <filesystem>
#include <memory>

#include "tests/integration/api_fixture.h"
#include "tests/integration/cache_scenarios.h"

namespace hasivu::testing {
namespace {

class CacheApiTest : public ApiSuite {
 public:
  static void SetUpTestSuite() {
    SetServerOptions({}, CacheServerEnv());
    ApiSuite::SetUpTestSuite();
  }

 protected:
  CacheScenario Scenario() {
    return CacheScenario{.fixtures = Fixtures(),
                         .read_port = Server().port(),
                         .write_port = Server().port(),
                         .settle = std::chrono::milliseconds(0)};
  }
};

TEST_F(CacheApiTest, OrderCreateShowsInEveryListAtOnce) { Scenario().OrderCreate(); }

TEST_F(CacheApiTest, OrderCreateLowersTheMenusAvailableQuantity) {
  Scenario().OrderCreateDecrementsMenu();
}

TEST_F(CacheApiTest, KitchenStatusChangeShowsInDetailAndLists) { Scenario().KitchenStatus(); }

TEST_F(CacheApiTest, PaymentVerifyShowsThePaidOrder) { Scenario().PaymentVerify(); }

TEST_F(CacheApiTest, PaymentWebhookShowsThePaidOrder) { Scenario().PaymentWebhook(); }

TEST_F(CacheApiTest, RfidDeliveryShowsTheDeliveredOrder) { Scenario().RfidDelivery(); }

TEST_F(CacheApiTest, MenuPutPublishesReplacesAndWithdraws) { Scenario().MenuPut(); }

// Issue 19: users-get reads only `fields`, so other parameters (?x=1, ?x=2, ...) must not make
// new cache entries: every such request is a hit on the one entry, not a miss and a new key.
TEST_F(CacheApiTest, UsersGetUnknownQueryParametersShareOneCacheEntry) {
  const auto& parent = Fixtures().at("schools").at(1).at("parents").at(1);
  const std::string token = Login(parent);
  ApiResponse first = Call("GET", "/api/v1/users/me", token);
  ASSERT_EQ(first.status, 200) << first.body;
  const auto metric = [](const std::string& name) {
    return MetricValue(Call("GET", "/metrics").body, name);
  };
  const double hits = metric("hasivu_cache_hits_total");
  const double keys = metric("hasivu_cache_keys");
  constexpr int kRequests = 20;
  for (int i = 0; i < kRequests; ++i) {
    ApiResponse r = Call("GET", "/api/v1/users/me?x=" + std::to_string(i) + "&y", token);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.Data(), first.Data());
  }
  EXPECT_GE(metric("hasivu_cache_hits_total") - hits, kRequests);
  EXPECT_LT(metric("hasivu_cache_keys") - keys, kRequests);
  // `fields` still selects its own entry.
  ApiResponse ids = Call("GET", "/api/v1/users/me?fields=id&x=1", token);
  ASSERT_EQ(ids.status, 200) << ids.body;
  EXPECT_EQ(ids.Data().size(), 1u);
}

// Servers on a store seeded through ApiServer: ApiServer passes the seed's argon2id parameters
// (libsodium's minimum) to its server, and the flag cannot be given twice, so the suite stops
// that server and serves the same store with CacheServerArgs() (a higher opslimit: a login
// re-hashes, which is the only API write that changes what users-get shows, updatedAt).
class RestartedStoreSuite : public ::testing::Test {
 public:
  // Starts `count` servers with the in-process cache on the seeded store.
  static void Start(int count) {
    ASSERT_FALSE(HasivuBinary().empty()) << "HASIVU_BINARY is not set";
    Seeded() = ApiServer::Start({}, CacheServerEnv(), &Error());
    if (Seeded() == nullptr) return;
    Seeded()->process().StopWith(SIGTERM);
    DataDir() = MakeTempDir("hasivu-cache-restarted");
    std::vector<std::string> args = {
        "--data-dir",  DataDir(), "--store",      Seeded()->store_url(),
        "--cache",     "memory",  "--jwt-secret", kCacheJwtSecret,
        "--log-level", "warn",    "--access-log", "false"};
    for (const std::string& a : CacheServerArgs()) args.push_back(a);
    for (int i = 0; i < count; ++i) {
      Servers().push_back(std::make_unique<ServerProcess>(args, CacheServerEnv()));
      if (!Servers().back()->started()) {
        Error() = "hasivu serve did not start: " + Servers().back()->Stderr();
        return;
      }
    }
  }
  static void TearDownTestSuite() {
    Servers().clear();
    Seeded().reset();
    if (!DataDir().empty()) std::filesystem::remove_all(DataDir());
    DataDir().clear();
    Error().clear();
  }

 protected:
  void SetUp() override { ASSERT_TRUE(Seeded() != nullptr && Error().empty()) << Error(); }
  static std::unique_ptr<ApiServer>& Seeded() {
    static std::unique_ptr<ApiServer> s;
    return s;
  }
  static std::vector<std::unique_ptr<ServerProcess>>& Servers() {
    static std::vector<std::unique_ptr<ServerProcess>> v;
    return v;
  }
  static std::string& DataDir() {
    static std::string d;
    return d;
  }
  static std::string& Error() {
    static std::string e;
    return e;
  }
};

class CacheApiRehashTest : public RestartedStoreSuite {
 public:
  static void SetUpTestSuite() { Start(1); }
};

TEST_F(CacheApiRehashTest, LoginThatRehashesShowsTheNewUpdatedAt) {
  const int port = Servers().at(0)->port();
  CacheScenario{.fixtures = Seeded()->fixtures(), .read_port = port, .write_port = port}
      .UserRehash();
}

// The control: two processes with their own in-process caches on one store, so that B's cache
// never hears of A's writes -- a cache that does not invalidate, as far as reads through B go.
// Every scenario must notice (report at least one failure, intercepted here); a scenario that
// passed against it would pass against any cache.
class CacheScenariosDetectStalenessTest : public RestartedStoreSuite {
 public:
  static void SetUpTestSuite() { Start(2); }

 protected:
  static int Failures(void (CacheScenario::*run)() const) {
    const CacheScenario s{.fixtures = Seeded()->fixtures(),
                          .read_port = Servers().at(1)->port(),
                          .write_port = Servers().at(0)->port()};
    ::testing::TestPartResultArray results;
    {
      ::testing::ScopedFakeTestPartResultReporter reporter(
          ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &results);
      (s.*run)();
    }
    return results.size();
  }
};

TEST_F(CacheScenariosDetectStalenessTest, EveryScenarioFailsAgainstAStaleCache) {
  const std::pair<const char*, void (CacheScenario::*)() const> scenarios[] = {
      {"OrderCreate", &CacheScenario::OrderCreate},
      {"OrderCreateDecrementsMenu", &CacheScenario::OrderCreateDecrementsMenu},
      {"KitchenStatus", &CacheScenario::KitchenStatus},
      {"PaymentVerify", &CacheScenario::PaymentVerify},
      {"PaymentWebhook", &CacheScenario::PaymentWebhook},
      {"RfidDelivery", &CacheScenario::RfidDelivery},
      {"MenuPut", &CacheScenario::MenuPut},
      {"UserRehash", &CacheScenario::UserRehash},
  };
  for (const auto& [name, run] : scenarios) {
    EXPECT_GT(Failures(run), 0) << name << " did not notice reads served from a stale cache";
  }
}

}  // namespace
}  // namespace hasivu::testing
