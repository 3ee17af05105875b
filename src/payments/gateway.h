// payments::Gateway: the payment gateway as the domain sees it (Razorpay's Orders, Payments and
// Refunds APIs, reduced to what the platform needs), with two backends: simulated/ (embedded
// default, in memory) and razorpay/ (HTTPS client). NewGateway() picks one from GatewaySettings.
//
// This folder sits beside store/ below domain/: it knows nothing of orders, users or settings of
// the domain; app/ converts domain::PaymentSettings into GatewaySettings.
//
// Thread-safety: every Gateway implementation is safe to use from any number of threads.
#ifndef HASIVU_PAYMENTS_GATEWAY_H_
#define HASIVU_PAYMENTS_GATEWAY_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "metrics/monitor.h"

namespace hasivu::payments {

enum class GatewayKind { kSimulated, kRazorpay };

struct GatewaySettings {
  GatewayKind kind = GatewayKind::kSimulated;
  std::string key_id;
  std::string key_secret;  // signs checkout results (both backends) and authenticates (razorpay)
  std::string webhook_secret;
  // razorpay: "https://api.razorpay.com", or plain "http://127.x..."/"http://localhost..." for a
  // loopback stand-in. Other http:// URLs are refused by NewGateway.
  std::string base_url = "https://api.razorpay.com";
  // razorpay: connect timeout and total time of one attempt (connect + send + receive).
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds timeout{5000};
  // razorpay: extra attempts after a 5xx answer or a connection failure (never after a 4xx),
  // waiting backoff, 2*backoff, 4*backoff... between attempts.
  int retries = 2;
  std::chrono::milliseconds backoff{100};
  // razorpay: measures every call (metrics::ExternalCallMeter, Service "razorpay"); null: not
  // measured. Not owned; outlives the gateway.
  metrics::Monitor* monitor = nullptr;
};

struct CreateOrderRequest {
  int64_t amount_paise = 0;
  std::string currency = "INR";
  std::string receipt;  // ours: at most 40 characters (Razorpay's limit)
  std::map<std::string, std::string> notes;
};

struct GatewayOrder {
  std::string id;      // "order_" + 14 alphanumerics
  std::string status;  // "created" | "attempted" | "paid"
  int64_t amount_paise = 0;
  std::string currency;
};

// A payment as the gateway reports it.
struct GatewayPayment {
  std::string id;  // "pay_" + 14 alphanumerics
  std::string order_id;
  int64_t amount_paise = 0;
  std::string currency;
  std::string status;  // "created" | "authorized" | "captured" | "refunded" | "failed"
  std::string method;  // "card", "upi", ... (may be empty)
  std::string error_code;
  std::string error_description;
};

struct RefundRequest {
  std::string payment_id;
  int64_t amount_paise = 0;  // > 0; at most what is left unrefunded of the payment
  std::string receipt{};     // ours, at most 40 characters (e.g. the order number)
  std::map<std::string, std::string> notes{};
};

// A refund as the gateway reports it.
struct GatewayRefund {
  std::string id;  // "rfnd_" + 14 alphanumerics
  std::string payment_id;
  int64_t amount_paise = 0;
  std::string currency;
  std::string status;  // "pending" | "processed" | "failed"
};

// What Razorpay's checkout hands the browser after a payment.
struct CheckoutResult {
  std::string order_id;
  std::string payment_id;
  std::string signature;
};

class Gateway {
 public:
  virtual ~Gateway() = default;

  // "simulated" | "razorpay" (stored in payment_orders.gateway).
  virtual std::string_view name() const = 0;

  // Creates a gateway order. Errors: kInvalidArgument for a bad request (amount <= 0, currency),
  // kFailedPrecondition when the gateway refuses it (4xx), kUnavailable when it cannot be
  // reached or keeps failing (5xx, timeouts, unreadable answers).
  virtual StatusOr<GatewayOrder> CreateOrder(const CreateOrderRequest& request) = 0;

  // Fetches a payment. Errors: kNotFound for an unknown id, otherwise as CreateOrder.
  virtual StatusOr<GatewayPayment> FetchPayment(std::string_view payment_id) = 0;

  // Captures an authorized payment for exactly `amount_paise` in `currency` and returns it as
  // captured. Idempotent: a payment already captured for that amount is success (the answer of
  // an earlier attempt may have been lost), never a second capture. Errors: kNotFound for an
  // unknown id; kFailedPrecondition (GATEWAY_REJECTED) when the payment cannot be captured
  // (failed, refunded, another amount, authorization lapsed); otherwise as CreateOrder.
  virtual StatusOr<GatewayPayment> CapturePayment(std::string_view payment_id, int64_t amount_paise,
                                                  std::string_view currency) = 0;

  // Refunds part or all of a captured payment. Idempotent on (payment_id, receipt): when the
  // payment already has a refund with this receipt (an earlier attempt whose answer was lost),
  // that refund is returned and nothing is refunded again. Errors: kInvalidArgument for
  // amount <= 0 or an empty receipt; kNotFound for an unknown payment; kFailedPrecondition
  // (GATEWAY_REJECTED) when the gateway refuses (not captured, more than is left); otherwise as
  // CreateOrder.
  virtual StatusOr<GatewayRefund> RefundPayment(const RefundRequest& request) = 0;

  // Simulated gateway only: plays the customer's checkout for a gateway order — records a
  // payment of the order's amount ("captured" on success, or "authorized" when it was built
  // without auto-capture; "failed" otherwise) and returns the signed checkout result. Other
  // gateways: kUnimplemented. kNotFound for an unknown order.
  virtual StatusOr<CheckoutResult> SimulateCheckout(std::string_view order_id, bool success) {
    (void)order_id;
    (void)success;
    return UnimplementedError("checkout simulation exists only on the simulated gateway");
  }
};

// Builds the gateway `settings` name. kInvalidArgument for unusable settings (empty key secret,
// razorpay without key id, a base URL that is neither https:// nor loopback http://).
StatusOr<std::unique_ptr<Gateway>> NewGateway(const GatewaySettings& settings);

}  // namespace hasivu::payments

#endif  // HASIVU_PAYMENTS_GATEWAY_H_
