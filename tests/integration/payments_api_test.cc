// Black-box tests of payments-create-order, payments-verify, /payments/simulate and
// /payments/webhook, each run against both gateways: the simulated one, and the Razorpay client
// talking to a local Razorpay stand-in that runs inside this test process.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "payments/signature.h"
#include "payments/testing/razorpay_standin.h"
#include "tests/integration/api_fixture.h"

namespace hasivu::testing {
namespace {

namespace json = boost::json;
using payments::testing::RazorpayStandin;

constexpr const char* kKeyId = "rzp_test_blackbox";
constexpr const char* kKeySecret = "blackbox-key-secret-0123456789";
constexpr const char* kWebhookSecret = "blackbox-webhook-secret-0123456789";

struct SimulatedBackend {
  static constexpr bool kRazorpay = false;
};
struct RazorpayBackend {
  static constexpr bool kRazorpay = true;
};

struct PoolOrder {
  std::string id;
  int64_t total = 0;
  std::string student_id;
  std::string token;  // of the student's parent
  std::string parent_id;
};

struct Checkout {
  std::string order_id;
  std::string payment_id;
  std::string signature;
};

template <typename Backend>
class PaymentsApiTest : public ApiSuite {
 public:
  static void SetUpTestSuite() {
    std::vector<std::string> args;
    if (Backend::kRazorpay) {
      Standin() = std::make_unique<RazorpayStandin>(kKeyId, kKeySecret);
      args = {"--gateway", "razorpay", "--razorpay-base-url", Standin()->base_url()};
    }
    SetServerOptions(args, {{"HASIVU_RAZORPAY_KEY_ID", kKeyId},
                            {"HASIVU_RAZORPAY_KEY_SECRET", kKeySecret},
                            {"HASIVU_RAZORPAY_WEBHOOK_SECRET", kWebhookSecret}});
    ApiSuite::SetUpTestSuite();
  }
  static void TearDownTestSuite() {
    ApiSuite::TearDownTestSuite();
    Standin().reset();
    Pool().clear();
    Tokens().clear();
    PoolLoaded() = false;
  }

 protected:
  static std::unique_ptr<RazorpayStandin>& Standin() {
    static std::unique_ptr<RazorpayStandin> s;
    return s;
  }
  static std::vector<PoolOrder>& Pool() {
    static std::vector<PoolOrder> p;
    return p;
  }
  static std::map<std::string, std::string>& Tokens() {
    static std::map<std::string, std::string> t;
    return t;
  }
  static bool& PoolLoaded() {
    static bool loaded = false;
    return loaded;
  }

  // Logs in once per account for the whole suite.
  static std::string TokenOf(const json::value& account) {
    const std::string email = Str(account, "email");
    auto it = Tokens().find(email);
    if (it != Tokens().end()) return it->second;
    std::string token = Login(account);
    Tokens()[email] = token;
    return token;
  }
  static std::string AdminToken() { return TokenOf(Fixtures().at("admin")); }

  // The parent account of a student, from the fixtures.
  static const json::value* ParentOf(const std::string& student_id) {
    for (const auto& school : Fixtures().at("schools").as_array()) {
      for (const auto& parent : school.at("parents").as_array()) {
        for (const auto& child : parent.at("children").as_array()) {
          if (Str(child, "id") == student_id) return &parent;
        }
      }
    }
    return nullptr;
  }

  static std::vector<json::object> ListOrders(const std::string& query) {
    ApiResponse r = Call("GET", "/api/v1/orders?" + query, AdminToken());
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<json::object> out;
    if (r.status != 200) return out;
    for (const auto& o : r.Data().at("orders").as_array()) out.push_back(o.as_object());
    return out;
  }

  // A pending, unpaid seeded order of some parent that no other test has used.
  PoolOrder TakeOrder() {
    if (!PoolLoaded()) {
      PoolLoaded() = true;
      for (const auto& o : ListOrders("status=pending&paymentStatus=pending&limit=100")) {
        const std::string student = std::string(o.at("studentId").as_string());
        const json::value* parent = ParentOf(student);
        if (!parent || o.at("totalAmount").as_int64() < 100) continue;
        Pool().push_back(PoolOrder{.id = std::string(o.at("id").as_string()),
                                   .total = o.at("totalAmount").as_int64(),
                                   .student_id = student,
                                   .token = "",
                                   .parent_id = Str(*parent, "id")});
      }
    }
    if (Pool().empty()) {
      ADD_FAILURE() << "no pending seeded orders left";
      return {};
    }
    PoolOrder o = Pool().back();
    Pool().pop_back();
    o.token = TokenOf(*ParentOf(o.student_id));
    return o;
  }

  // Another parent's token (not the parent of `o`).
  std::string OtherParentToken(const PoolOrder& o) {
    for (const auto& school : Fixtures().at("schools").as_array()) {
      for (const auto& parent : school.at("parents").as_array()) {
        if (Str(parent, "id") != o.parent_id) return TokenOf(parent);
      }
    }
    return "";
  }

