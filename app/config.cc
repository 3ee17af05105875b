#include "app/config.h"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <iterator>

#include "common/ids.h"
#include "compress/codec.h"

namespace hasivu::app {
namespace {

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// A secret given either directly (flag or environment) or as a file, never both.
StatusOr<std::string> SecretOf(std::string_view flag, const std::string& value,
                               const std::string& file) {
  if (file.empty()) return value;
  if (!value.empty()) {
    return InvalidArgumentError(std::string(flag) + " and " + std::string(flag) +
                                "-file: give one, not both");
  }
  return ReadSecretFile(std::string(flag) + "-file", file);
}

}  // namespace

StatusOr<std::string> ReadSecretFile(std::string_view flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return InvalidArgumentError(std::string(flag) + ": cannot read " + path + ": " +
                                std::strerror(errno));
  }
  std::string secret((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return InvalidArgumentError(std::string(flag) + ": cannot read " + path);
  if (!secret.empty() && secret.back() == '\n') secret.pop_back();
  if (!secret.empty() && secret.back() == '\r') secret.pop_back();
  if (secret.empty()) return InvalidArgumentError(std::string(flag) + ": " + path + " is empty");
  return secret;
}

StatusOr<ListenAddress> ParseListen(std::string_view text) {
  std::string_view host, port;
  if (StartsWith(text, "[")) {
    const size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return InvalidArgumentError("--listen: expected [IPV6]:PORT, got '" + std::string(text) +
                                  "'");
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return InvalidArgumentError("--listen: expected HOST:PORT, got '" + std::string(text) + "'");
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return InvalidArgumentError("--listen: write IPv6 addresses as [ADDR]:PORT");
    }
  }
  if (host.empty()) return InvalidArgumentError("--listen: host is empty");
  for (char c : host) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-' || c == ':';
    if (!ok) return InvalidArgumentError("--listen: invalid character in host");
  }
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || ptr != port.data() + port.size() || value > 65535) {
    return InvalidArgumentError("--listen: port must be a number 0-65535, got '" +
                                std::string(port) + "'");
  }
  return ListenAddress{std::string(host), static_cast<uint16_t>(value)};
}

StatusOr<std::string> ResolveStoreUrl(const std::string& store, const std::string& data_dir) {
  if (store.empty()) {
    if (data_dir.empty()) return InvalidArgumentError("--data-dir: must not be empty");
    return "sqlite:" + data_dir + "/hasivu.db";
  }
  if (StartsWith(store, "sqlite:")) {
    if (store.size() == 7) return InvalidArgumentError("--store: sqlite: needs a path");
    return store;
  }
  if (StartsWith(store, "postgresql://") || StartsWith(store, "postgres://")) return store;
  return InvalidArgumentError("--store: expected sqlite:PATH or postgresql://..., got '" +
                              store.substr(0, 40) + "'");
}

