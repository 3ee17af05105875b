#include "store/orders_repo.h"

#include <string>
#include <unordered_map>
#include <utility>

#include "store/hot_queries.h"

namespace hasivu::store {
namespace {

constexpr std::string_view kOrderColumns =
    "o.id, o.order_number, o.user_id, o.student_id, o.school_id, o.delivery_date, o.status, "
    "o.payment_status, o.total_amount_paise, o.currency, o.created_at, o.updated_at";
constexpr size_t kOrderColumnCount = 12;

OrderRow ReadOrder(const Row& r) {
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
  if (q.date_from) add("o.delivery_date >= " + Placeholder(params, *q.date_from));
  if (q.date_to) add("o.delivery_date <= " + Placeholder(params, *q.date_to));
  return where;
}

bool NoFilters(const OrderPageQuery& q) {
  return !q.status && !q.payment_status && !q.student_id && !q.school_id && !q.date_from &&
         !q.date_to;
}

}  // namespace

StatusOr<std::vector<OrderRow>> ListOrderPage(Connection& conn, const OrderPageQuery& q) {
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
  } else if (hot && q.scope == OrderScope::kStudent && q.after_key) {
    params = {q.scope_id, *q.after_key, *q.after_id, q.limit};
    sql = kOrdersOfStudentAfter;
  } else if (hot && q.scope == OrderScope::kSchool && q.after_key) {
    params = {q.scope_id, *q.after_key, *q.after_id, q.limit};
    sql = kOrdersOfSchoolAfter;
  } else {
    built = "SELECT ";
    built += kOrderColumns;
    built += " FROM orders o";
    std::string where = ScopeAndFilters(q, params);
    const bool by_created = q.sort == OrderSort::kCreatedDesc || q.sort == OrderSort::kCreatedAsc;
    const bool desc = q.sort == OrderSort::kCreatedDesc || q.sort == OrderSort::kDeliveryDesc;
    const std::string key = by_created ? "o.created_at" : "o.delivery_date";
    if (q.after_key) {
      where += where.empty() ? " WHERE " : " AND ";
      const std::string k = Placeholder(params, *q.after_key);
      const std::string id = Placeholder(params, *q.after_id);
      where += "(" + key + ", o.id) " + (desc ? "<" : ">") + " (" + k + ", " + id + ")";
    }
    built += where;
    const char* dir = desc ? " DESC" : " ASC";
    built += " ORDER BY " + key + dir + ", o.id" + dir;
    built += " LIMIT " + Placeholder(params, q.limit);
    sql = built;
  }
  ASSIGN_OR_RETURN(ResultSet rs, conn.Query(sql, params));
  std::vector<OrderRow> out;
  out.reserve(rs.rows.size());
  for (const Row& r : rs.rows) {
    if (r.size() < kOrderColumnCount) return InternalError("order page: short row");
    out.push_back(ReadOrder(r));
  }
  return out;
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
  // The IN list is padded to a few fixed sizes so that only a handful of statements get
  // prepared, whatever the page sizes asked for.
  size_t width = 1;
  for (size_t w : {1, 5, 10, 20, 50, 101}) {
    width = w;
    if (w >= orders.size()) break;
  }
  if (orders.size() > width) width = orders.size();
  std::string sql =
      "SELECT o.id, s.first_name, s.last_name, s.grade, s.section, s.parent_id, sc.name,"
      " (SELECT COUNT(*) FROM order_items oi WHERE oi.order_id = o.id)"
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
    e.item_count = r.Int(7);
  }
  return out;
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
  d.special_instructions = r.OptText(12);
  d.allergy_info = r.OptText(13);
  d.extras.student_first_name = r.Text(14);
  d.extras.student_last_name = r.Text(15);
  d.extras.grade = r.OptText(16);
  d.extras.section = r.OptText(17);
  d.extras.student_parent_id = r.Text(18);
  d.extras.school_name = r.Text(19);
  // Line ids are UUIDv7 minted in line order (order_service.cc), so id order is line order.
  ASSIGN_OR_RETURN(ResultSet items, conn.Query("SELECT id, menu_item_id, slot_id, name, quantity,"
                                               " unit_price_paise, total_price_paise, notes"
                                               " FROM order_items WHERE order_id = $1 ORDER BY id",
                                               params));
  for (const Row& i : items.rows) {
    d.items.push_back(OrderItemRow{i.Text(0), i.Text(1), i.OptText(2), i.Text(3), i.Int(4),
                                   i.Int(5), i.Int(6), i.OptText(7)});
  }
  d.extras.item_count = static_cast<int64_t>(d.items.size());
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
                          o.now};
  // ON CONFLICT: a failed INSERT would abort a PostgreSQL transaction; the caller retries
  // with a fresh number instead.
  ASSIGN_OR_RETURN(
      ResultSet rs,
      conn.Query("INSERT INTO orders (id, order_number, user_id, student_id, school_id, status,"
                 " payment_status, total_amount_paise, currency, delivery_date,"
                 " special_instructions, allergy_info, created_at, updated_at)"
                 " VALUES ($1, $2, $3, $4, $5, 'pending', 'pending', $6, $7, $8, $9, $10, $11,"
                 " $11) ON CONFLICT (order_number) DO NOTHING",
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

}  // namespace hasivu::store
