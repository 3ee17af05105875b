// The API's object graph, built once: the payment gateway, the domain services and the route
// groups, each group given exactly the collaborators it uses. With RunServe (commands.cc), which
// builds the database, the cache and the server around it, this is the only place services are
// built and connected.
//
// Ownership: the environment's collaborators are not owned and must outlive the Api; the Api
// must outlive the router it registered on (its handlers point into it).
// Thread-safety: built on one thread; the registered handlers and WarmUpItems() are then safe to
// run concurrently.
#ifndef HASIVU_APP_API_H_
#define HASIVU_APP_API_H_

#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "api/auth.h"
#include "api/auth_routes.h"
#include "api/cached_read.h"
#include "api/menus_routes.h"
#include "api/monitoring_routes.h"
#include "api/orders_routes.h"
#include "api/payments_routes.h"
#include "api/rfid_routes.h"
#include "api/system_routes.h"
#include "api/users_routes.h"
#include "cache/cache.h"
#include "cache/cache_aside.h"
#include "common/clock.h"
#include "common/ip_address.h"
#include "common/status.h"
#include "compress/settings.h"
#include "domain/auth_service.h"
#include "domain/menu_service.h"
#include "domain/monitoring_service.h"
#include "domain/order_service.h"
#include "domain/payment_service.h"
#include "domain/read_cache.h"
#include "domain/rfid_service.h"
#include "domain/settings.h"
#include "domain/user_service.h"
#include "http/router.h"
#include "metrics/metrics.h"
#include "metrics/monitor.h"
#include "payments/gateway.h"
#include "store/database.h"

namespace hasivu::app {

struct ApiSettings {
  domain::DomainSettings domain;  // auth, payments, monitoring
  // The server's response compression (http::ServerSettings::compression): cached reads keep
  // ready-compressed variants by it.
  compress::Settings compression;
  // Reverse proxies whose X-Forwarded-For names the client (api/client_address.h). Default: none.
  std::vector<IpRange> trusted_proxies;
  // auth-login and auth-register may each have this many requests waiting for or running on the
  // server's pool; further ones are answered 503 SERVICE_BUSY. Default: 8.
  int max_queued_hashes = 8;
  // POST /api/v1/payments/simulate is routed (honoured with the simulated gateway only; only
  // development mode asks for it). Default: false.
  bool payments_simulator = false;
  api::SystemRoutesSettings system;  // GET /metrics
};

// What the Api is built on; owned by the caller.
struct ApiEnvironment {
  // Every database call of the API goes through it: the app passes a store::TimedDatabase so the
  // dashboard's query percentiles cover every route (service_info.database_timed_globally).
  store::Database& db;
  Clock& clock;
  metrics::Registry& registry;
  // Over `registry`: the services' business events and flows, the gateway's external calls.
  metrics::Monitor& monitor;
  // The read cache and write invalidations (disabled: nothing cached).
  const domain::ReadCache& read_cache;
  // The cache under it, for the dashboard's statistics and health (absent: no caching).
  std::optional<std::reference_wrapper<const cache::Cache>> cache;
  domain::MonitoringServiceInfo service_info;
};

class Api {
 public:
  // Builds the graph and registers every route on `router`: /api/v1, /openapi.json, /dashboard,
  // /healthz, /readyz, /metrics. Errors: kInvalidArgument for unusable settings (a JWT secret
  // under 32 bytes, gateway settings NewGateway refuses), or the router's error for a clash; on
  // an error the router may keep routes whose handlers point into the discarded graph, so it must
  // not serve.
  static StatusOr<std::unique_ptr<Api>> Create(const ApiSettings& settings,
                                               const ApiEnvironment& env, http::Router& router);

  Api(const Api&) = delete;
  Api& operator=(const Api&) = delete;

  // What to load into the cache at start-up (the caller runs it once the server listens).
  std::vector<cache::WarmUpItem> WarmUpItems() const;
  // /readyz answers 503 from now on (SystemRoutes::BeginDrain). Safe from any thread.
  void BeginDrain();

 private:
  Api() = default;

  // Declared in build order: each member refers only to members above it.
  std::unique_ptr<payments::Gateway> gateway_;
  std::unique_ptr<domain::AuthService> auth_;
  std::unique_ptr<api::TokenAuthenticator> authenticator_;
  std::unique_ptr<domain::UserService> users_;
  std::unique_ptr<domain::MenuService> menus_;
  std::unique_ptr<domain::OrderService> orders_;
  std::unique_ptr<domain::PaymentService> payments_;
  std::unique_ptr<domain::RfidService> rfid_;
  std::unique_ptr<domain::MonitoringService> monitoring_;
  std::unique_ptr<api::CachedReads> reads_;
  std::unique_ptr<api::SystemRoutes> system_routes_;
  std::unique_ptr<api::AuthRoutes> auth_routes_;
  std::unique_ptr<api::UserRoutes> user_routes_;
  std::unique_ptr<api::MenuRoutes> menu_routes_;
  std::unique_ptr<api::OrderRoutes> order_routes_;
  std::unique_ptr<api::PaymentRoutes> payment_routes_;
  std::unique_ptr<api::RfidRoutes> rfid_routes_;
  std::unique_ptr<api::MonitoringRoutes> monitoring_routes_;
  std::vector<IpRange> trusted_proxies_;
};

}  // namespace hasivu::app

#endif  // HASIVU_APP_API_H_
