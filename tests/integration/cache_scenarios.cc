#include "tests/integration/cache_scenarios.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>
#include <thread>

namespace hasivu::testing {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

const json::value& School(const json::object& f, size_t i) { return f.at("schools").at(i); }
std::string SchoolId(const json::object& f, size_t i) { return Str(School(f, i), "id"); }
std::string Base(const json::object& f) { return std::string(f.at("baseDate").as_string()); }
std::string Item(const json::object& f, size_t school, size_t i) {
  return std::string(School(f, school).at("menuItemIds").at(i).as_string());
}

const json::array& Orders(const ApiResponse& r) {
  static const json::array kEmpty;
  const json::value* o = r.Data().if_contains("orders");
  return o && o->is_array() ? o->as_array() : kEmpty;
}

int64_t Total(const ApiResponse& r) {
  const json::value* p = r.Data().if_contains("pagination");
  if (!p || !p->is_object()) return -1;
  const json::value* t = p->as_object().if_contains("total");
  return t && t->is_int64() ? t->as_int64() : -1;
}

std::string FirstId(const ApiResponse& r) {
  const json::array& o = Orders(r);
  return o.empty() ? "" : Str(o.at(0), "id");
}

// The entry of order `id` in a list answer, or null.
const json::object* Entry(const ApiResponse& r, const std::string& id) {
  for (const json::value& o : Orders(r)) {
    if (Str(o, "id") == id) return &o.as_object();
  }
  return nullptr;
}

std::string EntryField(const ApiResponse& r, const std::string& id, const char* field) {
  const json::object* e = Entry(r, id);
  return e ? Str(*e, field) : "";
}

// The order of a detail answer ({order:{...}}), or {}.
std::string OrderField(const ApiResponse& r, const char* field) {
  const json::value* o = r.Data().if_contains("order");
  return o && o->is_object() ? Str(*o, field) : "";
}

// Reads `target` once to fill the caches; the answer must be `status`.
ApiResponse Fill(int port, const std::string& target, const std::string& token, int status = 200) {
  ApiResponse r = CallAt(port, "GET", target, token);
  EXPECT_EQ(r.status, status) << target << ": " << r.body;
  if (status == 200) {
    EXPECT_FALSE(r.Header("etag").empty()) << target;
  }
  return r;
}

// After a write: the representation changed, so its ETag did, and the old ETag no longer earns a
// 304 (a cache that kept the old body would answer 304 here).
void ExpectNewRepresentation(int port, const std::string& target, const std::string& token,
                             const ApiResponse& before, const ApiResponse& after) {
  if (before.status != 200 || after.status != 200) return;
  const std::string old_tag = before.Header("etag");
  EXPECT_NE(after.Header("etag"), old_tag) << target;
  ApiResponse again = CallAt(port, "GET", target, token, "", {"If-None-Match: " + old_tag});
  EXPECT_EQ(again.status, 200) << target << " with the pre-write ETag " << old_tag;
}

}  // namespace

std::vector<std::string> CacheServerArgs() {
  return {"--argon2-opslimit", "2", "--argon2-memlimit-kib", "8"};
}

std::map<std::string, std::string> CacheServerEnv() {
  return {{"HASIVU_RAZORPAY_WEBHOOK_SECRET", kCacheWebhookSecret}};
}

ApiResponse CallAt(int port, const std::string& method, const std::string& target,
                   const std::string& token, const std::string& body,
                   const std::vector<std::string>& extra_headers) {
  std::vector<std::string> headers = extra_headers;
  if (!token.empty()) headers.push_back("Authorization: Bearer " + token);
  if (!body.empty()) headers.push_back("Content-Type: application/json");
  HttpResponse raw = HttpRequest(port, method, target, headers, body);
  ApiResponse r;
  r.status = raw.ok ? raw.status : 0;
  r.headers = std::move(raw.headers);
  r.body = std::move(raw.body);
  boost::system::error_code ec;
  auto v = json::parse(r.body, ec);
  if (!ec) r.json = std::move(v);
  return r;
}

