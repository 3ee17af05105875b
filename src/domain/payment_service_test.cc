// PaymentService against a real database (SQLite: payment_service_test; PostgreSQL:
// payment_service_pgtest) with a fixed clock: expiry, the live payment order, the one-effect
// guarantee under concurrency, and what one verification writes. Over 600 lines: one fixture
// (database, clock, stand-in gateway) for every flow of payment_service.cc, in its order.
#include "domain/payment_service.h"

#include <gtest/gtest.h>

#include <functional>

#include <atomic>
#include <boost/json.hpp>
#include <mutex>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "common/time_util.h"
#include "metrics/monitor.h"
#include "payments/signature.h"
#include "payments/simulated/simulated_gateway.h"
#include "store/migrations.h"
#include "store/testing/test_backend.h"

namespace hasivu::domain {
namespace {

using store::Connection;
using store::Value;

constexpr const char* kSecret = "unit-key-secret";
constexpr const char* kWebhookSecret = "unit-webhook-secret";

// The simulated gateway, with failures of capture and refund to order.
class FaultyGateway : public payments::Gateway {
 public:
  explicit FaultyGateway(payments::SimulatedGatewayOptions options) : inner_(kSecret, options) {}
  std::string_view name() const override { return inner_.name(); }
  StatusOr<payments::GatewayOrder> CreateOrder(const payments::CreateOrderRequest& r) override {
    return inner_.CreateOrder(r);
  }
  StatusOr<payments::GatewayPayment> FetchPayment(std::string_view id) override {
    return inner_.FetchPayment(id);
  }
  StatusOr<payments::GatewayPayment> CapturePayment(std::string_view id, int64_t amount,
                                                    std::string_view currency) override {
    ++capture_calls;
    if (during_capture) during_capture();
    if (!capture_error.ok()) return capture_error;
    return inner_.CapturePayment(id, amount, currency);
  }
  StatusOr<payments::GatewayRefund> RefundPayment(const payments::RefundRequest& r) override {
    ++refund_calls;
    {
      std::lock_guard lock(mu_);
      receipts.push_back(r.receipt);
    }
    if (!refund_error.ok()) return refund_error;
    if (refund_fails_at_bank) {
      return payments::GatewayRefund{.id = "rfnd_" + RandomString(14, kAlphanumeric),
                                     .payment_id = r.payment_id,
                                     .amount_paise = r.amount_paise,
                                     .currency = "INR",
                                     .status = "failed"};
    }
    return inner_.RefundPayment(r);
  }
  StatusOr<payments::CheckoutResult> SimulateCheckout(std::string_view order_id,
                                                      bool success) override {
    return inner_.SimulateCheckout(order_id, success);
  }

  Status capture_error;  // answered by CapturePayment while not OK
  // Runs inside CapturePayment, before the capture: what happens while the gateway works.
  std::function<void()> during_capture;
  Status refund_error;  // answered by RefundPayment while not OK
  std::atomic<int> capture_calls{0};
  std::atomic<int> refund_calls{0};
  bool refund_fails_at_bank = false;  // RefundPayment answers a new refund in status failed
  std::vector<std::string> receipts;  // of every RefundPayment call; GUARDED_BY(mu_)
  std::mutex mu_;

