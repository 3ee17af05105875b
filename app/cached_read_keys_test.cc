// A cached read answers its own data, whatever the client puts in its query: on the router
// Api::Create builds (in-process cache) over the seeded demo data. Before ReadCache::KeyPart,
// GET /api/v1/menus/daily?...&fields=|br found the brotli variant a compressing client had left
// under "<the same read's key>|br" and answered 200 with the compressed bytes as its data
// (found by read_cache_fuzz, docs/reliability.md "8. Fuzzing").
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "app/api.h"
#include "cache/cache.h"
#include "cache/cache_aside.h"
#include "cache/memory/memory_cache.h"
#include "cache/ttl.h"
#include "common/clock.h"
#include "common/ids.h"
#include "common/time_util.h"
#include "domain/password.h"
#include "domain/read_cache.h"
#include "http/message.h"
#include "http/router.h"
#include "metrics/metrics.h"
#include "metrics/monitor.h"
#include "seed/demo_data.h"
#include "store/migrations.h"
#include "store/testing/test_backend.h"

namespace hasivu::app {
namespace {

namespace json = boost::json;

class CachedReadKeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitCrypto().ok());
    auto db = store::testing::NewTestDatabase(2);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    ASSERT_TRUE(store::Migrate(db_->db()).ok());
    seed::SeedSettings seed_settings;
    StatusOr<Date> base = ParseDate("2026-09-09");
    ASSERT_TRUE(base.ok());
    seed_settings.base_date = *base;
    StatusOr<seed::SeedReport> report = seed::SeedDemoData(db_->db(), seed_settings, clock_);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    report_ = std::move(*report);
    registry_ = metrics::NewRegistry();
    monitor_ = std::make_unique<metrics::Monitor>(*registry_);
    StatusOr<cache::CachePtr> cache = cache::NewMemoryCache({.registry = registry_.get()});
    ASSERT_TRUE(cache.ok());
    cache_ = std::move(*cache);
    aside_ =
        std::make_unique<cache::CacheAside>(*cache_, cache::CacheAsideSettings{registry_.get()});
    read_cache_ =
        std::make_unique<domain::ReadCache>(aside_.get(), cache::TtlSettings{}, &db_->db());
    ApiSettings settings;
    settings.domain.auth.jwt_secret = "cached-read-keys-test-secret-0123456789abcdef";
    settings.domain.auth.password = domain::LightPasswordSettings();
    settings.domain.payments.key_secret = "cached-read-keys-key-secret";
    settings.domain.payments.webhook_secret = "cached-read-keys-webhook-secret";
    auto api = Api::Create(
        settings,
        {.db = db_->db(),
         .clock = clock_,
         .registry = *registry_,
         .monitor = *monitor_,
         .read_cache = *read_cache_,
         .cache = std::optional<std::reference_wrapper<const cache::Cache>>(*cache_),
         .service_info = {.version = "test",
                          .store_backend = "sqlite",
                          .cache_backend = "memory",
                          .cold_start = [] { return std::optional<metrics::ColdStartReport>(); },
                          .alarms = {},
                          .database_timed_globally = false}},
        router_);
    ASSERT_TRUE(api.ok()) << api.status().ToString();
    api_ = std::move(*api);
    const seed::SeedAccount& parent = report_.schools.at(0).parents.at(0).account;
    http::Response login = Call(
        "POST", "/api/v1/auth/login",
        json::serialize(json::object{{"email", parent.email}, {"password", parent.password}}), "");
    ASSERT_EQ(login.status, 200u) << login.body;
    token_ =
        std::string(json::parse(login.body).at("data").at("tokens").at("accessToken").as_string());
  }

  http::Response Call(std::string method, std::string target, std::string body,
                      std::string accept_encoding) {
    http::Request request;
    request.method = std::move(method);
    request.target = std::move(target);
    const size_t question = request.target.find('?');
    request.path = request.target.substr(0, question);
    if (question != std::string::npos) request.query = request.target.substr(question + 1);
    if (!token_.empty()) request.headers.Add("Authorization", "Bearer " + token_);
    if (!accept_encoding.empty()) request.headers.Add("Accept-Encoding", accept_encoding);
    if (!body.empty()) request.headers.Add("Content-Type", "application/json");
    request.body = std::move(body);
    request.remote_address = "127.0.0.1";
    request.request_id = "test-" + std::to_string(++requests_);
    http::MatchResult match = router_.Match(request.method, request.path);
    EXPECT_EQ(match.kind, http::MatchResult::Kind::kFound) << request.path;
    if (match.kind != http::MatchResult::Kind::kFound) return {};
    request.path_params = std::move(match.params);
    return match.route->handler(request);
  }

  // Noon in Kolkata of the data set's base date, a Wednesday.
  FixedClock clock_{std::chrono::system_clock::time_point(std::chrono::seconds(1'788'935'400))};
  std::unique_ptr<store::testing::TestDatabase> db_;
  seed::SeedReport report_;
  metrics::RegistryPtr registry_;
  std::unique_ptr<metrics::Monitor> monitor_;
  cache::CachePtr cache_;
  std::unique_ptr<cache::CacheAside> aside_;
  std::unique_ptr<domain::ReadCache> read_cache_;
  http::Router router_;
  std::unique_ptr<Api> api_;
  std::string token_;
  int requests_ = 0;
};

TEST_F(CachedReadKeysTest, AQueryEndingLikeAVariantKeyGetsItsOwnAnswer) {
  const std::string menu =
      "/api/v1/menus/daily?schoolId=" + report_.schools.at(0).id + "&date=2026-09-10";
  // A compressing client leaves the menu's brotli variant in the cache.
  http::Response compressed = Call("GET", menu, "", "br");
  ASSERT_EQ(compressed.status, 200u) << compressed.body;
  ASSERT_EQ(compressed.content_encoding, "br") << "the menu is large enough to compress";

  for (const char* variant : {"br", "zstd", "gzip"}) {
    http::Response r = Call("GET", menu + "&fields=%7C" + variant, "", "");
    SCOPED_TRACE(variant);
    EXPECT_TRUE(r.content_encoding.empty());
    boost::system::error_code ec;
    json::value body = json::parse(r.body, ec);
    ASSERT_FALSE(ec) << "not JSON: " << r.body.substr(0, 80);
    // "|br" names no field of the menu.
    EXPECT_EQ(r.status, 400u) << r.body;
    EXPECT_EQ(body.at("error").at("code").as_string(), "VALIDATION_ERROR");
  }
  // The same with the '|' as the client typed it.
  http::Response raw = Call("GET", menu + "&fields=|br", "", "");
  boost::system::error_code ec;
  (void)json::parse(raw.body, ec);
  EXPECT_FALSE(ec) << "not JSON: " << raw.body.substr(0, 80);
  EXPECT_EQ(raw.status, 400u);
}

}  // namespace
}  // namespace hasivu::app