std::string LoginAt(int port, const json::value& account) {
  ApiResponse r = CallAt(
      port, "POST", "/api/v1/auth/login", "",
      Json(json::object{{"email", Str(account, "email")}, {"password", Str(account, "password")}}));
  if (r.status != 200) {
    ADD_FAILURE() << "login of " << Str(account, "email") << " answered " << r.status << ": "
                  << r.body;
    return "";
  }
  const json::value* tokens = r.Data().if_contains("tokens");
  return tokens && tokens->is_object() ? Str(*tokens, "accessToken") : "";
}

ApiResponse ReadUntil(int port, const std::string& target, const std::string& token,
                      const std::function<bool(const ApiResponse&)>& fresh, milliseconds settle) {
  const auto deadline = steady_clock::now() + settle;
  for (;;) {
    ApiResponse r = CallAt(port, "GET", target, token);
    if (fresh(r) || steady_clock::now() >= deadline) return r;
    std::this_thread::sleep_for(milliseconds(20));
  }
}

std::string HmacSha256Hex(const std::string& secret, const std::string& body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &len);
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[mac[i] >> 4]);
    out.push_back(kHex[mac[i] & 15]);
  }
  return out;
}

const json::value* ParentOfStudent(const json::object& fixtures, const std::string& student_id) {
  for (const json::value& school : fixtures.at("schools").as_array()) {
    for (const json::value& parent : school.at("parents").as_array()) {
      for (const json::value& child : parent.at("children").as_array()) {
        if (Str(child, "id") == student_id) return &parent;
      }
    }
  }
  return nullptr;
}

void CacheScenario::OrderCreate() const {
  const json::object& f = fixtures;
  const json::value& parent = School(f, 0).at("parents").at(0);
  const json::value& child = parent.at("children").at(0);
  const std::string child_id = Str(child, "id");
  const std::string parent_token = LoginAt(write_port, parent);
  const std::string student_token = LoginAt(write_port, child);
  const std::string kitchen_token = LoginAt(write_port, School(f, 0).at("kitchenStaff").at(0));
  const std::string admin_token = LoginAt(write_port, f.at("admin"));
  const std::string date = NextWeekday(Base(f), 4);

  ApiResponse menu =
      CallAt(read_port, "GET", "/api/v1/menus/daily?schoolId=" + SchoolId(f, 0) + "&date=" + date,
             parent_token);
  ASSERT_EQ(menu.status, 200) << menu.body;
  std::string item;
  for (const json::value& v : menu.Data().at("items").as_array()) {
    const json::object& m = v.as_object();
    if (m.at("maxPerOrder").is_null() && m.at("availableQuantity").is_null()) {
      item = std::string(m.at("menuItemId").as_string());
      break;
    }
  }
  ASSERT_FALSE(item.empty()) << "no unlimited slot on " << date;

  struct View {
    std::string target;
    std::string token;
    ApiResponse before;
  };
  std::vector<View> views = {
      {"/api/v1/orders?includeTotal=true&limit=5&studentId=" + child_id, parent_token, {}},
      {"/api/v1/orders?includeTotal=true&limit=5", parent_token, {}},
      {"/api/v1/orders?includeTotal=true&limit=5", student_token, {}},
      {"/api/v1/orders?includeTotal=true&limit=5", kitchen_token, {}},
      {"/api/v1/orders?includeTotal=true&limit=5&schoolId=" + SchoolId(f, 0), admin_token, {}},
  };
  for (View& v : views) {
    v.before = Fill(read_port, v.target, v.token);
    ASSERT_GE(Total(v.before), 0) << v.target << ": " << v.before.body;
  }

  ApiResponse created =
      CallAt(write_port, "POST", "/api/v1/orders", parent_token,
             Json(json::object{
                 {"studentId", child_id},
                 {"deliveryDate", date},
                 {"items", json::array{json::object{{"menuItemId", item}, {"quantity", 1}}}}}));
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = OrderField(created, "id");
  ASSERT_FALSE(id.empty());

  for (const View& v : views) {
    const int64_t want = Total(v.before) + 1;
    ApiResponse after = ReadUntil(
        read_port, v.target, v.token,
        [&](const ApiResponse& r) { return FirstId(r) == id && Total(r) == want; }, settle);
    ASSERT_EQ(after.status, 200) << after.body;
    EXPECT_EQ(FirstId(after), id) << v.target << " does not show the new order first";
    EXPECT_EQ(Total(after), want) << v.target;
    EXPECT_EQ(EntryField(after, id, "status"), "pending");
    ExpectNewRepresentation(read_port, v.target, v.token, v.before, after);
  }
  ApiResponse detail = CallAt(read_port, "GET", "/api/v1/orders/" + id, parent_token);
  EXPECT_EQ(detail.status, 200) << detail.body;
  EXPECT_EQ(OrderField(detail, "status"), "pending");
}

