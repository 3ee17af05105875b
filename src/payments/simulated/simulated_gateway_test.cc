#include "payments/simulated/simulated_gateway.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "common/time_util.h"
#include "payments/signature.h"

namespace hasivu::payments {
namespace {

CreateOrderRequest Req(int64_t amount, std::string currency = "INR") {
  CreateOrderRequest r;
  r.amount_paise = amount;
  r.currency = std::move(currency);
  return r;
}

class SimulatedGatewayTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(InitCrypto().ok()); }
  SimulatedGateway gateway_{"key-secret"};
};

TEST_F(SimulatedGatewayTest, IdsHaveRazorpayShapes) {
  const std::regex order_re("^order_[A-Za-z0-9]{14}$");
  const std::regex pay_re("^pay_[A-Za-z0-9]{14}$");
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    auto order = gateway_.CreateOrder(Req(4500, "INR"));
    ASSERT_TRUE(order.ok()) << order.status().ToString();
    EXPECT_TRUE(std::regex_match(order->id, order_re)) << order->id;
    EXPECT_EQ(order->status, "created");
    EXPECT_TRUE(seen.insert(order->id).second);
    auto checkout = gateway_.SimulateCheckout(order->id, true);
    ASSERT_TRUE(checkout.ok());
    EXPECT_TRUE(std::regex_match(checkout->payment_id, pay_re)) << checkout->payment_id;
  }
}

TEST_F(SimulatedGatewayTest, CheckoutIsSignedLikeRazorpayAndFetchable) {
  auto order = gateway_.CreateOrder(Req(12345, "INR"));
  ASSERT_TRUE(order.ok());
  auto checkout = gateway_.SimulateCheckout(order->id, true);
  ASSERT_TRUE(checkout.ok());
  EXPECT_EQ(checkout->order_id, order->id);
  EXPECT_TRUE(
      VerifyCheckoutSignature("key-secret", order->id, checkout->payment_id, checkout->signature));
  auto payment = gateway_.FetchPayment(checkout->payment_id);
  ASSERT_TRUE(payment.ok());
  EXPECT_EQ(payment->amount_paise, 12345);
  EXPECT_EQ(payment->currency, "INR");
  EXPECT_EQ(payment->status, "captured");
  EXPECT_EQ(payment->order_id, order->id);
  EXPECT_FALSE(payment->method.empty());
  // A paid order cannot be paid again.
  EXPECT_EQ(gateway_.SimulateCheckout(order->id, true).status().code(),
            StatusCode::kFailedPrecondition);
}

TEST_F(SimulatedGatewayTest, FailedCheckoutIsReportedFailed) {
  auto order = gateway_.CreateOrder(Req(100, "INR"));
  ASSERT_TRUE(order.ok());
  auto checkout = gateway_.SimulateCheckout(order->id, false);
  ASSERT_TRUE(checkout.ok());
  auto payment = gateway_.FetchPayment(checkout->payment_id);
  ASSERT_TRUE(payment.ok());
  EXPECT_EQ(payment->status, "failed");
  EXPECT_FALSE(payment->error_code.empty());
  // After a failure the customer may try again.
  EXPECT_TRUE(gateway_.SimulateCheckout(order->id, true).ok());
}

