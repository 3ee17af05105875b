// The payment flows: create a payment order, verify a checkout, capture, apply a webhook, refund.
// Over 600 lines on purpose: every flow ends in the same few transactions (lock the payment order
// and its order, apply a capture, a failure or a refund, audit), and keeping them beside the
// shared locking and error helpers is what lets a reader check the one-effect guarantee in one
// file; a split by flow would spread one state machine over several.
#include "domain/payment_service.h"

#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <utility>

#include "common/ids.h"
#include "common/retry.h"
#include "common/time_util.h"
#include "common/utf8.h"
#include "domain/access.h"
#include "payments/signature.h"
#include "store/payments_repo.h"

namespace hasivu::domain {

namespace json = boost::json;

struct PaymentService::Applied {
  VerificationView view;
  bool changed = false;  // false: this payment was already recorded
  bool failed = false;   // the recorded payment is a failed one
};

namespace {

// A transaction that lost a race (kAborted: a concurrent writer won) is run again at once: the
// other writer has committed, so the next attempt sees its rows.
constexpr RetryPolicy kTransactionRetry{.max_attempts = 3};
bool IsAborted(const Status& s) { return s.code() == StatusCode::kAborted; }

Status NotFound(std::string_view what, std::string reason) {
  return Status(StatusCode::kNotFound, std::string(what) + " not found", std::move(reason));
}
Status Refused(std::string message, std::string reason) {
  return Status(StatusCode::kFailedPrecondition, std::move(message), std::move(reason));
}
Status AlreadyPaid() {
  return Status(StatusCode::kAlreadyExists, "the order has already been paid by another payment",
                "ALREADY_PAID");
}
// The payment order of `gateway_order_id`, its order locked: every payment change of an order
// happens under this row lock, so a concurrent verification or webhook of the order waits here
// and then sees this one's committed rows.
StatusOr<store::PaymentOrderRow> LockPaymentOrder(store::Connection& c,
                                                  const std::string& gateway_order_id) {
  ASSIGN_OR_RETURN(std::optional<store::PaymentOrderRow> po,
                   store::FindPaymentOrderByGatewayId(c, gateway_order_id));
  if (!po || po->order_id.empty()) return NotFound("payment order", "PAYMENT_ORDER_NOT_FOUND");
  ASSIGN_OR_RETURN(bool exists, store::LockOrder(c, po->order_id));
  if (!exists) return NotFound("order", "ORDER_NOT_FOUND");
  return std::move(*po);
}
Status InvalidSignature() {
  return Status(StatusCode::kInvalidArgument, "the signature does not match", "INVALID_SIGNATURE");
}
Status PaymentFailed() { return Refused("the payment failed at the gateway", "PAYMENT_FAILED"); }
Status Expired() {
  return Refused("the payment order has expired; create a new one", "PAYMENT_ORDER_EXPIRED");
}
// Gateway details (hosts, HTTP codes) are for logs, not for clients.
Status GatewayTrouble(const Status& s) {
  spdlog::warn("payment gateway: {}", s.ToString());
  if (s.code() == StatusCode::kInvalidArgument) return InternalError(s.message());
  return Status(StatusCode::kUnavailable, "the payment gateway is unavailable, try again later");
}

// "order_"/"pay_" + alphanumerics, as Razorpay issues them.
bool IsGatewayId(std::string_view id, std::string_view prefix) {
  if (id.size() <= prefix.size() || id.size() > 64 || id.substr(0, prefix.size()) != prefix) {
    return false;
  }
  for (char c : id.substr(prefix.size())) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) {
      return false;
    }
  }
  return true;
}

// The user who placed the order or the student's parent.
bool OwnsOrder(const Principal& p, const store::PayableOrder& o) {
  return p.user_id == o.user_id || (p.role == Role::kParent && !o.student_parent_id.empty() &&
                                    p.user_id == o.student_parent_id);
}

bool OwnsPaymentOrder(const Principal& p, const store::PaymentOrderRow& po,
                      const store::PayableOrder& o) {
  return p.IsAdmin() || p.user_id == po.user_id || OwnsOrder(p, o);
}

OrderRef RefOf(const store::PayableOrder& o) {
  return OrderRef{.student_id = o.student_id,
                  .student_parent_id = o.student_parent_id,
                  .school_id = o.school_id};
}

PaymentOrderView ViewOf(const store::PaymentOrderRow& po) {
  return PaymentOrderView{.id = po.id,
                          .gateway_order_id = po.gateway_order_id,
                          .order_id = po.order_id,
                          .amount_paise = po.amount_paise,
                          .currency = po.currency,
                          .status = po.status,
                          .expires_at = po.expires_at};
}

bool IsExpired(const store::PaymentOrderRow& po, TimePoint now) {
  if (po.status == "expired") return true;
  if (po.status != "created" && po.status != "attempted") return false;
  StatusOr<TimePoint> expires = ParseRfc3339(po.expires_at);
  return !expires.ok() || *expires <= now;
}

// "authorized" here means: recorded by a concurrent call meanwhile (CaptureAuthorized captured it
// or found it recorded); ApplyCaptured then answers the recorded payment.
bool IsSuccess(std::string_view gateway_status) {
  return gateway_status == "captured" || gateway_status == "authorized";
}

bool CanStillBePaid(const store::PayableOrder& o) {
  return o.status == "pending" && (o.payment_status == "pending" || o.payment_status == "failed");
}

