#include "bench/scenarios.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/time_util.h"

namespace hasivu::bench {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;

// ---- Fixtures for the tests ----

// Two schools; school s has parents p1..p4 with cards: parent 1 has two children, the others one.
// Child "s<S>-c<N>" has card "RFID-S<S>-<N>"; c3 is inactive and c4 expired.
json::object FixturesJson(int schools = 2, int parents = 4) {
  json::array school_list;
  for (int s = 1; s <= schools; ++s) {
    const std::string sp = "s" + std::to_string(s);
    auto user = [&](const std::string& name) {
      return json::object{{"id", sp + "-" + name},
                          {"email", name + "@" + sp + ".test"},
                          {"password", "pw-" + name}};
    };
    json::array parent_list;
    int child_no = 0;
    for (int p = 1; p <= parents; ++p) {
      json::object parent = user("p" + std::to_string(p));
      json::array children;
      for (int c = 0; c < (p == 1 ? 2 : 1); ++c) {
        ++child_no;
        const std::string n = std::to_string(child_no);
        children.push_back(json::object{{"id", sp + "-c" + n},
                                        {"email", "c" + n + "@" + sp + ".test"},
                                        {"password", "x"},
                                        {"grade", "5"},
                                        {"section", "A"},
                                        {"cardNumber", "RFID-S" + std::to_string(s) + "-" + n},
                                        {"cardActive", child_no != 3},
                                        {"cardExpired", child_no == 4}});
      }
      parent["children"] = std::move(children);
      parent_list.push_back(std::move(parent));
    }
    school_list.push_back(
        json::object{{"id", sp},
                     {"name", "School " + sp},
                     {"timezone", "Asia/Kolkata"},
                     {"schoolAdmin", user("admin")},
                     {"kitchenStaff", json::array{user("k1"), user("k2")}},
                     {"readers", json::array{json::object{{"id", sp + "-r1"}, {"name", "Main"}},
                                             json::object{{"id", sp + "-r2"}, {"name", "Junior"}}}},
                     {"menuItemIds", json::array{sp + "-free", sp + "-limited", sp + "-two"}},
                     {"parents", std::move(parent_list)}});
  }
  return json::object{
      {"baseDate", "2026-11-25"},
      {"admin", json::object{{"id", "admin"}, {"email", "admin@x.test"}, {"password", "pw-admin"}}},
      {"schools", std::move(school_list)}};
}

Fixtures MakeFixtures(int schools = 2, int parents = 4) {
  StatusOr<Fixtures> f = ParseFixtures(json::serialize(FixturesJson(schools, parents)));
  EXPECT_TRUE(f.ok()) << f.status().ToString();
  return f.ok() ? *f : Fixtures{};
}

// ---- A scripted server ----

std::string HeaderOf(const Request& r, std::string_view name) {
  for (const Header& h : r.headers) {
    if (h.name == name) return h.value;
  }
  return "";
}

std::map<std::string, std::string> QueryOf(const std::string& target) {
  std::map<std::string, std::string> q;
  const size_t mark = target.find('?');
  if (mark == std::string::npos) return q;
  std::string rest = target.substr(mark + 1);
  size_t start = 0;
  while (start <= rest.size()) {
    size_t end = rest.find('&', start);
    if (end == std::string::npos) end = rest.size();
    const std::string pair = rest.substr(start, end - start);
    const size_t eq = pair.find('=');
    if (eq != std::string::npos) q[pair.substr(0, eq)] = pair.substr(eq + 1);
    start = end + 1;
  }
  return q;
}

std::string PathOf(const std::string& target) { return target.substr(0, target.find('?')); }

// Answers as the API does for what the scenarios send, enforcing the rules that matter to them:
// orders need a date from tomorrow to 30 days ahead on a weekday with a published menu, items of
// that menu that are not limited (the limited one is always sold out here), quantities within
// maxPerOrder; cards scan once, by their own school's staff; payments need their own order.
class FakeServer : public HttpClient {
 public:
  // "Now" is Wednesday 2026-11-25, 09:30 in Asia/Kolkata.
  static constexpr const char* kNow = "2026-11-25T04:00:00.000000Z";

  explicit FakeServer(const Fixtures& fx) : fx_(fx) {
    auto add = [this](const FixtureUser& u, std::string role, std::string school) {
      users_[u.email] = {u.password, u.id, std::move(role), std::move(school)};
    };
    add(fx.admin, "admin", "");
    for (const FixtureSchool& s : fx.schools) {
      add(s.school_admin, "school_admin", s.id);
      for (const FixtureUser& k : s.kitchen_staff) add(k, "kitchen_staff", s.id);
      for (const FixtureParent& p : s.parents) {
        add(p.user, "parent", s.id);
        for (const FixtureChild& c : p.children) {
          children_[c.id] = p.user.email;
          cards_[c.card_number] = {c.id, s.id, c.card_active && !c.card_expired};
        }
      }
      // Published menus: today and every weekday up to 20 days ahead, except the coming Friday.
      const Date today = *ParseDate("2026-11-25");
      for (int d = 0; d <= 20; ++d) {
        const Date day = today + std::chrono::days(d);
        if (d > 0 && IsoWeekday(day) > 5) continue;
        if (d == 2) continue;
        menus_.insert({s.id, FormatDate(day)});
      }
    }
  }

