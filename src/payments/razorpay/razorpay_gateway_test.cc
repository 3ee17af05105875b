#include "payments/razorpay/razorpay_gateway.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <regex>
#include <string>

#include "common/ids.h"
#include "metrics/monitor.h"
#include "metrics/trace.h"
#include "payments/testing/razorpay_standin.h"

namespace hasivu::payments {
namespace {

CreateOrderRequest Req(int64_t amount, std::string currency = "INR") {
  CreateOrderRequest r;
  r.amount_paise = amount;
  r.currency = std::move(currency);
  return r;
}

using testing::RazorpayStandin;

class RazorpayGatewayTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(InitCrypto().ok()); }

  GatewaySettings Settings() const {
    return GatewaySettings{.kind = GatewayKind::kRazorpay,
                           .key_id = "rzp_test_key",
                           .key_secret = "rzp_secret",
                           .webhook_secret = "wh",
                           .base_url = standin_.base_url(),
                           .connect_timeout = std::chrono::milliseconds(1000),
                           .timeout = std::chrono::milliseconds(1000),
                           .retries = 2,
                           .backoff = std::chrono::milliseconds(10)};
  }
  std::unique_ptr<Gateway> Make(GatewaySettings s) {
    auto g = NewGateway(s);
    EXPECT_TRUE(g.ok()) << g.status().ToString();
    return g.ok() ? std::move(g).value() : nullptr;
  }

  RazorpayStandin standin_{"rzp_test_key", "rzp_secret"};
};

TEST_F(RazorpayGatewayTest, CreatesOrderAndFetchesPayment) {
  auto gateway = Make(Settings());
  ASSERT_TRUE(gateway);
  EXPECT_EQ(gateway->name(), "razorpay");
  auto order = gateway->CreateOrder(
      {.amount_paise = 4500, .currency = "INR", .receipt = "ORD-1", .notes = {{"orderId", "x"}}});
  ASSERT_TRUE(order.ok()) << order.status().ToString();
  EXPECT_TRUE(std::regex_match(order->id, std::regex("^order_[A-Za-z0-9]{14}$")));
  EXPECT_EQ(order->amount_paise, 4500);
  EXPECT_EQ(order->status, "created");

  auto requests = standin_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target, "/v1/orders");
  EXPECT_EQ(requests[0].authorization, "Basic cnpwX3Rlc3Rfa2V5OnJ6cF9zZWNyZXQ=");
  boost::json::value sent = boost::json::parse(requests[0].body);
  EXPECT_EQ(sent.at("amount").as_int64(), 4500);
  EXPECT_EQ(sent.at("currency").as_string(), "INR");
  EXPECT_EQ(sent.at("receipt").as_string(), "ORD-1");
  EXPECT_EQ(sent.at("notes").at("orderId").as_string(), "x");

  const std::string pay_id = standin_.Pay(order->id, "captured");
  auto payment = gateway->FetchPayment(pay_id);
  ASSERT_TRUE(payment.ok()) << payment.status().ToString();
  EXPECT_EQ(payment->id, pay_id);
  EXPECT_EQ(payment->order_id, order->id);
  EXPECT_EQ(payment->amount_paise, 4500);
  EXPECT_EQ(payment->currency, "INR");
  EXPECT_EQ(payment->status, "captured");
}

// Mappings of this process: a thread that ended and was never joined keeps its 8 MiB stack (and
// its guard page) mapped.
int MappingCount() {
  std::ifstream maps("/proc/self/maps");
  int n = 0;
  for (std::string line; std::getline(maps, line);) ++n;
  return n;
}

// The stand-in serves each connection on a thread of its own; the long reliability runs make
// tens of thousands of calls, and threads left unjoined until its destruction used up the
// process's mappings (vm.max_map_count) until no thread could be created.
TEST_F(RazorpayGatewayTest, TheStandinJoinsTheThreadsOfFinishedConnections) {
  auto gateway = Make(Settings());
  ASSERT_TRUE(gateway);
  ASSERT_TRUE(gateway->CreateOrder(Req(100)).ok());
  const int before = MappingCount();
  for (int i = 0; i < 300; ++i) {
    auto order = gateway->CreateOrder(Req(100 + i));
    ASSERT_TRUE(order.ok()) << order.status().ToString();
  }
  // Unjoined, 300 connections would have left 600 mappings more.
  EXPECT_LT(MappingCount(), before + 100);
}