 private:
  payments::SimulatedGateway inner_;
};

class PaymentServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitCrypto().ok());
    auto db = store::testing::NewTestDatabase(8);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    test_db_ = std::move(*db);
    ASSERT_TRUE(store::Migrate(db_()).ok());
    settings_.key_id = "rzp_test_unit";
    settings_.key_secret = kSecret;
    settings_.webhook_secret = kWebhookSecret;
    service_ = std::make_unique<PaymentService>(&db_(), &clock_, &gateway_, settings_, monitor_,
                                                [this](const std::string& order_id) {
                                                  changed_.fetch_add(1);
                                                  last_changed_ = order_id;
                                                });
    manual_service_ =
        std::make_unique<PaymentService>(&db_(), &clock_, &manual_gateway_, settings_, monitor_);
    school_ = NewUuidV7();
    parent_ = NewUuidV7();
    student_ = NewUuidV7();
    Exec("INSERT INTO schools (id, name, code) VALUES ($1, 'School', $2)",
         {school_, "S" + RandomString(6, kUpperAlphanumeric)});
    Exec(
        "INSERT INTO users (id, email, password_hash, role, school_id) "
        "VALUES ($1, $2, 'x', 'parent', $3)",
        {parent_, "p" + RandomString(8, kAlphanumeric) + "@x.test", school_});
    Exec(
        "INSERT INTO users (id, email, password_hash, role, school_id, parent_id) "
        "VALUES ($1, $2, 'x', 'student', $3, $4)",
        {student_, "s" + RandomString(8, kAlphanumeric) + "@x.test", school_, parent_});
  }

  store::Database& db_() { return test_db_->db(); }

  void Exec(const std::string& sql, std::vector<Value> params) {
    Status s = db_().Write([&](Connection& c) { return c.Query(sql, params).status(); });
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  int64_t Count(const std::string& sql, std::vector<Value> params) {
    int64_t n = -1;
    Status s = db_().Read([&](Connection& c) -> Status {
      ASSIGN_OR_RETURN(store::ResultSet rs, c.Query(sql, params));
      n = rs.rows.at(0).Int(0);
      return Status::Ok();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return n;
  }
  std::string OrderField(const std::string& order_id, const std::string& column) {
    std::string out;
    Status s = db_().Read([&](Connection& c) -> Status {
      const Value p[] = {order_id};
      ASSIGN_OR_RETURN(store::ResultSet rs,
                       c.Query("SELECT " + column + " FROM orders WHERE id = $1", p));
      out = rs.rows.at(0).Text(0);
      return Status::Ok();
    });
    EXPECT_TRUE(s.ok());
    return out;
  }

  std::string NewOrder(int64_t total = 4500) {
    const std::string id = NewUuidV7();
    Exec(
        "INSERT INTO orders (id, order_number, user_id, student_id, school_id, "
        "total_amount_paise, delivery_date) VALUES ($1, $2, $3, $4, $5, $6, '2030-01-07')",
        {id, "ORD-20300101-" + RandomString(8, kUpperAlphanumeric), parent_, student_, school_,
         total});
    return id;
  }

  static Principal Make(std::string user_id, Role role, std::string school_id = "") {
    Principal p;
    p.user_id = std::move(user_id);
    p.role = role;
    p.school_id = std::move(school_id);
    return p;
  }
  Principal Parent() const { return Make(parent_, Role::kParent); }

  VerifyPaymentInput Input(const payments::CheckoutResult& c) {
    return {c.order_id, c.payment_id, c.signature};
  }

  std::string AuditChanges(const std::string& order_id, const std::string& action) {
    std::string out;
    Status s = db_().Read([&](Connection& c) -> Status {
      const Value p[] = {order_id, action};
      ASSIGN_OR_RETURN(store::ResultSet rs,
                       c.Query("SELECT changes FROM audit_logs WHERE entity_id = $1 AND "
                               "action = $2 ORDER BY created_at DESC, id DESC LIMIT 1",
                               p));
      if (!rs.empty()) out = rs.rows[0].Text(0);
      return Status::Ok();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  }

  // A string field of that audit row's changes ("" if absent). PostgreSQL's JSONB re-spaces the
  // text, so the field is read, not searched.
  std::string AuditField(const std::string& order_id, const std::string& action,
                         const std::string& key) {
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(AuditChanges(order_id, action), ec);
    if (ec || !v.is_object()) return "";
    const boost::json::value* f = v.as_object().if_contains(key);
    return f && f->is_string() ? std::string(f->as_string()) : "";
  }

  // Pays `order` on the auto-capturing gateway; returns the gateway payment id.
  std::string PaidOrder(const std::string& order) {
    auto po = service_->CreatePaymentOrder(Parent(), order, std::nullopt);
    EXPECT_TRUE(po.ok()) << po.status().ToString();
    if (!po.ok()) return "";
    auto checkout = gateway_.SimulateCheckout(po->payment_order.gateway_order_id, true);
    EXPECT_TRUE(checkout.ok());
    if (!checkout.ok()) return "";
    auto verified = service_->Verify(Parent(), Input(*checkout), "pay");
    EXPECT_TRUE(verified.ok()) << verified.status().ToString();
    return checkout->payment_id;
  }

  std::string Webhook(const std::string& event, const std::string& payload) {
    return R"({"entity":"event","event":")" + event + R"(","payload":)" + payload + "}";
  }
  StatusOr<WebhookOutcome> Deliver(PaymentService& service, const std::string& body) {
    return service.HandleWebhook(body, payments::WebhookSignature(kWebhookSecret, body), "wh");
  }
  static std::string RefundPayload(const payments::GatewayRefund& r, const std::string& status) {
    return R"({"refund":{"entity":{"id":")" + r.id + R"(","entity":"refund","amount":)" +
           std::to_string(r.amount_paise) + R"(,"currency":"INR","payment_id":")" + r.payment_id +
           R"(","status":")" + status + R"("}}})";
  }

  // The ledger: captured payments are exactly the paid orders; refunded ones the refunded.
  void ExpectLedgerBalances() {
    EXPECT_EQ(Count("SELECT COALESCE(SUM(t.amount_paise), 0) FROM payment_transactions t "
                    "WHERE t.status = 'captured'",
                    {}),
              Count("SELECT COALESCE(SUM(total_amount_paise), 0) FROM orders "
                    "WHERE payment_status = 'paid'",
                    {}));
    EXPECT_EQ(Count("SELECT COALESCE(SUM(t.amount_paise), 0) FROM payment_transactions t "
                    "WHERE t.status = 'refunded'",
                    {}),
              Count("SELECT COALESCE(SUM(total_amount_paise), 0) FROM orders "
                    "WHERE payment_status = 'refunded'",
                    {}));
  }

  // What the monitor's series (name, dims) counted since the start.
  uint64_t Counted(std::string_view name, const metrics::Dimensions& dims) {
    metrics::Cursor cursor;
    for (const metrics::SeriesInterval& s : monitor_.Collect(cursor)) {
      if (s.info.name == name && s.info.dimensions == dims) return s.data.count;
    }
    return 0;
  }

  metrics::RegistryPtr registry_ = metrics::NewRegistry();
  metrics::Monitor monitor_{*registry_};
  FixedClock clock_{*ParseRfc3339("2030-01-06T05:00:00Z")};
  FaultyGateway gateway_{{}};
  // Razorpay without auto-capture: a checkout leaves the payment authorized.
  FaultyGateway manual_gateway_{{.auto_capture = false}};
  std::unique_ptr<PaymentService> manual_service_;
  PaymentSettings settings_;
  std::unique_ptr<store::testing::TestDatabase> test_db_;
  std::unique_ptr<PaymentService> service_;
  std::atomic<int> changed_{0};
  std::string last_changed_;
  std::string school_, parent_, student_;
};