  StatusOr<Response> Send(const Request& r) override {
    requests.push_back(r);
    if (unreachable) return UnavailableError("connect: connection refused");
    return Answer(r);
  }

  std::vector<Request> requests;
  bool unreachable = false;
  bool simulated = true;
  std::set<std::string> refused_logins;
  // Today's orders the admin's list shows, per school: {id, studentId, status, paymentStatus}.
  struct ListedOrder {
    std::string id, student, status, payment, date;
  };
  std::map<std::string, std::vector<ListedOrder>> today_orders;
  std::set<std::string> idempotency_keys;

  int CountTo(std::string_view path) const {
    int n = 0;
    for (const Request& r : requests) n += PathOf(r.target) == path;
    return n;
  }

 private:
  struct User {
    std::string password, id, role, school;
  };
  struct Card {
    std::string student, school;
    bool valid = false;
  };
  struct Order {
    std::string owner;
    bool payment_order = false;
  };

  static Response Ok(int status, json::object data) {
    json::object body{{"success", true},
                      {"data", std::move(data)},
                      {"meta", json::object{{"timestamp", kNow}, {"requestId", "r"}}}};
    return Response{status, {}, json::serialize(body)};
  }
  static Response Fail(int status, std::string code) {
    json::object body{{"success", false},
                      {"error", json::object{{"code", std::move(code)}, {"message", "no"}}},
                      {"meta", json::object{{"timestamp", kNow}, {"requestId", "r"}}}};
    return Response{status, {}, json::serialize(body)};
  }

  const User* Caller(const Request& r) const {
    const std::string auth = HeaderOf(r, "Authorization");
    if (auth.rfind("Bearer tok:", 0) != 0) return nullptr;
    auto it = users_.find(auth.substr(11));
    return it == users_.end() ? nullptr : &it->second;
  }
  std::string CallerEmail(const Request& r) const {
    return HeaderOf(r, "Authorization").substr(11);
  }

  Response Answer(const Request& r) {
    const std::string path = PathOf(r.target);
    boost::system::error_code ec;
    json::value body = r.body.empty() ? json::value() : json::parse(r.body, ec);
    if (ec) return Fail(400, "INVALID_JSON");
    const json::object* in = body.if_object();
    auto str = [in](const char* key) -> std::string {
      const json::value* v = in ? in->if_contains(key) : nullptr;
      return v && v->is_string() ? std::string(v->as_string()) : "";
    };
    if (path == "/api/v1/auth/login") {
      auto it = users_.find(str("email"));
      if (it == users_.end() || it->second.password != str("password") ||
          refused_logins.count(str("email"))) {
        return Fail(401, "INVALID_CREDENTIALS");
      }
      return Ok(200, {{"user", json::object{{"id", it->second.id}}},
                      {"tokens", json::object{{"accessToken", "tok:" + str("email")}}}});
    }
    if (path == "/api/v1/auth/register") {
      const std::string email = str("email");
      if (email.find('@') == std::string::npos || str("password").size() < 8 ||
          str("firstName").empty() || str("lastName").empty()) {
        return Fail(400, "VALIDATION_ERROR");
      }
      if (!registered_.insert(email).second || users_.count(email)) return Fail(409, "EMAIL_TAKEN");
      return Ok(201, {{"user", json::object{{"email", email}}}});
    }
    const User* caller = Caller(r);
    if (caller == nullptr) return Fail(401, "UNAUTHENTICATED");
    const std::string email = CallerEmail(r);
    std::map<std::string, std::string> q = QueryOf(r.target);
    if (path == "/api/v1/users/me") return Ok(200, {{"id", caller->id}});
    if (path.rfind("/api/v1/users/", 0) == 0) {
      auto child = children_.find(path.substr(14));
      return child != children_.end() && child->second == email ? Ok(200, {{"id", child->first}})
                                                                : Fail(404, "NOT_FOUND");
    }
    if (path == "/api/v1/menus/daily") {
      if (caller->role != "admin" && caller->school != q["schoolId"]) {
        return Fail(404, "MENU_NOT_FOUND");
      }
      if (!menus_.count({q["schoolId"], q["date"]})) return Fail(404, "MENU_NOT_FOUND");
      const std::string& s = q["schoolId"];
      json::array items{
          json::object{{"menuItemId", s + "-free"},
                       {"availableQuantity", nullptr},
                       {"maxPerOrder", nullptr}},
          json::object{
              {"menuItemId", s + "-limited"}, {"availableQuantity", 3}, {"maxPerOrder", nullptr}},
          json::object{
              {"menuItemId", s + "-two"}, {"availableQuantity", nullptr}, {"maxPerOrder", 1}}};
      return Ok(200, {{"date", q["date"]}, {"items", std::move(items)}});
    }
    if (path == "/api/v1/orders" && r.method == "POST") return CreateOrder(r, *caller, email, str);
    if (path == "/api/v1/orders") return ListOrders(*caller, q);
    if (path == "/api/v1/payments/orders") {
      auto it = orders_.find(str("orderId"));
      if (it == orders_.end() || it->second.owner != email) return Fail(404, "ORDER_NOT_FOUND");
      if (it->second.payment_order) return Ok(200, {});
      it->second.payment_order = true;
      const std::string gateway = "order_" + std::to_string(payment_orders_.size() + 100000);
      payment_orders_[gateway] = email;
      return Ok(201, {{"paymentOrder", json::object{{"gatewayOrderId", gateway}}}});
    }
    if (path == "/api/v1/payments/simulate") {
      if (!simulated) return Fail(404, "NOT_FOUND");
      auto it = payment_orders_.find(str("razorpayOrderId"));
      if (it == payment_orders_.end() || it->second != email) {
        return Fail(404, "PAYMENT_ORDER_NOT_FOUND");
      }
      return Ok(200, {{"razorpayOrderId", it->first},
                      {"razorpayPaymentId", "pay_" + it->first.substr(6)},
                      {"razorpaySignature", "sig-" + it->first}});
    }
    if (path == "/api/v1/payments/verify") {
      auto it = payment_orders_.find(str("razorpayOrderId"));
      if (it == payment_orders_.end() || it->second != email) {
        return Fail(404, "PAYMENT_ORDER_NOT_FOUND");
      }
      if (str("razorpaySignature") != "sig-" + it->first) return Fail(400, "INVALID_SIGNATURE");
      return Ok(200, {{"verification", json::object{{"verified", true}}}});
    }
    if (path == "/api/v1/rfid/verify") {
      auto card = cards_.find(str("cardNumber"));
      if (caller->role != "kitchen_staff" && caller->role != "school_admin") {
        return Fail(403, "FORBIDDEN");
      }
      if (card == cards_.end() || card->second.school != caller->school) {
        return Fail(404, "CARD_NOT_FOUND");
      }
      if (!card->second.valid) return Fail(422, "CARD_INACTIVE");
      const std::string reader = str("readerId");
      if (!reader.empty() && reader.rfind(caller->school + "-r", 0) != 0) {
        return Fail(422, "READER_MISMATCH");
      }
      for (ListedOrder& o : today_orders[card->second.school]) {
        if (o.student != card->second.student) continue;
        if (o.status == "delivered") return Fail(409, "ALREADY_DELIVERED");
        if (o.payment == "paid" && o.date == "2026-11-25" &&
            (o.status == "confirmed" || o.status == "ready")) {
          o.status = "delivered";
          return Ok(200, {{"verification", json::object{{"status", "verified"}}}});
        }
      }
      return Fail(404, "NO_ORDER_TODAY");
    }
    if (path == "/api/v1/monitoring/dashboard") {
      return caller->role == "admin" ? Ok(200, {{"service", json::object{}}})
                                     : Fail(403, "FORBIDDEN");
    }
    return Fail(404, "NOT_FOUND");
  }

