// hasivu: the school-meal platform server. Composition root: parses the command line (flags and
// their HASIVU_* environment variables) and hands a settings struct to the chosen command.
#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <string_view>

#include "app/alarm_flags.h"
#include "app/bench_command.h"
#include "app/cloudwatch_config.h"
#include "app/commands.h"
#include "common/ids.h"
#include "metrics/metrics.h"
#include "metrics/startup_phases.h"

#ifndef HASIVU_VERSION
#define HASIVU_VERSION "0.0.0"
#endif

namespace {

// Whether `flag` itself (not a longer flag such as "--jwt-secret-file") is among the arguments.
bool GivenAsArgument(int argc, char** argv, std::string_view flag) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg(argv[i]);
    if (arg == flag || (arg.size() > flag.size() && arg.substr(0, flag.size()) == flag &&
                        arg[flag.size()] == '=')) {
      return true;
    }
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  // Touch the process start instant first thing, so cold start is measured from here at worst,
  // and take the CPU the loader and the static initialisers used (metrics/startup_phases.h).
  (void)hasivu::metrics::ProcessStartSteady();
  hasivu::metrics::MarkMainEntered();
  // A write past the file size limit (RLIMIT_FSIZE) must fail as EFBIG, which the store answers
  // as a full disk (503 STORAGE_FULL), instead of killing the server with SIGXFSZ mid-request.
  std::signal(SIGXFSZ, SIG_IGN);
  if (!hasivu::InitCrypto().ok()) {
    std::fprintf(stderr, "hasivu: error: libsodium failed to initialise\n");
    return 1;
  }

  CLI::App app{"hasivu: the HASIVU school-meal platform server"};
  app.require_subcommand(1);
  // `hasivu serve` builds only serve's options: every option CLI11 adds is checked against the
  // subcommand's others, and building all of them cost a start 1.5 M instructions
  // (docs/performance.md, "Start-up phases"). The other subcommands are still listed, so
  // `hasivu serve` with a wrong word still names them.
  const bool serving = argc > 1 && std::string_view(argv[1]) == "serve";

  hasivu::app::Config serve_config;
  CLI::App* serve = app.add_subcommand(
      "serve",
      "Serve the HTTP API (migrates first; in development seeds demo data on an empty database)");
  serve->add_option("--listen", serve_config.listen, "HOST:PORT to listen on")
      ->envname("HASIVU_LISTEN")
      ->capture_default_str();
  serve
      ->add_option("--store", serve_config.store,
                   "sqlite:PATH or postgresql://... (default sqlite:<data dir>/hasivu.db)")
      ->envname("HASIVU_STORE");
  serve
      ->add_option("--cache", serve_config.cache,
                   "memory, none (every read from the database) or redis://host:port/db")
      ->envname("HASIVU_CACHE")
      ->capture_default_str();
  serve
      ->add_option("--cache-prefix", serve_config.cache_prefix,
                   "Prefix of this deployment's Redis keys and channel")
      ->envname("HASIVU_CACHE_PREFIX")
      ->capture_default_str();
  serve
      ->add_option("--cache-memory-mb", serve_config.cache_memory_mb,
                   "Bytes the in-process cache tier may hold, in MiB")
      ->envname("HASIVU_CACHE_MEMORY_MB")
      ->capture_default_str();
  serve
      ->add_option("--data-dir", serve_config.data_dir,
                   "Folder for the embedded database and fixtures")
      ->envname("HASIVU_DATA_DIR")
      ->capture_default_str();
  serve->add_option("--threads", serve_config.threads, "I/O threads (0 = one per core)")
      ->envname("HASIVU_THREADS")
      ->capture_default_str();
  serve
      ->add_option("--jwt-secret", serve_config.jwt_secret,
                   "JWT signing secret, at least 32 bytes (prefer the variable or the file)")
      ->envname("HASIVU_JWT_SECRET");
  serve
      ->add_option("--jwt-secret-file", serve_config.jwt_secret_file,
                   "File holding the JWT signing secret")
      ->envname("HASIVU_JWT_SECRET_FILE");
  serve
      ->add_option("--log-level", serve_config.log_level,
                   "trace|debug|info|warn|error|critical|off")
      ->envname("HASIVU_LOG_LEVEL")
      ->capture_default_str();
  serve->add_option("--mode", serve_config.mode, "development|production")
      ->envname("HASIVU_MODE")
      ->capture_default_str();
  serve
      ->add_option("--access-log", serve_config.access_log,
                   "Write a JSON access log line per request to stdout")
      ->envname("HASIVU_ACCESS_LOG")
      ->capture_default_str();
  serve->add_option("--db-pool-size", serve_config.db_pool_size, "PostgreSQL connection pool size")
      ->envname("HASIVU_DB_POOL_SIZE")
      ->capture_default_str();