TEST_F(PaymentServiceTest, PaymentOrderExpiresAfterTheTtl) {
  const std::string order = NewOrder();
  auto first = service_->CreatePaymentOrder(Parent(), order, std::nullopt);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(first->created);
  EXPECT_EQ(first->payment_order.expires_at, "2030-01-06T05:30:00.000000Z");

  clock_.Advance(std::chrono::minutes(29));
  auto again = service_->CreatePaymentOrder(Parent(), order, std::nullopt);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->payment_order.id, first->payment_order.id);

  auto checkout = gateway_.SimulateCheckout(first->payment_order.gateway_order_id, true);
  ASSERT_TRUE(checkout.ok());
  clock_.Advance(std::chrono::minutes(1));  // exactly at expires_at: expired
  auto verified = service_->Verify(Parent(), Input(*checkout), "req-1");
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.status().reason(), "PAYMENT_ORDER_EXPIRED");
  EXPECT_EQ(OrderField(order, "payment_status"), "pending");
  EXPECT_EQ(Count("SELECT COUNT(*) FROM payment_transactions", {}), 0);

  // A new payment order replaces the expired one, which is marked expired.
  auto fresh = service_->CreatePaymentOrder(Parent(), order, std::nullopt);
  ASSERT_TRUE(fresh.ok());
  EXPECT_TRUE(fresh->created);
  EXPECT_NE(fresh->payment_order.id, first->payment_order.id);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM payment_orders WHERE id = $1 AND status = 'expired'",
                  {first->payment_order.id}),
            1);
  auto c2 = gateway_.SimulateCheckout(fresh->payment_order.gateway_order_id, true);
  ASSERT_TRUE(c2.ok());
  EXPECT_TRUE(service_->Verify(Parent(), Input(*c2), "req-2").ok());
}

TEST_F(PaymentServiceTest, WebhookHonoursACapturedPaymentOfAnExpiredPaymentOrder) {
  const std::string order = NewOrder(700);
  auto po = service_->CreatePaymentOrder(Parent(), order, std::nullopt);
  ASSERT_TRUE(po.ok());
  auto checkout = gateway_.SimulateCheckout(po->payment_order.gateway_order_id, true);
  ASSERT_TRUE(checkout.ok());
  clock_.Advance(std::chrono::hours(2));
  const std::string body =
      R"({"event":"payment.captured","payload":{"payment":{"entity":{"id":")" +
      checkout->payment_id + R"(","order_id":")" + checkout->order_id +
      R"(","amount":700,"currency":"INR","status":"captured","method":"upi"}}}})";
  auto out = service_->HandleWebhook(body, payments::WebhookSignature(kWebhookSecret, body), "w");
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->result, "applied");
  EXPECT_EQ(OrderField(order, "payment_status"), "paid");
  // Verify afterwards answers the recorded payment (idempotent), even though expired.
  auto verified = service_->Verify(Parent(), Input(*checkout), "v");
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_EQ(verified->payment_id, checkout->payment_id);
  // The webhook is a measured operation; a forged one counts as an error of its kind.
  EXPECT_FALSE(service_->HandleWebhook(body, "forged", "w2").ok());
  EXPECT_EQ(Counted("OperationDuration", {{"Operation", "payments_webhook"}}), 2u);
  EXPECT_EQ(Counted("OperationErrors",
                    {{"ErrorKind", "INVALID_ARGUMENT"}, {"Operation", "payments_webhook"}}),
            1u);
  EXPECT_EQ(Counted("BusinessAmountPaise", {{"Event", "payment_captured"}}), 700u);
}

