#include "app/api.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>

#include "api/openapi_routes.h"
#include "http/offload_queue.h"
#include "store/open_database.h"

namespace hasivu::app {
namespace {

payments::GatewaySettings GatewaySettingsOf(const domain::PaymentSettings& s) {
  payments::GatewaySettings g;
  g.kind = s.gateway == domain::GatewayKind::kRazorpay ? payments::GatewayKind::kRazorpay
                                                       : payments::GatewayKind::kSimulated;
  g.key_id = s.key_id;
  g.key_secret = s.key_secret;
  g.webhook_secret = s.webhook_secret;
  g.base_url = s.razorpay_base_url;
  g.timeout = s.gateway_timeout;
  g.connect_timeout = std::min(s.gateway_timeout, std::chrono::milliseconds(2000));
  g.retries = s.gateway_retries;
  return g;
}

std::shared_ptr<http::OffloadQueue> HashQueue(metrics::Registry& registry, int capacity,
                                              const char* route) {
  metrics::Counter& rejected = registry.GetCounter(
      "hasivu_hash_queue_rejected_total",
      "Requests answered 503 because the hashing queue was full", {{"route", route}});
  metrics::Gauge& in_use =
      registry.GetGauge("hasivu_hash_queue_in_use",
                        "Requests waiting for or running a password hash", {{"route", route}});
  return std::make_shared<http::OffloadQueue>(capacity, &rejected, 1, &in_use);
}

}  // namespace

StatusOr<std::unique_ptr<Api>> Api::Create(const ApiSettings& settings, const ApiEnvironment& env,
                                           http::Router& router) {
  if (settings.domain.auth.jwt_secret.size() < 32) {
    return InvalidArgumentError("the JWT secret must be at least 32 bytes");
  }
  std::unique_ptr<Api> api(new Api());
  api->trusted_proxies_ = settings.trusted_proxies;
  payments::GatewaySettings gateway = GatewaySettingsOf(settings.domain.payments);
  gateway.monitor = &env.monitor;
  ASSIGN_OR_RETURN(api->gateway_, payments::NewGateway(gateway));
  const domain::ReadCache* read_cache = &env.read_cache;
  api->auth_ =
      std::make_unique<domain::AuthService>(&env.db, &env.clock, settings.domain.auth, read_cache);
  api->authenticator_ = std::make_unique<api::TokenAuthenticator>(*api->auth_);
  api->users_ = std::make_unique<domain::UserService>(&env.db);
  api->menus_ = std::make_unique<domain::MenuService>(env.db, env.clock, read_cache);
  api->orders_ = std::make_unique<domain::OrderService>(env.db, env.clock, env.monitor, read_cache);
  // Called once per committed payment change of an order: drop what the cache shows of it.
  api->payments_ = std::make_unique<domain::PaymentService>(
      &env.db, &env.clock, api->gateway_.get(), settings.domain.payments, env.monitor,
      [read_cache](const std::string& order_id) { read_cache->OrderChanged(order_id); });
  api->rfid_ = std::make_unique<domain::RfidService>(&env.db, &env.clock, env.monitor, read_cache);
  api->reads_ = std::make_unique<api::CachedReads>(env.read_cache, settings.compression);

  const api::Authenticator& authenticator = *api->authenticator_;
  const bool remote_gateway = settings.domain.payments.gateway == domain::GatewayKind::kRazorpay;
  store::Database* db = &env.db;
  api->system_routes_ = std::make_unique<api::SystemRoutes>([db] { return db->Ping(); },
                                                            env.registry, settings.system);
  // Read when scraped: SQLite's page caches grow with the database up to their cache_size, which
  // a reader of the resident set (the soak, docs/reliability.md) tells apart from a leak by this.
  metrics::Gauge& engine_memory = env.registry.GetGauge(
      "hasivu_store_engine_memory_bytes",
      "Heap the embedded database engine (SQLite) holds, page caches included");
  api->system_routes_->SetBeforeRender(
      [&engine_memory] { engine_memory.Set(store::EmbeddedEngineMemoryBytes()); });
  api->auth_routes_ = std::make_unique<api::AuthRoutes>(
      *api->auth_, authenticator, api->trusted_proxies_,
      api::AuthRoutes::HashQueues{
          .login = HashQueue(env.registry, settings.max_queued_hashes, "auth-login"),
          .registration = HashQueue(env.registry, settings.max_queued_hashes, "auth-register")});
  api->user_routes_ = std::make_unique<api::UserRoutes>(authenticator, *api->users_, *api->reads_);
  api->menu_routes_ = std::make_unique<api::MenuRoutes>(authenticator, *api->menus_, *api->reads_);
  api->order_routes_ = std::make_unique<api::OrderRoutes>(
      authenticator, *api->orders_, *api->payments_, *api->reads_,
      api::OrderRoutesSettings{.remote_gateway = remote_gateway});
  api->payment_routes_ = std::make_unique<api::PaymentRoutes>(
      authenticator, *api->payments_,
      api::PaymentRoutesSettings{
          .remote_gateway = remote_gateway,
          .simulator = settings.payments_simulator &&
                       settings.domain.payments.gateway == domain::GatewayKind::kSimulated});
  api->rfid_routes_ =
      std::make_unique<api::RfidRoutes>(authenticator, *api->rfid_, api->trusted_proxies_);

  RETURN_IF_ERROR(api->system_routes_->Register(router));
  RETURN_IF_ERROR(api->auth_routes_->Register(router));
  RETURN_IF_ERROR(api->user_routes_->Register(router));
  RETURN_IF_ERROR(api->menu_routes_->Register(router));
  RETURN_IF_ERROR(api->order_routes_->Register(router));
  RETURN_IF_ERROR(api->payment_routes_->Register(router));
  RETURN_IF_ERROR(api->rfid_routes_->Register(router));
  // Last: the dashboard reports the functions by the methods routed under their names.
  domain::MonitoringServiceInfo service_info = env.service_info;
  service_info.monitor = &env.monitor;  // the dashboard's last 1/5/15-minute windows
  api->monitoring_ = std::make_unique<domain::MonitoringService>(
      env.registry, &env.db, std::move(service_info), api::MonitoredFunctionsOf(router));
  api->monitoring_routes_ = std::make_unique<api::MonitoringRoutes>(
      authenticator, *api->monitoring_, env.cache, settings.domain.monitoring.monitoring_token);
  RETURN_IF_ERROR(api->monitoring_routes_->Register(router));
  RETURN_IF_ERROR(api::RegisterOpenApiRoute(router));
  return api;
}

std::vector<cache::WarmUpItem> Api::WarmUpItems() const { return menu_routes_->DailyMenuWarmUp(); }

void Api::BeginDrain() { system_routes_->BeginDrain(); }

}  // namespace hasivu::app