const json::object* EntityAt(const json::object& event, std::string_view name) {
  const json::value* payload = event.if_contains("payload");
  if (!payload || !payload->is_object()) return nullptr;
  const json::value* p = payload->as_object().if_contains(name);
  if (!p || !p->is_object()) return nullptr;
  const json::value* e = p->as_object().if_contains("entity");
  return e && e->is_object() ? &e->as_object() : nullptr;
}

int64_t AmountAt(const json::object& o) {
  const json::value* a = o.if_contains("amount");
  return a && a->is_int64() ? a->as_int64() : -1;
}

std::string StringAt(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

}  // namespace

PaymentService::PaymentService(store::Database* db, Clock* clock, payments::Gateway* gateway,
                               PaymentSettings settings, metrics::Monitor& monitor,
                               std::function<void(const std::string&)> on_order_changed)
    : db_(db),
      clock_(clock),
      gateway_(gateway),
      settings_(std::move(settings)),
      on_order_changed_(std::move(on_order_changed)),
      captured_(monitor, "payment_captured"),
      webhook_(monitor, "payments_webhook"),
      refund_(monitor, "payments_refund") {}

StatusOr<CreatedPaymentOrder> PaymentService::CreatePaymentOrder(const Principal& caller,
                                                                 std::string_view order_id,
                                                                 std::optional<int64_t> amount) {
  if (!IsUuid(order_id)) {
    return ValidationError("invalid request", {{"orderId", "must be a UUID"}});
  }
  std::optional<store::PayableOrder> order;
  std::optional<store::PaymentOrderRow> live;
  const std::string now_text = FormatRfc3339(clock_->Now());
  RETURN_IF_ERROR(db_->Read([&](store::Connection& c) -> Status {
    ASSIGN_OR_RETURN(order, store::FindPayableOrder(c, order_id));
    if (!order) return Status::Ok();
    ASSIGN_OR_RETURN(live, store::FindLivePaymentOrder(c, order_id, now_text));
    return Status::Ok();
  }));
  if (!order || !CanSeeOrder(caller, RefOf(*order))) return NotFound("order", "ORDER_NOT_FOUND");
  const bool may_pay =
      caller.IsAdmin() || OwnsOrder(caller, *order) ||
      (caller.role == Role::kSchoolAdmin && ActsInSchool(caller, order->school_id));
  if (!may_pay) {
    return Status(StatusCode::kPermissionDenied,
                  "only the order's owner, a school admin or an "
                  "admin may pay for it",
                  "FORBIDDEN");
  }
  auto check_payable = [](const store::PayableOrder& o) -> Status {
    if (o.status != "pending" || (o.payment_status != "pending" && o.payment_status != "failed") ||
        o.total_paise <= 0) {
      return Refused("the order is " + o.status + " with payment " + o.payment_status +
                         "; only pending, unpaid orders can be paid",
                     "ORDER_NOT_PAYABLE");
    }
    return Status::Ok();
  };
  RETURN_IF_ERROR(check_payable(*order));
  if (amount && *amount != order->total_paise) {
    return Refused("amount " + std::to_string(*amount) + " differs from the order total " +
                       std::to_string(order->total_paise),
                   "AMOUNT_MISMATCH");
  }
  if (live) {
    return CreatedPaymentOrder{
        .payment_order = ViewOf(*live), .key_id = settings_.key_id, .created = false};
  }

  // The gateway call stays outside any transaction: it may take seconds.
  payments::CreateOrderRequest request;
  request.amount_paise = order->total_paise;
  request.currency = order->currency;
  request.receipt = order->order_number.substr(0, 40);
  request.notes = {{"orderId", order->id}};
  StatusOr<payments::GatewayOrder> gateway_order = gateway_->CreateOrder(request);
  if (!gateway_order.ok()) return GatewayTrouble(gateway_order.status());

  const TimePoint now = clock_->Now();
  store::PaymentOrderRow row;
  row.id = NewUuidV7(now);
  row.gateway_order_id = gateway_order->id;
  row.gateway = std::string(gateway_->name());
  row.order_id = order->id;
  row.user_id = caller.user_id;
  row.amount_paise = order->total_paise;
  row.currency = order->currency;
  row.status = "created";
  row.receipt = request.receipt;
  row.expires_at = FormatRfc3339(now + settings_.payment_order_ttl);
  row.created_at = FormatRfc3339(now);
  CreatedPaymentOrder result{.payment_order = {}, .key_id = settings_.key_id, .created = true};
  RETURN_IF_ERROR(db_->Write([&](store::Connection& c) -> Status {
    // The order lock serialises concurrent creates for one order: the second one finds the
    // first one's payment order and returns it (its own gateway order is simply never used).
    ASSIGN_OR_RETURN(bool exists, store::LockOrder(c, order->id));
    if (!exists) return NotFound("order", "ORDER_NOT_FOUND");
    ASSIGN_OR_RETURN(std::optional<store::PayableOrder> current,
                     store::FindPayableOrder(c, order->id));
    if (!current) return NotFound("order", "ORDER_NOT_FOUND");
    RETURN_IF_ERROR(check_payable(*current));
    if (current->total_paise != row.amount_paise) {
      return Refused("the order total changed; try again", "AMOUNT_MISMATCH");
    }
    RETURN_IF_ERROR(store::ExpireStalePaymentOrders(c, order->id, row.created_at));
    ASSIGN_OR_RETURN(std::optional<store::PaymentOrderRow> other,
                     store::FindLivePaymentOrder(c, order->id, row.created_at));
    if (other) {
      result.payment_order = ViewOf(*other);
      result.created = false;
      return Status::Ok();
    }
    RETURN_IF_ERROR(store::InsertPaymentOrder(c, row));
    result.payment_order = ViewOf(row);
    return Status::Ok();
  }));
  return result;
}