TEST_F(PaymentServiceTest, ConcurrentVerificationsWriteExactlyOnce) {
  const std::string order = NewOrder(12000);
  auto po = service_->CreatePaymentOrder(Parent(), order, std::nullopt);
  ASSERT_TRUE(po.ok());
  auto checkout = gateway_.SimulateCheckout(po->payment_order.gateway_order_id, true);
  ASSERT_TRUE(checkout.ok());
  constexpr int kThreads = 8;
  std::vector<StatusOr<VerificationView>> results(kThreads, InternalError("unset"));
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back(
        [&, i] { results[i] = service_->Verify(Parent(), Input(*checkout), "r"); });
  }
  for (auto& t : threads) t.join();
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->verified_at, results[0]->verified_at);
    EXPECT_EQ(r->amount_paise, 12000);
  }
  EXPECT_EQ(Count("SELECT COUNT(*) FROM payment_transactions WHERE gateway_payment_id = $1",
                  {checkout->payment_id}),
            1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_logs WHERE entity_id = $1 AND "
                  "action = 'payment_captured'",
                  {order}),
            1);
  EXPECT_EQ(
      Count("SELECT COUNT(*) FROM payment_orders WHERE order_id = $1 AND status = 'paid'", {order}),
      1);
  EXPECT_EQ(OrderField(order, "status"), "confirmed");
  EXPECT_EQ(OrderField(order, "payment_status"), "paid");
  EXPECT_EQ(changed_.load(), 1);  // the cache hook runs once per committed change
  EXPECT_EQ(last_changed_, order);
  // One capture, counted once with its amount.
  EXPECT_EQ(Counted("BusinessEvents", {{"Event", "payment_captured"}}), 1u);
  EXPECT_EQ(Counted("BusinessAmountPaise", {{"Event", "payment_captured"}}), 12000u);
}

TEST_F(PaymentServiceTest, ConcurrentCreatesLeaveOneLivePaymentOrder) {
  const std::string order = NewOrder();
  constexpr int kThreads = 6;
  std::vector<StatusOr<CreatedPaymentOrder>> results(kThreads, InternalError("unset"));
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back(
        [&, i] { results[i] = service_->CreatePaymentOrder(Parent(), order, std::nullopt); });
  }
  for (auto& t : threads) t.join();
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->payment_order.id, results[0]->payment_order.id);
  }
  EXPECT_EQ(Count("SELECT COUNT(*) FROM payment_orders WHERE order_id = $1", {order}), 1);
}

TEST_F(PaymentServiceTest, CancelledBeforeVerificationIsNotPayable) {
  const std::string order = NewOrder();
  auto po = service_->CreatePaymentOrder(Parent(), order, std::nullopt);
  ASSERT_TRUE(po.ok());
  auto checkout = gateway_.SimulateCheckout(po->payment_order.gateway_order_id, true);
  ASSERT_TRUE(checkout.ok());
  Exec("UPDATE orders SET status = 'cancelled' WHERE id = $1", {order});
  auto verified = service_->Verify(Parent(), Input(*checkout), "r");
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.status().reason(), "ORDER_NOT_PAYABLE");
  EXPECT_EQ(Count("SELECT COUNT(*) FROM payment_transactions", {}), 0);
  EXPECT_EQ(changed_.load(), 0);
}

TEST_F(PaymentServiceTest, StudentsAndStrangersCannotPayOthersOrders) {
  const std::string order = NewOrder();
  Principal stranger = Make(NewUuidV7(), Role::kParent);
  EXPECT_EQ(service_->CreatePaymentOrder(stranger, order, std::nullopt).status().code(),
            StatusCode::kNotFound);
  Principal other_school_admin = Make(NewUuidV7(), Role::kSchoolAdmin, NewUuidV7());
  EXPECT_EQ(service_->CreatePaymentOrder(other_school_admin, order, std::nullopt).status().code(),
            StatusCode::kNotFound);
  const std::string admin_id = NewUuidV7();
  Exec("INSERT INTO users (id, email, password_hash, role) VALUES ($1, $2, 'x', 'admin')",
       {admin_id, "a" + RandomString(8, kAlphanumeric) + "@x.test"});
  Principal admin = Make(admin_id, Role::kAdmin);
  EXPECT_TRUE(service_->CreatePaymentOrder(admin, order, std::nullopt).ok());
}

