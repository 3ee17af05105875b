// libFuzzer harness: the request readers of every API route. The router is the app's own
// (Api::Create, as `hasivu serve` builds it: in-process cache, simulated payments with the
// simulator route) over a seeded SQLite database with a fixed clock, so each route's reading of
// its body or query into domain inputs, its validation and its answers run as in production,
// with the caller signed in.
//
// Input: byte 0 picks the route (table kRoutes), byte 1 the caller (parent, admin, school admin,
// kitchen staff, nobody), the path parameter and (its top bit) Accept-Encoding; the rest is the
// body (routes that take one) or the query string (the others). For the Authorization route the
// rest is the header's value. So that mutations reach past "not found", placeholders in the rest
// stand for the store's data (Expand below): $S the school, $U the caller, $C<n> a child of the
// parent, $M<n> a menu item, $O<n> an order of the parent, $D<n> a school day ahead, $K<n> a card
// number, $R a reader, $G a payment order's gateway id, $E/$W the parent's email and password, $T a
// refresh token.
//
// Invariants, beyond "no crash, no sanitizer report, no exception out of a handler":
//   - bad input is answered, never with a 5xx: every status is 2xx, 3xx or 4xx;
//   - every body is the API envelope (envelope.h): JSON with "success" true exactly for 2xx,
//     "data" on success, else "error" with an UPPER_SNAKE "code", a non-empty "message" and
//     well-formed "details" ({field, issue} strings); "meta.requestId" is the request's; 204 and
//     304 have no body;
//   - a route that reads a JSON body, called by a signed-in caller, answers a body that is not
//     JSON with 400 INVALID_JSON and one that is JSON but not an object with 400
//     VALIDATION_ERROR, before anything else (envelope.h, ParseJsonObject).
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "app/api.h"
#include "cache/cache.h"
#include "cache/cache_aside.h"
#include "cache/memory/memory_cache.h"
#include "cache/ttl.h"
#include "common/clock.h"
#include "common/ids.h"
#include "common/status.h"
#include "common/testing/fuzz_check.h"
#include "common/time_util.h"
#include "compress/codec.h"
#include "compress/negotiation.h"
#include "domain/password.h"
#include "domain/read_cache.h"
#include "http/message.h"
#include "http/router.h"
#include "metrics/metrics.h"
#include "metrics/monitor.h"
#include "seed/demo_data.h"
#include "store/database.h"
#include "store/migrations.h"
#include "store/testing/test_backend.h"