StatusOr<payments::CheckoutResult> PaymentService::SimulateCheckout(
    const Principal& caller, std::string_view gateway_order_id, bool success) {
  if (!IsGatewayId(gateway_order_id, "order_")) {
    return NotFound("payment order", "PAYMENT_ORDER_NOT_FOUND");
  }
  std::optional<store::PaymentOrderRow> po;
  std::optional<store::PayableOrder> order;
  RETURN_IF_ERROR(db_->Read([&](store::Connection& c) -> Status {
    ASSIGN_OR_RETURN(po, store::FindPaymentOrderByGatewayId(c, gateway_order_id));
    if (!po || po->order_id.empty()) return Status::Ok();
    ASSIGN_OR_RETURN(order, store::FindPayableOrder(c, po->order_id));
    return Status::Ok();
  }));
  if (!po || !order || !OwnsPaymentOrder(caller, *po, *order)) {
    return NotFound("payment order", "PAYMENT_ORDER_NOT_FOUND");
  }
  StatusOr<payments::CheckoutResult> r = gateway_->SimulateCheckout(gateway_order_id, success);
  if (r.ok() || r.status().code() == StatusCode::kUnimplemented) return r;
  if (r.status().code() == StatusCode::kNotFound) {
    // Created by an earlier process of the simulated gateway, whose memory is gone.
    return NotFound("payment order", "PAYMENT_ORDER_NOT_FOUND");
  }
  if (r.status().code() == StatusCode::kFailedPrecondition) return AlreadyPaid();
  return GatewayTrouble(r.status());
}

StatusOr<VerificationView> PaymentService::Verify(const Principal& caller,
                                                  const VerifyPaymentInput& in,
                                                  std::string_view request_id) {
  std::vector<FieldIssue> issues;
  if (in.razorpay_order_id.empty()) {
    issues.push_back({"razorpayOrderId", "is required"});
  } else if (!IsGatewayId(in.razorpay_order_id, "order_")) {
    issues.push_back({"razorpayOrderId", "must be order_ followed by letters and digits"});
  }
  if (in.razorpay_payment_id.empty()) {
    issues.push_back({"razorpayPaymentId", "is required"});
  } else if (!IsGatewayId(in.razorpay_payment_id, "pay_")) {
    issues.push_back({"razorpayPaymentId", "must be pay_ followed by letters and digits"});
  }
  if (in.razorpay_signature.empty()) issues.push_back({"razorpaySignature", "is required"});
  if (!issues.empty()) return ValidationError("invalid request", std::move(issues));
  if (!payments::VerifyCheckoutSignature(settings_.key_secret, in.razorpay_order_id,
                                         in.razorpay_payment_id, in.razorpay_signature)) {
    return InvalidSignature();
  }

  std::optional<store::PaymentOrderRow> po;
  std::optional<store::PayableOrder> order;
  std::optional<store::PaymentTransactionRow> recorded;
  RETURN_IF_ERROR(db_->Read([&](store::Connection& c) -> Status {
    ASSIGN_OR_RETURN(po, store::FindPaymentOrderByGatewayId(c, in.razorpay_order_id));
    if (!po || po->order_id.empty()) return Status::Ok();
    ASSIGN_OR_RETURN(order, store::FindPayableOrder(c, po->order_id));
    ASSIGN_OR_RETURN(recorded, store::FindTransactionByGatewayPaymentId(c, in.razorpay_payment_id));
    return Status::Ok();
  }));
  if (!po || !order || !OwnsPaymentOrder(caller, *po, *order)) {
    return NotFound("payment order", "PAYMENT_ORDER_NOT_FOUND");
  }
  // Already recorded: answer as the first time, without asking the gateway again.
  if (recorded) {
    if (recorded->payment_order_id != po->id) return AlreadyPaid();
    if (recorded->status == "failed") return PaymentFailed();
    return VerificationView{.payment_id = recorded->gateway_payment_id,
                            .order_id = po->order_id,
                            .amount_paise = recorded->amount_paise,
                            .currency = recorded->currency,
                            .status = "captured",
                            .verified_at = recorded->captured_at.value_or(recorded->created_at)};
  }
  if (order->payment_status == "paid" || po->status == "paid") return AlreadyPaid();
  if (IsExpired(*po, clock_->Now())) return Expired();

  StatusOr<payments::GatewayPayment> payment = gateway_->FetchPayment(in.razorpay_payment_id);
  if (!payment.ok()) {
    if (payment.status().code() == StatusCode::kNotFound) {
      return Refused("the gateway does not know this payment", "PAYMENT_NOT_CAPTURED");
    }
    return GatewayTrouble(payment.status());
  }
  if (payment->order_id != in.razorpay_order_id) {
    return Refused("the payment belongs to another gateway order", "PAYMENT_ORDER_MISMATCH");
  }
  if (payment->amount_paise != po->amount_paise || payment->currency != po->currency) {
    return Refused("the payment's amount or currency differs from the payment order's",
                   "AMOUNT_MISMATCH");
  }
  if (payment->status == "failed") {
    RETURN_IF_ERROR(
        ApplyFailed(in.razorpay_order_id, *payment, caller.user_id, request_id, "verify").status());
    return PaymentFailed();
  }
  bool captured_here = false;
  if (payment->status == "authorized") {
    RETURN_IF_ERROR(
        CaptureAuthorized(&*payment, *po, caller.user_id, request_id, "verify", &captured_here));
  }
  if (!IsSuccess(payment->status)) {
    return Refused("the payment is " + payment->status + ", not captured", "PAYMENT_NOT_CAPTURED");
  }
  // Once this call has taken the money, a payment order that expired during the capture is
  // honoured, as the webhook honours it: refusing it would keep money for an unpaid order.
  StatusOr<Applied> applied =
      ApplyCaptured(in.razorpay_order_id, *payment, in.razorpay_signature, caller.user_id,
                    /*enforce_expiry=*/!captured_here, request_id, "verify",
                    captured_here ? "explicit" : "gateway");
  if (!applied.ok()) {
    // The order changed between the capture and this transaction (e.g. cancelled, or paid by
    // another payment): the money is taken for an order that will not be served.
    if (captured_here) {
      RefundUnappliedCapture(*payment, *po, applied.status(), caller.user_id, request_id, "verify");
    }
    return applied.status();
  }
  if (applied->failed) return PaymentFailed();
  return applied->view;
}

