// orders-create, orders-list, GET /orders/{id} and PATCH /orders/{id}/status through a seeded
// server, on both backends: success paths, every error code, concurrency (last units of a
// limited slot, one Idempotency-Key), tenancy and hostile input.
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/api_fixture.h"

namespace hasivu::testing {
namespace {

namespace json = boost::json;

std::string Fields(const ApiResponse& r) {
  std::string out;
  if (!r.json.is_object()) return out;
  const json::value* details = r.json.at("error").as_object().if_contains("details");
  if (details == nullptr) return out;
  for (const json::value& d : details->as_array()) {
    out += std::string(d.at("field").as_string()) + " ";
  }
  return out;
}

// The value of the /metrics sample `series` (name and labels as rendered); 0 when absent.
double Sample(const std::string& metrics, const std::string& series) {
  const size_t at = metrics.find("\n" + series + " ");
  if (at == std::string::npos) return 0;
  return std::strtod(metrics.c_str() + at + series.size() + 2, nullptr);
}

class OrdersApiTest : public ApiSuite {
 protected:
  const json::value& School(size_t i) { return Fixtures().at("schools").at(i); }
  std::string SchoolId(size_t i) { return Str(School(i), "id"); }
  const json::value& Parent(size_t school, size_t i = 0) {
    return School(school).at("parents").at(i);
  }
  std::string ChildId(size_t school, size_t parent = 0) {
    return Str(Parent(school, parent).at("children").at(0), "id");
  }
  std::string Base() { return std::string(Fixtures().at("baseDate").as_string()); }

  // The published menu of school `s` on `date`.
  json::array MenuItems(size_t s, const std::string& date, const std::string& token) {
    ApiResponse r =
        Call("GET", "/api/v1/menus/daily?schoolId=" + SchoolId(s) + "&date=" + date, token);
    EXPECT_EQ(r.status, 200) << r.body;
    if (r.status != 200) return {};
    return r.Data().at("items").as_array();
  }

  static json::object OrderBody(const std::string& student, const std::string& date,
                                json::array items) {
    return json::object{{"studentId", student}, {"deliveryDate", date}, {"items", items}};
  }

  // Publishes a menu of school 0 on `date` with the given slots (school admin).
  void PutMenu(const std::string& date, json::array items, bool publish = true) {
    ApiResponse r = Call("PUT", "/api/v1/menus/daily", Login(School(0).at("schoolAdmin")),
                         Json(json::object{{"schoolId", SchoolId(0)},
                                           {"date", date},
                                           {"publish", publish},
                                           {"items", std::move(items)}}));
    ASSERT_EQ(r.status, 200) << r.body;
  }
  std::string Item(size_t school, size_t i) {
    return std::string(School(school).at("menuItemIds").at(i).as_string());
  }
};

TEST_F(OrdersApiTest, CreatesAnOrderPricedByTheServer) {
  const std::string token = Login(Parent(0));
  const std::string date = NextWeekday(Base(), 2);
  json::array menu = MenuItems(0, date, token);
  ASSERT_GE(menu.size(), 2u);
  // Pick two items without a per-order limit below 2.
  std::vector<json::object> picks;
  for (const json::value& v : menu) {
    const json::object& m = v.as_object();
    if (m.at("maxPerOrder").is_null() &&
        (m.at("availableQuantity").is_null() || m.at("availableQuantity").as_int64() >= 10)) {
      picks.push_back(m);
    }
    if (picks.size() == 2) break;
  }
  ASSERT_EQ(picks.size(), 2u);
  const std::string notes = "no onions'); DELETE FROM orders; -- \"quoted\" \\ %_";
  json::object body = OrderBody(
      ChildId(0), date,
      json::array{json::object{{"menuItemId", picks[0].at("menuItemId")},
                               {"quantity", 2},
                               {"notes", notes},
                               {"unitPrice", 1},
                               {"price", 1}},
                  json::object{{"menuItemId", picks[1].at("menuItemId")}, {"quantity", 1}}});
  body["specialInstructions"] = "Robert'); DROP TABLE students;--";
  body["allergyInfo"] = "peanuts; 1=1 OR ''=''";
  body["totalAmount"] = 1;
  const std::string metrics_before = Call("GET", "/metrics").body;
  ApiResponse r = Call("POST", "/api/v1/orders", token, Json(body));
  ASSERT_EQ(r.status, 201) << r.body;
  const json::object& order = r.Data().at("order").as_object();
  // The business event with its amount, and the orders-create flow to its last checkpoint.
  const std::string metrics_after = Call("GET", "/metrics").body;
  for (const std::string series :
       {"hasivu_business_events_total{event=\"order_created\"}",
        "hasivu_flow_cumulative_duration_seconds_count{checkpoint=\"invalidated\","
        "flow=\"orders_create\"}"}) {
    EXPECT_EQ(Sample(metrics_after, series), Sample(metrics_before, series) + 1) << series;
  }
  const std::string amount = "hasivu_business_amount_paise_total{event=\"order_created\"}";
  EXPECT_EQ(Sample(metrics_after, amount),
            Sample(metrics_before, amount) + order.at("totalAmount").as_int64());
  const std::string id(order.at("id").as_string());
  EXPECT_EQ(r.Header("location"), "/api/v1/orders/" + id);
  EXPECT_TRUE(std::regex_match(std::string(order.at("orderNumber").as_string()),
                               std::regex("ORD-[0-9]{8}-[A-Z0-9]{8}")));
  EXPECT_EQ(order.at("status").as_string(), "pending");
  EXPECT_EQ(order.at("paymentStatus").as_string(), "pending");
  EXPECT_EQ(order.at("deliveryDate").as_string(), date);
  EXPECT_EQ(order.at("currency").as_string(), "INR");
  EXPECT_EQ(order.at("itemCount").as_int64(), 2);
  EXPECT_EQ(order.at("school").at("id").as_string(), SchoolId(0));
  EXPECT_EQ(order.at("student").at("id").as_string(), ChildId(0));
  const int64_t p0 = picks[0].at("price").as_int64();
  const int64_t p1 = picks[1].at("price").as_int64();
  EXPECT_EQ(order.at("totalAmount").as_int64(), 2 * p0 + p1);
  const json::array& items = order.at("items").as_array();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].at("unitPrice").as_int64(), p0);
  EXPECT_EQ(items[0].at("totalPrice").as_int64(), 2 * p0);
  EXPECT_EQ(items[0].at("name").as_string(), picks[0].at("name").as_string());
  EXPECT_EQ(items[0].at("notes").as_string(), notes);
  EXPECT_TRUE(items[1].at("notes").is_null());

