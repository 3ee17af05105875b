// Fault tests: each starts its OWN redis-server on a free loopback port (fork/exec, no
// persistence), stops, pauses (SIGSTOP: a black hole that keeps its data) and restarts it
// mid-test, and stops it by PID at the end. Label redis; skipped when HASIVU_TEST_REDIS_URL is
// unset, like the rest of the label. HASIVU_REDIS_SERVER overrides /usr/bin/redis-server.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "cache/cache_aside.h"
#include "cache/tiered_cache.h"
#include "metrics/metrics.h"

namespace hasivu::cache {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Steady = std::chrono::steady_clock;

template <typename Pred>
bool Eventually(Pred pred, milliseconds limit) {
  auto deadline = Steady::now() + limit;
  while (!pred()) {
    if (Steady::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return true;
}

int FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  int port = -1;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

bool Pings(int port) {
  timeval tv{0, 200000};
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port, tv);
  bool ok = false;
  if (c != nullptr && c->err == 0) {
    redisSetTimeout(c, tv);
    auto* r = static_cast<redisReply*>(redisCommand(c, "PING"));
    ok = r != nullptr && r->type == REDIS_REPLY_STATUS;
    if (r) freeReplyObject(r);
  }
  if (c) redisFree(c);
  return ok;
}

// A redis-server child of this test process.
class OwnRedis {
 public:
  explicit OwnRedis(int port) : port_(port) {}
  ~OwnRedis() { Stop(); }

  bool Start() {
    const char* bin = std::getenv("HASIVU_REDIS_SERVER");
    std::string server = bin != nullptr ? bin : "/usr/bin/redis-server";
    std::string port = std::to_string(port_);
    pid_ = fork();
    if (pid_ == 0) {
      // Dies with the test even if the test is killed before its destructor runs.
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      // Its start-up chatter would drown the test output.
      int devnull = open("/dev/null", O_WRONLY);
      if (devnull >= 0) {
        dup2(devnull, STDOUT_FILENO);
        dup2(devnull, STDERR_FILENO);
      }
      execl(server.c_str(), server.c_str(), "--port", port.c_str(), "--bind", "127.0.0.1", "--save",
            "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning", "--dir", "/tmp",
            static_cast<char*>(nullptr));
      _exit(127);
    }
    if (pid_ < 0) return false;
    return Eventually([&] { return Pings(port_); }, seconds(10));
  }
  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGCONT);
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  void Pause() { kill(pid_, SIGSTOP); }
  void Resume() { kill(pid_, SIGCONT); }
  int port() const { return port_; }

 private:
  int port_;
  pid_t pid_ = -1;
};

class RedisFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::getenv("HASIVU_TEST_REDIS_URL") == nullptr) {
      GTEST_SKIP() << "HASIVU_TEST_REDIS_URL is not set (label redis)";
    }
    int port = FreeLoopbackPort();
    ASSERT_GT(port, 0);
    redis_ = std::make_unique<OwnRedis>(port);
    ASSERT_TRUE(redis_->Start()) << "redis-server did not start on 127.0.0.1:" << port;
  }

  // `tune`, when given, changes the settings before the cache is made.
  CachePtr MakeTiered(metrics::Registry* registry,
                      const std::function<void(RedisCacheSettings&)>& tune = nullptr) {
    RedisCacheSettings s;
    s.port = redis_->port();
    s.key_prefix = "fault:";
    s.connect_timeout = milliseconds(100);
    s.command_timeout = milliseconds(100);
    s.breaker_failures = 2;
    s.breaker_cooldown = milliseconds(100);
    s.max_backoff = milliseconds(400);
    s.ping_interval = milliseconds(100);
    s.registry = registry;
    if (tune) tune(s);
    MemoryCacheSettings m;
    m.registry = registry;
    auto c = NewTieredRedisCache(m, s, {.l1_ttl = seconds(60)});
    EXPECT_TRUE(c.ok());
    CachePtr cache = std::move(c).value();
    EXPECT_TRUE(Eventually([&] { return cache->Health().subscribed; }, seconds(5)));
    return cache;
  }

  static uint64_t CounterValue(metrics::Registry& r, const char* name) {
    return r.GetCounter(name, "", {{"tier", "l2"}}).Value();
  }

  std::unique_ptr<OwnRedis> redis_;
};

