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
// Capture: a payment the gateway reports "authorized" is captured explicitly (Gateway::
// CapturePayment, for the payment order's amount) before it is recorded, and only while its order
// can still be paid; until then the order stays pending. The audit row of a recorded payment says
// whether hasivu captured it ("capture": "explicit") or the gateway had ("gateway"); a refused
// capture is audited as payment_capture_failed.
// Refunds: RefundCancelledOrder refunds a cancelled order's payment; refund webhooks record the
// gateway's refunds (payment_refunds, unique gateway_refund_id). A payment refunded in full
// becomes "refunded", and so does its order's paymentStatus; a partial refund only adds its row.
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
#include "metrics/meters.h"
#include "metrics/monitor.h"
#include "payments/gateway.h"
#include "store/database.h"

namespace hasivu::store {
struct PaymentOrderRow;  // store/payments_repo.h
}  // namespace hasivu::store

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

struct RefundOutcome {
  // "refunded" (the gateway refunded the payment), "pending" (the gateway accepted the refund;
  // refund.processed settles it), "none" (nothing to refund: the order is not cancelled, was
  // never paid, or is refunded already).
  std::string result;
  std::string refund_id;  // the gateway's rfnd_... id, if any
};

class PaymentService {
 public:
  // `monitor` (outlives the service) gets BusinessEvents/BusinessAmountPaise{payment_captured}
  // for each payment this service records as captured, and OperationDuration/OperationErrors
  // of the webhook ("payments_webhook") and of refunds ("payments_refund").
  PaymentService(store::Database* db, Clock* clock, payments::Gateway* gateway,
                 PaymentSettings settings, metrics::Monitor& monitor,
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
  // events are ignored. payment.authorized captures the payment first (as verify does); a capture
  // the gateway cannot do now is kUnavailable, so the gateway delivers the webhook again.
  // refund.created / refund.processed / refund.failed / payment.refunded record the refund in
  // payload.refund.entity (idempotent on its id). kInvalidArgument INVALID_SIGNATURE for a bad
  // signature, INVALID_JSON for a signed body that is not a JSON object.
  StatusOr<WebhookOutcome> HandleWebhook(std::string_view raw_body, std::string_view signature,
                                         std::string_view request_id);

  // Refunds what is left of the captured payment of order `order_id` if the order is cancelled
  // and its payment is still paid (the cancellation itself is OrderService's), with the order
  // number as the gateway receipt, so calling it again never refunds twice. Records the refund
  // and audits it (actor `actor_id`). Errors: ORDER_NOT_FOUND; REFUND_FAILED
  // (kFailedPrecondition) when the gateway refuses, audited as refund_failed; kUnavailable when it
  // cannot be reached (audited too). Either way the order stays cancelled with payment paid: the
  // refund is still owed (operations.md).
  StatusOr<RefundOutcome> RefundCancelledOrder(std::string_view order_id,
                                               const std::string& actor_id,
                                               std::string_view request_id);

  const PaymentSettings& settings() const { return settings_; }

 private:
  struct Applied;
  StatusOr<Applied> ApplyCaptured(const std::string& gateway_order_id,
                                  const payments::GatewayPayment& payment,
                                  const std::string& signature, const std::string& actor_id,
                                  bool enforce_expiry, std::string_view request_id,
                                  std::string_view source, std::string_view capture);
  // For an "authorized" `payment` of `po`: unless it is recorded already or its order can no
  // longer be paid (then the refusal, and nothing is captured), captures it at the gateway and
  // sets payment->status to "captured". Sets *captured when this call captured it.
  Status CaptureAuthorized(payments::GatewayPayment* payment, const store::PaymentOrderRow& po,
                           const std::string& actor_id, std::string_view request_id,
                           std::string_view source, bool* captured);
  // Records `refund` of a payment this service recorded (kNotFound otherwise), settles the payment
  // and its order when refunds processed reach the amount, audits. Returns whether it changed
  // anything (false: recorded already with this status).
  StatusOr<bool> ApplyRefund(const payments::GatewayRefund& refund, std::string_view reason,
                             const std::string& actor_id, std::string_view request_id,
                             std::string_view source);
  // For a captured `payment` of `po` that could not be recorded (`why`: its order was cancelled
  // or paid by another payment meanwhile) and is recorded nowhere: refunds it in full at the
  // gateway (idempotent on a receipt of the payment's) and audits "capture_refunded", or
  // "refund_failed" with an error log for an operator. Never fails the caller's answer.
  void RefundUnappliedCapture(const payments::GatewayPayment& payment,
                              const store::PaymentOrderRow& po, const Status& why,
                              const std::string& actor_id, std::string_view request_id,
                              std::string_view source);
  // One audit row on its own (outcomes that change nothing else).
  void AuditOnly(const std::string& order_id, std::string_view action,
                 const std::string& changes_json, const std::string& actor_id,
                 std::string_view request_id);
  StatusOr<WebhookOutcome> HandleWebhookUnmeasured(std::string_view raw_body,
                                                   std::string_view signature,
                                                   std::string_view request_id);
  StatusOr<RefundOutcome> RefundCancelledOrderUnmeasured(std::string_view order_id,
                                                         const std::string& actor_id,
                                                         std::string_view request_id);
  StatusOr<Applied> ApplyFailed(const std::string& gateway_order_id,
                                const payments::GatewayPayment& payment,
                                const std::string& actor_id, std::string_view request_id,
                                std::string_view source);

  store::Database* db_;
  Clock* clock_;
  payments::Gateway* gateway_;
  PaymentSettings settings_;
  std::function<void(const std::string&)> on_order_changed_;
  metrics::BusinessEventMeter captured_;
  metrics::OperationMeter webhook_;
  metrics::OperationMeter refund_;
};

}  // namespace hasivu::domain

#endif  // HASIVU_DOMAIN_PAYMENT_SERVICE_H_