  ApiResponse got = Call("GET", "/api/v1/orders/" + id, token);
  ASSERT_EQ(got.status, 200) << got.body;
  const json::object& stored = got.Data().at("order").as_object();
  EXPECT_EQ(stored.at("specialInstructions").as_string(), "Robert'); DROP TABLE students;--");
  EXPECT_EQ(stored.at("allergyInfo").as_string(), "peanuts; 1=1 OR ''=''");
  EXPECT_EQ(stored.at("items").at(0).at("notes").as_string(), notes);
  EXPECT_EQ(stored.at("totalAmount").as_int64(), 2 * p0 + p1);
  EXPECT_EQ(stored.at("items").at(1).at("menuItemId"), picks[1].at("menuItemId"));
}

TEST_F(OrdersApiTest, OrderItemsAliasAndStudentOrderingForThemself) {
  const json::value& child = Parent(0, 1).at("children").at(0);
  const std::string token = Login(child);
  const std::string date = NextWeekday(Base(), 3);
  json::array menu = MenuItems(0, date, token);
  ASSERT_FALSE(menu.empty());
  json::object body{
      {"studentId", Str(child, "id")},
      {"deliveryDate", date},
      {"orderItems",
       json::array{json::object{{"menuItemId", menu[0].at("menuItemId")}, {"quantity", 1}}}}};
  ApiResponse r = Call("POST", "/api/v1/orders", token, Json(body));
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.Data().at("order").at("itemCount").as_int64(), 1);
}

TEST_F(OrdersApiTest, ValidationErrorsNameTheirFields) {
  const std::string token = Login(Parent(0));
  const std::string date = NextWeekday(Base(), 2);
  const std::string item = Item(0, 0);
  struct Case {
    std::string body;
    std::string field;
  };
  const std::vector<Case> cases = {
      {"{}", "studentId"},
      {Json(OrderBody("not-a-uuid", date,
                      json::array{json::object{{"menuItemId", item}, {"quantity", 1}}})),
       "studentId"},
      {Json(OrderBody(ChildId(0), "2026-13-01",
                      json::array{json::object{{"menuItemId", item}, {"quantity", 1}}})),
       "deliveryDate"},
      {Json(OrderBody(ChildId(0), date, json::array{})), "items"},
      {Json(OrderBody(ChildId(0), date,
                      json::array{json::object{{"menuItemId", item}, {"quantity", 1}},
                                  json::object{{"menuItemId", item}, {"quantity", 1}},
                                  json::object{{"menuItemId", item}, {"quantity", 11}}})),
       "items[2].quantity"},
      {Json(OrderBody(ChildId(0), date,
                      json::array{json::object{{"menuItemId", item}, {"quantity", 0}}})),
       "items[0].quantity"},
      {Json(OrderBody(ChildId(0), date,
                      json::array{json::object{{"menuItemId", item}, {"quantity", "2"}}})),
       "items[0].quantity"},
      {Json(OrderBody(ChildId(0), date,
                      json::array{json::object{{"menuItemId", item}, {"quantity", 1.5}}})),
       "items[0].quantity"},
      {Json(OrderBody(ChildId(0), date,
                      json::array{json::object{{"menuItemId", 7}, {"quantity", 1}}})),
       "items[0].menuItemId"},
      {Json(OrderBody(
           ChildId(0), date,
           json::array{json::object{
               {"menuItemId", item}, {"quantity", 1}, {"notes", std::string(501, 'n')}}})),
       "items[0].notes"},
      {Json(OrderBody(ChildId(0), date, json::array{"x"})), "items[0]"},
  };
  for (const Case& c : cases) {
    ApiResponse r = Call("POST", "/api/v1/orders", token, c.body);
    EXPECT_EQ(r.status, 400) << c.body << " -> " << r.body;
    EXPECT_EQ(r.ErrorCode(), "VALIDATION_ERROR") << c.body;
    EXPECT_NE(Fields(r).find(c.field), std::string::npos) << c.field << " in " << r.body;
  }
  json::array many;
  for (int i = 0; i < 21; ++i) many.push_back(json::object{{"menuItemId", item}, {"quantity", 1}});
  ApiResponse r = Call("POST", "/api/v1/orders", token, Json(OrderBody(ChildId(0), date, many)));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Fields(r), "items ");
  r = Call("POST", "/api/v1/orders", token, "{\"studentId\":");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.ErrorCode(), "INVALID_JSON");
  EXPECT_EQ(Call("POST", "/api/v1/orders", "", "{}").status, 401);
}