  static ApiResponse CreatePaymentOrder(const std::string& token, const std::string& order_id,
                                        std::optional<json::value> amount = std::nullopt) {
    json::object body{{"orderId", order_id}};
    if (amount) body["amount"] = *amount;
    return Call("POST", "/api/v1/payments/orders", token, Json(body));
  }

  // Creates a payment order and returns its gateway order id ("" on failure).
  static std::string NewGatewayOrder(const PoolOrder& o) {
    ApiResponse r = CreatePaymentOrder(o.token, o.id);
    EXPECT_TRUE(r.status == 201 || r.status == 200) << r.body;
    if (r.status != 201 && r.status != 200) return "";
    return std::string(r.Data().at("paymentOrder").at("gatewayOrderId").as_string());
  }

  // Plays the customer's checkout on the configured gateway.
  static Checkout Pay(const std::string& token, const std::string& gateway_order_id,
                      bool success = true) {
    if (Backend::kRazorpay) {
      const std::string pay_id = Standin()->Pay(gateway_order_id, success ? "captured" : "failed");
      EXPECT_FALSE(pay_id.empty());
      return {gateway_order_id, pay_id,
              payments::CheckoutSignature(kKeySecret, gateway_order_id, pay_id)};
    }
    ApiResponse r = Call("POST", "/api/v1/payments/simulate", token,
                         Json(json::object{{"razorpayOrderId", gateway_order_id},
                                           {"outcome", success ? "success" : "failure"}}));
    EXPECT_EQ(r.status, 200) << r.body;
    if (r.status != 200) return {};
    return {std::string(r.Data().at("razorpayOrderId").as_string()),
            std::string(r.Data().at("razorpayPaymentId").as_string()),
            std::string(r.Data().at("razorpaySignature").as_string())};
  }

  static ApiResponse Verify(const std::string& token, const Checkout& c) {
    return Call("POST", "/api/v1/payments/verify", token,
                Json(json::object{{"razorpayOrderId", c.order_id},
                                  {"razorpayPaymentId", c.payment_id},
                                  {"razorpaySignature", c.signature}}));
  }

  static json::object GetOrder(const std::string& token, const std::string& id) {
    ApiResponse r = Call("GET", "/api/v1/orders/" + id, token);
    EXPECT_EQ(r.status, 200) << r.body;
    if (r.status != 200) return {};
    const json::object& d = r.Data();
    if (const json::value* o = d.if_contains("order"); o && o->is_object()) return o->as_object();
    return d;
  }

  static ApiResponse Webhook(const std::string& body, const std::string& signature) {
    std::vector<std::string> headers;
    if (!signature.empty()) headers.push_back("X-Razorpay-Signature: " + signature);
    return Call("POST", "/api/v1/payments/webhook", "", body, headers);
  }

  static std::string PaymentEvent(const std::string& event, const Checkout& c, int64_t amount,
                                  const std::string& status) {
    json::object entity{{"id", c.payment_id}, {"entity", "payment"},
                        {"amount", amount},   {"currency", "INR"},
                        {"status", status},   {"order_id", c.order_id},
                        {"method", "upi"},    {"captured", status == "captured"}};
    return Json(
        json::object{{"entity", "event"},
                     {"account_id", "acc_BlackBox000001"},
                     {"event", event},
                     {"contains", json::array{"payment"}},
                     {"payload", json::object{{"payment", json::object{{"entity", entity}}}}},
                     {"created_at", 1700000000}});
  }

  // Error bodies never carry internals.
  static void ExpectCleanError(const ApiResponse& r) {
    for (const char* leak : {"SELECT", "sqlite", "postgres", "SQL", ".cc", "127.0.0.1",
                             "razorpay:", kKeySecret, kWebhookSecret}) {
      EXPECT_EQ(r.body.find(leak), std::string::npos) << leak << " in " << r.body;
    }
  }
};

using Backends = ::testing::Types<SimulatedBackend, RazorpayBackend>;
class BackendNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    return T::kRazorpay ? "Razorpay" : "Simulated";
  }
};
TYPED_TEST_SUITE(PaymentsApiTest, Backends, BackendNames);