// Database stand-in: versions per key, the version last invalidated, and checked reads.
struct Db {
  static constexpr int kKeys = 4;
  std::atomic<int> version[kKeys] = {};
  std::atomic<int> invalidated[kKeys] = {};
  static std::string Key(int i) { return "item:" + std::to_string(i); }
  static Tags TagsOf(int i) { return {"item:" + std::to_string(i)}; }

  // One read through `aside`; false (with a failure recorded) if it failed, hung or was stale.
  bool Read(CacheAside& aside, int i) {
    int floor = invalidated[i].load();
    auto start = Steady::now();
    auto r = aside.GetOrLoad(Key(i), seconds(300), TagsOf(i), [&]() -> StatusOr<std::string> {
      return std::to_string(version[i].load());
    });
    auto took = Steady::now() - start;
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    // Bounded by connect + command timeouts; 1 s only catches hangs, it is not a speed check.
    EXPECT_LT(took, seconds(1));
    if (!r.ok()) return false;
    EXPECT_GE(std::stoi(*r->value), floor) << "stale read of " << Key(i);
    return std::stoi(*r->value) >= floor && took < seconds(1);
  }
  bool Write(CacheAside& aside, int i) {
    int v = ++version[i];
    auto start = Steady::now();
    Status s = aside.InvalidateTags(TagsOf(i));
    EXPECT_TRUE(s.ok()) << s.ToString();
    EXPECT_LT(Steady::now() - start, seconds(1));
    invalidated[i] = v;
    return s.ok();
  }
  // Reads and writes for `d` on this thread.
  void Load(CacheAside& aside, milliseconds d) {
    auto end = Steady::now() + d;
    for (int n = 0; Steady::now() < end; ++n) {
      if (n % 5 == 0) {
        Write(aside, n % kKeys);
      } else {
        Read(aside, n % kKeys);
      }
    }
  }
};

TEST_F(RedisFaultTest, StopAndRestartKeepsServingAndNothingStaleAfterwards) {
  metrics::RegistryPtr ra = metrics::NewRegistry(), rb = metrics::NewRegistry();
  CachePtr a = MakeTiered(ra.get());
  CachePtr b = MakeTiered(rb.get());
  CacheAside aa(*a), ab(*b);
  Db db;
  for (int i = 0; i < Db::kKeys; ++i) {
    ASSERT_TRUE(db.Read(aa, i));
    ASSERT_TRUE(db.Read(ab, i));  // B's L1 holds them too
  }
  EXPECT_GT(b->Stats().tiers[1].hits, 0u) << "B should have read A's values from Redis";

  redis_->Stop();
  db.Load(aa, milliseconds(800));  // reads and writes keep succeeding, never stale in A
  EXPECT_TRUE(Eventually([&] { return !a->Health().ok; }, seconds(3)));
  EXPECT_NE(a->Health().detail.find("breaker"), std::string::npos) << a->Health().detail;
  EXPECT_GE(CounterValue(*ra, "hasivu_cache_redis_faults_total"), 1u);
  db.Load(aa, milliseconds(300));  // breaker open: served from L1 and the loader

  ASSERT_TRUE(redis_->Start());
  ASSERT_TRUE(Eventually([&] { return a->Health().ok && a->Health().subscribed; }, seconds(5)))
      << a->Health().detail;
  ASSERT_TRUE(Eventually([&] { return b->Health().ok && b->Health().subscribed; }, seconds(5)))
      << b->Health().detail;
  EXPECT_GE(CounterValue(*ra, "hasivu_cache_redis_recoveries_total"), 1u);
  // B missed A's invalidations while Redis was gone; after it returns B must not serve them.
  for (int i = 0; i < Db::kKeys; ++i) {
    EXPECT_TRUE(db.Read(ab, i));
    EXPECT_TRUE(db.Read(aa, i));
  }
  // Redis is used again: A stores, B finds it in Redis.
  uint64_t b_l2_hits = b->Stats().tiers[1].hits;
  ASSERT_TRUE(a->Set("after", "x", seconds(60)).ok());
  auto got = b->Get("after");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ(*(*got)->value, "x");
  EXPECT_EQ(b->Stats().tiers[1].hits, b_l2_hits + 1);
}