void CacheScenario::OrderCreateDecrementsMenu() const {
  const json::object& f = fixtures;
  const json::value& parent = School(f, 0).at("parents").at(1);
  const std::string child_id = Str(parent.at("children").at(0), "id");
  const std::string parent_token = LoginAt(write_port, parent);
  const std::string admin_token = LoginAt(write_port, School(f, 0).at("schoolAdmin"));
  // After MenuPut's date, beyond the seeded menus (20 days), within the 30 days of ordering.
  const std::string date = NextWeekday(NextWeekday(Base(f), 22), 1);
  const std::string item = Item(f, 0, 2);
  ApiResponse put =
      CallAt(write_port, "PUT", "/api/v1/menus/daily", admin_token,
             Json(json::object{{"schoolId", SchoolId(f, 0)},
                               {"date", date},
                               {"publish", true},
                               {"items", json::array{json::object{{"menuItemId", item},
                                                                  {"category", "LUNCH"},
                                                                  {"availableQuantity", 5},
                                                                  {"maxPerOrder", 3}}}}}));
  ASSERT_EQ(put.status, 200) << put.body;

  const std::string target = "/api/v1/menus/daily?schoolId=" + SchoolId(f, 0) + "&date=" + date;
  auto quantity = [](const ApiResponse& r) -> int64_t {
    const json::value* items = r.Data().if_contains("items");
    if (!items || !items->is_array() || items->as_array().empty()) return -1;
    const json::value& q = items->as_array().at(0).at("availableQuantity");
    return q.is_int64() ? q.as_int64() : -1;
  };
  ApiResponse before = ReadUntil(
      read_port, target, parent_token, [&](const ApiResponse& r) { return quantity(r) == 5; },
      settle);
  ASSERT_EQ(quantity(before), 5) << before.body;

  ApiResponse created =
      CallAt(write_port, "POST", "/api/v1/orders", parent_token,
             Json(json::object{
                 {"studentId", child_id},
                 {"deliveryDate", date},
                 {"items", json::array{json::object{{"menuItemId", item}, {"quantity", 2}}}}}));
  ASSERT_EQ(created.status, 201) << created.body;

  ApiResponse after = ReadUntil(
      read_port, target, parent_token, [&](const ApiResponse& r) { return quantity(r) == 3; },
      settle);
  EXPECT_EQ(quantity(after), 3) << "menus-daily still shows the quantity before the order: "
                                << after.body;
  ExpectNewRepresentation(read_port, target, parent_token, before, after);
}

