// Configuration of the hasivu program: plain settings structs with defaults, filled from flags and
// the matching HASIVU_* environment variables by main.cc (CLI11), then validated here. Only app/
// reads configuration; the modules get their own settings structs from it.
#ifndef HASIVU_APP_CONFIG_H_
#define HASIVU_APP_CONFIG_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "app/alarm_flags.h"
#include "cache/redis/redis_cache.h"
#include "common/ip_address.h"
#include "common/status.h"
#include "compress/settings.h"
#include "domain/settings.h"
#include "metrics/alarms.h"

namespace hasivu::app {

enum class Mode { kDevelopment, kProduction };

struct ListenAddress {
  std::string host;
  uint16_t port = 0;
};

// "HOST:PORT" or "[V6]:PORT". Port 0 is allowed (pick a free one). Errors are one line.
StatusOr<ListenAddress> ParseListen(std::string_view text);

// The key id of development's simulated checkout; production with Razorpay needs a real one.
inline constexpr std::string_view kPlaceholderRazorpayKeyId = "rzp_test_hasivu";

struct Config {
  std::string listen = "127.0.0.1:8080";  // --listen / HASIVU_LISTEN
  std::string store;             // --store / HASIVU_STORE; empty = sqlite:<data dir>/hasivu.db
  std::string cache = "memory";  // --cache / HASIVU_CACHE: memory | redis://host:port/db
  std::string cache_prefix = "hasivu:";  // --cache-prefix / HASIVU_CACHE_PREFIX (Redis keys)
  int cache_memory_mb = 64;          // --cache-memory-mb / HASIVU_CACHE_MEMORY_MB (in-process tier)
  std::string data_dir = "./data";   // --data-dir / HASIVU_DATA_DIR
  int threads = 0;                   // --threads / HASIVU_THREADS; 0 = one per core
  std::string jwt_secret;            // --jwt-secret / HASIVU_JWT_SECRET (>= 32 bytes)
  std::string jwt_secret_file;       // --jwt-secret-file / HASIVU_JWT_SECRET_FILE
  std::string log_level = "info";    // --log-level / HASIVU_LOG_LEVEL
  std::string mode = "development";  // --mode / HASIVU_MODE
  bool access_log = true;            // --access-log / HASIVU_ACCESS_LOG
  int db_pool_size = 8;              // --db-pool-size / HASIVU_DB_POOL_SIZE (PostgreSQL)
  std::string gateway = "simulated";  // --gateway / HASIVU_GATEWAY: simulated | razorpay
  std::string razorpay_key_id = std::string(kPlaceholderRazorpayKeyId);  // HASIVU_RAZORPAY_KEY_ID
  std::string razorpay_key_secret;           // HASIVU_RAZORPAY_KEY_SECRET
  std::string razorpay_webhook_secret;       // HASIVU_RAZORPAY_WEBHOOK_SECRET
  std::string razorpay_key_secret_file;      // HASIVU_RAZORPAY_KEY_SECRET_FILE
  std::string razorpay_webhook_secret_file;  // HASIVU_RAZORPAY_WEBHOOK_SECRET_FILE
  // --allow-simulated-payments / HASIVU_ALLOW_SIMULATED_PAYMENTS: production mode refuses the
  // simulated gateway unless this is set (a staging run), and then says so loudly.
  bool allow_simulated_payments = false;
  std::string razorpay_base_url = "https://api.razorpay.com";  // HASIVU_RAZORPAY_BASE_URL
  std::string monitoring_token;                                // HASIVU_MONITORING_TOKEN
  int payment_order_ttl_seconds = 1800;    // --payment-order-ttl / HASIVU_PAYMENT_ORDER_TTL_SECONDS
  unsigned long long argon2_opslimit = 2;  // HASIVU_ARGON2_OPSLIMIT
  unsigned long long argon2_memlimit_kib = 65536;   // HASIVU_ARGON2_MEMLIMIT_KIB
  bool compression = true;                          // --compression / HASIVU_COMPRESSION
  long long compression_min_bytes = 1024;           // HASIVU_COMPRESSION_MIN_BYTES
  std::string compression_codecs = "br,zstd,gzip";  // HASIVU_COMPRESSION_CODECS
  int compression_brotli_level = compress::kDefaultBrotliLevel;  // HASIVU_COMPRESSION_BROTLI_LEVEL
  // HASIVU_COMPRESSION_BROTLI_REQUEST_LEVEL
  int compression_brotli_request_level = compress::kDefaultBrotliLevelPerRequest;
  int compression_zstd_level = compress::kDefaultZstdLevel;  // HASIVU_COMPRESSION_ZSTD_LEVEL
  int compression_gzip_level = compress::kDefaultGzipLevel;  // HASIVU_COMPRESSION_GZIP_LEVEL
  // Secret flags given as command-line arguments (not through their environment variable or a
  // file), e.g. "--jwt-secret": set by main.cc, warned about at start (ps and /proc show them).
  std::vector<std::string> secrets_on_command_line;
  // Issue 19: login/register throttling and the hashing queue.
  std::string trusted_proxies;  // --trusted-proxies / HASIVU_TRUSTED_PROXIES: addresses/CIDRs
  int max_queued_hashes = 8;    // --max-queued-hashes / HASIVU_MAX_QUEUED_HASHES (per route)
  int register_limit = 10;      // --register-limit / HASIVU_REGISTER_LIMIT (per address, 15 min)
  // HTTP connection limits (issue 19).
  int max_connections = 10000;            // HASIVU_MAX_CONNECTIONS: open at once, all peers
  int max_connections_per_address = 256;  // HASIVU_MAX_CONNECTIONS_PER_ADDRESS; 0 = no cap
  int first_byte_timeout_ms = 10000;      // HASIVU_FIRST_BYTE_TIMEOUT_MS
  int drain_ms = 0;                       // HASIVU_DRAIN_MS
  int request_deadline_ms = 5000;         // HASIVU_REQUEST_DEADLINE_MS; 0 = none
  int heap_trim_interval_ms = 10000;      // HASIVU_HEAP_TRIM_INTERVAL_MS; 0 = never
  std::string metrics_token;              // HASIVU_METRICS_TOKEN; bearer token for GET /metrics
  std::string metrics_token_file;         // --metrics-token-file / HASIVU_METRICS_TOKEN_FILE
  // Issue 13: CloudWatch EMF export and the in-process alarms.
  std::string emf_output;         // --emf-output / HASIVU_EMF_OUTPUT: "-" stdout, a path, "" off
  int emf_interval_seconds = 60;  // --emf-interval / HASIVU_EMF_INTERVAL (1 to 3600)
  // --slow-query-ms / HASIVU_SLOW_QUERY_MS: a query slower counts in DatabaseSlowQueries (1-60000)
  int slow_query_ms = 100;
  // --alarm-period, --alarm-cold-start-ms, ... --alarm-datapoints (app/alarm_flags.h), the
  // same flags `hasivu cloudwatch-config` takes.
  AlarmFlags alarms;
};

// The configuration after validation, with defaults resolved.
struct ResolvedConfig {
  ListenAddress listen;
  std::string store_url;  // "sqlite:/abs/or/rel/path.db" or "postgresql://..."
  bool store_is_sqlite = true;
  std::string cache_url;
  // Set when cache_url is redis://...: the tiered cache's L2 (registry filled by the caller).
  std::optional<cache::RedisCacheSettings> redis;
  size_t cache_memory_bytes = size_t{64} << 20;
  std::string data_dir;
  int threads = 1;
  std::string jwt_secret;
  bool jwt_secret_generated = false;  // development mode without a configured secret
  // Production with the simulated gateway, allowed by --allow-simulated-payments (logged loudly).
  bool simulated_payments_in_production = false;
  // POST /api/v1/payments/simulate is routed: development mode with the simulated gateway only.
  bool payments_simulator = false;
  // What the operator should hear at start (secrets on the command line ...), one line each.
  std::vector<std::string> warnings;
  std::string log_level;
  Mode mode = Mode::kDevelopment;
  bool access_log = true;
  int db_pool_size = 8;
  domain::DomainSettings domain;         // auth, payments, monitoring
  compress::Settings compression;        // response compression (http::ServerSettings::compression)
  std::vector<IpRange> trusted_proxies;  // client_address.h, the auth and RFID routes
  int max_queued_hashes = 8;             // each of api::AuthRoutes::HashQueues
  int max_connections = 10000;           // http::ServerSettings::max_connections
  int max_connections_per_address = 256;  // http::ServerSettings; 0 = no per-address cap
  std::chrono::milliseconds first_byte_timeout{10000};  // http::ServerSettings
  // After SIGTERM: /readyz answers 503 while the server goes on serving for this long, so a load
  // balancer stops sending before connections are refused. 0: stop at once.
  std::chrono::milliseconds drain{0};
  // http::ServerSettings::request_deadline: a database that goes silent fails a request with 503
  // by then instead of holding it. 0: none.
  std::chrono::milliseconds request_deadline{5000};
  // app/heap_trim.h: the allocator's free pages go back to the kernel this often. 0: never.
  std::chrono::milliseconds heap_trim_interval{10000};
  // GET /metrics: open when metrics_token is empty and metrics_enabled; with a token it needs
  // "Authorization: Bearer <token>". Production without a token disables it (metrics_enabled
  // false), so the metrics are never public there by default.
  std::string metrics_token;
  bool metrics_enabled = true;
  // CloudWatch EMF lines: "-" for stdout, a file appended to, or "" for none.
  std::string emf_output;
  std::chrono::seconds emf_interval{60};
  // metrics::MonitorSettings::slow_query.
  std::chrono::milliseconds slow_query{100};
  // The thresholds, periods and M of N of the default alarms (metrics::DefaultAlarms), from
  // Config::alarms by ResolveAlarmFlags.
  metrics::DefaultAlarmSettings alarms;
};

// Validates and resolves `config`. Errors carry a one-line reason naming the flag, e.g.
// "--listen: port must be 0-65535". `hardware_threads` is what "one per core" means.
StatusOr<ResolvedConfig> Resolve(const Config& config, unsigned hardware_threads);

// The secret in `path`: the file's bytes without one trailing "\n" or "\r\n". Errors name `flag`
// and the path, never the content.
StatusOr<std::string> ReadSecretFile(std::string_view flag, const std::string& path);

// The shortest monitoring token accepted (it grants the dashboard like an admin's token).
inline constexpr size_t kMinMonitoringTokenBytes = 32;

// Store URL only (for `migrate` and `seed`, which take --store and --data-dir).
StatusOr<std::string> ResolveStoreUrl(const std::string& store, const std::string& data_dir);

}  // namespace hasivu::app

#endif  // HASIVU_APP_CONFIG_H_