  serve->add_option("--gateway", serve_config.gateway, "Payment gateway: simulated|razorpay")
      ->envname("HASIVU_GATEWAY")
      ->capture_default_str();
  serve->add_option("--razorpay-key-id", serve_config.razorpay_key_id, "Razorpay key id")
      ->envname("HASIVU_RAZORPAY_KEY_ID")
      ->capture_default_str();
  serve
      ->add_option("--razorpay-key-secret", serve_config.razorpay_key_secret,
                   "Razorpay key secret (also signs simulated payments)")
      ->envname("HASIVU_RAZORPAY_KEY_SECRET");
  serve
      ->add_option("--razorpay-webhook-secret", serve_config.razorpay_webhook_secret,
                   "Razorpay webhook secret")
      ->envname("HASIVU_RAZORPAY_WEBHOOK_SECRET");
  serve
      ->add_option("--razorpay-key-secret-file", serve_config.razorpay_key_secret_file,
                   "File holding the Razorpay key secret")
      ->envname("HASIVU_RAZORPAY_KEY_SECRET_FILE");
  serve
      ->add_option("--razorpay-webhook-secret-file", serve_config.razorpay_webhook_secret_file,
                   "File holding the Razorpay webhook secret")
      ->envname("HASIVU_RAZORPAY_WEBHOOK_SECRET_FILE");
  serve
      ->add_flag("--allow-simulated-payments", serve_config.allow_simulated_payments,
                 "Allow the simulated gateway in production mode (staging only; logged loudly)")
      ->envname("HASIVU_ALLOW_SIMULATED_PAYMENTS");
  serve->add_option("--razorpay-base-url", serve_config.razorpay_base_url, "Razorpay API base URL")
      ->envname("HASIVU_RAZORPAY_BASE_URL")
      ->capture_default_str();
  serve
      ->add_option("--payment-order-ttl", serve_config.payment_order_ttl_seconds,
                   "Seconds before an unpaid payment order expires")
      ->envname("HASIVU_PAYMENT_ORDER_TTL_SECONDS")
      ->capture_default_str();
  serve
      ->add_option("--monitoring-token", serve_config.monitoring_token,
                   "Bearer token that may read the monitoring dashboard")
      ->envname("HASIVU_MONITORING_TOKEN");
  serve
      ->add_option("--argon2-opslimit", serve_config.argon2_opslimit,
                   "argon2id passes for new password hashes")
      ->envname("HASIVU_ARGON2_OPSLIMIT")
      ->capture_default_str();
  serve
      ->add_option("--argon2-memlimit-kib", serve_config.argon2_memlimit_kib,
                   "argon2id memory (KiB) for new password hashes")
      ->envname("HASIVU_ARGON2_MEMLIMIT_KIB")
      ->capture_default_str();