  template <typename Str>
  Response CreateOrder(const Request& r, const User& caller, const std::string& email, Str str) {
    const std::string key = HeaderOf(r, "Idempotency-Key");
    if (!key.empty()) idempotency_keys.insert(key);
    json::value body = json::parse(r.body);
    const json::object& in = body.as_object();
    auto child = children_.find(str("studentId"));
    if (caller.role != "parent" || child == children_.end() || child->second != email) {
      return Fail(404, "STUDENT_NOT_FOUND");
    }
    StatusOr<Date> date = ParseDate(str("deliveryDate"));
    const Date today = *ParseDate("2026-11-25");
    if (!date.ok() || *date <= today || *date > today + std::chrono::days(30) ||
        IsoWeekday(*date) > 5) {
      return Fail(422, "INVALID_DELIVERY_DATE");
    }
    if (!menus_.count({caller.school, str("deliveryDate")})) return Fail(422, "MENU_NOT_AVAILABLE");
    const json::array& items = in.at("items").as_array();
    if (items.empty() || items.size() > 20) return Fail(400, "VALIDATION_ERROR");
    std::map<std::string, int64_t> per_item;
    for (const json::value& v : items) {
      const std::string id(v.at("menuItemId").as_string());
      const int64_t quantity = v.at("quantity").as_int64();
      if (quantity < 1 || quantity > 10) return Fail(400, "VALIDATION_ERROR");
      per_item[id] += quantity;
      if (id == caller.school + "-limited") return Fail(409, "SOLD_OUT");
      if (id != caller.school + "-free" && id != caller.school + "-two") {
        return Fail(422, "ITEM_NOT_ON_MENU");
      }
    }
    if (per_item[caller.school + "-two"] > 1) return Fail(422, "MAX_PER_ORDER_EXCEEDED");
    const std::string id = "ord-" + std::to_string(orders_.size() + 1);
    orders_[id] = {email, false};
    return Ok(201, {{"order", json::object{{"id", id}}}});
  }

