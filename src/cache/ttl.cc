#include "cache/ttl.h"

#include <string>

namespace hasivu::cache {

std::chrono::milliseconds TtlSettings::For(Kind kind) const {
  switch (kind) {
    case Kind::kUserProfile:
      return user_profile;
    case Kind::kOrderList:
      return order_list;
    case Kind::kMenuItems:
      return menu_items;
    case Kind::kDailyMenu:
      return daily_menu;
    case Kind::kPaymentMethods:
      return payment_methods;
    case Kind::kAnalytics:
      return analytics;
    case Kind::kSchoolConfig:
      return school_config;
    case Kind::kSubscriptionPlan:
      return subscription_plan;
  }
  return std::chrono::minutes(1);
}

std::string_view KindName(Kind kind) {
  switch (kind) {
    case Kind::kUserProfile:
      return "user_profile";
    case Kind::kOrderList:
      return "order_list";
    case Kind::kMenuItems:
      return "menu_items";
    case Kind::kDailyMenu:
      return "daily_menu";
    case Kind::kPaymentMethods:
      return "payment_methods";
    case Kind::kAnalytics:
      return "analytics";
    case Kind::kSchoolConfig:
      return "school_config";
    case Kind::kSubscriptionPlan:
      return "subscription_plan";
  }
  return "unknown";
}

Status TtlSettings::Validate() const {
  for (Kind k :
       {Kind::kUserProfile, Kind::kOrderList, Kind::kMenuItems, Kind::kDailyMenu,
        Kind::kPaymentMethods, Kind::kAnalytics, Kind::kSchoolConfig, Kind::kSubscriptionPlan}) {
    if (For(k) <= std::chrono::milliseconds(0)) {
      return InvalidArgumentError("cache TTL for " + std::string(KindName(k)) +
                                  " must be positive");
    }
  }
  return Status::Ok();
}

}  // namespace hasivu::cache
