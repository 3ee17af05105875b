#include "common/blocking.h"

#include <gtest/gtest.h>

#include <thread>

namespace hasivu {
namespace {

constexpr char kDatabase[] = "database";
constexpr char kCache[] = "cache";

TEST(BlockingTest, OutsideAnAttemptNothingIsRefused) {
  EXPECT_FALSE(RefuseToBlock(kDatabase));
  EXPECT_FALSE(RetryingAfter(kDatabase, ""));
}

TEST(BlockingTest, AnAttemptRefusesAndRemembersTheFirstRefuserAndWhat) {
  NonBlockingAttempt attempt;
  EXPECT_FALSE(attempt.refused());
  EXPECT_TRUE(RefuseToBlock(kCache, "key-1"));
  EXPECT_TRUE(RefuseToBlock(kDatabase));
  EXPECT_TRUE(attempt.refused());
  EXPECT_EQ(attempt.refused_by(), kCache);
  EXPECT_EQ(attempt.refused_detail(), "key-1");
}

TEST(BlockingTest, TheAttemptEndsWithItsScopeAndIsPerThread) {
  {
    NonBlockingAttempt attempt;
    bool refused_elsewhere = true;
    std::thread([&] { refused_elsewhere = RefuseToBlock(kDatabase); }).join();
    EXPECT_FALSE(refused_elsewhere);
    EXPECT_FALSE(attempt.refused());
  }
  EXPECT_FALSE(RefuseToBlock(kDatabase));
}

TEST(BlockingTest, AnInnerAttemptShadowsTheOuterOne) {
  NonBlockingAttempt outer;
  {
    NonBlockingAttempt inner;
    EXPECT_TRUE(RefuseToBlock(kDatabase));
    EXPECT_TRUE(inner.refused());
  }
  EXPECT_FALSE(outer.refused());
  EXPECT_TRUE(RefuseToBlock(kCache));
  EXPECT_EQ(outer.refused_by(), kCache);
}

TEST(BlockingTest, ARetryKnowsWhoRefusedItsAttemptAboutWhatAndNests) {
  RetryAfterRefusal retry(kCache, "key-1");
  EXPECT_TRUE(RetryingAfter(kCache, "key-1"));
  EXPECT_FALSE(RetryingAfter(kCache, "key-2"));
  // Compared by address: another refuser with the same name is someone else.
  static constexpr char kOtherCache[] = "cache";
  EXPECT_FALSE(RetryingAfter(kOtherCache, "key-1"));
  // A retry is no attempt: it may block.
  EXPECT_FALSE(RefuseToBlock(kDatabase));
  {
    RetryAfterRefusal inner(kDatabase, "");
    EXPECT_TRUE(RetryingAfter(kDatabase, ""));
    EXPECT_FALSE(RetryingAfter(kCache, "key-1"));
  }
  EXPECT_TRUE(RetryingAfter(kCache, "key-1"));
}

}  // namespace
}  // namespace hasivu
