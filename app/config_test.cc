#include "app/config.h"

#include <stdlib.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "common/ids.h"

namespace hasivu::app {
namespace {

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(InitCrypto().ok()); }
};

TEST_F(ConfigTest, ListenParsing) {
  auto a = ParseListen("127.0.0.1:8080");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 8080);
  auto b = ParseListen("[::1]:0");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(b->port, 0);
  EXPECT_EQ(ParseListen("localhost:65535")->port, 65535);
  for (const char* bad : {"", "8080", ":8080", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:80x",
                          "127.0.0.1:-1", "::1:80", "[::1]80", "host name:80", "a;rm:80"}) {
    auto r = ParseListen(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().message().find('\n'), std::string::npos);
    EXPECT_EQ(r.status().message().rfind("--listen", 0), 0u) << r.status().message();
  }
}

TEST_F(ConfigTest, DefaultsResolve) {
  Config c;
  auto r = Resolve(c, 4);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->listen.host, "127.0.0.1");
  EXPECT_EQ(r->listen.port, 8080);
  EXPECT_EQ(r->store_url, "sqlite:./data/hasivu.db");
  EXPECT_TRUE(r->store_is_sqlite);
  EXPECT_EQ(r->cache_url, "memory");
  EXPECT_EQ(r->threads, 4);
  EXPECT_EQ(r->mode, Mode::kDevelopment);
  EXPECT_TRUE(r->jwt_secret_generated);
  EXPECT_GE(r->jwt_secret.size(), 32u);
}

TEST_F(ConfigTest, StoreUrls) {
  Config c;
  c.store = "postgresql://hasivu@127.0.0.1:5432/hasivu";
  auto r = Resolve(c, 2);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->store_is_sqlite);
  c.store = "sqlite:/tmp/x.db";
  EXPECT_EQ(Resolve(c, 2)->store_url, "sqlite:/tmp/x.db");
  c.data_dir = "/var/lib/hasivu";
  c.store = "";
  EXPECT_EQ(Resolve(c, 2)->store_url, "sqlite:/var/lib/hasivu/hasivu.db");
  for (const char* bad : {"mysql://x", "sqlite:", "file.db"}) {
    c.store = bad;
    auto e = Resolve(c, 2);
    EXPECT_FALSE(e.ok()) << bad;
    EXPECT_EQ(e.status().message().rfind("--store", 0), 0u);
  }
}

TEST_F(ConfigTest, InvalidValuesNameTheirFlag) {
  struct Case {
    void (*mutate)(Config&);
    const char* flag;
  } cases[] = {
      {[](Config& c) { c.cache = "memcached://x"; }, "--cache"},
      {[](Config& c) { c.cache = "redis://host:notaport/0"; }, "--cache"},
      {[](Config& c) {
         c.cache = "redis://127.0.0.1:6379/0";
         c.cache_prefix = "a*b";
       },
       "--cache-prefix"},
      {[](Config& c) { c.cache_memory_mb = 0; }, "--cache-memory-mb"},
      {[](Config& c) { c.threads = -1; }, "--threads"},
      {[](Config& c) { c.threads = 100000; }, "--threads"},
      {[](Config& c) { c.mode = "staging"; }, "--mode"},
      {[](Config& c) { c.log_level = "verbose"; }, "--log-level"},
      {[](Config& c) { c.jwt_secret = "short"; }, "--jwt-secret"},
      {[](Config& c) { c.db_pool_size = 0; }, "--db-pool-size"},
      {[](Config& c) { c.emf_interval_seconds = 0; }, "--emf-interval"},
      {[](Config& c) { c.emf_interval_seconds = 3601; }, "--emf-interval"},
      {[](Config& c) { c.slow_query_ms = 0; }, "--slow-query-ms"},
      {[](Config& c) { c.slow_query_ms = 60001; }, "--slow-query-ms"},
      {[](Config& c) { c.alarms.period_seconds = 45; }, "--alarm-period"},
      {[](Config& c) { c.alarms.period_seconds = 0; }, "--alarm-period"},
      {[](Config& c) { c.alarms.period_seconds = 86400; }, "--alarm-period"},  // 5 x period > 1 day
      {[](Config& c) { c.alarms.cold_start_ms = 0; }, "--alarm-cold-start-ms"},
      {[](Config& c) { c.alarms.db_p95_ms = -5; }, "--alarm-db-p95-ms"},
      {[](Config& c) { c.alarms.api_p95_ms = std::nan(""); }, "--alarm-api-p95-ms"},
      {[](Config& c) { c.alarms.cache_hit_rate = 101; }, "--alarm-cache-hit-rate"},
      {[](Config& c) { c.alarms.error_rate = -0.1; }, "--alarm-5xx-rate"},
      {[](Config& c) { c.alarms.datapoints = "3"; }, "--alarm-datapoints"},
      {[](Config& c) { c.alarms.datapoints = "4/3"; }, "--alarm-datapoints"},
      {[](Config& c) { c.alarms.datapoints = "0/3"; }, "--alarm-datapoints"},
      {[](Config& c) { c.alarms.datapoints = "1/x"; }, "--alarm-datapoints"},
      {[](Config& c) { c.alarms.datapoints = " 1/3"; }, "--alarm-datapoints"},
      // N x period over a day: 10 of 10 periods of 3 hours.
      {[](Config& c) {
         c.alarms.period_seconds = 3 * 3600;
         c.alarms.datapoints = "10/10";
       },
       "--alarm-period/--alarm-datapoints"},
  };
  for (const Case& k : cases) {
    Config c;
    k.mutate(c);
    auto r = Resolve(c, 2);
    ASSERT_FALSE(r.ok()) << k.flag;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message().rfind(k.flag, 0), 0u) << r.status().message();
  }
}

