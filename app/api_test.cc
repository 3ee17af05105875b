// docs/openapi.json and the router agree: every routed (method, path) is documented and every
// documented operation is routed; and the monitored functions read off that router count each
// request once. The full router is built as the app builds it (Api::Create) over a migrated
// SQLite test database.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cctype>
#include <set>
#include <string>
#include <utility>

#include "api/monitoring_routes.h"
#include "app/api.h"
#include "app/monitor_wiring.h"
#include "cache/ttl.h"
#include "common/clock.h"
#include "common/ids.h"
#include "domain/read_cache.h"
#include "metrics/http_series.h"
#include "metrics/metrics.h"
#include "store/migrations.h"
#include "store/testing/test_backend.h"
#include "store/timed_database.h"

namespace hasivu::app {
namespace {

namespace json = boost::json;
using Operation = std::pair<std::string, std::string>;  // method, path with "{}" parameters

// "/api/v1/orders/{id}/status" -> "/api/v1/orders/{}/status": parameter names may differ.
std::string Normalize(std::string_view pattern) {
  std::string out;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '{') {
      const size_t close = pattern.find('}', i);
      out += "{}";
      i = close == std::string_view::npos ? pattern.size() : close;
    } else {
      out += pattern[i];
    }
  }
  return out;
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string Describe(const std::set<Operation>& ops) {
  std::string out;
  for (const auto& [method, path] : ops) out += "\n  " + method + " " + path;
  return out;
}

class OpenApiCoverageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitCrypto().ok());
    auto db = store::testing::NewTestDatabase();
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    ASSERT_TRUE(store::Migrate(db_->db()).ok());
    registry_ = metrics::NewRegistry();
    monitor_ = std::make_unique<metrics::Monitor>(*registry_);
    timed_ = std::make_unique<store::TimedDatabase>(&db_->db(), *monitor_);
    read_cache_ = std::make_unique<domain::ReadCache>(nullptr, cache::TtlSettings{}, timed_.get());
    ApiSettings settings;
    settings.domain.auth.jwt_secret = "openapi-coverage-test-secret-0123456789abcdef";
    settings.domain.payments.key_secret = "openapi-coverage-key-secret";
    settings.domain.payments.webhook_secret = "openapi-coverage-webhook-secret";
    settings.payments_simulator = true;  // development: every documented operation is routed
    auto api = Api::Create(
        settings,
        {.db = *timed_,
         .clock = SystemClock(),
         .registry = *registry_,
         .monitor = *monitor_,
         .read_cache = *read_cache_,
         .cache = std::nullopt,
         .service_info = {.version = "test",
                          .store_backend = "sqlite",
                          .cache_backend = "memory",
                          .cold_start = [] { return std::optional<metrics::ColdStartReport>(); },
                          .alarms = {},
                          .database_timed_globally = true}},
        router_);
    ASSERT_TRUE(api.ok()) << api.status().ToString();
    api_ = std::move(*api);
  }

  json::object Document() {
    http::MatchResult m = router_.Match("GET", "/openapi.json");
    EXPECT_EQ(m.kind, http::MatchResult::Kind::kFound);
    if (m.kind != http::MatchResult::Kind::kFound) return {};
    http::Request request;
    request.method = "GET";
    request.path = request.target = "/openapi.json";
    http::Response response = m.route->handler(request);
    EXPECT_EQ(response.status, 200u);
    EXPECT_EQ(response.content_type, "application/json");
    boost::system::error_code ec;
    json::value doc = json::parse(response.body, ec);
    EXPECT_FALSE(ec) << ec.message();
    return doc.is_object() ? doc.as_object() : json::object();
  }

  std::unique_ptr<store::testing::TestDatabase> db_;
  metrics::RegistryPtr registry_;
  std::unique_ptr<metrics::Monitor> monitor_;
  std::unique_ptr<store::TimedDatabase> timed_;
  std::unique_ptr<domain::ReadCache> read_cache_;
  http::Router router_;
  std::unique_ptr<Api> api_;
};