TEST_F(RedisFaultTest, BlackHoledRedisTimesOutTripsAndComesBackWithoutStaleValues) {
  metrics::RegistryPtr ra = metrics::NewRegistry(), rb = metrics::NewRegistry();
  CachePtr a = MakeTiered(ra.get());
  CachePtr b = MakeTiered(rb.get());
  CacheAside aa(*a), ab(*b);
  Db db;
  for (int i = 0; i < Db::kKeys; ++i) {
    ASSERT_TRUE(db.Read(aa, i));
    ASSERT_TRUE(db.Read(ab, i));
  }

  redis_->Pause();  // keeps its data: the old values stay in Redis
  // A write whose invalidation cannot reach Redis: this process must still see it at once.
  ASSERT_TRUE(db.Write(aa, 0));
  ASSERT_TRUE(db.Read(aa, 0));
  db.Load(aa, milliseconds(500));
  EXPECT_TRUE(Eventually([&] { return !a->Health().ok; }, seconds(3)));
  EXPECT_EQ(CounterValue(*ra, "hasivu_cache_redis_faults_total"), 1u) << "one fault, one count";
  EXPECT_TRUE(Eventually([&] { return !b->Health().ok; }, seconds(3)));

  redis_->Resume();
  ASSERT_TRUE(Eventually([&] { return a->Health().ok && a->Health().subscribed; }, seconds(5)))
      << a->Health().detail;
  ASSERT_TRUE(Eventually([&] { return b->Health().ok && b->Health().subscribed; }, seconds(5)))
      << b->Health().detail;
  EXPECT_EQ(CounterValue(*ra, "hasivu_cache_redis_faults_total"), 1u);
  EXPECT_EQ(CounterValue(*ra, "hasivu_cache_redis_recoveries_total"), 1u);
  // A started a new epoch: the values Redis kept from before the missed invalidations are
  // unreachable. B learns it from the message or its next PING (100 ms here).
  for (int i = 0; i < Db::kKeys; ++i) EXPECT_TRUE(db.Read(aa, i));
  EXPECT_TRUE(Eventually(
      [&] {
        auto r = b->Get(Db::Key(0));
        return r.ok() && (!r->has_value() || *(*r)->value == std::to_string(db.version[0].load()));
      },
      seconds(2)));
  for (int n = 0; n < 20; ++n) {
    for (int i = 0; i < Db::kKeys; ++i) EXPECT_TRUE(db.Read(ab, i));
  }
}

// A missed invalidation is not only the writer's problem: when Redis comes back, whichever
// process notices first must not use the values Redis kept. Here B recovers long before A, the
// process whose invalidation could not be sent.
TEST_F(RedisFaultTest, AProcessBackBeforeTheOneThatMissedAnInvalidationServesNothingStale) {
  metrics::RegistryPtr ra = metrics::NewRegistry(), rb = metrics::NewRegistry();
  // A probes again only 2-4 s after its breaker opens; B within 100 ms.
  CachePtr a = MakeTiered(ra.get(), [](RedisCacheSettings& s) {
    s.breaker_cooldown = milliseconds(4000);
    s.max_backoff = milliseconds(4000);
  });
  CachePtr b = MakeTiered(rb.get());
  CacheAside aa(*a), ab(*b);
  Db db;
  ASSERT_TRUE(db.Read(aa, 0));
  ASSERT_TRUE(db.Read(ab, 0));  // in Redis and in B's L1

  redis_->Pause();
  // A's reads time out until its breaker opens; B's PINGs open B's.
  ASSERT_TRUE(Eventually(
      [&] {
        db.Read(aa, 1);
        return !a->Health().ok;
      },
      seconds(5)));
  ASSERT_TRUE(Eventually([&] { return !b->Health().ok; }, seconds(5)));
  // With A's breaker open the invalidation is not even sent: Redis keeps the old value.
  ASSERT_TRUE(db.Write(aa, 0));
  redis_->Resume();
  ASSERT_TRUE(Eventually([&] { return b->Health().ok; }, seconds(3))) << b->Health().detail;
  ASSERT_FALSE(a->Health().ok) << "A recovered too early for this test";
  for (int n = 0; n < 5; ++n) EXPECT_TRUE(db.Read(ab, 0));
  ASSERT_TRUE(Eventually([&] { return b->Health().subscribed; }, seconds(3)));
  for (int n = 0; n < 5; ++n) EXPECT_TRUE(db.Read(ab, 0));
  ASSERT_TRUE(Eventually([&] { return a->Health().ok; }, seconds(8))) << a->Health().detail;
  EXPECT_TRUE(db.Read(aa, 0));
  EXPECT_TRUE(db.Read(ab, 0));
}

