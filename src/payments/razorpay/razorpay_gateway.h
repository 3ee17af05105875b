// The Razorpay gateway: a small client of Razorpay's REST API (POST /v1/orders,
// GET /v1/payments/{id}, POST /v1/payments/{id}/capture, POST /v1/payments/{id}/refund,
// GET /v1/payments/{id}/refunds) with HTTP Basic auth (key id : key secret).
//
// Transport: HTTPS with the system CA store, peer and host name verified (Boost.Beast over
// OpenSSL), or plain HTTP when the base URL is a loopback http:// URL (the tests' stand-in). One
// connection per request ("Connection: close").
// Time: each attempt is bounded by settings.connect_timeout (connect) and settings.timeout (the
// whole attempt); the host name is resolved synchronously by the system resolver first.
// Retries: on a 5xx answer or a connection failure/timeout, up to settings.retries more attempts
// with exponential backoff (settings.backoff, doubled each time, with jitter; common/retry.h);
// never on a 4xx.
// Metrics: with settings.monitor, each call (retries included) is measured as an external call of
// Service "razorpay" and Operation create_order, fetch_payment, capture_payment, refund_payment
// or list_refunds (metrics/meters.h): latency, outcome class, retries, attempts that timed out.
// Idempotency of the calls that move money: a capture answered 4xx is checked by fetching the
// payment (already captured for the amount: success); a refund is never sent blind: before each
// POST the payment's refunds are listed, and one with the request's receipt is the answer.
// Errors: kFailedPrecondition (reason GATEWAY_REJECTED) for a 4xx answer, kNotFound for a 404 on
// a payment, kUnavailable when Razorpay cannot be reached, keeps failing, or answers something
// unreadable. Secrets never appear in messages.
//
// Tracing (metrics/trace.h): every HTTP attempt sends `traceparent` with a new span of the current
// request's trace (of a new trace when no request is current) and adds its time, connect and
// resolve included, to the request's gateway span.
//
// Thread-safety: safe to use from any number of threads; each call uses its own connection.
#ifndef HASIVU_PAYMENTS_RAZORPAY_RAZORPAY_GATEWAY_H_
#define HASIVU_PAYMENTS_RAZORPAY_RAZORPAY_GATEWAY_H_

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/meters.h"
#include "payments/gateway.h"

namespace hasivu::payments {

class RazorpayGateway : public Gateway {
 public:
  // kInvalidArgument for an unusable base URL or missing keys; kInternal if TLS cannot be set up.
  static StatusOr<std::unique_ptr<RazorpayGateway>> Create(const GatewaySettings& settings);

  std::string_view name() const override { return "razorpay"; }
  StatusOr<GatewayOrder> CreateOrder(const CreateOrderRequest& request) override;
  StatusOr<GatewayPayment> FetchPayment(std::string_view payment_id) override;
  StatusOr<GatewayPayment> CapturePayment(std::string_view payment_id, int64_t amount_paise,
                                          std::string_view currency) override;
  StatusOr<GatewayRefund> RefundPayment(const RefundRequest& request) override;

  struct HttpAnswer {
    unsigned status = 0;
    std::string body;
  };

 private:
  RazorpayGateway(const GatewaySettings& settings, bool tls);
  // One request with retries as described above. OK for any HTTP answer below 500 (the caller
  // maps 4xx); kUnavailable when the attempts are used up.
  StatusOr<HttpAnswer> Send(std::string_view method, std::string_view path, std::string body,
                            int retries);
  StatusOr<HttpAnswer> Send(std::string_view method, std::string_view path, std::string body) {
    return Send(method, path, std::move(body), settings_.retries);
  }
  // The refund of `payment_id` with `receipt`, if the payment has one.
  StatusOr<std::optional<GatewayRefund>> FindRefund(const std::string& payment_id,
                                                    const std::string& receipt);
  StatusOr<HttpAnswer> SendOnce(std::string_view method, const std::string& target,
                                const std::string& body);

  GatewaySettings settings_;
  bool tls_ = false;
  std::string host_;
  std::string port_;
  std::string path_prefix_;  // base URL path without a trailing '/'
  std::string authorization_;
  std::unique_ptr<boost::asio::ssl::context> ssl_ctx_;
  // By operation (OperationOf in the .cc); empty without a monitor.
  std::vector<metrics::ExternalCallMeter> meters_;
};

}  // namespace hasivu::payments

#endif  // HASIVU_PAYMENTS_RAZORPAY_RAZORPAY_GATEWAY_H_