  Response ListOrders(const User& caller, std::map<std::string, std::string>& q) {
    if (q.count("limit") && (std::stoi(q["limit"]) < 1 || std::stoi(q["limit"]) > 100)) {
      return Fail(400, "VALIDATION_ERROR");
    }
    if (caller.role != "admin") {
      return Ok(200, {{"orders", json::array{}},
                      {"pagination", json::object{{"nextCursor", nullptr}, {"hasMore", false}}}});
    }
    // The admin's search for today's deliveries, paginated by index.
    const std::vector<ListedOrder>& all = today_orders[q["schoolId"]];
    const size_t limit = q.count("limit") ? std::stoul(q["limit"]) : 20;
    const size_t from = q.count("cursor") ? std::stoul(q["cursor"]) : 0;
    json::array page;
    for (size_t i = from; i < all.size() && i < from + limit; ++i) {
      if (q.count("paymentStatus") && all[i].payment != q["paymentStatus"]) continue;
      page.push_back(json::object{{"id", all[i].id},
                                  {"studentId", all[i].student},
                                  {"status", all[i].status},
                                  {"paymentStatus", all[i].payment},
                                  {"deliveryDate", all[i].date}});
    }
    const bool more = from + limit < all.size();
    return Ok(200, {{"orders", std::move(page)},
                    {"pagination",
                     json::object{{"nextCursor", more ? json::value(std::to_string(from + limit))
                                                      : json::value(nullptr)},
                                  {"hasMore", more}}}});
  }

  const Fixtures& fx_;
  std::map<std::string, User> users_;                    // by email
  std::map<std::string, std::string> children_;          // child id -> parent email
  std::map<std::string, Card> cards_;                    // by card number
  std::set<std::pair<std::string, std::string>> menus_;  // (school, date) published
  std::map<std::string, Order> orders_;
  std::map<std::string, std::string> payment_orders_;  // gateway id -> owner email
  std::set<std::string> registered_;
};

// Today's orders. School 1: 150 of students the fixtures do not list (so the search pages), then
// c1 ready and c2 confirmed (to scan), c3 confirmed but its card inactive, c4 ready but its card
// expired, c5 delivered already. School 2: c1 pending, c2 paid but for tomorrow, c5 ready (to
// scan).
void ScriptTodayOrders(FakeServer& server) {
  auto& s1 = server.today_orders["s1"];
  for (int i = 0; i < 150; ++i) {
    s1.push_back({"o-x" + std::to_string(i), "unlisted-" + std::to_string(i), "ready", "paid",
                  "2026-11-25"});
  }
  s1.push_back({"o1", "s1-c1", "ready", "paid", "2026-11-25"});
  s1.push_back({"o2", "s1-c2", "confirmed", "paid", "2026-11-25"});
  s1.push_back({"o3", "s1-c3", "confirmed", "paid", "2026-11-25"});
  s1.push_back({"o4", "s1-c4", "ready", "paid", "2026-11-25"});
  s1.push_back({"o5", "s1-c5", "delivered", "paid", "2026-11-25"});
  auto& s2 = server.today_orders["s2"];
  s2.push_back({"o6", "s2-c1", "pending", "pending", "2026-11-25"});
  s2.push_back({"o7", "s2-c2", "confirmed", "paid", "2026-11-26"});
  s2.push_back({"o8", "s2-c5", "ready", "paid", "2026-11-25"});
}

const Scenario* Find(const PreparedScenarios& p, std::string_view function) {
  for (const Scenario& s : p.scenarios) {
    if (s.function == function) return &s;
  }
  return nullptr;
}

ScenarioOptions Options(uint64_t writes = 5, int variety = 6) {
  ScenarioOptions o;
  o.writes_per_function = writes;
  o.read_variety = variety;
  o.run_tag = "t-1";
  return o;
}

// ---- ParseFixtures ----

TEST(ParseFixturesTest, ReadsEveryField) {
  StatusOr<Fixtures> f = ParseFixtures(json::serialize(FixturesJson()));
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->base_date, "2026-11-25");
  EXPECT_EQ(f->admin.email, "admin@x.test");
  EXPECT_EQ(f->admin.password, "pw-admin");
  ASSERT_EQ(f->schools.size(), 2u);
  const FixtureSchool& s = f->schools[1];
  EXPECT_EQ(s.id, "s2");
  EXPECT_EQ(s.timezone, "Asia/Kolkata");
  EXPECT_EQ(s.school_admin.email, "admin@s2.test");
  ASSERT_EQ(s.kitchen_staff.size(), 2u);
  EXPECT_EQ(s.kitchen_staff[1].id, "s2-k2");
  EXPECT_THAT(s.reader_ids, ::testing::ElementsAre("s2-r1", "s2-r2"));
  EXPECT_THAT(s.menu_item_ids, ::testing::ElementsAre("s2-free", "s2-limited", "s2-two"));
  ASSERT_EQ(s.parents.size(), 4u);
  EXPECT_EQ(s.parents[0].user.password, "pw-p1");
  ASSERT_EQ(s.parents[0].children.size(), 2u);
  ASSERT_EQ(s.parents[1].children.size(), 1u);
  const FixtureChild& inactive = s.parents[1].children[0];
  EXPECT_EQ(inactive.id, "s2-c3");
  EXPECT_EQ(inactive.card_number, "RFID-S2-3");
  EXPECT_FALSE(inactive.card_active);
  EXPECT_FALSE(inactive.card_expired);
  EXPECT_TRUE(s.parents[2].children[0].card_expired);
  EXPECT_TRUE(s.parents[0].children[0].card_active);
}

