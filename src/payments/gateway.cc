#include "payments/gateway.h"

#include "payments/razorpay/razorpay_gateway.h"
#include "payments/simulated/simulated_gateway.h"

namespace hasivu::payments {

StatusOr<std::unique_ptr<Gateway>> NewGateway(const GatewaySettings& settings) {
  if (settings.key_secret.empty())
    return InvalidArgumentError("payment gateway needs a key secret");
  if (settings.kind == GatewayKind::kSimulated) {
    return std::unique_ptr<Gateway>(new SimulatedGateway(settings.key_secret));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<RazorpayGateway> g, RazorpayGateway::Create(settings));
  return std::unique_ptr<Gateway>(std::move(g));
}

}  // namespace hasivu::payments