TEST_F(ConfigTest, EmfAndAlarmFlags) {
  Config c;
  auto defaults = Resolve(c, 2);
  ASSERT_TRUE(defaults.ok()) << defaults.status().ToString();
  EXPECT_EQ(defaults->emf_output, "");  // off unless asked for
  EXPECT_EQ(defaults->emf_interval, std::chrono::seconds(60));
  EXPECT_EQ(defaults->alarms.api_p95.period_seconds, 60);
  EXPECT_EQ(defaults->alarms.cold_start.threshold, 1000);
  EXPECT_EQ(defaults->slow_query, std::chrono::milliseconds(100));  // the seed's 100 ms
  c.slow_query_ms = 250;
  EXPECT_EQ(Resolve(c, 2)->slow_query, std::chrono::milliseconds(250));
  c.emf_output = "-";
  c.emf_interval_seconds = 1;
  c.alarms.period_seconds = 10;
  auto set = Resolve(c, 2);
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ(set->emf_output, "-");
  EXPECT_EQ(set->emf_interval, std::chrono::seconds(1));
  EXPECT_EQ(set->alarms.api_p95.period_seconds, 10);
  EXPECT_EQ(set->alarms.cold_start.period_seconds, 10);
  c.alarms.period_seconds = 300;
  EXPECT_EQ(Resolve(c, 2)->alarms.database_p95.period_seconds, 300);
}