TEST(ParseFixturesTest, NamesTheMissingOrMistypedField) {
  struct Case {
    std::function<void(json::object&)> damage;
    std::string field;
  };
  auto parent = [](json::object& root, size_t s, size_t p) -> json::object& {
    return root["schools"].as_array()[s].as_object()["parents"].as_array()[p].as_object();
  };
  const std::vector<Case> cases = {
      {[&](json::object& r) { parent(r, 1, 3).erase("email"); }, "schools[1].parents[3].email"},
      {[&](json::object& r) { parent(r, 0, 1)["password"] = 7; }, "schools[0].parents[1].password"},
      {[&](json::object& r) {
         parent(r, 1, 0)["children"].as_array()[1].as_object()["cardActive"] = "yes";
       },
       "schools[1].parents[0].children[1].cardActive"},
      {[&](json::object& r) { parent(r, 0, 0)["children"] = "none"; },
       "schools[0].parents[0].children"},
      {[](json::object& r) { r.erase("baseDate"); }, "baseDate"},
      {[](json::object& r) { r["baseDate"] = "2026-13-01"; }, "baseDate"},
      {[](json::object& r) { r["admin"].as_object().erase("id"); }, "admin.id"},
      {[](json::object& r) { r["schools"] = json::object{}; }, "schools"},
      {[](json::object& r) { r["schools"].as_array()[1] = 3; }, "schools[1]"},
      {[](json::object& r) { r["schools"].as_array()[0].as_object()["timezone"] = "Mars/Olympus"; },
       "schools[0].timezone"},
      {[](json::object& r) {
         r["schools"].as_array()[0].as_object()["kitchenStaff"].as_array()[1].as_object()["email"] =
             nullptr;
       },
       "schools[0].kitchenStaff[1].email"},
      {[](json::object& r) {
         r["schools"].as_array()[1].as_object()["readers"].as_array()[0].as_object().erase("id");
       },
       "schools[1].readers[0].id"},
      {[](json::object& r) {
         r["schools"].as_array()[1].as_object()["menuItemIds"].as_array()[2] = 5;
       },
       "schools[1].menuItemIds[2]"},
  };
  for (const Case& c : cases) {
    json::object root = FixturesJson();
    c.damage(root);
    StatusOr<Fixtures> f = ParseFixtures(json::serialize(root));
    ASSERT_FALSE(f.ok()) << c.field;
    EXPECT_EQ(f.status().code(), StatusCode::kInvalidArgument) << c.field;
    EXPECT_THAT(f.status().message(), HasSubstr(c.field + " ")) << f.status().message();
  }
}

TEST(ParseFixturesTest, RefusesWhatIsNotAnObjectOfJson) {
  for (std::string_view text : {"", "{", "[]", "\"fixtures\"", "{\"baseDate\":}"}) {
    StatusOr<Fixtures> f = ParseFixtures(text);
    ASSERT_FALSE(f.ok()) << text;
    EXPECT_EQ(f.status().code(), StatusCode::kInvalidArgument) << text;
  }
}

// ---- PrepareScenarios ----

TEST(PrepareScenariosTest, PreparesAllTenFunctionsThatEachGetTheirStatus) {
  const Fixtures fx = MakeFixtures();
  FakeServer server(fx);
  ScriptTodayOrders(server);
  StatusOr<PreparedScenarios> p = PrepareScenarios(fx, server, Options());
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_THAT(p->skipped, ::testing::IsEmpty());
  ASSERT_EQ(p->scenarios.size(), kFunctions.size());
  for (size_t i = 0; i < kFunctions.size(); ++i) {
    EXPECT_EQ(p->scenarios[i].function, kFunctions[i]);
  }
  // What setup sent is what it counted; its writes are the payment functions' orders, payment
  // orders and simulated checkouts.
  EXPECT_EQ(p->setup_requests, server.requests.size());
  EXPECT_EQ(p->setup_writes, 5u + 3u * 5u);
  int orders_made = 0;
  for (const Request& r : server.requests) {
    orders_made += r.method == "POST" && r.target == "/api/v1/orders";
  }
  EXPECT_EQ(orders_made, 10);
  EXPECT_EQ(server.CountTo("/api/v1/payments/orders"), 5);
  EXPECT_EQ(server.CountTo("/api/v1/payments/simulate"), 5);
  for (const Request& r : server.requests) {
    EXPECT_EQ(HeaderOf(r, "Accept-Encoding"), "") << r.target << ": setup reads plain answers";
  }

  const std::map<std::string, std::pair<bool, int>> kind = {{"auth-register", {true, 201}},
                                                            {"auth-login", {false, 200}},
                                                            {"users-get", {false, 200}},
                                                            {"menus-daily", {false, 200}},
                                                            {"orders-list", {false, 200}},
                                                            {"orders-create", {true, 201}},
                                                            {"payments-create-order", {true, 201}},
                                                            {"payments-verify", {true, 200}},
                                                            {"rfid-verify-card", {true, 200}},
                                                            {"monitoring-dashboard", {false, 200}}};
  const size_t setup_sent = server.requests.size();
  for (const Scenario& sc : p->scenarios) {
    EXPECT_EQ(sc.writes, kind.at(sc.function).first) << sc.function;
    EXPECT_EQ(sc.expected_status, kind.at(sc.function).second) << sc.function;
    ASSERT_FALSE(sc.requests.empty()) << sc.function;
    for (const Request& r : sc.requests) {
      EXPECT_EQ(HeaderOf(r, "Accept-Encoding"), "br, gzip") << sc.function;
      EXPECT_EQ(r.target.rfind("/api/v1/", 0), 0u) << r.target;
      StatusOr<Response> got = server.Send(r);
      ASSERT_TRUE(got.ok());
      EXPECT_EQ(got->status, sc.expected_status)
          << sc.function << " " << r.target << " " << r.body << " -> " << got->body;
    }
  }
  // The writes were fresh: sent again, each is refused or answered as a repeat.
  const Scenario& rfid = *Find(*p, "rfid-verify-card");
  EXPECT_EQ(server.Send(rfid.requests[0])->status, 409);
  const Scenario& pay = *Find(*p, "payments-create-order");
  EXPECT_EQ(server.Send(pay.requests[0])->status, 200);
  const Scenario& reg = *Find(*p, "auth-register");
  EXPECT_EQ(server.Send(reg.requests[0])->status, 409);
  EXPECT_GT(server.requests.size(), setup_sent);
}

