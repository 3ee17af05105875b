#include "bench/scenarios.h"

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "common/time_util.h"

namespace hasivu::bench {

bool IsFunction(std::string_view name) {
  return name == kMixedReads ||
         std::find(kFunctions.begin(), kFunctions.end(), name) != kFunctions.end();
}

namespace {

namespace json = boost::json;
using std::chrono::days;

// ---- The fixtures file ----

std::string Child(const std::string& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}
std::string Element(const std::string& path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
}
Status BadField(const std::string& path, std::string_view problem) {
  return InvalidArgumentError("fixtures: " + path + " " + std::string(problem));
}

StatusOr<const json::value*> Member(const json::object& o, const std::string& parent,
                                    std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return BadField(Child(parent, key), "is missing");
  return v;
}

StatusOr<std::string> StringMember(const json::object& o, const std::string& parent,
                                   std::string_view key) {
  ASSIGN_OR_RETURN(const json::value* v, Member(o, parent, key));
  if (!v->is_string() || v->as_string().empty()) {
    return BadField(Child(parent, key), "must be a non-empty string");
  }
  return std::string(v->as_string());
}

StatusOr<bool> BoolMember(const json::object& o, const std::string& parent, std::string_view key) {
  ASSIGN_OR_RETURN(const json::value* v, Member(o, parent, key));
  if (!v->is_bool()) return BadField(Child(parent, key), "must be true or false");
  return v->as_bool();
}

StatusOr<const json::array*> ArrayMember(const json::object& o, const std::string& parent,
                                         std::string_view key) {
  ASSIGN_OR_RETURN(const json::value* v, Member(o, parent, key));
  if (!v->is_array()) return BadField(Child(parent, key), "must be an array");
  return &v->as_array();
}

StatusOr<const json::object*> AsObject(const json::value& v, const std::string& path) {
  if (!v.is_object()) return BadField(path, "must be an object");
  return &v.as_object();
}

StatusOr<FixtureUser> ParseUser(const json::value& v, const std::string& path) {
  ASSIGN_OR_RETURN(const json::object* o, AsObject(v, path));
  FixtureUser u;
  ASSIGN_OR_RETURN(u.id, StringMember(*o, path, "id"));
  ASSIGN_OR_RETURN(u.email, StringMember(*o, path, "email"));
  ASSIGN_OR_RETURN(u.password, StringMember(*o, path, "password"));
  return u;
}

StatusOr<FixtureUser> UserMember(const json::object& o, const std::string& parent,
                                 std::string_view key) {
  ASSIGN_OR_RETURN(const json::value* v, Member(o, parent, key));
  return ParseUser(*v, Child(parent, key));
}

StatusOr<FixtureChild> ParseChild(const json::value& v, const std::string& path) {
  ASSIGN_OR_RETURN(const json::object* o, AsObject(v, path));
  FixtureChild c;
  ASSIGN_OR_RETURN(c.id, StringMember(*o, path, "id"));
  ASSIGN_OR_RETURN(c.card_number, StringMember(*o, path, "cardNumber"));
  ASSIGN_OR_RETURN(c.card_active, BoolMember(*o, path, "cardActive"));
  ASSIGN_OR_RETURN(c.card_expired, BoolMember(*o, path, "cardExpired"));
  return c;
}

StatusOr<FixtureParent> ParseParent(const json::value& v, const std::string& path) {
  FixtureParent p;
  ASSIGN_OR_RETURN(p.user, ParseUser(v, path));
  ASSIGN_OR_RETURN(const json::array* children, ArrayMember(v.as_object(), path, "children"));
  const std::string children_path = Child(path, "children");
  for (size_t i = 0; i < children->size(); ++i) {
    ASSIGN_OR_RETURN(FixtureChild c, ParseChild((*children)[i], Element(children_path, i)));
    p.children.push_back(std::move(c));
  }
  return p;
}

StatusOr<FixtureSchool> ParseSchool(const json::value& v, const std::string& path) {
  ASSIGN_OR_RETURN(const json::object* o, AsObject(v, path));
  FixtureSchool s;
  ASSIGN_OR_RETURN(s.id, StringMember(*o, path, "id"));
  ASSIGN_OR_RETURN(s.timezone, StringMember(*o, path, "timezone"));
  // Every delivery date and "today" is computed in this zone: an unknown one would fail there.
  if (!IsValidTimeZone(s.timezone)) {
    return BadField(Child(path, "timezone"), "is not a known IANA time zone");
  }
  ASSIGN_OR_RETURN(s.school_admin, UserMember(*o, path, "schoolAdmin"));
  ASSIGN_OR_RETURN(const json::array* staff, ArrayMember(*o, path, "kitchenStaff"));
  for (size_t i = 0; i < staff->size(); ++i) {
    ASSIGN_OR_RETURN(FixtureUser u,
                     ParseUser((*staff)[i], Element(Child(path, "kitchenStaff"), i)));
    s.kitchen_staff.push_back(std::move(u));
  }
  ASSIGN_OR_RETURN(const json::array* readers, ArrayMember(*o, path, "readers"));
  for (size_t i = 0; i < readers->size(); ++i) {
    const std::string at = Element(Child(path, "readers"), i);
    ASSIGN_OR_RETURN(const json::object* r, AsObject((*readers)[i], at));
    ASSIGN_OR_RETURN(std::string id, StringMember(*r, at, "id"));
    s.reader_ids.push_back(std::move(id));
  }
  ASSIGN_OR_RETURN(const json::array* items, ArrayMember(*o, path, "menuItemIds"));
  for (size_t i = 0; i < items->size(); ++i) {
    const json::value& item = (*items)[i];
    if (!item.is_string() || item.as_string().empty()) {
      return BadField(Element(Child(path, "menuItemIds"), i), "must be a non-empty string");
    }
    s.menu_item_ids.emplace_back(item.as_string());
  }
  ASSIGN_OR_RETURN(const json::array* parents, ArrayMember(*o, path, "parents"));
  for (size_t i = 0; i < parents->size(); ++i) {
    ASSIGN_OR_RETURN(FixtureParent p,
                     ParseParent((*parents)[i], Element(Child(path, "parents"), i)));
    s.parents.push_back(std::move(p));
  }
  return s;
}

// ---- Answers of the API ----

json::value ParseBody(const Response& r) {
  boost::system::error_code ec;
  json::value v = json::parse(r.body, ec);
  return ec ? json::value() : v;
}

const json::object* ObjectIn(const json::value* v, std::string_view key) {
  if (v == nullptr || !v->is_object()) return nullptr;
  const json::value* m = v->as_object().if_contains(key);
  return m != nullptr ? m->if_object() : nullptr;
}
const json::object* ObjectIn(const json::object* o, std::string_view key) {
  if (o == nullptr) return nullptr;
  const json::value* m = o->if_contains(key);
  return m != nullptr ? m->if_object() : nullptr;
}
std::string StringIn(const json::object* o, std::string_view key) {
  if (o == nullptr) return "";
  const json::value* m = o->if_contains(key);
  return m != nullptr && m->is_string() ? std::string(m->as_string()) : "";
}
const json::array* ArrayIn(const json::object* o, std::string_view key) {
  if (o == nullptr) return nullptr;
  const json::value* m = o->if_contains(key);
  return m != nullptr ? m->if_array() : nullptr;
}

// "422 ITEM_NOT_ON_MENU": the status and the envelope's error code, for skip reasons.
std::string Describe(const Response& r) {
  json::value body = ParseBody(r);
  std::string code = StringIn(ObjectIn(&body, "error"), "code");
  return code.empty() ? std::to_string(r.status) : std::to_string(r.status) + " " + code;
}

// A function whose setup cannot be done: Run() lists it as skipped with this reason. Errors of
// the setup itself never carry this code (Send() makes sure of it).
Status Skip(std::string reason) { return FailedPreconditionError(std::move(reason)); }

Status Unexpected(const Request& r, const Response& got, int wanted) {
  return Skip("setup got " + Describe(got) + " from " + r.method + " " + r.target + " (expected " +
              std::to_string(wanted) + ")");
}

bool ValidRunTag(std::string_view tag) {
  if (tag.empty() || tag.size() > 32) return false;
  return std::all_of(tag.begin(), tag.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

bool Deliverable(std::string_view status) {
  return status == "confirmed" || status == "preparing" || status == "ready" ||
         status == "out_for_delivery";
}

constexpr std::string_view kApi = "/api/v1";
// Satisfies auth-register's rule: an upper, a lower, a digit and a symbol, 8-128 characters.
constexpr std::string_view kRegisterPassword = "Bench#Parent-2024";
// Future days with a published menu probed per school: enough spread of delivery dates without
// probing the whole 30-day window of every school.
constexpr int kFutureMenuDays = 10;
// Delivery dates are chosen so that they stay "from tomorrow on" for this long after setup, so a
// run that starts just before midnight (school time) does not turn its orders invalid.
constexpr auto kDateMargin = std::chrono::hours(2);
constexpr int kPageLimit = 100;
constexpr int kMaxPages = 100000;

struct MenuItem {
  std::string id;
  int max_per_order = 10;  // the slot's limit, or the API's per-line maximum
};
struct MenuDay {
  std::string date;
  bool orderable = false;       // tomorrow..30 days ahead, Monday-Friday, with items to order
  std::vector<MenuItem> items;  // unlimited slots only: no order can sell them out
};
struct SchoolMenus {
  bool probed = false;
  std::vector<MenuDay> days;  // every probed day that has a published menu
  std::vector<size_t> orderable;
};

struct ParentSession {
  size_t school = 0;
  const FixtureParent* parent = nullptr;
  std::string token;
};

struct CreatedOrder {
  size_t parent = 0;
  std::string id;
};

class Preparer {
 public:
  Preparer(const Fixtures& fixtures, HttpClient& client, const ScenarioOptions& options)
      : fx_(fixtures), client_(client), opt_(options), menus_(fixtures.schools.size()) {}

  StatusOr<PreparedScenarios> Run() {
    if (!ValidRunTag(opt_.run_tag)) {
      return InvalidArgumentError("run_tag must be 1-32 characters of [a-z0-9-]");
    }
    if (opt_.read_variety < 1) return InvalidArgumentError("read_variety must be at least 1");
    if (opt_.writes_per_function < 1) {
      return InvalidArgumentError("writes_per_function must be at least 1");
    }
    for (const std::string& f : opt_.functions) {
      if (!IsFunction(f)) return InvalidArgumentError("unknown function '" + f + "'");
    }
    for (std::string_view f : kFunctions) {
      if (!Asked(f)) continue;
      Scenario sc;
      sc.function = std::string(f);
      const Status s = Prepare(sc);
      if (s.code() == StatusCode::kFailedPrecondition) {
        out_.skipped.push_back(sc.function + ": " + s.message());
      } else if (!s.ok()) {
        return s;
      } else {
        out_.scenarios.push_back(std::move(sc));
      }
    }
    if (std::find(opt_.functions.begin(), opt_.functions.end(), kMixedReads) !=
        opt_.functions.end()) {
      RETURN_IF_ERROR(PrepareMixedReads());
    }
    return std::move(out_);
  }

 private:
  // Whether one of the ten is asked for (an empty list asks for all ten).
  bool Asked(std::string_view f) const {
    return opt_.functions.empty() ||
           std::find(opt_.functions.begin(), opt_.functions.end(), f) != opt_.functions.end();
  }

  // kMixedReads from the three reads' requests (prepared here for those not asked for alone),
  // one of each in turn until the shortest runs out.
  Status PrepareMixedReads() {
    constexpr std::string_view kReads[] = {"users-get", "menus-daily", "orders-list"};
    std::vector<Scenario> parts;
    for (std::string_view f : kReads) {
      const auto prepared = std::find_if(out_.scenarios.begin(), out_.scenarios.end(),
                                         [&](const Scenario& s) { return s.function == f; });
      if (prepared != out_.scenarios.end()) {
        parts.push_back(*prepared);
        continue;
      }
      Scenario sc;
      sc.function = std::string(f);
      const Status s = Prepare(sc);
      if (s.code() == StatusCode::kFailedPrecondition) {
        out_.skipped.push_back(std::string(kMixedReads) + ": " + sc.function + ": " + s.message());
        return Status::Ok();
      }
      RETURN_IF_ERROR(s);
      parts.push_back(std::move(sc));
    }
    Scenario mixed;
    mixed.function = std::string(kMixedReads);
    size_t shortest = parts[0].requests.size();
    for (const Scenario& part : parts) shortest = std::min(shortest, part.requests.size());
    for (size_t i = 0; i < shortest; ++i) {
      for (const Scenario& part : parts) mixed.requests.push_back(part.requests[i]);
    }
    if (mixed.requests.empty()) {
      out_.skipped.push_back(std::string(kMixedReads) + ": one of its reads has no request");
      return Status::Ok();
    }
    out_.scenarios.push_back(std::move(mixed));
    return Status::Ok();
  }

  Status Prepare(Scenario& sc) {
    const std::string& f = sc.function;
    if (f == "auth-register") return PrepareRegister(sc);
    if (f == "auth-login") return PrepareLogin(sc);
    if (f == "users-get") return PrepareUsersGet(sc);
    if (f == "menus-daily") return PrepareMenusDaily(sc);
    if (f == "orders-list") return PrepareOrdersList(sc);
    if (f == "orders-create") return PrepareOrdersCreate(sc);
    if (f == "payments-create-order") return PreparePaymentsCreate(sc);
    if (f == "payments-verify") return PreparePaymentsVerify(sc);
    if (f == "rfid-verify-card") return PrepareRfid(sc);
    return PrepareMonitoring(sc);
  }

  // ---- Requests ----

  static Request Make(std::string method, std::string target, const std::string& token,
                      std::string body) {
    Request r;
    r.method = std::move(method);
    r.target = std::move(target);
    if (!token.empty()) r.headers.push_back({"Authorization", "Bearer " + token});
    r.body = std::move(body);
    return r;
  }

  // A request of a scenario: as a browser sends it, with Accept-Encoding. Setup requests go
  // without it, so that their answers come uncompressed and can be read here.
  Request Prepared(std::string method, std::string target, const std::string& token,
                   std::string body) const {
    Request r = Make(std::move(method), std::move(target), token, std::move(body));
    if (!opt_.accept_encoding.empty()) {
      r.headers.push_back({"Accept-Encoding", opt_.accept_encoding});
    }
    return r;
  }

  static std::string Api(std::string_view path) { return std::string(kApi) + std::string(path); }

  StatusOr<Response> Send(const Request& r, bool write) {
    ++out_.setup_requests;
    if (write) ++out_.setup_writes;
    StatusOr<Response> got = client_.Send(r);
    if (!got.ok()) {
      // FailedPrecondition means "skip this function" inside the preparer; a client error is
      // an error of the whole setup.
      const StatusCode code = got.status().code() == StatusCode::kFailedPrecondition
                                  ? StatusCode::kUnavailable
                                  : got.status().code();
      return Status(code,
                    "bench setup: " + r.method + " " + r.target + ": " + got.status().message());
    }
    return got;
  }

  // ---- Logins ----

  StatusOr<std::string> Login(const FixtureUser& user) {
    const Request r =
        Make("POST", Api("/auth/login"), "",
             json::serialize(json::object{{"email", user.email}, {"password", user.password}}));
    ASSIGN_OR_RETURN(Response got, Send(r, false));
    if (got.status != 200) {
      return UnauthenticatedError("bench setup: the login of " + user.email + " was refused (" +
                                  Describe(got) + ")");
    }
    json::value body = ParseBody(got);
    const std::string token = StringIn(ObjectIn(ObjectIn(&body, "data"), "tokens"), "accessToken");
    if (token.empty()) {
      return UnauthenticatedError("bench setup: the login of " + user.email +
                                  " answered 200 without an access token");
    }
    if (!server_now_) {
      // The server's clock decides what "today" and "tomorrow" are, not this machine's.
      StatusOr<TimePoint> t = ParseRfc3339(StringIn(ObjectIn(&body, "meta"), "timestamp"));
      server_now_ = t.ok() ? *t : std::chrono::system_clock::now();
    }
    return token;
  }

  StatusOr<std::string> AdminToken() {
    if (admin_token_.empty()) {
      ASSIGN_OR_RETURN(admin_token_, Login(fx_.admin));
    }
    return admin_token_;
  }

  // A kitchen staff member of the school (a school admin where the fixtures list no kitchen).
  StatusOr<std::string> StaffToken(size_t school) {
    auto it = staff_tokens_.find(school);
    if (it != staff_tokens_.end()) return it->second;
    const FixtureSchool& s = fx_.schools[school];
    ASSIGN_OR_RETURN(std::string token,
                     Login(s.kitchen_staff.empty() ? s.school_admin : s.kitchen_staff.front()));
    staff_tokens_.emplace(school, token);
    return token;
  }

  // read_variety parents, taken from the schools in turn so that every school has some.
  Status LogInParents() {
    if (parents_logged_in_) return Status::Ok();
    parents_logged_in_ = true;
    const size_t want = static_cast<size_t>(opt_.read_variety);
    for (size_t round = 0; parents_.size() < want; ++round) {
      bool any = false;
      for (size_t s = 0; s < fx_.schools.size() && parents_.size() < want; ++s) {
        if (round >= fx_.schools[s].parents.size()) continue;
        any = true;
        const FixtureParent& p = fx_.schools[s].parents[round];
        ASSIGN_OR_RETURN(std::string token, Login(p.user));
        parents_.push_back({s, &p, std::move(token)});
      }
      if (!any) break;
    }
    return Status::Ok();
  }

  Status NeedParents() {
    RETURN_IF_ERROR(LogInParents());
    if (parents_.empty()) return Skip("the fixtures list no parents");
    return Status::Ok();
  }

  // ---- Dates and menus ----

  StatusOr<Date> Today(size_t school, std::chrono::hours ahead = std::chrono::hours(0)) const {
    const TimePoint now = server_now_.value_or(std::chrono::system_clock::now());
    return LocalDate(now + ahead, fx_.schools[school].timezone);
  }

  // The published menus of a school from today on, as one of its parents sees them.
  Status ProbeMenus(size_t school, const std::string& token) {
    SchoolMenus& m = menus_[school];
    if (m.probed) return Status::Ok();
    m.probed = true;
    ASSIGN_OR_RETURN(const Date today, Today(school));
    ASSIGN_OR_RETURN(const Date later, Today(school, kDateMargin));
    const Date first_orderable = later + days(1);
    const Date last_orderable = today + days(30);
    int future_found = 0;
    for (Date d = today; d <= last_orderable && future_found < kFutureMenuDays; d += days(1)) {
      const bool weekday = IsoWeekday(d) <= 5;
      if (d != today && !weekday) continue;
      const std::string date = FormatDate(d);
      const Request r =
          Make("GET", Api("/menus/daily?schoolId=" + fx_.schools[school].id + "&date=" + date),
               token, "");
      ASSIGN_OR_RETURN(Response got, Send(r, false));
      if (got.status == 404) continue;  // no menu published for that day
      if (got.status != 200) return Unexpected(r, got, 200);
      if (d != today) ++future_found;
      json::value body = ParseBody(got);
      MenuDay day;
      day.date = date;
      if (const json::array* items = ArrayIn(ObjectIn(&body, "data"), "items")) {
        for (const json::value& v : *items) {
          const json::object* item = v.if_object();
          if (item == nullptr) continue;
          // A limited slot can sell out under load (409 SOLD_OUT): orders keep to unlimited ones.
          const json::value* available = item->if_contains("availableQuantity");
          if (available != nullptr && !available->is_null()) continue;
          MenuItem mi;
          mi.id = StringIn(item, "menuItemId");
          if (mi.id.empty()) continue;
          if (const json::value* max = item->if_contains("maxPerOrder"); max && max->is_int64()) {
            mi.max_per_order = static_cast<int>(std::clamp<int64_t>(max->as_int64(), 1, 10));
          }
          day.items.push_back(std::move(mi));
        }
      }
      day.orderable = weekday && d >= first_orderable && !day.items.empty();
      if (day.orderable) m.orderable.push_back(m.days.size());
      m.days.push_back(std::move(day));
    }
    return Status::Ok();
  }

  // Every logged-in parent's school, probed as its first parent.
  Status ProbeParentSchools() {
    for (const ParentSession& p : parents_) RETURN_IF_ERROR(ProbeMenus(p.school, p.token));
    return Status::Ok();
  }

  // ---- Orders ----

  // The parents who can order: children, and a school with an orderable day.
  Status NeedOrderingParents() {
    RETURN_IF_ERROR(NeedParents());
    RETURN_IF_ERROR(ProbeParentSchools());
    if (ordering_parents_.empty()) {
      for (size_t i = 0; i < parents_.size(); ++i) {
        if (!parents_[i].parent->children.empty() &&
            !menus_[parents_[i].school].orderable.empty()) {
          ordering_parents_.push_back(i);
        }
      }
    }
    if (ordering_parents_.empty()) {
      return Skip("no school of the logged-in parents has a published menu with unlimited items " +
                  std::string("from tomorrow to 30 days ahead"));
    }
    return Status::Ok();
  }

  // The n-th order of this run: parents in turn, then their children, delivery dates and menu
  // items spread, quantities within each slot's maxPerOrder.
  std::pair<size_t, std::string> OrderBody(uint64_t n) const {
    const size_t parent = ordering_parents_[n % ordering_parents_.size()];
    const uint64_t round = n / ordering_parents_.size();
    const ParentSession& ps = parents_[parent];
    const std::vector<FixtureChild>& children = ps.parent->children;
    const FixtureChild& child = children[round % children.size()];
    const SchoolMenus& m = menus_[ps.school];
    const MenuDay& day =
        m.days[m.orderable[(round / children.size() + parent) % m.orderable.size()]];
    const size_t lines = std::min<size_t>(1 + n % 3, day.items.size());
    json::array items;
    for (size_t j = 0; j < lines; ++j) {
      const MenuItem& item = day.items[(n + j) % day.items.size()];
      const int quantity = std::min<int>(1 + static_cast<int>((n + j) % 2), item.max_per_order);
      items.push_back(json::object{{"menuItemId", item.id}, {"quantity", quantity}});
    }
    json::object body{
        {"studentId", child.id}, {"deliveryDate", day.date}, {"items", std::move(items)}};
    if (n % 5 == 4) body["specialInstructions"] = "Less spicy, please";
    return {parent, json::serialize(body)};
  }

  std::string IdempotencyKey(std::string_view kind, uint64_t n) const {
    return "bench-" + opt_.run_tag + "-" + std::string(kind) + "-" + std::to_string(n);
  }

  // A fresh pending order for a payment function, created through orders-create.
  StatusOr<CreatedOrder> CreateSetupOrder() {
    const uint64_t n = setup_orders_++;
    auto [parent, body] = OrderBody(n);
    Request r = Make("POST", Api("/orders"), parents_[parent].token, std::move(body));
    r.headers.push_back({"Idempotency-Key", IdempotencyKey("setup", n)});
    ASSIGN_OR_RETURN(Response got, Send(r, true));
    if (got.status != 201) return Unexpected(r, got, 201);
    json::value answer = ParseBody(got);
    std::string id = StringIn(ObjectIn(ObjectIn(&answer, "data"), "order"), "id");
    if (id.empty()) return Skip("setup: POST " + r.target + " answered 201 without an order id");
    return CreatedOrder{parent, std::move(id)};
  }

  // ---- The ten functions ----

  Status PrepareRegister(Scenario& sc) {
    sc.writes = true;
    sc.expected_status = 201;
    for (uint64_t n = 1; n <= opt_.writes_per_function; ++n) {
      json::object body{
          {"email", "bench-" + opt_.run_tag + "-" + std::to_string(n) + "@bench.hasivu.test"},
          {"password", kRegisterPassword},
          {"firstName", "Bench"},
          {"lastName", "Parent " + std::to_string(n)}};
      if (!fx_.schools.empty()) body["schoolId"] = fx_.schools[n % fx_.schools.size()].id;
      sc.requests.push_back(Prepared("POST", Api("/auth/register"), "", json::serialize(body)));
    }
    return Status::Ok();
  }

  Status PrepareLogin(Scenario& sc) {
    RETURN_IF_ERROR(NeedParents());
    for (const ParentSession& p : parents_) {
      sc.requests.push_back(
          Prepared("POST", Api("/auth/login"), "",
                   json::serialize(json::object{{"email", p.parent->user.email},
                                                {"password", p.parent->user.password}})));
    }
    return Status::Ok();
  }

  // Adds `r` unless an equal request is there already; false when read_variety is reached.
  bool AddDistinct(Scenario& sc, std::set<std::pair<std::string, std::string>>& seen, Request r,
                   const std::string& who) const {
    if (sc.requests.size() >= static_cast<size_t>(opt_.read_variety)) return false;
    if (seen.emplace(who, r.target).second) sc.requests.push_back(std::move(r));
    return sc.requests.size() < static_cast<size_t>(opt_.read_variety);
  }

  Status PrepareUsersGet(Scenario& sc) {
    RETURN_IF_ERROR(NeedParents());
    // Each parent's own profile and each child's, alternating across parents.
    std::set<std::pair<std::string, std::string>> seen;
    size_t most_children = 0;
    for (const ParentSession& p : parents_) {
      most_children = std::max(most_children, p.parent->children.size());
    }
    for (size_t round = 0; round <= most_children; ++round) {
      for (size_t i = 0; i < parents_.size(); ++i) {
        const ParentSession& p = parents_[i];
        const size_t variants = 1 + p.parent->children.size();
        const size_t v = (i + round) % variants;
        const std::string target =
            v == 0 ? Api("/users/me") : Api("/users/" + p.parent->children[v - 1].id);
        if (!AddDistinct(sc, seen, Prepared("GET", target, p.token, ""), p.token)) {
          return Status::Ok();
        }
      }
    }
    return Status::Ok();
  }

  Status PrepareMenusDaily(Scenario& sc) {
    RETURN_IF_ERROR(NeedParents());
    RETURN_IF_ERROR(ProbeParentSchools());
    // Per school with menus: its published days and its logged-in parents.
    std::vector<size_t> schools;
    std::map<size_t, std::vector<const ParentSession*>> by_school;
    for (const ParentSession& p : parents_) {
      if (menus_[p.school].days.empty()) continue;
      if (by_school[p.school].empty()) schools.push_back(p.school);
      by_school[p.school].push_back(&p);
    }
    if (schools.empty()) {
      return Skip(
          "no school of the logged-in parents has a published menu from today to 30 days "
          "ahead");
    }
    size_t most_days = 0;
    for (size_t s : schools) most_days = std::max(most_days, menus_[s].days.size());
    std::set<std::pair<std::string, std::string>> seen;
    for (size_t round = 0; round < most_days; ++round) {
      for (size_t s : schools) {
        const std::vector<MenuDay>& menu_days = menus_[s].days;
        if (round >= menu_days.size()) continue;
        const ParentSession& p = *by_school[s][round % by_school[s].size()];
        const std::string target =
            Api("/menus/daily?schoolId=" + fx_.schools[s].id + "&date=" + menu_days[round].date);
        if (!AddDistinct(sc, seen, Prepared("GET", target, p.token, ""), p.token)) {
          return Status::Ok();
        }
      }
    }
    return Status::Ok();
  }

  Status PrepareOrdersList(Scenario& sc) {
    RETURN_IF_ERROR(NeedParents());
    // Mostly parents' first page; one request in ten a kitchen's list of today, its own school.
    std::vector<size_t> schools;
    for (const ParentSession& p : parents_) {
      if (std::find(schools.begin(), schools.end(), p.school) == schools.end()) {
        schools.push_back(p.school);
      }
    }
    const size_t staff = std::min(schools.size(), static_cast<size_t>(opt_.read_variety / 10));
    const size_t parents =
        std::min(parents_.size(), static_cast<size_t>(opt_.read_variety) - staff);
    for (size_t i = 0; i < parents; ++i) {
      sc.requests.push_back(Prepared("GET", Api("/orders?limit=20"), parents_[i].token, ""));
    }
    for (size_t i = 0; i < staff; ++i) {
      ASSIGN_OR_RETURN(std::string token, StaffToken(schools[i]));
      ASSIGN_OR_RETURN(const Date today, Today(schools[i]));
      const std::string date = FormatDate(today);
      sc.requests.push_back(
          Prepared("GET", Api("/orders?limit=20&dateFrom=" + date + "&dateTo=" + date), token, ""));
    }
    return Status::Ok();
  }

  Status PrepareOrdersCreate(Scenario& sc) {
    sc.writes = true;
    sc.expected_status = 201;
    RETURN_IF_ERROR(NeedOrderingParents());
    for (uint64_t n = 0; n < opt_.writes_per_function; ++n) {
      auto [parent, body] = OrderBody(bench_orders_++);
      Request r = Prepared("POST", Api("/orders"), parents_[parent].token, std::move(body));
      r.headers.push_back({"Idempotency-Key", IdempotencyKey("order", n)});
      sc.requests.push_back(std::move(r));
    }
    return Status::Ok();
  }

  Status PreparePaymentsCreate(Scenario& sc) {
    sc.writes = true;
    sc.expected_status = 201;
    RETURN_IF_ERROR(NeedOrderingParents());
    for (uint64_t n = 0; n < opt_.writes_per_function; ++n) {
      ASSIGN_OR_RETURN(CreatedOrder order, CreateSetupOrder());
      sc.requests.push_back(Prepared("POST", Api("/payments/orders"), parents_[order.parent].token,
                                     json::serialize(json::object{{"orderId", order.id}})));
    }
    return Status::Ok();
  }

  // The customer's checkout, played by the simulated gateway: it hands back the payment id and
  // the signature a browser would post to payments-verify (that body).
  StatusOr<json::object> SimulateCheckout(const std::string& token,
                                          const std::string& gateway_order) {
    const Request checkout = Make(
        "POST", Api("/payments/simulate"), token,
        json::serialize(json::object{{"razorpayOrderId", gateway_order}, {"outcome", "success"}}));
    ASSIGN_OR_RETURN(Response done, Send(checkout, true));
    json::value done_body = ParseBody(done);
    if (done.status == 404 &&
        StringIn(ObjectIn(&done_body, "error"), "code") != "PAYMENT_ORDER_NOT_FOUND") {
      return Skip("the payment gateway is not the simulated one (POST " + checkout.target +
                  " answered " + Describe(done) + "), so no signature can be made");
    }
    if (done.status != 200) return Unexpected(checkout, done, 200);
    const json::object* data = ObjectIn(&done_body, "data");
    json::object verify{{"razorpayOrderId", StringIn(data, "razorpayOrderId")},
                        {"razorpayPaymentId", StringIn(data, "razorpayPaymentId")},
                        {"razorpaySignature", StringIn(data, "razorpaySignature")}};
    if (verify["razorpayPaymentId"].as_string().empty() ||
        verify["razorpaySignature"].as_string().empty()) {
      return Skip("setup: POST " + checkout.target + " answered 200 without a signature");
    }
    return verify;
  }

  Status PreparePaymentsVerify(Scenario& sc) {
    sc.writes = true;
    sc.expected_status = 200;
    RETURN_IF_ERROR(NeedOrderingParents());
    for (uint64_t n = 0; n < opt_.writes_per_function; ++n) {
      ASSIGN_OR_RETURN(CreatedOrder order, CreateSetupOrder());
      const std::string& token = parents_[order.parent].token;
      const Request pay = Make("POST", Api("/payments/orders"), token,
                               json::serialize(json::object{{"orderId", order.id}}));
      ASSIGN_OR_RETURN(Response paid, Send(pay, true));
      if (paid.status != 201) return Unexpected(pay, paid, 201);
      json::value pay_body = ParseBody(paid);
      const std::string gateway_order =
          StringIn(ObjectIn(ObjectIn(&pay_body, "data"), "paymentOrder"), "gatewayOrderId");
      if (gateway_order.empty()) {
        return Skip("setup: POST " + pay.target + " answered 201 without a gatewayOrderId");
      }
      json::object verify;
      if (opt_.checkout) {
        ASSIGN_OR_RETURN(CheckoutResult done, opt_.checkout(gateway_order));
        verify = {{"razorpayOrderId", gateway_order},
                  {"razorpayPaymentId", done.payment_id},
                  {"razorpaySignature", done.signature}};
      } else {
        ASSIGN_OR_RETURN(verify, SimulateCheckout(token, gateway_order));
      }
      sc.requests.push_back(
          Prepared("POST", Api("/payments/verify"), token, json::serialize(verify)));
    }
    return Status::Ok();
  }

  struct Scan {
    size_t school = 0;
    const FixtureChild* child = nullptr;
  };

  // The school's cards whose student has a paid, undelivered order for today, as the admin's
  // orders-list shows them; at most `limit`.
  Status FindScans(size_t school, const std::string& admin, size_t limit, std::vector<Scan>& out) {
    const FixtureSchool& s = fx_.schools[school];
    std::map<std::string, const FixtureChild*> cards;  // student id -> child
    for (const FixtureParent& p : s.parents) {
      for (const FixtureChild& c : p.children) {
        if (c.card_active && !c.card_expired) cards.emplace(c.id, &c);
      }
    }
    if (cards.empty()) return Status::Ok();
    ASSIGN_OR_RETURN(const Date today_date, Today(school));
    const std::string today = FormatDate(today_date);
    std::set<std::string> taken;
    std::string cursor;
    size_t found = 0;
    for (int page = 0; page < kMaxPages && found < limit; ++page) {
      std::string target =
          Api("/orders?schoolId=" + s.id + "&paymentStatus=paid&dateFrom=" + today +
              "&dateTo=" + today + "&limit=" + std::to_string(kPageLimit));
      if (!cursor.empty()) target += "&cursor=" + cursor;
      const Request r = Make("GET", target, admin, "");
      ASSIGN_OR_RETURN(Response got, Send(r, false));
      if (got.status != 200) return Unexpected(r, got, 200);
      json::value body = ParseBody(got);
      const json::object* data = ObjectIn(&body, "data");
      if (const json::array* orders = ArrayIn(data, "orders")) {
        for (const json::value& v : *orders) {
          const json::object* o = v.if_object();
          // The filters are checked again here: a peer server may ignore some of them.
          if (o == nullptr || !Deliverable(StringIn(o, "status")) ||
              StringIn(o, "paymentStatus") != "paid" || StringIn(o, "deliveryDate") != today) {
            continue;
          }
          auto card = cards.find(StringIn(o, "studentId"));
          if (card == cards.end() || !taken.insert(card->first).second) continue;
          out.push_back({school, card->second});
          if (++found >= limit) break;
        }
      }
      cursor = StringIn(ObjectIn(data, "pagination"), "nextCursor");
      if (cursor.empty()) break;
    }
    return Status::Ok();
  }

  Status PrepareRfid(Scenario& sc) {
    sc.writes = true;
    sc.expected_status = 200;
    ASSIGN_OR_RETURN(std::string admin, AdminToken());
    std::vector<Scan> scans;
    for (size_t s = 0; s < fx_.schools.size() && scans.size() < opt_.writes_per_function; ++s) {
      RETURN_IF_ERROR(FindScans(s, admin, opt_.writes_per_function - scans.size(), scans));
    }
    if (scans.empty()) {
      return Skip(
          "no active, unexpired card of the fixtures has a paid, undelivered order for "
          "today");
    }
    for (size_t i = 0; i < scans.size(); ++i) {
      const FixtureSchool& s = fx_.schools[scans[i].school];
      ASSIGN_OR_RETURN(std::string token, StaffToken(scans[i].school));
      json::object body{{"cardNumber", scans[i].child->card_number}};
      if (!s.reader_ids.empty()) body["readerId"] = s.reader_ids[i % s.reader_ids.size()];
      sc.requests.push_back(Prepared("POST", Api("/rfid/verify"), token, json::serialize(body)));
    }
    return Status::Ok();
  }

  Status PrepareMonitoring(Scenario& sc) {
    ASSIGN_OR_RETURN(std::string admin, AdminToken());
    sc.requests.push_back(Prepared("GET", Api("/monitoring/dashboard"), admin, ""));
    return Status::Ok();
  }

  const Fixtures& fx_;
  HttpClient& client_;
  const ScenarioOptions& opt_;
  PreparedScenarios out_;
  std::optional<TimePoint> server_now_;
  std::string admin_token_;
  std::map<size_t, std::string> staff_tokens_;
  bool parents_logged_in_ = false;
  std::vector<ParentSession> parents_;
  std::vector<SchoolMenus> menus_;  // per school of the fixtures
  std::vector<size_t> ordering_parents_;
  uint64_t setup_orders_ = 0;
  uint64_t bench_orders_ = 0;
};

}  // namespace

StatusOr<Fixtures> ParseFixtures(std::string_view text) {
  boost::system::error_code ec;
  const json::value root = json::parse(text, ec);
  if (ec) return InvalidArgumentError("fixtures: not JSON (" + ec.message() + ")");
  if (!root.is_object()) return InvalidArgumentError("fixtures: the document must be an object");
  const json::object& o = root.as_object();
  Fixtures f;
  ASSIGN_OR_RETURN(f.base_date, StringMember(o, "", "baseDate"));
  if (!ParseDate(f.base_date).ok()) return BadField("baseDate", "must be a date YYYY-MM-DD");
  ASSIGN_OR_RETURN(f.admin, UserMember(o, "", "admin"));
  ASSIGN_OR_RETURN(const json::array* schools, ArrayMember(o, "", "schools"));
  for (size_t i = 0; i < schools->size(); ++i) {
    ASSIGN_OR_RETURN(FixtureSchool s, ParseSchool((*schools)[i], Element("schools", i)));
    f.schools.push_back(std::move(s));
  }
  return f;
}

void SplitFirstScans(PreparedScenarios& ours, PreparedScenarios& theirs) {
  const auto scans = [](PreparedScenarios& p) -> Scenario* {
    for (Scenario& s : p.scenarios) {
      if (s.function == "rfid-verify-card") return &s;
    }
    return nullptr;
  };
  Scenario* a = scans(ours);
  Scenario* b = scans(theirs);
  if (a == nullptr || b == nullptr) return;
  const size_t half = a->requests.size() / 2;
  b->requests.assign(std::make_move_iterator(a->requests.begin() + half),
                     std::make_move_iterator(a->requests.end()));
  a->requests.resize(half);
}

StatusOr<PreparedScenarios> PrepareScenarios(const Fixtures& fixtures, HttpClient& client,
                                             const ScenarioOptions& options) {
  return Preparer(fixtures, client, options).Run();
}

}  // namespace hasivu::bench