  serve
      ->add_option("--trusted-proxies", serve_config.trusted_proxies,
                   "Reverse proxies (addresses/CIDRs, comma-separated) whose X-Forwarded-For "
                   "names the client")
      ->envname("HASIVU_TRUSTED_PROXIES");
  serve
      ->add_option("--max-queued-hashes", serve_config.max_queued_hashes,
                   "Logins (and, separately, registrations) that may wait for a password hash")
      ->envname("HASIVU_MAX_QUEUED_HASHES")
      ->capture_default_str();
  serve
      ->add_option("--register-limit", serve_config.register_limit,
                   "Registrations per client address in 15 minutes")
      ->envname("HASIVU_REGISTER_LIMIT")
      ->capture_default_str();
  serve
      ->add_option("--compression", serve_config.compression, "Compress responses (br, zstd, gzip)")
      ->envname("HASIVU_COMPRESSION")
      ->capture_default_str();
  serve
      ->add_option("--compression-min-bytes", serve_config.compression_min_bytes,
                   "Smallest response body that is compressed")
      ->envname("HASIVU_COMPRESSION_MIN_BYTES")
      ->capture_default_str();
  serve
      ->add_option("--compression-codecs", serve_config.compression_codecs,
                   "Codecs offered, comma-separated: br, zstd, gzip")
      ->envname("HASIVU_COMPRESSION_CODECS")
      ->capture_default_str();
  serve
      ->add_option("--compression-brotli-level", serve_config.compression_brotli_level,
                   "Brotli quality 0..11")
      ->envname("HASIVU_COMPRESSION_BROTLI_LEVEL")
      ->capture_default_str();
  serve
      ->add_option("--compression-brotli-request-level",
                   serve_config.compression_brotli_request_level,
                   "Brotli quality 0..11 for bodies compressed for one response (not cached)")
      ->envname("HASIVU_COMPRESSION_BROTLI_REQUEST_LEVEL")
      ->capture_default_str();
  serve
      ->add_option("--compression-zstd-level", serve_config.compression_zstd_level,
                   "zstd level 1..19")
      ->envname("HASIVU_COMPRESSION_ZSTD_LEVEL")
      ->capture_default_str();
  serve
      ->add_option("--compression-gzip-level", serve_config.compression_gzip_level,
                   "gzip level 1..9")
      ->envname("HASIVU_COMPRESSION_GZIP_LEVEL")
      ->capture_default_str();

  serve
      ->add_option("--max-connections", serve_config.max_connections,
                   "Open connections the server holds at once, all peers together (beyond: 503)")
      ->envname("HASIVU_MAX_CONNECTIONS")
      ->capture_default_str();
  serve
      ->add_option("--max-connections-per-address", serve_config.max_connections_per_address,
                   "Open connections one IPv4 address or IPv6 /64 may hold (0 = no cap)")
      ->envname("HASIVU_MAX_CONNECTIONS_PER_ADDRESS")
      ->capture_default_str();
  serve
      ->add_option("--first-byte-timeout-ms", serve_config.first_byte_timeout_ms,
                   "Milliseconds a new connection may wait before sending its first byte")
      ->envname("HASIVU_FIRST_BYTE_TIMEOUT_MS")
      ->capture_default_str();
  serve
      ->add_option("--drain-ms", serve_config.drain_ms,
                   "After SIGTERM, milliseconds of serving on with /readyz answering 503 before "
                   "new connections are refused (behind a load balancer: its health-check "
                   "interval times its failure threshold, plus one interval)")
      ->envname("HASIVU_DRAIN_MS")
      ->capture_default_str();
  serve
      ->add_option("--request-deadline-ms", serve_config.request_deadline_ms,
                   "Milliseconds from a request's arrival after which what it waits on (the "
                   "database) gives up and it is answered 503 with Retry-After (0 = none)")
      ->envname("HASIVU_REQUEST_DEADLINE_MS")
      ->capture_default_str();
  serve
      ->add_option("--heap-trim-interval-ms", serve_config.heap_trim_interval_ms,
                   "Milliseconds between returns of the allocator's free pages to the kernel "
                   "(malloc_trim), which keeps the resident set at the live heap (0 = never)")
      ->envname("HASIVU_HEAP_TRIM_INTERVAL_MS")
      ->capture_default_str();
  serve
      ->add_option("--metrics-token", serve_config.metrics_token,
                   "Bearer token GET /metrics requires (production without one: /metrics is off)")
      ->envname("HASIVU_METRICS_TOKEN");
  serve
      ->add_option("--metrics-token-file", serve_config.metrics_token_file,
                   "File holding the /metrics bearer token")
      ->envname("HASIVU_METRICS_TOKEN_FILE");