namespace hasivu::app {
namespace {

namespace json = boost::json;

enum Caller { kParent, kAdmin, kSchoolAdmin, kKitchen, kNobody, kCallers };

struct Route {
  const char* method;
  const char* pattern;  // "{id}" is replaced by a path parameter
  bool body;            // the rest is the body (else the query string)
  bool parses_first;    // a signed-in caller's body is parsed before anything else
};

constexpr Route kRoutes[] = {
    {"POST", "/api/v1/auth/login", true, true},
    {"POST", "/api/v1/auth/register", true, true},
    {"POST", "/api/v1/auth/refresh", true, true},
    {"POST", "/api/v1/auth/logout", true, false},
    {"GET", "/api/v1/users/me", false, false},
    {"GET", "/api/v1/users/{id}", false, false},
    {"GET", "/api/v1/menus/daily", false, false},
    {"PUT", "/api/v1/menus/daily", true, true},
    {"GET", "/api/v1/orders", false, false},
    {"POST", "/api/v1/orders", true, true},
    {"GET", "/api/v1/orders/{id}", false, false},
    {"PATCH", "/api/v1/orders/{id}/status", true, true},
    {"POST", "/api/v1/payments/orders", true, true},
    {"POST", "/api/v1/payments/verify", true, true},
    {"POST", "/api/v1/payments/webhook", true, false},
    {"POST", "/api/v1/payments/simulate", true, true},
    {"POST", "/api/v1/rfid/verify", true, true},
    {"GET", "/api/v1/monitoring/dashboard", false, false},
    {"GET", "/api/v1/users/me", false, false},  // the rest is the Authorization header
    {"POST", "/api/v1/orders", true, true},     // with the first line as Idempotency-Key
};
constexpr size_t kAuthorizationRoute = 18;
constexpr size_t kIdempotentCreateRoute = 19;

struct World {
  std::unique_ptr<store::testing::TestDatabase> db;
  std::unique_ptr<FixedClock> clock;
  metrics::RegistryPtr registry;
  std::unique_ptr<metrics::Monitor> monitor;
  cache::CachePtr cache;
  std::unique_ptr<cache::CacheAside> aside;
  std::unique_ptr<domain::ReadCache> read_cache;
  http::Router router;
  std::unique_ptr<Api> api;
  std::string tokens[kCallers];
  std::string user_ids[kCallers];
  std::string refresh_token;
  std::string logout_token;  // a parent's session of its own, for auth-logout by any caller
  std::string school_id;
  std::vector<std::string> children, menu_items, orders, days, cards;
  std::string reader_id, gateway_order_id, parent_email, parent_password;
  uint64_t requests = 0;
};

http::Response Call(World& w, std::string method, std::string target, std::string body,
                    http::Headers headers) {
  http::Request request;
  request.method = std::move(method);
  request.target = std::move(target);
  const size_t question = request.target.find('?');
  request.path = request.target.substr(0, question);
  if (question != std::string::npos) request.query = request.target.substr(question + 1);
  request.headers = std::move(headers);
  if (!body.empty()) request.headers.Add("Content-Type", "application/json");
  request.body = std::move(body);
  request.remote_address = "127.0.0.1";
  request.request_id = "fuzz-" + std::to_string(++w.requests);
  request.received_at = std::chrono::steady_clock::now();
  http::MatchResult match = w.router.Match(request.method, request.path);
  FUZZ_CHECK(match.kind == http::MatchResult::Kind::kFound);
  request.path_params = std::move(match.params);
  http::Response response = match.route->handler(request);
  // meta.requestId is checked against this.
  response.headers.Set("X-Fuzz-Request-Id", request.request_id);
  return response;
}

json::object Login(World& w, const seed::SeedAccount& account) {
  http::Response r = Call(
      w, "POST", "/api/v1/auth/login",
      json::serialize(json::object{{"email", account.email}, {"password", account.password}}), {});
  FUZZ_CHECK(r.status == 200);
  json::value v = json::parse(r.body);
  return v.at("data").as_object();
}

std::vector<std::string> Column(World& w, const std::string& sql) {
  std::vector<std::string> out;
  Status s = w.db->db().Read([&](store::Connection& c) -> Status {
    ASSIGN_OR_RETURN(store::ResultSet rs, c.Query(sql));
    for (const store::Row& row : rs.rows) out.push_back(row.Text(0));
    return Status::Ok();
  });
  FUZZ_CHECK(s.ok());
  return out;
}

World& TheWorld() {
  static World* world = [] {
    auto* w = new World();
    FUZZ_CHECK(InitCrypto().ok());
    auto db = store::testing::NewTestDatabase(2);
    FUZZ_CHECK(db.ok());
    w->db = std::move(*db);
    FUZZ_CHECK(store::Migrate(w->db->db()).ok());
    // Noon in Kolkata of Wednesday 2026-09-09, the data set's base date.
    w->clock = std::make_unique<FixedClock>(
        std::chrono::system_clock::time_point(std::chrono::seconds(1'788'935'400)));
    seed::SeedSettings seed_settings;
    StatusOr<Date> base = ParseDate("2026-09-09");
    FUZZ_CHECK(base.ok());
    seed_settings.base_date = *base;
    StatusOr<seed::SeedReport> report = seed::SeedDemoData(w->db->db(), seed_settings, *w->clock);
    FUZZ_CHECK(report.ok());
    w->registry = metrics::NewRegistry();
    w->monitor = std::make_unique<metrics::Monitor>(*w->registry);
    StatusOr<cache::CachePtr> cache =
        cache::NewMemoryCache({.max_bytes = 16u << 20, .registry = w->registry.get()});
    FUZZ_CHECK(cache.ok());
    w->cache = std::move(*cache);
    w->aside = std::make_unique<cache::CacheAside>(*w->cache,
                                                   cache::CacheAsideSettings{w->registry.get()});
    w->read_cache =
        std::make_unique<domain::ReadCache>(w->aside.get(), cache::TtlSettings{}, &w->db->db());
    ApiSettings settings;
    settings.domain.auth.jwt_secret = "fuzz-api-jwt-secret-0123456789abcdefghijkl";
    settings.domain.payments.key_secret = "fuzz-api-key-secret";
    settings.domain.payments.webhook_secret = "fuzz-api-webhook-secret";
    settings.payments_simulator = true;
    // Hashes as cheap as libsodium allows: a login or registration per input stays fast.
    settings.domain.auth.password = domain::LightPasswordSettings();
    auto api = Api::Create(
        settings,
        {.db = w->db->db(),
         .clock = *w->clock,
         .registry = *w->registry,
         .monitor = *w->monitor,
         .read_cache = *w->read_cache,
         .cache = std::optional<std::reference_wrapper<const cache::Cache>>(*w->cache),
         .service_info = {.version = "fuzz",
                          .store_backend = "sqlite",
                          .cache_backend = "memory",
                          .cold_start = [] { return std::optional<metrics::ColdStartReport>(); },
                          .alarms = {},
                          .database_timed_globally = false}},
        w->router);
    FUZZ_CHECK(api.ok());
    w->api = std::move(*api);

    const seed::SeedSchool& school = report->schools.at(0);
    const seed::SeedParent& parent = school.parents.at(0);
    w->school_id = school.id;
    const seed::SeedAccount* accounts[] = {&parent.account, &report->admin, &school.school_admin,
                                           &school.kitchen_staff.at(0)};
    for (int i = 0; i < 4; ++i) {
      json::object data = Login(*w, *accounts[i]);
      w->tokens[i] = std::string(data.at("tokens").at("accessToken").as_string());
      w->user_ids[i] = std::string(data.at("user").at("id").as_string());
    }
    // Sessions of their own for the refresh and logout routes, which may end them (the callers'
    // sessions must last the whole run).
    w->refresh_token =
        std::string(Login(*w, parent.account).at("tokens").at("refreshToken").as_string());
    w->logout_token =
        std::string(Login(*w, parent.account).at("tokens").at("accessToken").as_string());
    w->parent_email = parent.account.email;
    w->parent_password = parent.account.password;
    for (const seed::SeedChild& c : parent.children) {
      w->children.push_back(c.account.id);
      w->cards.push_back(c.card_number);
    }
    w->menu_items = school.menu_item_ids;
    w->reader_id = school.readers.at(0).id;
    w->orders = Column(*w, "SELECT id FROM orders WHERE user_id = '" + w->user_ids[kParent] +
                               "' ORDER BY id LIMIT 8");
    w->gateway_order_id = Column(*w, "SELECT gateway_order_id FROM payment_orders LIMIT 1").at(0);
    for (const char* d : {"2026-09-10", "2026-09-11", "2026-09-14", "2026-09-15", "2026-09-16",
                          "2026-09-09", "2026-09-12", "2026-10-20", "2025-01-01", "2026-02-30"}) {
      w->days.push_back(d);
    }
    return w;
  }();
  return *world;
}

const std::string& Pick(const std::vector<std::string>& v, char digit) {
  static const std::string kNone = "none";
  if (v.empty()) return kNone;
  return v[static_cast<size_t>(digit - '0') % v.size()];
}

std::string Expand(const World& w, std::string_view in, Caller caller) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '$' || i + 1 >= in.size()) {
      out += in[i];
      continue;
    }
    const char kind = in[i + 1];
    const bool digit = i + 2 < in.size() && in[i + 2] >= '0' && in[i + 2] <= '9';
    const char n = digit ? in[i + 2] : '0';
    const size_t used = digit ? 3 : 2;
    switch (kind) {
      case 'S':
        out += w.school_id;
        i += 1;
        continue;
      case 'U':
        out += w.user_ids[caller == kNobody ? kParent : caller];
        i += 1;
        continue;
      case 'R':
        out += w.reader_id;
        i += 1;
        continue;
      case 'G':
        out += w.gateway_order_id;
        i += 1;
        continue;
      case 'E':
        out += w.parent_email;
        i += 1;
        continue;
      case 'W':
        out += w.parent_password;
        i += 1;
        continue;
      case 'T':
        out += w.refresh_token;
        i += 1;
        continue;
      case 'C':
        out += Pick(w.children, n);
        break;
      case 'M':
        out += Pick(w.menu_items, n);
        break;
      case 'O':
        out += Pick(w.orders, n);
        break;
      case 'D':
        out += Pick(w.days, n);
        break;
      case 'K':
        out += Pick(w.cards, n);
        break;
      default:
        out += in[i];
        continue;
    }
    i += used - 1;
  }
  return out;
}

bool IsUpperSnake(std::string_view s) {
  if (s.empty() || !(s[0] >= 'A' && s[0] <= 'Z')) return false;
  for (char c : s) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

// The envelope of envelope.h; returns the error code ("" on success).
std::string CheckEnvelope(const http::Response& r) {
  FUZZ_CHECK(r.status >= 200 && r.status < 500);
  if (r.status == 204 || r.status == 304) {
    FUZZ_CHECK(r.body.empty());
    return {};
  }
  if (r.content_type != "application/json") return {};  // /openapi.json, assets
  // A cached read may answer with a ready-compressed variant: what it decodes to is checked.
  std::string body = r.body;
  if (!r.content_encoding.empty()) {
    const std::optional<compress::Encoding> e = compress::EncodingFromName(r.content_encoding);
    FUZZ_CHECK(e.has_value());
    StatusOr<std::string> decoded = compress::Decode(*e, r.body, 16u << 20);
    FUZZ_CHECK(decoded.ok());
    body = std::move(*decoded);
  }
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  FUZZ_CHECK(!ec && v.is_object());
  const json::object& o = v.as_object();
  const json::value* success = o.if_contains("success");
  FUZZ_CHECK(success && success->is_bool());
  FUZZ_CHECK(success->as_bool() == (r.status < 400));
  const json::value* meta = o.if_contains("meta");
  FUZZ_CHECK(meta && meta->is_object());
  const json::value* request_id = meta->as_object().if_contains("requestId");
  FUZZ_CHECK(request_id && request_id->is_string() &&
             request_id->as_string() == r.headers.Get("X-Fuzz-Request-Id"));
  if (success->as_bool()) {
    FUZZ_CHECK(o.contains("data"));
    return {};
  }
  const json::value* error = o.if_contains("error");
  FUZZ_CHECK(error && error->is_object());
  const json::value* code = error->as_object().if_contains("code");
  const json::value* message = error->as_object().if_contains("message");
  FUZZ_CHECK(code && code->is_string() && IsUpperSnake(code->as_string()));
  FUZZ_CHECK(message && message->is_string() && !message->as_string().empty());
  if (const json::value* details = error->as_object().if_contains("details")) {
    FUZZ_CHECK(details->is_array());
    for (const json::value& d : details->as_array()) {
      FUZZ_CHECK(d.is_object());
      const json::value* field = d.as_object().if_contains("field");
      const json::value* issue = d.as_object().if_contains("issue");
      FUZZ_CHECK(field && field->is_string() && issue && issue->is_string());
    }
  }
  return std::string(code->as_string());
}

}  // namespace
}  // namespace hasivu::app

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hasivu::app;
  if (size < 2) return 0;
  World& w = TheWorld();
  const size_t route_index = data[0] % std::size(kRoutes);
  const Route& route = kRoutes[route_index];
  const Caller caller = static_cast<Caller>(data[1] % kCallers);
  const std::string rest =
      Expand(w, std::string_view(reinterpret_cast<const char*>(data + 2), size - 2), caller);