TEST_F(OrdersApiTest, DeliveryDateMustBeAWeekdayFromTomorrowToThirtyDays) {
  const std::string token = Login(Parent(0));
  const std::string item = Item(0, 0);
  for (const std::string& date : {Base(), AddDays(Base(), -3), NextWeekend(Base()),
                                  AddDays(Base(), 31), AddDays(Base(), 120)}) {
    ApiResponse r =
        Call("POST", "/api/v1/orders", token,
             Json(OrderBody(ChildId(0), date,
                            json::array{json::object{{"menuItemId", item}, {"quantity", 1}}})));
    EXPECT_EQ(r.status, 422) << date << " " << r.body;
    EXPECT_EQ(r.ErrorCode(), "INVALID_DELIVERY_DATE") << date;
    EXPECT_EQ(Fields(r), "deliveryDate ") << date;
  }
}

TEST_F(OrdersApiTest, ItemsMustBeOnThatDaysPublishedMenu) {
  const std::string token = Login(Parent(0));
  const std::string date = NextWeekday(Base(), 2);
  json::array menu = MenuItems(0, date, token);
  std::set<std::string> on_menu;
  for (const json::value& v : menu) on_menu.insert(std::string(v.at("menuItemId").as_string()));
  std::string off_menu;
  for (const json::value& v : School(0).at("menuItemIds").as_array()) {
    if (!on_menu.count(std::string(v.as_string()))) off_menu = std::string(v.as_string());
  }
  ASSERT_FALSE(off_menu.empty());
  for (const std::string& item :
       {off_menu, Item(1, 0), std::string("0190f5a0-0000-7000-8000-0000000000aa")}) {
    ApiResponse r = Call(
        "POST", "/api/v1/orders", token,
        Json(OrderBody(
            ChildId(0), date,
            json::array{json::object{{"menuItemId", menu[0].at("menuItemId")}, {"quantity", 1}},
                        json::object{{"menuItemId", item}, {"quantity", 1}}})));
    EXPECT_EQ(r.status, 422) << r.body;
    EXPECT_EQ(r.ErrorCode(), "ITEM_NOT_ON_MENU");
    EXPECT_EQ(Fields(r), "items[1].menuItemId ");
  }
  // No menu at all that day (the demo menus end 20 days ahead), and a draft menu.
  const std::string no_menu = NextWeekday(Base(), 23);
  ApiResponse r =
      Call("POST", "/api/v1/orders", token,
           Json(OrderBody(ChildId(0), no_menu,
                          json::array{json::object{{"menuItemId", Item(0, 0)}, {"quantity", 1}}})));
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(r.ErrorCode(), "MENU_NOT_AVAILABLE");
  const std::string draft_day = NextWeekday(Base(), 24);
  PutMenu(draft_day, json::array{json::object{{"menuItemId", Item(0, 0)}, {"category", "LUNCH"}}},
          /*publish=*/false);
  r = Call("POST", "/api/v1/orders", token,
           Json(OrderBody(ChildId(0), draft_day,
                          json::array{json::object{{"menuItemId", Item(0, 0)}, {"quantity", 1}}})));
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(r.ErrorCode(), "MENU_NOT_AVAILABLE");
}

TEST_F(OrdersApiTest, WhoMayOrderForAStudent) {
  const std::string date = NextWeekday(Base(), 2);
  const std::string item =
      std::string(MenuItems(0, date, Login(Parent(0)))[0].at("menuItemId").as_string());
  const std::string body = Json(OrderBody(
      ChildId(0), date, json::array{json::object{{"menuItemId", item}, {"quantity", 1}}}));
  // Another parent (of the other school) cannot see the student: 404.
  ApiResponse r = Call("POST", "/api/v1/orders", Login(Parent(1)), body);
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_EQ(r.ErrorCode(), "STUDENT_NOT_FOUND");
  // Nor when it claims to be the parent through a header.
  r = Call("POST", "/api/v1/orders", Login(Parent(1)), body,
           {"X-User-Id: " + Str(Parent(0), "id"), "X-User-Role: admin"});
  EXPECT_EQ(r.status, 404) << r.body;
  // Kitchen staff of the school see the student but may not order: 403.
  r = Call("POST", "/api/v1/orders", Login(School(0).at("kitchenStaff").at(0)), body);
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(r.ErrorCode(), "FORBIDDEN");
  // A parent is no student.
  r = Call("POST", "/api/v1/orders", Login(Parent(0)),
           Json(OrderBody(Str(Parent(0), "id"), date,
                          json::array{json::object{{"menuItemId", item}, {"quantity", 1}}})));
  EXPECT_EQ(r.status, 404) << r.body;
  // The school admin and the platform admin may.
  EXPECT_EQ(Call("POST", "/api/v1/orders", Login(School(0).at("schoolAdmin")), body).status, 201);
  EXPECT_EQ(Call("POST", "/api/v1/orders", Login(Fixtures().at("admin")), body).status, 201);
}