StatusOr<PaymentService::Applied> PaymentService::ApplyCaptured(
    const std::string& gateway_order_id, const payments::GatewayPayment& payment,
    const std::string& signature, const std::string& actor_id, bool enforce_expiry,
    std::string_view request_id, std::string_view source, std::string_view capture) {
  Applied applied;
  std::string order_id;
  Status s = RetryStatus(
      kTransactionRetry,
      [&](int) {
        const TimePoint now = clock_->Now();
        const std::string now_text = FormatRfc3339(now);
        applied = Applied{};
        order_id.clear();
        return db_->Write([&](store::Connection& c) -> Status {
          ASSIGN_OR_RETURN(const store::PaymentOrderRow locked,
                           LockPaymentOrder(c, gateway_order_id));
          const store::PaymentOrderRow* po = &locked;
          order_id = po->order_id;
          ASSIGN_OR_RETURN(std::optional<store::PaymentTransactionRow> recorded,
                           store::FindTransactionByGatewayPaymentId(c, payment.id));
          if (recorded) {
            if (recorded->payment_order_id != po->id) return AlreadyPaid();
            applied.failed = recorded->status == "failed";
            applied.view = VerificationView{
                .payment_id = recorded->gateway_payment_id,
                .order_id = order_id,
                .amount_paise = recorded->amount_paise,
                .currency = recorded->currency,
                .status = "captured",
                .verified_at = recorded->captured_at.value_or(recorded->created_at)};
            return Status::Ok();
          }
          ASSIGN_OR_RETURN(std::optional<store::PayableOrder> order,
                           store::FindPayableOrder(c, order_id));
          if (!order) return NotFound("order", "ORDER_NOT_FOUND");
          if (order->payment_status == "paid" || po->status == "paid") return AlreadyPaid();
          if (enforce_expiry && IsExpired(*po, now)) return Expired();
          if (order->status != "pending" || order->payment_status == "refunded") {
            return Refused("the order is " + order->status + "; it can no longer be paid",
                           "ORDER_NOT_PAYABLE");
          }
          store::PaymentTransactionRow t;
          t.id = NewUuidV7(now);
          t.gateway_payment_id = payment.id;
          t.payment_order_id = po->id;
          t.amount_paise = payment.amount_paise;
          t.currency = payment.currency;
          t.status = "captured";
          t.method = payment.method;
          t.gateway = po->gateway;
          t.signature = signature;
          t.captured_at = now_text;
          t.created_at = now_text;
          ASSIGN_OR_RETURN(bool inserted, store::InsertTransactionIfAbsent(c, t));
          if (!inserted) return AbortedError("payment recorded concurrently");
          ASSIGN_OR_RETURN(bool marked, store::MarkOrderPaid(c, order_id, now_text));
          if (!marked) return AlreadyPaid();
          RETURN_IF_ERROR(store::UpdatePaymentOrderStatus(c, po->id, "paid", now_text, now_text));
          store::AuditRow audit;
          audit.id = NewUuidV7(now);
          audit.entity_type = "order";
          audit.entity_id = order_id;
          audit.action = "payment_captured";
          audit.changes_json = json::serialize(json::object{
              {"status", json::object{{"from", order->status}, {"to", "confirmed"}}},
              {"paymentStatus", json::object{{"from", order->payment_status}, {"to", "paid"}}},
              {"paymentOrderId", po->id},
              {"gatewayOrderId", gateway_order_id},
              {"gatewayPaymentId", payment.id},
              {"amount", payment.amount_paise},
              {"currency", payment.currency},
              {"capture", capture},
              {"source", source}});
          audit.user_id = actor_id;
          audit.request_id = std::string(request_id);
          audit.created_at = now_text;
          RETURN_IF_ERROR(store::InsertAuditLog(c, audit));
          applied.changed = true;
          applied.view = VerificationView{.payment_id = payment.id,
                                          .order_id = order_id,
                                          .amount_paise = payment.amount_paise,
                                          .currency = payment.currency,
                                          .status = "captured",
                                          .verified_at = now_text};
          return Status::Ok();
        });
      },
      IsAborted);
  if (!s.ok()) return s;
  if (applied.changed) captured_.Track(payment.amount_paise);
  if (applied.changed && on_order_changed_) on_order_changed_(order_id);
  return applied;
}