TEST_F(ConfigTest, AlarmFlagDefaultsAreTheSeedsAlarms) {
  auto r = ResolveAlarmFlags(AlarmFlags{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const metrics::DefaultAlarmSettings seed;
  for (auto [got, want] :
       {std::pair{&r->cold_start, &seed.cold_start},
        std::pair{&r->database_p95, &seed.database_p95},
        std::pair{&r->cache_hit_rate, &seed.cache_hit_rate}, std::pair{&r->api_p95, &seed.api_p95},
        std::pair{&r->error_rate, &seed.error_rate}}) {
    EXPECT_EQ(got->threshold, want->threshold);
    EXPECT_EQ(got->period_seconds, want->period_seconds);
    EXPECT_EQ(got->evaluation_periods, want->evaluation_periods);
    EXPECT_EQ(got->datapoints_to_alarm, want->datapoints_to_alarm);
    EXPECT_EQ(got->treat_missing_data, want->treat_missing_data);
  }
}

TEST_F(ConfigTest, EachAlarmsThresholdAndMOfN) {
  Config c;
  c.alarms = {.period_seconds = 300,
              .cold_start_ms = 2500,
              .db_p95_ms = 40,
              .cache_hit_rate = 85.5,
              .api_p95_ms = 200,
              .error_rate = 1,
              .datapoints = "2/4"};
  auto r = Resolve(c, 2);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const metrics::DefaultAlarmSettings& a = r->alarms;
  EXPECT_EQ(a.cold_start.threshold, 2500);
  EXPECT_EQ(a.database_p95.threshold, 40);
  EXPECT_EQ(a.cache_hit_rate.threshold, 85.5);
  EXPECT_EQ(a.api_p95.threshold, 200);
  EXPECT_EQ(a.error_rate.threshold, 1);
  for (const metrics::AlarmRule* rule :
       {&a.database_p95, &a.cache_hit_rate, &a.api_p95, &a.error_rate}) {
    EXPECT_EQ(rule->period_seconds, 300);
    EXPECT_EQ(rule->datapoints_to_alarm, 2);
    EXPECT_EQ(rule->evaluation_periods, 4);
  }
  // A process reports its cold start once: that alarm stays 1 of 1.
  EXPECT_EQ(a.cold_start.period_seconds, 300);
  EXPECT_EQ(a.cold_start.datapoints_to_alarm, 1);
  EXPECT_EQ(a.cold_start.evaluation_periods, 1);
  // The edges of the ranges are accepted.
  c.alarms.cache_hit_rate = 0;
  c.alarms.error_rate = 100;
  c.alarms.datapoints = "1/1";
  EXPECT_TRUE(Resolve(c, 2).ok());
  c.alarms.period_seconds = 3600;
  c.alarms.datapoints = "24/24";  // exactly a day
  EXPECT_TRUE(Resolve(c, 2).ok());
}

// The flags as `serve` registers them (main.cc calls AddAlarmFlags), from the command line and
// from their HASIVU_* variables; a flag wins over its variable.
TEST_F(ConfigTest, AlarmFlagsAndTheirEnvironmentVariables) {
  struct Env {
    const char* name;
    const char* value;
  };
  const Env env[] = {{"HASIVU_ALARM_PERIOD", "120"},     {"HASIVU_ALARM_COLD_START_MS", "1500"},
                     {"HASIVU_ALARM_DB_P95_MS", "80"},   {"HASIVU_ALARM_CACHE_HIT_RATE", "60"},
                     {"HASIVU_ALARM_API_P95_MS", "250"}, {"HASIVU_ALARM_5XX_RATE", "0.5"},
                     {"HASIVU_ALARM_DATAPOINTS", "4/6"}};
  for (const Env& e : env) ASSERT_EQ(setenv(e.name, e.value, 1), 0);
  auto parse = [](std::vector<std::string> args) {
    CLI::App app;
    Config c;
    AddAlarmFlags(app, c.alarms);
    std::reverse(args.begin(), args.end());  // CLI11 takes them last first
    app.parse(args);
    return c.alarms;
  };
  const AlarmFlags from_env = parse({});
  EXPECT_EQ(from_env.period_seconds, 120);
  EXPECT_EQ(from_env.cold_start_ms, 1500);
  EXPECT_EQ(from_env.db_p95_ms, 80);
  EXPECT_EQ(from_env.cache_hit_rate, 60);
  EXPECT_EQ(from_env.api_p95_ms, 250);
  EXPECT_EQ(from_env.error_rate, 0.5);
  EXPECT_EQ(from_env.datapoints, "4/6");
  const AlarmFlags from_flags =
      parse({"--alarm-db-p95-ms", "90", "--alarm-datapoints=2/3", "--alarm-5xx-rate", "2"});
  EXPECT_EQ(from_flags.db_p95_ms, 90);
  EXPECT_EQ(from_flags.datapoints, "2/3");
  EXPECT_EQ(from_flags.error_rate, 2);
  EXPECT_EQ(from_flags.api_p95_ms, 250);  // still from the environment
  for (const Env& e : env) unsetenv(e.name);
  const AlarmFlags defaults = parse({});
  EXPECT_EQ(defaults.period_seconds, 60);
  EXPECT_EQ(defaults.datapoints, "3/5");
  EXPECT_EQ(defaults.cache_hit_rate, 70);
}

TEST_F(ConfigTest, TlsRedisIsRefusedWithTheReason) {
  Config c;
  c.cache = "rediss://cache.internal:6380/0";
  auto r = Resolve(c, 2);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().rfind("--cache", 0), 0u) << r.status().message();
  EXPECT_NE(r.status().message().find("TLS"), std::string::npos) << r.status().message();
}

TEST_F(ConfigTest, CacheFlags) {
  Config c;
  auto memory = Resolve(c, 2);
  ASSERT_TRUE(memory.ok()) << memory.status().ToString();
  EXPECT_FALSE(memory->redis.has_value());
  EXPECT_EQ(memory->cache_memory_bytes, size_t{64} << 20);
  c.cache = "none";
  auto none = Resolve(c, 2);
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_EQ(none->cache_url, "none");
  EXPECT_FALSE(none->redis.has_value());
  c.cache = "redis://:s3cret@10.0.0.5:6380/2";
  c.cache_prefix = "school-a:";
  c.cache_memory_mb = 16;
  auto redis = Resolve(c, 2);
  ASSERT_TRUE(redis.ok()) << redis.status().ToString();
  ASSERT_TRUE(redis->redis.has_value());
  EXPECT_EQ(redis->redis->host, "10.0.0.5");
  EXPECT_EQ(redis->redis->port, 6380);
  EXPECT_EQ(redis->redis->db, 2);
  EXPECT_EQ(redis->redis->password, "s3cret");
  EXPECT_EQ(redis->redis->key_prefix, "school-a:");
  EXPECT_EQ(redis->cache_memory_bytes, size_t{16} << 20);
}

TEST_F(ConfigTest, CompressionFlags) {
  Config c;
  auto defaults = Resolve(c, 2);
  ASSERT_TRUE(defaults.ok()) << defaults.status().ToString();
  EXPECT_TRUE(defaults->compression.enabled);
  EXPECT_EQ(defaults->compression.min_bytes, 1024u);
  EXPECT_EQ(defaults->compression.codecs, compress::EncodingSet::All());
  EXPECT_EQ(defaults->compression.brotli_level, compress::kDefaultBrotliLevel);
  EXPECT_EQ(defaults->compression.brotli_level_per_request,
            compress::kDefaultBrotliLevelPerRequest);

  c.compression = false;
  c.compression_min_bytes = 0;
  c.compression_codecs = "gzip, zstd";
  c.compression_brotli_level = 11;
  c.compression_brotli_request_level = 3;
  c.compression_zstd_level = 19;
  c.compression_gzip_level = 1;
  auto r = Resolve(c, 2);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->compression.enabled);
  EXPECT_EQ(r->compression.min_bytes, 0u);
  EXPECT_FALSE(r->compression.codecs.Has(compress::Encoding::kBrotli));
  EXPECT_TRUE(r->compression.codecs.Has(compress::Encoding::kZstd));
  EXPECT_EQ(r->compression.brotli_level, 11);
  EXPECT_EQ(r->compression.brotli_level_per_request, 3);
  EXPECT_EQ(r->compression.zstd_level, 19);
  EXPECT_EQ(r->compression.gzip_level, 1);

  auto expect_bad = [](Config bad, const std::string& flag) {
    auto result = Resolve(bad, 2);
    ASSERT_FALSE(result.ok()) << flag;
    EXPECT_EQ(result.status().message().rfind(flag, 0), 0u) << result.status().message();
  };
  Config bad;
  bad.compression_min_bytes = -1;
  expect_bad(bad, "--compression-min-bytes");
  bad = Config();
  bad.compression_codecs = "br,deflate";
  expect_bad(bad, "--compression-codecs");
  bad.compression_codecs = "";
  expect_bad(bad, "--compression-codecs");
  bad = Config();
  bad.compression_brotli_level = 12;
  expect_bad(bad, "--compression-brotli-level");
  bad = Config();
  bad.compression_brotli_request_level = 12;
  expect_bad(bad, "--compression-brotli-request-level");
  bad = Config();
  bad.compression_zstd_level = 0;
  expect_bad(bad, "--compression-zstd-level");
  bad = Config();
  bad.compression_gzip_level = 10;
  expect_bad(bad, "--compression-gzip-level");
}

