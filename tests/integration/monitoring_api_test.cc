// monitoring-dashboard through a seeded server started with a monitoring token, on both
// backends.
#include <boost/json.hpp>
#include <set>
#include <string>

#include "tests/integration/api_fixture.h"

namespace hasivu::testing {
namespace {

namespace json = boost::json;

constexpr char kMonitoringToken[] = "monitoring-token-7f3c2a91d4e85b60";
constexpr char kPath[] = "/api/v1/monitoring/dashboard";

class MonitoringApiTest : public ApiSuite {
 public:
  static void SetUpTestSuite() {
    SetServerOptions({"--monitoring-token", kMonitoringToken}, {});
    ApiSuite::SetUpTestSuite();
  }

 protected:
  static std::string AdminToken() { return Login(Fixtures().at("admin")); }
  static json::object Dashboard(const std::string& token) {
    ApiResponse r = Call("GET", kPath, token);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 ? r.Data() : json::object();
  }
  static const json::object& Endpoint(const json::object& dashboard, const std::string& name) {
    for (const json::value& e : dashboard.at("endpoints").as_array()) {
      if (e.at("function").as_string() == name) return e.as_object();
    }
    static const json::object kNone;
    ADD_FAILURE() << "no endpoint " << name;
    return kNone;
  }
};

TEST_F(MonitoringApiTest, AdminSeesTheTenFunctionsAndTheService) {
  const json::object d = Dashboard(AdminToken());
  ASSERT_FALSE(d.empty());
  std::set<std::string> names;
  for (const json::value& e : d.at("endpoints").as_array()) {
    names.insert(std::string(e.at("function").as_string()));
    EXPECT_GE(e.at("count").as_int64(), 0);
    EXPECT_TRUE(e.at("errorRate").is_number());
  }
  EXPECT_EQ(names,
            (std::set<std::string>{"auth-register", "auth-login", "users-get", "menus-daily",
                                   "orders-list", "orders-create", "payments-create-order",
                                   "payments-verify", "rfid-verify-card", "monitoring-dashboard"}));
  EXPECT_TRUE(Endpoint(d, "rfid-verify-card").at("routed").as_bool());
  EXPECT_TRUE(Endpoint(d, "auth-login").at("routed").as_bool());
  // The admin's login above was counted.
  EXPECT_GE(Endpoint(d, "auth-login").at("count").as_int64(), 1);

  const json::object& service = d.at("service").as_object();
  EXPECT_FALSE(service.at("version").as_string().empty());
  EXPECT_EQ(service.at("startedAt").as_string().size(), 27u);
  EXPECT_GT(service.at("uptimeSeconds").to_number<double>(), 0);
  // The harness waited for a 200 from /healthz before the tests.
  ASSERT_TRUE(service.at("coldStartMs").is_number()) << json::serialize(service);
  EXPECT_GT(service.at("coldStartMs").to_number<double>(), 0);
  EXPECT_EQ(service.at("backend").at("store").as_string(),
            Server().postgres() ? "postgresql" : "sqlite");

  const json::object& db = d.at("database").as_object();
  EXPECT_GT(db.at("pool").at("size").as_int64(), 0);
  EXPECT_GE(db.at("slowQueries").as_int64(), 0);
  const json::array& health = d.at("health").as_array();
  ASSERT_EQ(health.size(), 1u);
  EXPECT_EQ(health[0].at("service").as_string(), "database");
  EXPECT_EQ(health[0].at("status").as_string(), "up");
  EXPECT_GE(health[0].at("latencyMs").to_number<double>(), 0);
  const json::object& cache = d.at("cache").as_object();
  EXPECT_EQ(cache.at("status").as_string(), "ok");
  ASSERT_EQ(cache.at("tiers").as_array().size(), 1u);  // the embedded default: in-process only
  EXPECT_EQ(cache.at("tiers").at(0).at("tier").as_string(), "memory");
  EXPECT_TRUE(cache.at("redisPingMs").is_null());
  EXPECT_EQ(d.at("compression").at("responses").as_int64(), 0);
  // The alarms the server evaluates (the seed's thresholds and the 5xx rate), the same ones
  // `hasivu cloudwatch-config` prints; before their first period all are INSUFFICIENT_DATA.
  std::set<std::string> alarms;
  for (const json::value& a : d.at("alarms").as_array()) {
    alarms.insert(std::string(a.at("name").as_string()));
    const std::string state(a.at("state").as_string());
    EXPECT_TRUE(state == "ok" || state == "alarm" || state == "insufficient_data") << state;
    EXPECT_FALSE(a.at("metric").as_string().empty());
    EXPECT_FALSE(a.at("reason").as_string().empty());
    EXPECT_TRUE(a.at("since").is_string());
    EXPECT_GE(a.at("periodSeconds").as_int64(), 10);
    EXPECT_TRUE(a.at("transitions").is_array());
  }
  EXPECT_EQ(alarms.size(),
            15u);  // cold start, db read/write p95, cache hit rate, 10 x API p95, 5xx
  EXPECT_TRUE(alarms.count("hasivu-cold-start"));
  EXPECT_TRUE(alarms.count("hasivu-5xx-rate"));
  EXPECT_TRUE(alarms.count("hasivu-api-orders-list-p95"));
  EXPECT_TRUE(alarms.count("hasivu-cache-hit-rate"));
  ApiResponse r = Call("GET", kPath, AdminToken());
  EXPECT_EQ(r.Header("cache-control"), "no-store");
}

TEST_F(MonitoringApiTest, RepeatedReadsAreCacheHits) {
  const std::string admin = AdminToken();
  const std::string kitchen = Login(Fixtures().at("schools").at(0).at("kitchenStaff").at(0));
  ASSERT_EQ(Call("GET", "/api/v1/users/me", kitchen).status, 200);  // fills the cache
  const json::object before = Dashboard(admin).at("cache").as_object();
  for (int i = 0; i < 3; ++i) ASSERT_EQ(Call("GET", "/api/v1/users/me", kitchen).status, 200);
  const json::object after = Dashboard(admin).at("cache").as_object();
  EXPECT_GE(after.at("hits").to_number<int64_t>(), before.at("hits").to_number<int64_t>() + 3);
  EXPECT_GT(after.at("keys").to_number<int64_t>(), 0);
  EXPECT_GT(after.at("memoryBytes").to_number<int64_t>(), 0);
  ASSERT_TRUE(after.at("hitRate").is_number());
}

TEST_F(MonitoringApiTest, CountsGrowWithRequests) {
  const std::string admin = AdminToken();
  const json::object before = Dashboard(admin);
  const std::string kitchen = Login(Fixtures().at("schools").at(0).at("kitchenStaff").at(0));
  for (int i = 0; i < 3; ++i) {
    ApiResponse scan =
        Call("POST", "/api/v1/rfid/verify", kitchen, R"({"cardNumber":"RFID-NOPE-0000"})");
    EXPECT_EQ(scan.status, 404) << scan.body;
  }
  const json::object after = Dashboard(admin);
  const json::object& rfid_before = Endpoint(before, "rfid-verify-card");
  const json::object& rfid_after = Endpoint(after, "rfid-verify-card");
  EXPECT_EQ(rfid_after.at("count").as_int64(), rfid_before.at("count").as_int64() + 3);
  // 4xx answers are refusals, not server errors.
  EXPECT_EQ(rfid_after.at("errorRate").to_number<double>(), 0.0);
  EXPECT_GT(rfid_after.at("clientErrorRate").to_number<double>(), 0.0);
  ASSERT_TRUE(rfid_after.at("p95Ms").is_number());
  EXPECT_GE(rfid_after.at("p99Ms").to_number<double>(), rfid_after.at("p50Ms").to_number<double>());
  // The first dashboard read is counted by the second.
  EXPECT_GE(Endpoint(after, "monitoring-dashboard").at("count").as_int64(),
            Endpoint(before, "monitoring-dashboard").at("count").as_int64() + 1);
  EXPECT_GE(Endpoint(after, "auth-login").at("count").as_int64(),
            Endpoint(before, "auth-login").at("count").as_int64() + 1);
  // The scans read the database through the timed wrapper.
  EXPECT_GE(after.at("database").at("queryCount").as_int64(),
            before.at("database").at("queryCount").as_int64() + 3);
  EXPECT_TRUE(after.at("database").at("queryP95Ms").is_number());
}

TEST_F(MonitoringApiTest, OnlyAdminsOrTheMonitoringToken) {
  const auto& school = Fixtures().at("schools").at(0);
  for (const json::value& account :
       {school.at("kitchenStaff").at(0), school.at("schoolAdmin"), school.at("parents").at(0)}) {
    ApiResponse r = Call("GET", kPath, Login(account));
    EXPECT_EQ(r.status, 403) << r.body;
    EXPECT_EQ(r.ErrorCode(), "FORBIDDEN");
  }
  ApiResponse anonymous = Call("GET", kPath);
  EXPECT_EQ(anonymous.status, 401) << anonymous.body;
  ApiResponse forged = Call("GET", kPath, "", "", {"X-User-Role: admin"});
  EXPECT_EQ(forged.status, 401) << forged.body;
  ApiResponse near_miss = Call("GET", kPath, std::string(kMonitoringToken) + "x");
  EXPECT_EQ(near_miss.status, 401) << near_miss.body;
  ApiResponse prefix = Call("GET", kPath, std::string(kMonitoringToken).substr(0, 10));
  EXPECT_EQ(prefix.status, 401) << prefix.body;

  ApiResponse with_token = Call("GET", kPath, kMonitoringToken);
  ASSERT_EQ(with_token.status, 200) << with_token.body;
  EXPECT_EQ(with_token.Data().at("endpoints").as_array().size(), 10u);
}

TEST_F(MonitoringApiTest, RuntimeAndDatabasePercentiles) {
  const std::string admin = AdminToken();
  const json::object before = Dashboard(admin);
  ASSERT_EQ(Call("GET", "/api/v1/users/me", admin).status, 200);
  const json::object after = Dashboard(admin);
  const json::object& rt = after.at("runtime").as_object();
  // The ten functions' requests: at least the two logins, the first dashboard read and users-get.
  EXPECT_GE(rt.at("requestsTotal").as_int64(),
            before.at("runtime").at("requestsTotal").as_int64() + 2);
  int64_t sum = 0;
  for (const json::value& e : after.at("endpoints").as_array()) sum += e.at("count").as_int64();
  EXPECT_EQ(rt.at("requestsTotal").as_int64(), sum);
  ASSERT_TRUE(rt.at("warmP50Ms").is_number()) << json::serialize(rt);
  EXPECT_LE(rt.at("warmP50Ms").to_number<double>(), rt.at("warmP95Ms").to_number<double>());
  EXPECT_LE(rt.at("warmP95Ms").to_number<double>(), rt.at("warmP99Ms").to_number<double>());
  ASSERT_TRUE(rt.at("rssBytes").is_int64()) << json::serialize(rt);
  EXPECT_GT(rt.at("rssBytes").as_int64(), 1 << 20);
  const json::object& db = after.at("database").as_object();
  ASSERT_TRUE(db.at("queryP50Ms").is_number()) << json::serialize(db);
  EXPECT_LE(db.at("queryP50Ms").to_number<double>(), db.at("queryP95Ms").to_number<double>());
}

// The last 1, 5 and 15 minutes beside the since-start numbers: every endpoint, the runtime, the
// database and each cache tier carry them, and a window never holds more than since start. (How
// they roll is monitoring_service_test's; this server may not have ticked yet.)
TEST_F(MonitoringApiTest, RecentWindowsBesideTheSinceStartNumbers) {
  const json::object d = Dashboard(AdminToken());
  ASSERT_FALSE(d.empty());
  auto windows_of = [](const json::object& o, const char* where) -> const json::object& {
    static const json::object kNone;
    if (!o.contains("windows") || !o.at("windows").is_object()) {
      ADD_FAILURE() << where << " has no windows: " << json::serialize(o);
      return kNone;
    }
    const json::object& w = o.at("windows").as_object();
    EXPECT_EQ(w.size(), 3u) << where;
    for (const char* label : {"1m", "5m", "15m"}) EXPECT_TRUE(w.contains(label)) << where;
    return w;
  };
  auto expect_latencies = [](const json::object& w, const std::string& where) {
    for (const char* p : {"p50Ms", "p95Ms", "p99Ms"}) {
      EXPECT_TRUE(w.at(p).is_number() || w.at(p).is_null()) << where << " " << p;
    }
    // Without samples there are no percentiles.
    if (w.at("count").as_int64() == 0) {
      EXPECT_TRUE(w.at("p95Ms").is_null()) << where;
    }
  };
  for (const json::value& e : d.at("endpoints").as_array()) {
    const std::string name(e.at("function").as_string());
    for (const auto& [label, v] : windows_of(e.as_object(), name.c_str())) {
      const json::object& w = v.as_object();
      const std::string where = name + " " + std::string(label);
      EXPECT_LE(w.at("count").as_int64(), e.at("count").as_int64()) << where;
      EXPECT_LE(w.at("serverErrors").as_int64(), w.at("count").as_int64()) << where;
      EXPECT_TRUE(w.at("errorRate").is_number()) << where;
      expect_latencies(w, where);
    }
  }
  const json::object& rt = d.at("runtime").as_object();
  for (const auto& [label, v] : windows_of(rt, "runtime")) {
    EXPECT_LE(v.at("count").as_int64(), rt.at("requestsTotal").as_int64()) << label;
    expect_latencies(v.as_object(), "runtime " + std::string(label));
  }
  const json::object& db = d.at("database").as_object();
  for (const auto& [label, v] : windows_of(db, "database")) {
    EXPECT_LE(v.at("count").as_int64(), db.at("queryCount").as_int64()) << label;
    EXPECT_LE(v.at("slowQueries").as_int64(), db.at("slowQueries").as_int64()) << label;
    expect_latencies(v.as_object(), "database " + std::string(label));
  }
  const json::object& tier = d.at("cache").at("tiers").at(0).as_object();
  for (const auto& [label, v] : windows_of(tier, "cache tier")) {
    EXPECT_LE(v.at("hits").as_int64(), tier.at("hits").as_int64()) << label;
    EXPECT_LE(v.at("misses").as_int64(), tier.at("misses").as_int64()) << label;
    const bool looked_up = v.at("hits").as_int64() + v.at("misses").as_int64() > 0;
    EXPECT_EQ(v.at("hitRate").is_number(), looked_up) << label;
  }
}

TEST_F(MonitoringApiTest, DashboardPageAndAssetsHoldNoData) {
  ApiResponse page = Call("GET", "/dashboard");
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.Header("content-type"), "text/html; charset=utf-8");
  const std::string csp = page.Header("content-security-policy");
  EXPECT_NE(csp.find("default-src 'none'"), std::string::npos) << csp;
  EXPECT_NE(csp.find("script-src 'self';"), std::string::npos) << csp;
  EXPECT_NE(csp.find("style-src 'self';"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos) << csp;
  EXPECT_EQ(page.Header("x-frame-options"), "DENY");
  EXPECT_EQ(page.Header("x-content-type-options"), "nosniff");
  EXPECT_EQ(page.Header("cache-control"), "no-cache");
  // The page itself carries no data: the token stays with the operator.
  EXPECT_EQ(page.body.find(kMonitoringToken), std::string::npos);
  EXPECT_EQ(page.body.find("auth-login"), std::string::npos);

  // Revalidation by ETag.
  const std::string etag = page.Header("etag");
  ASSERT_FALSE(etag.empty());
  ApiResponse again = Call("GET", "/dashboard", "", "", {"If-None-Match: " + etag});
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());

