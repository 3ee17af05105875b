// Daily menus (api.md menus-daily and PUT /menus/daily).
//
// Visibility: members of the school see its menu: a parent with a child in it, a student of it,
// its kitchen staff and school admin, and admins. Parents and students see only a published,
// active menu; staff and admins also drafts. Anything else answers 404 MENU_NOT_FOUND, whether
// the school or menu exists or not. Replacing a day's menu is for the school's admin and
// platform admins (403 for other members, 404 for non-members), in one transaction.
//
// Thread-safety: safe to call concurrently; the referenced database and clock outlive it.
#ifndef HASIVU_DOMAIN_MENU_SERVICE_H_
#define HASIVU_DOMAIN_MENU_SERVICE_H_

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "domain/principal.h"
#include "domain/read_cache.h"
#include "store/database.h"
#include "store/menus_repo.h"

namespace hasivu::domain {

struct DailyMenu {
  store::DailyMenuRow menu;
  std::vector<store::MenuSlotRow> slots;  // in display order
};

struct MenuSlotInput {
  std::string menu_item_id;
  std::string category;
  std::optional<int64_t> custom_price_paise;
  std::optional<int64_t> available_quantity;  // nullopt = unlimited
  std::optional<int64_t> max_per_order;
  bool is_special = false;
  std::optional<int64_t> display_order;  // default: the position in the list
};

struct MenuReplacement {
  std::string school_id;
  std::string date;                  // YYYY-MM-DD
  std::string day_type = "WEEKDAY";  // WEEKDAY | WEEKEND | HOLIDAY | SPECIAL_EVENT
  bool publish = false;
  std::vector<MenuSlotInput> items;
};

inline constexpr size_t kMaxMenuItems = 100;

// Field issues of a replacement (ids, date, ranges, duplicates); empty when valid. Fields are
// named as in the request body ("items[2].customPrice").
std::vector<FieldIssue> ValidateMenuReplacement(const MenuReplacement& r);

// The views of a day's menu, each the same for every caller who shares it (so each is cached
// once): admins' (drafts of any school), the school's staff's (its drafts) and every other
// member's (published only).
enum class MenuView { kAdmin, kStaff, kMember };
std::string_view MenuViewName(MenuView view);  // "admin" | "staff" | "member"

class MenuService {
 public:
  // `read_cache` (may be null: no caching) is dropped of a day's menu when a change commits, and
  // keeps members' MaySeeMenus answers. Not owned; db, clock and read_cache outlive the service.
  MenuService(store::Database& db, const Clock& clock, const ReadCache* read_cache = nullptr);

  // The menu of `school_id` for `date` (default: today in the school's zone). REQUIRES: ids and
  // dates well-formed (the api checks syntax).
  StatusOr<DailyMenu> GetDaily(const Principal& p, std::string_view school_id,
                               std::optional<std::string_view> date) const;

  // Whether `p` may see the school's menus at all (membership, and the school active unless p is
  // an admin): GetDaily answers 404 when not. Separate so that a cached menu can be served after
  // this check alone.
  StatusOr<bool> MaySeeMenus(const Principal& p, std::string_view school_id) const;

  // The published, active menu of an active school for `date`, as members who are not staff see
  // it; 404 MENU_NOT_FOUND otherwise. No access check: callers check MaySeeMenus() first.
  StatusOr<DailyMenu> GetPublishedDaily(std::string_view school_id, std::string_view date) const;

  // Which view of the school's menus `p` gets, or nullopt when `p` may not see them (answered 404
  // MENU_NOT_FOUND). Admins and the school's staff are known from the token alone; anyone else
  // is asked MaySeeMenus, whose answer the read cache keeps per caller and school until the
  // caller's user data changes.
  StatusOr<std::optional<MenuView>> ViewOf(const Principal& p, std::string_view school_id) const;

  // The day's menu as `view` shows it. REQUIRES: `view` is ViewOf(p, school_id).
  StatusOr<DailyMenu> GetDailyAs(MenuView view, const Principal& p, std::string_view school_id,
                                 std::string_view date) const;

  // The read-cache key of a day's menu in `view` with the `fields` selection (as requested);
  // unambiguous, as ReadCache's keys are (ReadCache::KeyPart).
  static std::string DailyMenuKey(std::string_view school_id, std::string_view date, MenuView view,
                                  std::string_view fields);

  // (school id, date) of every active school's today and next `days - 1` school days (Monday to
  // Friday) in the school's own zone: what the cache warms up at start.
  StatusOr<std::vector<std::pair<std::string, std::string>>> WarmUpDays(int days) const;

  // Replaces the day's menu and answers it as GetDaily shows it to the caller.
  StatusOr<DailyMenu> ReplaceDaily(const Principal& p, const MenuReplacement& r) const;

 private:
  void MenuChanged(std::string_view school_id, std::string_view date) const;

  store::Database& db_;
  const Clock& clock_;
  const ReadCache* read_cache_;
};

// True if `p` is a member of the school (see the top of this file). Needs the database only for
// parents (children's schools).
StatusOr<bool> IsSchoolMember(store::Connection& conn, const Principal& p,
                              std::string_view school_id);

}  // namespace hasivu::domain

#endif  // HASIVU_DOMAIN_MENU_SERVICE_H_
