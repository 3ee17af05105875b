// PaymentService: payment orders for meal orders, checkout verification and the gateway's
// webhook (api.md payments-create-order, payments-verify; POST /payments/simulate and
// /payments/webhook). Uses only the payments::Gateway interface and store/payments_repo.h.
//
// Errors carry the API's reason codes: ORDER_NOT_FOUND / PAYMENT_ORDER_NOT_FOUND (kNotFound),
// FORBIDDEN (kPermissionDenied), ORDER_NOT_PAYABLE, AMOUNT_MISMATCH, PAYMENT_FAILED,
// PAYMENT_NOT_CAPTURED, PAYMENT_ORDER_MISMATCH (kFailedPrecondition, 422), PAYMENT_ORDER_EXPIRED
// (kFailedPrecondition; api/ answers 410), INVALID_SIGNATURE (kInvalidArgument), ALREADY_PAID
// (kAlreadyExists), gateway trouble as kUnavailable (503) without internals in the message.
//
// Every state change (payment recorded, payment order paid/failed, order confirmed, audit row)
// happens in ONE Database::Write transaction that first locks the order row, so concurrent
// verifications and webhooks of one payment have exactly one effect; the unique
// payment_transactions.gateway_payment_id makes them idempotent. After a committed change,
// `on_order_changed(order_id)` is called: the one place cache invalidation hooks in.
//
// Thread-safety: safe to call from any number of threads. Ownership: the database, clock and
// gateway are borrowed and must outlive the service.
#ifndef HASIVU_DOMAIN_PAYMENT_SERVICE_H_
#define HASIVU_DOMAIN_PAYMENT_SERVICE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"
#include "domain/principal.h"
#include "domain/settings.h"
#include "payments/gateway.h"
#include "store/database.h"

namespace hasivu::domain {

struct PaymentOrderView {
  std::string id;
  std::string gateway_order_id;
  std::string order_id;
  int64_t amount_paise = 0;
  std::string currency;
  std::string status;
  std::string expires_at;  // RFC 3339 UTC
};

struct CreatedPaymentOrder {
  PaymentOrderView payment_order;
  std::string key_id;
  bool created = false;  // false: an unexpired payment order was returned again
};

struct VerifyPaymentInput {
  std::string razorpay_order_id;
  std::string razorpay_payment_id;
  std::string razorpay_signature;
};

struct VerificationView {
  std::string payment_id;  // the gateway's pay_... id
  std::string order_id;    // our order's id
  int64_t amount_paise = 0;
  std::string currency;
  std::string status;       // "captured"
  std::string verified_at;  // RFC 3339 UTC, the instant the payment was first recorded
};

struct WebhookOutcome {
  std::string event;
  // "applied" (state changed), "duplicate" (already recorded), "ignored" (unknown event, unknown
  // payment order, or a change that no longer applies).
  std::string result;
};

class PaymentService {
 public:
  PaymentService(store::Database* db, Clock* clock, payments::Gateway* gateway,
                 PaymentSettings settings,
                 std::function<void(const std::string& order_id)> on_order_changed = {});

  // payments-create-order. `amount`, when given, must equal the order's total.
  StatusOr<CreatedPaymentOrder> CreatePaymentOrder(const Principal& caller,
                                                   std::string_view order_id,
                                                   std::optional<int64_t> amount);

  // POST /payments/simulate: plays the checkout on the simulated gateway (kUnimplemented on
  // others) for a payment order the caller owns.
  StatusOr<payments::CheckoutResult> SimulateCheckout(const Principal& caller,
                                                      std::string_view gateway_order_id,
                                                      bool success);

  // payments-verify. Idempotent on the gateway payment id.
  StatusOr<VerificationView> Verify(const Principal& caller, const VerifyPaymentInput& input,
                                    std::string_view request_id);

  // POST /payments/webhook: `signature` is the X-Razorpay-Signature header over `raw_body`.
  // payment.captured / order.paid record the payment (as verify does, but an expired payment
  // order is still honoured: the money was taken); payment.failed records the failure; other
  // events are ignored. kInvalidArgument INVALID_SIGNATURE for a bad signature, INVALID_JSON
  // for a signed body that is not a JSON object.
  StatusOr<WebhookOutcome> HandleWebhook(std::string_view raw_body, std::string_view signature,
                                         std::string_view request_id);

  const PaymentSettings& settings() const { return settings_; }

 private:
  struct Applied;
  StatusOr<Applied> ApplyCaptured(const std::string& gateway_order_id,
                                  const payments::GatewayPayment& payment,
                                  const std::string& signature, const std::string& actor_id,
                                  bool enforce_expiry, std::string_view request_id,
                                  std::string_view source);
  StatusOr<Applied> ApplyFailed(const std::string& gateway_order_id,
                                const payments::GatewayPayment& payment,
                                const std::string& actor_id, std::string_view request_id,
                                std::string_view source);

  store::Database* db_;
  Clock* clock_;
  payments::Gateway* gateway_;
  PaymentSettings settings_;
  std::function<void(const std::string&)> on_order_changed_;
};

}  // namespace hasivu::domain

#endif  // HASIVU_DOMAIN_PAYMENT_SERVICE_H_
