// ApiContext: what every group of API routes is built from. app/ fills it once at start-up;
// RegisterApiRoutes() (routes.h) hands it to each resource's Register*Routes function, which
// builds its domain service(s) and registers its routes.
//
// Ownership: the context and everything it points to outlive the router and the server.
// Thread-safety: the pointed-to objects are safe to use from any thread.
#ifndef HASIVU_API_CONTEXT_H_
#define HASIVU_API_CONTEXT_H_

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cache/cache_aside.h"
#include "common/clock.h"
#include "common/ip_address.h"
#include "common/status.h"
#include "compress/settings.h"
#include "domain/payment_service.h"
#include "domain/principal.h"
#include "domain/read_cache.h"
#include "domain/settings.h"
#include "http/message.h"
#include "metrics/metrics.h"
#include "store/database.h"

namespace hasivu::api {

// Verifies the bearer token of a request and returns its principal. Errors:
// kUnauthenticated (missing, malformed, bad signature, wrong alg/iss/aud, revoked session) with
// a message; an expired token is kUnauthenticated with reason TOKEN_EXPIRED.
class Authenticator {
 public:
  virtual ~Authenticator() = default;
  virtual StatusOr<domain::Principal> Authenticate(const http::Request& request) const = 0;
};

// Facts about the running service for the monitoring dashboard.
struct ServiceInfo {
  std::string version;
  std::string store_backend;  // "sqlite" | "postgresql"
  std::string cache_backend;  // "memory" | "redis"
  // Steady instant of the first 200 response, once there is one (for cold start).
  std::function<std::optional<std::chrono::steady_clock::time_point>()> first_ok_response;
};

struct ApiContext {
  store::Database* db = nullptr;
  Clock* clock = nullptr;
  metrics::Registry* registry = nullptr;
  domain::DomainSettings settings;
  ServiceInfo service;
  // Set by RegisterApiRoutes before any resource's routes are registered.
  std::shared_ptr<Authenticator> authenticator;
  // The read cache and write invalidations (may be null: no caching). Not owned.
  domain::ReadCache* read_cache = nullptr;
  // The cache under it, for the dashboard's statistics and health (may be null). Not owned.
  const cache::Cache* cache = nullptr;
  // The server's response compression (http::ServerSettings::compression): cached reads keep
  // ready-compressed variants by it (cached_read.h).
  compress::Settings compression;
  // Whether POST /api/v1/payments/simulate is routed (with the simulated gateway only). It hands
  // any caller a valid checkout signature, so app/ sets it in development mode only: a production
  // server never routes it, whatever its gateway.
  bool payments_simulator = false;
  // Reverse proxies whose X-Forwarded-For names the client (client_address.h). Default: none.
  std::vector<IpRange> trusted_proxies;
  // auth-login and auth-register (an argon2id hash each) may each have this many requests
  // waiting for or running on the server's pool; further ones are answered 503 SERVICE_BUSY
  // (http/offload_queue.h). Default: 8.
  int max_queued_hashes = 8;
  // Set by RegisterPaymentRoutes (null before): orders-status refunds a cancelled paid order
  // through it.
  std::shared_ptr<domain::PaymentService> payment_service;
  // Filled by route registration: what to load into the cache at start-up (app/ runs them in the
  // background once the server listens).
  std::vector<std::function<std::vector<cache::WarmUpItem>()>> warm_ups;
};

}  // namespace hasivu::api

#endif  // HASIVU_API_CONTEXT_H_