TEST_F(OpenApiCoverageTest, EveryRouteIsDocumentedAndEveryOperationRouted) {
  const json::object doc = Document();
  ASSERT_FALSE(doc.empty());
  EXPECT_EQ(doc.at("openapi").as_string(), "3.1.0");

  std::set<Operation> documented;
  for (const auto& [path, item] : doc.at("paths").as_object()) {
    for (const auto& [method, op] : item.as_object()) {
      if (method == "parameters" || method == "summary" || method == "description") continue;
      documented.insert({Upper(std::string(method)), Normalize(path)});
    }
  }
  std::set<Operation> routed;
  for (const auto& [method, pattern] : router_.List()) {
    // HEAD is implied by GET (the router answers it for every GET route).
    if (method == "HEAD") continue;
    routed.insert({method, Normalize(pattern)});
  }

  std::set<Operation> undocumented, unrouted;
  for (const Operation& op : routed) {
    if (!documented.count(op)) undocumented.insert(op);
  }
  for (const Operation& op : documented) {
    if (!routed.count(op)) unrouted.insert(op);
  }
  EXPECT_TRUE(undocumented.empty())
      << "routed but not in docs/openapi.json:" << Describe(undocumented);
  EXPECT_TRUE(unrouted.empty()) << "in docs/openapi.json but not registered by Api::Create:"
                                << Describe(unrouted);
}

TEST_F(OpenApiCoverageTest, OperationsAreComplete) {
  const json::object doc = Document();
  ASSERT_FALSE(doc.empty());
  std::set<std::string> operation_ids;
  for (const auto& [path, item] : doc.at("paths").as_object()) {
    for (const auto& [method, value] : item.as_object()) {
      const json::object& op = value.as_object();
      const std::string where = std::string(method) + " " + std::string(path);
      ASSERT_TRUE(op.contains("operationId")) << where;
      EXPECT_TRUE(operation_ids.insert(std::string(op.at("operationId").as_string())).second)
          << "duplicate operationId at " << where;
      const json::object& responses = op.at("responses").as_object();
      EXPECT_TRUE(responses.contains("500")) << where;
      bool has_success = false;
      for (const auto& [status, r] : responses) {
        if (status.starts_with("2")) has_success = true;
      }
      EXPECT_TRUE(has_success) << where;
      // Operations behind the bearer token say what a missing one answers.
      const bool open = op.contains("security") && op.at("security").as_array().empty();
      if (!open) {
        EXPECT_TRUE(responses.contains("401")) << where;
      }
    }
  }
  // Every $ref resolves.
  const json::object& components = doc.at("components").as_object();
  std::function<void(const json::value&)> check = [&](const json::value& v) {
    if (v.is_object()) {
      for (const auto& [k, child] : v.as_object()) {
        if (k == "$ref") {
          const std::string ref(child.as_string());
          ASSERT_TRUE(ref.starts_with("#/components/")) << ref;
          const std::string rest = ref.substr(13);
          const size_t slash = rest.find('/');
          ASSERT_NE(slash, std::string::npos) << ref;
          const json::value* kind = components.if_contains(rest.substr(0, slash));
          ASSERT_NE(kind, nullptr) << ref;
          EXPECT_TRUE(kind->as_object().contains(rest.substr(slash + 1))) << ref;
        } else {
          check(child);
        }
      }
    } else if (v.is_array()) {
      for (const json::value& child : v.as_array()) check(child);
    }
  };
  check(doc);
}

TEST_F(OpenApiCoverageTest, MonitoredFunctionsCountEachRequestOnce) {
  // users-get has two GET routes (/users/me and /users/{id}); a method listed once per route
  // made every users-get request count twice in ApiRequests and the dashboard.
  const std::vector<domain::MonitoredFunction> functions = api::MonitoredFunctionsOf(router_);
  ASSERT_EQ(functions.size(), 10u);
  for (const domain::MonitoredFunction& f : functions) {
    EXPECT_FALSE(f.methods.empty()) << f.name << " is not routed";
    const std::set<std::string> distinct(f.methods.begin(), f.methods.end());
    EXPECT_EQ(distinct.size(), f.methods.size()) << f.name << " lists a method twice";
    if (f.name == "users-get") {
      EXPECT_EQ(f.methods, std::vector<std::string>{"GET"});
    }
  }
  AdoptApiSeries(*monitor_, functions);
  metrics::HttpRequests(*registry_, "users-get", "GET", "2xx").Add();
  metrics::Cursor cursor;
  bool found = false;
  for (const metrics::SeriesInterval& s : monitor_->Collect(cursor)) {
    if (s.info.name != "ApiRequests") continue;
    if (s.info.dimensions != metrics::Dimensions{{"Function", "users-get"}}) continue;
    found = true;
    EXPECT_EQ(s.data.count, 1u);
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace hasivu::app