void CacheScenario::KitchenStatus() const {
  const json::object& f = fixtures;
  const std::string kitchen_token = LoginAt(write_port, School(f, 0).at("kitchenStaff").at(0));
  const std::string confirmed_target =
      "/api/v1/orders?status=confirmed&limit=100&includeTotal=true";
  const std::string preparing_target =
      "/api/v1/orders?status=preparing&limit=100&includeTotal=true";
  ApiResponse confirmed_before = Fill(read_port, confirmed_target, kitchen_token);
  std::string id, student_id;
  const json::value* parent = nullptr;
  for (const json::value& o : Orders(confirmed_before)) {
    parent = ParentOfStudent(f, Str(o, "studentId"));
    if (parent) {
      id = Str(o, "id");
      student_id = Str(o, "studentId");
      break;
    }
  }
  ASSERT_FALSE(id.empty()) << "no confirmed order of a fixtures student: " << confirmed_before.body;
  const std::string parent_token = LoginAt(write_port, *parent);
  const std::string detail_target = "/api/v1/orders/" + id;
  const std::string parent_list = "/api/v1/orders?limit=100&studentId=" + student_id;

  ApiResponse detail_parent = Fill(read_port, detail_target, parent_token);
  ApiResponse detail_kitchen = Fill(read_port, detail_target, kitchen_token);
  ApiResponse preparing_before = Fill(read_port, preparing_target, kitchen_token);
  ApiResponse parent_before = Fill(read_port, parent_list, parent_token);
  ASSERT_EQ(OrderField(detail_parent, "status"), "confirmed");
  ASSERT_EQ(EntryField(parent_before, id, "status"), "confirmed") << parent_before.body;

  ApiResponse patched = CallAt(write_port, "PATCH", detail_target + "/status", kitchen_token,
                               "{\"status\":\"preparing\"}");
  ASSERT_EQ(patched.status, 200) << patched.body;

  for (const auto& [token, before] :
       {std::pair{parent_token, detail_parent}, std::pair{kitchen_token, detail_kitchen}}) {
    ApiResponse after = ReadUntil(
        read_port, detail_target, token,
        [](const ApiResponse& r) { return OrderField(r, "status") == "preparing"; }, settle);
    EXPECT_EQ(OrderField(after, "status"), "preparing") << after.body;
    ExpectNewRepresentation(read_port, detail_target, token, before, after);
  }
  ApiResponse confirmed_after = ReadUntil(
      read_port, confirmed_target, kitchen_token,
      [&](const ApiResponse& r) {
        return Entry(r, id) == nullptr && Total(r) == Total(confirmed_before) - 1;
      },
      settle);
  EXPECT_EQ(Entry(confirmed_after, id), nullptr) << "still listed as confirmed";
  EXPECT_EQ(Total(confirmed_after), Total(confirmed_before) - 1);
  ExpectNewRepresentation(read_port, confirmed_target, kitchen_token, confirmed_before,
                          confirmed_after);
  ApiResponse preparing_after = ReadUntil(
      read_port, preparing_target, kitchen_token,
      [&](const ApiResponse& r) {
        return Entry(r, id) != nullptr && Total(r) == Total(preparing_before) + 1;
      },
      settle);
  EXPECT_NE(Entry(preparing_after, id), nullptr) << "not listed as preparing";
  EXPECT_EQ(Total(preparing_after), Total(preparing_before) + 1);
  ExpectNewRepresentation(read_port, preparing_target, kitchen_token, preparing_before,
                          preparing_after);
  ApiResponse parent_after = ReadUntil(
      read_port, parent_list, parent_token,
      [&](const ApiResponse& r) { return EntryField(r, id, "status") == "preparing"; }, settle);
  EXPECT_EQ(EntryField(parent_after, id, "status"), "preparing");
  ExpectNewRepresentation(read_port, parent_list, parent_token, parent_before, parent_after);
}

namespace {

struct PayableOrder {
  std::string id;
  std::string student_id;
  int64_t total = 0;
  const json::value* parent = nullptr;
};

// The first pending, unpaid order of school 0 of a fixtures parent (as admin, at `port`: the
// writer, whose view is never behind).
PayableOrder FindPayable(const json::object& f, int port, const std::string& admin_token) {
  ApiResponse r = CallAt(
      port, "GET",
      "/api/v1/orders?status=pending&paymentStatus=pending&limit=100&schoolId=" + SchoolId(f, 0),
      admin_token);
  EXPECT_EQ(r.status, 200) << r.body;
  for (const json::value& o : Orders(r)) {
    const json::value* parent = ParentOfStudent(f, Str(o, "studentId"));
    if (!parent || o.at("totalAmount").as_int64() < 100) continue;
    return {Str(o, "id"), Str(o, "studentId"), o.at("totalAmount").as_int64(), parent};
  }
  ADD_FAILURE() << "no payable order: " << r.body;
  return {};
}

struct Checkout {
  std::string order_id;
  std::string payment_id;
  std::string signature;
};

// payments-create-order + /payments/simulate (success) at `port`.
Checkout SimulatePayment(int port, const std::string& token, const std::string& order_id) {
  ApiResponse po = CallAt(port, "POST", "/api/v1/payments/orders", token,
                          Json(json::object{{"orderId", order_id}}));
  EXPECT_TRUE(po.status == 201 || po.status == 200) << po.body;
  if (po.status != 201 && po.status != 200) return {};
  const std::string gid(po.Data().at("paymentOrder").at("gatewayOrderId").as_string());
  ApiResponse sim = CallAt(port, "POST", "/api/v1/payments/simulate", token,
                           Json(json::object{{"razorpayOrderId", gid}, {"outcome", "success"}}));
  EXPECT_EQ(sim.status, 200) << sim.body;
  if (sim.status != 200) return {};
  return {Str(sim.Data(), "razorpayOrderId"), Str(sim.Data(), "razorpayPaymentId"),
          Str(sim.Data(), "razorpaySignature")};
}

}  // namespace

