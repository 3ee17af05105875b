// rfid-verify-card through a seeded server, on both backends.
//
// The demo seeding gives every school's last seven students (in fixtures order: parents, then
// their children) an order for today in each status: from the end, cancelled (inactive card),
// delivered (expired card), out_for_delivery, ready, preparing, confirmed, pending. Each test
// uses its own students so that the tests are independent of their order.
#include <boost/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/api_fixture.h"

namespace hasivu::testing {
namespace {

namespace json = boost::json;

constexpr int kInactiveCard = 0;
constexpr int kExpiredCard = 1;
constexpr int kOutForDelivery = 2;
constexpr int kReady = 3;
constexpr int kPreparing = 4;
constexpr int kConfirmed = 5;
constexpr int kPending = 6;

class RfidApiTest : public ApiSuite {
 protected:
  static const json::value& School(size_t i) { return Fixtures().at("schools").at(i); }
  static std::string SchoolId(size_t i) { return Str(School(i), "id"); }
  static std::string Reader(size_t school, size_t i = 0) {
    return Str(School(school).at("readers").at(i), "id");
  }
  static const json::value& Kitchen(size_t school) {
    return School(school).at("kitchenStaff").at(0);
  }
  // The school's students in seeding order.
  static std::vector<json::value> Students(size_t school) {
    std::vector<json::value> out;
    for (const json::value& parent : School(school).at("parents").as_array()) {
      for (const json::value& child : parent.at("children").as_array()) out.push_back(child);
    }
    return out;
  }
  // The student `from_end` places before the last of the school.
  static json::value Student(size_t school, int from_end) {
    std::vector<json::value> all = Students(school);
    return all.at(all.size() - 1 - from_end);
  }
  static std::string Card(size_t school, int from_end) {
    return Str(Student(school, from_end), "cardNumber");
  }
  // A student with a usable card (the seeded inactive/expired share is random elsewhere).
  static json::value ScannableStudent(size_t school, int from_end) {
    json::value s = Student(school, from_end);
    EXPECT_TRUE(s.at("cardActive").as_bool()) << Json(s);
    EXPECT_FALSE(s.at("cardExpired").as_bool()) << Json(s);
    return s;
  }
  static std::string Body(const std::string& card, const json::object& extra = {}) {
    json::object b = extra;
    b["cardNumber"] = card;
    return Json(b);
  }
  static ApiResponse Scan(const std::string& token, const std::string& card,
                          const json::object& extra = {}) {
    return Call("POST", "/api/v1/rfid/verify", token, Body(card, extra));
  }
  // The student's orders of today through orders-list (as admin); empty on failure.
  static json::array TodaysOrders(const std::string& student_id) {
    const std::string today(Fixtures().at("baseDate").as_string());
    ApiResponse r = Call("GET",
                         "/api/v1/orders?studentId=" + student_id + "&dateFrom=" + today +
                             "&dateTo=" + today + "&limit=20",
                         Login(Fixtures().at("admin")));
    EXPECT_EQ(r.status, 200) << r.body;
    if (r.status != 200) return {};
    return r.Data().at("orders").as_array();
  }
  static void ExpectNoInternals(const ApiResponse& r) {
    for (const char* leak : {"SELECT", "sqlite", "SQLSTATE", "postgres"}) {
      EXPECT_EQ(r.body.find(leak), std::string::npos) << leak << " in " << r.body;
    }
  }
};

TEST_F(RfidApiTest, KitchenStaffDeliversTodaysOrderThenASecondScanIsAlreadyDelivered) {
  const json::value student = ScannableStudent(0, kOutForDelivery);
  const std::string token = Login(Kitchen(0));
  // SQL metacharacters in a free-text field are stored as text, nothing more.
  const std::string location = "Counter 1'; DROP TABLE orders; --";
  ApiResponse r =
      Scan(token, Str(student, "cardNumber"), {{"readerId", Reader(0)}, {"location", location}});
  ASSERT_EQ(r.status, 200) << r.body;
  const json::object& d = r.Data();
  const json::object& v = d.at("verification").as_object();
  EXPECT_EQ(v.at("status").as_string(), "verified");
  EXPECT_EQ(v.at("id").as_string().size(), 36u);
  EXPECT_FALSE(v.at("verifiedAt").as_string().empty());
  EXPECT_EQ(d.at("student").at("id").as_string(), Str(student, "id"));
  EXPECT_EQ(d.at("student").at("grade").as_string(), Str(student, "grade"));
  EXPECT_EQ(d.at("student").at("section").as_string(), Str(student, "section"));
  EXPECT_FALSE(d.at("student").at("firstName").as_string().empty());
  EXPECT_EQ(d.at("school").at("id").as_string(), SchoolId(0));
  EXPECT_EQ(d.at("school").at("name").as_string(), Str(School(0), "name"));
  const json::object& order = d.at("order").as_object();
  EXPECT_EQ(order.at("status").as_string(), "delivered");
  EXPECT_TRUE(order.at("orderNumber").as_string().starts_with("ORD-"));
  ASSERT_FALSE(order.at("items").as_array().empty());
  for (const json::value& item : order.at("items").as_array()) {
    EXPECT_FALSE(item.at("name").as_string().empty());
    EXPECT_GE(item.at("quantity").as_int64(), 1);
  }
  EXPECT_EQ(d.at("card").at("cardNumber").as_string(), Str(student, "cardNumber"));

  // The order is delivered for everyone who reads it.
  const std::string order_id(order.at("id").as_string());
  ApiResponse got = Call("GET", "/api/v1/orders/" + order_id, token);
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(got.Data().at("order").at("status").as_string(), "delivered");

  // Second scan, without and with the orderId: 409 with the first verification.
  for (const json::object& extra : {json::object{}, json::object{{"orderId", order_id}}}) {
    ApiResponse again = Scan(token, Str(student, "cardNumber"), extra);
    ASSERT_EQ(again.status, 409) << again.body;
    EXPECT_EQ(again.ErrorCode(), "ALREADY_DELIVERED");
    const json::object& error = again.json.at("error").as_object();
    EXPECT_EQ(error.at("verification").at("id").as_string(), v.at("id").as_string());
    EXPECT_EQ(error.at("verification").at("verifiedAt").as_string(),
              v.at("verifiedAt").as_string());
    EXPECT_EQ(error.at("verification").at("readerId").as_string(), Reader(0));
    EXPECT_EQ(error.at("verification").at("location").as_string(), location);
    EXPECT_EQ(error.at("order").at("id").as_string(), order_id);
  }
}

TEST_F(RfidApiTest, SchoolAdminAndAdminMayVerify) {
  ApiResponse by_admin_of_school = Scan(Login(School(1).at("schoolAdmin")),
                                        Str(ScannableStudent(1, kOutForDelivery), "cardNumber"));
  EXPECT_EQ(by_admin_of_school.status, 200) << by_admin_of_school.body;
  ApiResponse by_admin =
      Scan(Login(Fixtures().at("admin")), Str(ScannableStudent(1, kReady), "cardNumber"),
           {{"readerId", Reader(1, 1)}});
  EXPECT_EQ(by_admin.status, 200) << by_admin.body;
}

TEST_F(RfidApiTest, SimultaneousScansDeliverExactlyOnce) {
  const json::value student = ScannableStudent(0, kConfirmed);
  const std::string token = Login(Kitchen(0));
  constexpr int kScans = 8;
  std::vector<ApiResponse> results(kScans);
  std::vector<std::thread> threads;
  for (int i = 0; i < kScans; ++i) {
    threads.emplace_back([&, i] {
      results[i] =
          Server().Call("POST", "/api/v1/rfid/verify", token, Body(Str(student, "cardNumber")));
    });
  }
  for (auto& t : threads) t.join();
  int ok = 0, conflicts = 0;
  std::string winner;
  std::set<std::string> reported;
  for (const ApiResponse& r : results) {
    if (r.status == 200) {
      ++ok;
      winner = std::string(r.Data().at("verification").at("id").as_string());
    } else if (r.status == 409 && r.ErrorCode() == "ALREADY_DELIVERED") {
      ++conflicts;
      reported.insert(std::string(r.json.at("error").at("verification").at("id").as_string()));
    } else {
      ADD_FAILURE() << r.status << " " << r.body;
    }
  }
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(conflicts, kScans - 1);
  // Every loser names the winner's verification.
  ASSERT_EQ(reported.size(), 1u);
  EXPECT_EQ(*reported.begin(), winner);
}

TEST_F(RfidApiTest, ExplicitOrderIdDeliversThatOrder) {
  const json::value student = ScannableStudent(1, kPreparing);
  json::array orders = TodaysOrders(Str(student, "id"));
  ASSERT_EQ(orders.size(), 1u);
  const std::string order_id(orders[0].at("id").as_string());
  EXPECT_EQ(orders[0].at("status").as_string(), "preparing");
  const std::string token = Login(Kitchen(1));
  ApiResponse r = Scan(token, Str(student, "cardNumber"), {{"orderId", order_id}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Data().at("order").at("id").as_string(), order_id);
}

TEST_F(RfidApiTest, OrderRules) {
  const std::string token = Login(Kitchen(0));
  // Only a pending (unpaid) order today: nothing to deliver.
  const json::value pending = ScannableStudent(0, kPending);
  ApiResponse none = Scan(token, Str(pending, "cardNumber"));
  EXPECT_EQ(none.status, 404) << none.body;
  EXPECT_EQ(none.ErrorCode(), "NO_ORDER_TODAY");
  // Naming that unpaid order: not deliverable.
  json::array orders = TodaysOrders(Str(pending, "id"));
  ASSERT_EQ(orders.size(), 1u);
  EXPECT_EQ(orders[0].at("status").as_string(), "pending");
  const std::string pending_order(orders[0].at("id").as_string());
  ApiResponse unpaid = Scan(token, Str(pending, "cardNumber"), {{"orderId", pending_order}});
  EXPECT_EQ(unpaid.status, 422) << unpaid.body;
  EXPECT_EQ(unpaid.ErrorCode(), "ORDER_NOT_DELIVERABLE");
  // An unknown order, and another student's order: 404 NO_ORDER_TODAY.
  const json::value other = ScannableStudent(0, kReady);
  ApiResponse unknown =
      Scan(token, Str(other, "cardNumber"), {{"orderId", "0190f5a0-0000-7000-8000-0000000000ff"}});
  EXPECT_EQ(unknown.status, 404) << unknown.body;
  EXPECT_EQ(unknown.ErrorCode(), "NO_ORDER_TODAY");
  ApiResponse not_theirs = Scan(token, Str(other, "cardNumber"), {{"orderId", pending_order}});
  EXPECT_EQ(not_theirs.status, 404) << not_theirs.body;
  EXPECT_EQ(not_theirs.ErrorCode(), "NO_ORDER_TODAY");
}

TEST_F(RfidApiTest, CardStateRules) {
  const std::string token = Login(Kitchen(1));
  ASSERT_FALSE(Student(1, kInactiveCard).at("cardActive").as_bool());
  ApiResponse inactive = Scan(token, Card(1, kInactiveCard));
  EXPECT_EQ(inactive.status, 422) << inactive.body;
  EXPECT_EQ(inactive.ErrorCode(), "CARD_INACTIVE");
  ASSERT_TRUE(Student(1, kExpiredCard).at("cardExpired").as_bool());
  ApiResponse expired = Scan(token, Card(1, kExpiredCard));
  EXPECT_EQ(expired.status, 422) << expired.body;
  EXPECT_EQ(expired.ErrorCode(), "CARD_EXPIRED");
  ApiResponse unknown = Scan(token, "RFID-NOPE-000000-ZZZZ");
  EXPECT_EQ(unknown.status, 404) << unknown.body;
  EXPECT_EQ(unknown.ErrorCode(), "CARD_NOT_FOUND");
}

TEST_F(RfidApiTest, ReaderMustBeAnActiveReaderOfTheCardsSchool) {
  const std::string token = Login(Kitchen(0));
  const std::string card = Str(ScannableStudent(0, kPreparing), "cardNumber");
  ApiResponse other_school = Scan(token, card, {{"readerId", Reader(1)}});
  EXPECT_EQ(other_school.status, 422) << other_school.body;
  EXPECT_EQ(other_school.ErrorCode(), "READER_MISMATCH");
  ApiResponse unknown = Scan(token, card, {{"readerId", "0190f5a0-0000-7000-8000-0000000000fe"}});
  EXPECT_EQ(unknown.status, 422) << unknown.body;
  EXPECT_EQ(unknown.ErrorCode(), "READER_MISMATCH");
  // The same message for both, so reader ids cannot be probed.
  EXPECT_EQ(Json(other_school.json.at("error").at("message")),
            Json(unknown.json.at("error").at("message")));
}

TEST_F(RfidApiTest, AnInactiveReaderOfTheSchoolIsRefusedAlike) {
  const std::string token = Login(Kitchen(0));
  const std::string card = Str(ScannableStudent(0, kPreparing), "cardNumber");
  const std::string reader = Reader(0, 1);
  Sql("UPDATE rfid_readers SET is_active = FALSE WHERE id = '" + reader + "'");
  ApiResponse inactive = Scan(token, card, {{"readerId", reader}});
  Sql("UPDATE rfid_readers SET is_active = TRUE WHERE id = '" + reader + "'");
  EXPECT_EQ(inactive.status, 422) << inactive.body;
  EXPECT_EQ(inactive.ErrorCode(), "READER_MISMATCH");
  // Refused before anything was written: the order is still awaiting delivery.
  json::array orders = TodaysOrders(Str(Student(0, kPreparing), "id"));
  ASSERT_EQ(orders.size(), 1u);
  EXPECT_EQ(orders[0].at("status").as_string(), "preparing");
}

TEST_F(RfidApiTest, TheCardsStudentAndSchoolMustBeActive) {
  const std::string token = Login(Kitchen(1));
  // A student with a usable card that no other test of this suite scans (they use the last
  // seven).
  json::value student;
  for (int from_end = 8; from_end < 40 && student.is_null(); ++from_end) {
    const json::value s = Student(1, from_end);
    if (s.at("cardActive").as_bool() && !s.at("cardExpired").as_bool()) student = s;
  }
  ASSERT_FALSE(student.is_null());
  const std::string student_id = Str(student, "id");
  const std::string card = Str(student, "cardNumber");
  const std::string verifications_sql =
      "SELECT COUNT(*) FROM delivery_verifications WHERE student_id = '" + student_id + "'";
  const std::string verifications_before = Sql(verifications_sql);
  const std::string orders_before = Json(TodaysOrders(student_id));

  Sql("UPDATE users SET is_active = FALSE WHERE id = '" + student_id + "'");
  ApiResponse student_off = Scan(token, card);
  Sql("UPDATE users SET is_active = TRUE WHERE id = '" + student_id + "'");
  EXPECT_EQ(student_off.status, 422) << student_off.body;
  EXPECT_EQ(student_off.ErrorCode(), "STUDENT_INACTIVE");

  Sql("UPDATE schools SET is_active = FALSE WHERE id = '" + SchoolId(1) + "'");
  ApiResponse school_off = Scan(token, card);
  Sql("UPDATE schools SET is_active = TRUE WHERE id = '" + SchoolId(1) + "'");
  EXPECT_EQ(school_off.status, 422) << school_off.body;
  EXPECT_EQ(school_off.ErrorCode(), "SCHOOL_INACTIVE");

  // Both refused before anything was written.
  EXPECT_EQ(Sql(verifications_sql), verifications_before);
  EXPECT_EQ(Json(TodaysOrders(student_id)), orders_before);
}

TEST_F(RfidApiTest, TenancyAndRoles) {
  const std::string card = Card(0, kPreparing);
  // Staff of another school cannot tell the card exists.
  ApiResponse other_school = Scan(Login(Kitchen(1)), card);
  EXPECT_EQ(other_school.status, 404) << other_school.body;
  EXPECT_EQ(other_school.ErrorCode(), "CARD_NOT_FOUND");
  ApiResponse other_admin = Scan(Login(School(1).at("schoolAdmin")), card);
  EXPECT_EQ(other_admin.status, 404) << other_admin.body;
  EXPECT_EQ(other_admin.ErrorCode(), "CARD_NOT_FOUND");
  // Families never scan.
  const json::value& parent = School(0).at("parents").at(0);
  ApiResponse by_parent = Scan(Login(parent), card);
  EXPECT_EQ(by_parent.status, 403) << by_parent.body;
  EXPECT_EQ(by_parent.ErrorCode(), "FORBIDDEN");
  ApiResponse by_student = Scan(Login(parent.at("children").at(0)), card);
  EXPECT_EQ(by_student.status, 403) << by_student.body;
  EXPECT_EQ(by_student.ErrorCode(), "FORBIDDEN");
  // No token: 401, whatever identity headers say.
  ApiResponse anonymous =
      Call("POST", "/api/v1/rfid/verify", "", Body(card),
           {"X-User-Id: " + Str(Fixtures().at("admin"), "id"), "X-User-Role: admin"});
  EXPECT_EQ(anonymous.status, 401) << anonymous.body;
  // None of these delivered anything: the card's order is still deliverable.
  ApiResponse check = Scan(Login(Kitchen(0)), card, {{"readerId", Reader(1)}});
  EXPECT_EQ(check.ErrorCode(), "READER_MISMATCH");
}

TEST_F(RfidApiTest, ValidationErrorsNameTheField) {
  const std::string token = Login(Kitchen(0));
  for (const std::string& bad :
       {std::string("rfid-abcd"), std::string("RFID-abc"), std::string("RFID-"),
        std::string("RFID-ABC"), "RFID-" + std::string(61, 'A'), std::string("RFID-AB CD"),
        std::string("RFID-AAAA'; DROP TABLE rfid_cards; --"),
        std::string("RFID-\xc3\xa9\xc3\xa9")}) {
    ApiResponse r = Scan(token, bad);
    EXPECT_EQ(r.status, 400) << bad << " " << r.body;
    EXPECT_EQ(r.ErrorCode(), "VALIDATION_ERROR") << bad;
    ASSERT_TRUE(r.json.at("error").as_object().contains("details")) << r.body;
    EXPECT_EQ(r.json.at("error").at("details").at(0).at("field").as_string(), "cardNumber");
    ExpectNoInternals(r);
  }
  // The longest allowed number is well-formed (and unknown).
  ApiResponse longest = Scan(token, "RFID-" + std::string(60, 'A'));
  EXPECT_EQ(longest.ErrorCode(), "CARD_NOT_FOUND") << longest.body;

  ApiResponse missing = Call("POST", "/api/v1/rfid/verify", token, R"({"readerId":null})");
  EXPECT_EQ(missing.status, 400) << missing.body;
  EXPECT_EQ(missing.json.at("error").at("details").at(0).at("field").as_string(), "cardNumber");
  ApiResponse number = Call("POST", "/api/v1/rfid/verify", token, R"({"cardNumber":42})");
  EXPECT_EQ(number.status, 400) << number.body;
  ApiResponse reader = Scan(token, Card(0, kPreparing), {{"readerId", "1' OR '1'='1"}});
  EXPECT_EQ(reader.status, 400) << reader.body;
  EXPECT_EQ(reader.json.at("error").at("details").at(0).at("field").as_string(), "readerId");
  ApiResponse order = Scan(token, Card(0, kPreparing), {{"orderId", "x"}});
  EXPECT_EQ(order.status, 400) << order.body;
  EXPECT_EQ(order.json.at("error").at("details").at(0).at("field").as_string(), "orderId");
  ApiResponse location = Scan(token, Card(0, kPreparing), {{"location", std::string(256, 'x')}});
  EXPECT_EQ(location.status, 400) << location.body;
  ApiResponse broken = Call("POST", "/api/v1/rfid/verify", token, "{\"cardNumber\":");
  EXPECT_EQ(broken.status, 400) << broken.body;
  EXPECT_EQ(broken.ErrorCode(), "INVALID_JSON");
  ExpectNoInternals(broken);
}

// Behind a trusted reverse proxy the delivery's audit row names the client the proxy forwarded
// for, as sessions do, not the proxy.
class RfidBehindAProxyTest : public RfidApiTest {
 public:
  static void SetUpTestSuite() {
    SetServerOptions({"--trusted-proxies", "127.0.0.1"}, {});
    ApiSuite::SetUpTestSuite();
  }
};

TEST_F(RfidBehindAProxyTest, TheAuditRecordsTheForwardedClientAddress) {
  const json::value student = ScannableStudent(1, kReady);
  ApiResponse r = Call("POST", "/api/v1/rfid/verify", Login(Kitchen(1)),
                       Body(Str(student, "cardNumber"), {{"readerId", Reader(1)}}),
                       {"X-Forwarded-For: 203.0.113.9", "X-Request-Id: rfid-behind-proxy-1"});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Sql("SELECT ip_address FROM audit_logs WHERE action = 'rfid_delivery_verified' AND "
                "request_id = 'rfid-behind-proxy-1'"),
            "203.0.113.9");
}

}  // namespace
}  // namespace hasivu::testing