TEST_F(OrdersApiTest, LastUnitOfALimitedSlotGoesToExactlyOneOrder) {
  const std::string date = NextWeekday(Base(), 22);
  PutMenu(
      date,
      json::array{
          json::object{{"menuItemId", Item(0, 0)}, {"category", "LUNCH"}, {"availableQuantity", 1}},
          json::object{{"menuItemId", Item(0, 1)}, {"category", "LUNCH"}, {"maxPerOrder", 2}}});
  const std::string token = Login(Parent(0));
  const std::string body =
      Json(OrderBody(ChildId(0), date,
                     json::array{json::object{{"menuItemId", Item(0, 1)}, {"quantity", 1}},
                                 json::object{{"menuItemId", Item(0, 0)}, {"quantity", 1}}}));
  constexpr int kClients = 8;
  std::vector<ApiResponse> answers(kClients);
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] { answers[i] = Call("POST", "/api/v1/orders", token, body); });
  }
  for (std::thread& t : threads) t.join();
  int created = 0, sold_out = 0;
  std::string order_id;
  for (const ApiResponse& a : answers) {
    if (a.status == 201) {
      ++created;
      order_id = std::string(a.Data().at("order").at("id").as_string());
    } else if (a.status == 409 && a.ErrorCode() == "SOLD_OUT") {
      ++sold_out;
      EXPECT_EQ(Fields(a), "items[1].menuItemId ");
    } else {
      ADD_FAILURE() << a.status << " " << a.body;
    }
  }
  EXPECT_EQ(created, 1);
  EXPECT_EQ(sold_out, kClients - 1);
  json::array menu = MenuItems(0, date, token);
  auto remaining = [&](const json::array& items) {
    for (const json::value& v : items) {
      if (v.at("menuItemId").as_string() == Item(0, 0)) return v.at("availableQuantity").as_int64();
    }
    return int64_t{-1};
  };
  EXPECT_EQ(remaining(menu), 0);
  // A quantity above the slot's per-order limit.
  ApiResponse r =
      Call("POST", "/api/v1/orders", token,
           Json(OrderBody(ChildId(0), date,
                          json::array{json::object{{"menuItemId", Item(0, 1)}, {"quantity", 3}}})));
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(r.ErrorCode(), "MAX_PER_ORDER_EXCEEDED");
  // Cancelling gives the unit back.
  ASSERT_FALSE(order_id.empty());
  r = Call("PATCH", "/api/v1/orders/" + order_id + "/status", token, "{\"status\":\"cancelled\"}");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Data().at("order").at("status").as_string(), "cancelled");
  EXPECT_EQ(remaining(MenuItems(0, date, token)), 1);
  // A second cancel is not a transition.
  r = Call("PATCH", "/api/v1/orders/" + order_id + "/status", token, "{\"status\":\"cancelled\"}");
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(r.ErrorCode(), "INVALID_STATUS_TRANSITION");
}

TEST_F(OrdersApiTest, OneIdempotencyKeyMakesOneOrder) {
  const std::string token = Login(Parent(0, 2));
  const std::string student = ChildId(0, 2);
  const std::string date = NextWeekday(Base(), 4);
  json::array menu = MenuItems(0, date, token);
  ASSERT_FALSE(menu.empty());
  const std::string body = Json(OrderBody(
      student, date,
      json::array{json::object{{"menuItemId", menu[0].at("menuItemId")}, {"quantity", 1}}}));
  auto count = [&] {
    ApiResponse r = Call("GET",
                         "/api/v1/orders?includeTotal=true&limit=1&studentId=" + student +
                             "&dateFrom=" + date + "&dateTo=" + date,
                         token);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Data().at("pagination").at("total").as_int64();
  };
  const int64_t before = count();
  const std::string key = "Idempotency-Key: order-" + date + "-abc";
  constexpr int kClients = 8;
  std::vector<ApiResponse> answers(kClients);
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back(
        [&, i] { answers[i] = Call("POST", "/api/v1/orders", token, body, {key}); });
  }
  for (std::thread& t : threads) t.join();
  for (const ApiResponse& a : answers) {
    ASSERT_EQ(a.status, 201) << a.body;
    EXPECT_EQ(json::serialize(a.Data()), json::serialize(answers[0].Data()));
    EXPECT_EQ(a.Header("location"), answers[0].Header("location"));
  }
  EXPECT_EQ(count(), before + 1);
  // The same key later replays; with another body it is refused.
  ApiResponse again = Call("POST", "/api/v1/orders", token, body, {key});
  EXPECT_EQ(again.status, 201);
  EXPECT_EQ(json::serialize(again.Data()), json::serialize(answers[0].Data()));
  const std::string other = Json(OrderBody(
      student, date,
      json::array{json::object{{"menuItemId", menu[0].at("menuItemId")}, {"quantity", 2}}}));
  ApiResponse reused = Call("POST", "/api/v1/orders", token, other, {key});
  EXPECT_EQ(reused.status, 422) << reused.body;
  EXPECT_EQ(reused.ErrorCode(), "IDEMPOTENCY_KEY_REUSED");
  EXPECT_EQ(count(), before + 1);
  // Too long a key.
  ApiResponse long_key =
      Call("POST", "/api/v1/orders", token, body, {"Idempotency-Key: " + std::string(256, 'k')});
  EXPECT_EQ(long_key.status, 400);
  EXPECT_EQ(long_key.ErrorCode(), "VALIDATION_ERROR");
}