// Shared by PaymentVerify and PaymentWebhook: fill, `pay`, check.
static void PaymentScenario(
    const CacheScenario& s,
    const std::function<void(const PayableOrder&, const std::string&, const std::string&)>& pay) {
  const json::object& f = s.fixtures;
  const std::string admin_token = LoginAt(s.write_port, f.at("admin"));
  PayableOrder o = FindPayable(f, s.write_port, admin_token);
  ASSERT_FALSE(o.id.empty());
  const std::string parent_token = LoginAt(s.write_port, *o.parent);
  const std::string detail = "/api/v1/orders/" + o.id;
  const std::string parent_list = "/api/v1/orders?limit=100&studentId=" + o.student_id;
  const std::string paid_list =
      "/api/v1/orders?paymentStatus=paid&includeTotal=true&limit=100&studentId=" + o.student_id;
  ApiResponse detail_before = Fill(s.read_port, detail, parent_token);
  ApiResponse list_before = Fill(s.read_port, parent_list, parent_token);
  ApiResponse paid_before = Fill(s.read_port, paid_list, admin_token);
  ASSERT_EQ(OrderField(detail_before, "paymentStatus"), "pending");

  pay(o, parent_token, admin_token);
  if (::testing::Test::HasFatalFailure()) return;

  auto paid = [](const ApiResponse& r) {
    return OrderField(r, "paymentStatus") == "paid" && OrderField(r, "status") == "confirmed";
  };
  ApiResponse detail_after = ReadUntil(s.read_port, detail, parent_token, paid, s.settle);
  EXPECT_TRUE(paid(detail_after)) << "order not shown paid and confirmed: " << detail_after.body;
  ExpectNewRepresentation(s.read_port, detail, parent_token, detail_before, detail_after);
  ApiResponse list_after = ReadUntil(
      s.read_port, parent_list, parent_token,
      [&](const ApiResponse& r) {
        return EntryField(r, o.id, "paymentStatus") == "paid" &&
               EntryField(r, o.id, "status") == "confirmed";
      },
      s.settle);
  EXPECT_EQ(EntryField(list_after, o.id, "paymentStatus"), "paid") << list_after.body;
  EXPECT_EQ(EntryField(list_after, o.id, "status"), "confirmed");
  ExpectNewRepresentation(s.read_port, parent_list, parent_token, list_before, list_after);
  ApiResponse paid_after = ReadUntil(
      s.read_port, paid_list, admin_token,
      [&](const ApiResponse& r) { return Total(r) == Total(paid_before) + 1; }, s.settle);
  EXPECT_EQ(Total(paid_after), Total(paid_before) + 1) << paid_after.body;
  EXPECT_NE(Entry(paid_after, o.id), nullptr);
  ExpectNewRepresentation(s.read_port, paid_list, admin_token, paid_before, paid_after);
}

void CacheScenario::PaymentVerify() const {
  const int port = write_port;
  PaymentScenario(*this,
                  [port](const PayableOrder& o, const std::string& token, const std::string&) {
                    Checkout c = SimulatePayment(port, token, o.id);
                    ASSERT_FALSE(c.payment_id.empty());
                    ApiResponse v = CallAt(port, "POST", "/api/v1/payments/verify", token,
                                           Json(json::object{{"razorpayOrderId", c.order_id},
                                                             {"razorpayPaymentId", c.payment_id},
                                                             {"razorpaySignature", c.signature}}));
                    ASSERT_EQ(v.status, 200) << v.body;
                  });
}