  // Every asset the page links, under the version it links; the script reads the JSON.
  const std::string marker = "\"/dashboard/assets/";
  int linked = 0;
  bool script_reads_the_api = false;
  for (size_t at = page.body.find(marker); at != std::string::npos;
       at = page.body.find(marker, at + 1)) {
    const size_t end = page.body.find('"', at + 1);
    const std::string target = page.body.substr(at + 1, end - at - 1);
    ASSERT_NE(target.find("?v="), std::string::npos) << target;
    ApiResponse asset = Call("GET", target);
    ASSERT_EQ(asset.status, 200) << target;
    EXPECT_EQ(asset.Header("cache-control"), "public, max-age=31536000, immutable") << target;
    EXPECT_EQ(asset.Header("x-content-type-options"), "nosniff") << target;
    const std::string type = asset.Header("content-type");
    if (target.find(".js?") != std::string::npos) {
      EXPECT_EQ(type, "text/javascript; charset=utf-8") << target;
    } else {
      EXPECT_EQ(type, "text/css; charset=utf-8") << target;
    }
    if (target.find("/dashboard.js?") != std::string::npos) {
      script_reads_the_api = asset.body.find(kPath) != std::string::npos;
      // Without the version it is revalidated rather than kept.
      ApiResponse plain = Call("GET", target.substr(0, target.find('?')));
      EXPECT_EQ(plain.status, 200);
      EXPECT_EQ(plain.Header("cache-control"), "no-cache");
      EXPECT_EQ(plain.body, asset.body);
    }
    ++linked;
  }
  EXPECT_EQ(linked, 4);
  EXPECT_TRUE(script_reads_the_api);

  for (const char* missing : {"/dashboard/assets/nope.js", "/dashboard/assets/index.html",
                              "/dashboard/assets/package.json", "/dashboard/assets/DASHBOARD.JS"}) {
    ApiResponse r = Call("GET", missing);
    EXPECT_EQ(r.status, 404) << missing;
    EXPECT_EQ(r.ErrorCode(), "NOT_FOUND") << missing;
  }
}

}  // namespace
}  // namespace hasivu::testing