TEST_F(ConfigTest, ProductionRequiresASecret) {
  Config c;
  c.mode = "production";
  c.gateway = "razorpay";
  c.razorpay_key_id = "rzp_live_school1";
  c.razorpay_key_secret = "ks";
  c.razorpay_webhook_secret = "ws";
  EXPECT_FALSE(Resolve(c, 2).ok());
  c.jwt_secret = std::string(32, 'k');
  auto r = Resolve(c, 2);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->jwt_secret_generated);
  EXPECT_EQ(r->jwt_secret, std::string(32, 'k'));
}

}  // namespace
}  // namespace hasivu::app

namespace hasivu::app {
namespace {

TEST_F(ConfigTest, GatewayAndPasswordCost) {
  Config c;
  auto r = Resolve(c, 2);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->domain.payments.gateway, domain::GatewayKind::kSimulated);
  EXPECT_FALSE(r->domain.payments.key_secret.empty());  // generated for the simulated gateway
  EXPECT_EQ(r->domain.auth.jwt_secret, r->jwt_secret);
  EXPECT_EQ(r->domain.auth.password.memlimit, size_t{65536} * 1024);

  c.gateway = "paypal";
  EXPECT_EQ(Resolve(c, 2).status().message().rfind("--gateway", 0), 0u);
  c.gateway = "razorpay";
  EXPECT_FALSE(Resolve(c, 2).ok());  // secrets missing
  c.razorpay_key_secret = "ks";
  c.razorpay_webhook_secret = "ws";
  ASSERT_TRUE(Resolve(c, 2).ok());
  c.razorpay_base_url = "http://api.razorpay.com";  // plain http off loopback
  EXPECT_FALSE(Resolve(c, 2).ok());
  c.razorpay_base_url = "http://127.0.0.1:9999";
  EXPECT_TRUE(Resolve(c, 2).ok());