void CacheScenario::PaymentWebhook() const {
  const int port = write_port;
  PaymentScenario(*this, [port](const PayableOrder& o, const std::string& token,
                                const std::string&) {
    Checkout c = SimulatePayment(port, token, o.id);
    ASSERT_FALSE(c.payment_id.empty());
    json::object entity{{"id", c.payment_id}, {"entity", "payment"},  {"amount", o.total},
                        {"currency", "INR"},  {"status", "captured"}, {"order_id", c.order_id},
                        {"method", "upi"},    {"captured", true}};
    const std::string body =
        Json(json::object{{"entity", "event"},
                          {"account_id", "acc_CacheTests0001"},
                          {"event", "payment.captured"},
                          {"contains", json::array{"payment"}},
                          {"payload", json::object{{"payment", json::object{{"entity", entity}}}}},
                          {"created_at", 1700000000}});
    ApiResponse r = CallAt(port, "POST", "/api/v1/payments/webhook", "", body,
                           {"X-Razorpay-Signature: " + HmacSha256Hex(kCacheWebhookSecret, body)});
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_EQ(Str(r.Data(), "result"), "applied") << r.body;
  });
}

void CacheScenario::RfidDelivery() const {
  const json::object& f = fixtures;
  // Seeding gives school 0's last students today's orders by status from the end: index 2 is
  // out_for_delivery, 3 ready, 4 preparing (see rfid_api_test.cc).
  std::vector<json::value> students;
  for (const json::value& p : School(f, 0).at("parents").as_array()) {
    for (const json::value& c : p.at("children").as_array()) students.push_back(c);
  }
  json::value student;
  for (int from_end : {2, 3, 4}) {
    const json::value& s = students.at(students.size() - 1 - from_end);
    if (s.at("cardActive").as_bool() && !s.at("cardExpired").as_bool()) {
      student = s;
      break;
    }
  }
  ASSERT_TRUE(student.is_object()) << "no scannable student";
  const std::string student_id = Str(student, "id");
  const json::value* parent = ParentOfStudent(f, student_id);
  ASSERT_NE(parent, nullptr);
  const std::string admin_token = LoginAt(write_port, f.at("admin"));
  const std::string kitchen_token = LoginAt(write_port, School(f, 0).at("kitchenStaff").at(0));
  const std::string parent_token = LoginAt(write_port, *parent);
  const std::string today = Base(f);
  const std::string today_list =
      "/api/v1/orders?limit=20&studentId=" + student_id + "&dateFrom=" + today + "&dateTo=" + today;
  const std::string delivered_list = "/api/v1/orders?status=delivered&includeTotal=true&limit=5";
  ApiResponse today_before = Fill(read_port, today_list, admin_token);
  std::string id;
  for (const json::value& o : Orders(today_before)) {
    const std::string st = Str(o, "status");
    if (st == "out_for_delivery" || st == "ready" || st == "preparing") id = Str(o, "id");
  }
  ASSERT_FALSE(id.empty()) << "no deliverable order today: " << today_before.body;
  const std::string detail = "/api/v1/orders/" + id;
  ApiResponse detail_before = Fill(read_port, detail, parent_token);
  ApiResponse delivered_before = Fill(read_port, delivered_list, kitchen_token);

  ApiResponse scan = CallAt(write_port, "POST", "/api/v1/rfid/verify", kitchen_token,
                            Json(json::object{{"cardNumber", Str(student, "cardNumber")}}));
  ASSERT_EQ(scan.status, 200) << scan.body;
  ASSERT_EQ(OrderField(scan, "id"), id) << scan.body;

  ApiResponse detail_after = ReadUntil(
      read_port, detail, parent_token,
      [](const ApiResponse& r) { return OrderField(r, "status") == "delivered"; }, settle);
  EXPECT_EQ(OrderField(detail_after, "status"), "delivered") << detail_after.body;
  ExpectNewRepresentation(read_port, detail, parent_token, detail_before, detail_after);
  ApiResponse today_after = ReadUntil(
      read_port, today_list, admin_token,
      [&](const ApiResponse& r) { return EntryField(r, id, "status") == "delivered"; }, settle);
  EXPECT_EQ(EntryField(today_after, id, "status"), "delivered") << today_after.body;
  ExpectNewRepresentation(read_port, today_list, admin_token, today_before, today_after);
  ApiResponse delivered_after = ReadUntil(
      read_port, delivered_list, kitchen_token,
      [&](const ApiResponse& r) { return Total(r) == Total(delivered_before) + 1; }, settle);
  EXPECT_EQ(Total(delivered_after), Total(delivered_before) + 1) << delivered_after.body;
  ExpectNewRepresentation(read_port, delivered_list, kitchen_token, delivered_before,
                          delivered_after);
}