// "The same key from the same user": another user's request with that key is its own request,
// never a replay of the first user's answer nor a reuse refusal.
TEST_F(OrdersApiTest, AnIdempotencyKeyBelongsToOneUser) {
  const std::string date = NextWeekday(Base(), 6);
  const std::string key = "Idempotency-Key: shared-key-" + date;
  auto order_for = [&](size_t school, size_t parent) {
    const std::string token = Login(Parent(school, parent));
    json::array menu = MenuItems(school, date, token);
    EXPECT_FALSE(menu.empty());
    if (menu.empty()) return ApiResponse{};
    const std::string body = Json(OrderBody(
        ChildId(school, parent), date,
        json::array{json::object{{"menuItemId", menu[0].at("menuItemId")}, {"quantity", 1}}}));
    return Call("POST", "/api/v1/orders", token, body, {key});
  };
  ApiResponse first = order_for(0, 3);
  ASSERT_EQ(first.status, 201) << first.body;
  ApiResponse second = order_for(1, 3);
  ASSERT_EQ(second.status, 201) << second.body;
  EXPECT_NE(second.Data().at("order").at("id"), first.Data().at("order").at("id"));
  EXPECT_EQ(Str(second.Data().at("order"), "studentId"), ChildId(1, 3));
  // Each user's key still replays that user's own order.
  ApiResponse replay = order_for(0, 3);
  ASSERT_EQ(replay.status, 201) << replay.body;
  EXPECT_EQ(replay.Data().at("order").at("id"), first.Data().at("order").at("id"));
}

TEST_F(OrdersApiTest, SqlMetacharactersInTheKeyAndTheStatusAreHarmless) {
  const std::string token = Login(Parent(0, 4));
  const std::string date = NextWeekday(Base(), 7);
  json::array menu = MenuItems(0, date, token);
  ASSERT_FALSE(menu.empty());
  const std::string body = Json(OrderBody(
      ChildId(0, 4), date,
      json::array{json::object{{"menuItemId", menu[0].at("menuItemId")}, {"quantity", 1}}}));
  // A key with quotes is just a key: it makes one order and replays it.
  const std::string key = "Idempotency-Key: k'); DROP TABLE idempotency_keys;--";
  ApiResponse first = Call("POST", "/api/v1/orders", token, body, {key});
  ASSERT_EQ(first.status, 201) << first.body;
  ApiResponse replay = Call("POST", "/api/v1/orders", token, body, {key});
  ASSERT_EQ(replay.status, 201) << replay.body;
  EXPECT_EQ(replay.Data().at("order").at("id"), first.Data().at("order").at("id"));
  // A status with quotes is a field error.
  const std::string id(first.Data().at("order").at("id").as_string());
  ApiResponse status =
      Call("PATCH", "/api/v1/orders/" + id + "/status", Login(School(0).at("kitchenStaff").at(0)),
           Json(json::object{{"status", "preparing'; UPDATE orders SET status='delivered';--"}}));
  EXPECT_EQ(status.status, 400) << status.body;
  EXPECT_EQ(status.ErrorCode(), "VALIDATION_ERROR");
  ExpectCleanError(status);
  ApiResponse after = Call("GET", "/api/v1/orders/" + id, token);
  ASSERT_EQ(after.status, 200) << after.body;
  EXPECT_EQ(after.Data().at("order").at("status"), "pending");
}

TEST_F(OrdersApiTest, OrderErrorBodiesCarryNoInternals) {
  const std::string token = Login(Parent(0));
  ExpectCleanError(Call("GET", "/api/v1/orders?limit=0&sort=sideways", token));
  ExpectCleanError(Call("GET", "/api/v1/orders?cursor=%27%20OR%201%3D1--", token));
  ExpectCleanError(Call("GET", "/api/v1/orders/%27%20OR%201%3D1--", token));
  ExpectCleanError(Call("POST", "/api/v1/orders", token, "{not json"));
  ExpectCleanError(Call("POST", "/api/v1/orders", token, R"({"items":"many"})"));
}