  Config ttl;
  ttl.payment_order_ttl_seconds = 0;
  EXPECT_EQ(Resolve(ttl, 2).status().message().rfind("--payment-order-ttl", 0), 0u);
  ttl.payment_order_ttl_seconds = 5;
  EXPECT_EQ(Resolve(ttl, 2)->domain.payments.payment_order_ttl, std::chrono::seconds(5));

  Config weak;
  weak.argon2_memlimit_kib = 1;  // below libsodium's minimum
  EXPECT_FALSE(Resolve(weak, 2).ok());
}

}  // namespace
}  // namespace hasivu::app

namespace hasivu::app {
namespace {

namespace fs = std::filesystem;

// Issue 19: with the simulated gateway, POST /payments/simulate hands anyone a valid signature.
TEST_F(ConfigTest, ProductionRefusesTheSimulatedGatewayUnlessAllowed) {
  Config c;
  c.mode = "production";
  c.jwt_secret = std::string(32, 'k');
  auto refused = Resolve(c, 2);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().message().rfind("--gateway simulated: refused in production", 0), 0u)
      << refused.status().message();
  EXPECT_NE(refused.status().message().find("--allow-simulated-payments"), std::string::npos);
  EXPECT_EQ(refused.status().message().find('\n'), std::string::npos);

  c.allow_simulated_payments = true;
  auto staging = Resolve(c, 2);
  ASSERT_TRUE(staging.ok()) << staging.status().ToString();
  EXPECT_TRUE(staging->simulated_payments_in_production);
  EXPECT_FALSE(staging->payments_simulator);  // never routed in production
  ASSERT_FALSE(staging->warnings.empty());
  EXPECT_NE(staging->warnings.front().find("SIMULATED"), std::string::npos);