void CacheScenario::MenuPut() const {
  const json::object& f = fixtures;
  const std::string parent_token = LoginAt(write_port, School(f, 0).at("parents").at(2));
  const std::string admin_token = LoginAt(write_port, School(f, 0).at("schoolAdmin"));
  // Beyond the seeded menus (20 days ahead): nobody has a menu that day yet.
  const std::string date = NextWeekday(Base(f), 22);
  const std::string target = "/api/v1/menus/daily?schoolId=" + SchoolId(f, 0) + "&date=" + date;
  auto put = [&](bool publish, const std::vector<std::string>& items) {
    json::array a;
    for (const std::string& i : items)
      a.push_back(json::object{{"menuItemId", i}, {"category", "LUNCH"}});
    ApiResponse r = CallAt(write_port, "PUT", "/api/v1/menus/daily", admin_token,
                           Json(json::object{{"schoolId", SchoolId(f, 0)},
                                             {"date", date},
                                             {"publish", publish},
                                             {"items", std::move(a)}}));
    EXPECT_EQ(r.status, 200) << r.body;
  };
  auto items_are = [](const ApiResponse& r, const std::vector<std::string>& want) {
    if (r.status != 200) return false;
    const json::value* items = r.Data().if_contains("items");
    if (!items || !items->is_array() || items->as_array().size() != want.size()) return false;
    for (size_t i = 0; i < want.size(); ++i) {
      if (Str(items->as_array()[i], "menuItemId") != want[i]) return false;
    }
    return true;
  };

  // A cached "no menu" must not outlive the publication.
  Fill(read_port, target, parent_token, 404);
  Fill(read_port, target, admin_token, 404);
  const std::vector<std::string> first = {Item(f, 0, 5)};
  put(true, first);
  ApiResponse shown = ReadUntil(
      read_port, target, parent_token, [&](const ApiResponse& r) { return items_are(r, first); },
      settle);
  ASSERT_TRUE(items_are(shown, first)) << "published menu not shown: " << shown.body;
  ApiResponse staff_shown = ReadUntil(
      read_port, target, admin_token, [&](const ApiResponse& r) { return items_are(r, first); },
      settle);
  EXPECT_TRUE(items_are(staff_shown, first)) << staff_shown.body;

  // Replacing the items.
  const std::vector<std::string> second = {Item(f, 0, 6), Item(f, 0, 7)};
  put(true, second);
  ApiResponse replaced = ReadUntil(
      read_port, target, parent_token, [&](const ApiResponse& r) { return items_are(r, second); },
      settle);
  EXPECT_TRUE(items_are(replaced, second)) << "old items still shown: " << replaced.body;
  ExpectNewRepresentation(read_port, target, parent_token, shown, replaced);

  // Withdrawing it: parents see no menu, staff the draft.
  staff_shown = Fill(read_port, target, admin_token);
  put(false, second);
  ApiResponse hidden = ReadUntil(
      read_port, target, parent_token, [](const ApiResponse& r) { return r.status == 404; },
      settle);
  EXPECT_EQ(hidden.status, 404) << "a draft is still shown to a parent: " << hidden.body;
  EXPECT_EQ(hidden.ErrorCode(), "MENU_NOT_FOUND");
  ApiResponse draft = ReadUntil(
      read_port, target, admin_token,
      [](const ApiResponse& r) {
        const json::value* p = r.Data().if_contains("isPublished");
        return p && p->is_bool() && !p->as_bool();
      },
      settle);
  ASSERT_EQ(draft.status, 200) << draft.body;
  EXPECT_FALSE(draft.Data().at("isPublished").as_bool()) << draft.body;
  ExpectNewRepresentation(read_port, target, admin_token, staff_shown, draft);
}

