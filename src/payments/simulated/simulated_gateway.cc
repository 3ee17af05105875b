#include "payments/simulated/simulated_gateway.h"

#include <array>
#include <utility>

#include "common/ids.h"
#include "payments/signature.h"

namespace hasivu::payments {

namespace {

constexpr std::array<const char*, 4> kMethods = {"upi", "card", "netbanking", "wallet"};

// Razorpay's refusals are 400 BAD_REQUEST_ERROR; the Razorpay client maps them to this.
Status Rejected(std::string message) {
  return Status(StatusCode::kFailedPrecondition, std::move(message), "GATEWAY_REJECTED");
}

}  // namespace

SimulatedGateway::SimulatedGateway(std::string key_secret, SimulatedGatewayOptions options,
                                   const Clock* clock)
    : key_secret_(std::move(key_secret)),
      options_(options),
      clock_(clock != nullptr ? clock : &SystemClock()) {}

template <class Map>
void SimulatedGateway::Evict(Map& map, std::deque<std::pair<TimePoint, std::string>>& ages,
                             TimePoint now) {
  while (!ages.empty() &&
         (ages.size() > options_.max_entries || ages.front().first + options_.ttl <= now)) {
    map.erase(ages.front().second);
    ages.pop_front();
  }
}

StatusOr<GatewayOrder> SimulatedGateway::CreateOrder(const CreateOrderRequest& request) {
  if (request.amount_paise <= 0) return InvalidArgumentError("amount must be positive");
  if (request.currency.size() != 3) return InvalidArgumentError("currency must be ISO 4217");
  GatewayOrder order{.id = "order_" + RandomString(14, kAlphanumeric),
                     .status = "created",
                     .amount_paise = request.amount_paise,
                     .currency = request.currency};
  const TimePoint now = clock_->Now();
  std::lock_guard lock(mu_);
  orders_[order.id] = order;
  order_ages_.emplace_back(now, order.id);
  Evict(orders_, order_ages_, now);
  return order;
}

StatusOr<GatewayPayment> SimulatedGateway::FetchPayment(std::string_view payment_id) {
  std::lock_guard lock(mu_);
  Evict(payments_, payment_ages_, clock_->Now());
  auto it = payments_.find(std::string(payment_id));
  if (it == payments_.end()) return NotFoundError("no such payment");
  return it->second.payment;
}

StatusOr<GatewayPayment> SimulatedGateway::CapturePayment(std::string_view payment_id,
                                                          int64_t amount_paise,
                                                          std::string_view currency) {
  std::lock_guard lock(mu_);
  Evict(payments_, payment_ages_, clock_->Now());
  auto it = payments_.find(std::string(payment_id));
  if (it == payments_.end()) return NotFoundError("no such payment");
  GatewayPayment& p = it->second.payment;
  if (p.amount_paise != amount_paise || p.currency != currency) {
    return Rejected("capture amount must equal the authorized amount");
  }
  if (p.status == "captured") return p;  // an earlier capture: the same answer again
  if (p.status != "authorized") return Rejected("only authorized payments can be captured");
  p.status = "captured";
  return p;
}

StatusOr<GatewayRefund> SimulatedGateway::RefundPayment(const RefundRequest& request) {
  if (request.amount_paise <= 0) return InvalidArgumentError("refund amount must be positive");
  if (request.receipt.empty()) return InvalidArgumentError("a refund needs a receipt");
  std::lock_guard lock(mu_);
  Evict(payments_, payment_ages_, clock_->Now());
  auto it = payments_.find(request.payment_id);
  if (it == payments_.end()) return NotFoundError("no such payment");
  PaymentEntry& e = it->second;
  if (auto done = e.refunds.find(request.receipt); done != e.refunds.end()) return done->second;
  if (e.payment.status != "captured") return Rejected("only captured payments can be refunded");
  if (request.amount_paise > e.payment.amount_paise - e.refunded_paise) {
    return Rejected("the refund exceeds what is left of the payment");
  }
  e.refunded_paise += request.amount_paise;
  if (e.refunded_paise == e.payment.amount_paise) e.payment.status = "refunded";
  GatewayRefund refund{.id = "rfnd_" + RandomString(14, kAlphanumeric),
                       .payment_id = e.payment.id,
                       .amount_paise = request.amount_paise,
                       .currency = e.payment.currency,
                       .status = "processed"};
  e.refunds[request.receipt] = refund;
  return refund;
}

StatusOr<CheckoutResult> SimulatedGateway::SimulateCheckout(std::string_view order_id,
                                                            bool success) {
  GatewayPayment payment;
  payment.id = "pay_" + RandomString(14, kAlphanumeric);
  payment.order_id = std::string(order_id);
  const size_t method = static_cast<unsigned char>(payment.id.back()) % kMethods.size();
  payment.method = kMethods[method];
  const TimePoint now = clock_->Now();
  {
    std::lock_guard lock(mu_);
    Evict(orders_, order_ages_, now);
    auto it = orders_.find(payment.order_id);
    if (it == orders_.end()) return NotFoundError("no such gateway order");
    GatewayOrder& order = it->second;
    if (order.status == "paid" && success) {
      return FailedPreconditionError("gateway order already paid");
    }
    payment.amount_paise = order.amount_paise;
    payment.currency = order.currency;
    if (success) {
      payment.status = options_.auto_capture ? "captured" : "authorized";
      order.status = "paid";
    } else {
      payment.status = "failed";
      payment.error_code = "BAD_REQUEST_ERROR";
      payment.error_description = "Payment failed (simulated)";
      if (order.status == "created") order.status = "attempted";
    }
    payments_[payment.id] = PaymentEntry{.payment = payment, .refunded_paise = 0, .refunds = {}};
    payment_ages_.emplace_back(now, payment.id);
    Evict(payments_, payment_ages_, now);
  }
  return CheckoutResult{.order_id = payment.order_id,
                        .payment_id = payment.id,
                        .signature = CheckoutSignature(key_secret_, payment.order_id, payment.id)};
}

size_t SimulatedGateway::OrderCountForTest() const {
  std::lock_guard lock(mu_);
  return orders_.size();
}

size_t SimulatedGateway::PaymentCountForTest() const {
  std::lock_guard lock(mu_);
  return payments_.size();
}

}  // namespace hasivu::payments
