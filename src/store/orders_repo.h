// SQL of the orders functions (orders-list, orders-create, GET /orders/{id}, PATCH
// /orders/{id}/status). Typed functions over a store::Connection so the domain can compose them
// inside one Database::Write() transaction. The list queries are keyset pages: the cost of a page
// is one index seek plus `limit` rows, whatever its depth. Also the bulk appenders of orders and
// their lines (seeding).
//
// Thread-safety: stateless functions; a Connection belongs to one callback at a time.
#ifndef HASIVU_STORE_ORDERS_REPO_H_
#define HASIVU_STORE_ORDERS_REPO_H_

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

// The columns every order query returns (hot_queries.h HASIVU_ORDER_COLUMNS).
struct OrderRow {
  std::string id;
  std::string order_number;
  std::string user_id;
  std::string student_id;
  std::string school_id;
  std::string delivery_date;
  std::string status;
  std::string payment_status;
  int64_t total_amount_paise = 0;
  std::string currency;
  std::string created_at;
  std::string updated_at;
  int64_t item_count = 0;  // number of lines (kept on the row, see migration 0005)
};

// What the list shows beside an order: its student and school.
struct OrderExtras {
  std::string student_first_name;
  std::string student_last_name;
  std::optional<std::string> grade;
  std::optional<std::string> section;
  std::string student_parent_id;
  std::string school_name;
};

struct OrderItemRow {
  std::string id;
  std::string menu_item_id;
  std::optional<std::string> slot_id;
  std::string name;
  int64_t quantity = 0;
  int64_t unit_price_paise = 0;
  int64_t total_price_paise = 0;
  std::optional<std::string> notes;
};

struct OrderDetailRow {
  OrderRow order;
  OrderExtras extras;
  std::optional<std::string> special_instructions;
  std::optional<std::string> allergy_info;
  std::vector<OrderItemRow> items;
};

// A student (or any user) with the facts orders-create needs, and their school.
struct OrderStudentRow {
  std::string id;
  std::string role;
  std::string school_id;  // may be empty
  std::string parent_id;  // may be empty
  bool active = false;    // is_active and status 'active'
  std::string first_name;
  std::string last_name;
  std::optional<std::string> grade;
  std::optional<std::string> section;
  // Of the user's school (empty / false when the user has none).
  std::string school_name;
  std::string school_timezone;
  bool school_active = false;
};

enum class OrderScope { kAll, kParent, kStudent, kSchool };
enum class OrderSort { kCreatedDesc, kCreatedAsc, kDeliveryDesc, kDeliveryAsc };

// One page request. Filters are already validated (uuids, dates, enum words).
struct OrderPageQuery {
  OrderScope scope = OrderScope::kAll;
  std::string scope_id;  // parent, student or school id (unused for kAll)
  std::optional<std::string> status;
  std::optional<std::string> payment_status;
  std::optional<std::string> student_id;
  std::optional<std::string> school_id;
  std::optional<std::string> date_from;  // inclusive, on delivery_date
  std::optional<std::string> date_to;    // inclusive
  OrderSort sort = OrderSort::kCreatedDesc;
  // The sort key and id of the last row of the previous page (created_at instant or
  // delivery_date date, per `sort`); none for the first page.
  std::optional<std::string> after_key;
  std::optional<std::string> after_id;
  int64_t limit = 20;  // rows to fetch
};

// Up to query.limit orders in the order of query.sort. On SQLite a parent's page is read child by
// child along the (student_id, key, id) indexes and merged, which beats one statement that has
// to sort the union of the children's orders in a temporary b-tree.
StatusOr<std::vector<OrderRow>> ListOrderPage(Connection& conn, const OrderPageQuery& query);
// The number of orders matching the scope and filters (cursor ignored).
StatusOr<int64_t> CountOrders(Connection& conn, const OrderPageQuery& query);
// Students and schools of `orders`, in the same order. SQLite: one point lookup per distinct
// student and school; PostgreSQL: one round trip.
StatusOr<std::vector<OrderExtras>> LoadOrderExtras(Connection& conn,
                                                   const std::vector<OrderRow>& orders);

// Whose an order is: its student, that student's parent (may be empty) and its school.
struct OrderOwners {
  std::string student_id;
  std::string parent_id;
  std::string school_id;
};
// nullopt if the order is unknown.
StatusOr<std::optional<OrderOwners>> FindOrderOwners(Connection& conn, std::string_view order_id);

// A user with their school; nullopt if unknown.
StatusOr<std::optional<OrderStudentRow>> FindOrderStudent(Connection& conn,
                                                          std::string_view user_id);

// An order with extras, notes and lines; nullopt if unknown.
StatusOr<std::optional<OrderDetailRow>> FindOrderDetail(Connection& conn,
                                                        std::string_view order_id);

struct NewOrder {
  std::string id;
  std::string order_number;
  std::string user_id;
  std::string student_id;
  std::string school_id;
  std::string delivery_date;
  int64_t total_amount_paise = 0;
  int64_t item_count = 0;  // the lines inserted with it (InsertOrderItem)
  std::string currency;
  std::optional<std::string> special_instructions;
  std::optional<std::string> allergy_info;
  std::string now;  // RFC 3339
};

// Inserts the order row. False (nothing written) if the order number is taken.
StatusOr<bool> InsertOrder(Connection& conn, const NewOrder& order);
Status InsertOrderItem(Connection& conn, std::string_view order_id, const OrderItemRow& item,
                       std::string_view now);

// Sets the status of an order if it still is `from`. False when it is not (anymore).
// `cancelled_at` is set when `to` is "cancelled".
StatusOr<bool> UpdateOrderStatus(Connection& conn, std::string_view order_id, std::string_view from,
                                 std::string_view to, std::string_view now);

// Whether the orders table holds any order.
StatusOr<bool> AnyOrder(Connection& conn);

// Bulk loading (store/bulk_load.h). Text fields are views that must stay valid for the call;
// those marked "" = NULL are written as NULL when empty.

struct OrderLoadRow {
  std::string_view id = {};
  std::string_view order_number = {};
  std::string_view user_id = {};  // who placed it
  std::string_view student_id = {};
  std::string_view school_id = {};
  std::string_view status = {};
  std::string_view payment_status = {};
  int64_t total_amount_paise = 0;
  std::string_view currency = {};
  Date delivery_date = {};
  std::optional<TimePoint> delivered_at = std::nullopt;
  std::optional<TimePoint> cancelled_at = std::nullopt;
  TimePoint created_at = {};
  TimePoint updated_at = {};
  int64_t item_count = 0;  // the lines appended for it (AppendOrderItem)
};
Status AppendOrder(BulkWriter& writer, const OrderLoadRow& row);

struct OrderItemLoadRow {
  std::string_view id = {};
  std::string_view order_id = {};
  std::string_view menu_item_id = {};
  std::string_view slot_id = {};
  std::string_view name = {};
  int64_t quantity = 0;
  int64_t unit_price_paise = 0;
  int64_t total_price_paise = 0;
  TimePoint created_at = {};
  TimePoint updated_at = {};
};
Status AppendOrderItem(BulkWriter& writer, const OrderItemLoadRow& row);

}  // namespace hasivu::store

#endif  // HASIVU_STORE_ORDERS_REPO_H_