StatusOr<PaymentService::Applied> PaymentService::ApplyFailed(
    const std::string& gateway_order_id, const payments::GatewayPayment& payment,
    const std::string& actor_id, std::string_view request_id, std::string_view source) {
  Applied applied;
  std::string order_id;
  Status s = RetryStatus(
      kTransactionRetry,
      [&](int) {
        const TimePoint now = clock_->Now();
        const std::string now_text = FormatRfc3339(now);
        applied = Applied{};
        order_id.clear();
        applied.failed = true;
        return db_->Write([&](store::Connection& c) -> Status {
          ASSIGN_OR_RETURN(const store::PaymentOrderRow locked,
                           LockPaymentOrder(c, gateway_order_id));
          const store::PaymentOrderRow* po = &locked;
          order_id = po->order_id;
          ASSIGN_OR_RETURN(std::optional<store::PaymentTransactionRow> recorded,
                           store::FindTransactionByGatewayPaymentId(c, payment.id));
          if (recorded) {
            applied.failed = recorded->status == "failed";
            return Status::Ok();
          }
          store::PaymentTransactionRow t;
          t.id = NewUuidV7(now);
          t.gateway_payment_id = payment.id;
          t.payment_order_id = po->id;
          t.amount_paise = payment.amount_paise;
          t.currency = payment.currency.empty() ? po->currency : payment.currency;
          t.status = "failed";
          t.method = payment.method;
          t.gateway = po->gateway;
          t.error_code = Utf8Truncated(payment.error_code, 100);
          t.error_description = Utf8Truncated(payment.error_description, 500);
          t.created_at = now_text;
          ASSIGN_OR_RETURN(bool inserted, store::InsertTransactionIfAbsent(c, t));
          if (!inserted) return AbortedError("payment recorded concurrently");
          if (po->status == "created" || po->status == "attempted") {
            RETURN_IF_ERROR(
                store::UpdatePaymentOrderStatus(c, po->id, "failed", std::nullopt, now_text));
          }
          ASSIGN_OR_RETURN(bool marked, store::MarkOrderPaymentFailed(c, order_id, now_text));
          store::AuditRow audit;
          audit.id = NewUuidV7(now);
          audit.entity_type = "order";
          audit.entity_id = order_id;
          audit.action = "payment_failed";
          audit.changes_json = json::serialize(json::object{{"paymentStatusChanged", marked},
                                                            {"paymentOrderId", po->id},
                                                            {"gatewayOrderId", gateway_order_id},
                                                            {"gatewayPaymentId", payment.id},
                                                            {"errorCode", t.error_code},
                                                            {"source", source}});
          audit.user_id = actor_id;
          audit.request_id = std::string(request_id);
          audit.created_at = now_text;
          RETURN_IF_ERROR(store::InsertAuditLog(c, audit));
          applied.changed = true;
          return Status::Ok();
        });
      },
      IsAborted);
  if (!s.ok()) return s;
  if (applied.changed && on_order_changed_) on_order_changed_(order_id);
  return applied;
}

StatusOr<WebhookOutcome> PaymentService::HandleWebhook(std::string_view raw_body,
                                                       std::string_view signature,
                                                       std::string_view request_id) {
  return webhook_.Measure([&] { return HandleWebhookUnmeasured(raw_body, signature, request_id); });
}

