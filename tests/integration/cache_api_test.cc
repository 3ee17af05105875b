// Cache staleness through the API in one process (the default in-process cache, `--cache
// memory`), on both backends: for every write endpoint, reads fill the cache, the write answers,
// and the very next reads show the write with a new ETag (cache_scenarios.h). A cache that did
// not invalidate would serve the pre-write body, or a 304 for its ETag.
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

// users-get changes only through a login that re-hashes the password (updatedAt): the seed hashes
// with libsodium's minimum argon2id parameters, which ApiServer also passes to its server, so this
// suite seeds through ApiServer, stops that server and serves the same store with a higher
// opslimit.
class CacheApiRehashTest : public ::testing::Test {
 public:
  static void SetUpTestSuite() {
    ASSERT_FALSE(HasivuBinary().empty()) << "HASIVU_BINARY is not set";
    Seeded() = ApiServer::Start({}, CacheServerEnv(), &Error());
    if (Seeded() == nullptr) return;
    Seeded()->process().StopWith(SIGTERM);
    DataDir() = MakeTempDir("hasivu-cache-rehash");
    std::vector<std::string> args = {"--data-dir",          DataDir(),     "--store",
                                     Seeded()->store_url(), "--log-level", "warn",
                                     "--access-log",        "false"};
    for (const std::string& a : CacheServerArgs()) args.push_back(a);
    Serving() = std::make_unique<ServerProcess>(args, CacheServerEnv());
    if (!Serving()->started()) Error() = "hasivu serve did not start: " + Serving()->Stderr();
  }
  static void TearDownTestSuite() {
    Serving().reset();
    Seeded().reset();
    if (!DataDir().empty()) std::filesystem::remove_all(DataDir());
  }

 protected:
  void SetUp() override {
    ASSERT_TRUE(Seeded() != nullptr && Serving() != nullptr && Serving()->started()) << Error();
  }
  static std::unique_ptr<ApiServer>& Seeded() {
    static std::unique_ptr<ApiServer> s;
    return s;
  }
  static std::unique_ptr<ServerProcess>& Serving() {
    static std::unique_ptr<ServerProcess> p;
    return p;
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

TEST_F(CacheApiRehashTest, LoginThatRehashesShowsTheNewUpdatedAt) {
  const int port = Serving()->port();
  CacheScenario{.fixtures = Seeded()->fixtures(), .read_port = port, .write_port = port}
      .UserRehash();
}

}  // namespace
}  // namespace hasivu::testing