TYPED_TEST(PaymentsApiTest, FullFlowConfirmsTheOrderAndRepeatsIdempotently) {
  PoolOrder o = this->TakeOrder();
  ApiResponse created = this->CreatePaymentOrder(o.token, o.id);
  ASSERT_EQ(created.status, 201) << created.body;
  const json::object& po = created.Data().at("paymentOrder").as_object();
  EXPECT_TRUE(std::regex_match(std::string(po.at("gatewayOrderId").as_string()),
                               std::regex("^order_[A-Za-z0-9]{14}$")));
  EXPECT_EQ(po.at("orderId").as_string(), o.id);
  EXPECT_EQ(po.at("amount").as_int64(), o.total);
  EXPECT_EQ(po.at("currency").as_string(), "INR");
  EXPECT_EQ(po.at("status").as_string(), "created");
  EXPECT_EQ(po.at("id").as_string().size(), 36u);
  EXPECT_FALSE(po.at("expiresAt").as_string().empty());
  EXPECT_EQ(created.Data().at("keyId").as_string(), kKeyId);
  const std::string gid(po.at("gatewayOrderId").as_string());

  Checkout c = this->Pay(o.token, gid);
  EXPECT_TRUE(std::regex_match(c.payment_id, std::regex("^pay_[A-Za-z0-9]{14}$")));
  EXPECT_EQ(c.signature, payments::CheckoutSignature(kKeySecret, gid, c.payment_id));

  ApiResponse v = this->Verify(o.token, c);
  ASSERT_EQ(v.status, 200) << v.body;
  const json::object& ver = v.Data().at("verification").as_object();
  EXPECT_EQ(ver.at("verified").as_bool(), true);
  EXPECT_EQ(ver.at("paymentId").as_string(), c.payment_id);
  EXPECT_EQ(ver.at("orderId").as_string(), o.id);
  EXPECT_EQ(ver.at("amount").as_int64(), o.total);
  EXPECT_EQ(ver.at("currency").as_string(), "INR");
  EXPECT_EQ(ver.at("status").as_string(), "captured");
  EXPECT_FALSE(ver.at("verifiedAt").as_string().empty());

  json::object order = this->GetOrder(o.token, o.id);
  EXPECT_EQ(order["paymentStatus"], "paid");
  EXPECT_EQ(order["status"], "confirmed");

  // The same verification again answers the same 200.
  ApiResponse again = this->Verify(o.token, c);
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(Json(again.Data()), Json(v.Data()));

  // A paid order is not payable any more.
  ApiResponse more = this->CreatePaymentOrder(o.token, o.id);
  EXPECT_EQ(more.status, 422) << more.body;
  EXPECT_EQ(more.ErrorCode(), "ORDER_NOT_PAYABLE");
}

TYPED_TEST(PaymentsApiTest, LivePaymentOrderIsReturnedAgain) {
  PoolOrder o = this->TakeOrder();
  ApiResponse first = this->CreatePaymentOrder(o.token, o.id);
  ASSERT_EQ(first.status, 201) << first.body;
  ApiResponse second = this->CreatePaymentOrder(o.token, o.id, json::value(o.total));
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(Json(second.Data()), Json(first.Data()));
  // The admin may create it too, and gets the same live one.
  ApiResponse admin = this->CreatePaymentOrder(this->AdminToken(), o.id);
  ASSERT_EQ(admin.status, 200) << admin.body;
  EXPECT_EQ(admin.Data().at("paymentOrder").at("id"), first.Data().at("paymentOrder").at("id"));
}

TYPED_TEST(PaymentsApiTest, ConcurrentCreatesMakeOnePaymentOrder) {
  PoolOrder o = this->TakeOrder();
  constexpr int kThreads = 6;
  std::vector<ApiResponse> answers(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] { answers[i] = this->CreatePaymentOrder(o.token, o.id); });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> ids;
  int created = 0;
  for (const ApiResponse& r : answers) {
    ASSERT_TRUE(r.status == 201 || r.status == 200) << r.body;
    if (r.status == 201) ++created;
    ids.insert(std::string(r.Data().at("paymentOrder").at("id").as_string()));
  }
  EXPECT_EQ(created, 1);
  EXPECT_EQ(ids.size(), 1u);
}

TYPED_TEST(PaymentsApiTest, AmountMustBeTheServersTotal) {
  PoolOrder o = this->TakeOrder();
  ApiResponse r = this->CreatePaymentOrder(o.token, o.id, json::value(o.total + 1));
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(r.ErrorCode(), "AMOUNT_MISMATCH");
  r = this->CreatePaymentOrder(o.token, o.id, json::value(1));
  EXPECT_EQ(r.ErrorCode(), "AMOUNT_MISMATCH");
  r = this->CreatePaymentOrder(o.token, o.id, json::value(static_cast<double>(o.total) + 0.5));
  EXPECT_EQ(r.status, 400) << r.body;
  r = this->CreatePaymentOrder(o.token, o.id, json::value("100"));
  EXPECT_EQ(r.status, 400) << r.body;
  r = this->CreatePaymentOrder(o.token, o.id, json::value(-5));
  EXPECT_EQ(r.status, 400) << r.body;
  r = this->CreatePaymentOrder(o.token, o.id, json::value(o.total));
  EXPECT_EQ(r.status, 201) << r.body;
}