  c.allow_simulated_payments = false;
  c.gateway = "razorpay";
  c.razorpay_key_secret = "ks";
  c.razorpay_webhook_secret = "ws";
  // The built-in key id is development's placeholder: production needs the account's own.
  auto placeholder = Resolve(c, 2);
  ASSERT_FALSE(placeholder.ok());
  EXPECT_EQ(placeholder.status().message().rfind("--razorpay-key-id: production needs", 0), 0u);
  c.razorpay_key_id = "rzp_live_school1";
  auto real = Resolve(c, 2);
  ASSERT_TRUE(real.ok()) << real.status().ToString();
  EXPECT_FALSE(real->simulated_payments_in_production);
  EXPECT_FALSE(real->payments_simulator);

  Config dev;
  auto development = Resolve(dev, 2);
  ASSERT_TRUE(development.ok());
  EXPECT_TRUE(development->payments_simulator);
  EXPECT_FALSE(development->simulated_payments_in_production);
  dev.gateway = "razorpay";
  dev.razorpay_key_secret = "ks";
  dev.razorpay_webhook_secret = "ws";
  EXPECT_FALSE(Resolve(dev, 2)->payments_simulator);
}

class SecretFileTest : public ConfigTest {
 protected:
  void SetUp() override {
    ConfigTest::SetUp();
    dir_ = fs::temp_directory_path() /
           ("hasivu-config-test-" + std::to_string(::getpid()) + "-" + RandomHex(4));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& content) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  fs::path dir_;
};

TEST_F(SecretFileTest, SecretsComeFromFilesWithoutTheTrailingNewline) {
  const std::string jwt = std::string(40, 'j');
  Config c;
  c.mode = "production";
  c.gateway = "razorpay";
  c.razorpay_key_id = "rzp_live_school1";
  c.jwt_secret_file = Write("jwt", jwt + "\n");
  c.razorpay_key_secret_file = Write("key", "key-secret\r\n");
  c.razorpay_webhook_secret_file = Write("hook", "webhook-secret");
  auto r = Resolve(c, 2);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->jwt_secret, jwt);
  EXPECT_EQ(r->domain.auth.jwt_secret, jwt);
  EXPECT_EQ(r->domain.payments.key_secret, "key-secret");
  EXPECT_EQ(r->domain.payments.webhook_secret, "webhook-secret");

  // A short secret in a file is refused like a short flag.
  c.jwt_secret_file = Write("short", "short\n");
  EXPECT_EQ(Resolve(c, 2).status().message().rfind("--jwt-secret: must be at least 32", 0), 0u);
}

TEST_F(SecretFileTest, BadSecretFilesAreOneLineErrorsThatNeverShowTheSecret) {
  Config both;
  both.jwt_secret = std::string(32, 's');
  both.jwt_secret_file = Write("jwt", std::string(32, 'f'));
  auto r = Resolve(both, 2);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().rfind("--jwt-secret and --jwt-secret-file", 0), 0u);

  Config missing;
  missing.jwt_secret_file = (dir_ / "absent").string();
  r = Resolve(missing, 2);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().rfind("--jwt-secret-file: cannot read", 0), 0u);

  Config empty;
  empty.razorpay_key_secret_file = Write("empty", "\n");
  r = Resolve(empty, 2);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().rfind("--razorpay-key-secret-file:", 0), 0u);

  Config wrong;
  const std::string secret = "do-not-print-me-0123456789abcdef-xyz";
  wrong.gateway = "paypal";
  wrong.jwt_secret_file = Write("jwt2", secret);
  r = Resolve(wrong, 2);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().find(secret), std::string::npos);
}

TEST_F(ConfigTest, SecretsGivenOnTheCommandLineAreWarnedAbout) {
  Config c;
  c.jwt_secret = std::string(32, 'k');
  auto quiet = Resolve(c, 2);
  ASSERT_TRUE(quiet.ok());
  EXPECT_TRUE(quiet->warnings.empty());
  c.secrets_on_command_line = {"--jwt-secret", "--monitoring-token"};
  auto r = Resolve(c, 2);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->warnings.size(), 2u);
  EXPECT_EQ(r->warnings[0].rfind("--jwt-secret given on the command line", 0), 0u);
  EXPECT_EQ(r->warnings[1].rfind("--monitoring-token given on the command line", 0), 0u);
}