StatusOr<ResolvedConfig> Resolve(const Config& c, unsigned hardware_threads) {
  ResolvedConfig r;
  ASSIGN_OR_RETURN(r.listen, ParseListen(c.listen));
  ASSIGN_OR_RETURN(r.store_url, ResolveStoreUrl(c.store, c.data_dir));
  r.store_is_sqlite = StartsWith(r.store_url, "sqlite:");
  r.data_dir = c.data_dir;

  // rediss:// goes to the parser too, which says why TLS is refused.
  const bool redis = StartsWith(c.cache, "redis://") || StartsWith(c.cache, "rediss://");
  if (c.cache != "memory" && c.cache != "none" && !redis) {
    return InvalidArgumentError("--cache: expected memory, none or redis://host:port/db, got '" +
                                c.cache.substr(0, 40) + "'");
  }
  r.cache_url = c.cache;
  if (redis) {
    StatusOr<cache::RedisCacheSettings> redis = cache::ParseRedisUrl(c.cache);
    if (!redis.ok()) return InvalidArgumentError("--cache: " + redis.status().message());
    r.redis = std::move(*redis);
    if (c.cache_prefix.empty() || c.cache_prefix.size() > 64 ||
        c.cache_prefix.find_first_of(" \t\r\n*?[]") != std::string::npos) {
      return InvalidArgumentError(
          "--cache-prefix: 1-64 characters without spaces or glob characters (*?[])");
    }
    r.redis->key_prefix = c.cache_prefix;
  }
  if (c.cache_memory_mb < 1 || c.cache_memory_mb > 65536) {
    return InvalidArgumentError("--cache-memory-mb: must be 1 to 65536");
  }
  r.cache_memory_bytes = static_cast<size_t>(c.cache_memory_mb) << 20;

  if (c.threads < 0 || c.threads > 256) {
    return InvalidArgumentError("--threads: must be 0 (one per core) to 256");
  }
  r.threads = c.threads > 0 ? c.threads : static_cast<int>(hardware_threads ? hardware_threads : 1);

  if (c.db_pool_size < 1 || c.db_pool_size > 512) {
    return InvalidArgumentError("--db-pool-size: must be 1 to 512");
  }
  r.db_pool_size = c.db_pool_size;

  if (c.mode == "development") {
    r.mode = Mode::kDevelopment;
  } else if (c.mode == "production") {
    r.mode = Mode::kProduction;
  } else {
    return InvalidArgumentError("--mode: expected development or production, got '" +
                                c.mode.substr(0, 20) + "'");
  }

  static constexpr std::string_view kLevels[] = {"trace", "debug",    "info", "warn",
                                                 "error", "critical", "off"};
  bool level_ok = false;
  for (auto l : kLevels) level_ok = level_ok || c.log_level == l;
  if (!level_ok) {
    return InvalidArgumentError(
        "--log-level: expected trace, debug, info, warn, error, critical or off");
  }
  r.log_level = c.log_level;
  r.access_log = c.access_log;

  ASSIGN_OR_RETURN(const std::string jwt_secret,
                   SecretOf("--jwt-secret", c.jwt_secret, c.jwt_secret_file));
  if (!jwt_secret.empty()) {
    if (jwt_secret.size() < 32) {
      return InvalidArgumentError("--jwt-secret: must be at least 32 bytes");
    }
    r.jwt_secret = jwt_secret;
  } else if (r.mode == Mode::kProduction) {
    return InvalidArgumentError(
        "--jwt-secret: required in production mode (at least 32 bytes; HASIVU_JWT_SECRET or "
        "--jwt-secret-file)");
  } else {
    r.jwt_secret = RandomHex(32);
    r.jwt_secret_generated = true;
  }
  domain::AuthSettings& auth = r.domain.auth;
  auth.jwt_secret = r.jwt_secret;
  auth.password.opslimit = c.argon2_opslimit;
  auth.password.memlimit = static_cast<size_t>(c.argon2_memlimit_kib) * 1024;
  RETURN_IF_ERROR(domain::PasswordHasher::ValidateSettings(auth.password)
                      .WithContext("--argon2-opslimit/--argon2-memlimit-kib"));

  domain::PaymentSettings& pay = r.domain.payments;
  if (c.gateway == "simulated") {
    pay.gateway = domain::GatewayKind::kSimulated;
  } else if (c.gateway == "razorpay") {
    pay.gateway = domain::GatewayKind::kRazorpay;
  } else {
    return InvalidArgumentError("--gateway: expected simulated or razorpay, got '" +
                                c.gateway.substr(0, 20) + "'");
  }
  pay.key_id = c.razorpay_key_id;
  ASSIGN_OR_RETURN(pay.key_secret, SecretOf("--razorpay-key-secret", c.razorpay_key_secret,
                                            c.razorpay_key_secret_file));
  ASSIGN_OR_RETURN(pay.webhook_secret,
                   SecretOf("--razorpay-webhook-secret", c.razorpay_webhook_secret,
                            c.razorpay_webhook_secret_file));
  pay.razorpay_base_url = c.razorpay_base_url;
  if (c.payment_order_ttl_seconds < 1 || c.payment_order_ttl_seconds > 24 * 3600) {
    return InvalidArgumentError("--payment-order-ttl: must be 1 to 86400 seconds");
  }
  pay.payment_order_ttl = std::chrono::seconds(c.payment_order_ttl_seconds);
  // The simulated gateway signs checkouts itself and, in development, routes
  // /payments/simulate, which hands any caller a valid signature: a production server with it
  // would mark orders paid for free.
  if (pay.gateway == domain::GatewayKind::kSimulated && r.mode == Mode::kProduction) {
    if (!c.allow_simulated_payments) {
      return InvalidArgumentError(
          "--gateway simulated: refused in production mode (payments would not be real); use "
          "--gateway razorpay, or --allow-simulated-payments for a staging run");
    }
    r.simulated_payments_in_production = true;
    r.warnings.push_back(
        "PAYMENTS ARE SIMULATED: production mode with the simulated gateway "
        "(--allow-simulated-payments); no order is really paid; never serve real parents so");
  }
  r.payments_simulator =
      pay.gateway == domain::GatewayKind::kSimulated && r.mode == Mode::kDevelopment;
  if (pay.gateway == domain::GatewayKind::kRazorpay && r.mode == Mode::kProduction &&
      pay.key_id == kPlaceholderRazorpayKeyId) {
    return InvalidArgumentError(
        "--razorpay-key-id: production needs the account's own key id, not the built-in "
        "placeholder");
  }
  if (pay.gateway == domain::GatewayKind::kRazorpay &&
      (pay.key_id.empty() || pay.key_secret.empty() || pay.webhook_secret.empty())) {
    return InvalidArgumentError(
        "--gateway razorpay: needs HASIVU_RAZORPAY_KEY_ID, HASIVU_RAZORPAY_KEY_SECRET and "
        "HASIVU_RAZORPAY_WEBHOOK_SECRET");
  }
  if (pay.razorpay_base_url.rfind("https://", 0) != 0 &&
      pay.razorpay_base_url.rfind("http://127.", 0) != 0 &&
      pay.razorpay_base_url.rfind("http://localhost", 0) != 0) {
    return InvalidArgumentError(
        "--razorpay-base-url: must be https:// (plain http only to a loopback stand-in)");
  }
  // The simulated gateway signs like Razorpay, with the key secret; without one configured a
  // random per-run secret keeps development working.
  if (pay.key_secret.empty()) pay.key_secret = RandomHex(24);
  if (pay.webhook_secret.empty()) pay.webhook_secret = RandomHex(24);
  if (!c.monitoring_token.empty() && c.monitoring_token.size() < kMinMonitoringTokenBytes) {
    return InvalidArgumentError("--monitoring-token: must be at least " +
                                std::to_string(kMinMonitoringTokenBytes) + " bytes");
  }
  r.domain.monitoring.monitoring_token = c.monitoring_token;
  for (const std::string& flag : c.secrets_on_command_line) {
    r.warnings.push_back(flag +
                         " given on the command line, where other users of this machine can read "
                         "it (ps, /proc); prefer its environment variable or a -file option");
  }

  compress::Settings& z = r.compression;
  z.enabled = c.compression;
  if (c.compression_min_bytes < 0 || c.compression_min_bytes > (1ll << 30)) {
    return InvalidArgumentError("--compression-min-bytes: must be 0 to 1073741824");
  }
  z.min_bytes = static_cast<size_t>(c.compression_min_bytes);
  std::string bad;
  std::optional<compress::EncodingSet> codecs =
      compress::ParseEncodingList(c.compression_codecs, &bad);
  if (!codecs) {
    return InvalidArgumentError("--compression-codecs: expected a list of br, zstd, gzip, got '" +
                                bad + "'");
  }
  z.codecs = *codecs;
  struct LevelFlag {
    const char* flag;
    compress::Encoding encoding;
    int value;
    int* target;
  };
  for (const LevelFlag& f :
       {LevelFlag{"--compression-brotli-level", compress::Encoding::kBrotli,
                  c.compression_brotli_level, &z.brotli_level},
        LevelFlag{"--compression-brotli-request-level", compress::Encoding::kBrotli,
                  c.compression_brotli_request_level, &z.brotli_level_per_request},
        LevelFlag{"--compression-zstd-level", compress::Encoding::kZstd, c.compression_zstd_level,
                  &z.zstd_level},
        LevelFlag{"--compression-gzip-level", compress::Encoding::kGzip, c.compression_gzip_level,
                  &z.gzip_level}}) {
    const compress::Codec& codec = *compress::CodecFor(f.encoding);
    if (f.value < codec.min_level() || f.value > codec.max_level()) {
      return InvalidArgumentError(std::string(f.flag) + ": must be " +
                                  std::to_string(codec.min_level()) + " to " +
                                  std::to_string(codec.max_level()));
    }
    *f.target = f.value;
  }
  RETURN_IF_ERROR(compress::ValidateSettings(z).WithContext("--compression"));

  StatusOr<std::vector<IpRange>> proxies = ParseIpRanges(c.trusted_proxies);
  if (!proxies.ok()) {
    return InvalidArgumentError("--trusted-proxies: " + proxies.status().message());
  }
  r.trusted_proxies = std::move(*proxies);
  if (c.max_queued_hashes < 1 || c.max_queued_hashes > 10000) {
    return InvalidArgumentError("--max-queued-hashes: must be 1 to 10000");
  }
  r.max_queued_hashes = c.max_queued_hashes;
  if (c.register_limit < 1 || c.register_limit > 1000000) {
    return InvalidArgumentError("--register-limit: must be 1 to 1000000");
  }
  auth.max_registrations_per_address = c.register_limit;
  if (c.max_connections < 1 || c.max_connections > 1000000) {
    return InvalidArgumentError("--max-connections: must be 1 to 1000000");
  }
  r.max_connections = c.max_connections;
  if (c.max_connections_per_address < 0 || c.max_connections_per_address > 1000000) {
    return InvalidArgumentError("--max-connections-per-address: must be 0 (no cap) to 1000000");
  }
  r.max_connections_per_address = c.max_connections_per_address;
  if (c.first_byte_timeout_ms < 100 || c.first_byte_timeout_ms > 600000) {
    return InvalidArgumentError("--first-byte-timeout-ms: must be 100 to 600000");
  }
  r.first_byte_timeout = std::chrono::milliseconds(c.first_byte_timeout_ms);
  if (c.drain_ms < 0 || c.drain_ms > 300000) {
    return InvalidArgumentError("--drain-ms: must be 0 to 300000");
  }
  r.drain = std::chrono::milliseconds(c.drain_ms);
  if (c.request_deadline_ms != 0 &&
      (c.request_deadline_ms < 100 || c.request_deadline_ms > 600000)) {
    return InvalidArgumentError("--request-deadline-ms: must be 0 (none) or 100 to 600000");
  }
  r.request_deadline = std::chrono::milliseconds(c.request_deadline_ms);
  if (c.heap_trim_interval_ms != 0 &&
      (c.heap_trim_interval_ms < 100 || c.heap_trim_interval_ms > 3600000)) {
    return InvalidArgumentError("--heap-trim-interval-ms: must be 0 (never) or 100 to 3600000");
  }
  r.heap_trim_interval = std::chrono::milliseconds(c.heap_trim_interval_ms);
  ASSIGN_OR_RETURN(r.metrics_token,
                   SecretOf("--metrics-token", c.metrics_token, c.metrics_token_file));
  if (!r.metrics_token.empty()) {
    // It travels as a bearer token, which cannot hold spaces or control characters; as long as
    // the monitoring token at least, being a credential of the same kind.
    bool printable = true;
    for (char ch : r.metrics_token) printable = printable && ch > ' ' && ch < 0x7f;
    if (r.metrics_token.size() < kMinMonitoringTokenBytes || r.metrics_token.size() > 512 ||
        !printable) {
      return InvalidArgumentError("--metrics-token: must be " +
                                  std::to_string(kMinMonitoringTokenBytes) +
                                  " to 512 printable characters without spaces");
    }
  }
  r.metrics_enabled = !r.metrics_token.empty() || r.mode == Mode::kDevelopment;

  r.emf_output = c.emf_output;
  if (c.emf_interval_seconds < 1 || c.emf_interval_seconds > 3600) {
    return InvalidArgumentError("--emf-interval: must be 1 to 3600 seconds");
  }
  r.emf_interval = std::chrono::seconds(c.emf_interval_seconds);
  if (c.slow_query_ms < 1 || c.slow_query_ms > 60000) {
    return InvalidArgumentError("--slow-query-ms: must be 1 to 60000 milliseconds");
  }
  r.slow_query = std::chrono::milliseconds(c.slow_query_ms);
  ASSIGN_OR_RETURN(r.alarms, ResolveAlarmFlags(c.alarms));
  return r;
}

}  // namespace hasivu::app