TYPED_TEST(PaymentsApiTest, OrderThatIsNotPendingIsNotPayable) {
  std::vector<json::object> confirmed = this->ListOrders("status=confirmed&limit=5");
  ASSERT_FALSE(confirmed.empty());
  ApiResponse r =
      this->CreatePaymentOrder(this->AdminToken(), std::string(confirmed[0].at("id").as_string()));
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(r.ErrorCode(), "ORDER_NOT_PAYABLE");
  std::vector<json::object> cancelled = this->ListOrders("status=cancelled&limit=5");
  ASSERT_FALSE(cancelled.empty());
  r = this->CreatePaymentOrder(this->AdminToken(), std::string(cancelled[0].at("id").as_string()));
  EXPECT_EQ(r.ErrorCode(), "ORDER_NOT_PAYABLE");
}

TYPED_TEST(PaymentsApiTest, OrdersOfOthersAndUnknownOrdersAreNotFound) {
  PoolOrder o = this->TakeOrder();
  const std::string other = this->OtherParentToken(o);
  ApiResponse r = this->CreatePaymentOrder(other, o.id);
  EXPECT_EQ(r.status, 404) << r.body;
  // An X-User-Id header never makes anyone the owner.
  r = this->Call("POST", "/api/v1/payments/orders", other, Json(json::object{{"orderId", o.id}}),
                 {"X-User-Id: " + o.parent_id});
  EXPECT_EQ(r.status, 404) << r.body;
  r = this->CreatePaymentOrder(o.token, "01890a5d-ac96-774b-bcce-b302099a8057");
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_EQ(r.ErrorCode(), "ORDER_NOT_FOUND");
  r = this->CreatePaymentOrder(o.token, "' OR 1=1 --");
  EXPECT_EQ(r.status, 400) << r.body;
  this->ExpectCleanError(r);
  r = this->Call("POST", "/api/v1/payments/orders", o.token, Json(json::object{}));
  EXPECT_EQ(r.status, 400) << r.body;
  r = this->Call("POST", "/api/v1/payments/orders", "", Json(json::object{{"orderId", o.id}}));
  EXPECT_EQ(r.status, 401) << r.body;
  r = this->Call("POST", "/api/v1/payments/orders", o.token, "{not json");
  EXPECT_EQ(r.status, 400) << r.body;
}

TYPED_TEST(PaymentsApiTest, KitchenStaffSeesButMayNotPay) {
  PoolOrder o = this->TakeOrder();
  json::object order = this->GetOrder(this->AdminToken(), o.id);
  const std::string school_id(order.at("school").at("id").as_string());
  for (const auto& school : this->Fixtures().at("schools").as_array()) {
    if (Str(school, "id") != school_id) continue;
    ApiResponse r = this->CreatePaymentOrder(this->TokenOf(school.at("kitchenStaff").at(0)), o.id);
    EXPECT_EQ(r.status, 403) << r.body;
    r = this->CreatePaymentOrder(this->TokenOf(school.at("schoolAdmin")), o.id);
    EXPECT_EQ(r.status, 201) << r.body;
  }
}

TYPED_TEST(PaymentsApiTest, SignatureIsChecked) {
  PoolOrder o = this->TakeOrder();
  const std::string gid = this->NewGatewayOrder(o);
  Checkout c = this->Pay(o.token, gid);
  Checkout bad = c;
  bad.signature[0] = bad.signature[0] == 'a' ? 'b' : 'a';
  ApiResponse r = this->Verify(o.token, bad);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(r.ErrorCode(), "INVALID_SIGNATURE");
  // A signature of another payment id does not fit.
  bad = c;
  bad.payment_id = "pay_AAAAAAAAAAAAAA";
  r = this->Verify(o.token, bad);
  EXPECT_EQ(r.ErrorCode(), "INVALID_SIGNATURE");
  // Nor one made with another key.
  bad = c;
  bad.signature = payments::CheckoutSignature("not-the-key", c.order_id, c.payment_id);
  r = this->Verify(o.token, bad);
  EXPECT_EQ(r.ErrorCode(), "INVALID_SIGNATURE");
  this->ExpectCleanError(r);
  // Missing fields: 400 with details per field.
  r = this->Call("POST", "/api/v1/payments/verify", o.token, Json(json::object{}));
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(r.json.at("error").at("details").as_array().size(), 3u);
  r = this->Call("POST", "/api/v1/payments/verify", o.token,
                 Json(json::object{{"razorpayOrderId", "order_x' OR '1'='1"},
                                   {"razorpayPaymentId", c.payment_id},
                                   {"razorpaySignature", c.signature}}));
  EXPECT_EQ(r.status, 400) << r.body;
  this->ExpectCleanError(r);
  // The untouched checkout still verifies.
  r = this->Verify(o.token, c);
  EXPECT_EQ(r.status, 200) << r.body;
}

