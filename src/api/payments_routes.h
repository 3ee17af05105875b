// Payments: payments-create-order, payments-verify, payments-webhook and, in development only,
// payments-simulate. JSON in and out; the rules live in domain/payment_service.h.
//
// Ownership: the collaborators are not owned and must outlive the routes; the routes must
// outlive the router they are registered on. Thread-safety: safe to use concurrently.
#ifndef HASIVU_API_PAYMENTS_ROUTES_H_
#define HASIVU_API_PAYMENTS_ROUTES_H_

#include "api/auth.h"
#include "common/status.h"
#include "domain/payment_service.h"
#include "http/message.h"
#include "http/router.h"

namespace hasivu::api {

struct PaymentRoutesSettings {
  // Whether the gateway is a remote one (Razorpay): a call can take seconds, so the routes run
  // off the I/O threads even on SQLite. Default: false.
  bool remote_gateway = false;
  // Whether POST /api/v1/payments/simulate is routed. It hands any caller a valid checkout
  // signature, so app/ sets it only in development mode with the simulated gateway; otherwise
  // the path is not registered at all (404). Default: false.
  bool simulator = false;
};

class PaymentRoutes {
 public:
  PaymentRoutes(const Authenticator& authenticator, domain::PaymentService& payments,
                PaymentRoutesSettings settings)
      : authenticator_(authenticator), payments_(payments), settings_(settings) {}

  Status Register(http::Router& router) const;

 private:
  http::Response CreateOrder(const http::Request& request) const;
  http::Response Verify(const http::Request& request) const;
  http::Response Webhook(const http::Request& request) const;
  http::Response Simulate(const http::Request& request) const;

  const Authenticator& authenticator_;
  domain::PaymentService& payments_;
  const PaymentRoutesSettings settings_;
};

}  // namespace hasivu::api

#endif  // HASIVU_API_PAYMENTS_ROUTES_H_
