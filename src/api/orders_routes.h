// Orders: orders-list, orders-create, orders-get (GET /api/v1/orders/{id}) and orders-status
// (PATCH /api/v1/orders/{id}/status). JSON in and out only; the rules, and which orders a caller
// sees, live in domain/order_service.h.
//
// Ownership: the collaborators are not owned and must outlive the routes; the routes must
// outlive the router they are registered on. Thread-safety: safe to use concurrently.
#ifndef HASIVU_API_ORDERS_ROUTES_H_
#define HASIVU_API_ORDERS_ROUTES_H_

#include "api/auth.h"
#include "api/cached_read.h"
#include "common/status.h"
#include "domain/order_service.h"
#include "domain/payment_service.h"
#include "http/message.h"
#include "http/router.h"

namespace hasivu::api {

struct OrderRoutesSettings {
  // Whether the payment gateway is a remote one (Razorpay): cancelling a paid order calls it for
  // the refund, so orders-status then runs off the I/O threads. Default: false.
  bool remote_gateway = false;
};

class OrderRoutes {
 public:
  // `payments` refunds a cancelled paid order.
  OrderRoutes(const Authenticator& authenticator, const domain::OrderService& orders,
              domain::PaymentService& payments, const CachedReads& reads,
              OrderRoutesSettings settings)
      : authenticator_(authenticator),
        orders_(orders),
        payments_(payments),
        reads_(reads),
        settings_(settings) {}

  Status Register(http::Router& router) const;

 private:
  http::Response List(const http::Request& request) const;
  http::Response Create(const http::Request& request) const;
  http::Response Get(const http::Request& request) const;
  http::Response UpdateStatus(const http::Request& request) const;

  const Authenticator& authenticator_;
  const domain::OrderService& orders_;
  domain::PaymentService& payments_;
  const CachedReads& reads_;
  const OrderRoutesSettings settings_;
};

}  // namespace hasivu::api

#endif  // HASIVU_API_ORDERS_ROUTES_H_
