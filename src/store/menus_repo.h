// SQL of menus-daily and PUT /menus/daily: schools, school membership, daily menus and their
// slots. Typed functions over a store::Connection so the domain can compose them inside one
// Database::Write() transaction. Also the bulk appenders of menu items, daily menus and slots
// (seeding).
//
// Thread-safety: stateless functions; a Connection belongs to one callback at a time.
#ifndef HASIVU_STORE_MENUS_REPO_H_
#define HASIVU_STORE_MENUS_REPO_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/time_util.h"
#include "store/bulk_load.h"
#include "store/database.h"

namespace hasivu::store {

struct MenuSchoolRow {
  std::string id;
  std::string name;
  std::string timezone;
  bool is_active = false;
};

struct DailyMenuRow {
  std::string id;
  std::string school_id;
  std::string date;  // YYYY-MM-DD
  std::string day_type;
  bool is_active = false;
  bool is_published = false;
};

// One item on a daily menu (hot_queries.h kDailyMenuSlots).
struct MenuSlotRow {
  std::string slot_id;
  std::string menu_item_id;
  std::string name;
  std::optional<std::string> description;
  std::string category;
  int64_t price_paise = 0;  // the slot's custom price or the item's
  std::string currency;
  std::optional<std::string> image_url;
  std::string allergens_json;  // JSON array text
  std::optional<int64_t> calories;
  std::optional<int64_t> available_quantity;  // nullopt = unlimited
  std::optional<int64_t> max_per_order;       // nullopt = no limit
  bool is_special = false;
  int64_t display_order = 0;
};

// A slot to write by ReplaceMenuSlots.
struct NewMenuSlot {
  std::string menu_item_id;
  std::string category;
  std::optional<int64_t> custom_price_paise;
  std::optional<int64_t> available_quantity;
  std::optional<int64_t> max_per_order;
  bool is_special = false;
  int64_t display_order = 0;
};

// nullopt when there is no such school.
StatusOr<std::optional<MenuSchoolRow>> FindMenuSchool(Connection& conn, std::string_view school_id);

// True if `parent_id` has a child whose school is `school_id`.
StatusOr<bool> ParentHasChildInSchool(Connection& conn, std::string_view parent_id,
                                      std::string_view school_id);

// The daily menu of a school for a date, nullopt if none.
StatusOr<std::optional<DailyMenuRow>> FindDailyMenu(Connection& conn, std::string_view school_id,
                                                    std::string_view date);

// The slots of a daily menu in display order.
StatusOr<std::vector<MenuSlotRow>> ListMenuSlots(Connection& conn, std::string_view daily_menu_id);

// The school of a menu item; nullopt if the item does not exist (a catalogue item without a
// school answers an empty string).
StatusOr<std::optional<std::string>> MenuItemSchool(Connection& conn,
                                                    std::string_view menu_item_id);

// Creates or updates the (school, date) daily menu row. `now` is an RFC 3339 instant. Returns
// the menu id. published_at keeps its first value while the menu stays published.
StatusOr<std::string> UpsertDailyMenu(Connection& conn, std::string_view school_id,
                                      std::string_view date, std::string_view day_type,
                                      bool publish, std::string_view now);

// Makes the slots of `daily_menu_id` exactly `slots`: a slot with the same (menu item, category)
// keeps its id (so order lines stay linked to it), others are inserted, the rest deleted.
Status ReplaceMenuSlots(Connection& conn, std::string_view daily_menu_id,
                        const std::vector<NewMenuSlot>& slots, std::string_view now);

// Takes `quantity` units of a limited slot if that many remain. False when sold out (or the
// slot is unlimited: callers only call this for limited slots).
StatusOr<bool> TakeSlotStock(Connection& conn, std::string_view slot_id, int64_t quantity);

// Gives `quantity` units back to a limited slot (no-op for unlimited or deleted slots).
Status ReturnSlotStock(Connection& conn, std::string_view slot_id, int64_t quantity);

// Bulk loading (store/bulk_load.h). Text fields are views that must stay valid for the call;
// those marked "" = NULL are written as NULL when empty.

struct MenuItemLoadRow {
  std::string_view id = {};
  std::string_view school_id = {};
  std::string_view name = {};
  std::string_view description = {};
  std::string_view category = {};
  int64_t price_paise = 0;
  std::string_view currency = {};
  bool available = true;
  bool featured = false;
  std::string_view allergens_json = {};  // JSON array text
  std::string_view tags_json = {};       // JSON array text
  int64_t calories = 0;
  int64_t preparation_time = 0;  // minutes
  int64_t sort_order = 0;
  TimePoint created_at = {};
  TimePoint updated_at = {};
};
Status AppendMenuItem(BulkWriter& writer, const MenuItemLoadRow& row);

struct DailyMenuLoadRow {
  std::string_view id = {};
  std::string_view school_id = {};
  Date date = {};
  std::string_view day_type = {};  // "WEEKDAY", "WEEKEND", ...
  bool is_active = true;
  bool is_published = false;
  std::optional<TimePoint> published_at = std::nullopt;
  std::string_view notes = {};  // "" = NULL
  TimePoint created_at = {};
  TimePoint updated_at = {};
};
Status AppendDailyMenu(BulkWriter& writer, const DailyMenuLoadRow& row);

struct MenuSlotLoadRow {
  std::string_view id = {};
  std::string_view daily_menu_id = {};
  std::string_view menu_item_id = {};
  std::string_view category = {};
  std::optional<int64_t> planned_quantity = std::nullopt;    // nullopt = unlimited
  std::optional<int64_t> available_quantity = std::nullopt;  // nullopt = unlimited
  std::optional<int64_t> custom_price_paise = std::nullopt;  // nullopt = the item's price
  bool is_special = false;
  bool is_limited = false;
  std::optional<int64_t> max_per_order = std::nullopt;  // nullopt = no limit
  int64_t display_order = 0;
  bool is_visible = true;
};
Status AppendMenuSlot(BulkWriter& writer, const MenuSlotLoadRow& row);

}  // namespace hasivu::store

#endif  // HASIVU_STORE_MENUS_REPO_H_