TEST_F(OrdersApiTest, PagesWalkEveryOrderOnceInEachSort) {
  // A parent with several children: their orders are merged into one page order.
  size_t parent = 0;
  while (Parent(0, parent).at("children").as_array().size() < 2) {
    ++parent;
    ASSERT_LT(parent, School(0).at("parents").as_array().size()) << "no parent with 2 children";
  }
  const std::string token = Login(Parent(0, parent));
  for (const std::string sort : {"-createdAt", "createdAt", "deliveryDate", "-deliveryDate"}) {
    ApiResponse first =
        Call("GET", "/api/v1/orders?limit=100&includeTotal=true&sort=" + sort, token);
    ASSERT_EQ(first.status, 200) << first.body;
    const int64_t total = first.Data().at("pagination").at("total").as_int64();
    ASSERT_GT(total, 3);
    ASSERT_LE(total, 100);
    // The parent's children's orders in one page: the order every walk below must reproduce.
    std::vector<std::string> one_page;
    for (const json::value& o : first.Data().at("orders").as_array()) {
      one_page.emplace_back(o.at("id").as_string());
    }
    std::vector<std::string> walked;
    std::set<std::string> seen;
    std::string cursor;
    std::string last_key;
    int pages = 0;
    while (true) {
      std::string path = "/api/v1/orders?limit=3&sort=" + sort;
      if (!cursor.empty()) path += "&cursor=" + cursor;
      ApiResponse r = Call("GET", path, token);
      ASSERT_EQ(r.status, 200) << r.body;
      ++pages;
      const json::object& pg = r.Data().at("pagination").as_object();
      EXPECT_EQ(pg.at("limit").as_int64(), 3);
      EXPECT_FALSE(pg.contains("total"));
      for (const json::value& o : r.Data().at("orders").as_array()) {
        EXPECT_TRUE(seen.insert(std::string(o.at("id").as_string())).second) << "duplicate";
        walked.emplace_back(o.at("id").as_string());
        const std::string key(
            o.at(sort.find("created") != std::string::npos ? "createdAt" : "deliveryDate")
                .as_string());
        if (!last_key.empty()) {
          if (sort[0] == '-') {
            EXPECT_LE(key, last_key);
          } else {
            EXPECT_GE(key, last_key);
          }
        }
        last_key = key;
        EXPECT_EQ(o.at("school").at("id").as_string(), SchoolId(0));
        EXPECT_GE(o.at("itemCount").as_int64(), 1);
      }
      if (!pg.at("hasMore").as_bool()) {
        EXPECT_TRUE(pg.at("nextCursor").is_null());
        break;
      }
      cursor = std::string(pg.at("nextCursor").as_string());
      ASSERT_LT(pages, 1000);
    }
    EXPECT_EQ(static_cast<int64_t>(seen.size()), total) << sort;
    EXPECT_EQ(walked, one_page) << sort;
  }
  // itemCount (kept on the order row) agrees with the order's lines.
  ApiResponse list = Call("GET", "/api/v1/orders?limit=5", token);
  ASSERT_EQ(list.status, 200) << list.body;
  for (const json::value& o : list.Data().at("orders").as_array()) {
    ApiResponse detail =
        Call("GET", "/api/v1/orders/" + std::string(o.at("id").as_string()), token);
    ASSERT_EQ(detail.status, 200) << detail.body;
    EXPECT_EQ(static_cast<int64_t>(detail.Data().at("order").at("items").as_array().size()),
              o.at("itemCount").as_int64());
    EXPECT_EQ(detail.Data().at("order").at("itemCount"), o.at("itemCount"));
  }
}

TEST_F(OrdersApiTest, FiltersNarrowAndInvalidFiltersAnswer400) {
  const std::string admin = Login(Fixtures().at("admin"));
  ApiResponse r = Call(
      "GET", "/api/v1/orders?limit=100&paymentStatus=paid&status=confirmed&schoolId=" + SchoolId(1),
      admin);
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_FALSE(r.Data().at("orders").as_array().empty());
  for (const json::value& o : r.Data().at("orders").as_array()) {
    EXPECT_EQ(o.at("paymentStatus").as_string(), "paid");
    EXPECT_EQ(o.at("status").as_string(), "confirmed");
    EXPECT_EQ(o.at("school").at("id").as_string(), SchoolId(1));
  }
  const std::string from = NextWeekday(Base(), 1);
  const std::string to = NextWeekday(Base(), 5);
  r = Call("GET", "/api/v1/orders?limit=100&dateFrom=" + from + "&dateTo=" + to, admin);
  ASSERT_EQ(r.status, 200) << r.body;
  for (const json::value& o : r.Data().at("orders").as_array()) {
    EXPECT_GE(std::string(o.at("deliveryDate").as_string()), from);
    EXPECT_LE(std::string(o.at("deliveryDate").as_string()), to);
  }
  const std::string token = Login(Parent(0));
  for (const std::string bad :
       {"status=bogus", "paymentStatus=PAID", "studentId=123", "schoolId=x'%20OR%201=1",
        "dateFrom=2026-13-01", "dateTo=yesterday", "sort=price", "limit=0", "limit=101",
        "limit=abc", "limit=-5", "cursor=garbage", "cursor=%ZZ", "includeTotal=maybe", "foo=1",
        "fields=id,password", "limit=5&limit=6"}) {
    ApiResponse e = Call("GET", "/api/v1/orders?" + bad, token);
    EXPECT_EQ(e.status, 400) << bad << " " << e.body;
    EXPECT_EQ(e.ErrorCode(), "VALIDATION_ERROR") << bad;
    EXPECT_FALSE(Fields(e).empty()) << bad;
  }
  // A cursor of another sort is refused.
  ApiResponse page = Call("GET", "/api/v1/orders?limit=1", token);
  ASSERT_EQ(page.status, 200);
  const std::string cursor(page.Data().at("pagination").at("nextCursor").as_string());
  EXPECT_EQ(Call("GET", "/api/v1/orders?sort=deliveryDate&cursor=" + cursor, token).status, 400);
  EXPECT_EQ(Call("GET", "/api/v1/orders?cursor=" + cursor, token).status, 200);
}

