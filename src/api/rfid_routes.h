// rfid-verify-card: POST /api/v1/rfid/verify. JSON in and out only; the rules are in
// domain/rfid_service.h.
//
// 409 ALREADY_DELIVERED carries the first verification in the error object:
//   {"success":false,"error":{"code":"ALREADY_DELIVERED","message":...,
//     "verification":{id, verifiedAt, status, orderId, cardId, readerId, location}|null,
//     "order":{id, orderNumber, status, deliveredAt}}, "meta":{...}}
//
// Ownership: the collaborators are not owned and must outlive the routes; the routes must
// outlive the router they are registered on. Thread-safety: safe to use concurrently.
#ifndef HASIVU_API_RFID_ROUTES_H_
#define HASIVU_API_RFID_ROUTES_H_

#include <vector>

#include "api/auth.h"
#include "common/ip_address.h"
#include "common/status.h"
#include "domain/rfid_service.h"
#include "http/message.h"
#include "http/router.h"

namespace hasivu::api {

class RfidRoutes {
 public:
  // `trusted_proxies`: reverse proxies whose X-Forwarded-For names the client recorded in the
  // audit row (client_address.h).
  RfidRoutes(const Authenticator& authenticator, const domain::RfidService& rfid,
             const std::vector<IpRange>& trusted_proxies)
      : authenticator_(authenticator), rfid_(rfid), trusted_proxies_(trusted_proxies) {}

  Status Register(http::Router& router) const;

 private:
  http::Response Verify(const http::Request& request) const;

  const Authenticator& authenticator_;
  const domain::RfidService& rfid_;
  const std::vector<IpRange>& trusted_proxies_;
};

}  // namespace hasivu::api

#endif  // HASIVU_API_RFID_ROUTES_H_