TEST(PrepareScenariosTest, WritesAreUniqueAndAsManyAsAsked) {
  const Fixtures fx = MakeFixtures();
  FakeServer server(fx);
  ScriptTodayOrders(server);
  StatusOr<PreparedScenarios> p = PrepareScenarios(fx, server, Options(7));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  for (std::string_view f :
       {"auth-register", "orders-create", "payments-create-order", "payments-verify"}) {
    ASSERT_NE(Find(*p, f), nullptr) << f;
    EXPECT_EQ(Find(*p, f)->requests.size(), 7u) << f;
    std::set<std::string> bodies;
    for (const Request& r : Find(*p, f)->requests) bodies.insert(r.body);
    EXPECT_EQ(bodies.size(), 7u) << f;  // a different thing each
  }
  std::set<std::string> emails;
  for (const Request& r : Find(*p, "auth-register")->requests) {
    const json::object body = json::parse(r.body).as_object();
    const std::string email(body.at("email").as_string());
    EXPECT_THAT(email, ::testing::MatchesRegex("bench-t-1-[0-9]+@bench\\.hasivu\\.test"));
    emails.insert(email);
  }
  EXPECT_EQ(emails.size(), 7u);
  // Idempotency keys: unique over the scenario's orders and the setup's orders alike.
  std::set<std::string> keys;
  for (const Request& r : Find(*p, "orders-create")->requests) {
    const std::string key = HeaderOf(r, "Idempotency-Key");
    EXPECT_THAT(key, HasSubstr("t-1"));
    keys.insert(key);
  }
  EXPECT_EQ(keys.size(), 7u);
  for (const std::string& k : server.idempotency_keys) EXPECT_EQ(keys.count(k), 0u) << k;
  EXPECT_EQ(server.idempotency_keys.size(), 14u);  // the orders the payment functions pay

  // Cards: only deliverable orders of active, unexpired cards, each once, scanned by the card's
  // school's kitchen with one of its readers.
  const Scenario& rfid = *Find(*p, "rfid-verify-card");
  std::vector<std::string> cards;
  for (const Request& r : rfid.requests) {
    const json::object body = json::parse(r.body).as_object();
    const std::string card(body.at("cardNumber").as_string());
    cards.push_back(card);
    const std::string school = card.substr(5, 2) == "S1" ? "s1" : "s2";
    EXPECT_EQ(HeaderOf(r, "Authorization"), "Bearer tok:k1@" + school + ".test");
    EXPECT_EQ(std::string(body.at("readerId").as_string()).rfind(school + "-r", 0), 0u);
  }
  EXPECT_THAT(cards, ::testing::UnorderedElementsAre("RFID-S1-1", "RFID-S1-2", "RFID-S2-5"));
}