TEST_F(PaymentServiceTest, AuthorizedPaymentIsCapturedBeforeTheOrderIsConfirmed) {
  const std::string order = NewOrder(4500);
  auto po = manual_service_->CreatePaymentOrder(Parent(), order, std::nullopt);
  ASSERT_TRUE(po.ok()) << po.status().ToString();
  auto checkout = manual_gateway_.SimulateCheckout(po->payment_order.gateway_order_id, true);
  ASSERT_TRUE(checkout.ok());
  ASSERT_EQ(manual_gateway_.FetchPayment(checkout->payment_id)->status, "authorized");

  auto verified = manual_service_->Verify(Parent(), Input(*checkout), "v1");
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_EQ(verified->status, "captured");
  EXPECT_EQ(manual_gateway_.FetchPayment(checkout->payment_id)->status, "captured");
  EXPECT_EQ(manual_gateway_.capture_calls.load(), 1);
  EXPECT_EQ(OrderField(order, "status"), "confirmed");
  EXPECT_EQ(OrderField(order, "payment_status"), "paid");
  EXPECT_EQ(AuditField(order, "payment_captured", "capture"), "explicit");
  // Verifying again answers the recorded payment without another capture.
  ASSERT_TRUE(manual_service_->Verify(Parent(), Input(*checkout), "v2").ok());
  EXPECT_EQ(manual_gateway_.capture_calls.load(), 1);
  ExpectLedgerBalances();
}

TEST_F(PaymentServiceTest, AutoCapturedPaymentIsRecordedWithoutACaptureCall) {
  const std::string order = NewOrder(4500);
  PaidOrder(order);
  EXPECT_EQ(gateway_.capture_calls.load(), 0);
  EXPECT_EQ(AuditField(order, "payment_captured", "capture"), "gateway");
}

TEST_F(PaymentServiceTest, CaptureOutageIs503AndLeavesTheOrderPendingUntilARetry) {
  const std::string order = NewOrder(4500);
  auto po = manual_service_->CreatePaymentOrder(Parent(), order, std::nullopt);
  ASSERT_TRUE(po.ok());
  auto checkout = manual_gateway_.SimulateCheckout(po->payment_order.gateway_order_id, true);
  ASSERT_TRUE(checkout.ok());
  manual_gateway_.capture_error = UnavailableError("razorpay unavailable after 3 attempts");
  auto verified = manual_service_->Verify(Parent(), Input(*checkout), "v1");
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(verified.status().message().find("razorpay"), std::string::npos);  // no internals
  EXPECT_EQ(OrderField(order, "status"), "pending");
  EXPECT_EQ(OrderField(order, "payment_status"), "pending");
  EXPECT_EQ(Count("SELECT COUNT(*) FROM payment_transactions", {}), 0);

  manual_gateway_.capture_error = Status::Ok();
  ASSERT_TRUE(manual_service_->Verify(Parent(), Input(*checkout), "v2").ok());
  EXPECT_EQ(OrderField(order, "payment_status"), "paid");
}

TEST_F(PaymentServiceTest, RefusedCaptureIsAuditedAndRecordsNothing) {
  const std::string order = NewOrder(4500);
  auto po = manual_service_->CreatePaymentOrder(Parent(), order, std::nullopt);
  ASSERT_TRUE(po.ok());
  auto checkout = manual_gateway_.SimulateCheckout(po->payment_order.gateway_order_id, true);
  ASSERT_TRUE(checkout.ok());
  manual_gateway_.capture_error =
      Status(StatusCode::kFailedPrecondition, "authorization lapsed", "GATEWAY_REJECTED");
  auto verified = manual_service_->Verify(Parent(), Input(*checkout), "v1");
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.status().reason(), "PAYMENT_NOT_CAPTURED");
  EXPECT_EQ(OrderField(order, "payment_status"), "pending");
  EXPECT_EQ(Count("SELECT COUNT(*) FROM payment_transactions", {}), 0);
  EXPECT_NE(AuditChanges(order, "payment_capture_failed").find(checkout->payment_id),
            std::string::npos);
}

