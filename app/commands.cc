#include "app/commands.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "api/envelope.h"
#include "app/api.h"
#include "app/cloudwatch_config.h"
#include "app/heap_trim.h"
#include "app/monitor_wiring.h"
#include "app/process_limits.h"
#include "cache/cache_aside.h"
#include "cache/memory/memory_cache.h"
#include "cache/tiered_cache.h"
#include "cache/ttl.h"
#include "common/clock.h"
#include "common/time_util.h"
#include "compress/estimate.h"
#include "domain/first_admin.h"
#include "domain/monitoring_service.h"
#include "domain/read_cache.h"
#include "http/router.h"
#include "http/server.h"
#include "metrics/alarms.h"
#include "metrics/cold_start.h"
#include "metrics/emf_flusher.h"
#include "metrics/metrics.h"
#include "metrics/monitor.h"
#include "metrics/startup_phases.h"
#include "seed/demo_data.h"
#include "seed/fixtures.h"
#include "store/migrations.h"
#include "store/open_database.h"
#include "store/timed_database.h"

#ifndef HASIVU_VERSION
#define HASIVU_VERSION "0.0.0"
#endif

namespace hasivu::app {
namespace {

constexpr const char* kVersion = HASIVU_VERSION;

constexpr int kExitConfig = 2;
constexpr int kExitRuntime = 1;

int ConfigError(const Status& s) {
  std::fprintf(stderr, "hasivu: error: %s\n", s.message().c_str());
  return kExitConfig;
}

int RuntimeError(std::string_view what, const Status& s) {
  std::fprintf(stderr, "hasivu: error: %.*s: %s\n", int(what.size()), what.data(),
               s.ToString().c_str());
  return kExitRuntime;
}

void SetUpLogging(const std::string& level) {
  // Diagnostics go to stderr; the access log (one JSON object per line) to stdout, so an operator
  // can route them apart.
  auto main_logger = spdlog::stderr_logger_mt("hasivu");
  main_logger->set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %^%l%$ %v", spdlog::pattern_time_type::utc);
  spdlog::set_default_logger(main_logger);
  spdlog::set_level(spdlog::level::from_str(level));
}

// Makes sure the folder of a sqlite:PATH store exists.
Status EnsureSqliteFolder(const std::string& url) {
  if (url.rfind("sqlite:", 0) != 0) return Status::Ok();
  const std::filesystem::path path(url.substr(7));
  if (!path.has_parent_path() || path.string() == ":memory:") return Status::Ok();
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  if (ec)
    return UnavailableError("cannot create " + path.parent_path().string() + ": " + ec.message());
  return Status::Ok();
}

StatusOr<store::DatabasePtr> OpenAndMigrate(const std::string& url, int pool_size,
                                            metrics::Registry* registry = nullptr) {
  RETURN_IF_ERROR(EnsureSqliteFolder(url));
  store::DatabaseSettings settings;
  settings.url = url;
  settings.pool_size = pool_size;
  settings.registry = registry;
  ASSIGN_OR_RETURN(store::DatabasePtr db, store::OpenDatabase(settings));
  RETURN_IF_ERROR(store::Migrate(*db).WithContext("migrate"));
  return db;
}

// Writes `content` to `path`, readable by its owner only: the fixtures hold every demo login.
Status WriteFile(const std::string& path, const std::string& content) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return UnavailableError("cannot write " + path + ": " + std::strerror(errno));
  // An existing file keeps its mode through O_CREAT: narrow it too.
  bool ok = ::fchmod(fd, 0600) == 0;
  for (size_t off = 0; ok && off < content.size();) {
    const ssize_t n = ::write(fd, content.data() + off, content.size() - off);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) off += static_cast<size_t>(n);
  }
  ok = ::close(fd) == 0 && ok;
  if (!ok) return UnavailableError("cannot write " + path);
  return Status::Ok();
}