TEST(PrepareScenariosTest, ReadsRotateOverTheLoggedInParentsOfEverySchool) {
  const Fixtures fx = MakeFixtures();
  FakeServer server(fx);
  StatusOr<PreparedScenarios> p = PrepareScenarios(fx, server, [] {
    ScenarioOptions o = Options(2, 3);
    o.functions = {"auth-login", "users-get", "menus-daily", "orders-list"};
    return o;
  }());
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  // read_variety = 3: three parents logged in, from both schools, and nobody else.
  EXPECT_EQ(server.CountTo("/api/v1/auth/login"), 3);
  std::set<std::string> logged;
  for (const Request& r : server.requests) {
    if (PathOf(r.target) == "/api/v1/auth/login") {
      logged.emplace(json::parse(r.body).at("email").as_string());
    }
  }
  EXPECT_THAT(logged, ::testing::UnorderedElementsAre("p1@s1.test", "p1@s2.test", "p2@s1.test"));
  for (const Scenario& sc : p->scenarios) {
    EXPECT_EQ(sc.requests.size(), 3u) << sc.function;
    std::set<std::pair<std::string, std::string>> distinct;
    for (const Request& r : sc.requests) {
      distinct.insert({HeaderOf(r, "Authorization") + r.target, r.body});
    }
    EXPECT_EQ(distinct.size(), 3u) << sc.function;
  }
  // menus-daily asks for days with a published menu (the fake has none on Friday the 27th).
  for (const Request& r : Find(*p, "menus-daily")->requests) {
    EXPECT_EQ(QueryOf(r.target).count("date"), 1u);
    EXPECT_NE(QueryOf(r.target)["date"], "2026-11-27");
  }
  EXPECT_THAT(p->skipped, ::testing::IsEmpty());
  EXPECT_EQ(p->setup_writes, 0u);
}

TEST(PrepareScenariosTest, MixedReadsTakeTheThreeReadsInTurn) {
  const Fixtures fx = MakeFixtures();
  for (const std::vector<std::string>& asked :
       {std::vector<std::string>{"reads-mixed"},
        std::vector<std::string>{"orders-list", "reads-mixed", "users-get"}}) {
    FakeServer server(fx);
    ScenarioOptions o = Options(2, 3);
    o.functions = asked;
    StatusOr<PreparedScenarios> p = PrepareScenarios(fx, server, o);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    EXPECT_THAT(p->skipped, ::testing::IsEmpty());
    // Only what was asked for is a scenario; the mixed one comes after the ten.
    ASSERT_EQ(p->scenarios.size(), asked.size());
    EXPECT_EQ(p->scenarios.back().function, "reads-mixed");
    const Scenario& mixed = p->scenarios.back();
    ASSERT_EQ(mixed.requests.size(), 9u);  // three of each at read_variety 3
    for (size_t i = 0; i < mixed.requests.size(); ++i) {
      const std::string path = PathOf(mixed.requests[i].target);
      switch (i % 3) {
        case 0:
          EXPECT_EQ(path.rfind("/api/v1/users/", 0), 0u) << path;
          break;
        case 1:
          EXPECT_EQ(path, "/api/v1/menus/daily");
          break;
        default:
          EXPECT_EQ(path, "/api/v1/orders");
          break;
      }
      EXPECT_EQ(mixed.expected_status, 200);
      EXPECT_FALSE(mixed.writes);
    }
    if (const Scenario* alone = Find(*p, "orders-list")) {
      // The same requests as the function alone.
      EXPECT_EQ(alone->requests[0].target, mixed.requests[2].target);
    }
  }
}

TEST(PrepareScenariosTest, OnlyWhatIsAskedForIsPreparedAndLoggedIn) {
  const Fixtures fx = MakeFixtures();
  FakeServer server(fx);
  ScenarioOptions o = Options();
  o.functions = {"monitoring-dashboard", "auth-register"};
  o.accept_encoding = "";
  StatusOr<PreparedScenarios> p = PrepareScenarios(fx, server, o);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_EQ(p->scenarios.size(), 2u);
  EXPECT_EQ(p->scenarios[0].function, "auth-register");  // kFunctions order
  EXPECT_EQ(p->scenarios[1].function, "monitoring-dashboard");
  EXPECT_EQ(p->setup_requests, 1u);  // the admin's login
  for (const Scenario& sc : p->scenarios) {
    for (const Request& r : sc.requests) EXPECT_EQ(HeaderOf(r, "Accept-Encoding"), "");
  }
}

TEST(PrepareScenariosTest, WithoutTheSimulatedGatewayPaymentsVerifyIsSkipped) {
  const Fixtures fx = MakeFixtures();
  FakeServer server(fx);
  server.simulated = false;
  ScriptTodayOrders(server);
  StatusOr<PreparedScenarios> p = PrepareScenarios(fx, server, Options());
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(Find(*p, "payments-verify"), nullptr);
  EXPECT_NE(Find(*p, "payments-create-order"), nullptr);
  EXPECT_EQ(p->scenarios.size(), 9u);
  ASSERT_EQ(p->skipped.size(), 1u);
  EXPECT_THAT(p->skipped[0], HasSubstr("payments-verify: "));
  EXPECT_THAT(p->skipped[0], HasSubstr("simulated"));
  // It stopped at the first checkout: one order and one payment order spent on finding out.
  EXPECT_EQ(server.CountTo("/api/v1/payments/simulate"), 1);
  EXPECT_EQ(p->setup_writes, 5u + 3u);
}

TEST(PrepareScenariosTest, WithNoCardToScanTodayRfidIsSkipped) {
  const Fixtures fx = MakeFixtures();
  FakeServer server(fx);
  server.today_orders["s1"].push_back({"o4", "s1-c4", "ready", "paid", "2026-11-25"});  // expired
  ScenarioOptions o = Options();
  o.functions = {"rfid-verify-card"};
  StatusOr<PreparedScenarios> p = PrepareScenarios(fx, server, o);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_THAT(p->scenarios, ::testing::IsEmpty());
  ASSERT_EQ(p->skipped.size(), 1u);
  EXPECT_THAT(p->skipped[0], HasSubstr("rfid-verify-card: "));
  EXPECT_THAT(p->skipped[0], HasSubstr("today"));
}

