#include "store/menus_repo.h"

#include <algorithm>
#include <map>
#include <utility>

#include "common/ids.h"
#include "store/hot_queries.h"

namespace hasivu::store {
namespace {

std::optional<int64_t> OptInt(const Row& row, size_t col) {
  if (row.IsNull(col)) return std::nullopt;
  return row.Int(col);
}

Value OptValue(const std::optional<int64_t>& v) {
  if (!v) return std::monostate{};
  return *v;
}

}  // namespace

StatusOr<std::optional<MenuSchoolRow>> FindMenuSchool(Connection& conn,
                                                      std::string_view school_id) {
  const Value params[] = {std::string(school_id)};
  ASSIGN_OR_RETURN(
      ResultSet rs,
      conn.Query("SELECT id, name, timezone, is_active FROM schools WHERE id = $1", params));
  if (rs.empty()) return std::optional<MenuSchoolRow>();
  const Row& r = rs.rows[0];
  return std::optional<MenuSchoolRow>(MenuSchoolRow{r.Text(0), r.Text(1), r.Text(2), r.Bool(3)});
}

StatusOr<bool> ParentHasChildInSchool(Connection& conn, std::string_view parent_id,
                                      std::string_view school_id) {
  const Value params[] = {std::string(parent_id), std::string(school_id)};
  ASSIGN_OR_RETURN(
      ResultSet rs,
      conn.Query("SELECT 1 FROM users u WHERE u.parent_id = $1 AND u.school_id = $2 LIMIT 1",
                 params));
  return !rs.empty();
}

StatusOr<std::optional<DailyMenuRow>> FindDailyMenu(Connection& conn, std::string_view school_id,
                                                    std::string_view date) {
  const Value params[] = {std::string(school_id), std::string(date)};
  ASSIGN_OR_RETURN(ResultSet rs, conn.Query(kDailyMenuOfSchool, params));
  if (rs.empty()) return std::optional<DailyMenuRow>();
  const Row& r = rs.rows[0];
  return std::optional<DailyMenuRow>(
      DailyMenuRow{r.Text(0), r.Text(1), r.Text(2), r.Text(3), r.Bool(4), r.Bool(5)});
}

StatusOr<std::vector<MenuSlotRow>> ListMenuSlots(Connection& conn, std::string_view daily_menu_id) {
  const Value params[] = {std::string(daily_menu_id)};
  ASSIGN_OR_RETURN(ResultSet rs, conn.Query(kDailyMenuSlots, params));
  std::vector<MenuSlotRow> out;
  out.reserve(rs.rows.size());
  for (const Row& r : rs.rows) {
    MenuSlotRow s;
    s.slot_id = r.Text(0);
    s.menu_item_id = r.Text(1);
    s.name = r.Text(2);
    s.description = r.OptText(3);
    s.category = r.Text(4);
    s.price_paise = r.Int(5);
    s.currency = r.Text(6);
    s.image_url = r.OptText(7);
    s.allergens_json = r.IsNull(8) ? "[]" : r.Text(8);
    s.calories = OptInt(r, 9);
    s.available_quantity = OptInt(r, 10);
    s.max_per_order = OptInt(r, 11);
    s.is_special = r.Bool(12);
    s.display_order = r.Int(13);
    out.push_back(std::move(s));
  }
  // The ties of display_order in id order: sorting the few rows here is cheaper than SQLite's
  // temporary b-tree for "ORDER BY display_order, id", which the index (daily_menu_id,
  // display_order) leaves it for the second key.
  std::sort(out.begin(), out.end(), [](const MenuSlotRow& a, const MenuSlotRow& b) {
    return a.display_order != b.display_order ? a.display_order < b.display_order
                                              : a.slot_id < b.slot_id;
  });
  return out;
}

StatusOr<std::optional<std::string>> MenuItemSchool(Connection& conn,
                                                    std::string_view menu_item_id) {
  const Value params[] = {std::string(menu_item_id)};
  ASSIGN_OR_RETURN(ResultSet rs,
                   conn.Query("SELECT school_id FROM menu_items WHERE id = $1", params));
  if (rs.empty()) return std::optional<std::string>();
  return std::optional<std::string>(rs.rows[0].Text(0));
}

StatusOr<std::string> UpsertDailyMenu(Connection& conn, std::string_view school_id,
                                      std::string_view date, std::string_view day_type,
                                      bool publish, std::string_view now) {
  {
    // ON CONFLICT DO NOTHING: a failed INSERT would abort a PostgreSQL transaction.
    const Value params[] = {NewUuidV7(), std::string(school_id), std::string(date),
                            std::string(day_type), std::string(now)};
    RETURN_IF_ERROR(conn.Query("INSERT INTO daily_menus (id, school_id, date, day_type,"
                               " is_active, is_published, created_at, updated_at)"
                               " VALUES ($1, $2, $3, $4, FALSE, FALSE, $5, $5)"
                               " ON CONFLICT (school_id, date) DO NOTHING",
                               params)
                        .status());
  }
  const Value find[] = {std::string(school_id), std::string(date)};
  ASSIGN_OR_RETURN(ResultSet rs, conn.Query("SELECT id, published_at FROM daily_menus"
                                            " WHERE school_id = $1 AND date = $2",
                                            find));
  if (rs.empty()) return InternalError("daily menu vanished inside its transaction");
  std::string id = rs.rows[0].Text(0);
  Value published_at = std::monostate{};
  if (publish) {
    published_at = rs.rows[0].IsNull(1) ? std::string(now) : rs.rows[0].Text(1);
  }
  const Value update[] = {id, std::string(day_type), publish, published_at, std::string(now)};
  RETURN_IF_ERROR(conn.Query("UPDATE daily_menus SET day_type = $2, is_active = $3,"
                             " is_published = $3, published_at = $4, updated_at = $5"
                             " WHERE id = $1",
                             update)
                      .status());
  return id;
}

Status ReplaceMenuSlots(Connection& conn, std::string_view daily_menu_id,
                        const std::vector<NewMenuSlot>& slots, std::string_view now) {
  const Value menu_param[] = {std::string(daily_menu_id)};
  ASSIGN_OR_RETURN(ResultSet existing,
                   conn.Query("SELECT id, menu_item_id, category FROM menu_item_slots"
                              " WHERE daily_menu_id = $1",
                              menu_param));
  std::map<std::pair<std::string, std::string>, std::string> kept;
  for (const Row& r : existing.rows) kept[{r.Text(1), r.Text(2)}] = r.Text(0);

  for (const NewMenuSlot& s : slots) {
    const bool limited = s.available_quantity.has_value();
    auto it = kept.find({s.menu_item_id, s.category});
    if (it != kept.end()) {
      const Value params[] = {it->second,
                              OptValue(s.available_quantity),
                              OptValue(s.custom_price_paise),
                              s.is_special,
                              limited,
                              OptValue(s.max_per_order),
                              s.display_order,
                              std::string(now)};
      RETURN_IF_ERROR(conn.Query("UPDATE menu_item_slots SET planned_quantity = $2,"
                                 " available_quantity = $2, custom_price_paise = $3,"
                                 " is_special = $4, is_limited = $5, max_per_order = $6,"
                                 " display_order = $7, is_visible = TRUE"
                                 ", updated_at = $8 WHERE id = $1",
                                 params)
                          .status());
      kept.erase(it);
      continue;
    }
    const Value params[] = {NewUuidV7(),
                            std::string(daily_menu_id),
                            s.menu_item_id,
                            s.category,
                            OptValue(s.available_quantity),
                            OptValue(s.custom_price_paise),
                            s.is_special,
                            limited,
                            OptValue(s.max_per_order),
                            s.display_order,
                            std::string(now)};
    RETURN_IF_ERROR(conn.Query("INSERT INTO menu_item_slots (id, daily_menu_id, menu_item_id,"
                               " category, planned_quantity, available_quantity,"
                               " custom_price_paise, is_special, is_limited, max_per_order,"
                               " display_order, created_at, updated_at)"
                               " VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8, $9, $10, $11, $11)",
                               params)
                        .status());
  }
  // Order lines keep their history: order_items.slot_id is ON DELETE SET NULL.
  for (const auto& [key, slot_id] : kept) {
    const Value params[] = {slot_id};
    RETURN_IF_ERROR(conn.Query("DELETE FROM menu_item_slots WHERE id = $1", params).status());
  }
  return Status::Ok();
}

StatusOr<bool> TakeSlotStock(Connection& conn, std::string_view slot_id, int64_t quantity) {
  const Value params[] = {std::string(slot_id), quantity};
  ASSIGN_OR_RETURN(ResultSet rs, conn.Query("UPDATE menu_item_slots SET available_quantity ="
                                            " available_quantity - $2"
                                            " WHERE id = $1 AND available_quantity >= $2",
                                            params));
  return rs.rows_affected == 1;
}

Status ReturnSlotStock(Connection& conn, std::string_view slot_id, int64_t quantity) {
  const Value params[] = {std::string(slot_id), quantity};
  return conn
      .Query(
          "UPDATE menu_item_slots SET available_quantity = available_quantity + $2"
          " WHERE id = $1 AND available_quantity IS NOT NULL",
          params)
      .status();
}

Status AppendMenuItem(BulkWriter& writer, const MenuItemLoadRow& row) {
  static constexpr std::string_view kColumns[] = {"id",
                                                  "school_id",
                                                  "name",
                                                  "description",
                                                  "category",
                                                  "price_paise",
                                                  "currency",
                                                  "available",
                                                  "featured",
                                                  "allergens",
                                                  "tags",
                                                  "calories",
                                                  "preparation_time",
                                                  "sort_order",
                                                  "created_at",
                                                  "updated_at"};
  RETURN_IF_ERROR(writer.StartRow("menu_items", kColumns));
  return writer.Text(row.id)
      .Text(row.school_id)
      .Text(row.name)
      .Text(row.description)
      .Text(row.category)
      .Int(row.price_paise)
      .Text(row.currency)
      .Bool(row.available)
      .Bool(row.featured)
      .Text(row.allergens_json)
      .Text(row.tags_json)
      .Int(row.calories)
      .Int(row.preparation_time)
      .Int(row.sort_order)
      .Time(row.created_at)
      .Time(row.updated_at)
      .EndRow();
}

Status AppendDailyMenu(BulkWriter& writer, const DailyMenuLoadRow& row) {
  static constexpr std::string_view kColumns[] = {
      "id",           "school_id",    "date",  "day_type",   "is_active",
      "is_published", "published_at", "notes", "created_at", "updated_at"};
  RETURN_IF_ERROR(writer.StartRow("daily_menus", kColumns));
  return writer.Text(row.id)
      .Text(row.school_id)
      .Day(row.date)
      .Text(row.day_type)
      .Bool(row.is_active)
      .Bool(row.is_published)
      .OptTime(row.published_at)
      .TextOrNull(row.notes)
      .Time(row.created_at)
      .Time(row.updated_at)
      .EndRow();
}

Status AppendMenuSlot(BulkWriter& writer, const MenuSlotLoadRow& row) {
  static constexpr std::string_view kColumns[] = {"id",
                                                  "daily_menu_id",
                                                  "menu_item_id",
                                                  "category",
                                                  "planned_quantity",
                                                  "available_quantity",
                                                  "custom_price_paise",
                                                  "is_special",
                                                  "is_limited",
                                                  "max_per_order",
                                                  "display_order",
                                                  "is_visible"};
  RETURN_IF_ERROR(writer.StartRow("menu_item_slots", kColumns));
  return writer.Text(row.id)
      .Text(row.daily_menu_id)
      .Text(row.menu_item_id)
      .Text(row.category)
      .OptInt(row.planned_quantity)
      .OptInt(row.available_quantity)
      .OptInt(row.custom_price_paise)
      .Bool(row.is_special)
      .Bool(row.is_limited)
      .OptInt(row.max_per_order)
      .Int(row.display_order)
      .Bool(row.is_visible)
      .EndRow();
}

}  // namespace hasivu::store