StatusOr<seed::SeedReport> Seed(store::Database& db, const std::string& size, uint64_t seed) {
  seed::SeedSettings settings;
  settings.size = size;
  settings.seed = seed;
  ASSIGN_OR_RETURN(settings.base_date, LocalDate(SystemClock().Now(), "Asia/Kolkata"));
  return seed::SeedDemoData(db, settings, SystemClock());
}

// Blocks SIGINT and SIGTERM in this thread and every thread it starts afterwards, so that the
// main thread alone receives them through sigwait().
sigset_t BlockShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

}  // namespace

int RunServe(const Config& config) {
  auto resolved = Resolve(config, std::thread::hardware_concurrency());
  if (!resolved.ok()) return ConfigError(resolved.status());
  const ResolvedConfig& cfg = *resolved;
  SetUpLogging(cfg.log_level);
  if (cfg.jwt_secret_generated) {
    spdlog::warn("no --jwt-secret given: using a random one for this run (development mode)");
  }
  for (const std::string& warning : cfg.warnings) spdlog::warn("{}", warning);
  // Loud on purpose: the simulated gateway in production is for staging only.
  if (cfg.simulated_payments_in_production) {
    spdlog::critical("payments are simulated in production mode: no order is really paid");
  }
  const sigset_t signals = BlockShutdownSignals();

  std::error_code ec;
  std::filesystem::create_directories(cfg.data_dir, ec);
  if (ec) return RuntimeError("create data folder " + cfg.data_dir, UnavailableError(ec.message()));
  // Each phase of the start-up, logged at debug as it ends and in one line at info once the server
  // listens, and published in /metrics (metrics/startup_phases.h).
  metrics::StartupPhases startup;
  const auto end_phase = [&startup](std::string_view name) {
    const auto d = startup.End(name);
    spdlog::debug("start-up: {} took {:.1f} ms", name, static_cast<double>(d.count()) / 1000.0);
  };
  end_phase("configuration");

  // Made before the store, so the pool records its waits from the first connection on.
  auto registry = metrics::NewRegistry();
  auto db = OpenAndMigrate(cfg.store_url, cfg.db_pool_size, registry.get());
  if (!db.ok()) return RuntimeError("open store", db.status());
  end_phase("store");

  auto any_user = domain::AnyUser(**db);
  if (!any_user.ok()) return RuntimeError("inspect store", any_user.status());
  std::string first_logins;
  if (!*any_user && cfg.mode == Mode::kProduction) {
    // A production deployment is never seeded: demo accounts would be the only way in, and
    // their logins are printed and written to a file.
    return ConfigError(InvalidArgumentError(
        "production mode: the database has no accounts; create the first admin with `hasivu admin "
        "create --store <url> --email <email>` (password on stdin), then start again"));
  }
  if (*any_user && cfg.mode == Mode::kProduction) {
    auto demo = seed::HoldsDemoAccounts(**db);
    if (!demo.ok()) return RuntimeError("inspect store", demo.status());
    if (*demo) {
      return ConfigError(InvalidArgumentError(
          "production mode: the database holds the demo data set's accounts "
          "(@demo.hasivu.test), whose logins were printed and written to fixtures.json; use a "
          "database that was never seeded"));
    }
  }
  if (!*any_user) {
    spdlog::info("empty database: seeding the demo data set");
    auto report = Seed(**db, "demo", 1);
    if (!report.ok()) return RuntimeError("seed demo data", report.status());
    const std::string fixtures_path = cfg.data_dir + "/fixtures.json";
    Status w = WriteFile(fixtures_path, seed::FixturesJson(*report));
    if (!w.ok()) return RuntimeError("write fixtures", w);
    first_logins = seed::DemoLoginsText(*report);
    first_logins += "  (all demo logins: " + fixtures_path + ")\n";
  }
  end_phase(*any_user ? "accounts" : "seed");

  // The CloudWatch-facing view of the registry (metrics/monitor.h): windows, EMF, alarms.
  metrics::MonitorSettings monitor_settings;
  monitor_settings.slow_query = cfg.slow_query;
  metrics::Monitor monitor(*registry, monitor_settings);
  http::Router router;
  store::Database* database = db->get();
  if (!cfg.metrics_enabled) {
    spdlog::warn("GET /metrics is off: production mode without --metrics-token");
  }
  // CloudWatch (issue 13): EMF lines written by a background flusher, and the seed's alarms
  // evaluated in-process on the series the EMF lines carry. Each reads what the series did since
  // its own previous read.
  // Each reader holds its own cursor: the flusher and the alarms each see every interval once.
  auto emf_cursor = std::make_shared<metrics::Cursor>();
  auto alarm_cursor = std::make_shared<metrics::Cursor>();
  const auto emf_collect = [&monitor, emf_cursor] { return monitor.Collect(*emf_cursor); };
  const auto alarm_collect = [&monitor, alarm_cursor] { return monitor.Collect(*alarm_cursor); };
  std::unique_ptr<metrics::EmfFlusher> emf;
  if (!cfg.emf_output.empty()) {
    auto sink = metrics::OpenEmfSink(cfg.emf_output);
    if (!sink.ok()) {
      return ConfigError(InvalidArgumentError("--emf-output: " + sink.status().message()));
    }
    metrics::EmfFlusherSettings emf_settings;
    emf_settings.interval = cfg.emf_interval;
    emf = std::make_unique<metrics::EmfFlusher>(emf_settings, emf_collect, std::move(*sink),
                                                SystemClock(), *registry);
  }
  auto alarms = metrics::AlarmSet::Create(ServerAlarms(cfg), SystemClock().Now(), *registry);
  if (!alarms.ok()) return RuntimeError("create alarms", alarms.status());
  metrics::AlarmScheduler alarm_scheduler(**alarms, alarm_collect, SystemClock());
  end_phase("monitoring");

  // Every database call of the API is timed for the dashboard's query percentiles.
  store::TimedDatabase timed_database(database, monitor);

  // The cache: in-process, or in-process L1 in front of Redis L2 (never fails a request: a Redis
  // fault degrades to L1 and the database, see cache/redis/redis_cache.h).
  cache::MemoryCacheSettings memory_settings{.max_bytes = cfg.cache_memory_bytes,
                                             .registry = registry.get()};
  StatusOr<cache::CachePtr> cache_backend = [&]() -> StatusOr<cache::CachePtr> {
    if (!cfg.redis) return cache::NewMemoryCache(memory_settings);
    cache::RedisCacheSettings redis = *cfg.redis;
    redis.registry = registry.get();
    return cache::NewTieredRedisCache(memory_settings, redis);
  }();
  if (!cache_backend.ok()) return RuntimeError("create cache", cache_backend.status());
  cache::CacheAside cache_aside(**cache_backend, {.registry = registry.get()});
  const bool caching = cfg.cache_url != "none";
  domain::ReadCache read_cache(caching ? &cache_aside : nullptr, cache::TtlSettings{},
                               &timed_database);
  end_phase("cache");

  metrics::ColdStartReporter cold_start(
      monitor, database->dialect() == store::Dialect::kSqlite ? "sqlite" : "postgres");
  auto api = Api::Create(
      {.domain = cfg.domain,
       .compression = cfg.compression,
       .trusted_proxies = cfg.trusted_proxies,
       .max_queued_hashes = cfg.max_queued_hashes,
       .payments_simulator = cfg.payments_simulator,
       .system = {.metrics_token = cfg.metrics_token, .metrics_enabled = cfg.metrics_enabled}},
      {.db = timed_database,
       .clock = SystemClock(),
       .registry = *registry,
       .monitor = monitor,
       .read_cache = read_cache,
       .cache = caching ? std::optional<std::reference_wrapper<const cache::Cache>>(**cache_backend)
                        : std::nullopt,
       .service_info = {.version = kVersion,
                        .store_backend = std::string(store::DialectName(database->dialect())),
                        .cache_backend = cfg.redis ? "redis" : cfg.cache_url,
                        .cold_start = [&cold_start] { return cold_start.Report(); },
                        .alarms = [&alarm_set = **alarms] { return alarm_set.Statuses(); },
                        .database_timed_globally = true}},
      router);
  if (!api.ok()) return RuntimeError("register routes", api.status());
  AdoptApiSeries(monitor, api::MonitoredFunctionsOf(router));
  std::vector<std::string> tiers;
  for (const cache::TierStats& t : (**cache_backend).Stats().tiers) tiers.push_back(t.tier);
  AdoptCacheSeries(monitor, tiers);
  AddProcessLevels(monitor, *database);
  end_phase("routes");

  http::ServerSettings settings;
  settings.host = cfg.listen.host;
  settings.port = cfg.listen.port;
  settings.io_threads = cfg.threads;
  // SQLite calls are short and run inline; a PostgreSQL round trip goes to the blocking pool.
  settings.blocking_threads = cfg.store_is_sqlite ? 0 : cfg.db_pool_size;
  settings.request_deadline = cfg.request_deadline;
  // Without a cache every read needs the database: trying it on the I/O thread first is waste.
  settings.try_inline = caching;
  settings.access_log = cfg.access_log;
  settings.compression = cfg.compression;
  settings.max_connections = cfg.max_connections;
  settings.max_connections_per_address = cfg.max_connections_per_address;
  // A proxy's connections carry many clients; the proxy limits them, not this cap.
  settings.per_address_exempt = cfg.trusted_proxies;
  settings.first_byte_timeout = cfg.first_byte_timeout;
  // Cold start = exec -> listening + the first request's own service time (architecture.md).
  metrics::Gauge& first_request_phase = metrics::StartupPhaseGauge(*registry, "first_request");
  settings.on_first_request = [&cold_start, &first_request_phase](const http::FirstRequest& r) {
    cold_start.OnFirstRequest(r.first_byte, r.last_byte_written);
    const auto served =
        std::chrono::duration_cast<std::chrono::microseconds>(r.last_byte_written - r.first_byte);
    first_request_phase.Set(served.count());
    spdlog::debug("start-up: the first request took {:.1f} ms",
                  static_cast<double>(served.count()) / 1000.0);
  };
  // Every connection is a descriptor: a soft limit of 1 024 would cap the server silently.
  if (StatusOr<FileLimitPlan> files = RaiseOpenFileLimit(settings.max_connections); !files.ok()) {
    spdlog::warn("open-file limit left as it is: {}", files.status().message());
  } else {
    if (files->soft != files->before) {
      spdlog::info("open-file limit raised from {} to {}", files->before, files->soft);
    }
    if (files->warning) spdlog::warn("{}", *files->warning);
  }
  auto server = http::Server::Create(settings, router, api::MakeErrorRenderer(), *registry);
  if (!server.ok()) return RuntimeError("create server", server.status());
  Status started = (*server)->Start();
  if (!started.ok()) return RuntimeError("listen on " + config.listen, started);
  const auto listening = std::chrono::steady_clock::now();
  cold_start.MarkListening(listening);
  startup.End("listen", listening);
  startup.MarkListening();
  startup.Publish(*registry);
  spdlog::info("start-up: {}", startup.Summary());
  // Rolls the monitor's windows every 10 s on its own thread; joined at shutdown.
  metrics::MonitorTicker ticker(monitor);
  // Freed memory stays resident in the allocator's arenas otherwise (app/heap_trim.h).
  std::optional<HeapTrimmer> heap_trimmer;
  if (cfg.heap_trim_interval.count() > 0) heap_trimmer.emplace(cfg.heap_trim_interval, *registry);

  const std::string host = cfg.listen.host.find(':') != std::string::npos
                               ? "[" + cfg.listen.host + "]"
                               : cfg.listen.host;
  std::printf("hasivu listening on http://%s:%u (store: %s)\n", host.c_str(),
              unsigned((*server)->port()), store::DialectName((*db)->dialect()).data());
  if (!first_logins.empty()) std::printf("%s", first_logins.c_str());
  std::fflush(stdout);

  // Warm-up after the server listens, so readiness never waits for it.
  std::thread warm_up([&api, &cache_aside] {
    // Background priority, as the SQLite checkpointer: on a busy machine the warm-up (tens of
    // millions of instructions: a reader connection, OpenSSL's digest set-up, the time-zone
    // database, the reads themselves) must not compete with the first requests, which are
    // correct without it (a miss reads the store). Not SCHED_IDLE: starved while it holds a
    // cache shard's lock or a read snapshot, it would hold the requests waiting on them.
    const sched_param batch{};
    (void)pthread_setschedparam(pthread_self(), SCHED_BATCH, &batch);
    (void)setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 19);
    cache::WarmUpResult r = cache_aside.WarmUp((*api)->WarmUpItems());
    spdlog::info("cache warm-up: {} entries loaded, {} not available", r.loaded, r.failed);
  });

  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("received {}: shutting down gracefully", sig == SIGINT ? "SIGINT" : "SIGTERM");
  if (sig == SIGTERM && cfg.drain.count() > 0) {
    // Readiness fails first and the server goes on serving, so a load balancer takes it out
    // before connections are refused; a second signal ends the wait.
    (*api)->BeginDrain();
    (*server)->BeginDrain();
    spdlog::info(
        "draining: /readyz answers 503, answers close their connections; refusing new "
        "connections in {} ms",
        cfg.drain.count());
    timespec window{.tv_sec = static_cast<time_t>(cfg.drain.count() / 1000),
                    .tv_nsec = static_cast<long>(cfg.drain.count() % 1000) * 1000000L};
    while (sigtimedwait(&signals, nullptr, &window) < 0 && errno == EINTR) {
    }
  }
  (*server)->Stop();
  (*server)->Wait();
  warm_up.join();
  alarm_scheduler.Stop();
  // The last interval's lines, requests answered during shutdown included.
  if (emf) emf->Stop();
  ticker.Stop();
  spdlog::info("stopped");
  spdlog::shutdown();
  return 0;
}