StatusOr<WebhookOutcome> PaymentService::HandleWebhookUnmeasured(std::string_view raw_body,
                                                                 std::string_view signature,
                                                                 std::string_view request_id) {
  if (signature.empty() ||
      !payments::VerifyWebhookSignature(settings_.webhook_secret, raw_body, signature)) {
    return InvalidSignature();
  }
  boost::system::error_code ec;
  json::value v = json::parse(raw_body, ec);
  if (ec || !v.is_object()) {
    return Status(StatusCode::kInvalidArgument, "the body is not a JSON object", "INVALID_JSON");
  }
  WebhookOutcome out{.event = StringAt(v.as_object(), "event"), .result = "ignored"};
  if (out.event == "refund.created" || out.event == "refund.processed" ||
      out.event == "refund.failed" || out.event == "payment.refunded") {
    const json::object* r = EntityAt(v.as_object(), "refund");
    if (!r) return out;
    // Razorpay's auto-refund of an authorization nobody captured (payment.entity.captured false):
    // no payment of ours was recorded for it.
    if (const json::object* p = EntityAt(v.as_object(), "payment")) {
      const json::value* captured = p->if_contains("captured");
      if (captured && captured->is_bool() && !captured->as_bool()) return out;
    }
    payments::GatewayRefund refund{.id = StringAt(*r, "id"),
                                   .payment_id = StringAt(*r, "payment_id"),
                                   .amount_paise = AmountAt(*r),
                                   .currency = StringAt(*r, "currency"),
                                   .status = StringAt(*r, "status")};
    if (out.event == "refund.failed") refund.status = "failed";
    if (!IsGatewayId(refund.id, "rfnd_") || !IsGatewayId(refund.payment_id, "pay_") ||
        refund.amount_paise <= 0 ||
        (refund.status != "pending" && refund.status != "processed" && refund.status != "failed")) {
      return out;
    }
    // Refunds made on the dashboard have no reason of ours.
    StatusOr<bool> changed = ApplyRefund(refund, "gateway", "", request_id, "webhook");
    if (!changed.ok()) {
      if (changed.status().code() == StatusCode::kNotFound) return out;  // not our payment
      return changed.status();
    }
    out.result = *changed ? "applied" : "duplicate";
    return out;
  }
  if (out.event != "payment.captured" && out.event != "order.paid" &&
      out.event != "payment.authorized" && out.event != "payment.failed") {
    return out;
  }
  // payload.payment.entity is present in all four events.
  const json::object* entity = EntityAt(v.as_object(), "payment");
  if (!entity) return out;
  const json::object& e = *entity;
  payments::GatewayPayment payment;
  payment.id = StringAt(e, "id");
  payment.order_id = StringAt(e, "order_id");
  payment.currency = StringAt(e, "currency");
  payment.status = StringAt(e, "status");
  payment.method = StringAt(e, "method");
  payment.error_code = StringAt(e, "error_code");
  payment.error_description = StringAt(e, "error_description");
  payment.amount_paise = AmountAt(e);
  if (!IsGatewayId(payment.id, "pay_") || !IsGatewayId(payment.order_id, "order_")) return out;

  std::optional<store::PaymentOrderRow> po;
  RETURN_IF_ERROR(db_->Read([&](store::Connection& c) -> Status {
    ASSIGN_OR_RETURN(po, store::FindPaymentOrderByGatewayId(c, payment.order_id));
    return Status::Ok();
  }));
  if (!po || po->order_id.empty()) return out;

  StatusOr<Applied> applied = Status(StatusCode::kInternal, "unset");
  if (out.event == "payment.failed" || payment.status == "failed") {
    applied = ApplyFailed(payment.order_id, payment, "", request_id, "webhook");
  } else {
    if (!IsSuccess(payment.status) || payment.amount_paise != po->amount_paise ||
        payment.currency != po->currency) {
      spdlog::warn("webhook {} for payment {} of {} ignored: status {}, amount {} {}", out.event,
                   payment.id, payment.order_id, payment.status, payment.amount_paise,
                   payment.currency);
      return out;  // not a settled payment of this payment order's amount: nothing to record
    }
    bool captured_here = false;
    if (payment.status == "authorized") {
      Status captured = CaptureAuthorized(&payment, *po, "", request_id, "webhook", &captured_here);
      // Not capturable now: Razorpay delivers the webhook again. Refused for good: acknowledged.
      if (captured.code() == StatusCode::kUnavailable) return captured;
      if (!captured.ok()) {
        spdlog::warn("webhook {} for payment {} of {}: not captured: {}", out.event, payment.id,
                     payment.order_id, captured.ToString());
        return out;
      }
    }
    applied = ApplyCaptured(payment.order_id, payment, "", "", /*enforce_expiry=*/false, request_id,
                            "webhook", captured_here ? "explicit" : "gateway");
  }
  if (!applied.ok()) {
    const StatusCode code = applied.status().code();
    // Business refusals are final for the gateway too: acknowledge so it stops retrying.
    if (code == StatusCode::kAlreadyExists || code == StatusCode::kFailedPrecondition ||
        code == StatusCode::kNotFound) {
      // A captured payment that cannot be applied (a second payment of a paid order, an order
      // cancelled meanwhile) is money kept for nothing: it goes back.
      spdlog::warn("webhook {} for payment {} of {} not applied: {}", out.event, payment.id,
                   payment.order_id, applied.status().ToString());
      if (code != StatusCode::kNotFound && payment.status == "captured") {
        RefundUnappliedCapture(payment, *po, applied.status(), "", request_id, "webhook");
      }
      return out;
    }
    return applied.status();
  }
  out.result = applied->changed ? "applied" : "duplicate";
  return out;
}

Status PaymentService::CaptureAuthorized(payments::GatewayPayment* payment,
                                         const store::PaymentOrderRow& po,
                                         const std::string& actor_id, std::string_view request_id,
                                         std::string_view source, bool* captured) {
  *captured = false;
  std::optional<store::PayableOrder> order;
  std::optional<store::PaymentTransactionRow> recorded;
  RETURN_IF_ERROR(db_->Read([&](store::Connection& c) -> Status {
    ASSIGN_OR_RETURN(order, store::FindPayableOrder(c, po.order_id));
    ASSIGN_OR_RETURN(recorded, store::FindTransactionByGatewayPaymentId(c, payment->id));
    return Status::Ok();
  }));
  if (recorded) return Status::Ok();  // ApplyCaptured answers the recorded payment
  if (!order) return NotFound("order", "ORDER_NOT_FOUND");
  // Money is taken only for an order that can still be confirmed: an authorization left
  // uncaptured lapses and Razorpay returns it to the customer by itself.
  if (order->payment_status == "paid") return AlreadyPaid();
  if (!CanStillBePaid(*order)) {
    return Refused("the order is " + order->status + "; it can no longer be paid",
                   "ORDER_NOT_PAYABLE");
  }
  StatusOr<payments::GatewayPayment> done =
      gateway_->CapturePayment(payment->id, po.amount_paise, po.currency);
  if (done.ok()) {
    payment->status = "captured";
    *captured = true;
    return Status::Ok();
  }
  const Status& s = done.status();
  if (s.code() != StatusCode::kNotFound && s.code() != StatusCode::kFailedPrecondition) {
    return GatewayTrouble(s);
  }
  spdlog::warn("capture of payment {} refused: {}", payment->id, s.ToString());
  AuditOnly(po.order_id, "payment_capture_failed",
            json::serialize(json::object{{"paymentOrderId", po.id},
                                         {"gatewayOrderId", po.gateway_order_id},
                                         {"gatewayPaymentId", payment->id},
                                         {"amount", po.amount_paise},
                                         {"currency", po.currency},
                                         {"error", Utf8Truncated(s.message(), 300)},
                                         {"source", source}}),
            actor_id, request_id);
  return Refused("the gateway refused to capture the payment", "PAYMENT_NOT_CAPTURED");
}

