#include "store/orders_repo.h"

#include <algorithm>
#include <functional>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>

#include "store/hot_queries.h"

namespace hasivu::store {
namespace {

constexpr std::string_view kOrderColumns =
    "o.id, o.order_number, o.user_id, o.student_id, o.school_id, o.delivery_date, o.status, "
    "o.payment_status, o.total_amount_paise, o.currency, o.created_at, o.updated_at, "
    "o.item_count";
constexpr size_t kOrderColumnCount = 13;
// A parent with more children than this gets the single-statement page (see ListOrderPage).
constexpr size_t kMaxMergedChildren = 8;

// R is Row or RowView.
template <typename R>
OrderRow ReadOrder(const R& r) {
  OrderRow o;
  o.id = r.Text(0);
  o.order_number = r.Text(1);
  o.user_id = r.Text(2);
  o.student_id = r.Text(3);
  o.school_id = r.Text(4);
  o.delivery_date = r.Text(5);
  o.status = r.Text(6);
  o.payment_status = r.Text(7);
  o.total_amount_paise = r.Int(8);
  o.currency = r.Text(9);
  o.created_at = r.Text(10);
  o.updated_at = r.Text(11);
  o.item_count = r.Int(12);
  return o;
}

std::string Placeholder(std::vector<Value>& params, Value v) {
  params.push_back(std::move(v));
  return "$" + std::to_string(params.size());
}

// WHERE clause of scope and filters (no cursor), appending its parameters.
std::string ScopeAndFilters(const OrderPageQuery& q, std::vector<Value>& params) {
  std::string where;
  auto add = [&where](std::string clause) {
    where += where.empty() ? " WHERE " : " AND ";
    where += clause;
  };
  switch (q.scope) {
    case OrderScope::kAll:
      break;
    case OrderScope::kParent:
      add("o.student_id IN (SELECT u.id FROM users u WHERE u.parent_id = " +
          Placeholder(params, q.scope_id) + ")");
      break;
    case OrderScope::kStudent:
      add("o.student_id = " + Placeholder(params, q.scope_id));
      break;
    case OrderScope::kSchool:
      add("o.school_id = " + Placeholder(params, q.scope_id));
      break;
  }
  if (q.status) add("o.status = " + Placeholder(params, *q.status));
  if (q.payment_status) add("o.payment_status = " + Placeholder(params, *q.payment_status));
  if (q.student_id) add("o.student_id = " + Placeholder(params, *q.student_id));
  if (q.school_id) add("o.school_id = " + Placeholder(params, *q.school_id));
  if (q.date_from && q.date_to && *q.date_from == *q.date_to) {
    // One day: an equality lets an index on (..., delivery_date, created_at) give page order.
    add("o.delivery_date = " + Placeholder(params, *q.date_from));
  } else {
    if (q.date_from) add("o.delivery_date >= " + Placeholder(params, *q.date_from));
    if (q.date_to) add("o.delivery_date <= " + Placeholder(params, *q.date_to));
  }
  return where;
}

bool NoFilters(const OrderPageQuery& q) {
  return !q.status && !q.payment_status && !q.student_id && !q.school_id && !q.date_from &&
         !q.date_to;
}

// A school's first page of one delivery day, newest first, nothing else filtered: a kitchen's
// list of today, read along its own index (kOrdersOfSchoolOnDay).
bool OneSchoolDay(const OrderPageQuery& q) {
  return q.scope == OrderScope::kSchool && q.sort == OrderSort::kCreatedDesc && !q.after_key &&
         !q.status && !q.payment_status && !q.student_id && !q.school_id && q.date_from &&
         q.date_to && *q.date_from == *q.date_to;
}

Status ForEachOrderRow(Connection& conn, std::string_view sql, std::span<const Value> params,
                       const std::function<bool(const RowView&)>& fn);

bool ByCreated(OrderSort sort) {
  return sort == OrderSort::kCreatedDesc || sort == OrderSort::kCreatedAsc;
}

bool Descending(OrderSort sort) {
  return sort == OrderSort::kCreatedDesc || sort == OrderSort::kDeliveryDesc;
}

// The WHERE clause of q's scope, filters and cursor, appending its parameters.
std::string WhereAfterCursor(const OrderPageQuery& q, std::vector<Value>& params) {
  std::string where = ScopeAndFilters(q, params);
  if (q.after_key) {
    where += where.empty() ? " WHERE " : " AND ";
    const std::string k = Placeholder(params, *q.after_key);
    const std::string id = Placeholder(params, *q.after_id);
    where += ByCreated(q.sort) ? "(o.created_at, o.id)" : "(o.delivery_date, o.id)";
    where += Descending(q.sort) ? " < (" : " > (";
    where += k + ", " + id + ")";
  }
  return where;
}

// " ORDER BY <key>, id LIMIT $n" in q's page order; `qualified` names the columns as o.x (one
// statement) rather than as result columns (a compound statement).
std::string OrderByAndLimit(const OrderPageQuery& q, bool qualified, std::vector<Value>& params) {
  const std::string_view prefix = qualified ? "o." : "";
  const std::string_view dir = Descending(q.sort) ? " DESC" : " ASC";
  std::string out = " ORDER BY ";
  out += prefix;
  out += ByCreated(q.sort) ? "created_at" : "delivery_date";
  out += dir;
  out += ", ";
  out += prefix;
  out += "id";
  out += dir;
  out += " LIMIT " + Placeholder(params, q.limit);
  return out;
}

// A parent's page as the merge of each child's page: every child's first `limit` rows (after the
// cursor, under the filters) hold the parent's first `limit` rows. One compound statement, an arm
// per child, each arm walking that child's (student_id, key, id) index in page order; SQLite
// merges ordered arms of a UNION ALL without sorting and stops at the LIMIT, so only the page's
// rows are stepped and copied (EXPLAIN: "MERGE (UNION ALL)"). nullopt when the parent has so many
// children that one statement over the IN list is cheaper.
StatusOr<std::optional<std::vector<OrderRow>>> ListParentPageByChild(Connection& conn,
                                                                     const OrderPageQuery& q) {
  const Value parent[] = {q.scope_id};
  ASSIGN_OR_RETURN(ResultSet children, conn.Query(kChildrenOfParent, parent));
  if (children.rows.size() > kMaxMergedChildren) {
    return std::optional<std::vector<OrderRow>>();
  }
  OrderPageQuery per_child = q;
  per_child.scope = OrderScope::kStudent;
  per_child.student_id.reset();
  std::vector<Value> params;
  std::string sql;
  for (const Row& child : children.rows) {
    if (q.student_id && *q.student_id != child.Text(0)) continue;
    per_child.scope_id = child.Text(0);
    if (!sql.empty()) sql += " UNION ALL ";
    sql += "SELECT ";
    sql += kOrderColumns;
    sql += " FROM orders o";
    sql += WhereAfterCursor(per_child, params);
  }
  std::vector<OrderRow> page;
  if (sql.empty()) return std::optional<std::vector<OrderRow>>(std::move(page));
  // The compound's ORDER BY names its result columns (created_at, delivery_date, id).
  sql += OrderByAndLimit(q, /*qualified=*/false, params);
  page.reserve(static_cast<size_t>(std::clamp<int64_t>(q.limit, 0, 1000)));
  RETURN_IF_ERROR(ForEachOrderRow(conn, sql, params, [&](const RowView& r) {
    page.push_back(ReadOrder(r));
    return true;
  }));
  return std::optional<std::vector<OrderRow>>(std::move(page));
}

// Runs the one statement of q's page, handing each row to fn (false stops).
Status ForEachPageRow(Connection& conn, const OrderPageQuery& q,
                      const std::function<bool(const RowView&)>& fn) {
  std::vector<Value> params;
  std::string built;
  std::string_view sql;
  const bool hot = q.sort == OrderSort::kCreatedDesc && NoFilters(q);
  // The audited statements of hot_queries.h where they apply exactly.
  if (hot && q.scope == OrderScope::kParent && !q.after_key) {
    params = {q.scope_id, q.limit};
    sql = kOrdersOfParentFirstPage;
  } else if (hot && q.scope == OrderScope::kParent) {
    params = {q.scope_id, *q.after_key, *q.after_id, q.limit};
    sql = kOrdersOfParentAfter;
  } else if (hot && q.scope == OrderScope::kStudent && !q.after_key) {
    params = {q.scope_id, q.limit};
    sql = kOrdersOfStudentFirstPage;
  } else if (hot && q.scope == OrderScope::kStudent) {
    params = {q.scope_id, *q.after_key, *q.after_id, q.limit};
    sql = kOrdersOfStudentAfter;
  } else if (hot && q.scope == OrderScope::kSchool && q.after_key) {
    params = {q.scope_id, *q.after_key, *q.after_id, q.limit};
    sql = kOrdersOfSchoolAfter;
  } else if (OneSchoolDay(q)) {
    params = {q.scope_id, *q.date_from, q.limit};
    sql = kOrdersOfSchoolOnDay;
  } else {
    built = "SELECT ";
    built += kOrderColumns;
    built += " FROM orders o";
    built += WhereAfterCursor(q, params);
    built += OrderByAndLimit(q, /*qualified=*/true, params);
    sql = built;
  }
  return ForEachOrderRow(conn, sql, params, fn);
}

// Runs `sql`, an order query returning kOrderColumns, handing each row to fn (false stops).
Status ForEachOrderRow(Connection& conn, std::string_view sql, std::span<const Value> params,
                       const std::function<bool(const RowView&)>& fn) {
  bool short_row = false;
  RETURN_IF_ERROR(conn.QueryEach(sql, params, [&](const RowView& r) {
    if (r.size() < kOrderColumnCount) {
      short_row = true;
      return false;
    }
    return fn(r);
  }));
  if (short_row) return InternalError("order page: short row");
  return Status::Ok();
}

StatusOr<std::vector<OrderRow>> ListOrderPageOneStatement(Connection& conn,
                                                          const OrderPageQuery& q) {
  std::vector<OrderRow> out;
  out.reserve(static_cast<size_t>(std::clamp<int64_t>(q.limit, 0, 1000)));
  RETURN_IF_ERROR(ForEachPageRow(conn, q, [&](const RowView& r) {
    out.push_back(ReadOrder(r));
    return true;
  }));
  return out;
}

}  // namespace

StatusOr<std::vector<OrderRow>> ListOrderPage(Connection& conn, const OrderPageQuery& q) {
  // In-process SQLite makes a few index walks cheaper than one statement that sorts; on
  // PostgreSQL each would be a round trip, and its planner merges the children's index scans.
  if (q.scope == OrderScope::kParent && conn.dialect() == Dialect::kSqlite) {
    ASSIGN_OR_RETURN(std::optional<std::vector<OrderRow>> page, ListParentPageByChild(conn, q));
    if (page) return std::move(*page);
  }
  return ListOrderPageOneStatement(conn, q);
}

StatusOr<int64_t> CountOrders(Connection& conn, const OrderPageQuery& q) {
  std::vector<Value> params;
  std::string sql = "SELECT COUNT(*) FROM orders o" + ScopeAndFilters(q, params);
  ASSIGN_OR_RETURN(ResultSet rs, conn.Query(sql, params));
  return rs.empty() ? 0 : rs.rows[0].Int(0);
}

StatusOr<std::vector<OrderExtras>> LoadOrderExtras(Connection& conn,
                                                   const std::vector<OrderRow>& orders) {
  std::vector<OrderExtras> out(orders.size());
  if (orders.empty()) return out;
  if (conn.dialect() == Dialect::kSqlite) {
    // A page names few distinct students and schools (a parent's children, one school); point
    // lookups by primary key on prepared statements are cheaper than an IN list, which SQLite
    // builds into a temporary b-tree on every run.
    std::unordered_map<std::string_view, OrderExtras> students;
    std::unordered_map<std::string_view, std::string> schools;
    for (const OrderRow& o : orders) {
      if (!students.contains(o.student_id)) {
        const Value id[] = {o.student_id};
        ASSIGN_OR_RETURN(ResultSet rs,
                         conn.Query("SELECT first_name, last_name, grade, section, parent_id"
                                    " FROM users WHERE id = $1",
                                    id));
        OrderExtras e;
        if (!rs.empty()) {
          const Row& r = rs.rows[0];
          e.student_first_name = r.Text(0);
          e.student_last_name = r.Text(1);
          e.grade = r.OptText(2);
          e.section = r.OptText(3);
          e.student_parent_id = r.Text(4);
        }
        students.emplace(o.student_id, std::move(e));
      }
      if (!schools.contains(o.school_id)) {
        const Value id[] = {o.school_id};
        ASSIGN_OR_RETURN(ResultSet rs, conn.Query("SELECT name FROM schools WHERE id = $1", id));
        schools.emplace(o.school_id, rs.empty() ? std::string() : rs.rows[0].Text(0));
      }
    }
    for (size_t i = 0; i < orders.size(); ++i) {
      out[i] = students.at(orders[i].student_id);
      out[i].school_name = schools.at(orders[i].school_id);
    }
    return out;
  }
  // The IN list is padded to a few fixed sizes so that only a handful of statements get
  // prepared, whatever the page sizes asked for.
  size_t width = 1;
  for (size_t w : {1, 5, 10, 20, 50, 101}) {
    width = w;
    if (w >= orders.size()) break;
  }
  if (orders.size() > width) width = orders.size();
  std::string sql =
      "SELECT o.id, s.first_name, s.last_name, s.grade, s.section, s.parent_id, sc.name"
      " FROM orders o JOIN users s ON s.id = o.student_id JOIN schools sc ON sc.id = o.school_id"
      " WHERE o.id IN (";
  std::vector<Value> params;
  params.reserve(width);
  for (size_t i = 0; i < width; ++i) {
    if (i > 0) sql += ", ";
    sql += "$" + std::to_string(i + 1);
    params.emplace_back(orders[std::min(i, orders.size() - 1)].id);
  }
  sql += ")";
  ASSIGN_OR_RETURN(ResultSet rs, conn.Query(sql, params));
  std::unordered_map<std::string_view, size_t> index;
  for (size_t i = 0; i < orders.size(); ++i) index.emplace(orders[i].id, i);
  for (const Row& r : rs.rows) {
    auto it = index.find(r.Text(0));
    if (it == index.end()) continue;
    OrderExtras& e = out[it->second];
    e.student_first_name = r.Text(1);
    e.student_last_name = r.Text(2);
    e.grade = r.OptText(3);
    e.section = r.OptText(4);
    e.student_parent_id = r.Text(5);
    e.school_name = r.Text(6);
  }
  return out;
}

StatusOr<std::optional<OrderOwners>> FindOrderOwners(Connection& conn, std::string_view order_id) {
  const Value params[] = {std::string(order_id)};
  ASSIGN_OR_RETURN(ResultSet rs,
                   conn.Query("SELECT o.student_id, s.parent_id, o.school_id FROM orders o"
                              " JOIN users s ON s.id = o.student_id WHERE o.id = $1",
                              params));
  if (rs.empty()) return std::optional<OrderOwners>();
  const Row& r = rs.rows[0];
  return std::optional<OrderOwners>(OrderOwners{r.Text(0), r.Text(1), r.Text(2)});
}

StatusOr<std::optional<OrderStudentRow>> FindOrderStudent(Connection& conn,
                                                          std::string_view user_id) {
  const Value params[] = {std::string(user_id)};
  ASSIGN_OR_RETURN(
      ResultSet rs,
      conn.Query("SELECT u.id, u.role, u.school_id, u.parent_id, u.is_active, u.status,"
                 " u.first_name, u.last_name, u.grade, u.section, sc.name, sc.timezone,"
                 " sc.is_active"
                 " FROM users u LEFT JOIN schools sc ON sc.id = u.school_id WHERE u.id = $1",
                 params));
  if (rs.empty()) return std::optional<OrderStudentRow>();
  const Row& r = rs.rows[0];
  OrderStudentRow s;
  s.id = r.Text(0);
  s.role = r.Text(1);
  s.school_id = r.Text(2);
  s.parent_id = r.Text(3);
  s.active = r.Bool(4) && r.Text(5) == "active";
  s.first_name = r.Text(6);
  s.last_name = r.Text(7);
  s.grade = r.OptText(8);
  s.section = r.OptText(9);
  s.school_name = r.Text(10);
  s.school_timezone = r.Text(11);
  s.school_active = !r.IsNull(12) && r.Bool(12);
  return std::optional<OrderStudentRow>(std::move(s));
}

StatusOr<std::optional<OrderDetailRow>> FindOrderDetail(Connection& conn,
                                                        std::string_view order_id) {
  const Value params[] = {std::string(order_id)};
  std::string sql = "SELECT ";
  sql += kOrderColumns;
  sql +=
      ", o.special_instructions, o.allergy_info, s.first_name, s.last_name, s.grade, s.section,"
      " s.parent_id, sc.name"
      " FROM orders o JOIN users s ON s.id = o.student_id JOIN schools sc ON sc.id = o.school_id"
      " WHERE o.id = $1";
  ASSIGN_OR_RETURN(ResultSet rs, conn.Query(sql, params));
  if (rs.empty()) return std::optional<OrderDetailRow>();
  const Row& r = rs.rows[0];
  OrderDetailRow d;
  d.order = ReadOrder(r);
  d.special_instructions = r.OptText(13);
  d.allergy_info = r.OptText(14);
  d.extras.student_first_name = r.Text(15);
  d.extras.student_last_name = r.Text(16);
  d.extras.grade = r.OptText(17);
  d.extras.section = r.OptText(18);
  d.extras.student_parent_id = r.Text(19);
  d.extras.school_name = r.Text(20);
  // Line ids are UUIDv7 minted in line order (order_service.cc), so id order is line order.
  ASSIGN_OR_RETURN(ResultSet items, conn.Query("SELECT id, menu_item_id, slot_id, name, quantity,"
                                               " unit_price_paise, total_price_paise, notes"
                                               " FROM order_items WHERE order_id = $1 ORDER BY id",
                                               params));
  for (const Row& i : items.rows) {
    d.items.push_back(OrderItemRow{i.Text(0), i.Text(1), i.OptText(2), i.Text(3), i.Int(4),
                                   i.Int(5), i.Int(6), i.OptText(7)});
  }
  return std::optional<OrderDetailRow>(std::move(d));
}

StatusOr<bool> InsertOrder(Connection& conn, const NewOrder& o) {
  auto opt = [](const std::optional<std::string>& s) -> Value {
    if (!s) return std::monostate{};
    return *s;
  };
  const Value params[] = {o.id,
                          o.order_number,
                          o.user_id,
                          o.student_id,
                          o.school_id,
                          o.total_amount_paise,
                          o.currency,
                          o.delivery_date,
                          opt(o.special_instructions),
                          opt(o.allergy_info),
                          o.now,
                          o.item_count};
  // ON CONFLICT: a failed INSERT would abort a PostgreSQL transaction; the caller retries
  // with a fresh number instead.
  ASSIGN_OR_RETURN(
      ResultSet rs,
      conn.Query("INSERT INTO orders (id, order_number, user_id, student_id, school_id, status,"
                 " payment_status, total_amount_paise, currency, delivery_date,"
                 " special_instructions, allergy_info, created_at, updated_at, item_count)"
                 " VALUES ($1, $2, $3, $4, $5, 'pending', 'pending', $6, $7, $8, $9, $10, $11,"
                 " $11, $12) ON CONFLICT (order_number) DO NOTHING",
                 params));
  return rs.rows_affected == 1;
}

Status InsertOrderItem(Connection& conn, std::string_view order_id, const OrderItemRow& item,
                       std::string_view now) {
  const Value params[] = {item.id,
                          std::string(order_id),
                          item.menu_item_id,
                          item.slot_id ? Value(*item.slot_id) : Value(std::monostate{}),
                          item.name,
                          item.quantity,
                          item.unit_price_paise,
                          item.total_price_paise,
                          item.notes ? Value(*item.notes) : Value(std::monostate{}),
                          std::string(now)};
  return conn
      .Query(
          "INSERT INTO order_items (id, order_id, menu_item_id, slot_id, name, quantity,"
          " unit_price_paise, total_price_paise, notes, created_at, updated_at)"
          " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
          params)
      .status();
}

StatusOr<bool> UpdateOrderStatus(Connection& conn, std::string_view order_id, std::string_view from,
                                 std::string_view to, std::string_view now) {
  const Value params[] = {std::string(order_id), std::string(from), std::string(to),
                          std::string(now)};
  std::string_view sql =
      to == "cancelled"
          ? "UPDATE orders SET status = $3, cancelled_at = $4, updated_at = $4"
            " WHERE id = $1 AND status = $2"
          : "UPDATE orders SET status = $3, updated_at = $4 WHERE id = $1 AND status = $2";
  ASSIGN_OR_RETURN(ResultSet rs, conn.Query(sql, params));
  return rs.rows_affected == 1;
}

StatusOr<bool> AnyOrder(Connection& conn) {
  ASSIGN_OR_RETURN(ResultSet rs, conn.Query("SELECT 1 FROM orders LIMIT 1"));
  return !rs.rows.empty();
}

Status AppendOrder(BulkWriter& writer, const OrderLoadRow& row) {
  static constexpr std::string_view kColumns[] = {
      "id",         "order_number",  "user_id",        "student_id",
      "school_id",  "status",        "payment_status", "total_amount_paise",
      "currency",   "delivery_date", "delivered_at",   "cancelled_at",
      "created_at", "updated_at",    "item_count"};
  RETURN_IF_ERROR(writer.StartRow("orders", kColumns));
  return writer.Text(row.id)
      .Text(row.order_number)
      .Text(row.user_id)
      .Text(row.student_id)
      .Text(row.school_id)
      .Text(row.status)
      .Text(row.payment_status)
      .Int(row.total_amount_paise)
      .Text(row.currency)
      .Day(row.delivery_date)
      .OptTime(row.delivered_at)
      .OptTime(row.cancelled_at)
      .Time(row.created_at)
      .Time(row.updated_at)
      .Int(row.item_count)
      .EndRow();
}

Status AppendOrderItem(BulkWriter& writer, const OrderItemLoadRow& row) {
  static constexpr std::string_view kColumns[] = {
      "id",       "order_id",         "menu_item_id",      "slot_id",    "name",
      "quantity", "unit_price_paise", "total_price_paise", "created_at", "updated_at"};
  RETURN_IF_ERROR(writer.StartRow("order_items", kColumns));
  return writer.Text(row.id)
      .Text(row.order_id)
      .Text(row.menu_item_id)
      .Text(row.slot_id)
      .Text(row.name)
      .Int(row.quantity)
      .Int(row.unit_price_paise)
      .Int(row.total_price_paise)
      .Time(row.created_at)
      .Time(row.updated_at)
      .EndRow();
}

}  // namespace hasivu::store