// The "everything invalidated" message a recovering process publishes with its new epoch must
// move the other processes to that epoch, not only empty their L1: B here never saw the outage
// (its breaker would need 1000 failures) and PINGs too rarely to notice the epoch itself.
TEST_F(RedisFaultTest, TheNewEpochMessageMovesAProcessThatNeverSawTheOutage) {
  metrics::RegistryPtr ra = metrics::NewRegistry(), rb = metrics::NewRegistry();
  CachePtr a = MakeTiered(ra.get());
  CachePtr b = MakeTiered(rb.get(), [](RedisCacheSettings& s) {
    s.breaker_failures = 1000;
    s.ping_interval = std::chrono::minutes(10);
  });
  CacheAside aa(*a), ab(*b);
  Db db;
  ASSERT_TRUE(db.Read(aa, 0));
  ASSERT_TRUE(db.Read(ab, 0));
  ASSERT_TRUE(db.Read(ab, 0));

  redis_->Pause();
  ASSERT_TRUE(Eventually(
      [&] {
        db.Read(aa, 1);
        return !a->Health().ok;
      },
      seconds(5)));
  ASSERT_TRUE(db.Write(aa, 0));  // not sent: A's breaker is open
  redis_->Resume();
  ASSERT_TRUE(Eventually([&] { return a->Health().ok; }, seconds(5))) << a->Health().detail;
  EXPECT_TRUE(b->Health().ok) << "B was not meant to open";
  // A's message reaches B's subscriber asynchronously; from then on B must not find the old
  // value in Redis (nor, as before, in its L1).
  const std::string fresh = std::to_string(db.version[0].load());
  EXPECT_TRUE(Eventually(
      [&] {
        auto r = b->Get(Db::Key(0));
        return r.ok() && (!r->has_value() || *(*r)->value == fresh);
      },
      seconds(3)))
      << "B still reads the value Redis kept from before the missed invalidation";
  for (int n = 0; n < 5; ++n) EXPECT_TRUE(db.Read(ab, 0));
}

// Redis stays up but drops the subscriber connections: invalidations published before the
// resubscription are lost to B, so B must neither serve from L1 meanwhile nor keep the old L1.
TEST_F(RedisFaultTest, LostSubscriptionNeverLeavesStaleL1Copies) {
  metrics::RegistryPtr ra = metrics::NewRegistry(), rb = metrics::NewRegistry();
  CachePtr a = MakeTiered(ra.get());
  CachePtr b = MakeTiered(rb.get());
  CacheAside aa(*a), ab(*b);
  Db db;
  ASSERT_TRUE(db.Read(ab, 0));  // in B's L1 (and Redis)
  ASSERT_TRUE(db.Read(ab, 0));
  uint64_t b_lost = CounterValue(*rb, "hasivu_cache_redis_subscriptions_lost_total");

  timeval tv{1, 0};
  redisContext* admin = redisConnectWithTimeout("127.0.0.1", redis_->port(), tv);
  ASSERT_TRUE(admin != nullptr && admin->err == 0);
  auto* killed = static_cast<redisReply*>(redisCommand(admin, "CLIENT KILL TYPE pubsub"));
  ASSERT_NE(killed, nullptr);
  EXPECT_EQ(killed->type, REDIS_REPLY_INTEGER);
  EXPECT_GE(killed->integer, 2);
  freeReplyObject(killed);
  redisFree(admin);
  // Cross-process invalidation is asynchronous (tiered_cache.h): B learns of the drop when the
  // close reaches its subscriber thread, as it would learn of a message, and may serve its L1
  // until then. Publishing before that would test a guarantee the cache does not give.
  ASSERT_TRUE(Eventually(
      [&] { return CounterValue(*rb, "hasivu_cache_redis_subscriptions_lost_total") > b_lost; },
      seconds(5)));
  // Published while B is not subscribed (it waits >= 50 ms before resubscribing): B never hears
  // of it, so it must bypass its L1 now and clear it when it resubscribes.
  ASSERT_TRUE(db.Write(aa, 0));
  ASSERT_TRUE(db.Read(ab, 0));
  ASSERT_TRUE(Eventually([&] { return b->Health().subscribed; }, seconds(5)));
  for (int n = 0; n < 10; ++n) EXPECT_TRUE(db.Read(ab, 0));
  EXPECT_TRUE(a->Health().ok);
  EXPECT_EQ(CounterValue(*rb, "hasivu_cache_redis_faults_total"), 0u);
}

}  // namespace
}  // namespace hasivu::cache
