#include "common/retry.h"

#include <gtest/gtest.h>

#include <vector>

namespace hasivu {
namespace {

using std::chrono::milliseconds;

struct Recorder {
  std::vector<milliseconds> waits;
  RetryHooks Hooks(double fraction = 0.5) {
    RetryHooks h;
    h.sleep = [this](milliseconds w) { waits.push_back(w); };
    h.random_fraction = [fraction] { return fraction; };
    return h;
  }
};

bool Transient(const Status& s) { return s.code() == StatusCode::kUnavailable; }

TEST(RetryTest, RetriesTransientFailuresWithDoublingBackoffUntilSuccess) {
  Recorder r;
  std::vector<int> calls;
  StatusOr<int> v = Retry<int>(
      {.max_attempts = 5, .initial_backoff = milliseconds(100)},
      [&](int n) -> StatusOr<int> {
        calls.push_back(n);
        if (n < 3) return UnavailableError("down");
        return 42;
      },
      Transient, r.Hooks());
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, 42);
  EXPECT_EQ(calls, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(r.waits,
            (std::vector<milliseconds>{milliseconds(100), milliseconds(200), milliseconds(400)}));
}

TEST(RetryTest, StopsAtAFailureNotWorthRetryingAndWhenAttemptsRunOut) {
  Recorder r;
  int calls = 0;
  Status s = RetryStatus(
      {.max_attempts = 5},
      [&](int) {
        ++calls;
        return InvalidArgumentError("bad");
      },
      Transient, r.Hooks());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(calls, 1);

  calls = 0;
  s = RetryStatus(
      {.max_attempts = 3},
      [&](int n) {
        ++calls;
        return UnavailableError("down " + std::to_string(n));
      },
      Transient, r.Hooks());
  EXPECT_EQ(s.message(), "down 2");  // the last result
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(
      RetryStatus(
          {.max_attempts = 0}, [&](int) { return UnavailableError("x"); }, Transient, r.Hooks())
          .code(),
      StatusCode::kUnavailable);  // at least one attempt
}

TEST(RetryTest, BackoffIsCappedAndJitterOnlyShortensTheWait) {
  const RetryPolicy p{.initial_backoff = milliseconds(100), .max_backoff = milliseconds(300)};
  EXPECT_EQ(RetryBackoff(p, 0), milliseconds(100));
  EXPECT_EQ(RetryBackoff(p, 1), milliseconds(200));
  EXPECT_EQ(RetryBackoff(p, 2), milliseconds(300));
  EXPECT_EQ(RetryBackoff(p, 40), milliseconds(300));

  Recorder r;
  (void)RetryStatus(
      {.max_attempts = 2, .initial_backoff = milliseconds(1000), .jitter = 0.5},
      [](int) { return UnavailableError("down"); }, Transient, r.Hooks(0.5));
  ASSERT_EQ(r.waits.size(), 1u);
  EXPECT_EQ(r.waits[0], milliseconds(750));  // 1000 * (1 - 0.5 * 0.5)
}

TEST(RetryTest, NoAttemptStartsPastTheDeadline) {
  Recorder r;
  auto now = std::chrono::steady_clock::time_point(std::chrono::seconds(1000));
  RetryHooks hooks = r.Hooks();
  hooks.now = [&now] { return now; };
  hooks.sleep = [&](milliseconds w) {
    r.waits.push_back(w);
    now += w;
  };
  int calls = 0;
  Status s = RetryStatus(
      {.max_attempts = 10,
       .initial_backoff = milliseconds(400),
       .deadline = now + milliseconds(1000)},
      [&](int) {
        ++calls;
        return UnavailableError("down");
      },
      Transient, hooks);
  // Waits of 400 and then 800 ms: the second would end past the deadline.
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(r.waits, (std::vector<milliseconds>{milliseconds(400)}));
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace hasivu