void CacheScenario::UserRehash() const {
  const json::object& f = fixtures;
  const json::value& parent = School(f, 1).at("parents").at(0);
  const json::value& child = parent.at("children").at(0);
  const std::string target = "/api/v1/users/" + Str(child, "id");
  const std::string parent_token = LoginAt(write_port, parent);
  const std::string admin_token = LoginAt(write_port, School(f, 1).at("schoolAdmin"));
  ApiResponse parent_before = Fill(read_port, target, parent_token);
  ApiResponse admin_before = Fill(read_port, target, admin_token);
  const std::string updated = Str(parent_before.Data(), "updatedAt");
  ASSERT_FALSE(updated.empty()) << parent_before.body;

  // The seed hashed with opslimit 1; the server's 2 makes this login store a new hash.
  ASSERT_FALSE(LoginAt(write_port, child).empty());

  for (const auto& [token, before] :
       {std::pair{parent_token, parent_before}, std::pair{admin_token, admin_before}}) {
    ApiResponse after = ReadUntil(
        read_port, target, token,
        [&](const ApiResponse& r) {
          return r.status == 200 && Str(r.Data(), "updatedAt") != updated;
        },
        settle);
    ASSERT_EQ(after.status, 200) << after.body;
    EXPECT_NE(Str(after.Data(), "updatedAt"), updated)
        << "users-get still shows the user as before the re-hash";
    ExpectNewRepresentation(read_port, target, token, before, after);
  }
}

RedisProcess::RedisProcess(int port) : port_(port > 0 ? port : FreePort()) {
  const char* bin_env = std::getenv("HASIVU_REDIS_SERVER");
  const std::string bin = bin_env && *bin_env ? bin_env : "/usr/bin/redis-server";
  const std::string port_text = std::to_string(port_);
  pid_ = fork();
  if (pid_ == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    const int devnull = open("/dev/null", O_RDWR);
    if (devnull >= 0) {
      dup2(devnull, 0);
      dup2(devnull, 1);
      dup2(devnull, 2);
    }
    execl(bin.c_str(), bin.c_str(), "--port", port_text.c_str(), "--bind", "127.0.0.1", "--save",
          "", "--appendonly", "no", static_cast<char*>(nullptr));
    _exit(127);
  }
  if (pid_ < 0) return;
  const auto deadline = steady_clock::now() + std::chrono::seconds(5);
  while (steady_clock::now() < deadline) {
    if (RedisCommands(port_, {"PING"}).find("+PONG") != std::string::npos) {
      started_ = true;
      return;
    }
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
}

RedisProcess::~RedisProcess() {
  if (pid_ <= 0) return;
  kill(pid_, SIGCONT);
  kill(pid_, SIGTERM);
  const auto deadline = steady_clock::now() + std::chrono::seconds(5);
  int status = 0;
  while (steady_clock::now() < deadline) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) return;
    std::this_thread::sleep_for(milliseconds(10));
  }
  Kill();
}

void RedisProcess::Signal(int signal) const {
  if (pid_ > 0) kill(pid_, signal);
}

void RedisProcess::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  started_ = false;
}

std::string RedisCommands(int port, const std::vector<std::string>& commands) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return "";
  timeval tv{.tv_sec = 2, .tv_usec = 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return "";
  }
  std::string out;
  for (const std::string& c : commands) out += c + "\r\n";
  out += "QUIT\r\n";
  if (send(fd, out.data(), out.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(out.size())) {
    close(fd);
    return "";
  }
  std::string in;
  char buf[4096];
  for (;;) {
    const ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    in.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return in;
}

double MetricValue(const std::string& metrics_text, const std::string& name) {
  std::istringstream in(metrics_text);
  std::string line;
  double sum = 0;
  bool found = false;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#' || line.compare(0, name.size(), name) != 0) continue;
    if (line.size() <= name.size() || (line[name.size()] != ' ' && line[name.size()] != '{')) {
      continue;
    }
    const size_t space = line.find_last_of(' ');
    if (space == std::string::npos) continue;
    sum += std::strtod(line.c_str() + space + 1, nullptr);
    found = true;
  }
  return found ? sum : -1;
}

}  // namespace hasivu::testing