TEST(PrepareScenariosTest, ARefusedLoginIsAnErrorOfTheSetup) {
  const Fixtures fx = MakeFixtures();
  FakeServer server(fx);
  server.refused_logins.insert("p1@s2.test");
  StatusOr<PreparedScenarios> p = PrepareScenarios(fx, server, Options());
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kUnauthenticated);
  EXPECT_THAT(p.status().message(), HasSubstr("p1@s2.test"));
  EXPECT_THAT(p.status().message(), HasSubstr("401 INVALID_CREDENTIALS"));
}

TEST(PrepareScenariosTest, AnUnreachableServerIsAnErrorOfTheSetup) {
  const Fixtures fx = MakeFixtures();
  FakeServer server(fx);
  server.unreachable = true;
  StatusOr<PreparedScenarios> p = PrepareScenarios(fx, server, Options());
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(p.status().message(), HasSubstr("connection refused"));
}

TEST(PrepareScenariosTest, AnUnexpectedAnswerInAFunctionsSetupSkipsThatFunction) {
  const Fixtures fx = MakeFixtures();
  FakeServer server(fx);
  ScenarioOptions o = Options();
  o.functions = {"payments-create-order", "monitoring-dashboard"};
  StatusOr<PreparedScenarios> ok = PrepareScenarios(fx, server, o);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->scenarios.size(), 2u);

  // Children the server does not see as the parent's: orders-create answers 404.
  Fixtures foreign = fx;
  for (FixtureSchool& s : foreign.schools) {
    for (FixtureParent& p : s.parents) {
      for (FixtureChild& c : p.children) c.id += "-elsewhere";
    }
  }
  StatusOr<PreparedScenarios> p = PrepareScenarios(foreign, server, o);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_EQ(p->scenarios.size(), 1u);
  EXPECT_EQ(p->scenarios[0].function, "monitoring-dashboard");
  ASSERT_EQ(p->skipped.size(), 1u);
  EXPECT_THAT(p->skipped[0], HasSubstr("payments-create-order: setup got 404 STUDENT_NOT_FOUND"));
}

TEST(PrepareScenariosTest, RefusesBadOptions) {
  const Fixtures fx = MakeFixtures();
  FakeServer server(fx);
  std::vector<ScenarioOptions> bad(5, Options());
  bad[0].run_tag = "";
  bad[1].run_tag = "Upper";
  bad[2].run_tag = std::string(33, 'a');
  bad[3].functions = {"orders-delete"};
  bad[4].read_variety = 0;
  for (const ScenarioOptions& o : bad) {
    StatusOr<PreparedScenarios> p = PrepareScenarios(fx, server, o);
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  }
  EXPECT_TRUE(server.requests.empty());
}

TEST(IsFunctionTest, KnowsTheTen) {
  for (std::string_view f : kFunctions) EXPECT_TRUE(IsFunction(f)) << f;
  EXPECT_TRUE(IsFunction(kMixedReads));
  EXPECT_FALSE(IsFunction("orders"));
  EXPECT_FALSE(IsFunction(""));
}

}  // namespace
}  // namespace hasivu::bench

namespace hasivu::bench {
namespace {

TEST(SplitFirstScansTest, EachSideGetsItsOwnHalfOfTheScansAndNothingElseChanges) {
  const auto side = [](const std::string& tag, size_t scans) {
    PreparedScenarios p;
    Scenario orders;
    orders.function = "orders-create";
    orders.requests.resize(4);
    for (Request& r : orders.requests) r.body = tag;
    Scenario rfid;
    rfid.function = "rfid-verify-card";
    for (size_t i = 0; i < scans; ++i) {
      Request r;
      r.body = tag + std::to_string(i);
      rfid.requests.push_back(std::move(r));
    }
    p.scenarios = {orders, rfid};
    return p;
  };
  PreparedScenarios ours = side("a", 5);
  PreparedScenarios theirs = side("b", 5);
  SplitFirstScans(ours, theirs);
  const auto bodies = [](const Scenario& s) {
    std::vector<std::string> out;
    for (const Request& r : s.requests) out.push_back(r.body);
    return out;
  };
  EXPECT_THAT(bodies(ours.scenarios[1]), ::testing::ElementsAre("a0", "a1"));
  EXPECT_THAT(bodies(theirs.scenarios[1]), ::testing::ElementsAre("a2", "a3", "a4"));
  EXPECT_THAT(bodies(ours.scenarios[0]), ::testing::Each("a"));
  EXPECT_THAT(bodies(theirs.scenarios[0]), ::testing::Each("b"));

  // Without the function on one side, both stay as they were.
  PreparedScenarios only_orders = side("c", 0);
  only_orders.scenarios.pop_back();
  PreparedScenarios full = side("d", 4);
  SplitFirstScans(full, only_orders);
  EXPECT_EQ(full.scenarios[1].requests.size(), 4u);
}

}  // namespace
}  // namespace hasivu::bench