TYPED_TEST(PaymentsApiTest, SqlMetacharactersInPaymentIdsSignaturesAndWebhooksAreHarmless) {
  PoolOrder o = this->TakeOrder();
  Checkout c = this->Pay(o.token, this->NewGatewayOrder(o));
  const std::string evil = "' OR '1'='1'; UPDATE orders SET payment_status='paid';--";
  Checkout bad = c;
  bad.payment_id = "pay_" + evil;
  ApiResponse r = this->Verify(o.token, bad);
  EXPECT_EQ(r.status, 400) << r.body;
  this->ExpectCleanError(r);
  bad = c;
  bad.signature = evil;
  r = this->Verify(o.token, bad);
  EXPECT_GE(r.status, 400) << r.body;
  EXPECT_LT(r.status, 500) << r.body;
  this->ExpectCleanError(r);
  // A correctly signed webhook whose ids carry SQL is refused or ignored, never applied.
  Checkout hostile = c;
  hostile.payment_id = "pay_" + evil;
  hostile.order_id = "order_" + evil;
  const std::string body = this->PaymentEvent("payment.captured", hostile, o.total, "captured");
  r = this->Webhook(body, payments::WebhookSignature(kWebhookSecret, body));
  EXPECT_LT(r.status, 500) << r.body;
  if (r.status >= 400) this->ExpectCleanError(r);
  EXPECT_EQ(this->GetOrder(o.token, o.id)["paymentStatus"], "pending");
  // The real checkout still verifies.
  r = this->Verify(o.token, c);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(this->GetOrder(o.token, o.id)["paymentStatus"], "paid");
}

TYPED_TEST(PaymentsApiTest, UnknownOrForeignPaymentOrderIsNotFound) {
  const std::string gid = "order_ZZZZZZZZZZZZZZ";
  const std::string pid = "pay_ZZZZZZZZZZZZZZ";
  PoolOrder o = this->TakeOrder();
  ApiResponse r =
      this->Verify(o.token, {gid, pid, payments::CheckoutSignature(kKeySecret, gid, pid)});
  EXPECT_EQ(r.status, 404) << r.body;
  const std::string real = this->NewGatewayOrder(o);
  Checkout c = this->Pay(o.token, real);
  r = this->Verify(this->OtherParentToken(o), c);
  EXPECT_EQ(r.status, 404) << r.body;
  // The owner still can.
  EXPECT_EQ(this->Verify(o.token, c).status, 200);
}

TYPED_TEST(PaymentsApiTest, SecondPaymentOfAPaidOrderIsAlreadyPaid) {
  PoolOrder o = this->TakeOrder();
  const std::string gid = this->NewGatewayOrder(o);
  // A failed attempt first (not verified yet), then a successful one.
  Checkout failed = this->Pay(o.token, gid, /*success=*/false);
  Checkout paid = this->Pay(o.token, gid);
  ASSERT_EQ(this->Verify(o.token, paid).status, 200);
  ApiResponse r = this->Verify(o.token, failed);
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(r.ErrorCode(), "ALREADY_PAID");
  if (TypeParam::kRazorpay) {
    // Razorpay itself may report a second captured payment for one order.
    Checkout second = this->Pay(o.token, gid);
    r = this->Verify(o.token, second);
    EXPECT_EQ(r.ErrorCode(), "ALREADY_PAID") << r.body;
  } else {
    r = this->Call("POST", "/api/v1/payments/simulate", o.token,
                   Json(json::object{{"razorpayOrderId", gid}}));
    EXPECT_EQ(r.status, 409) << r.body;
  }
  EXPECT_EQ(this->GetOrder(o.token, o.id)["paymentStatus"], "paid");
}

TYPED_TEST(PaymentsApiTest, FailedPaymentMarksTheOrderFailedAndAllowsANewAttempt) {
  PoolOrder o = this->TakeOrder();
  ApiResponse created = this->CreatePaymentOrder(o.token, o.id);
  ASSERT_EQ(created.status, 201);
  const std::string gid(created.Data().at("paymentOrder").at("gatewayOrderId").as_string());
  Checkout failed = this->Pay(o.token, gid, /*success=*/false);
  ApiResponse r = this->Verify(o.token, failed);
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(r.ErrorCode(), "PAYMENT_FAILED");
  json::object order = this->GetOrder(o.token, o.id);
  EXPECT_EQ(order["paymentStatus"], "failed");
  EXPECT_EQ(order["status"], "pending");
  EXPECT_EQ(this->Verify(o.token, failed).ErrorCode(), "PAYMENT_FAILED");  // idempotent
  // A new payment order replaces the failed one, and pays the order.
  ApiResponse again = this->CreatePaymentOrder(o.token, o.id);
  ASSERT_EQ(again.status, 201) << again.body;
  EXPECT_NE(again.Data().at("paymentOrder").at("id"), created.Data().at("paymentOrder").at("id"));
  const std::string gid2(again.Data().at("paymentOrder").at("gatewayOrderId").as_string());
  ASSERT_EQ(this->Verify(o.token, this->Pay(o.token, gid2)).status, 200);
  EXPECT_EQ(this->GetOrder(o.token, o.id)["paymentStatus"], "paid");
}