  serve
      ->add_option("--emf-output", serve_config.emf_output,
                   "Write CloudWatch EMF metric lines: - for stdout, or a file appended to "
                   "(empty: off)")
      ->envname("HASIVU_EMF_OUTPUT");
  serve
      ->add_option("--emf-interval", serve_config.emf_interval_seconds,
                   "Seconds between EMF flushes (1 to 3600)")
      ->envname("HASIVU_EMF_INTERVAL")
      ->capture_default_str();
  serve
      ->add_option("--slow-query-ms", serve_config.slow_query_ms,
                   "A database query slower than this counts as slow (DatabaseSlowQueries, "
                   "hasivu_db_slow_operations_total), 1 to 60000")
      ->envname("HASIVU_SLOW_QUERY_MS")
      ->capture_default_str();
  // The in-process alarms' knobs; cloudwatch-config takes the same ones.
  hasivu::app::AddAlarmFlags(*serve, serve_config.alarms);

  hasivu::app::MigrateOptions migrate_options;
  CLI::App* migrate =
      app.add_subcommand("migrate", "Apply pending schema migrations (safe to run twice)");
  if (!serving) {
    migrate->add_option("--store", migrate_options.store, "sqlite:PATH or postgresql://...")
        ->envname("HASIVU_STORE");
    migrate->add_option("--data-dir", migrate_options.data_dir, "Folder of the embedded database")
        ->envname("HASIVU_DATA_DIR")
        ->capture_default_str();
  }

  hasivu::app::SeedOptions seed_options;
  CLI::App* seed = app.add_subcommand("seed", "Fill an empty database with generated data");
  if (!serving) {
    seed->add_option("--store", seed_options.store, "sqlite:PATH or postgresql://...")
        ->envname("HASIVU_STORE");
    seed->add_option("--data-dir", seed_options.data_dir, "Folder of the embedded database")
        ->envname("HASIVU_DATA_DIR")
        ->capture_default_str();
    seed->add_option("--size", seed_options.size, "demo | medium | large")
        ->check(CLI::IsMember({"demo", "medium", "large"}))
        ->capture_default_str();
    seed->add_option("--seed", seed_options.seed, "Random seed; the same seed gives the same data")
        ->capture_default_str();
    seed->add_option("--fixtures-out", seed_options.fixtures_out,
                     "Write the fixtures JSON (logins, ids) here");
  }

  hasivu::app::AdminCreateOptions admin_options;
  CLI::App* admin = app.add_subcommand("admin", "Manage platform admin accounts");
  admin->require_subcommand(1);
  CLI::App* admin_create = admin->add_subcommand(
      "create", "Create a platform admin (the first account of a production deployment)");
  if (!serving) {
    admin_create->add_option("--store", admin_options.store, "sqlite:PATH or postgresql://...")
        ->envname("HASIVU_STORE");
    admin_create
        ->add_option("--data-dir", admin_options.data_dir, "Folder of the embedded database")
        ->envname("HASIVU_DATA_DIR")
        ->capture_default_str();
    admin_create->add_option("--email", admin_options.email, "The admin's login email")->required();
    admin_create
        ->add_option("--password-file", admin_options.password_file,
                     "File holding the password; - reads standard input")
        ->capture_default_str();
    admin_create->add_option("--first-name", admin_options.first_name, "First name")
        ->capture_default_str();
    admin_create->add_option("--last-name", admin_options.last_name, "Last name")
        ->capture_default_str();
    admin_create
        ->add_option("--argon2-opslimit", admin_options.argon2_opslimit,
                     "argon2id passes (use the server's)")
        ->envname("HASIVU_ARGON2_OPSLIMIT")
        ->capture_default_str();
    admin_create
        ->add_option("--argon2-memlimit-kib", admin_options.argon2_memlimit_kib,
                     "argon2id memory in KiB (use the server's)")
        ->envname("HASIVU_ARGON2_MEMLIMIT_KIB")
        ->capture_default_str();
  }