TEST_F(PaymentServiceTest, AuthorizedPaymentOfACancelledOrderIsNotCaptured) {
  const std::string order = NewOrder(4500);
  auto po = manual_service_->CreatePaymentOrder(Parent(), order, std::nullopt);
  ASSERT_TRUE(po.ok());
  auto checkout = manual_gateway_.SimulateCheckout(po->payment_order.gateway_order_id, true);
  ASSERT_TRUE(checkout.ok());
  Exec("UPDATE orders SET status = 'cancelled' WHERE id = $1", {order});
  auto verified = manual_service_->Verify(Parent(), Input(*checkout), "v1");
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.status().reason(), "ORDER_NOT_PAYABLE");
  EXPECT_EQ(manual_gateway_.capture_calls.load(), 0);
  EXPECT_EQ(manual_gateway_.FetchPayment(checkout->payment_id)->status, "authorized");
}

// The money was taken, then the order could not take it (cancelled while the gateway captured):
// it goes back at once, once, and the ledger holds nothing of it.
TEST_F(PaymentServiceTest, CaptureOfAnOrderCancelledMeanwhileIsRefunded) {
  const std::string order = NewOrder(4500);
  auto po = manual_service_->CreatePaymentOrder(Parent(), order, std::nullopt);
  ASSERT_TRUE(po.ok());
  auto checkout = manual_gateway_.SimulateCheckout(po->payment_order.gateway_order_id, true);
  ASSERT_TRUE(checkout.ok());
  manual_gateway_.during_capture = [&] {
    Exec("UPDATE orders SET status = 'cancelled' WHERE id = $1", {order});
  };
  auto verified = manual_service_->Verify(Parent(), Input(*checkout), "v1");
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.status().reason(), "ORDER_NOT_PAYABLE");
  EXPECT_EQ(manual_gateway_.capture_calls.load(), 1);
  ASSERT_EQ(manual_gateway_.refund_calls.load(), 1);
  EXPECT_EQ(manual_gateway_.receipts.at(0).rfind("unapplied-", 0), 0u);
  EXPECT_EQ(AuditField(order, "capture_refunded", "gatewayPaymentId"), checkout->payment_id);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM payment_transactions", {}), 0);
  EXPECT_EQ(OrderField(order, "payment_status"), "pending");
  ExpectLedgerBalances();

  // A retry neither captures nor refunds again.
  manual_gateway_.during_capture = nullptr;
  EXPECT_FALSE(manual_service_->Verify(Parent(), Input(*checkout), "v2").ok());
  EXPECT_EQ(manual_gateway_.capture_calls.load(), 1);
  EXPECT_EQ(manual_gateway_.refund_calls.load(), 1);
}

// Once this server has taken the money, a payment order that expired during the capture is
// honoured (as a webhook would honour it), not answered 410 with the money kept.
TEST_F(PaymentServiceTest, PaymentOrderExpiringDuringTheCaptureIsStillRecorded) {
  const std::string order = NewOrder(4500);
  auto po = manual_service_->CreatePaymentOrder(Parent(), order, std::nullopt);
  ASSERT_TRUE(po.ok());
  auto checkout = manual_gateway_.SimulateCheckout(po->payment_order.gateway_order_id, true);
  ASSERT_TRUE(checkout.ok());
  manual_gateway_.during_capture = [&] { clock_.Advance(std::chrono::hours(2)); };
  auto verified = manual_service_->Verify(Parent(), Input(*checkout), "v1");
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_EQ(OrderField(order, "payment_status"), "paid");
  EXPECT_EQ(AuditField(order, "payment_captured", "capture"), "explicit");
  EXPECT_EQ(manual_gateway_.refund_calls.load(), 0);
  ExpectLedgerBalances();
}

TEST_F(PaymentServiceTest, AuthorizedWebhookCapturesThenRecords) {
  const std::string order = NewOrder(700);
  auto po = manual_service_->CreatePaymentOrder(Parent(), order, std::nullopt);
  ASSERT_TRUE(po.ok());
  auto checkout = manual_gateway_.SimulateCheckout(po->payment_order.gateway_order_id, true);
  ASSERT_TRUE(checkout.ok());
  const std::string body = Webhook(
      "payment.authorized", R"({"payment":{"entity":{"id":")" + checkout->payment_id +
                                R"(","order_id":")" + checkout->order_id +
                                R"(","amount":700,"currency":"INR","status":"authorized"}}})");
  manual_gateway_.capture_error = UnavailableError("down");
  auto out = Deliver(*manual_service_, body);
  // Razorpay delivers again after a 5xx.
  EXPECT_EQ(out.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(OrderField(order, "payment_status"), "pending");
  manual_gateway_.capture_error = Status::Ok();
  out = Deliver(*manual_service_, body);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->result, "applied");
  EXPECT_EQ(manual_gateway_.FetchPayment(checkout->payment_id)->status, "captured");
  EXPECT_EQ(OrderField(order, "payment_status"), "paid");
  out = Deliver(*manual_service_, body);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->result, "duplicate");
  EXPECT_EQ(manual_gateway_.capture_calls.load(), 2);  // the failed one and the one that captured
}

