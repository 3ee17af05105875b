#include "cache/ttl.h"

#include <gtest/gtest.h>

namespace hasivu::cache {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

TEST(TtlSettingsTest, DefaultsAreTheSeedTable) {
  TtlSettings t;
  EXPECT_EQ(t.For(Kind::kUserProfile), hours(1));
  EXPECT_EQ(t.For(Kind::kOrderList), minutes(5));
  EXPECT_EQ(t.For(Kind::kMenuItems), minutes(30));
  EXPECT_EQ(t.For(Kind::kDailyMenu), hours(2));
  EXPECT_EQ(t.For(Kind::kPaymentMethods), minutes(30));
  EXPECT_EQ(t.For(Kind::kAnalytics), hours(1));
  EXPECT_TRUE(t.Validate().ok());
  EXPECT_EQ(KindName(Kind::kDailyMenu), "daily_menu");
}

TEST(TtlSettingsTest, ConfigurableAndValidated) {
  TtlSettings t;
  t.order_list = minutes(1);
  EXPECT_EQ(t.For(Kind::kOrderList), minutes(1));
  t.analytics = std::chrono::milliseconds(0);
  Status s = t.Validate();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("analytics"), std::string::npos);
}

}  // namespace
}  // namespace hasivu::cache