int RunMigrate(const MigrateOptions& options) {
  auto url = ResolveStoreUrl(options.store, options.data_dir);
  if (!url.ok()) return ConfigError(url.status());
  auto db = OpenAndMigrate(*url, 2);
  if (!db.ok()) return RuntimeError("migrate", db.status());
  auto applied = store::ListMigrations(**db);
  if (!applied.ok()) return RuntimeError("list migrations", applied.status());
  for (const auto& m : *applied) {
    std::printf("%04d %s (applied %s)\n", int(m.version), m.name.c_str(), m.applied_at.c_str());
  }
  return 0;
}

int RunSeed(const SeedOptions& options) {
  auto url = ResolveStoreUrl(options.store, options.data_dir);
  if (!url.ok()) return ConfigError(url.status());
  auto db = OpenAndMigrate(*url, 4);
  if (!db.ok()) return RuntimeError("open store", db.status());
  const auto start = std::chrono::steady_clock::now();
  auto report = Seed(**db, options.size, options.seed);
  if (!report.ok()) return RuntimeError("seed", report.status());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!options.fixtures_out.empty()) {
    Status w = WriteFile(options.fixtures_out, seed::FixturesJson(*report));
    if (!w.ok()) return RuntimeError("write fixtures", w);
  }
  std::printf("seeded %s (seed %llu) in %.2f s: %s\n", options.size.c_str(),
              static_cast<unsigned long long>(options.seed), seconds,
              seed::SeedSummary(*report).c_str());
  return 0;
}