TEST_F(PaymentServiceTest, CancelledPaidOrderIsRefundedOnce) {
  const std::string order = NewOrder(4500);
  const std::string pay = PaidOrder(order);
  ASSERT_FALSE(pay.empty());
  // Not cancelled: nothing to refund.
  auto none = service_->RefundCancelledOrder(order, parent_, "r0");
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_EQ(none->result, "none");
  EXPECT_EQ(gateway_.refund_calls.load(), 0);

  Exec("UPDATE orders SET status = 'cancelled' WHERE id = $1", {order});
  auto refunded = service_->RefundCancelledOrder(order, parent_, "r1");
  ASSERT_TRUE(refunded.ok()) << refunded.status().ToString();
  EXPECT_EQ(refunded->result, "refunded");
  EXPECT_EQ(refunded->refund_id.rfind("rfnd_", 0), 0u);
  EXPECT_EQ(gateway_.FetchPayment(pay)->status, "refunded");
  EXPECT_EQ(OrderField(order, "payment_status"), "refunded");
  EXPECT_EQ(OrderField(order, "status"), "cancelled");
  EXPECT_EQ(Count("SELECT COUNT(*) FROM payment_transactions WHERE gateway_payment_id = $1 AND "
                  "status = 'refunded' AND refunded_at IS NOT NULL",
                  {pay}),
            1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM payment_refunds WHERE gateway_refund_id = $1 AND "
                  "status = 'processed' AND amount_paise = 4500 AND reason = 'order_cancelled'",
                  {refunded->refund_id}),
            1);
  EXPECT_NE(AuditChanges(order, "payment_refunded").find(refunded->refund_id), std::string::npos);

  // Again (a retry, or the refund's webhook): no second refund.
  auto again = service_->RefundCancelledOrder(order, parent_, "r2");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->result, "none");
  auto out =
      Deliver(*service_, Webhook("refund.processed", RefundPayload({.id = refunded->refund_id,
                                                                    .payment_id = pay,
                                                                    .amount_paise = 4500,
                                                                    .currency = "INR",
                                                                    .status = "processed"},
                                                                   "processed")));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->result, "duplicate");
  EXPECT_EQ(Count("SELECT COUNT(*) FROM payment_refunds", {}), 1);
  ExpectLedgerBalances();
}