TEST_F(ConfigTest, MonitoringTokenHasAMinimumLength) {
  Config c;
  c.monitoring_token = std::string(kMinMonitoringTokenBytes - 1, 't');
  auto r = Resolve(c, 2);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().rfind("--monitoring-token: must be at least 32 bytes", 0), 0u);
  c.monitoring_token = std::string(kMinMonitoringTokenBytes, 't');
  r = Resolve(c, 2);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->domain.monitoring.monitoring_token, c.monitoring_token);
}

TEST_F(ConfigTest, ThrottlingAndHashQueueFlags) {
  auto defaults = Resolve(Config{}, 2);
  ASSERT_TRUE(defaults.ok()) << defaults.status().ToString();
  EXPECT_TRUE(defaults->trusted_proxies.empty());
  EXPECT_EQ(defaults->max_queued_hashes, 8);
  EXPECT_EQ(defaults->domain.auth.max_registrations_per_address, 10);

  Config c;
  c.trusted_proxies = "10.0.0.0/8, ::1";
  c.max_queued_hashes = 3;
  c.register_limit = 500;
  auto r = Resolve(c, 2);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->trusted_proxies.size(), 2u);
  EXPECT_TRUE(InAnyRange(r->trusted_proxies, *ParseIpAddress("10.1.2.3")));
  EXPECT_EQ(r->max_queued_hashes, 3);
  EXPECT_EQ(r->domain.auth.max_registrations_per_address, 500);

  Config bad_proxy;
  bad_proxy.trusted_proxies = "10.0.0.0/8,proxy.internal";
  EXPECT_EQ(Resolve(bad_proxy, 2).status().message().rfind("--trusted-proxies: ", 0), 0u);
  Config bad_queue;
  bad_queue.max_queued_hashes = 0;
  EXPECT_EQ(Resolve(bad_queue, 2).status().message(), "--max-queued-hashes: must be 1 to 10000");
  Config bad_limit;
  bad_limit.register_limit = 0;
  EXPECT_EQ(Resolve(bad_limit, 2).status().message(), "--register-limit: must be 1 to 1000000");
}

}  // namespace
}  // namespace hasivu::app

// HTTP connection limits and the metrics token (issue 19).
namespace hasivu::app {
namespace {

TEST_F(ConfigTest, HttpConnectionLimits) {
  Config c;
  auto r = Resolve(c, 2);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->max_connections, 10000);
  EXPECT_EQ(r->max_connections_per_address, 256);
  EXPECT_EQ(r->first_byte_timeout, std::chrono::milliseconds(10000));
  c.max_connections = 20000;
  r = Resolve(c, 2);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->max_connections, 20000);
  for (int bad : {0, -5, 1000001}) {
    Config b;
    b.max_connections = bad;
    const Status s = Resolve(b, 2).status();
    EXPECT_EQ(s.message().rfind("--max-connections:", 0), 0u) << s.message();
  }

  c.max_connections_per_address = 0;  // no cap, for a server behind a load balancer
  c.first_byte_timeout_ms = 2500;
  r = Resolve(c, 2);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->max_connections_per_address, 0);
  EXPECT_EQ(r->first_byte_timeout, std::chrono::milliseconds(2500));

  for (int bad : {-1, 1000001}) {
    Config b;
    b.max_connections_per_address = bad;
    const Status s = Resolve(b, 2).status();
    EXPECT_EQ(s.message().rfind("--max-connections-per-address:", 0), 0u) << s.message();
    EXPECT_EQ(s.message().find('\n'), std::string::npos);
  }
  for (int bad : {0, 99, 600001}) {
    Config b;
    b.first_byte_timeout_ms = bad;
    const Status s = Resolve(b, 2).status();
    EXPECT_EQ(s.message().rfind("--first-byte-timeout-ms:", 0), 0u) << s.message();
  }
}

