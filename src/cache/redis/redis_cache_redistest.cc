// The cache suite against a real Redis: HASIVU_TEST_REDIS_URL (e.g. redis://127.0.0.1:56379/0,
// from `scripts/services.sh start`); skipped when it is unset. Each test works under its own key
// prefix and removes it afterwards.
#include <hiredis/hiredis.h>

#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "cache/memory/memory_cache.h"
#include "cache/redis/redis_cache.h"
#include "cache/testing/cache_suite.h"
#include "cache/tiered_cache.h"

namespace hasivu::cache::testing {
namespace {

std::optional<RedisCacheSettings> TestRedis(const std::string& prefix) {
  const char* url = std::getenv("HASIVU_TEST_REDIS_URL");
  if (url == nullptr || *url == '\0') return std::nullopt;
  auto s = ParseRedisUrl(url);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  if (!s.ok()) return std::nullopt;
  s->key_prefix = prefix;
  s->ping_interval = std::chrono::milliseconds(100);
  // The suite checks semantics, not outages (redis_fault_redistest.cc does): with the 100 ms
  // default a loaded 2-core machine made the shared server miss a deadline, the breaker open
  // and its recovery invalidate everything mid-test (e.g. SingleFlightRunsTheLoaderOnce then
  // legitimately loaded 3 times).
  s->connect_timeout = std::chrono::seconds(1);
  s->command_timeout = std::chrono::seconds(1);
  // SingleFlightRunsTheLoaderOnce stamps from 100 threads at once: with the default 4
  // connections a thread that waited past the timeout for one got an invalid stamp and, by
  // design, a load of its own.
  s->pool_size = 32;
  s->generation_ttl = std::chrono::minutes(5);
  return *s;
}

CachePtr MakeRedis(const std::string& prefix) {
  auto s = TestRedis(prefix);
  if (!s) return nullptr;
  return std::move(NewRedisCache(*s).value());
}

CachePtr MakeTiered(const std::string& prefix) {
  auto s = TestRedis(prefix);
  if (!s) return nullptr;
  // L1 copies live a minute: any cross-process miss within a test comes from a message.
  return std::move(NewTieredRedisCache({}, *s, {.l1_ttl = std::chrono::seconds(60)}).value());
}

// Removes every key under `prefix` (SCAN + DEL), so test runs leave the shared server clean.
void Cleanup(const std::string& prefix) {
  auto s = TestRedis(prefix);
  if (!s) return;
  timeval tv{2, 0};
  redisContext* c = redisConnectWithTimeout(s->host.c_str(), s->port, tv);
  if (c == nullptr) return;
  if (c->err == 0) {
    if (s->db != 0) freeReplyObject(redisCommand(c, "SELECT %d", s->db));
    std::string cursor = "0";
    std::string match = prefix + "*";
    do {
      auto* r = static_cast<redisReply*>(redisCommand(c, "SCAN %s MATCH %b COUNT 1000",
                                                      cursor.c_str(), match.data(), match.size()));
      if (r == nullptr || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
        if (r) freeReplyObject(r);
        break;
      }
      cursor.assign(r->element[0]->str, r->element[0]->len);
      for (size_t i = 0; i < r->element[1]->elements; ++i) {
        const redisReply* k = r->element[1]->element[i];
        freeReplyObject(redisCommand(c, "DEL %b", k->str, k->len));
      }
      freeReplyObject(r);
    } while (cursor != "0");
  }
  redisFree(c);
}

constexpr const char* kUnset =
    "HASIVU_TEST_REDIS_URL is not set; run `export $(scripts/services.sh start)`";

INSTANTIATE_TEST_SUITE_P(
    Shared, CacheSuite,
    ::testing::Values(CacheFactory{"memory",
                                   [](const std::string&) {
                                     return std::move(NewMemoryCache({}).value());
                                   },
                                   nullptr, nullptr, ""},
                      CacheFactory{"redis", MakeRedis, MakeRedis, Cleanup, kUnset},
                      CacheFactory{"tiered", MakeTiered, MakeTiered, Cleanup, kUnset}),
    FactoryName);

// Runs one command on the test server as its default user; false when it fails.
bool AdminCommand(const RedisCacheSettings& s, const std::vector<std::string>& args) {
  timeval tv{2, 0};
  redisContext* c = redisConnectWithTimeout(s.host.c_str(), s.port, tv);
  if (c == nullptr) return false;
  bool ok = false;
  if (c->err == 0) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (const std::string& a : args) {
      argv.push_back(a.c_str());
      lens.push_back(a.size());
    }
    auto* r = static_cast<redisReply*>(
        redisCommandArgv(c, static_cast<int>(args.size()), argv.data(), lens.data()));
    ok = r != nullptr && r->type != REDIS_REPLY_ERROR;
    if (r != nullptr) freeReplyObject(r);
  }
  redisFree(c);
  return ok;
}

// hasivu_cache_redis_pool_connections{tier} counts the connections the pool opened (lazily: one
// per call running at once, at most pool_size).
TEST(RedisPoolGaugeTest, CountsTheConnectionsOpen) {
  const std::string prefix = "hasivu-pool-gauge-test-" + std::to_string(getpid()) + ":";
  auto s = TestRedis(prefix);
  if (!s) GTEST_SKIP() << kUnset;
  metrics::RegistryPtr registry = metrics::NewRegistry();
  s->registry = registry.get();
  s->subscribe = false;
  metrics::Gauge& open =
      registry->GetGauge("hasivu_cache_redis_pool_connections", "", {{"tier", s->tier}});
  {
    CachePtr cache = std::move(NewRedisCache(*s).value());
    EXPECT_TRUE(cache->Set(prefix + "k", "v", std::chrono::seconds(30)).ok());
    ASSERT_TRUE(cache->Get(prefix + "k").ok());
    // One call at a time (and the PING thread's): one or two connections, never more.
    EXPECT_GE(open.Value(), 1);
    EXPECT_LE(open.Value(), 2);
  }
  Cleanup(prefix);
}

// redis://user:password@host:port/db logs in as that ACL user (AUTH user password); the
// password alone would be checked against the default user and refused.
TEST(RedisAclTest, ConnectsAsTheUserOfTheUrl) {
  const std::string prefix = "hasivu-acl-test-" + std::to_string(getpid()) + ":";
  auto admin = TestRedis(prefix);
  if (!admin) GTEST_SKIP() << kUnset;
  const std::string user = "hasivu-acl-test-" + std::to_string(getpid());
  const std::string password = "p@ss:w/rd-" + std::to_string(getpid());
  // The permissions docs/operations.md (Cache) lists, and no more.
  std::vector<std::string> acl = {"ACL",
                                  "SETUSER",
                                  user,
                                  "reset",
                                  "on",
                                  ">" + password,
                                  "~" + prefix + "*",
                                  "&" + prefix + "inval"};
  for (const char* command :
       {"get", "mget", "set", "incr", "pexpire", "pttl", "unlink", "del", "sadd", "smembers",
        "scan", "eval", "publish", "subscribe", "ping", "select"}) {
    acl.push_back(std::string("+") + command);
  }
  ASSERT_TRUE(AdminCommand(*admin, acl));
  struct DropUser {
    const RedisCacheSettings& admin;
    const std::string& user;
    ~DropUser() { EXPECT_TRUE(AdminCommand(admin, {"ACL", "DELUSER", user})); }
  } drop_user{*admin, user};
  const std::string base = "redis://" + user + ":p%40ss%3Aw%2Frd-" + std::to_string(getpid()) +
                           "@" + admin->host + ":" + std::to_string(admin->port) + "/" +
                           std::to_string(admin->db);
  auto parsed = ParseRedisUrl(base);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->username, user);
  EXPECT_EQ(parsed->password, password);
  RedisCacheSettings s = *admin;
  s.username = parsed->username;
  s.password = parsed->password;
  {
    CachePtr cache = std::move(NewRedisCache(s).value());
    EXPECT_TRUE(cache->Set(prefix + "k", "v", std::chrono::seconds(30)).ok());
    auto got = cache->Get(prefix + "k");
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    ASSERT_TRUE(got->has_value());
    EXPECT_EQ(*(*got)->value, "v");
    EXPECT_TRUE(cache->InvalidateTags({prefix + "tag"}).ok());
    auto removed = cache->InvalidatePattern(prefix + "*");
    EXPECT_TRUE(removed.ok()) << removed.status().ToString();
    EXPECT_TRUE(cache->Health().ok) << cache->Health().detail;
  }
  s.password = "wrong";
  s.subscribe = false;
  {
    CachePtr cache = std::move(NewRedisCache(s).value());
    EXPECT_EQ(cache->Get(prefix + "k").status().code(), StatusCode::kUnavailable);
  }
  Cleanup(prefix);
}

}  // namespace
}  // namespace hasivu::cache::testing