TEST_F(PaymentServiceTest, FailedRefundIsAuditedAndOwedUntilARetrySucceeds) {
  const std::string order = NewOrder(4500);
  const std::string pay = PaidOrder(order);
  Exec("UPDATE orders SET status = 'cancelled' WHERE id = $1", {order});
  gateway_.refund_error = UnavailableError("razorpay unavailable");
  auto failed = service_->RefundCancelledOrder(order, parent_, "r1");
  EXPECT_EQ(failed.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(OrderField(order, "payment_status"), "paid");  // the refund is still owed
  EXPECT_NE(AuditChanges(order, "refund_failed").find(pay), std::string::npos);
  gateway_.refund_error = Status(StatusCode::kFailedPrecondition, "no", "GATEWAY_REJECTED");
  EXPECT_EQ(service_->RefundCancelledOrder(order, parent_, "r2").status().reason(),
            "REFUND_FAILED");

  gateway_.refund_error = Status::Ok();
  auto refunded = service_->RefundCancelledOrder(order, parent_, "r3");
  ASSERT_TRUE(refunded.ok()) << refunded.status().ToString();
  EXPECT_EQ(refunded->result, "refunded");
  EXPECT_EQ(OrderField(order, "payment_status"), "refunded");
  ExpectLedgerBalances();
}

TEST_F(PaymentServiceTest, RefundThatFailedAtTheBankIsMadeAgainWithANewReceipt) {
  const std::string order = NewOrder(4500);
  const std::string pay = PaidOrder(order);
  Exec("UPDATE orders SET status = 'cancelled' WHERE id = $1", {order});
  gateway_.refund_fails_at_bank = true;
  auto failed = service_->RefundCancelledOrder(order, parent_, "r1");
  EXPECT_EQ(failed.status().reason(), "REFUND_FAILED");
  EXPECT_EQ(OrderField(order, "payment_status"), "paid");
  EXPECT_EQ(Count("SELECT COUNT(*) FROM payment_refunds WHERE status = 'failed'", {}), 1);

  gateway_.refund_fails_at_bank = false;
  auto refunded = service_->RefundCancelledOrder(order, parent_, "r2");
  ASSERT_TRUE(refunded.ok()) << refunded.status().ToString();
  EXPECT_EQ(refunded->result, "refunded");
  EXPECT_EQ(OrderField(order, "payment_status"), "refunded");
  ASSERT_EQ(gateway_.receipts.size(), 2u);
  EXPECT_NE(gateway_.receipts[0], gateway_.receipts[1]);
  EXPECT_EQ(gateway_.receipts[0], OrderField(order, "order_number"));
  ExpectLedgerBalances();
}

TEST_F(PaymentServiceTest, RefundWebhooksRecordPartialAndFullRefunds) {
  const std::string order = NewOrder(4500);
  const std::string pay = PaidOrder(order);
  // Refunds made on the dashboard: 1000 first, the rest later.
  auto part = gateway_.RefundPayment({.payment_id = pay, .amount_paise = 1000, .receipt = "d1"});
  ASSERT_TRUE(part.ok());
  const std::string pending_body = Webhook("refund.created", RefundPayload(*part, "pending"));
  auto out = Deliver(*service_, pending_body);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->result, "applied");
  out = Deliver(*service_, Webhook("refund.processed", RefundPayload(*part, "processed")));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->result, "applied");
  // A late "created" does not undo "processed".
  out = Deliver(*service_, pending_body);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->result, "duplicate");
  EXPECT_EQ(OrderField(order, "payment_status"), "paid");  // partly refunded
  EXPECT_EQ(Count("SELECT COUNT(*) FROM payment_refunds WHERE gateway_refund_id = $1 AND "
                  "status = 'processed'",
                  {part->id}),
            1);
  ExpectLedgerBalances();

  auto rest = gateway_.RefundPayment({.payment_id = pay, .amount_paise = 3500, .receipt = "d2"});
  ASSERT_TRUE(rest.ok());
  out = Deliver(*service_, Webhook("payment.refunded", RefundPayload(*rest, "processed")));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->result, "applied");
  EXPECT_EQ(OrderField(order, "payment_status"), "refunded");
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_logs WHERE entity_id = $1 AND "
                  "action = 'payment_refunded'",
                  {order}),
            1);
  ExpectLedgerBalances();

  // Not ours, or malformed: acknowledged and ignored.
  payments::GatewayRefund stranger{.id = "rfnd_ABCDEFGHIJKLMN",
                                   .payment_id = "pay_ABCDEFGHIJKLMN",
                                   .amount_paise = 100,
                                   .currency = "INR",
                                   .status = "processed"};
  out = Deliver(*service_, Webhook("refund.processed", RefundPayload(stranger, "processed")));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->result, "ignored");
  stranger.id = "rfnd_'; DROP TABLE orders; --";
  out = Deliver(*service_, Webhook("refund.processed", RefundPayload(stranger, "processed")));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->result, "ignored");
  EXPECT_EQ(Count("SELECT COUNT(*) FROM payment_refunds", {}), 2);
}

TEST_F(PaymentServiceTest, AutoRefundOfAnUncapturedPaymentIsIgnored) {
  const std::string order = NewOrder(4500);
  const std::string pay = PaidOrder(order);
  payments::GatewayRefund r{.id = "rfnd_AUTOREFUND0000",
                            .payment_id = pay,
                            .amount_paise = 4500,
                            .currency = "INR",
                            .status = "processed"};
  std::string payload = RefundPayload(r, "processed");
  payload.pop_back();  // reopen the payload object for the payment entity
  payload += R"(,"payment":{"entity":{"id":")" + pay + R"(","captured":false}}})";
  auto out = Deliver(*service_, Webhook("refund.processed", payload));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->result, "ignored");
  EXPECT_EQ(OrderField(order, "payment_status"), "paid");
  EXPECT_EQ(Count("SELECT COUNT(*) FROM payment_refunds", {}), 0);
}

TEST_F(PaymentServiceTest, FailedRefundWebhookLeavesTheOrderPaid) {
  const std::string order = NewOrder(4500);
  const std::string pay = PaidOrder(order);
  payments::GatewayRefund r{.id = "rfnd_FAILED00000000",
                            .payment_id = pay,
                            .amount_paise = 4500,
                            .currency = "INR",
                            .status = "failed"};
  auto out = Deliver(*service_, Webhook("refund.failed", RefundPayload(r, "failed")));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->result, "applied");
  EXPECT_EQ(OrderField(order, "payment_status"), "paid");
  EXPECT_NE(AuditChanges(order, "refund_failed").find(r.id), std::string::npos);
  ExpectLedgerBalances();
}

}  // namespace
}  // namespace hasivu::domain
