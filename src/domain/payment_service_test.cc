// PaymentService against a real database (SQLite: payment_service_test; PostgreSQL:
// payment_service_pgtest) with a fixed clock: expiry, the live payment order, the one-effect
// guarantee under concurrency, and what one verification writes.
#include "domain/payment_service.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "common/time_util.h"
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
    service_ = std::make_unique<PaymentService>(&db_(), &clock_, &gateway_, settings_,
                                                [this](const std::string& order_id) {
                                                  changed_.fetch_add(1);
                                                  last_changed_ = order_id;
                                                });
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

  FixedClock clock_{*ParseRfc3339("2030-01-06T05:00:00Z")};
  payments::SimulatedGateway gateway_{kSecret};
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

}  // namespace
}  // namespace hasivu::domain
