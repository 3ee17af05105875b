#include <gtest/gtest.h>
#include <signal.h>

#include "cache/redis/redis_cache.h"

namespace hasivu::cache {
namespace {

TEST(ParseRedisUrlTest, AcceptsTheForms) {
  auto a = ParseRedisUrl("redis://127.0.0.1:56379/0");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 56379);
  EXPECT_EQ(a->db, 0);
  auto b = ParseRedisUrl("redis://:s3cret@cache.internal/3");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->host, "cache.internal");
  EXPECT_EQ(b->port, 6379);
  EXPECT_EQ(b->db, 3);
  EXPECT_EQ(b->password, "s3cret");
  auto c = ParseRedisUrl("redis://[::1]:7000");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->host, "::1");
  EXPECT_EQ(c->port, 7000);
}

// The user of redis://user:password@host is an ACL user (AUTH user password), not dropped.
TEST(ParseRedisUrlTest, KeepsTheUserAndDecodesTheUserinfo) {
  auto a = ParseRedisUrl("redis://cache-app:s3cret@cache.internal:6380/2");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->username, "cache-app");
  EXPECT_EQ(a->password, "s3cret");
  EXPECT_EQ(a->host, "cache.internal");
  EXPECT_EQ(a->port, 6380);
  EXPECT_EQ(a->db, 2);
  auto b = ParseRedisUrl("redis://app%40corp:p%40ss%3Aw%2Frd@h");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->username, "app@corp");
  EXPECT_EQ(b->password, "p@ss:w/rd");
  auto c = ParseRedisUrl("redis://:only-password@h");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->username, "");
  EXPECT_EQ(c->password, "only-password");
  EXPECT_FALSE(ParseRedisUrl("redis://u:bad%4@h").ok());
  EXPECT_FALSE(ParseRedisUrl("redis://u:bad%zz@h").ok());
}

// This build cannot speak TLS to Redis: rediss:// is refused with that reason rather than
// connecting in the clear or failing as an unknown scheme.
TEST(ParseRedisUrlTest, RefusesTlsWithTheReason) {
  auto r = ParseRedisUrl("rediss://u:p@cache.internal:6380/0");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("TLS"), std::string::npos) << r.status().message();
}

TEST(ParseRedisUrlTest, RejectsJunkClearly) {
  for (const char* bad : {"", "memory", "http://x", "redis://", "redis://h:0", "redis://h:99999",
                          "redis://h:12ab", "redis://h/x", "redis://h/-1", "redis://[::1"}) {
    auto r = ParseRedisUrl(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(NewRedisCacheTest, RejectsBadSettings) {
  RedisCacheSettings s;
  s.pool_size = 0;
  EXPECT_EQ(NewRedisCache(s).status().code(), StatusCode::kInvalidArgument);
  s = {};
  s.command_timeout = std::chrono::milliseconds(0);
  EXPECT_EQ(NewRedisCache(s).status().code(), StatusCode::kInvalidArgument);
  s = {};
  s.max_backoff = std::chrono::milliseconds(1);
  EXPECT_EQ(NewRedisCache(s).status().code(), StatusCode::kInvalidArgument);
}

// Nothing listens on the port: every call fails fast with a Status, never hangs or throws, and
// the breaker opens.
TEST(NewRedisCacheTest, UnreachableServerFailsWithStatusAndOpensTheBreaker) {
  RedisCacheSettings s;
  s.port = 1;  // privileged, closed on loopback
  s.breaker_failures = 2;
  s.ping_interval = std::chrono::milliseconds(50);
  s.subscribe = false;
  auto made = NewRedisCache(s);
  ASSERT_TRUE(made.ok());
  Cache& c = **made;
  for (int i = 0; i < 5; ++i) {
    auto r = c.Get("k");
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
    EXPECT_EQ(c.Set("k", "v", std::chrono::seconds(1)).code(), StatusCode::kUnavailable);
  }
  EXPECT_FALSE(c.Health().ok);
  EXPECT_NE(c.Health().detail.find("breaker"), std::string::npos) << c.Health().detail;
  EXPECT_GT(c.Stats().tiers[0].errors, 0u);
  // A reset connection must not kill the process.
  struct sigaction current {};
  ASSERT_EQ(sigaction(SIGPIPE, nullptr, &current), 0);
  EXPECT_EQ(current.sa_handler, SIG_IGN);
}

}  // namespace
}  // namespace hasivu::cache
