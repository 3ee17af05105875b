// SQL of payments: payment orders, gateway payments (payment_transactions), their
// refunds (payment_refunds), and the order/audit rows a payment changes. Typed functions over a
// Connection so the domain can compose them inside one Database::Write() transaction; portable SQL
// for SQLite and PostgreSQL. Also the bulk appenders of payment orders and gateway payments
// (seeding).
//
// Instants are passed and returned as RFC 3339 UTC text (common/time_util.h). Ids must already be
// valid UUIDs where a column is a UUID (the domain checks input first).
//
// Thread-safety: stateless functions; a Connection is used by one thread at a time.
#ifndef HASIVU_STORE_PAYMENTS_REPO_H_
#define HASIVU_STORE_PAYMENTS_REPO_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "common/time_util.h"
#include "store/bulk_load.h"
#include "store/database.h"

namespace hasivu::store {

// An order as payments see it (with the facts its visibility depends on).
struct PayableOrder {
  std::string id;
  std::string order_number;
  std::string user_id;  // who placed it
  std::string student_id;
  std::string student_parent_id;  // may be empty
  std::string school_id;
  std::string status;
  std::string payment_status;
  int64_t total_paise = 0;
  std::string currency;
};

struct PaymentOrderRow {
  std::string id;
  std::string gateway_order_id;
  std::string gateway;
  std::string order_id;
  std::string user_id;
  int64_t amount_paise = 0;
  std::string currency;
  std::string status;  // created | attempted | paid | failed | expired
  std::string receipt;
  std::string expires_at;
  std::optional<std::string> paid_at;
  std::string created_at;
};

struct PaymentTransactionRow {
  std::string id;
  std::string gateway_payment_id;
  std::string payment_order_id;
  int64_t amount_paise = 0;
  std::string currency;
  std::string status;  // created | authorized | captured | refunded | failed
  std::string method;
  std::string gateway;
  std::string signature;
  std::string error_code;
  std::string error_description;
  std::optional<std::string> captured_at;
  std::string created_at;
};

struct RefundRow {
  std::string id;
  std::string gateway_refund_id;  // "rfnd_..."
  std::string payment_transaction_id;
  int64_t amount_paise = 0;
  std::string currency;
  std::string status;  // pending | processed | failed
  std::string reason;  // e.g. "order_cancelled", "gateway" (made outside hasivu); may be empty
  std::optional<std::string> processed_at;
  std::string created_at;
};

struct AuditRow {
  std::string id;
  std::string entity_type;
  std::string entity_id;
  std::string action;
  std::string changes_json = "{}";
  std::string user_id;  // empty: NULL (the gateway's webhook)
  std::string request_id;
  std::string created_at;
};

StatusOr<std::optional<PayableOrder>> FindPayableOrder(Connection& c, std::string_view order_id);

// Takes the order row's write lock until the transaction ends (PostgreSQL: a no-op UPDATE;
// SQLite writers are serialised anyway), so concurrent payment changes of one order queue.
// Returns false if the order does not exist.
StatusOr<bool> LockOrder(Connection& c, std::string_view order_id);

// Marks created/attempted payment orders of `order_id` whose expires_at <= now as expired.
Status ExpireStalePaymentOrders(Connection& c, std::string_view order_id, std::string_view now);

// The newest payment order of `order_id` in status created with expires_at > now.
StatusOr<std::optional<PaymentOrderRow>> FindLivePaymentOrder(Connection& c,
                                                              std::string_view order_id,
                                                              std::string_view now);

Status InsertPaymentOrder(Connection& c, const PaymentOrderRow& row);

StatusOr<std::optional<PaymentOrderRow>> FindPaymentOrderByGatewayId(
    Connection& c, std::string_view gateway_order_id);

StatusOr<std::optional<PaymentOrderRow>> FindPaymentOrderById(Connection& c, std::string_view id);

// Sets status (and paid_at when given) of a payment order.
Status UpdatePaymentOrderStatus(Connection& c, std::string_view id, std::string_view status,
                                std::optional<std::string> paid_at, std::string_view now);

StatusOr<std::optional<PaymentTransactionRow>> FindTransactionByGatewayPaymentId(
    Connection& c, std::string_view gateway_payment_id);

// The captured (or since refunded) gateway payment of an order, the oldest if several; nullopt if
// the order was never paid.
StatusOr<std::optional<PaymentTransactionRow>> FindSettledTransactionOfOrder(
    Connection& c, std::string_view order_id);

// Inserts unless a row with the same gateway_payment_id exists (ON CONFLICT DO NOTHING).
// Returns whether this call inserted it.
StatusOr<bool> InsertTransactionIfAbsent(Connection& c, const PaymentTransactionRow& row);

// pending order with payment pending|failed -> status confirmed, payment paid. Returns whether
// the row changed (false: not payable any more, e.g. paid by another payment).
StatusOr<bool> MarkOrderPaid(Connection& c, std::string_view order_id, std::string_view now);

// payment pending -> failed (a paid order stays paid). Returns whether the row changed.
StatusOr<bool> MarkOrderPaymentFailed(Connection& c, std::string_view order_id,
                                      std::string_view now);

StatusOr<std::optional<RefundRow>> FindRefundByGatewayId(Connection& c,
                                                         std::string_view gateway_refund_id);

// Inserts unless a refund with the same gateway_refund_id exists (ON CONFLICT DO NOTHING).
// Returns whether this call inserted it.
StatusOr<bool> InsertRefundIfAbsent(Connection& c, const RefundRow& row);

// Sets status (and processed_at when given) of a refund.
Status UpdateRefundStatus(Connection& c, std::string_view id, std::string_view status,
                          std::optional<std::string> processed_at, std::string_view now);

// The total of a payment's refunds in `status` (0 if none).
StatusOr<int64_t> SumRefunds(Connection& c, std::string_view payment_transaction_id,
                             std::string_view status);

// How many refunds of a payment are recorded, in any status.
StatusOr<int64_t> CountRefunds(Connection& c, std::string_view payment_transaction_id);

// captured -> refunded (refunded_at = now); other statuses stay.
Status MarkTransactionRefunded(Connection& c, std::string_view id, std::string_view now);

// payment paid -> refunded (the order's status stays). Returns whether the row changed.
StatusOr<bool> MarkOrderRefunded(Connection& c, std::string_view order_id, std::string_view now);

Status InsertAuditLog(Connection& c, const AuditRow& row);

// Bulk loading (store/bulk_load.h). Text fields are views that must stay valid for the call;
// those marked "" = NULL are written as NULL when empty.

struct PaymentOrderLoadRow {
  std::string_view id = {};
  std::string_view gateway_order_id = {};
  std::string_view gateway = {};
  std::string_view order_id = {};
  std::string_view user_id = {};
  int64_t amount_paise = 0;
  std::string_view currency = {};
  std::string_view status = {};
  std::string_view receipt = {};
  TimePoint expires_at = {};
  std::optional<TimePoint> paid_at = std::nullopt;
  TimePoint created_at = {};
  TimePoint updated_at = {};
};
Status AppendPaymentOrder(BulkWriter& writer, const PaymentOrderLoadRow& row);

// A payment_transactions row.
struct PaymentTransactionLoadRow {
  std::string_view id = {};
  std::string_view gateway_payment_id = {};
  std::string_view payment_order_id = {};
  int64_t amount_paise = 0;
  std::string_view currency = {};
  std::string_view status = {};
  std::string_view method = {};
  std::string_view gateway = {};
  std::string_view error_code = {};         // "" = NULL
  std::string_view error_description = {};  // "" = NULL
  std::optional<TimePoint> captured_at = std::nullopt;
  std::optional<TimePoint> refunded_at = std::nullopt;
  TimePoint created_at = {};
  TimePoint updated_at = {};
};
Status AppendPaymentTransaction(BulkWriter& writer, const PaymentTransactionLoadRow& row);

}  // namespace hasivu::store

#endif  // HASIVU_STORE_PAYMENTS_REPO_H_