namespace {

// Reads the new admin's password: the whole file, or standard input up to its end (a terminal:
// one line, typed without echo). One trailing newline is not part of it.
StatusOr<std::string> ReadPassword(const std::string& file) {
  if (file != "-") return ReadSecretFile("--password-file", file);
  const bool terminal = isatty(STDIN_FILENO) == 1;
  termios saved{};
  // Restored only if it was read: writing back a zeroed termios would break the terminal.
  const bool echo_off = terminal && tcgetattr(STDIN_FILENO, &saved) == 0;
  if (terminal) std::fprintf(stderr, "password for the new admin: ");
  if (echo_off) {
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  std::string password;
  constexpr size_t kMaxBytes = 4096;
  for (int ch; (ch = std::fgetc(stdin)) != EOF;) {
    if (terminal && ch == '\n') break;
    password.push_back(static_cast<char>(ch));
    if (password.size() > kMaxBytes) break;
  }
  if (echo_off) tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
  if (terminal) std::fprintf(stderr, "\n");
  if (!password.empty() && password.back() == '\n') password.pop_back();
  if (!password.empty() && password.back() == '\r') password.pop_back();
  if (password.empty()) return InvalidArgumentError("no password on standard input");
  return password;
}

}  // namespace

int RunAdminCreate(const AdminCreateOptions& options) {
  auto url = ResolveStoreUrl(options.store, options.data_dir);
  if (!url.ok()) return ConfigError(url.status());
  if (options.email.empty()) return ConfigError(InvalidArgumentError("--email: required"));
  domain::PasswordSettings hashing;
  hashing.opslimit = options.argon2_opslimit;
  hashing.memlimit = static_cast<size_t>(options.argon2_memlimit_kib) * 1024;
  Status valid = domain::PasswordHasher::ValidateSettings(hashing);
  if (!valid.ok()) {
    return ConfigError(valid.WithContext("--argon2-opslimit/--argon2-memlimit-kib"));
  }
  auto password = ReadPassword(options.password_file);
  if (!password.ok()) return ConfigError(password.status());
  auto db = OpenAndMigrate(*url, 2);
  if (!db.ok()) return RuntimeError("open store", db.status());
  auto created = domain::CreateAdmin(**db,
                                     {.email = options.email,
                                      .password = std::move(*password),
                                      .first_name = options.first_name,
                                      .last_name = options.last_name},
                                     hashing, SystemClock());
  if (!created.ok()) {
    const Status& s = created.status();
    if (s.code() == StatusCode::kInvalidArgument && !s.details().empty()) {
      const FieldIssue& first = s.details().front();
      return ConfigError(InvalidArgumentError("admin create: " + first.field + ": " + first.issue));
    }
    if (s.code() == StatusCode::kAlreadyExists) {
      std::fprintf(stderr, "hasivu: error: admin create: %s is already an account\n",
                   options.email.c_str());
      return kExitRuntime;
    }
    return RuntimeError("admin create", s);
  }
  std::printf("created admin %s (id %s)\n", created->email.c_str(), created->id.c_str());
  return 0;
}

int RunEstimateCompression(const std::string& file) {
  constexpr size_t kMaxBytes = size_t{256} << 20;
  std::string body;
  std::FILE* in = file == "-" ? stdin : std::fopen(file.c_str(), "rb");
  if (in == nullptr) {
    return RuntimeError("read " + file, UnavailableError(std::strerror(errno)));
  }
  char buffer[65536];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), in)) > 0) {
    body.append(buffer, n);
    if (body.size() > kMaxBytes) break;
  }
  const bool failed = std::ferror(in) != 0;
  if (in != stdin) std::fclose(in);
  if (failed) return RuntimeError("read " + file, UnavailableError("read error"));
  if (body.size() > kMaxBytes) {
    return RuntimeError("read " + file, ResourceExhaustedError("larger than 256 MiB"));
  }
  std::printf("%s: %zu bytes; compress_us is the median of repeated runs on one core\n",
              file == "-" ? "stdin" : file.c_str(), body.size());
  std::printf("%s", compress::FormatEstimate(compress::EstimateAll(body)).c_str());
  return 0;
}

}  // namespace hasivu::app
