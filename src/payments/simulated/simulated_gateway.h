// The simulated gateway: the embedded default. Issues ids in Razorpay's shapes ("order_" and
// "pay_" + 14 alphanumerics from a cryptographic source), keeps its orders and payments in memory
// so FetchPayment answers like Razorpay would, and signs checkout results with the configured key
// secret exactly as Razorpay does, so clients verify signatures the same way on both gateways.
//
// Memory: every order and payment is kept for the life of the process (one process; the demo).
// Thread-safety: safe to use from any number of threads (one mutex).
#ifndef HASIVU_PAYMENTS_SIMULATED_SIMULATED_GATEWAY_H_
#define HASIVU_PAYMENTS_SIMULATED_SIMULATED_GATEWAY_H_

#include <mutex>
#include <string>
#include <unordered_map>

#include "payments/gateway.h"

namespace hasivu::payments {

class SimulatedGateway : public Gateway {
 public:
  // REQUIRES: InitCrypto() has succeeded (ids come from libsodium).
  explicit SimulatedGateway(std::string key_secret);

  std::string_view name() const override { return "simulated"; }
  StatusOr<GatewayOrder> CreateOrder(const CreateOrderRequest& request) override;
  StatusOr<GatewayPayment> FetchPayment(std::string_view payment_id) override;
  StatusOr<CheckoutResult> SimulateCheckout(std::string_view order_id, bool success) override;

 private:
  const std::string key_secret_;
  std::mutex mu_;
  std::unordered_map<std::string, GatewayOrder> orders_;      // by id
  std::unordered_map<std::string, GatewayPayment> payments_;  // by id
};

}  // namespace hasivu::payments

#endif  // HASIVU_PAYMENTS_SIMULATED_SIMULATED_GATEWAY_H_