void PaymentService::RefundUnappliedCapture(const payments::GatewayPayment& payment,
                                            const store::PaymentOrderRow& po, const Status& why,
                                            const std::string& actor_id,
                                            std::string_view request_id, std::string_view source) {
  // Only money no order of ours holds: a payment recorded anywhere is refunded through its
  // order (RefundCancelledOrder), never here.
  std::optional<store::PaymentTransactionRow> recorded;
  Status read = db_->Read([&](store::Connection& c) -> Status {
    ASSIGN_OR_RETURN(recorded, store::FindTransactionByGatewayPaymentId(c, payment.id));
    return Status::Ok();
  });
  if (!read.ok() || recorded) {
    if (!read.ok()) {
      spdlog::error("payment {} of {} captured but not recorded ({}); not refunded: {}", payment.id,
                    po.gateway_order_id, why.ToString(), read.ToString());
    }
    return;
  }
  payments::RefundRequest request;
  request.payment_id = payment.id;
  request.amount_paise = po.amount_paise;
  // Idempotent on the receipt: a second attempt for this payment finds the first refund.
  request.receipt = "unapplied-" + payment.id.substr(0, 28);
  request.notes = {{"orderId", po.order_id}, {"reason", "capture_not_applied"}};
  StatusOr<payments::GatewayRefund> refund = gateway_->RefundPayment(request);
  json::object changes{{"paymentOrderId", po.id},
                       {"gatewayOrderId", po.gateway_order_id},
                       {"gatewayPaymentId", payment.id},
                       {"amount", po.amount_paise},
                       {"currency", po.currency},
                       {"why", Utf8Truncated(why.message(), 300)},
                       {"source", source}};
  if (refund.ok()) {
    changes["refundId"] = refund->id;
    changes["refundStatus"] = refund->status;
    AuditOnly(po.order_id, "capture_refunded", json::serialize(changes), actor_id, request_id);
    return;
  }
  spdlog::error(
      "payment {} of {} captured but not recorded ({}) and its refund failed: {}; "
      "refund it by hand",
      payment.id, po.gateway_order_id, why.ToString(), refund.status().ToString());
  changes["error"] = Utf8Truncated(refund.status().message(), 300);
  changes["reason"] = "capture_not_applied";
  AuditOnly(po.order_id, "refund_failed", json::serialize(changes), actor_id, request_id);
}

void PaymentService::AuditOnly(const std::string& order_id, std::string_view action,
                               const std::string& changes_json, const std::string& actor_id,
                               std::string_view request_id) {
  const TimePoint now = clock_->Now();
  store::AuditRow audit;
  audit.id = NewUuidV7(now);
  audit.entity_type = "order";
  audit.entity_id = order_id;
  audit.action = std::string(action);
  audit.changes_json = changes_json;
  audit.user_id = actor_id;
  audit.request_id = std::string(request_id);
  audit.created_at = FormatRfc3339(now);
  Status s = db_->Write([&](store::Connection& c) { return store::InsertAuditLog(c, audit); });
  // The outcome it records was already answered; losing the row must not change the answer.
  if (!s.ok())
    spdlog::error("audit {} of order {} not written: {}", action, order_id, s.ToString());
}

StatusOr<bool> PaymentService::ApplyRefund(const payments::GatewayRefund& refund,
                                           std::string_view reason, const std::string& actor_id,
                                           std::string_view request_id, std::string_view source) {
  bool changed = false;
  std::string order_id;
  Status s = RetryStatus(
      kTransactionRetry,
      [&](int) {
        const TimePoint now = clock_->Now();
        const std::string now_text = FormatRfc3339(now);
        changed = false;
        order_id.clear();
        return db_->Write([&](store::Connection& c) -> Status {
          ASSIGN_OR_RETURN(std::optional<store::PaymentTransactionRow> t,
                           store::FindTransactionByGatewayPaymentId(c, refund.payment_id));
          if (!t || t->status == "failed") return NotFound("payment", "PAYMENT_NOT_FOUND");
          ASSIGN_OR_RETURN(std::optional<store::PaymentOrderRow> po,
                           store::FindPaymentOrderById(c, t->payment_order_id));
          if (!po || po->order_id.empty())
            return NotFound("payment order", "PAYMENT_ORDER_NOT_FOUND");
          order_id = po->order_id;
          ASSIGN_OR_RETURN(bool exists, store::LockOrder(c, order_id));
          if (!exists) return NotFound("order", "ORDER_NOT_FOUND");
          ASSIGN_OR_RETURN(std::optional<store::RefundRow> known,
                           store::FindRefundByGatewayId(c, refund.id));
          const std::optional<std::string> processed_at =
              refund.status == "processed" ? std::optional<std::string>(now_text) : std::nullopt;
          std::string from = "none";
          if (known) {
            // processed and failed are final; a late "pending" never undoes them.
            if (known->status == refund.status || known->status != "pending") return Status::Ok();
            from = known->status;
            RETURN_IF_ERROR(
                store::UpdateRefundStatus(c, known->id, refund.status, processed_at, now_text));
          } else {
            store::RefundRow row;
            row.id = NewUuidV7(now);
            row.gateway_refund_id = refund.id;
            row.payment_transaction_id = t->id;
            row.amount_paise = refund.amount_paise;
            row.currency = refund.currency.empty() ? t->currency : refund.currency;
            row.status = refund.status;
            row.reason = std::string(reason);
            row.processed_at = processed_at;
            row.created_at = now_text;
            ASSIGN_OR_RETURN(bool inserted, store::InsertRefundIfAbsent(c, row));
            if (!inserted) return AbortedError("refund recorded concurrently");
          }
          bool order_refunded = false;
          if (refund.status == "processed") {
            ASSIGN_OR_RETURN(int64_t processed, store::SumRefunds(c, t->id, "processed"));
            if (processed >= t->amount_paise) {
              RETURN_IF_ERROR(store::MarkTransactionRefunded(c, t->id, now_text));
              ASSIGN_OR_RETURN(order_refunded, store::MarkOrderRefunded(c, order_id, now_text));
            }
          }
          store::AuditRow audit;
          audit.id = NewUuidV7(now);
          audit.entity_type = "order";
          audit.entity_id = order_id;
          audit.action = order_refunded ? "payment_refunded" : "refund_" + refund.status;
          json::object changes{{"refund", json::object{{"from", from}, {"to", refund.status}}},
                               {"gatewayRefundId", refund.id},
                               {"gatewayPaymentId", refund.payment_id},
                               {"amount", refund.amount_paise},
                               {"currency", refund.currency},
                               {"reason", reason},
                               {"source", source}};
          if (order_refunded) {
            changes["paymentStatus"] = json::object{{"from", "paid"}, {"to", "refunded"}};
          }
          audit.changes_json = json::serialize(changes);
          audit.user_id = actor_id;
          audit.request_id = std::string(request_id);
          audit.created_at = now_text;
          RETURN_IF_ERROR(store::InsertAuditLog(c, audit));
          changed = true;
          return Status::Ok();
        });
      },
      IsAborted);
  if (!s.ok()) return s;
  if (changed && on_order_changed_) on_order_changed_(order_id);
  return changed;
}