TYPED_TEST(PaymentsApiTest, ConcurrentVerifiesHaveExactlyOneEffect) {
  PoolOrder o = this->TakeOrder();
  Checkout c = this->Pay(o.token, this->NewGatewayOrder(o));
  constexpr int kThreads = 8;
  std::vector<ApiResponse> answers(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] { answers[i] = this->Verify(o.token, c); });
  }
  for (auto& t : threads) t.join();
  // Every answer is the same 200: one recorded payment, one verifiedAt.
  for (const ApiResponse& r : answers) {
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(Json(r.Data()), Json(answers[0].Data()));
  }
  EXPECT_EQ(this->GetOrder(o.token, o.id)["status"], "confirmed");
  // In the database: one captured transaction and one audit entry for the order.
  EXPECT_EQ(this->Sql("SELECT COUNT(*) FROM payment_transactions WHERE gateway_payment_id = '" +
                      c.payment_id + "'"),
            "1");
  EXPECT_EQ(
      this->Sql("SELECT COUNT(*) FROM audit_logs WHERE entity_type = 'order' AND entity_id = '" +
                o.id + "' AND action = 'payment_captured'"),
      "1");
}

TYPED_TEST(PaymentsApiTest, WebhookIsSignedAndIdempotentWithVerify) {
  PoolOrder o = this->TakeOrder();
  Checkout c = this->Pay(o.token, this->NewGatewayOrder(o));
  const std::string body = this->PaymentEvent("payment.captured", c, o.total, "captured");
  ApiResponse r = this->Webhook(body, "");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(r.ErrorCode(), "INVALID_SIGNATURE");
  r = this->Webhook(body, payments::WebhookSignature("wrong-secret", body));
  EXPECT_EQ(r.ErrorCode(), "INVALID_SIGNATURE");
  // The signature covers the raw bytes: the same JSON with other spacing does not pass.
  r = this->Webhook(body + " ", payments::WebhookSignature(kWebhookSecret, body));
  EXPECT_EQ(r.ErrorCode(), "INVALID_SIGNATURE");
  EXPECT_EQ(this->GetOrder(o.token, o.id)["paymentStatus"], "pending");

  r = this->Webhook(body, payments::WebhookSignature(kWebhookSecret, body));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Data().at("result").as_string(), "applied");
  json::object order = this->GetOrder(o.token, o.id);
  EXPECT_EQ(order["paymentStatus"], "paid");
  EXPECT_EQ(order["status"], "confirmed");
  r = this->Webhook(body, payments::WebhookSignature(kWebhookSecret, body));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Data().at("result").as_string(), "duplicate");
  // Verify after the webhook: the same payment, the same 200.
  ApiResponse v = this->Verify(o.token, c);
  ASSERT_EQ(v.status, 200) << v.body;
  EXPECT_EQ(v.Data().at("verification").at("paymentId").as_string(), c.payment_id);

  const std::string other = R"({"event":"refund.created","payload":{}})";
  r = this->Webhook(other, payments::WebhookSignature(kWebhookSecret, other));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Data().at("result").as_string(), "ignored");
  const std::string junk = "not json";
  r = this->Webhook(junk, payments::WebhookSignature(kWebhookSecret, junk));
  EXPECT_EQ(r.status, 400) << r.body;
}

TYPED_TEST(PaymentsApiTest, WebhookPaymentFailedMarksFailed) {
  PoolOrder o = this->TakeOrder();
  Checkout c = this->Pay(o.token, this->NewGatewayOrder(o), /*success=*/false);
  const std::string body = this->PaymentEvent("payment.failed", c, o.total, "failed");
  ApiResponse r = this->Webhook(body, payments::WebhookSignature(kWebhookSecret, body));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Data().at("result").as_string(), "applied");
  EXPECT_EQ(this->GetOrder(o.token, o.id)["paymentStatus"], "failed");
}

TYPED_TEST(PaymentsApiTest, SimulateExistsOnlyOnTheSimulatedGateway) {
  PoolOrder o = this->TakeOrder();
  const std::string gid = this->NewGatewayOrder(o);
  ApiResponse r = this->Call("POST", "/api/v1/payments/simulate", o.token,
                             Json(json::object{{"razorpayOrderId", gid}, {"outcome", "success"}}));
  if (TypeParam::kRazorpay) {
    EXPECT_EQ(r.status, 404) << r.body;
    return;
  }
  // Not the caller's payment order -> 404; bad outcome -> 400.
  ApiResponse other = this->Call("POST", "/api/v1/payments/simulate", this->OtherParentToken(o),
                                 Json(json::object{{"razorpayOrderId", gid}}));
  EXPECT_EQ(other.status, 404) << other.body;
  ApiResponse bad = this->Call("POST", "/api/v1/payments/simulate", o.token,
                               Json(json::object{{"razorpayOrderId", gid}, {"outcome", "maybe"}}));
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(r.status, 200) << r.body;
}