TEST_F(OrdersApiTest, ScopesByRole) {
  // Staff: their school only; another schoolId is 403.
  const std::string kitchen = Login(School(0).at("kitchenStaff").at(0));
  ApiResponse r = Call("GET", "/api/v1/orders?limit=50", kitchen);
  ASSERT_EQ(r.status, 200) << r.body;
  for (const json::value& o : r.Data().at("orders").as_array()) {
    EXPECT_EQ(o.at("school").at("id").as_string(), SchoolId(0));
  }
  r = Call("GET", "/api/v1/orders?schoolId=" + SchoolId(1), kitchen);
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(r.ErrorCode(), "FORBIDDEN");
  EXPECT_EQ(Call("GET", "/api/v1/orders?schoolId=" + SchoolId(0), kitchen).status, 200);
  // School admins likewise.
  const std::string school_admin = Login(School(1).at("schoolAdmin"));
  r = Call("GET", "/api/v1/orders?schoolId=" + SchoolId(0), school_admin);
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(r.ErrorCode(), "FORBIDDEN");
  r = Call("GET", "/api/v1/orders?limit=50&schoolId=" + SchoolId(1), school_admin);
  ASSERT_EQ(r.status, 200) << r.body;
  for (const json::value& o : r.Data().at("orders").as_array()) {
    EXPECT_EQ(o.at("school").at("id").as_string(), SchoolId(1));
  }
  // Student: own orders only.
  const json::value& child = Parent(0).at("children").at(0);
  r = Call("GET", "/api/v1/orders?limit=100", Login(child));
  ASSERT_EQ(r.status, 200);
  for (const json::value& o : r.Data().at("orders").as_array()) {
    EXPECT_EQ(o.at("studentId").as_string(), Str(child, "id"));
  }
  // Parent: their children only, whatever headers claim.
  std::set<std::string> children;
  for (const json::value& c : Parent(1).at("children").as_array()) children.insert(Str(c, "id"));
  r = Call("GET", "/api/v1/orders?limit=100", Login(Parent(1)), "",
           {"X-User-Id: " + Str(Parent(0), "id"), "X-School-Id: " + SchoolId(0)});
  ASSERT_EQ(r.status, 200);
  for (const json::value& o : r.Data().at("orders").as_array()) {
    EXPECT_TRUE(children.count(std::string(o.at("studentId").as_string())));
  }
  // A studentId outside the scope finds nothing.
  r = Call("GET", "/api/v1/orders?includeTotal=true&studentId=" + ChildId(0), Login(Parent(1)));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Data().at("pagination").at("total").as_int64(), 0);
  EXPECT_EQ(Call("GET", "/api/v1/orders").status, 401);
}

TEST_F(OrdersApiTest, AnotherFamilysOrderIsNotFound) {
  ApiResponse mine = Call("GET", "/api/v1/orders?limit=1", Login(Parent(0)));
  ASSERT_EQ(mine.status, 200);
  const std::string id(mine.Data().at("orders").at(0).at("id").as_string());
  const std::string other = Login(Parent(1));
  ApiResponse r =
      Call("GET", "/api/v1/orders/" + id, other, "", {"X-User-Id: " + Str(Parent(0), "id")});
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.ErrorCode(), "ORDER_NOT_FOUND");
  EXPECT_EQ(Call("GET", "/api/v1/orders/" + id, Login(School(1).at("kitchenStaff").at(0))).status,
            404);
  r = Call("PATCH", "/api/v1/orders/" + id + "/status", other, "{\"status\":\"cancelled\"}");
  EXPECT_EQ(r.status, 404);
  // Unknown and malformed ids answer the same 404, without internals.
  for (const std::string bad : {"0190f5a0-0000-7000-8000-0000000000ee", "1'%20OR%20'1'='1", "x"}) {
    ApiResponse e = Call("GET", "/api/v1/orders/" + bad, other);
    EXPECT_EQ(e.status, 404) << bad;
    EXPECT_EQ(e.ErrorCode(), "ORDER_NOT_FOUND");
    for (const char* leak : {"SELECT", "sqlite", "postgres", "syntax", ".cc"}) {
      EXPECT_EQ(e.body.find(leak), std::string::npos) << leak;
    }
  }
}

