// Orders (api.md orders-list, orders-create, GET /orders/{id}, PATCH /orders/{id}/status).
//
// Visibility comes from domain/access.h: an order or student the caller may not see answers 404;
// a visible one the role may not act on answers 403. Every change is one Write() transaction:
// orders-create claims its Idempotency-Key, checks the menu, takes limited stock with a
// conditional UPDATE (409 SOLD_OUT when it is gone) and writes the order and its lines;
// cancelling gives limited stock back.
//
// Decisions (docs in the api report):
// - A well-formed delivery date outside tomorrow..+30 days or on a weekend: 422
//   INVALID_DELIVERY_DATE (it depends on the clock and the school's zone, not on syntax).
// - A quantity above the slot's maxPerOrder: 422 MAX_PER_ORDER_EXCEEDED (it depends on the menu).
// - Kitchen flow: confirmed → preparing → ready → out_for_delivery by kitchen staff and the
//   school admin of the order's school and admins; pending → confirmed only through payment and
//   → delivered only through RFID (422 INVALID_STATUS_TRANSITION here); cancelled from pending or
//   confirmed by whoever placed it, the student's parent, the school admin, admins.
//
// Thread-safety: safe to call concurrently; the referenced database and clock outlive it.
#ifndef HASIVU_DOMAIN_ORDER_SERVICE_H_
#define HASIVU_DOMAIN_ORDER_SERVICE_H_

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "common/time_util.h"
#include "domain/idempotency.h"
#include "domain/principal.h"
#include "domain/read_cache.h"
#include "metrics/meters.h"
#include "metrics/monitor.h"
#include "store/database.h"
#include "store/orders_repo.h"

namespace hasivu::domain {

inline constexpr size_t kMaxOrderLines = 20;
inline constexpr int64_t kMaxLineQuantity = 10;
inline constexpr size_t kMaxNotesLength = 500;
inline constexpr size_t kMaxInstructionsLength = 1000;
inline constexpr int kMaxDaysAhead = 30;

struct OrderLineInput {
  std::string menu_item_id;
  int64_t quantity = 0;
  std::optional<std::string> notes;
};

struct CreateOrderInput {
  std::string student_id;
  std::string delivery_date;  // YYYY-MM-DD
  std::vector<OrderLineInput> items;
  std::optional<std::string> special_instructions;
  std::optional<std::string> allergy_info;
};

// Field issues of a create request (ids, date syntax, 1-20 lines, quantity 1-10, text lengths);
// empty when valid. Fields as in the body: "items[2].quantity".
std::vector<FieldIssue> ValidateCreateOrder(const CreateOrderInput& in);

// OK if `delivery` is tomorrow..+30 days after `today` and Monday-Friday; else 422
// INVALID_DELIVERY_DATE with a detail on deliveryDate.
Status CheckDeliveryDate(Date delivery, Date today);

// "ORD-" + YYYYMMDD of `day` + "-" + 8 characters of [A-Z0-9] from libsodium.
std::string NewOrderNumber(Date day);
bool IsOrderNumber(std::string_view s);

// The list's sort orders and their keyset cursors: base64url (no padding) of
// "<sort>|<key>|<id>", where key is the last row's created_at (RFC 3339) or delivery_date.
using store::OrderSort;
StatusOr<OrderSort> ParseOrderSort(std::string_view s);  // createdAt, -createdAt, ...
std::string EncodeCursor(OrderSort sort, std::string_view key, std::string_view id);
struct CursorPosition {
  std::string key;
  std::string id;
};
// 400 VALIDATION_ERROR (field "cursor") for anything that is not a cursor of this sort.
StatusOr<CursorPosition> DecodeCursor(std::string_view cursor, OrderSort sort);

// Whether `p` may move an order from `from` to `to` (see the decisions above). `placed_by` is
// the order's user_id. Errors: 400 for an unknown status word, 403 role, 422
// INVALID_STATUS_TRANSITION.
bool IsOrderStatus(std::string_view s);
bool IsPaymentStatus(std::string_view s);
Status CheckStatusChange(const Principal& p, const store::OrderDetailRow& order,
                         std::string_view to);

struct ListOrdersInput {
  std::optional<std::string> status;
  std::optional<std::string> payment_status;
  std::optional<std::string> student_id;
  std::optional<std::string> school_id;
  std::optional<std::string> date_from;
  std::optional<std::string> date_to;
  OrderSort sort = OrderSort::kCreatedDesc;
  int64_t limit = 20;
  std::optional<std::string> cursor;
  bool include_total = false;
};

struct OrderPage {
  std::vector<store::OrderRow> orders;
  std::vector<store::OrderExtras> extras;  // parallel to orders
  std::optional<std::string> next_cursor;
  bool has_more = false;
  std::optional<int64_t> total;
};

// The rendered response of a created order, stored for Idempotency-Key replays.
struct CreatedOrder {
  int status = 201;
  std::string body;      // as `render` produced it (or as stored, when replayed)
  std::string order_id;  // for Location
  bool replayed = false;
};

class OrderService {
 public:
  // Turns a created order into the response body that is stored with its Idempotency-Key; it
  // runs inside the transaction and must not fail.
  using RenderFn = std::function<std::string(const store::OrderDetailRow&)>;

  // `read_cache` (may be null) hears of every order this service creates or changes, after the
  // commit; it must outlive the service. `monitor` (outlives the service) gets
  // BusinessEvents/BusinessAmountPaise{order_created} with each created order's total, and the
  // "orders_create" flow's checkpoints (validated, committed, invalidated).
  OrderService(store::Database& db, const Clock& clock, metrics::Monitor& monitor,
               const ReadCache* read_cache = nullptr);

  // REQUIRES: in validated by ValidateCreateOrder (Create checks again). `idempotency` (with
  // user_id, key and request_hash set) makes the request replayable.
  StatusOr<CreatedOrder> Create(const Principal& p, const CreateOrderInput& in,
                                const std::optional<IdempotentRequest>& idempotency,
                                const RenderFn& render) const;

  StatusOr<OrderPage> List(const Principal& p, const ListOrdersInput& in) const;

  // 404 ORDER_NOT_FOUND unless visible.
  StatusOr<store::OrderDetailRow> Get(const Principal& p, std::string_view order_id) const;

  StatusOr<store::OrderDetailRow> UpdateStatus(const Principal& p, std::string_view order_id,
                                               std::string_view to) const;

 private:
  store::Database& db_;
  const Clock& clock_;
  const ReadCache* read_cache_;
  metrics::BusinessEventMeter created_;
  metrics::FlowMeter create_flow_;
};

}  // namespace hasivu::domain

#endif  // HASIVU_DOMAIN_ORDER_SERVICE_H_
