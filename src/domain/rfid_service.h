// RfidService: rfid-verify-card (api.md). A kitchen reader scans a student's card; the service
// finds the student's paid order for today (in the school's zone, by the injected clock) and
// records its delivery, exactly once.
//
// Checks, in order (the first failing one answers):
//   input        cardNumber ^RFID-[A-Z0-9-]{4,60}$, readerId/orderId UUIDs, location <= 255
//                chars                                        -> kInvalidArgument with details
//   role         parent/student                               -> 403 FORBIDDEN
//   card         unknown, or of a school the caller does not act in (no probing)
//                                                             -> 404 CARD_NOT_FOUND
//                inactive -> 422 CARD_INACTIVE; expired (expires_at <= now) -> 422 CARD_EXPIRED
//   student      inactive                                     -> 422 STUDENT_INACTIVE
//   school       inactive                                     -> 422 SCHOOL_INACTIVE
//   reader       given but unknown, inactive or of another school (one answer for all three, so
//                reader ids cannot be probed)                 -> 422 READER_MISMATCH
//   order        without orderId: the oldest paid order of today in confirmed|preparing|ready|
//                out_for_delivery; none but one already delivered today -> ALREADY_DELIVERED;
//                none at all -> 404 NO_ORDER_TODAY.
//                with orderId: unknown or not this student's  -> 404 NO_ORDER_TODAY;
//                delivered -> ALREADY_DELIVERED; not today, not paid, or not in a deliverable
//                status                                       -> 422 ORDER_NOT_DELIVERABLE
// ALREADY_DELIVERED is not an error Status: Verify() returns kind kAlreadyDelivered with the
// first verification (if the order was delivered without a scan, `verification` is empty and
// the order's deliveredAt tells when), and api/ answers 409 with it.
//
// The lookups and the delivery are one Write() transaction (a refusal rolls it back having
// written nothing): the order moves to `delivered` by a conditional
// UPDATE (rows affected checked), the verification row is inserted (the partial unique index
// on order_id WHERE status='verified' guards double delivery), the card's last_used_at is set
// and an audit_logs row written. A scan that loses a race to another scan of the same order
// answers kAlreadyDelivered with the winner's verification; one whose order changed otherwise
// answers ORDER_NOT_DELIVERABLE.
//
// Thread-safety: safe to call concurrently. The database and clock outlive the service.
#ifndef HASIVU_DOMAIN_RFID_SERVICE_H_
#define HASIVU_DOMAIN_RFID_SERVICE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "domain/principal.h"
#include "domain/read_cache.h"
#include "metrics/meters.h"
#include "metrics/monitor.h"
#include "store/database.h"

namespace hasivu::domain {

// True for ^RFID-[A-Z0-9-]{4,60}$.
bool IsValidCardNumber(std::string_view card_number);

struct RfidVerifyInput {
  std::string card_number;
  std::optional<std::string> reader_id;
  std::optional<std::string> order_id;
  std::optional<std::string> location;
};

// Who sent the scan, for the audit record.
struct RfidRequestInfo {
  std::string request_id;
  std::string ip_address;
  std::string user_agent;
};

struct DeliveryVerification {
  std::string id;
  std::string verified_at;  // RFC 3339 UTC
  std::string status;       // "verified"
  std::optional<std::string> order_id;
  std::string card_id;
  std::optional<std::string> reader_id;
  std::optional<std::string> location;
};

struct RfidStudent {
  std::string id;
  std::string first_name;
  std::string last_name;
  std::optional<std::string> grade;
  std::optional<std::string> section;
};

struct RfidOrderLine {
  std::string name;
  int64_t quantity = 0;
};

struct RfidOrder {
  std::string id;
  std::string order_number;
  std::string status;
  std::optional<std::string> delivered_at;
  std::vector<RfidOrderLine> items;
};

struct RfidVerifyResult {
  enum class Kind { kVerified, kAlreadyDelivered };
  Kind kind = Kind::kVerified;
  // kVerified: the new verification. kAlreadyDelivered: the first one (empty if the order was
  // delivered without a scan).
  std::optional<DeliveryVerification> verification;
  RfidStudent student;
  std::string school_id;
  std::string school_name;
  RfidOrder order;
  std::string card_id;
  std::string card_number;
};

class RfidService {
 public:
  // `read_cache` (may be null) hears of every delivery, after the commit. `monitor` (outlives
  // the service) gets BusinessEvents{delivery_verified} for each delivery a scan records, and the
  // "rfid_verify" flow's checkpoints (validated, committed, invalidated).
  RfidService(store::Database* db, const Clock* clock, metrics::Monitor& monitor,
              const ReadCache* read_cache = nullptr)
      : db_(db),
        clock_(clock),
        read_cache_(read_cache),
        delivered_(monitor, "delivery_verified"),
        verify_flow_(monitor, "rfid_verify", {"validated", "committed", "invalidated"}) {}

  StatusOr<RfidVerifyResult> Verify(const Principal& principal, const RfidVerifyInput& input,
                                    const RfidRequestInfo& info) const;

 private:
  store::Database* db_;
  const Clock* clock_;
  const ReadCache* read_cache_;
  metrics::BusinessEventMeter delivered_;
  metrics::FlowMeter verify_flow_;
};

}  // namespace hasivu::domain

#endif  // HASIVU_DOMAIN_RFID_SERVICE_H_
