#include "common/deadline.h"

#include <gtest/gtest.h>

#include <thread>

namespace hasivu {
namespace {

using std::chrono::seconds;
using Steady = std::chrono::steady_clock;

TEST(DeadlineTest, OutsideAScopeThereIsNone) {
  EXPECT_FALSE(CurrentDeadline().has_value());
  const Steady::time_point t = Steady::now();
  EXPECT_EQ(EarlierDeadline(t), t);
  EXPECT_FALSE(EarlierDeadline(std::nullopt).has_value());
}

TEST(DeadlineTest, AScopeSetsItUntilItEnds) {
  const Steady::time_point t = Steady::now() + seconds(5);
  {
    ScopedDeadline scope(t);
    EXPECT_EQ(CurrentDeadline(), t);
    EXPECT_EQ(EarlierDeadline(std::nullopt), t);
    EXPECT_EQ(EarlierDeadline(t + seconds(1)), t);
    EXPECT_EQ(EarlierDeadline(t - seconds(1)), t - seconds(1));
  }
  EXPECT_FALSE(CurrentDeadline().has_value());
}

TEST(DeadlineTest, AnInnerScopeOnlyMakesItEarlier) {
  const Steady::time_point t = Steady::now() + seconds(5);
  ScopedDeadline outer(t);
  {
    ScopedDeadline later(t + seconds(10));
    EXPECT_EQ(CurrentDeadline(), t);
    {
      ScopedDeadline earlier(t - seconds(2));
      EXPECT_EQ(CurrentDeadline(), t - seconds(2));
    }
    EXPECT_EQ(CurrentDeadline(), t);
  }
  EXPECT_EQ(CurrentDeadline(), t);
}

TEST(DeadlineTest, ItIsPerThread) {
  ScopedDeadline scope(Steady::now() + seconds(5));
  bool other_has_one = true;
  std::thread([&] { other_has_one = CurrentDeadline().has_value(); }).join();
  EXPECT_FALSE(other_has_one);
}

}  // namespace
}  // namespace hasivu
