#include "store/rfid_repo.h"

#include "store/hot_queries.h"

namespace hasivu::store {
namespace {

constexpr std::string_view kReaderById =
    "SELECT r.id, r.school_id, r.is_active FROM rfid_readers r WHERE r.id = $1";

#define HASIVU_DELIVERY_ORDER_COLUMNS                                            \
  "o.id, o.order_number, o.student_id, o.school_id, o.delivery_date, o.status, " \
  "o.payment_status, o.delivered_at"

constexpr std::string_view kDeliveryOrderById =
    "SELECT " HASIVU_DELIVERY_ORDER_COLUMNS " FROM orders o WHERE o.id = $1";

// Served by orders_studentId_deliveryDate_desc_idx like the hot query.
constexpr std::string_view kDeliveredOrderOfStudent =
    "SELECT " HASIVU_DELIVERY_ORDER_COLUMNS
    " FROM orders o WHERE o.student_id = $1 AND o.delivery_date = $2 AND o.status = 'delivered'"
    " ORDER BY o.delivered_at DESC, o.id DESC LIMIT 1";

#undef HASIVU_DELIVERY_ORDER_COLUMNS

constexpr std::string_view kVerifiedDeliveryOfOrder =
    "SELECT v.id, v.order_id, v.student_id, v.card_id, v.reader_id, v.verified_at, v.status,"
    " v.location FROM delivery_verifications v WHERE v.order_id = $1 AND v.status = 'verified'";

constexpr std::string_view kOrderLines =
    "SELECT i.name, i.quantity FROM order_items i WHERE i.order_id = $1"
    " ORDER BY i.created_at, i.id";

// The WHERE repeats every precondition the domain checked, so a concurrent change between its
// read and this write cannot deliver an order that is no longer deliverable.
constexpr std::string_view kMarkDelivered =
    "UPDATE orders SET status = 'delivered', delivered_at = $2, updated_at = $2"
    " WHERE id = $1 AND student_id = $3 AND delivery_date = $4 AND payment_status = 'paid'"
    " AND status IN ('confirmed', 'preparing', 'ready', 'out_for_delivery')";

constexpr std::string_view kInsertVerification =
    "INSERT INTO delivery_verifications (id, order_id, student_id, card_id, reader_id,"
    " verified_at, status, location, verification_data, created_at)"
    " VALUES ($1, $2, $3, $4, $5, $6, 'verified', $7, $8, $6)";

constexpr std::string_view kTouchCard =
    "UPDATE rfid_cards SET last_used_at = $2, updated_at = $2 WHERE id = $1";

constexpr std::string_view kInsertAudit =
    "INSERT INTO audit_logs (id, entity_type, entity_id, action, changes, user_id,"
    " created_by_id, ip_address, user_agent, request_id, metadata, created_at)"
    " VALUES ($1, 'order', $2, 'rfid_delivery_verified', $3, $4, $4, $5, $6, $7, $8, $9)";

Value Text(std::string_view s) { return Value(std::string(s)); }
Value OptText(const std::optional<std::string>& s) { return s ? Value(*s) : Value(); }
Value TextOrNull(std::string_view s) { return s.empty() ? Value() : Value(std::string(s)); }

DeliveryOrderRow ToDeliveryOrder(const Row& r) {
  return DeliveryOrderRow{.id = r.Text(0),
                          .order_number = r.Text(1),
                          .student_id = r.Text(2),
                          .school_id = r.Text(3),
                          .delivery_date = r.Text(4),
                          .status = r.Text(5),
                          .payment_status = r.Text(6),
                          .delivered_at = r.OptText(7)};
}

StatusOr<std::optional<DeliveryOrderRow>> OneOrder(Connection& conn, std::string_view sql,
                                                   std::span<const Value> params) {
  ASSIGN_OR_RETURN(ResultSet rs, conn.Query(sql, params));
  if (rs.empty()) return std::optional<DeliveryOrderRow>();
  return std::optional<DeliveryOrderRow>(ToDeliveryOrder(rs.rows[0]));
}

}  // namespace

StatusOr<std::optional<CardRow>> FindCardByNumber(Connection& conn, std::string_view card_number) {
  const Value params[] = {Text(card_number)};
  ASSIGN_OR_RETURN(ResultSet rs, conn.Query(kCardByNumber, params));
  if (rs.empty()) return std::optional<CardRow>();
  const Row& r = rs.rows[0];
  return std::optional<CardRow>(CardRow{.id = r.Text(0),
                                        .card_number = r.Text(1),
                                        .active = r.Bool(2),
                                        .expires_at = r.OptText(3),
                                        .student_id = r.Text(4),
                                        .student_first_name = r.Text(5),
                                        .student_last_name = r.Text(6),
                                        .grade = r.OptText(7),
                                        .section = r.OptText(8),
                                        .student_active = r.Bool(9),
                                        .school_id = r.Text(10),
                                        .school_name = r.Text(11),
                                        .school_timezone = r.Text(12),
                                        .school_active = r.Bool(13)});
}

StatusOr<std::optional<ReaderRow>> FindReader(Connection& conn, std::string_view reader_id) {
  const Value params[] = {Text(reader_id)};
  ASSIGN_OR_RETURN(ResultSet rs, conn.Query(kReaderById, params));
  if (rs.empty()) return std::optional<ReaderRow>();
  const Row& r = rs.rows[0];
  return std::optional<ReaderRow>(
      ReaderRow{.id = r.Text(0), .school_id = r.Text(1), .active = r.Bool(2)});
}

StatusOr<std::optional<DeliveryOrderRow>> FindDeliveryOrder(Connection& conn,
                                                            std::string_view order_id) {
  const Value params[] = {Text(order_id)};
  return OneOrder(conn, kDeliveryOrderById, params);
}

StatusOr<std::optional<DeliveryOrderRow>> FindDeliverableOrderOfStudent(Connection& conn,
                                                                        std::string_view student_id,
                                                                        std::string_view date) {
  const Value params[] = {Text(student_id), Text(date)};
  ASSIGN_OR_RETURN(ResultSet rs, conn.Query(kDeliverableOrderOfStudent, params));
  if (rs.empty()) return std::optional<DeliveryOrderRow>();
  // The hot query returns id, order_number, status, payment_status, school_id, delivery_date.
  const Row& r = rs.rows[0];
  return std::optional<DeliveryOrderRow>(DeliveryOrderRow{.id = r.Text(0),
                                                          .order_number = r.Text(1),
                                                          .student_id = std::string(student_id),
                                                          .school_id = r.Text(4),
                                                          .delivery_date = r.Text(5),
                                                          .status = r.Text(2),
                                                          .payment_status = r.Text(3),
                                                          .delivered_at = std::nullopt});
}

StatusOr<std::optional<DeliveryOrderRow>> FindDeliveredOrderOfStudent(Connection& conn,
                                                                      std::string_view student_id,
                                                                      std::string_view date) {
  const Value params[] = {Text(student_id), Text(date)};
  return OneOrder(conn, kDeliveredOrderOfStudent, params);
}

StatusOr<std::optional<VerificationRow>> FindVerifiedDelivery(Connection& conn,
                                                              std::string_view order_id) {
  const Value params[] = {Text(order_id)};
  ASSIGN_OR_RETURN(ResultSet rs, conn.Query(kVerifiedDeliveryOfOrder, params));
  if (rs.empty()) return std::optional<VerificationRow>();
  const Row& r = rs.rows[0];
  return std::optional<VerificationRow>(VerificationRow{.id = r.Text(0),
                                                        .order_id = r.OptText(1),
                                                        .student_id = r.Text(2),
                                                        .card_id = r.Text(3),
                                                        .reader_id = r.OptText(4),
                                                        .verified_at = r.Text(5),
                                                        .status = r.Text(6),
                                                        .location = r.OptText(7)});
}

StatusOr<std::vector<OrderLineRow>> ListOrderLines(Connection& conn, std::string_view order_id) {
  const Value params[] = {Text(order_id)};
  ASSIGN_OR_RETURN(ResultSet rs, conn.Query(kOrderLines, params));
  std::vector<OrderLineRow> lines;
  lines.reserve(rs.rows.size());
  for (const Row& r : rs.rows) lines.push_back({.name = r.Text(0), .quantity = r.Int(1)});
  return lines;
}

StatusOr<bool> MarkOrderDelivered(Connection& conn, std::string_view order_id,
                                  std::string_view student_id, std::string_view date,
                                  std::string_view now) {
  const Value params[] = {Text(order_id), Text(now), Text(student_id), Text(date)};
  ASSIGN_OR_RETURN(ResultSet rs, conn.Query(kMarkDelivered, params));
  return rs.rows_affected == 1;
}

Status InsertVerification(Connection& conn, const VerificationRow& row,
                          std::string_view verification_data_json) {
  const Value params[] = {Text(row.id),          OptText(row.order_id),       Text(row.student_id),
                          Text(row.card_id),     OptText(row.reader_id),      Text(row.verified_at),
                          OptText(row.location), Text(verification_data_json)};
  return conn.Query(kInsertVerification, params).status();
}

Status TouchCard(Connection& conn, std::string_view card_id, std::string_view now) {
  const Value params[] = {Text(card_id), Text(now)};
  return conn.Query(kTouchCard, params).status();
}

Status InsertDeliveryAudit(Connection& conn, const DeliveryAuditRow& row) {
  const Value params[] = {Text(row.id),
                          Text(row.order_id),
                          Text(row.changes_json),
                          TextOrNull(row.user_id),
                          TextOrNull(row.ip_address),
                          TextOrNull(row.user_agent),
                          TextOrNull(row.request_id),
                          Text(row.metadata_json),
                          Text(row.created_at)};
  return conn.Query(kInsertAudit, params).status();
}

Status AppendReader(BulkWriter& writer, const ReaderLoadRow& row) {
  static constexpr std::string_view kColumns[] = {
      "id",     "school_id",      "name",      "location",   "ip_address",
      "status", "last_heartbeat", "is_active", "created_at", "updated_at"};
  RETURN_IF_ERROR(writer.StartRow("rfid_readers", kColumns));
  return writer.Text(row.id)
      .Text(row.school_id)
      .Text(row.name)
      .Text(row.location)
      .Text(row.ip_address)
      .Text(row.status)
      .Time(row.last_heartbeat)
      .Bool(row.is_active)
      .Time(row.created_at)
      .Time(row.updated_at)
      .EndRow();
}

Status AppendCard(BulkWriter& writer, const CardLoadRow& row) {
  static constexpr std::string_view kColumns[] = {
      "id",         "card_number",    "student_id",          "school_id",  "is_active", "issued_at",
      "expires_at", "deactivated_at", "deactivation_reason", "created_at", "updated_at"};
  RETURN_IF_ERROR(writer.StartRow("rfid_cards", kColumns));
  return writer.Text(row.id)
      .Text(row.card_number)
      .Text(row.student_id)
      .Text(row.school_id)
      .Bool(row.is_active)
      .Time(row.issued_at)
      .OptTime(row.expires_at)
      .OptTime(row.deactivated_at)
      .TextOrNull(row.deactivation_reason)
      .Time(row.created_at)
      .Time(row.updated_at)
      .EndRow();
}

Status AppendVerification(BulkWriter& writer, const VerificationLoadRow& row) {
  static constexpr std::string_view kColumns[] = {"id",      "order_id",  "student_id",
                                                  "card_id", "reader_id", "verified_at",
                                                  "status",  "location",  "created_at"};
  RETURN_IF_ERROR(writer.StartRow("delivery_verifications", kColumns));
  return writer.Text(row.id)
      .Text(row.order_id)
      .Text(row.student_id)
      .Text(row.card_id)
      .Text(row.reader_id)
      .Time(row.verified_at)
      .Text(row.status)
      .Text(row.location)
      .Time(row.created_at)
      .EndRow();
}

}  // namespace hasivu::store
