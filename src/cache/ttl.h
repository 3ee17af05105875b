// TTLs per kind of cached read, from the seed's CacheTTL table (reference/hasivu-original.md
// §4.2), as a settings struct so a deployment can change them.
//
// Thread-safety: a value type.
#ifndef HASIVU_CACHE_TTL_H_
#define HASIVU_CACHE_TTL_H_

#include <chrono>
#include <string_view>

#include "common/status.h"

namespace hasivu::cache {

enum class Kind {
  kUserProfile,
  kOrderList,
  kMenuItems,
  kDailyMenu,
  kPaymentMethods,
  kAnalytics,
  kSchoolConfig,
  kSubscriptionPlan,
};

struct TtlSettings {
  std::chrono::milliseconds user_profile = std::chrono::hours(1);        // Default: 1 h
  std::chrono::milliseconds order_list = std::chrono::minutes(5);        // Default: 5 min
  std::chrono::milliseconds menu_items = std::chrono::minutes(30);       // Default: 30 min
  std::chrono::milliseconds daily_menu = std::chrono::hours(2);          // Default: 2 h
  std::chrono::milliseconds payment_methods = std::chrono::minutes(30);  // Default: 30 min
  std::chrono::milliseconds analytics = std::chrono::hours(1);           // Default: 1 h
  std::chrono::milliseconds school_config = std::chrono::hours(2);       // Default: 2 h
  std::chrono::milliseconds subscription_plan = std::chrono::hours(1);   // Default: 1 h

  std::chrono::milliseconds For(Kind kind) const;
  // kInvalidArgument naming the first TTL that is not positive.
  Status Validate() const;
};

// "user_profile", "order_list", ... (for logs and settings files).
std::string_view KindName(Kind kind);

}  // namespace hasivu::cache

#endif  // HASIVU_CACHE_TTL_H_
