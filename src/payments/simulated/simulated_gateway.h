// The simulated gateway: the embedded default. Issues ids in Razorpay's shapes ("order_", "pay_"
// and "rfnd_" + 14 alphanumerics from a cryptographic source), keeps its orders and payments in
// memory so FetchPayment answers like Razorpay would, captures and refunds with Razorpay's rules,
// and signs checkout results with the configured key secret exactly as Razorpay does, so clients
// verify signatures the same way on both gateways.
//
// Memory: bounded. Orders and payments are each kept at most `max_entries` at a time and at most
// `ttl` long; the oldest go first. An evicted id answers kNotFound, as an unknown one does (so a
// payment evicted before its order is cancelled can no longer be refunded here).
// Thread-safety: safe to use from any number of threads (one mutex).
#ifndef HASIVU_PAYMENTS_SIMULATED_SIMULATED_GATEWAY_H_
#define HASIVU_PAYMENTS_SIMULATED_SIMULATED_GATEWAY_H_

#include <chrono>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

#include "common/clock.h"
#include "payments/gateway.h"

namespace hasivu::payments {

struct SimulatedGatewayOptions {
  // Orders and payments kept, each. Default: 100000. REQUIRES: > 0.
  size_t max_entries = 100000;
  // How long an order or payment is kept after it was made. Default: 40 days, longer than orders
  // can be placed ahead (30 days), so a paid order cancelled before its day can be refunded.
  std::chrono::seconds ttl = std::chrono::hours(24 * 40);
  // true: a successful checkout is "captured" (Razorpay's auto-capture); false: "authorized",
  // and CapturePayment captures it. Default: true.
  bool auto_capture = true;
};

class SimulatedGateway : public Gateway {
 public:
  // REQUIRES: InitCrypto() has succeeded (ids come from libsodium). `clock` (default: the system
  // clock) dates entries for the ttl and must outlive the gateway.
  explicit SimulatedGateway(std::string key_secret, SimulatedGatewayOptions options = {},
                            const Clock* clock = nullptr);

  std::string_view name() const override { return "simulated"; }
  StatusOr<GatewayOrder> CreateOrder(const CreateOrderRequest& request) override;
  StatusOr<GatewayPayment> FetchPayment(std::string_view payment_id) override;
  StatusOr<GatewayPayment> CapturePayment(std::string_view payment_id, int64_t amount_paise,
                                          std::string_view currency) override;
  StatusOr<GatewayRefund> RefundPayment(const RefundRequest& request) override;
  StatusOr<CheckoutResult> SimulateCheckout(std::string_view order_id, bool success) override;

  // How many orders and payments are held now.
  size_t OrderCountForTest() const;
  size_t PaymentCountForTest() const;

 private:
  using TimePoint = std::chrono::system_clock::time_point;
  struct PaymentEntry {
    GatewayPayment payment;
    int64_t refunded_paise = 0;
    std::unordered_map<std::string, GatewayRefund> refunds;  // by receipt
  };
  // Drops the oldest entries of `map` (insertion order in `order`) that are over the cap or
  // older than the ttl. REQUIRES: mu_ held.
  template <class Map>
  void Evict(Map& map, std::deque<std::pair<TimePoint, std::string>>& order, TimePoint now);

  const std::string key_secret_;
  const SimulatedGatewayOptions options_;
  const Clock* clock_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, GatewayOrder> orders_;    // by id; GUARDED_BY(mu_)
  std::unordered_map<std::string, PaymentEntry> payments_;  // by id; GUARDED_BY(mu_)
  // Ids with their creation instant, oldest first; GUARDED_BY(mu_).
  std::deque<std::pair<TimePoint, std::string>> order_ages_;
  std::deque<std::pair<TimePoint, std::string>> payment_ages_;
};

}  // namespace hasivu::payments

#endif  // HASIVU_PAYMENTS_SIMULATED_SIMULATED_GATEWAY_H_