TYPED_TEST(PaymentsApiTest, RazorpayAmountMustMatchAndOutagesAre503) {
  if (!TypeParam::kRazorpay) GTEST_SKIP() << "Razorpay gateway only";
  PoolOrder o = this->TakeOrder();
  const std::string gid = this->NewGatewayOrder(o);
  const std::string pay = this->Standin()->Pay(gid, "captured", o.total - 1);
  ApiResponse r =
      this->Verify(o.token, {gid, pay, payments::CheckoutSignature(kKeySecret, gid, pay)});
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(r.ErrorCode(), "AMOUNT_MISMATCH");
  const std::string authorized = this->Standin()->Pay(gid, "authorized");
  r = this->Verify(o.token,
                   {gid, authorized, payments::CheckoutSignature(kKeySecret, gid, authorized)});
  EXPECT_EQ(r.status, 200) << r.body;
  // Authorized is not captured: the server captured it before it confirmed the order.
  EXPECT_EQ(this->Standin()->payment_status(authorized), "captured");
  size_t captures = 0;
  for (const auto& req : this->Standin()->requests()) {
    captures += req.method == "POST" && req.target == "/v1/payments/" + authorized + "/capture";
  }
  EXPECT_EQ(captures, 1u);

  PoolOrder o2 = this->TakeOrder();
  this->Standin()->FailNext(100, 500);
  r = this->CreatePaymentOrder(o2.token, o2.id);
  this->Standin()->FailNext(0);
  EXPECT_EQ(r.status, 503) << r.body;
  this->ExpectCleanError(r);
  r = this->CreatePaymentOrder(o2.token, o2.id);
  EXPECT_EQ(r.status, 201) << r.body;
}

TYPED_TEST(PaymentsApiTest, RazorpayCaptureOutageIs503AndTheRetryCaptures) {
  if (!TypeParam::kRazorpay) GTEST_SKIP() << "Razorpay gateway only";
  PoolOrder o = this->TakeOrder();
  const std::string gid = this->NewGatewayOrder(o);
  const std::string pay = this->Standin()->Pay(gid, "authorized");
  const Checkout c{gid, pay, payments::CheckoutSignature(kKeySecret, gid, pay)};
  auto captures_of = [&] {
    size_t n = 0;
    for (const auto& req : this->Standin()->requests()) {
      n += req.method == "POST" && req.target == "/v1/payments/" + pay + "/capture";
    }
    return n;
  };
  // Only the captures fail: the payment's fetch (a GET) answers, so the outage is the capture's.
  this->Standin()->FailNext(100, 503, "POST");
  ApiResponse r = this->Verify(o.token, c);
  this->Standin()->FailNext(0);
  EXPECT_EQ(r.status, 503) << r.body;
  this->ExpectCleanError(r);
  EXPECT_EQ(this->GetOrder(o.token, o.id).at("paymentStatus").as_string(), "pending");
  const size_t failed_captures = captures_of();
  EXPECT_GE(failed_captures, 1u);
  EXPECT_EQ(this->Standin()->payment_status(pay), "authorized");
  // The answer of the first capture is lost: the retry still confirms, and captures once.
  this->Standin()->LoseNextAnswers(1, "POST");  // the capture
  r = this->Verify(o.token, c);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(this->Standin()->payment_status(pay), "captured");
  EXPECT_EQ(this->GetOrder(o.token, o.id).at("paymentStatus").as_string(), "paid");
  // The lost one and its retry, which found it captured.
  EXPECT_EQ(captures_of(), failed_captures + 2u);
}