  hasivu::http::Headers headers;
  // Half the inputs accept compression, so cached reads keep (and serve) compressed variants.
  if (data[1] & 0x80) headers.Add("Accept-Encoding", "br, zstd, gzip");
  if (caller != kNobody) {
    const bool logout = std::string_view(route.pattern).ends_with("/logout");
    headers.Add("Authorization", "Bearer " + (logout ? w.logout_token : w.tokens[caller]));
  }
  std::string target = route.pattern;
  if (const size_t at = target.find("{id}"); at != std::string::npos) {
    // The path parameter: one of the caller's own ids, an order of the parent, or junk.
    const std::string* id = nullptr;
    const uint8_t choice = data[1] / kCallers;
    if (target.starts_with("/api/v1/users/")) {
      id = choice % 3 == 0 ? &w.user_ids[kParent] : &Pick(w.children, '0' + choice % 10);
    } else {
      id = &Pick(w.orders, '0' + choice % 10);
    }
    target.replace(at, 4, choice % 7 == 6 ? std::string("not-an-id") : *id);
  }
  std::string body;
  if (route_index == kAuthorizationRoute) {
    headers = {};
    headers.Add("Authorization", rest);
  } else if (route_index == kIdempotentCreateRoute) {
    const size_t newline = rest.find('\n');
    headers.Add("Idempotency-Key", rest.substr(0, newline));
    if (newline != std::string::npos) body = rest.substr(newline + 1);
  } else if (route.body) {
    body = rest;
    if (target.ends_with("/webhook")) {
      const size_t newline = body.find('\n');
      headers.Add("X-Razorpay-Signature", body.substr(0, newline));
      body = newline == std::string::npos ? std::string() : body.substr(newline + 1);
    }
  } else if (!rest.empty()) {
    target += "?" + rest;
  }
  const std::string sent_body = body;
  hasivu::http::Response response =
      Call(w, route.method, std::move(target), std::move(body), std::move(headers));
  const std::string code = CheckEnvelope(response);
  static const bool verbose = std::getenv("HASIVU_FUZZ_VERBOSE") != nullptr;
  if (verbose) {
    std::fprintf(stderr, "%s %s as %d: %u %s\n", route.method, route.pattern, caller,
                 response.status, code.c_str());
  }

  if (route.parses_first && route_index != kIdempotentCreateRoute &&
      (caller != kNobody || route_index <= 2)) {
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(sent_body, ec);
    if (ec) {
      FUZZ_CHECK(response.status == 400 && code == "INVALID_JSON");
    } else if (!v.is_object()) {
      FUZZ_CHECK(response.status == 400 && code == "VALIDATION_ERROR");
    }
  }
  return 0;
}
