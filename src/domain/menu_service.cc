#include "domain/menu_service.h"

#include <set>
#include <utility>

#include "common/ids.h"
#include "common/time_util.h"
#include "domain/access.h"
#include "domain/read_cache.h"

namespace hasivu::domain {
namespace {

Status MenuNotFound() {
  return Status(StatusCode::kNotFound, "No menu was found for this school and date",
                "MENU_NOT_FOUND");
}

bool IsDayType(std::string_view t) {
  return t == "WEEKDAY" || t == "WEEKEND" || t == "HOLIDAY" || t == "SPECIAL_EVENT";
}

constexpr int64_t kMaxPricePaise = 10'000'000;  // ₹100 000: a meal above that is a typo
constexpr int64_t kMaxQuantity = 1'000'000;

}  // namespace

std::vector<FieldIssue> ValidateMenuReplacement(const MenuReplacement& r) {
  std::vector<FieldIssue> issues;
  if (!IsUuid(r.school_id)) issues.push_back({"schoolId", "must be a UUID"});
  if (!ParseDate(r.date).ok()) issues.push_back({"date", "must be a date YYYY-MM-DD"});
  if (!IsDayType(r.day_type)) {
    issues.push_back({"dayType", "must be one of WEEKDAY, WEEKEND, HOLIDAY, SPECIAL_EVENT"});
  }
  if (r.items.size() > kMaxMenuItems) issues.push_back({"items", "at most 100 items"});
  std::set<std::pair<std::string, std::string>> seen;
  for (size_t i = 0; i < r.items.size(); ++i) {
    const MenuSlotInput& s = r.items[i];
    const std::string at = "items[" + std::to_string(i) + "].";
    if (!IsUuid(s.menu_item_id)) issues.push_back({at + "menuItemId", "must be a UUID"});
    if (s.category.empty() || s.category.size() > 50) {
      issues.push_back({at + "category", "must be 1-50 characters"});
    }
    if (s.custom_price_paise &&
        (*s.custom_price_paise < 0 || *s.custom_price_paise > kMaxPricePaise)) {
      issues.push_back({at + "customPrice", "must be between 0 and 10000000 paise"});
    }
    if (s.available_quantity &&
        (*s.available_quantity < 0 || *s.available_quantity > kMaxQuantity)) {
      issues.push_back({at + "availableQuantity", "must be between 0 and 1000000"});
    }
    if (s.max_per_order && (*s.max_per_order < 1 || *s.max_per_order > 10)) {
      issues.push_back({at + "maxPerOrder", "must be between 1 and 10"});
    }
    if (s.display_order && (*s.display_order < 0 || *s.display_order > 10'000)) {
      issues.push_back({at + "displayOrder", "must be between 0 and 10000"});
    }
    if (!seen.insert({s.menu_item_id, s.category}).second) {
      issues.push_back({at + "menuItemId", "appears twice in the same category"});
    }
  }
  return issues;
}

StatusOr<bool> IsSchoolMember(store::Connection& conn, const Principal& p,
                              std::string_view school_id) {
  switch (p.role) {
    case Role::kAdmin:
      return true;
    case Role::kKitchenStaff:
    case Role::kSchoolAdmin:
      return ActsInSchool(p, school_id);
    case Role::kStudent:
      return !p.school_id.empty() && p.school_id == school_id;
    case Role::kParent:
      return store::ParentHasChildInSchool(conn, p.user_id, school_id);
  }
  return false;
}

std::string_view MenuViewName(MenuView view) {
  switch (view) {
    case MenuView::kAdmin:
      return "admin";
    case MenuView::kStaff:
      return "staff";
    case MenuView::kMember:
      break;
  }
  return "member";
}

MenuService::MenuService(store::Database& db, const Clock& clock, const ReadCache* read_cache)
    : db_(db), clock_(clock), read_cache_(read_cache) {}

StatusOr<std::optional<MenuView>> MenuService::ViewOf(const Principal& p,
                                                      std::string_view school_id) const {
  if (p.IsAdmin()) return std::optional<MenuView>(MenuView::kAdmin);
  if (ActsInSchool(p, school_id)) return std::optional<MenuView>(MenuView::kStaff);
  bool may = false;
  if (read_cache_ != nullptr && read_cache_->enabled()) {
    // Membership changes only with the caller's own user data (children, school), whose change
    // drops the caller's tag.
    ASSIGN_OR_RETURN(
        cache::ValuePtr cached,
        read_cache_->GetOrLoad("mm|" + p.user_id + "|" + std::string(school_id),
                               cache::Kind::kUserProfile, {ReadCache::UserTag(p.user_id)},
                               [&]() -> StatusOr<std::string> {
                                 ASSIGN_OR_RETURN(bool yes, MaySeeMenus(p, school_id));
                                 return std::string(yes ? "1" : "0");
                               }));
    may = *cached == "1";
  } else {
    ASSIGN_OR_RETURN(may, MaySeeMenus(p, school_id));
  }
  if (!may) return std::optional<MenuView>();
  return std::optional<MenuView>(MenuView::kMember);
}

StatusOr<DailyMenu> MenuService::GetDailyAs(MenuView view, const Principal& p,
                                            std::string_view school_id,
                                            std::string_view date) const {
  if (view == MenuView::kMember) return GetPublishedDaily(school_id, date);
  return GetDaily(p, school_id, date);
}

std::string MenuService::DailyMenuKey(std::string_view school_id, std::string_view date,
                                      MenuView view, std::string_view fields) {
  // Parts through ReadCache::KeyPart: `fields` is the client's text.
  std::string key = "md|";
  key += ReadCache::KeyPart(school_id);
  key += '|';
  key += ReadCache::KeyPart(date);
  key += '|';
  key += MenuViewName(view);
  key += '|';
  key += ReadCache::KeyPart(fields);
  return key;
}

StatusOr<DailyMenu> MenuService::GetDaily(const Principal& p, std::string_view school_id,
                                          std::optional<std::string_view> date) const {
  DailyMenu out;
  Status st = db_.Read([&](store::Connection& conn) -> Status {
    ASSIGN_OR_RETURN(std::optional<store::MenuSchoolRow> school,
                     store::FindMenuSchool(conn, school_id));
    if (!school) return MenuNotFound();
    ASSIGN_OR_RETURN(bool member, IsSchoolMember(conn, p, school_id));
    if (!member || (!school->is_active && !p.IsAdmin())) return MenuNotFound();
    std::string day;
    if (date) {
      day = std::string(*date);
    } else {
      ASSIGN_OR_RETURN(Date today, LocalDate(clock_.Now(), school->timezone));
      day = FormatDate(today);
    }
    ASSIGN_OR_RETURN(std::optional<store::DailyMenuRow> menu,
                     store::FindDailyMenu(conn, school_id, day));
    if (!menu) return MenuNotFound();
    const bool sees_drafts = ActsInSchool(p, school_id);
    if (!sees_drafts && !(menu->is_published && menu->is_active)) return MenuNotFound();
    ASSIGN_OR_RETURN(out.slots, store::ListMenuSlots(conn, menu->id));
    out.menu = std::move(*menu);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

StatusOr<bool> MenuService::MaySeeMenus(const Principal& p, std::string_view school_id) const {
  bool may = false;
  RETURN_IF_ERROR(db_.Read([&](store::Connection& conn) -> Status {
    ASSIGN_OR_RETURN(std::optional<store::MenuSchoolRow> school,
                     store::FindMenuSchool(conn, school_id));
    if (!school) return Status::Ok();
    ASSIGN_OR_RETURN(bool member, IsSchoolMember(conn, p, school_id));
    may = member && (school->is_active || p.IsAdmin());
    return Status::Ok();
  }));
  return may;
}

StatusOr<DailyMenu> MenuService::GetPublishedDaily(std::string_view school_id,
                                                   std::string_view date) const {
  DailyMenu out;
  Status st = db_.Read([&](store::Connection& conn) -> Status {
    ASSIGN_OR_RETURN(std::optional<store::MenuSchoolRow> school,
                     store::FindMenuSchool(conn, school_id));
    if (!school || !school->is_active) return MenuNotFound();
    ASSIGN_OR_RETURN(std::optional<store::DailyMenuRow> menu,
                     store::FindDailyMenu(conn, school_id, date));
    if (!menu || !menu->is_published || !menu->is_active) return MenuNotFound();
    ASSIGN_OR_RETURN(out.slots, store::ListMenuSlots(conn, menu->id));
    out.menu = std::move(*menu);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

StatusOr<std::vector<std::pair<std::string, std::string>>> MenuService::WarmUpDays(int days) const {
  std::vector<std::pair<std::string, std::string>> out;
  store::ResultSet schools;
  RETURN_IF_ERROR(db_.Read([&](store::Connection& conn) -> Status {
    const store::Value active[] = {true};
    ASSIGN_OR_RETURN(schools,
                     conn.Query("SELECT id, timezone FROM schools WHERE is_active = $1", active));
    return Status::Ok();
  }));
  const auto now = clock_.Now();
  for (const store::Row& school : schools.rows) {
    StatusOr<Date> today = LocalDate(now, school.Text(1));
    if (!today.ok()) continue;  // a zone the tz database does not know: nothing to warm
    Date day = *today;
    out.emplace_back(school.Text(0), FormatDate(day));
    for (int n = 1; n < days;) {
      day += std::chrono::days(1);
      if (IsoWeekday(day) <= 5) {
        out.emplace_back(school.Text(0), FormatDate(day));
        ++n;
      }
    }
  }
  return out;
}

StatusOr<DailyMenu> MenuService::ReplaceDaily(const Principal& p, const MenuReplacement& r) const {
  if (std::vector<FieldIssue> issues = ValidateMenuReplacement(r); !issues.empty()) {
    return ValidationError("The menu is not valid", std::move(issues));
  }
  const std::string now = FormatRfc3339(clock_.Now());
  DailyMenu out;
  Status st = db_.Write([&](store::Connection& conn) -> Status {
    ASSIGN_OR_RETURN(std::optional<store::MenuSchoolRow> school,
                     store::FindMenuSchool(conn, r.school_id));
    if (!school) return NotFoundError("school not found");
    ASSIGN_OR_RETURN(bool member, IsSchoolMember(conn, p, r.school_id));
    if (!member) return NotFoundError("school not visible");
    if (!CanPublishMenu(p, r.school_id)) {
      return PermissionDeniedError("only the school's admin may change its menus");
    }
    std::vector<FieldIssue> issues;
    std::vector<store::NewMenuSlot> slots;
    slots.reserve(r.items.size());
    for (size_t i = 0; i < r.items.size(); ++i) {
      const MenuSlotInput& in = r.items[i];
      ASSIGN_OR_RETURN(std::optional<std::string> item_school,
                       store::MenuItemSchool(conn, in.menu_item_id));
      if (!item_school || *item_school != r.school_id) {
        issues.push_back(
            {"items[" + std::to_string(i) + "].menuItemId", "is not a menu item of this school"});
        continue;
      }
      slots.push_back(store::NewMenuSlot{in.menu_item_id, in.category, in.custom_price_paise,
                                         in.available_quantity, in.max_per_order, in.is_special,
                                         in.display_order.value_or(static_cast<int64_t>(i))});
    }
    if (!issues.empty()) return ValidationError("The menu is not valid", std::move(issues));
    ASSIGN_OR_RETURN(std::string menu_id,
                     store::UpsertDailyMenu(conn, r.school_id, r.date, r.day_type, r.publish, now));
    RETURN_IF_ERROR(store::ReplaceMenuSlots(conn, menu_id, slots, now));
    ASSIGN_OR_RETURN(std::optional<store::DailyMenuRow> menu,
                     store::FindDailyMenu(conn, r.school_id, r.date));
    if (!menu) return InternalError("daily menu missing after its upsert");
    ASSIGN_OR_RETURN(out.slots, store::ListMenuSlots(conn, menu->id));
    out.menu = std::move(*menu);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  MenuChanged(r.school_id, r.date);
  return out;
}

void MenuService::MenuChanged(std::string_view school_id, std::string_view date) const {
  if (read_cache_ != nullptr) read_cache_->MenuChanged(school_id, date);
}

}  // namespace hasivu::domain