TYPED_TEST(PaymentsApiTest, CancellingAPaidOrderRefundsItOnce) {
  PoolOrder o = this->TakeOrder();
  const Checkout c = this->Pay(o.token, this->NewGatewayOrder(o));
  ApiResponse r = this->Verify(o.token, c);
  ASSERT_EQ(r.status, 200) << r.body;
  const size_t refunds_before = TypeParam::kRazorpay ? this->Standin()->refund_count() : 0;
  r = this->Call("PATCH", "/api/v1/orders/" + o.id + "/status", o.token,
                 Json(json::object{{"status", "cancelled"}}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Str(r.Data().at("order"), "status"), "cancelled");
  EXPECT_EQ(Str(r.Data().at("order"), "paymentStatus"), "refunded");
  EXPECT_EQ(this->GetOrder(o.token, o.id).at("paymentStatus").as_string(), "refunded");
  if (TypeParam::kRazorpay) {
    EXPECT_EQ(this->Standin()->payment_status(c.payment_id), "refunded");
    EXPECT_EQ(this->Standin()->refund_count(), refunds_before + 1);
  }
  // Cancelling again is refused, and refunds nothing more.
  r = this->Call("PATCH", "/api/v1/orders/" + o.id + "/status", o.token,
                 Json(json::object{{"status", "cancelled"}}));
  EXPECT_EQ(r.status, 422) << r.body;
  if (TypeParam::kRazorpay) {
    EXPECT_EQ(this->Standin()->refund_count(), refunds_before + 1);
  }
}

TYPED_TEST(PaymentsApiTest, RefundOwedAfterAGatewayOutageIsRetriedByCancellingAgain) {
  if (!TypeParam::kRazorpay) GTEST_SKIP() << "Razorpay gateway only";
  PoolOrder o = this->TakeOrder();
  const Checkout c = this->Pay(o.token, this->NewGatewayOrder(o));
  ASSERT_EQ(this->Verify(o.token, c).status, 200);
  const size_t refunds_before = this->Standin()->refund_count();
  this->Standin()->FailNext(100, 503);
  ApiResponse r = this->Call("PATCH", "/api/v1/orders/" + o.id + "/status", o.token,
                             Json(json::object{{"status", "cancelled"}}));
  this->Standin()->FailNext(0);
  // Cancelled; the refund is owed.
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Str(r.Data().at("order"), "status"), "cancelled");
  EXPECT_EQ(Str(r.Data().at("order"), "paymentStatus"), "paid");
  EXPECT_EQ(this->Standin()->refund_count(), refunds_before);
  // Another parent may not trigger it.
  r = this->Call("PATCH", "/api/v1/orders/" + o.id + "/status", this->OtherParentToken(o),
                 Json(json::object{{"status", "cancelled"}}));
  EXPECT_TRUE(r.status == 403 || r.status == 404) << r.body;
  EXPECT_EQ(this->Standin()->refund_count(), refunds_before);

  r = this->Call("PATCH", "/api/v1/orders/" + o.id + "/status", o.token,
                 Json(json::object{{"status", "cancelled"}}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Str(r.Data().at("order"), "paymentStatus"), "refunded");
  EXPECT_EQ(this->Standin()->refund_count(), refunds_before + 1);
  EXPECT_EQ(this->Standin()->payment_status(c.payment_id), "refunded");
}

TYPED_TEST(PaymentsApiTest, RefundWebhookRefundsTheOrderOnce) {
  PoolOrder o = this->TakeOrder();
  const Checkout c = this->Pay(o.token, this->NewGatewayOrder(o));
  ASSERT_EQ(this->Verify(o.token, c).status, 200);
  const std::string refund_id = "rfnd_" + c.payment_id.substr(4);
  json::object refund{{"id", refund_id},   {"entity", "refund"},         {"amount", o.total},
                      {"currency", "INR"}, {"payment_id", c.payment_id}, {"status", "processed"}};
  const std::string body =
      Json(json::object{{"entity", "event"},
                        {"event", "refund.processed"},
                        {"contains", json::array{"refund", "payment"}},
                        {"payload", json::object{{"refund", json::object{{"entity", refund}}}}}});
  ApiResponse r = this->Webhook(body, payments::WebhookSignature(kWebhookSecret, body));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Str(r.Data(), "result"), "applied");
  EXPECT_EQ(this->GetOrder(o.token, o.id).at("paymentStatus").as_string(), "refunded");
  r = this->Webhook(body, payments::WebhookSignature(kWebhookSecret, body));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Str(r.Data(), "result"), "duplicate");
}

// Expiry through the API: a server whose payment orders live one second.
class PaymentExpiryApiTest : public PaymentsApiTest<SimulatedBackend> {
 public:
  static void SetUpTestSuite() {
    SetServerOptions({"--payment-order-ttl", "1"},
                     {{"HASIVU_RAZORPAY_KEY_ID", kKeyId},
                      {"HASIVU_RAZORPAY_KEY_SECRET", kKeySecret},
                      {"HASIVU_RAZORPAY_WEBHOOK_SECRET", kWebhookSecret}});
    ApiSuite::SetUpTestSuite();
  }
};

TEST_F(PaymentExpiryApiTest, VerifyAfterExpiryIs410AndANewPaymentOrderCanBePaid) {
  PoolOrder o = TakeOrder();
  const std::string expired_gid = NewGatewayOrder(o);
  ASSERT_FALSE(expired_gid.empty());
  const Checkout paid_too_late = Pay(o.token, expired_gid);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  ApiResponse r = Verify(o.token, paid_too_late);
  EXPECT_EQ(r.status, 410) << r.body;
  EXPECT_EQ(r.ErrorCode(), "PAYMENT_ORDER_EXPIRED");
  ExpectCleanError(r);

  // The expired payment order is not handed out again; a fresh one is, and it can be paid.
  const std::string fresh_gid = NewGatewayOrder(o);
  ASSERT_FALSE(fresh_gid.empty());
  EXPECT_NE(fresh_gid, expired_gid);
  ApiResponse ok = Verify(o.token, Pay(o.token, fresh_gid));
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(GetOrder(o.token, o.id).at("paymentStatus").as_string(), "paid");
}

}  // namespace
}  // namespace hasivu::testing
