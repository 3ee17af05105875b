// Settings of the domain services: plain structs with defaults. Only app/ fills them from
// configuration; every service takes its struct by value or const reference.
#ifndef HASIVU_DOMAIN_SETTINGS_H_
#define HASIVU_DOMAIN_SETTINGS_H_

#include <chrono>
#include <cstdint>
#include <string>

#include "domain/password.h"

namespace hasivu::domain {

struct AuthSettings {
  std::string jwt_secret;  // >= 32 bytes (app/ validates)
  std::string issuer = "hasivu";
  std::string audience = "hasivu-api";
  std::chrono::seconds access_ttl{15 * 60};
  std::chrono::seconds refresh_ttl{30 * 24 * 3600};
  // argon2id cost for new hashes and re-hashes. Default: libsodium's interactive level.
  PasswordSettings password;
  // Login throttling: failures per normalised email within the window, and failed attempts per
  // client address per minute.
  int max_failures_per_email = 5;
  std::chrono::seconds email_window{15 * 60};
  int max_failures_per_address = 30;
  std::chrono::seconds address_window{60};
  // Register throttling: attempts that pass validation per client address within the window.
  // Default: 10 in 15 minutes (a school's parents behind one NAT can still sign up in a row).
  int max_registrations_per_address = 10;
  std::chrono::seconds registration_window{15 * 60};
};

enum class GatewayKind { kSimulated, kRazorpay };

struct PaymentSettings {
  GatewayKind gateway = GatewayKind::kSimulated;
  std::string key_id = "rzp_test_hasivu";  // HASIVU_RAZORPAY_KEY_ID
  std::string key_secret;                  // HASIVU_RAZORPAY_KEY_SECRET
  std::string webhook_secret;              // HASIVU_RAZORPAY_WEBHOOK_SECRET
  std::string razorpay_base_url = "https://api.razorpay.com";
  std::chrono::milliseconds gateway_timeout{5000};
  int gateway_retries = 2;  // extra attempts on 5xx / connection failure, with backoff
  std::chrono::seconds payment_order_ttl{30 * 60};
};

struct MonitoringSettings {
  // A bearer token that may read the monitoring dashboard besides admins. Empty: admins only.
  std::string monitoring_token;
};

struct DomainSettings {
  AuthSettings auth;
  PaymentSettings payments;
  MonitoringSettings monitoring;
};

}  // namespace hasivu::domain

#endif  // HASIVU_DOMAIN_SETTINGS_H_