TEST_F(RazorpayGatewayTest, UnknownPaymentIsNotFoundAndOddIdsNeverReachTheWire) {
  auto gateway = Make(Settings());
  ASSERT_TRUE(gateway);
  EXPECT_EQ(gateway->FetchPayment("pay_ABCDEFGHIJKLMN").status().code(), StatusCode::kNotFound);
  const size_t before = standin_.requests().size();
  EXPECT_EQ(gateway->FetchPayment("../orders").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(gateway->FetchPayment("pay_1 HTTP/1.1\r\nX: y").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(standin_.requests().size(), before);
}

// Our credentials refused is no verdict on the request: unavailable (503, a webhook delivered
// again) until an operator fixes the keys, but not retried at once either.
TEST_F(RazorpayGatewayTest, AuthFailureIsUnavailableWithoutRetry) {
  GatewaySettings s = Settings();
  s.key_secret = "wrong";
  auto gateway = Make(s);
  ASSERT_TRUE(gateway);
  auto order = gateway->CreateOrder(Req(4500, "INR"));
  ASSERT_FALSE(order.ok());
  EXPECT_EQ(order.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(order.status().message().find("401"), std::string::npos);
  EXPECT_EQ(order.status().message().find("wrong"), std::string::npos);  // no secret in text
  EXPECT_EQ(standin_.requests().size(), 1u);
}

TEST_F(RazorpayGatewayTest, RetriesOn500ThenSucceeds) {
  auto gateway = Make(Settings());
  ASSERT_TRUE(gateway);
  standin_.FailNext(2, 500);
  auto order = gateway->CreateOrder(Req(4500, "INR"));
  ASSERT_TRUE(order.ok()) << order.status().ToString();
  EXPECT_EQ(standin_.requests().size(), 3u);
}

// Every attempt carries a traceparent naming the current request's span (the one its access log
// line shows) as the parent; the request's gateway time adds up the attempts.
TEST_F(RazorpayGatewayTest, EachAttemptSendsTheCurrentRequestsSpanAsParent) {
  auto gateway = Make(Settings());
  ASSERT_TRUE(gateway);
  metrics::RequestTrace trace;
  trace.context = metrics::NewTrace();
  standin_.FailNext(1, 502);
  {
    metrics::ScopedRequestTrace current(trace);
    ASSERT_TRUE(gateway->CreateOrder(Req(4500, "INR")).ok());
  }
  const auto requests = standin_.requests();
  ASSERT_EQ(requests.size(), 2u);  // one failed attempt, one retry
  std::optional<metrics::TraceContext> sent[2];
  for (int i = 0; i < 2; ++i) {
    sent[i] = metrics::ParseTraceparent(requests[i].traceparent);
    ASSERT_TRUE(sent[i].has_value()) << "'" << requests[i].traceparent << "'";
    EXPECT_EQ(sent[i]->trace_id, trace.context.trace_id);
    EXPECT_EQ(sent[i]->span_id, trace.context.span_id);
    EXPECT_EQ(sent[i]->flags, trace.context.flags);
  }
  constexpr size_t kGateway = static_cast<size_t>(metrics::SpanKind::kGateway);
  EXPECT_EQ(trace.spans.count[kGateway], 2u);
  EXPECT_GT(trace.spans.nanos[kGateway], 0);

  // Outside a request each call starts a trace of its own.
  ASSERT_TRUE(gateway->CreateOrder(Req(4500, "INR")).ok());
  ASSERT_TRUE(gateway->CreateOrder(Req(4500, "INR")).ok());
  const auto later = standin_.requests();
  ASSERT_EQ(later.size(), 4u);
  const auto third = metrics::ParseTraceparent(later[2].traceparent);
  const auto fourth = metrics::ParseTraceparent(later[3].traceparent);
  ASSERT_TRUE(third && fourth);
  EXPECT_NE(third->trace_id, trace.context.trace_id);
  EXPECT_NE(third->trace_id, fourth->trace_id);
  EXPECT_EQ(trace.spans.count[kGateway], 2u);
}

TEST_F(RazorpayGatewayTest, GivesUpAfterRetries) {
  auto gateway = Make(Settings());
  ASSERT_TRUE(gateway);
  standin_.FailNext(10, 503);
  auto order = gateway->CreateOrder(Req(4500, "INR"));
  ASSERT_FALSE(order.ok());
  EXPECT_EQ(order.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(standin_.requests().size(), 3u);  // 1 + 2 retries
}

TEST_F(RazorpayGatewayTest, FourHundredIsNotRetried) {
  auto gateway = Make(Settings());
  ASSERT_TRUE(gateway);
  standin_.FailNext(1, 400);
  auto order = gateway->CreateOrder(Req(4500, "INR"));
  EXPECT_EQ(order.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(order.status().reason(), "GATEWAY_REJECTED");
  // It carries Razorpay's own text: never a client message, even with a reason.
  EXPECT_FALSE(order.status().message_is_for_client());
  EXPECT_EQ(standin_.requests().size(), 1u);
}

TEST_F(RazorpayGatewayTest, TimeoutIsUnavailable) {
  GatewaySettings s = Settings();
  s.timeout = std::chrono::milliseconds(200);
  s.retries = 1;
  auto gateway = Make(s);
  ASSERT_TRUE(gateway);
  standin_.DelayNext(2, std::chrono::milliseconds(3000));
  auto order = gateway->CreateOrder(Req(4500, "INR"));
  ASSERT_FALSE(order.ok());
  EXPECT_EQ(order.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(standin_.requests().size(), 2u);
}

TEST_F(RazorpayGatewayTest, TimeoutThenSuccessOnRetry) {
  GatewaySettings s = Settings();
  s.timeout = std::chrono::milliseconds(200);
  auto gateway = Make(s);
  ASSERT_TRUE(gateway);
  standin_.DelayNext(1, std::chrono::milliseconds(3000));
  auto order = gateway->CreateOrder(Req(4500, "INR"));
  EXPECT_TRUE(order.ok()) << order.status().ToString();
}

TEST_F(RazorpayGatewayTest, EachCallIsMeasuredWithItsOutcomeRetriesAndTimeouts) {
  metrics::RegistryPtr registry = metrics::NewRegistry();
  metrics::Monitor monitor(*registry);
  GatewaySettings s = Settings();
  s.timeout = std::chrono::milliseconds(200);
  s.retries = 1;
  s.monitor = &monitor;
  auto gateway = Make(s);
  ASSERT_TRUE(gateway);
  standin_.FailNext(1, 500);
  auto order = gateway->CreateOrder(Req(4500, "INR"));  // 500, then 200
  ASSERT_TRUE(order.ok()) << order.status().ToString();
  standin_.FailNext(1, 400);
  EXPECT_FALSE(gateway->CreateOrder(Req(4500, "INR")).ok());  // refused, not retried
  standin_.DelayNext(2, std::chrono::milliseconds(3000));
  EXPECT_FALSE(gateway->FetchPayment("pay_0123456789abcd").ok());  // two timeouts

  metrics::Cursor cursor;
  auto count = [&, all = monitor.Collect(cursor)](std::string_view name,
                                                  const metrics::Dimensions& dims) -> uint64_t {
    for (const metrics::SeriesInterval& si : all) {
      if (si.info.name == name && si.info.dimensions == dims) return si.data.count;
    }
    return 0;
  };
  auto calls = [&](std::string_view op, std::string_view cls) {
    return count("ExternalCalls", {{"Operation", std::string(op)},
                                   {"Service", "razorpay"},
                                   {"StatusClass", std::string(cls)}});
  };
  EXPECT_EQ(calls("create_order", "2xx"), 1u);
  EXPECT_EQ(calls("create_order", "4xx"), 1u);
  EXPECT_EQ(calls("fetch_payment", "timeout"), 1u);
  EXPECT_EQ(count("ExternalCallDuration", {{"Operation", "create_order"}, {"Service", "razorpay"}}),
            2u);
  EXPECT_EQ(count("ExternalCallRetries", {{"Service", "razorpay"}}), 2u);
  EXPECT_EQ(count("ExternalCallTimeouts", {{"Service", "razorpay"}}), 2u);
}

TEST_F(RazorpayGatewayTest, BadJsonFromUpstreamIsUnavailable) {
  auto gateway = Make(Settings());
  ASSERT_TRUE(gateway);
  standin_.BadJsonNext(1);
  auto order = gateway->CreateOrder(Req(4500, "INR"));
  ASSERT_FALSE(order.ok());
  EXPECT_EQ(order.status().code(), StatusCode::kUnavailable);
}

TEST_F(RazorpayGatewayTest, ConnectionRefusedIsUnavailable) {
  GatewaySettings s = Settings();
  s.base_url = "http://127.0.0.1:1";  // nothing listens on port 1
  s.retries = 1;
  auto gateway = Make(s);
  ASSERT_TRUE(gateway);
  EXPECT_EQ(gateway->CreateOrder(Req(4500, "INR")).status().code(), StatusCode::kUnavailable);
}

// An order of the stand-in paid with `status`; returns the payment id.
std::string PaidOrder(Gateway& gateway, RazorpayStandin& standin, const std::string& status,
                      int64_t amount = 4500) {
  auto order = gateway.CreateOrder(Req(amount, "INR"));
  EXPECT_TRUE(order.ok()) << order.status().ToString();
  return order.ok() ? standin.Pay(order->id, status) : "";
}

size_t CountRequests(const RazorpayStandin& standin, const std::string& method,
                     const std::string& target) {
  size_t n = 0;
  for (const auto& r : standin.requests()) n += r.method == method && r.target == target;
  return n;
}

TEST_F(RazorpayGatewayTest, CapturesAnAuthorizedPayment) {
  auto gateway = Make(Settings());
  ASSERT_TRUE(gateway);
  const std::string pay = PaidOrder(*gateway, standin_, "authorized");
  auto captured = gateway->CapturePayment(pay, 4500, "INR");
  ASSERT_TRUE(captured.ok()) << captured.status().ToString();
  EXPECT_EQ(captured->id, pay);
  EXPECT_EQ(captured->status, "captured");
  EXPECT_EQ(captured->amount_paise, 4500);
  EXPECT_EQ(standin_.payment_status(pay), "captured");
  const auto requests = standin_.requests();
  ASSERT_FALSE(requests.empty());
  EXPECT_EQ(requests.back().method, "POST");
  EXPECT_EQ(requests.back().target, "/v1/payments/" + pay + "/capture");
  boost::json::value sent = boost::json::parse(requests.back().body);
  EXPECT_EQ(sent.at("amount").as_int64(), 4500);
  EXPECT_EQ(sent.at("currency").as_string(), "INR");
}

TEST_F(RazorpayGatewayTest, CapturingACapturedPaymentIsSuccessNotASecondCapture) {
  auto gateway = Make(Settings());
  ASSERT_TRUE(gateway);
  const std::string pay = PaidOrder(*gateway, standin_, "captured");
  auto captured = gateway->CapturePayment(pay, 4500, "INR");
  ASSERT_TRUE(captured.ok()) << captured.status().ToString();
  EXPECT_EQ(captured->status, "captured");
  // But not for another amount, and never for a failed payment.
  EXPECT_EQ(gateway->CapturePayment(pay, 4400, "INR").status().reason(), "GATEWAY_REJECTED");
  const std::string failed = PaidOrder(*gateway, standin_, "failed");
  EXPECT_EQ(gateway->CapturePayment(failed, 4500, "INR").status().reason(), "GATEWAY_REJECTED");
  EXPECT_EQ(gateway->CapturePayment("pay_ABCDEFGHIJKLMN", 4500, "INR").status().code(),
            StatusCode::kNotFound);
}

TEST_F(RazorpayGatewayTest, CaptureIsRetriedAfterATransientFailure) {
  auto gateway = Make(Settings());
  ASSERT_TRUE(gateway);
  const std::string pay = PaidOrder(*gateway, standin_, "authorized");
  standin_.FailNext(1, 502, "POST");
  auto captured = gateway->CapturePayment(pay, 4500, "INR");
  ASSERT_TRUE(captured.ok()) << captured.status().ToString();
  EXPECT_EQ(CountRequests(standin_, "POST", "/v1/payments/" + pay + "/capture"), 2u);
  EXPECT_EQ(standin_.payment_status(pay), "captured");
}

// A throttled capture must stay retryable: taken as a refusal, the payment.authorized webhook
// would be acknowledged and the authorization left to lapse.
TEST_F(RazorpayGatewayTest, ThrottledCaptureIsUnavailableNotARefusal) {
  auto gateway = Make(Settings());
  ASSERT_TRUE(gateway);
  const std::string pay = PaidOrder(*gateway, standin_, "authorized");
  standin_.FailNext(1, 429, "POST");
  auto captured = gateway->CapturePayment(pay, 4500, "INR");
  ASSERT_FALSE(captured.ok());
  EXPECT_EQ(captured.status().code(), StatusCode::kUnavailable) << captured.status().ToString();
  EXPECT_EQ(standin_.payment_status(pay), "authorized");
  // The retry captures it.
  captured = gateway->CapturePayment(pay, 4500, "INR");
  ASSERT_TRUE(captured.ok()) << captured.status().ToString();
  EXPECT_EQ(standin_.payment_status(pay), "captured");
}

TEST_F(RazorpayGatewayTest, CaptureWhoseAnswerWasLostSucceedsOnTheRetry) {
  auto gateway = Make(Settings());
  ASSERT_TRUE(gateway);
  const std::string pay = PaidOrder(*gateway, standin_, "authorized");
  standin_.LoseNextAnswers(1);  // captured, but answered 500
  auto captured = gateway->CapturePayment(pay, 4500, "INR");
  ASSERT_TRUE(captured.ok()) << captured.status().ToString();
  EXPECT_EQ(captured->status, "captured");
}

TEST_F(RazorpayGatewayTest, RefundsWithReceiptAndNotes) {
  auto gateway = Make(Settings());
  ASSERT_TRUE(gateway);
  const std::string pay = PaidOrder(*gateway, standin_, "captured");
  auto refund = gateway->RefundPayment(
      {.payment_id = pay, .amount_paise = 4500, .receipt = "ORD-1", .notes = {{"orderId", "x"}}});
  ASSERT_TRUE(refund.ok()) << refund.status().ToString();
  EXPECT_TRUE(std::regex_match(refund->id, std::regex("^rfnd_[A-Za-z0-9]{14}$"))) << refund->id;
  EXPECT_EQ(refund->payment_id, pay);
  EXPECT_EQ(refund->amount_paise, 4500);
  EXPECT_EQ(refund->status, "processed");
  EXPECT_EQ(standin_.payment_status(pay), "refunded");
  const auto requests = standin_.requests();
  EXPECT_EQ(requests.back().target, "/v1/payments/" + pay + "/refund");
  boost::json::value sent = boost::json::parse(requests.back().body);
  EXPECT_EQ(sent.at("amount").as_int64(), 4500);
  EXPECT_EQ(sent.at("receipt").as_string(), "ORD-1");
  EXPECT_EQ(sent.at("notes").at("orderId").as_string(), "x");
  // Nothing left: a refund with another receipt is refused, not made.
  auto again = gateway->RefundPayment({.payment_id = pay, .amount_paise = 1, .receipt = "ORD-2"});
  EXPECT_EQ(again.status().reason(), "GATEWAY_REJECTED");
  EXPECT_EQ(standin_.refund_count(), 1u);
  // An authorized payment is not refundable; bad input never reaches the wire.
  const std::string authorized = PaidOrder(*gateway, standin_, "authorized");
  EXPECT_EQ(gateway->RefundPayment({.payment_id = authorized, .amount_paise = 4500, .receipt = "r"})
                .status()
                .code(),
            StatusCode::kFailedPrecondition);
  const size_t before = standin_.requests().size();
  EXPECT_EQ(gateway->RefundPayment({.payment_id = pay, .amount_paise = 0, .receipt = "r"})
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(gateway->RefundPayment({.payment_id = pay, .amount_paise = 1}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(gateway->RefundPayment({.payment_id = "../x", .amount_paise = 1, .receipt = "r"})
                .status()
                .code(),
            StatusCode::kNotFound);
  EXPECT_EQ(standin_.requests().size(), before);
}

TEST_F(RazorpayGatewayTest, RefundIsRetriedAfterATransientFailure) {
  auto gateway = Make(Settings());
  ASSERT_TRUE(gateway);
  const std::string pay = PaidOrder(*gateway, standin_, "captured");
  standin_.FailNext(1, 503, "POST");  // the refund itself, before it takes effect
  auto refund = gateway->RefundPayment({.payment_id = pay, .amount_paise = 2000, .receipt = "r1"});
  ASSERT_TRUE(refund.ok()) << refund.status().ToString();
  EXPECT_EQ(CountRequests(standin_, "POST", "/v1/payments/" + pay + "/refund"), 2u);
  EXPECT_EQ(standin_.refund_count(), 1u);
  EXPECT_EQ(standin_.amount_refunded(pay), 2000);
}

TEST_F(RazorpayGatewayTest, PartialRefundWhoseAnswerWasLostIsNotMadeTwice) {
  auto gateway = Make(Settings());
  ASSERT_TRUE(gateway);
  const std::string pay = PaidOrder(*gateway, standin_, "captured");
  standin_.LoseNextAnswers(1);  // refunded, but answered 500
  auto refund = gateway->RefundPayment({.payment_id = pay, .amount_paise = 1000, .receipt = "r1"});
  ASSERT_TRUE(refund.ok()) << refund.status().ToString();
  EXPECT_EQ(refund->amount_paise, 1000);
  // A second POST would have refunded another 1000 (the payment has 4500).
  EXPECT_EQ(standin_.refund_count(), 1u);
  EXPECT_EQ(standin_.amount_refunded(pay), 1000);
  EXPECT_EQ(CountRequests(standin_, "POST", "/v1/payments/" + pay + "/refund"), 1u);
}

TEST_F(RazorpayGatewayTest, RefundWithAReceiptAlreadyUsedIsTheEarlierRefund) {
  auto gateway = Make(Settings());
  ASSERT_TRUE(gateway);
  const std::string pay = PaidOrder(*gateway, standin_, "captured");
  auto first = gateway->RefundPayment({.payment_id = pay, .amount_paise = 1000, .receipt = "r1"});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  // A later call with the same receipt (e.g. the caller's own retry) refunds nothing more.
  auto again = gateway->RefundPayment({.payment_id = pay, .amount_paise = 1000, .receipt = "r1"});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->id, first->id);
  EXPECT_EQ(standin_.amount_refunded(pay), 1000);
  auto other = gateway->RefundPayment({.payment_id = pay, .amount_paise = 1000, .receipt = "r2"});
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->id, first->id);
  EXPECT_EQ(standin_.amount_refunded(pay), 2000);
  EXPECT_EQ(
      gateway
          ->RefundPayment({.payment_id = "pay_ABCDEFGHIJKLMN", .amount_paise = 1, .receipt = "r"})
          .status()
          .code(),
      StatusCode::kNotFound);
}

TEST_F(RazorpayGatewayTest, RefundGivesUpWhenRazorpayStaysDown) {
  auto gateway = Make(Settings());
  ASSERT_TRUE(gateway);
  const std::string pay = PaidOrder(*gateway, standin_, "captured");
  standin_.FailNext(100, 500);
  auto refund = gateway->RefundPayment({.payment_id = pay, .amount_paise = 4500, .receipt = "r1"});
  standin_.FailNext(0);
  EXPECT_EQ(refund.status().code(), StatusCode::kUnavailable);
  // The refunds could not be listed, so nothing was sent blind.
  EXPECT_EQ(CountRequests(standin_, "POST", "/v1/payments/" + pay + "/refund"), 0u);
  EXPECT_EQ(standin_.refund_count(), 0u);
}

TEST_F(RazorpayGatewayTest, RefusesUnsafeSettings) {
  GatewaySettings s = Settings();
  s.base_url = "http://api.razorpay.com";
  EXPECT_EQ(NewGateway(s).status().code(), StatusCode::kInvalidArgument);
  s.base_url = "not a url";
  EXPECT_EQ(NewGateway(s).status().code(), StatusCode::kInvalidArgument);
  s = Settings();
  s.key_id = "";
  EXPECT_EQ(NewGateway(s).status().code(), StatusCode::kInvalidArgument);
  s = Settings();
  s.key_secret = "";
  EXPECT_EQ(NewGateway(s).status().code(), StatusCode::kInvalidArgument);
  s.base_url = "https://api.razorpay.com";
  s.key_secret = "x";
  EXPECT_TRUE(NewGateway(s).ok());  // TLS set up with the system CA store
}

}  // namespace
}  // namespace hasivu::payments
