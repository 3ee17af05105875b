#include "domain/login_throttle.h"

#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <string>
#include <thread>
#include <vector>

namespace hasivu::domain {
namespace {

using std::chrono::seconds;

ThrottleTime T(int64_t s) { return ThrottleTime(seconds(1'800'000'000 + s)); }

TEST(LoginThrottleTest, FiveEmailFailuresBlockForTheRestOfTheWindow) {
  LoginThrottle throttle(ThrottleLimits{});
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(throttle.RetryAfter("a@x.test", "10.0.0.1", T(i * 10)), seconds(0)) << i;
    throttle.RecordFailure("a@x.test", "10.0.0.1", T(i * 10));
  }
  // The first failure (t=0) leaves the 15-minute window at t=900.
  EXPECT_EQ(throttle.RetryAfter("a@x.test", "10.0.0.2", T(41)), seconds(900 - 41));
  EXPECT_EQ(throttle.RetryAfter("a@x.test", "10.0.0.2", T(899)), seconds(1));
  EXPECT_EQ(throttle.RetryAfter("a@x.test", "10.0.0.2", T(900)), seconds(0));
  // Other emails are not affected.
  EXPECT_EQ(throttle.RetryAfter("b@x.test", "10.0.0.2", T(41)), seconds(0));
}

TEST(LoginThrottleTest, RetryAfterRoundsUpPartialSeconds) {
  LoginThrottle throttle(ThrottleLimits{.max_failures_per_email = 1});
  throttle.RecordFailure("a@x.test", "", T(0));
  EXPECT_EQ(throttle.RetryAfter("a@x.test", "", T(0) + std::chrono::milliseconds(200)),
            seconds(900));
}

TEST(LoginThrottleTest, SuccessClearsTheEmailButNotTheAddress) {
  LoginThrottle throttle(
      ThrottleLimits{.max_failures_per_email = 2, .max_failures_per_address = 3});
  throttle.RecordFailure("a@x.test", "10.0.0.1", T(0));
  throttle.RecordFailure("a@x.test", "10.0.0.1", T(1));
  EXPECT_GT(throttle.RetryAfter("a@x.test", "", T(2)).count(), 0);
  throttle.RecordSuccess("a@x.test");
  EXPECT_EQ(throttle.RetryAfter("a@x.test", "", T(2)), seconds(0));
  throttle.RecordFailure("c@x.test", "10.0.0.1", T(3));
  // Three failures from the address within a minute: blocked until t=60 whatever the email.
  EXPECT_EQ(throttle.RetryAfter("new@x.test", "10.0.0.1", T(4)), seconds(56));
  EXPECT_EQ(throttle.RetryAfter("new@x.test", "10.0.0.9", T(4)), seconds(0));
}

TEST(LoginThrottleTest, AddressLimitIsThirtyAMinuteSliding) {
  LoginThrottle throttle(ThrottleLimits{});
  for (int i = 0; i < 30; ++i) {
    throttle.RecordFailure("user" + std::to_string(i) + "@x.test", "10.0.0.1", T(i));
  }
  EXPECT_EQ(throttle.RetryAfter("fresh@x.test", "10.0.0.1", T(30)), seconds(30));
  // At t=60 the t=0 failure has left the window: 29 remain, one more try is allowed.
  EXPECT_EQ(throttle.RetryAfter("fresh@x.test", "10.0.0.1", T(60)), seconds(0));
}

TEST(LoginThrottleTest, OldFailuresSlideOut) {
  LoginThrottle throttle(ThrottleLimits{});
  for (int i = 0; i < 4; ++i) throttle.RecordFailure("a@x.test", "", T(i));
  // The fifth failure comes after the first four left the window: not blocked.
  throttle.RecordFailure("a@x.test", "", T(1000));
  EXPECT_EQ(throttle.RetryAfter("a@x.test", "", T(1001)), seconds(0));
}

TEST(SlidingWindowCounterTest, MemoryStaysBoundedAndStaleKeysAreEvicted) {
  SlidingWindowCounter counter(5, seconds(60), /*max_keys_per_shard=*/8);
  for (int i = 0; i < 10'000; ++i) counter.Record("k" + std::to_string(i), T(i));
  EXPECT_LE(counter.KeysForTest(), 16u * 8u);
  // A key that is being hammered right now survives the eviction of stale ones.
  SlidingWindowCounter c2(2, seconds(60), 4);
  c2.Record("hot", T(100));
  c2.Record("hot", T(100));
  for (int i = 0; i < 200; ++i) c2.Record("old" + std::to_string(i), T(0));
  c2.Record("newcomer", T(101));
  EXPECT_GT(c2.RetryAfter("hot", T(101)).count(), 0);
}

// Issue 19 review: fresh keys (new emails, new /64s) must not flush a key that is locked out.
TEST(SlidingWindowCounterTest, ABlockedKeySurvivesAFloodOfFreshKeys) {
  SlidingWindowCounter counter(2, seconds(900), /*max_keys_per_shard=*/4);
  counter.Record("victim", T(0));
  counter.Record("victim", T(0));
  ASSERT_GT(counter.RetryAfter("victim", T(1)).count(), 0);
  for (int i = 0; i < 2000; ++i) counter.Record("spray" + std::to_string(i), T(1 + i % 100));
  EXPECT_GT(counter.RetryAfter("victim", T(200)).count(), 0);
  // Memory stays bounded: only keys at their limit may sit beyond the per-shard bound.
  EXPECT_LE(counter.KeysForTest(), 16u * 4u + 1u);
}

TEST(SlidingWindowCounterTest, KeepsOnlyTheNewestMaxInstantsPerKey) {
  SlidingWindowCounter counter(3, seconds(60));
  for (int i = 0; i < 1000; ++i) counter.Record("k", T(0));
  EXPECT_EQ(counter.RetryAfter("k", T(10)), seconds(50));
  counter.Clear("k");
  EXPECT_EQ(counter.RetryAfter("k", T(10)), seconds(0));
  EXPECT_EQ(counter.KeysForTest(), 0u);
}

// Threads that all reach the throttle at once: the old check-then-record let every one of them
// pass the check before any failure was recorded.
int ConcurrentPasses(LoginThrottle& throttle, int threads, bool same_email) {
  std::barrier start(threads);
  std::atomic<int> passed{0};
  std::vector<std::thread> workers;
  for (int i = 0; i < threads; ++i) {
    workers.emplace_back([&, i] {
      const std::string email = same_email ? "a@x.test" : "u" + std::to_string(i) + "@x.test";
      start.arrive_and_wait();
      if (throttle.TryAcquire(email, "10.0.0.1", T(0)) == seconds(0)) passed.fetch_add(1);
    });
  }
  for (std::thread& t : workers) t.join();
  return passed.load();
}

TEST(LoginThrottleTest, ConcurrentAttemptsGetNoMoreThanTheLimitThrough) {
  for (int round = 0; round < 20; ++round) {
    LoginThrottle by_email(ThrottleLimits{});
    EXPECT_EQ(ConcurrentPasses(by_email, 48, /*same_email=*/true), 5) << round;
    LoginThrottle by_address(ThrottleLimits{.max_failures_per_address = 7});
    EXPECT_EQ(ConcurrentPasses(by_address, 48, /*same_email=*/false), 7) << round;
  }
}

TEST(LoginThrottleTest, AnAcquiredAttemptCountsUntilItSucceeds) {
  LoginThrottle throttle(
      ThrottleLimits{.max_failures_per_email = 2, .max_failures_per_address = 2});
  EXPECT_EQ(throttle.TryAcquire("a@x.test", "10.0.0.1", T(0)), seconds(0));
  EXPECT_EQ(throttle.TryAcquire("a@x.test", "10.0.0.1", T(1)), seconds(0));
  // Both attempts are in flight (or failed): a third waits for the first to leave the window.
  EXPECT_EQ(throttle.TryAcquire("a@x.test", "10.0.0.2", T(2)), seconds(900 - 2));
  EXPECT_EQ(throttle.TryAcquire("b@x.test", "10.0.0.1", T(2)), seconds(60 - 2));
  // A refusal by the address took nothing from b@x.test.
  EXPECT_EQ(throttle.RetryAfter("b@x.test", "", T(2)), seconds(0));
  // The second attempt succeeded: the email is cleared and the address gets its slot back.
  throttle.RecordSuccess("a@x.test", "10.0.0.1", T(1));
  EXPECT_EQ(throttle.RetryAfter("a@x.test", "", T(3)), seconds(0));
  EXPECT_EQ(throttle.TryAcquire("c@x.test", "10.0.0.1", T(3)), seconds(0));
  EXPECT_EQ(throttle.TryAcquire("d@x.test", "10.0.0.1", T(4)), seconds(60 - 4));
  // A cancelled attempt gives back both.
  throttle.Cancel("c@x.test", "10.0.0.1", T(3));
  EXPECT_EQ(throttle.TryAcquire("d@x.test", "10.0.0.1", T(5)), seconds(0));
}

TEST(LoginThrottleTest, Ipv6AddressesCountByTheirSlash64AndMappedV4AsV4) {
  LoginThrottle throttle(ThrottleLimits{.max_failures_per_address = 3});
  throttle.RecordFailure("a@x.test", "2001:db8:1:2::1", T(0));
  throttle.RecordFailure("b@x.test", "2001:db8:1:2::2", T(0));
  throttle.RecordFailure("c@x.test", "2001:db8:1:2:abcd:ef01:2345:6789", T(0));
  EXPECT_EQ(throttle.RetryAfter("new@x.test", "2001:db8:1:2:ffff::9", T(1)), seconds(59));
  EXPECT_EQ(throttle.RetryAfter("new@x.test", "2001:db8:1:3::1", T(1)), seconds(0));

  throttle.RecordFailure("a@x.test", "::ffff:192.0.2.1", T(0));
  throttle.RecordFailure("b@x.test", "192.0.2.1", T(0));
  throttle.RecordFailure("c@x.test", "::FFFF:192.0.2.1", T(0));
  EXPECT_EQ(throttle.RetryAfter("new@x.test", "192.0.2.1", T(1)), seconds(59));
  EXPECT_EQ(throttle.RetryAfter("new@x.test", "192.0.2.2", T(1)), seconds(0));
}

TEST(LoginThrottleTest, KeysAreBoundedDigests) {
  const std::string huge(65536, 'a');
  EXPECT_EQ(EmailThrottleKey(huge).size(), 16u);
  EXPECT_NE(EmailThrottleKey(huge), EmailThrottleKey(huge + "b"));
  EXPECT_EQ(AddressThrottleKey("2001:db8::1"), AddressThrottleKey("2001:db8::2"));
  LoginThrottle throttle(ThrottleLimits{.max_failures_per_email = 1});
  throttle.RecordFailure(huge, "", T(0));
  EXPECT_GT(throttle.RetryAfter(huge, "", T(1)).count(), 0);
  EXPECT_EQ(throttle.RetryAfter(huge + "b", "", T(1)), seconds(0));
}

}  // namespace
}  // namespace hasivu::domain
