// SQL of rfid-verify-card: the card (hot query kCardByNumber), the reader, the student's order
// for the day (hot query kDeliverableOrderOfStudent), and the writes of one delivery (the
// verification row, the order's conditional move to `delivered`, the card's last use, the
// audit record). Typed functions over a store::Connection so the domain composes the writes in
// one Database::Write() transaction. Also the bulk appenders of readers, cards and
// verifications (seeding).
//
// Thread-safety: stateless functions; a Connection belongs to one callback at a time.
#ifndef HASIVU_STORE_RFID_REPO_H_
#define HASIVU_STORE_RFID_REPO_H_

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

// A card with its student and school (kCardByNumber).
struct CardRow {
  std::string id;
  std::string card_number;
  bool active = false;
  std::optional<std::string> expires_at;  // RFC 3339 UTC; none = never expires
  std::string student_id;
  std::string student_first_name;
  std::string student_last_name;
  std::optional<std::string> grade;
  std::optional<std::string> section;
  bool student_active = false;
  std::string school_id;
  std::string school_name;
  std::string school_timezone;
  bool school_active = false;
};

struct ReaderRow {
  std::string id;
  std::string school_id;
  bool active = false;
};

// The facts about an order that delivery depends on.
struct DeliveryOrderRow {
  std::string id;
  std::string order_number;
  std::string student_id;
  std::string school_id;
  std::string delivery_date;  // YYYY-MM-DD
  std::string status;
  std::string payment_status;
  std::optional<std::string> delivered_at;
};

struct VerificationRow {
  std::string id;
  std::optional<std::string> order_id;
  std::string student_id;
  std::string card_id;
  std::optional<std::string> reader_id;
  std::string verified_at;
  std::string status;
  std::optional<std::string> location;
};

struct OrderLineRow {
  std::string name;
  int64_t quantity = 0;
};

struct DeliveryAuditRow {
  std::string id;
  std::string order_id;
  std::string user_id;
  std::string changes_json;
  std::string metadata_json;
  std::string ip_address;
  std::string user_agent;
  std::string request_id;
  std::string created_at;
};

StatusOr<std::optional<CardRow>> FindCardByNumber(Connection& conn, std::string_view card_number);
StatusOr<std::optional<ReaderRow>> FindReader(Connection& conn, std::string_view reader_id);
StatusOr<std::optional<DeliveryOrderRow>> FindDeliveryOrder(Connection& conn,
                                                            std::string_view order_id);
// The student's oldest paid order of `date` in confirmed|preparing|ready|out_for_delivery.
StatusOr<std::optional<DeliveryOrderRow>> FindDeliverableOrderOfStudent(Connection& conn,
                                                                        std::string_view student_id,
                                                                        std::string_view date);
// The student's most recently delivered order of `date`.
StatusOr<std::optional<DeliveryOrderRow>> FindDeliveredOrderOfStudent(Connection& conn,
                                                                      std::string_view student_id,
                                                                      std::string_view date);
// The 'verified' verification of an order (at most one: partial unique index).
StatusOr<std::optional<VerificationRow>> FindVerifiedDelivery(Connection& conn,
                                                              std::string_view order_id);
StatusOr<std::vector<OrderLineRow>> ListOrderLines(Connection& conn, std::string_view order_id);

// Moves the order to `delivered` only if it is still the student's paid order of `date` in a
// deliverable status. Returns whether it moved (false: it changed or was delivered meanwhile).
StatusOr<bool> MarkOrderDelivered(Connection& conn, std::string_view order_id,
                                  std::string_view student_id, std::string_view date,
                                  std::string_view now);
// kAlreadyExists when the order already has a 'verified' row.
Status InsertVerification(Connection& conn, const VerificationRow& row,
                          std::string_view verification_data_json);
Status TouchCard(Connection& conn, std::string_view card_id, std::string_view now);
Status InsertDeliveryAudit(Connection& conn, const DeliveryAuditRow& row);

// Bulk loading (store/bulk_load.h). Text fields are views that must stay valid for the call;
// those marked "" = NULL are written as NULL when empty.

struct ReaderLoadRow {
  std::string_view id = {};
  std::string_view school_id = {};
  std::string_view name = {};
  std::string_view location = {};
  std::string_view ip_address = {};
  std::string_view status = {};  // "online", ...
  TimePoint last_heartbeat = {};
  bool is_active = true;
  TimePoint created_at = {};
  TimePoint updated_at = {};
};
Status AppendReader(BulkWriter& writer, const ReaderLoadRow& row);

struct CardLoadRow {
  std::string_view id = {};
  std::string_view card_number = {};
  std::string_view student_id = {};
  std::string_view school_id = {};
  bool is_active = true;
  TimePoint issued_at = {};
  std::optional<TimePoint> expires_at = std::nullopt;  // none = never expires
  std::optional<TimePoint> deactivated_at = std::nullopt;
  std::string_view deactivation_reason = {};  // "" = NULL
  TimePoint created_at = {};
  TimePoint updated_at = {};
};
Status AppendCard(BulkWriter& writer, const CardLoadRow& row);

// A delivery_verifications row.
struct VerificationLoadRow {
  std::string_view id = {};
  std::string_view order_id = {};
  std::string_view student_id = {};
  std::string_view card_id = {};
  std::string_view reader_id = {};
  TimePoint verified_at = {};
  std::string_view status = {};  // "verified", ...
  std::string_view location = {};
  TimePoint created_at = {};
};
Status AppendVerification(BulkWriter& writer, const VerificationLoadRow& row);

}  // namespace hasivu::store

#endif  // HASIVU_STORE_RFID_REPO_H_