StatusOr<RefundOutcome> PaymentService::RefundCancelledOrder(std::string_view order_id,
                                                             const std::string& actor_id,
                                                             std::string_view request_id) {
  return refund_.Measure(
      [&] { return RefundCancelledOrderUnmeasured(order_id, actor_id, request_id); });
}

StatusOr<RefundOutcome> PaymentService::RefundCancelledOrderUnmeasured(
    std::string_view order_id, const std::string& actor_id, std::string_view request_id) {
  if (!IsUuid(order_id)) return NotFound("order", "ORDER_NOT_FOUND");
  std::optional<store::PayableOrder> order;
  std::optional<store::PaymentTransactionRow> t;
  int64_t refunded = 0;
  int64_t recorded_refunds = 0;
  RETURN_IF_ERROR(db_->Read([&](store::Connection& c) -> Status {
    ASSIGN_OR_RETURN(order, store::FindPayableOrder(c, order_id));
    if (!order) return Status::Ok();
    ASSIGN_OR_RETURN(t, store::FindSettledTransactionOfOrder(c, order_id));
    if (!t) return Status::Ok();
    ASSIGN_OR_RETURN(int64_t processed, store::SumRefunds(c, t->id, "processed"));
    ASSIGN_OR_RETURN(int64_t pending, store::SumRefunds(c, t->id, "pending"));
    refunded = processed + pending;
    ASSIGN_OR_RETURN(recorded_refunds, store::CountRefunds(c, t->id));
    return Status::Ok();
  }));
  if (!order) return NotFound("order", "ORDER_NOT_FOUND");
  if (order->status != "cancelled" || order->payment_status != "paid" || !t ||
      t->status != "captured") {
    return RefundOutcome{.result = "none", .refund_id = ""};
  }
  const int64_t left = t->amount_paise - refunded;
  if (left <= 0) return RefundOutcome{.result = "pending", .refund_id = ""};
  auto audit_failure = [&](const Status& s) {
    spdlog::warn("refund of payment {} (order {}) failed: {}", t->gateway_payment_id, order->id,
                 s.ToString());
    AuditOnly(order->id, "refund_failed",
              json::serialize(json::object{{"gatewayPaymentId", t->gateway_payment_id},
                                           {"amount", left},
                                           {"currency", t->currency},
                                           {"error", Utf8Truncated(s.message(), 300)},
                                           {"reason", "order_cancelled"}}),
              actor_id, request_id);
  };
  if (t->gateway != gateway_->name()) {
    Status s = Refused("the payment was taken by the " + t->gateway + " gateway, not this one",
                       "REFUND_FAILED");
    audit_failure(s);
    return s;
  }
  payments::RefundRequest request;
  request.payment_id = t->gateway_payment_id;
  request.amount_paise = left;
  // The receipt makes the gateway call idempotent: an attempt whose outcome never reached us
  // (nothing recorded) is found again by it. After a recorded refund that failed, the next one
  // needs a receipt of its own, or the gateway would answer that failed refund again.
  request.receipt = order->order_number.substr(0, 30);
  if (recorded_refunds > 0) request.receipt += "-" + std::to_string(recorded_refunds + 1);
  request.notes = {{"orderId", order->id}, {"reason", "order_cancelled"}};
  StatusOr<payments::GatewayRefund> refund = gateway_->RefundPayment(request);
  if (!refund.ok()) {
    audit_failure(refund.status());
    const StatusCode code = refund.status().code();
    if (code == StatusCode::kNotFound || code == StatusCode::kFailedPrecondition) {
      return Refused("the gateway refused the refund", "REFUND_FAILED");
    }
    return GatewayTrouble(refund.status());
  }
  // false: the refund's webhook was first.
  ASSIGN_OR_RETURN(bool changed,
                   ApplyRefund(*refund, "order_cancelled", actor_id, request_id, "cancel"));
  (void)changed;
  if (refund->status == "failed") {
    return Refused("the gateway could not make the refund", "REFUND_FAILED");
  }
  return RefundOutcome{.result = refund->status == "processed" ? "refunded" : "pending",
                       .refund_id = refund->id};
}

}  // namespace hasivu::domain
