#include "payments/simulated/simulated_gateway.h"

#include <array>
#include <utility>

#include "common/ids.h"
#include "payments/signature.h"

namespace hasivu::payments {

namespace {
constexpr std::array<const char*, 4> kMethods = {"upi", "card", "netbanking", "wallet"};
}  // namespace

SimulatedGateway::SimulatedGateway(std::string key_secret) : key_secret_(std::move(key_secret)) {}

StatusOr<GatewayOrder> SimulatedGateway::CreateOrder(const CreateOrderRequest& request) {
  if (request.amount_paise <= 0) return InvalidArgumentError("amount must be positive");
  if (request.currency.size() != 3) return InvalidArgumentError("currency must be ISO 4217");
  GatewayOrder order{.id = "order_" + RandomString(14, kAlphanumeric),
                     .status = "created",
                     .amount_paise = request.amount_paise,
                     .currency = request.currency};
  std::lock_guard lock(mu_);
  orders_[order.id] = order;
  return order;
}

StatusOr<GatewayPayment> SimulatedGateway::FetchPayment(std::string_view payment_id) {
  std::lock_guard lock(mu_);
  auto it = payments_.find(std::string(payment_id));
  if (it == payments_.end()) return NotFoundError("no such payment");
  return it->second;
}

StatusOr<CheckoutResult> SimulatedGateway::SimulateCheckout(std::string_view order_id,
                                                            bool success) {
  GatewayPayment payment;
  payment.id = "pay_" + RandomString(14, kAlphanumeric);
  payment.order_id = std::string(order_id);
  const size_t method = static_cast<unsigned char>(payment.id.back()) % kMethods.size();
  payment.method = kMethods[method];
  {
    std::lock_guard lock(mu_);
    auto it = orders_.find(payment.order_id);
    if (it == orders_.end()) return NotFoundError("no such gateway order");
    GatewayOrder& order = it->second;
    if (order.status == "paid" && success) {
      return FailedPreconditionError("gateway order already paid");
    }
    payment.amount_paise = order.amount_paise;
    payment.currency = order.currency;
    if (success) {
      payment.status = "captured";
      order.status = "paid";
    } else {
      payment.status = "failed";
      payment.error_code = "BAD_REQUEST_ERROR";
      payment.error_description = "Payment failed (simulated)";
      if (order.status == "created") order.status = "attempted";
    }
    payments_[payment.id] = payment;
  }
  return CheckoutResult{.order_id = payment.order_id,
                        .payment_id = payment.id,
                        .signature = CheckoutSignature(key_secret_, payment.order_id, payment.id)};
}

}  // namespace hasivu::payments
