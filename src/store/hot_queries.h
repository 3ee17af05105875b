// The hot queries of api.md, written once in portable SQL (see database.h) exactly as the domain
// runs them, so that the index audit tests (index_audit_test, index_audit_pgtest) check the plans
// of the real statements. The migrations carry the indexes they need (migrations/INDEXES.md).
//
// Orders are paged by keyset on (created_at DESC, id DESC): the next page starts after the last
// row's (created_at, id), which is one index seek whatever the depth (no OFFSET).
//
// Each constant documents its parameters; HotQueries() lists them all with sample parameters
// for EXPLAIN (ids of HotQuerySamples, which the audit tests load into their data).
#ifndef HASIVU_STORE_HOT_QUERIES_H_
#define HASIVU_STORE_HOT_QUERIES_H_

#include <string_view>
#include <vector>

#include "store/database.h"

namespace hasivu::store {

// The columns the order queries return, in this order.
#define HASIVU_ORDER_COLUMNS                                                                \
  "o.id, o.order_number, o.user_id, o.student_id, o.school_id, o.delivery_date, o.status, " \
  "o.payment_status, o.total_amount_paise, o.currency, o.created_at, o.updated_at, "        \
  "o.item_count"

// (1) Orders of a parent's children, newest first. $1 parent id, $2 limit.
inline constexpr std::string_view kOrdersOfParentFirstPage =
    "SELECT " HASIVU_ORDER_COLUMNS
    " FROM orders o"
    " WHERE o.student_id IN (SELECT u.id FROM users u WHERE u.parent_id = $1)"
    " ORDER BY o.created_at DESC, o.id DESC LIMIT $2";
// The page after the row (created_at, id) = ($2, $3). $1 parent id, $4 limit.
inline constexpr std::string_view kOrdersOfParentAfter =
    "SELECT " HASIVU_ORDER_COLUMNS
    " FROM orders o"
    " WHERE o.student_id IN (SELECT u.id FROM users u WHERE u.parent_id = $1)"
    " AND (o.created_at, o.id) < ($2, $3)"
    " ORDER BY o.created_at DESC, o.id DESC LIMIT $4";
// Orders of one student after (created_at, id) = ($2, $3). $1 student id, $4 limit.
inline constexpr std::string_view kOrdersOfStudentAfter =
    "SELECT " HASIVU_ORDER_COLUMNS
    " FROM orders o"
    " WHERE o.student_id = $1 AND (o.created_at, o.id) < ($2, $3)"
    " ORDER BY o.created_at DESC, o.id DESC LIMIT $4";
// The children of a parent (orders-list of a parent on SQLite reads each child's page along its
// own index and merges them; see orders_repo.cc). $1 parent id.
inline constexpr std::string_view kChildrenOfParent =
    "SELECT u.id FROM users u WHERE u.parent_id = $1";
// Orders of one student, newest first. $1 student id, $2 limit.
inline constexpr std::string_view kOrdersOfStudentFirstPage =
    "SELECT " HASIVU_ORDER_COLUMNS
    " FROM orders o"
    " WHERE o.student_id = $1"
    " ORDER BY o.created_at DESC, o.id DESC LIMIT $2";
// Orders of a school (kitchen staff, school admin) after (created_at, id) = ($2, $3).
// $1 school id, $4 limit.
inline constexpr std::string_view kOrdersOfSchoolAfter =
    "SELECT " HASIVU_ORDER_COLUMNS
    " FROM orders o"
    " WHERE o.school_id = $1 AND (o.created_at, o.id) < ($2, $3)"
    " ORDER BY o.created_at DESC, o.id DESC LIMIT $4";
// Orders of a school for one delivery day (a kitchen's list of today), newest first, read in
// page order from (school_id, delivery_date, created_at DESC, id DESC). $1 school id, $2 date
// 'YYYY-MM-DD', $3 limit.
inline constexpr std::string_view kOrdersOfSchoolOnDay =
    "SELECT " HASIVU_ORDER_COLUMNS
    " FROM orders o"
    " WHERE o.school_id = $1 AND o.delivery_date = $2"
    " ORDER BY o.created_at DESC, o.id DESC LIMIT $3";

// (2) A student's paid, undelivered order for a day (rfid-verify-card without orderId), oldest
// first. $1 student id, $2 date 'YYYY-MM-DD' (the school's today).
inline constexpr std::string_view kDeliverableOrderOfStudent =
    "SELECT o.id, o.order_number, o.status, o.payment_status, o.school_id, o.delivery_date"
    " FROM orders o"
    " WHERE o.student_id = $1 AND o.delivery_date = $2 AND o.payment_status = 'paid'"
    " AND o.status IN ('confirmed', 'preparing', 'ready', 'out_for_delivery')"
    " ORDER BY o.created_at, o.id LIMIT 1";

// (3) A card by number, with its student and school (one round trip for rfid-verify-card).
// $1 card number. Columns: card id, card_number, is_active, expires_at, student id, first_name,
// last_name, grade, section, student is_active, school id, school name, school timezone,
// school is_active.
inline constexpr std::string_view kCardByNumber =
    "SELECT c.id, c.card_number, c.is_active, c.expires_at,"
    " s.id, s.first_name, s.last_name, s.grade, s.section, s.is_active,"
    " sc.id, sc.name, sc.timezone, sc.is_active"
    " FROM rfid_cards c"
    " JOIN users s ON s.id = c.student_id"
    " JOIN schools sc ON sc.id = c.school_id"
    " WHERE c.card_number = $1";

// (4) The daily menu of a school for a date. $1 school id, $2 date 'YYYY-MM-DD'.
inline constexpr std::string_view kDailyMenuOfSchool =
    "SELECT d.id, d.school_id, d.date, d.day_type, d.is_active, d.is_published,"
    " d.published_at, d.updated_at"
    " FROM daily_menus d WHERE d.school_id = $1 AND d.date = $2";
// Its items in display order. $1 daily menu id. Columns: slot id, menu item id, name,
// description, category, price (slot's custom price or the item's), currency, image_url,
// allergens (JSON text), calories, available_quantity, max_per_order, is_special, display_order.
inline constexpr std::string_view kDailyMenuSlots =
    "SELECT s.id, s.menu_item_id, m.name, m.description, s.category,"
    " COALESCE(s.custom_price_paise, m.price_paise), m.currency, m.image_url, m.allergens,"
    " m.calories, s.available_quantity, s.max_per_order, s.is_special, s.display_order"
    " FROM menu_item_slots s JOIN menu_items m ON m.id = s.menu_item_id"
    " WHERE s.daily_menu_id = $1 ORDER BY s.display_order";

// (5) The refresh-token row of a token hash. $1 refresh_token_hash.
inline constexpr std::string_view kSessionByRefreshHash =
    "SELECT a.id, a.user_id, a.family_id, a.replaced_by, a.revoked_at, a.expires_at"
    " FROM auth_sessions a WHERE a.refresh_token_hash = $1";

// (6) Login: a user by (lower-cased) email. $1 email.
inline constexpr std::string_view kUserByEmail =
    "SELECT u.id, u.email, u.password_hash, u.first_name, u.last_name, u.role, u.school_id,"
    " u.is_active, u.status FROM users u WHERE u.email = $1";

#undef HASIVU_ORDER_COLUMNS

// Ids and values the sample parameters use; the audit tests create rows with them.
struct HotQuerySamples {
  static constexpr std::string_view kParentId = "0190f5a0-0000-7000-8000-00000000a001";
  static constexpr std::string_view kStudentId = "0190f5a0-0000-7000-8000-00000000b001";
  static constexpr std::string_view kSchoolId = "0190f5a0-0000-7000-8000-00000000c001";
  static constexpr std::string_view kDailyMenuId = "0190f5a0-0000-7000-8000-00000000d001";
  static constexpr std::string_view kOrderId = "0190f5a0-0000-7000-8000-00000000e001";
  static constexpr std::string_view kCardNumber = "RFID-SAMPLE-0001";
  static constexpr std::string_view kDate = "2026-11-27";
  static constexpr std::string_view kCursorCreatedAt = "2026-11-20T10:00:00.000000Z";
  static constexpr std::string_view kRefreshHash = "sample-refresh-token-hash";
  static constexpr std::string_view kEmail = "parent.sample@demo.hasivu.test";
};

struct HotQuery {
  std::string_view name;
  std::string_view sql;
  std::vector<Value> sample_params;
  // The rows come in ORDER BY order from an index: SQLite's plan has no temporary b-tree (the
  // audit checks it; PostgreSQL's planner may still sort a small table).
  bool ordered_by_index = false;
};

// Every hot query above with sample parameters. Static storage.
const std::vector<HotQuery>& HotQueries();

// The tables an audited plan must never scan in full.
const std::vector<std::string_view>& LargeTables();

}  // namespace hasivu::store

#endif  // HASIVU_STORE_HOT_QUERIES_H_