TEST_F(OrdersApiTest, FieldSelectionAndConditionalReads) {
  const std::string token = Login(Parent(0));
  ApiResponse r = Call("GET", "/api/v1/orders?limit=2&fields=id,status", token);
  ASSERT_EQ(r.status, 200) << r.body;
  for (const json::value& o : r.Data().at("orders").as_array()) {
    EXPECT_EQ(o.as_object().size(), 2u);
    EXPECT_TRUE(o.as_object().contains("id"));
    EXPECT_TRUE(o.as_object().contains("status"));
  }
  const std::string etag = r.Header("etag");
  ASSERT_FALSE(etag.empty());
  ApiResponse again =
      Call("GET", "/api/v1/orders?limit=2&fields=id,status", token, "", {"If-None-Match: " + etag});
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  ApiResponse changed =
      Call("GET", "/api/v1/orders?limit=3&fields=id,status", token, "", {"If-None-Match: " + etag});
  EXPECT_EQ(changed.status, 200);
  const std::string id(r.Data().at("orders").at(0).at("id").as_string());
  ApiResponse one = Call("GET", "/api/v1/orders/" + id + "?fields=orderNumber,items", token);
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(one.Data().at("order").as_object().size(), 2u);
  EXPECT_EQ(Call("GET", "/api/v1/orders/" + id, token, "", {"If-None-Match: " + one.Header("etag")})
                .status,
            200);  // a different representation (all fields)
  EXPECT_EQ(Call("GET", "/api/v1/orders/" + id + "?fields=orderNumber,items", token, "",
                 {"If-None-Match: " + one.Header("etag")})
                .status,
            304);
}

TEST_F(OrdersApiTest, KitchenFlowAndItsRefusals) {
  const std::string kitchen = Login(School(0).at("kitchenStaff").at(0));
  ApiResponse list = Call("GET", "/api/v1/orders?status=confirmed&limit=5", kitchen);
  ASSERT_EQ(list.status, 200) << list.body;
  ASSERT_GE(list.Data().at("orders").as_array().size(), 1u);
  const std::string id(list.Data().at("orders").at(0).at("id").as_string());
  const std::string path = "/api/v1/orders/" + id + "/status";
  // Skipping a step, and states that only payment or RFID reach.
  for (const char* to : {"ready", "out_for_delivery", "delivered", "pending", "confirmed"}) {
    ApiResponse r = Call("PATCH", path, kitchen, Json(json::object{{"status", to}}));
    EXPECT_EQ(r.status, 422) << to << " " << r.body;
    EXPECT_EQ(r.ErrorCode(), "INVALID_STATUS_TRANSITION");
  }
  EXPECT_EQ(Call("PATCH", path, kitchen, "{\"status\":\"eaten\"}").status, 400);
  EXPECT_EQ(Call("PATCH", path, kitchen, "{\"status\":5}").status, 400);
  EXPECT_EQ(Call("PATCH", path, kitchen, "{\"status\":\"cancelled\"}").status, 403);
  EXPECT_EQ(
      Call("PATCH", path, Login(School(1).at("kitchenStaff").at(0)), "{\"status\":\"preparing\"}")
          .status,
      404);
  for (const char* to : {"preparing", "ready", "out_for_delivery"}) {
    ApiResponse r = Call("PATCH", path, kitchen, Json(json::object{{"status", to}}));
    ASSERT_EQ(r.status, 200) << to << " " << r.body;
    EXPECT_EQ(r.Data().at("order").at("status").as_string(), to);
  }
  ApiResponse got = Call("GET", "/api/v1/orders/" + id, Login(School(0).at("schoolAdmin")));
  EXPECT_EQ(got.Data().at("order").at("status").as_string(), "out_for_delivery");
  EXPECT_EQ(Call("PATCH", path, Login(Fixtures().at("admin")), "{\"status\":\"cancelled\"}").status,
            422);
}

TEST_F(OrdersApiTest, ParentMayNotMoveTheKitchenFlow) {
  const std::string token = Login(Parent(0));
  ApiResponse list = Call("GET", "/api/v1/orders?limit=1", token);
  ASSERT_EQ(list.status, 200) << list.body;
  ASSERT_FALSE(list.Data().at("orders").as_array().empty()) << "the seeded parent has orders";
  const json::value& order = list.Data().at("orders").at(0);
  const std::string id(order.at("id").as_string());
  // The kitchen's steps. (Cancelling their own pending or confirmed order is the one change a
  // parent may make; "delivered" comes only from a scan.)
  for (const char* to : {"preparing", "ready", "out_for_delivery"}) {
    ApiResponse r = Call("PATCH", "/api/v1/orders/" + id + "/status", token,
                         Json(json::object{{"status", to}}));
    EXPECT_EQ(r.status, 403) << to << " " << r.body;
    EXPECT_EQ(r.ErrorCode(), "FORBIDDEN") << to;
  }
  ApiResponse after = Call("GET", "/api/v1/orders/" + id, token);
  ASSERT_EQ(after.status, 200) << after.body;
  EXPECT_EQ(after.Data().at("order").at("status"), order.at("status"));
}

}  // namespace
}  // namespace hasivu::testing