TEST_F(ConfigTest, DrainWindowDefaultsToNoneAndIsBounded) {
  Config c;
  auto r = Resolve(c, 2);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->drain, std::chrono::milliseconds(0));
  c.drain_ms = 5000;
  r = Resolve(c, 2);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->drain, std::chrono::milliseconds(5000));
  for (int bad : {-1, 300001}) {
    Config b;
    b.drain_ms = bad;
    const Status s = Resolve(b, 2).status();
    EXPECT_EQ(s.message().rfind("--drain-ms:", 0), 0u) << s.message();
  }
}

TEST_F(ConfigTest, RequestDeadlineDefaultsToFiveSecondsAndIsBounded) {
  Config c;
  auto r = Resolve(c, 2);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->request_deadline, std::chrono::milliseconds(5000));
  for (int good : {0, 100, 600000}) {
    c.request_deadline_ms = good;
    r = Resolve(c, 2);
    ASSERT_TRUE(r.ok()) << good << ": " << r.status().ToString();
    EXPECT_EQ(r->request_deadline, std::chrono::milliseconds(good));
  }
  for (int bad : {-1, 1, 99, 600001}) {
    Config b;
    b.request_deadline_ms = bad;
    const Status s = Resolve(b, 2).status();
    EXPECT_EQ(s.message().rfind("--request-deadline-ms:", 0), 0u) << s.message();
  }
}

TEST_F(ConfigTest, HeapTrimIntervalDefaultsToTenSecondsAndIsBounded) {
  Config c;
  auto r = Resolve(c, 2);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->heap_trim_interval, std::chrono::milliseconds(10000));
  for (int good : {0, 100, 3600000}) {
    c.heap_trim_interval_ms = good;
    r = Resolve(c, 2);
    ASSERT_TRUE(r.ok()) << good << ": " << r.status().ToString();
    EXPECT_EQ(r->heap_trim_interval, std::chrono::milliseconds(good));
  }
  for (int bad : {-1, 1, 99, 3600001}) {
    Config b;
    b.heap_trim_interval_ms = bad;
    const Status s = Resolve(b, 2).status();
    EXPECT_EQ(s.message().rfind("--heap-trim-interval-ms:", 0), 0u) << s.message();
  }
}

TEST_F(ConfigTest, MetricsTokenAndProductionDefault) {
  Config c;
  auto r = Resolve(c, 2);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->metrics_enabled);  // development: open
  EXPECT_EQ(r->metrics_token, "");

  c.mode = "production";
  c.jwt_secret = std::string(32, 'j');
  c.allow_simulated_payments = true;
  r = Resolve(c, 2);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->metrics_enabled);  // production without a token: off, never public

  c.metrics_token = "scrape-token-0123456789-0123456789";
  r = Resolve(c, 2);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->metrics_enabled);
  EXPECT_EQ(r->metrics_token, "scrape-token-0123456789-0123456789");

  for (const std::string& bad :
       {std::string("short"), std::string(31, 'x'),
        std::string("has a space in it, long enough ok"), std::string(513, 'x'),
        std::string("tab\there-0123456789-0123456789-0123")}) {
    Config b;
    b.metrics_token = bad;
    const Status s = Resolve(b, 2).status();
    EXPECT_EQ(s.message().rfind("--metrics-token:", 0), 0u) << bad;
    EXPECT_EQ(s.message().find(bad), std::string::npos);  // the token is never echoed
  }
}

TEST_F(SecretFileTest, MetricsTokenFromAFile) {
  const std::string token = "scrape-token-from-a-file-0123456789";
  Config c;
  c.metrics_token_file = Write("metrics", token + "\n");
  auto r = Resolve(c, 2);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->metrics_token, token);
  c.metrics_token = token;  // both
  EXPECT_EQ(Resolve(c, 2).status().message().rfind("--metrics-token and --metrics-token-file", 0),
            0u);
  Config short_file;
  short_file.metrics_token_file = Write("short", "short\n");
  EXPECT_EQ(Resolve(short_file, 2).status().message().rfind("--metrics-token: must be 32", 0), 0u);
}

}  // namespace
}  // namespace hasivu::app