TEST_F(SimulatedGatewayTest, RejectsBadInputAndUnknownIds) {
  EXPECT_EQ(gateway_.CreateOrder(Req(0)).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(gateway_.CreateOrder(Req(100, "RUPEES")).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(gateway_.FetchPayment("pay_unknown0000000").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(gateway_.SimulateCheckout("order_unknown", true).status().code(),
            StatusCode::kNotFound);
}

TEST_F(SimulatedGatewayTest, ConcurrentUseIsSafe) {
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        auto o = gateway_.CreateOrder(Req(500, "INR"));
        if (!o.ok()) continue;
        auto c = gateway_.SimulateCheckout(o->id, true);
        if (c.ok() && gateway_.FetchPayment(c->payment_id).ok()) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 400);
}

TEST_F(SimulatedGatewayTest, WithoutAutoCaptureCheckoutAuthorizesAndCaptureIsIdempotent) {
  SimulatedGateway gateway("key-secret", {.auto_capture = false});
  auto order = gateway.CreateOrder(Req(4500, "INR"));
  ASSERT_TRUE(order.ok());
  auto checkout = gateway.SimulateCheckout(order->id, true);
  ASSERT_TRUE(checkout.ok());
  EXPECT_EQ(gateway.FetchPayment(checkout->payment_id)->status, "authorized");

  // Another amount or currency is refused and captures nothing.
  EXPECT_EQ(gateway.CapturePayment(checkout->payment_id, 4499, "INR").status().reason(),
            "GATEWAY_REJECTED");
  EXPECT_EQ(gateway.CapturePayment(checkout->payment_id, 4500, "USD").status().reason(),
            "GATEWAY_REJECTED");
  EXPECT_EQ(gateway.FetchPayment(checkout->payment_id)->status, "authorized");

  auto captured = gateway.CapturePayment(checkout->payment_id, 4500, "INR");
  ASSERT_TRUE(captured.ok()) << captured.status().ToString();
  EXPECT_EQ(captured->status, "captured");
  // Capturing again is the same success, not a second capture.
  auto again = gateway.CapturePayment(checkout->payment_id, 4500, "INR");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->status, "captured");
  EXPECT_EQ(gateway.CapturePayment("pay_unknown0000000", 4500, "INR").status().code(),
            StatusCode::kNotFound);
}

TEST_F(SimulatedGatewayTest, FailedPaymentsCannotBeCapturedOrRefunded) {
  SimulatedGateway gateway("key-secret", {.auto_capture = false});
  auto order = gateway.CreateOrder(Req(100, "INR"));
  ASSERT_TRUE(order.ok());
  auto checkout = gateway.SimulateCheckout(order->id, false);
  ASSERT_TRUE(checkout.ok());
  EXPECT_EQ(gateway.CapturePayment(checkout->payment_id, 100, "INR").status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(
      gateway
          .RefundPayment({.payment_id = checkout->payment_id, .amount_paise = 100, .receipt = "r"})
          .status()
          .code(),
      StatusCode::kFailedPrecondition);
}

TEST_F(SimulatedGatewayTest, RefundsNeverExceedTheCapturedAmount) {
  auto order = gateway_.CreateOrder(Req(1000, "INR"));
  ASSERT_TRUE(order.ok());
  auto checkout = gateway_.SimulateCheckout(order->id, true);
  ASSERT_TRUE(checkout.ok());
  const std::string pay = checkout->payment_id;
  EXPECT_EQ(gateway_.RefundPayment({.payment_id = pay, .amount_paise = 0, .receipt = "a"})
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(gateway_.RefundPayment({.payment_id = pay, .amount_paise = 1}).status().code(),
            StatusCode::kInvalidArgument);  // no receipt
  auto part = gateway_.RefundPayment({.payment_id = pay, .amount_paise = 400, .receipt = "a"});
  ASSERT_TRUE(part.ok()) << part.status().ToString();
  EXPECT_TRUE(std::regex_match(part->id, std::regex("^rfnd_[A-Za-z0-9]{14}$"))) << part->id;
  EXPECT_EQ(part->payment_id, pay);
  EXPECT_EQ(part->amount_paise, 400);
  EXPECT_EQ(part->currency, "INR");
  EXPECT_EQ(part->status, "processed");
  EXPECT_EQ(gateway_.FetchPayment(pay)->status, "captured");  // partly refunded
  // The same receipt again is the same refund, not a second one.
  auto repeated = gateway_.RefundPayment({.payment_id = pay, .amount_paise = 400, .receipt = "a"});
  ASSERT_TRUE(repeated.ok());
  EXPECT_EQ(repeated->id, part->id);
  EXPECT_EQ(gateway_.RefundPayment({.payment_id = pay, .amount_paise = 601, .receipt = "b"})
                .status()
                .reason(),
            "GATEWAY_REJECTED");
  auto rest = gateway_.RefundPayment({.payment_id = pay, .amount_paise = 600, .receipt = "b"});
  ASSERT_TRUE(rest.ok()) << rest.status().ToString();
  EXPECT_NE(rest->id, part->id);
  EXPECT_EQ(gateway_.FetchPayment(pay)->status, "refunded");
  // A repeated full refund is refused: the money goes back once.
  EXPECT_EQ(gateway_.RefundPayment({.payment_id = pay, .amount_paise = 1, .receipt = "c"})
                .status()
                .code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(
      gateway_
          .RefundPayment({.payment_id = "pay_unknown0000000", .amount_paise = 1, .receipt = "c"})
          .status()
          .code(),
      StatusCode::kNotFound);
}

TEST_F(SimulatedGatewayTest, OrdersAndPaymentsAreCappedOldestFirst) {
  SimulatedGateway gateway("key-secret", {.max_entries = 3});
  std::vector<std::string> orders, payments;
  for (int i = 0; i < 10; ++i) {
    auto order = gateway.CreateOrder(Req(100 + i, "INR"));
    ASSERT_TRUE(order.ok());
    orders.push_back(order->id);
    auto checkout = gateway.SimulateCheckout(order->id, true);
    ASSERT_TRUE(checkout.ok()) << i << ": " << checkout.status().ToString();
    payments.push_back(checkout->payment_id);
  }
  EXPECT_EQ(gateway.OrderCountForTest(), 3u);
  EXPECT_EQ(gateway.PaymentCountForTest(), 3u);
  // The newest three are still there, the oldest are gone.
  for (int i = 7; i < 10; ++i) EXPECT_TRUE(gateway.FetchPayment(payments[i]).ok()) << i;
  EXPECT_EQ(gateway.FetchPayment(payments[0]).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(gateway.SimulateCheckout(orders[0], false).status().code(), StatusCode::kNotFound);
}

TEST_F(SimulatedGatewayTest, OrdersAndPaymentsExpireAfterTheTtl) {
  FixedClock clock(*ParseRfc3339("2030-01-06T05:00:00Z"));
  SimulatedGateway gateway("key-secret", {.ttl = std::chrono::hours(1)}, &clock);
  auto old_order = gateway.CreateOrder(Req(100, "INR"));
  ASSERT_TRUE(old_order.ok());
  auto old_checkout = gateway.SimulateCheckout(old_order->id, true);
  ASSERT_TRUE(old_checkout.ok());
  clock.Advance(std::chrono::minutes(59));
  EXPECT_TRUE(gateway.FetchPayment(old_checkout->payment_id).ok());
  auto young_order = gateway.CreateOrder(Req(200, "INR"));
  ASSERT_TRUE(young_order.ok());
  clock.Advance(std::chrono::minutes(1));  // the first ones are exactly one hour old
  EXPECT_EQ(gateway.FetchPayment(old_checkout->payment_id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(gateway.SimulateCheckout(old_order->id, true).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(gateway.SimulateCheckout(young_order->id, true).ok());
  EXPECT_EQ(gateway.OrderCountForTest(), 1u);
  EXPECT_EQ(gateway.PaymentCountForTest(), 1u);
}

}  // namespace
}  // namespace hasivu::payments
