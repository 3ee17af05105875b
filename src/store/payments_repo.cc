#include "store/payments_repo.h"

#include <utility>

namespace hasivu::store {

namespace {

constexpr std::string_view kPaymentOrderColumns =
    "id, gateway_order_id, gateway, order_id, user_id, amount_paise, currency, status, "
    "receipt, expires_at, paid_at, created_at";

PaymentOrderRow ToPaymentOrder(const Row& r) {
  PaymentOrderRow p;
  p.id = r.Text(0);
  p.gateway_order_id = r.Text(1);
  p.gateway = r.Text(2);
  p.order_id = r.Text(3);
  p.user_id = r.Text(4);
  p.amount_paise = r.Int(5);
  p.currency = r.Text(6);
  p.status = r.Text(7);
  p.receipt = r.Text(8);
  p.expires_at = r.Text(9);
  p.paid_at = r.OptText(10);
  p.created_at = r.Text(11);
  return p;
}

// In the order ToTransaction reads them.
constexpr std::string_view kTransactionColumns =
    "id, gateway_payment_id, payment_order_id, amount_paise, currency, status, method, gateway, "
    "signature, error_code, error_description, captured_at, created_at";

PaymentTransactionRow ToTransaction(const Row& r) {
  PaymentTransactionRow t;
  t.id = r.Text(0);
  t.gateway_payment_id = r.Text(1);
  t.payment_order_id = r.Text(2);
  t.amount_paise = r.Int(3);
  t.currency = r.Text(4);
  t.status = r.Text(5);
  t.method = r.Text(6);
  t.gateway = r.Text(7);
  t.signature = r.Text(8);
  t.error_code = r.Text(9);
  t.error_description = r.Text(10);
  t.captured_at = r.OptText(11);
  t.created_at = r.Text(12);
  return t;
}

constexpr std::string_view kRefundColumns =
    "id, gateway_refund_id, payment_transaction_id, amount_paise, currency, status, reason, "
    "processed_at, created_at";

RefundRow ToRefund(const Row& r) {
  RefundRow f;
  f.id = r.Text(0);
  f.gateway_refund_id = r.Text(1);
  f.payment_transaction_id = r.Text(2);
  f.amount_paise = r.Int(3);
  f.currency = r.Text(4);
  f.status = r.Text(5);
  f.reason = r.Text(6);
  f.processed_at = r.OptText(7);
  f.created_at = r.Text(8);
  return f;
}

Value OptValue(const std::optional<std::string>& v) {
  return v ? Value(*v) : Value(std::monostate{});
}
Value NullIfEmpty(const std::string& v) { return v.empty() ? Value(std::monostate{}) : Value(v); }

}  // namespace

StatusOr<std::optional<PayableOrder>> FindPayableOrder(Connection& c, std::string_view order_id) {
  const Value params[] = {std::string(order_id)};
  ASSIGN_OR_RETURN(ResultSet rs,
                   c.Query("SELECT o.id, o.order_number, o.user_id, o.student_id, s.parent_id, "
                           "o.school_id, o.status, o.payment_status, o.total_amount_paise, "
                           "o.currency FROM orders o JOIN users s ON s.id = o.student_id "
                           "WHERE o.id = $1",
                           params));
  if (rs.empty()) return std::optional<PayableOrder>();
  const Row& r = rs.rows[0];
  PayableOrder o;
  o.id = r.Text(0);
  o.order_number = r.Text(1);
  o.user_id = r.Text(2);
  o.student_id = r.Text(3);
  o.student_parent_id = r.Text(4);
  o.school_id = r.Text(5);
  o.status = r.Text(6);
  o.payment_status = r.Text(7);
  o.total_paise = r.Int(8);
  o.currency = r.Text(9);
  return std::optional<PayableOrder>(std::move(o));
}

StatusOr<bool> LockOrder(Connection& c, std::string_view order_id) {
  const Value params[] = {std::string(order_id)};
  ASSIGN_OR_RETURN(ResultSet rs,
                   c.Query("UPDATE orders SET updated_at = updated_at WHERE id = $1", params));
  return rs.rows_affected > 0;
}

Status ExpireStalePaymentOrders(Connection& c, std::string_view order_id, std::string_view now) {
  const Value params[] = {std::string(order_id), std::string(now)};
  return c
      .Query(
          "UPDATE payment_orders SET status = 'expired', updated_at = $2 "
          "WHERE order_id = $1 AND status IN ('created', 'attempted') AND expires_at <= $2",
          params)
      .status();
}

StatusOr<std::optional<PaymentOrderRow>> FindLivePaymentOrder(Connection& c,
                                                              std::string_view order_id,
                                                              std::string_view now) {
  static const std::string kSql =
      "SELECT " + std::string(kPaymentOrderColumns) +
      " FROM payment_orders WHERE order_id = $1 AND status = 'created' AND expires_at > $2 "
      "ORDER BY created_at DESC LIMIT 1";
  const Value params[] = {std::string(order_id), std::string(now)};
  ASSIGN_OR_RETURN(ResultSet rs, c.Query(kSql, params));
  if (rs.empty()) return std::optional<PaymentOrderRow>();
  return std::optional<PaymentOrderRow>(ToPaymentOrder(rs.rows[0]));
}

Status InsertPaymentOrder(Connection& c, const PaymentOrderRow& p) {
  const Value params[] = {p.id,      p.gateway_order_id, p.gateway,           p.order_id,
                          p.user_id, p.amount_paise,     p.currency,          p.status,
                          p.receipt, p.expires_at,       OptValue(p.paid_at), p.created_at};
  return c
      .Query(
          "INSERT INTO payment_orders (id, gateway_order_id, gateway, order_id, user_id, "
          "amount_paise, currency, status, receipt, expires_at, paid_at, created_at, "
          "updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)",
          params)
      .status();
}

StatusOr<std::optional<PaymentOrderRow>> FindPaymentOrderByGatewayId(
    Connection& c, std::string_view gateway_order_id) {
  static const std::string kSql = "SELECT " + std::string(kPaymentOrderColumns) +
                                  " FROM payment_orders WHERE gateway_order_id = $1";
  const Value params[] = {std::string(gateway_order_id)};
  ASSIGN_OR_RETURN(ResultSet rs, c.Query(kSql, params));
  if (rs.empty()) return std::optional<PaymentOrderRow>();
  return std::optional<PaymentOrderRow>(ToPaymentOrder(rs.rows[0]));
}

StatusOr<std::optional<PaymentOrderRow>> FindPaymentOrderById(Connection& c, std::string_view id) {
  static const std::string kSql =
      "SELECT " + std::string(kPaymentOrderColumns) + " FROM payment_orders WHERE id = $1";
  const Value params[] = {std::string(id)};
  ASSIGN_OR_RETURN(ResultSet rs, c.Query(kSql, params));
  if (rs.empty()) return std::optional<PaymentOrderRow>();
  return std::optional<PaymentOrderRow>(ToPaymentOrder(rs.rows[0]));
}

Status UpdatePaymentOrderStatus(Connection& c, std::string_view id, std::string_view status,
                                std::optional<std::string> paid_at, std::string_view now) {
  const Value params[] = {std::string(id), std::string(status), OptValue(paid_at),
                          std::string(now)};
  return c
      .Query(
          "UPDATE payment_orders SET status = $2, paid_at = COALESCE($3, paid_at), "
          "updated_at = $4 WHERE id = $1",
          params)
      .status();
}

StatusOr<std::optional<PaymentTransactionRow>> FindTransactionByGatewayPaymentId(
    Connection& c, std::string_view gateway_payment_id) {
  static const std::string kSql = "SELECT " + std::string(kTransactionColumns) +
                                  " FROM payment_transactions WHERE gateway_payment_id = $1";
  const Value params[] = {std::string(gateway_payment_id)};
  ASSIGN_OR_RETURN(ResultSet rs, c.Query(kSql, params));
  if (rs.empty()) return std::optional<PaymentTransactionRow>();
  return std::optional<PaymentTransactionRow>(ToTransaction(rs.rows[0]));
}

StatusOr<std::optional<PaymentTransactionRow>> FindSettledTransactionOfOrder(
    Connection& c, std::string_view order_id) {
  static const std::string kSql =
      "SELECT t.id, t.gateway_payment_id, t.payment_order_id, t.amount_paise, t.currency, "
      "t.status, t.method, t.gateway, t.signature, t.error_code, t.error_description, "
      "t.captured_at, t.created_at FROM payment_transactions t JOIN payment_orders p ON p.id = "
      "t.payment_order_id "
      "WHERE p.order_id = $1 AND t.status IN ('captured', 'refunded') "
      "ORDER BY t.created_at, t.id LIMIT 1";
  const Value params[] = {std::string(order_id)};
  ASSIGN_OR_RETURN(ResultSet rs, c.Query(kSql, params));
  if (rs.empty()) return std::optional<PaymentTransactionRow>();
  return std::optional<PaymentTransactionRow>(ToTransaction(rs.rows[0]));
}

StatusOr<bool> InsertTransactionIfAbsent(Connection& c, const PaymentTransactionRow& t) {
  const Value params[] = {t.id,
                          t.gateway_payment_id,
                          t.payment_order_id,
                          t.amount_paise,
                          t.currency,
                          t.status,
                          NullIfEmpty(t.method),
                          t.gateway,
                          NullIfEmpty(t.signature),
                          NullIfEmpty(t.error_code),
                          NullIfEmpty(t.error_description),
                          OptValue(t.captured_at),
                          t.created_at};
  ASSIGN_OR_RETURN(
      ResultSet rs,
      c.Query("INSERT INTO payment_transactions (id, gateway_payment_id, payment_order_id, "
              "amount_paise, currency, status, method, gateway, signature, error_code, "
              "error_description, captured_at, created_at, updated_at) VALUES ($1, $2, $3, $4, "
              "$5, $6, $7, $8, $9, $10, $11, $12, $13, $13) "
              "ON CONFLICT (gateway_payment_id) DO NOTHING RETURNING id",
              params));
  return !rs.empty();
}

StatusOr<bool> MarkOrderPaid(Connection& c, std::string_view order_id, std::string_view now) {
  const Value params[] = {std::string(order_id), std::string(now)};
  ASSIGN_OR_RETURN(
      ResultSet rs,
      c.Query("UPDATE orders SET payment_status = 'paid', status = 'confirmed', updated_at = $2 "
              "WHERE id = $1 AND status = 'pending' AND payment_status IN ('pending', 'failed')",
              params));
  return rs.rows_affected > 0;
}

StatusOr<bool> MarkOrderPaymentFailed(Connection& c, std::string_view order_id,
                                      std::string_view now) {
  const Value params[] = {std::string(order_id), std::string(now)};
  ASSIGN_OR_RETURN(ResultSet rs,
                   c.Query("UPDATE orders SET payment_status = 'failed', updated_at = $2 "
                           "WHERE id = $1 AND payment_status = 'pending'",
                           params));
  return rs.rows_affected > 0;
}

StatusOr<std::optional<RefundRow>> FindRefundByGatewayId(Connection& c,
                                                         std::string_view gateway_refund_id) {
  static const std::string kSql = "SELECT " + std::string(kRefundColumns) +
                                  " FROM payment_refunds WHERE gateway_refund_id = $1";
  const Value params[] = {std::string(gateway_refund_id)};
  ASSIGN_OR_RETURN(ResultSet rs, c.Query(kSql, params));
  if (rs.empty()) return std::optional<RefundRow>();
  return std::optional<RefundRow>(ToRefund(rs.rows[0]));
}

StatusOr<bool> InsertRefundIfAbsent(Connection& c, const RefundRow& f) {
  const Value params[] = {
      f.id,     f.gateway_refund_id,   f.payment_transaction_id, f.amount_paise, f.currency,
      f.status, NullIfEmpty(f.reason), OptValue(f.processed_at), f.created_at};
  ASSIGN_OR_RETURN(
      ResultSet rs,
      c.Query("INSERT INTO payment_refunds (id, gateway_refund_id, payment_transaction_id, "
              "amount_paise, currency, status, reason, processed_at, created_at, updated_at) "
              "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) "
              "ON CONFLICT (gateway_refund_id) DO NOTHING RETURNING id",
              params));
  return !rs.empty();
}

Status UpdateRefundStatus(Connection& c, std::string_view id, std::string_view status,
                          std::optional<std::string> processed_at, std::string_view now) {
  const Value params[] = {std::string(id), std::string(status), OptValue(processed_at),
                          std::string(now)};
  return c
      .Query(
          "UPDATE payment_refunds SET status = $2, processed_at = COALESCE($3, processed_at), "
          "updated_at = $4 WHERE id = $1",
          params)
      .status();
}

StatusOr<int64_t> SumRefunds(Connection& c, std::string_view payment_transaction_id,
                             std::string_view status) {
  const Value params[] = {std::string(payment_transaction_id), std::string(status)};
  ASSIGN_OR_RETURN(ResultSet rs,
                   c.Query("SELECT COALESCE(SUM(amount_paise), 0) FROM payment_refunds "
                           "WHERE payment_transaction_id = $1 AND status = $2",
                           params));
  return rs.rows.at(0).Int(0);
}

StatusOr<int64_t> CountRefunds(Connection& c, std::string_view payment_transaction_id) {
  const Value params[] = {std::string(payment_transaction_id)};
  ASSIGN_OR_RETURN(
      ResultSet rs,
      c.Query("SELECT COUNT(*) FROM payment_refunds WHERE payment_transaction_id = $1", params));
  return rs.rows.at(0).Int(0);
}

Status MarkTransactionRefunded(Connection& c, std::string_view id, std::string_view now) {
  const Value params[] = {std::string(id), std::string(now)};
  return c
      .Query(
          "UPDATE payment_transactions SET status = 'refunded', refunded_at = $2, updated_at = $2 "
          "WHERE id = $1 AND status = 'captured'",
          params)
      .status();
}

StatusOr<bool> MarkOrderRefunded(Connection& c, std::string_view order_id, std::string_view now) {
  const Value params[] = {std::string(order_id), std::string(now)};
  ASSIGN_OR_RETURN(ResultSet rs,
                   c.Query("UPDATE orders SET payment_status = 'refunded', updated_at = $2 "
                           "WHERE id = $1 AND payment_status = 'paid'",
                           params));
  return rs.rows_affected > 0;
}

Status InsertAuditLog(Connection& c, const AuditRow& a) {
  const Value params[] = {a.id,
                          a.entity_type,
                          a.entity_id,
                          a.action,
                          a.changes_json,
                          NullIfEmpty(a.user_id),
                          NullIfEmpty(a.request_id),
                          a.created_at};
  return c
      .Query(
          "INSERT INTO audit_logs (id, entity_type, entity_id, action, changes, user_id, "
          "request_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
          params)
      .status();
}

Status AppendPaymentOrder(BulkWriter& writer, const PaymentOrderLoadRow& row) {
  static constexpr std::string_view kColumns[] = {
      "id",           "gateway_order_id", "gateway",   "order_id", "user_id",
      "amount_paise", "currency",         "status",    "receipt",  "expires_at",
      "paid_at",      "created_at",       "updated_at"};
  RETURN_IF_ERROR(writer.StartRow("payment_orders", kColumns));
  return writer.Text(row.id)
      .Text(row.gateway_order_id)
      .Text(row.gateway)
      .Text(row.order_id)
      .Text(row.user_id)
      .Int(row.amount_paise)
      .Text(row.currency)
      .Text(row.status)
      .Text(row.receipt)
      .Time(row.expires_at)
      .OptTime(row.paid_at)
      .Time(row.created_at)
      .Time(row.updated_at)
      .EndRow();
}

Status AppendPaymentTransaction(BulkWriter& writer, const PaymentTransactionLoadRow& row) {
  static constexpr std::string_view kColumns[] = {"id",
                                                  "gateway_payment_id",
                                                  "payment_order_id",
                                                  "amount_paise",
                                                  "currency",
                                                  "status",
                                                  "method",
                                                  "gateway",
                                                  "error_code",
                                                  "error_description",
                                                  "captured_at",
                                                  "refunded_at",
                                                  "created_at",
                                                  "updated_at"};
  RETURN_IF_ERROR(writer.StartRow("payment_transactions", kColumns));
  return writer.Text(row.id)
      .Text(row.gateway_payment_id)
      .Text(row.payment_order_id)
      .Int(row.amount_paise)
      .Text(row.currency)
      .Text(row.status)
      .Text(row.method)
      .Text(row.gateway)
      .TextOrNull(row.error_code)
      .TextOrNull(row.error_description)
      .OptTime(row.captured_at)
      .OptTime(row.refunded_at)
      .Time(row.created_at)
      .Time(row.updated_at)
      .EndRow();
}

}  // namespace hasivu::store