  std::string estimate_file = "-";
  CLI::App* estimate = app.add_subcommand(
      "estimate-compression",
      "Print size, ratio and time of every codec and level on a body (FILE, or - for stdin)");
  if (!serving) {
    estimate->add_option("file", estimate_file, "The body to measure; - reads standard input")
        ->capture_default_str();
  }

  hasivu::app::CloudWatchConfigCommand cloudwatch_options;
  CLI::App* cloudwatch = app.add_subcommand(
      "cloudwatch-config",
      "Print the CloudWatch dashboards and alarms (put-dashboard / put-metric-alarm JSON) for the "
      "metrics the EMF exporter writes");
  if (!serving) {
    cloudwatch
        ->add_option("--store", cloudwatch_options.store,
                     "sqlite or postgres (or the server's store URL): the Store dimension")
        ->envname("HASIVU_STORE")
        ->capture_default_str();
    cloudwatch
        ->add_option("--cache", cloudwatch_options.cache,
                     "memory, redis or none (or the server's cache URL): the Tier dimensions")
        ->envname("HASIVU_CACHE")
        ->capture_default_str();
    cloudwatch->add_option("--region", cloudwatch_options.region, "AWS region of the dashboards")
        ->capture_default_str();
    cloudwatch->add_option("--function", cloudwatch_options.functions,
                           "A Function dimension value (repeatable; default: the ten functions)");
    // As given to serve, so the alarms printed are the ones the servers evaluate.
    hasivu::app::AddAlarmFlags(*cloudwatch, cloudwatch_options.alarms);
  }

  hasivu::app::BenchOptions bench_options;
  CLI::App* bench = serving ? app.add_subcommand("bench", hasivu::app::kBenchDescription)
                            : hasivu::app::AddBenchCommand(app, bench_options);

  app.add_subcommand("version", "Print the version");

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "hasivu: error: %s (see --help)\n", e.what());
    // For `bench`, 2 means a regression (CI reads it so): a bad command line is a failed run.
    if (argc > 1 && std::string_view(argv[1]) == "bench") return 3;
    return 2;
  }

  if (serve->parsed()) {
    // A secret in argv is visible to every user of the machine; the environment or a file is not.
    for (const std::string_view flag :
         {"--jwt-secret", "--razorpay-key-secret", "--razorpay-webhook-secret",
          "--monitoring-token", "--metrics-token"}) {
      if (GivenAsArgument(argc, argv, flag)) {
        serve_config.secrets_on_command_line.emplace_back(flag);
      }
    }
    return hasivu::app::RunServe(serve_config);
  }
  if (admin_create->parsed()) return hasivu::app::RunAdminCreate(admin_options);
  if (migrate->parsed()) return hasivu::app::RunMigrate(migrate_options);
  if (seed->parsed()) return hasivu::app::RunSeed(seed_options);
  if (bench->parsed()) return hasivu::app::RunBench(bench_options);
  if (estimate->parsed()) return hasivu::app::RunEstimateCompression(estimate_file);
  if (cloudwatch->parsed()) return hasivu::app::RunCloudWatchConfig(cloudwatch_options);
  std::printf("hasivu %s\n", HASIVU_VERSION);
  return 0;
}
