#include "payments/simulated/simulated_gateway.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <thread>
#include <vector>

#include "common/ids.h"
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

}  // namespace
}  // namespace hasivu::payments
