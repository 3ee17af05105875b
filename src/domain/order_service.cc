#include "domain/order_service.h"

#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <utility>

#include "common/ids.h"
#include "domain/access.h"
#include "store/menus_repo.h"

namespace hasivu::domain {
namespace {

using std::chrono::days;

Status OrderNotFound() {
  return Status(StatusCode::kNotFound, "The order was not found", "ORDER_NOT_FOUND");
}
Status StudentNotFound() {
  return Status(StatusCode::kNotFound, "The student was not found", "STUDENT_NOT_FOUND");
}
Status Unprocessable(std::string reason, std::string message,
                     std::vector<FieldIssue> details = {}) {
  Status s(StatusCode::kFailedPrecondition, std::move(message), std::move(reason));
  return details.empty() ? s : s.WithDetails(std::move(details));
}

bool HasNul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

std::string_view SortCode(OrderSort s) {
  switch (s) {
    case OrderSort::kCreatedDesc:
      return "c-";
    case OrderSort::kCreatedAsc:
      return "c+";
    case OrderSort::kDeliveryDesc:
      return "d-";
    case OrderSort::kDeliveryAsc:
      return "d+";
  }
  return "c-";
}

bool ByCreated(OrderSort s) { return s == OrderSort::kCreatedDesc || s == OrderSort::kCreatedAsc; }

Status BadCursor() {
  return ValidationError("Invalid cursor", {{"cursor", "is not a cursor of this listing"}});
}

// Kitchen flow: the one status each kitchen target may follow.
std::optional<std::string_view> KitchenPredecessor(std::string_view to) {
  if (to == "preparing") return "confirmed";
  if (to == "ready") return "preparing";
  if (to == "out_for_delivery") return "ready";
  return std::nullopt;
}

}  // namespace

std::vector<FieldIssue> ValidateCreateOrder(const CreateOrderInput& in) {
  std::vector<FieldIssue> issues;
  if (!IsUuid(in.student_id)) issues.push_back({"studentId", "must be a UUID"});
  if (!ParseDate(in.delivery_date).ok()) {
    issues.push_back({"deliveryDate", "must be a date YYYY-MM-DD"});
  }
  if (in.items.empty() || in.items.size() > kMaxOrderLines) {
    issues.push_back({"items", "must have 1-20 lines"});
  }
  for (size_t i = 0; i < in.items.size() && i < kMaxOrderLines; ++i) {
    const OrderLineInput& line = in.items[i];
    const std::string at = "items[" + std::to_string(i) + "].";
    if (!IsUuid(line.menu_item_id)) issues.push_back({at + "menuItemId", "must be a UUID"});
    if (line.quantity < 1 || line.quantity > kMaxLineQuantity) {
      issues.push_back({at + "quantity", "must be between 1 and 10"});
    }
    if (line.notes && (line.notes->size() > kMaxNotesLength || HasNul(*line.notes))) {
      issues.push_back({at + "notes", "must be at most 500 characters without NUL"});
    }
  }
  auto check_text = [&issues](const std::optional<std::string>& t, const char* field) {
    if (t && (t->size() > kMaxInstructionsLength || HasNul(*t))) {
      issues.push_back({field, "must be at most 1000 characters without NUL"});
    }
  };
  check_text(in.special_instructions, "specialInstructions");
  check_text(in.allergy_info, "allergyInfo");
  return issues;
}

Status CheckDeliveryDate(Date delivery, Date today) {
  std::string issue;
  if (delivery <= today) {
    issue = "must be tomorrow or later";
  } else if (delivery > today + days(kMaxDaysAhead)) {
    issue = "must be at most 30 days ahead";
  } else if (IsoWeekday(delivery) > 5) {
    issue = "must be a weekday (Monday-Friday)";
  } else {
    return Status::Ok();
  }
  return Unprocessable("INVALID_DELIVERY_DATE", "Orders cannot be delivered on that date",
                       {{"deliveryDate", issue}});
}

std::string NewOrderNumber(Date day) {
  std::string date = FormatDate(day);  // YYYY-MM-DD
  date.erase(std::remove(date.begin(), date.end(), '-'), date.end());
  return "ORD-" + date + "-" + RandomString(8, kUpperAlphanumeric);
}

bool IsOrderNumber(std::string_view s) {
  if (s.size() != 21 || s.substr(0, 4) != "ORD-" || s[12] != '-') return false;
  for (size_t i = 4; i < 12; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  for (size_t i = 13; i < 21; ++i) {
    if (kUpperAlphanumeric.find(s[i]) == std::string_view::npos) return false;
  }
  return true;
}

StatusOr<OrderSort> ParseOrderSort(std::string_view s) {
  if (s == "-createdAt") return OrderSort::kCreatedDesc;
  if (s == "createdAt") return OrderSort::kCreatedAsc;
  if (s == "-deliveryDate") return OrderSort::kDeliveryDesc;
  if (s == "deliveryDate") return OrderSort::kDeliveryAsc;
  return ValidationError(
      "Invalid sort",
      {{"sort", "must be one of createdAt, -createdAt, deliveryDate, -deliveryDate"}});
}

std::string EncodeCursor(OrderSort sort, std::string_view key, std::string_view id) {
  std::string raw(SortCode(sort));
  raw += '|';
  raw += key;
  raw += '|';
  raw += id;
  const int variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  std::string out(sodium_base64_encoded_len(raw.size(), variant), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(raw.data()),
                    raw.size(), variant);
  out.resize(std::char_traits<char>::length(out.c_str()));
  return out;
}

StatusOr<CursorPosition> DecodeCursor(std::string_view cursor, OrderSort sort) {
  if (cursor.empty() || cursor.size() > 200) return BadCursor();
  std::string raw(cursor.size(), '\0');
  size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(raw.data()), raw.size(), cursor.data(),
                        cursor.size(), nullptr, &len, nullptr,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0) {
    return BadCursor();
  }
  raw.resize(len);
  const size_t a = raw.find('|');
  const size_t b = a == std::string::npos ? a : raw.find('|', a + 1);
  if (b == std::string::npos || raw.substr(0, a) != SortCode(sort)) return BadCursor();
  CursorPosition pos{raw.substr(a + 1, b - a - 1), raw.substr(b + 1)};
  if (!IsUuid(pos.id)) return BadCursor();
  if (ByCreated(sort)) {
    StatusOr<TimePoint> t = ParseRfc3339(pos.key);
    if (!t.ok()) return BadCursor();
    pos.key = FormatRfc3339(*t);  // the stored form, so text comparison holds on SQLite
  } else {
    StatusOr<Date> d = ParseDate(pos.key);
    if (!d.ok()) return BadCursor();
    pos.key = FormatDate(*d);
  }
  for (char& c : pos.id) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return pos;
}

bool IsOrderStatus(std::string_view s) {
  return s == "pending" || s == "confirmed" || s == "preparing" || s == "ready" ||
         s == "out_for_delivery" || s == "delivered" || s == "cancelled";
}

bool IsPaymentStatus(std::string_view s) {
  return s == "pending" || s == "paid" || s == "failed" || s == "refunded";
}

Status CheckStatusChange(const Principal& p, const store::OrderDetailRow& order,
                         std::string_view to) {
  if (!IsOrderStatus(to)) {
    return ValidationError("Invalid status", {{"status",
                                               "must be one of preparing, ready, out_for_delivery, "
                                               "cancelled"}});
  }
  const std::string& from = order.order.status;
  auto invalid = [&] {
    return Unprocessable("INVALID_STATUS_TRANSITION",
                         "An order cannot move from " + from + " to " + std::string(to));
  };
  if (std::optional<std::string_view> before = KitchenPredecessor(to)) {
    if (!CanMoveKitchenStatus(p, order.order.school_id)) {
      return PermissionDeniedError("only the school's kitchen moves orders along");
    }
    return from == *before ? Status::Ok() : invalid();
  }
  if (to == "cancelled") {
    const bool owner = order.order.user_id == p.user_id ||
                       (p.role == Role::kParent && order.extras.student_parent_id == p.user_id);
    const bool school_admin =
        p.role == Role::kSchoolAdmin && ActsInSchool(p, order.order.school_id);
    if (!owner && !school_admin && !p.IsAdmin()) {
      return PermissionDeniedError("this role may not cancel the order");
    }
    return from == "pending" || from == "confirmed" ? Status::Ok() : invalid();
  }
  // pending and confirmed come from payment, delivered from an RFID scan.
  return invalid();
}

OrderService::OrderService(store::Database& db, const Clock& clock, metrics::Monitor& monitor,
                           const ReadCache* read_cache)
    : db_(db),
      clock_(clock),
      read_cache_(read_cache),
      created_(monitor, "order_created"),
      create_flow_(monitor, "orders_create", {"validated", "committed", "invalidated"}) {}

StatusOr<CreatedOrder> OrderService::Create(const Principal& p, const CreateOrderInput& in,
                                            const std::optional<IdempotentRequest>& idempotency,
                                            const RenderFn& render) const {
  metrics::FlowTimer flow = create_flow_.Start();
  if (std::vector<FieldIssue> issues = ValidateCreateOrder(in); !issues.empty()) {
    return ValidationError("The order is not valid", std::move(issues));
  }
  ASSIGN_OR_RETURN(const Date delivery, ParseDate(in.delivery_date));
  flow.Checkpoint("validated");
  CreatedOrder result;
  int64_t created_total = 0;  // paise, of an order this call created
  // Whose lists show the new order (set when this call created it, not on a replay).
  OrderRef created_for;
  auto attempt = [&](store::Connection& conn) -> Status {
    created_for = {};
    const TimePoint now = clock_.Now();
    const std::string now_text = FormatRfc3339(now);
    IdempotencyClaim claim;
    if (idempotency) {
      ASSIGN_OR_RETURN(claim, ClaimIdempotencyKey(conn, *idempotency, now));
      if (claim.replay) {
        result = CreatedOrder{claim.replay->status, std::move(claim.replay->body),
                              std::move(claim.replay->resource_id), true};
        return Status::Ok();
      }
    }
    ASSIGN_OR_RETURN(std::optional<store::OrderStudentRow> student,
                     store::FindOrderStudent(conn, in.student_id));
    if (!student || student->role != "student") return StudentNotFound();
    const UserRef ref{student->id, Role::kStudent, student->school_id, student->parent_id};
    if (!CanSeeUser(p, ref)) return StudentNotFound();
    if (!CanOrderFor(p, ref)) return PermissionDeniedError("this role may not order for students");
    if (!student->active) {
      return Unprocessable("STUDENT_INACTIVE", "The student's account is not active");
    }
    if (student->school_id.empty() || !student->school_active) {
      return Unprocessable("SCHOOL_INACTIVE", "The student's school is not active");
    }
    ASSIGN_OR_RETURN(const Date today, LocalDate(now, student->school_timezone));
    RETURN_IF_ERROR(CheckDeliveryDate(delivery, today));

    ASSIGN_OR_RETURN(std::optional<store::DailyMenuRow> menu,
                     store::FindDailyMenu(conn, student->school_id, in.delivery_date));
    if (!menu || !menu->is_published || !menu->is_active) {
      return Unprocessable("MENU_NOT_AVAILABLE", "No menu is published for that day",
                           {{"deliveryDate", "has no published menu"}});
    }
    ASSIGN_OR_RETURN(std::vector<store::MenuSlotRow> slots, store::ListMenuSlots(conn, menu->id));
    std::map<std::string_view, const store::MenuSlotRow*> by_item;
    for (const store::MenuSlotRow& s : slots) by_item.emplace(s.menu_item_id, &s);

    // Lines resolved against the menu; quantities summed per slot for the per-order limit.
    std::vector<const store::MenuSlotRow*> line_slot(in.items.size());
    std::map<std::string_view, int64_t> per_slot;
    std::vector<FieldIssue> missing;
    for (size_t i = 0; i < in.items.size(); ++i) {
      std::string item_id = in.items[i].menu_item_id;
      for (char& c : item_id) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      auto it = by_item.find(item_id);
      if (it == by_item.end()) {
        missing.push_back(
            {"items[" + std::to_string(i) + "].menuItemId", "is not on the menu of that day"});
        continue;
      }
      line_slot[i] = it->second;
      per_slot[it->second->slot_id] += in.items[i].quantity;
    }
    if (!missing.empty()) {
      return Unprocessable("ITEM_NOT_ON_MENU", "An item is not on that day's menu",
                           std::move(missing));
    }
    std::vector<FieldIssue> too_many;
    for (size_t i = 0; i < in.items.size(); ++i) {
      const store::MenuSlotRow& s = *line_slot[i];
      if (s.max_per_order && per_slot[s.slot_id] > *s.max_per_order) {
        too_many.push_back(
            {"items[" + std::to_string(i) + "].quantity",
             "exceeds the limit of " + std::to_string(*s.max_per_order) + " per order"});
      }
    }
    if (!too_many.empty()) {
      return Unprocessable("MAX_PER_ORDER_EXCEEDED", "A quantity exceeds the per-order limit",
                           std::move(too_many));
    }
    // Limited stock, in slot id order so concurrent orders lock rows in the same order.
    for (const auto& [slot_id, quantity] : per_slot) {
      const store::MenuSlotRow* s = nullptr;
      for (const store::MenuSlotRow& candidate : slots) {
        if (candidate.slot_id == slot_id) s = &candidate;
      }
      if (s == nullptr || !s->available_quantity) continue;
      ASSIGN_OR_RETURN(bool taken, store::TakeSlotStock(conn, slot_id, quantity));
      if (!taken) {
        std::vector<FieldIssue> details;
        for (size_t i = 0; i < in.items.size(); ++i) {
          if (line_slot[i]->slot_id == slot_id) {
            details.push_back({"items[" + std::to_string(i) + "].menuItemId", "is sold out"});
          }
        }
        return Status(StatusCode::kAborted, "An item is sold out", "SOLD_OUT")
            .WithDetails(std::move(details));
      }
    }

    store::OrderDetailRow detail;
    store::NewOrder order;
    order.id = NewUuidV7(now);
    order.user_id = p.user_id;
    order.student_id = student->id;
    order.school_id = student->school_id;
    order.delivery_date = in.delivery_date;
    order.currency = slots.empty() ? "INR" : line_slot[0]->currency;
    order.special_instructions = in.special_instructions;
    order.allergy_info = in.allergy_info;
    order.now = now_text;
    for (size_t i = 0; i < in.items.size(); ++i) {
      const store::MenuSlotRow& s = *line_slot[i];
      store::OrderItemRow item;
      // Ids minted one millisecond apart sort in line order (orders_repo.cc reads by id).
      item.id = NewUuidV7(now + std::chrono::milliseconds(i));
      item.menu_item_id = s.menu_item_id;
      item.slot_id = s.slot_id;
      item.name = s.name;
      item.quantity = in.items[i].quantity;
      item.unit_price_paise = s.price_paise;
      item.total_price_paise = s.price_paise * item.quantity;
      item.notes = in.items[i].notes;
      order.total_amount_paise += item.total_price_paise;
      detail.items.push_back(std::move(item));
    }
    order.item_count = static_cast<int64_t>(detail.items.size());
    bool inserted = false;
    for (int tries = 0; tries < 5 && !inserted; ++tries) {
      order.order_number = NewOrderNumber(today);
      ASSIGN_OR_RETURN(inserted, store::InsertOrder(conn, order));
    }
    if (!inserted) return InternalError("no free order number after 5 tries");
    for (const store::OrderItemRow& item : detail.items) {
      RETURN_IF_ERROR(store::InsertOrderItem(conn, order.id, item, now_text));
    }
    detail.order = store::OrderRow{order.id,         order.order_number, order.user_id,
                                   order.student_id, order.school_id,    order.delivery_date,
                                   "pending",        "pending",          order.total_amount_paise,
                                   order.currency,   now_text,           now_text,
                                   order.item_count};
    detail.extras =
        store::OrderExtras{student->first_name, student->last_name, student->grade,
                           student->section,    student->parent_id, student->school_name};
    detail.special_instructions = in.special_instructions;
    detail.allergy_info = in.allergy_info;
    result = CreatedOrder{201, render(detail), order.id, false};
    created_for = {order.student_id, student->parent_id, order.school_id};
    created_total = order.total_amount_paise;
    if (idempotency) {
      RETURN_IF_ERROR(
          CompleteIdempotentRequest(conn, claim, StoredResponse{201, result.body, order.id}));
    }
    return Status::Ok();
  };
  // A deadlock or serialization failure (PostgreSQL) rolled everything back: run it again.
  Status st;
  for (int tries = 0; tries < 3; ++tries) {
    st = db_.Write(attempt);
    if (st.code() != StatusCode::kAborted || !st.reason().empty()) break;
  }
  if (!st.ok()) return st;
  flow.Checkpoint("committed");
  if (!created_for.student_id.empty()) created_.Track(created_total);
  if (read_cache_ != nullptr && !created_for.student_id.empty()) {
    read_cache_->OrderChanged(result.order_id, created_for.student_id, created_for.school_id,
                              created_for.student_parent_id);
    // The day's menu shows what is left of limited slots.
    read_cache_->MenuChanged(created_for.school_id, in.delivery_date);
  }
  flow.Checkpoint("invalidated");
  return result;
}

StatusOr<OrderPage> OrderService::List(const Principal& p, const ListOrdersInput& in) const {
  store::OrderPageQuery q;
  q.status = in.status;
  q.payment_status = in.payment_status;
  q.student_id = in.student_id;
  q.school_id = in.school_id;
  q.date_from = in.date_from;
  q.date_to = in.date_to;
  q.sort = in.sort;
  q.limit = std::clamp<int64_t>(in.limit, 1, 100) + 1;  // one more tells whether a page follows
  if (in.cursor) {
    ASSIGN_OR_RETURN(CursorPosition pos, DecodeCursor(*in.cursor, in.sort));
    q.after_key = std::move(pos.key);
    q.after_id = std::move(pos.id);
  }
  OrderPage page;
  switch (p.role) {
    case Role::kAdmin:
      q.scope = store::OrderScope::kAll;
      break;
    case Role::kParent:
      q.scope = store::OrderScope::kParent;
      q.scope_id = p.user_id;
      break;
    case Role::kStudent:
      q.scope = store::OrderScope::kStudent;
      q.scope_id = p.user_id;
      break;
    case Role::kKitchenStaff:
    case Role::kSchoolAdmin:
      if (q.school_id && !ActsInSchool(p, *q.school_id)) {
        return PermissionDeniedError("staff list only their own school's orders");
      }
      q.school_id.reset();  // the scope says it already
      q.scope = store::OrderScope::kSchool;
      q.scope_id = p.school_id;
      if (p.school_id.empty()) {
        if (in.include_total) page.total = 0;
        return page;
      }
      break;
  }
  Status st = db_.Read([&](store::Connection& conn) -> Status {
    ASSIGN_OR_RETURN(page.orders, store::ListOrderPage(conn, q));
    if (page.orders.size() > static_cast<size_t>(q.limit - 1)) {
      page.orders.pop_back();
      page.has_more = true;
    }
    ASSIGN_OR_RETURN(page.extras, store::LoadOrderExtras(conn, page.orders));
    if (in.include_total) {
      ASSIGN_OR_RETURN(int64_t total, store::CountOrders(conn, q));
      page.total = total;
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  if (page.has_more) {
    const store::OrderRow& last = page.orders.back();
    page.next_cursor =
        EncodeCursor(in.sort, ByCreated(in.sort) ? last.created_at : last.delivery_date, last.id);
  }
  return page;
}

StatusOr<store::OrderDetailRow> OrderService::Get(const Principal& p,
                                                  std::string_view order_id) const {
  if (!IsUuid(order_id)) return OrderNotFound();
  std::optional<store::OrderDetailRow> detail;
  Status st = db_.Read([&](store::Connection& conn) -> Status {
    ASSIGN_OR_RETURN(detail, store::FindOrderDetail(conn, order_id));
    return Status::Ok();
  });
  if (!st.ok()) return st;
  if (!detail ||
      !CanSeeOrder(p, OrderRef{detail->order.student_id, detail->extras.student_parent_id,
                               detail->order.school_id})) {
    return OrderNotFound();
  }
  return std::move(*detail);
}

StatusOr<store::OrderDetailRow> OrderService::UpdateStatus(const Principal& p,
                                                           std::string_view order_id,
                                                           std::string_view to) const {
  if (!IsUuid(order_id)) return OrderNotFound();
  std::optional<store::OrderDetailRow> detail;
  Status st = db_.Write([&](store::Connection& conn) -> Status {
    ASSIGN_OR_RETURN(detail, store::FindOrderDetail(conn, order_id));
    if (!detail ||
        !CanSeeOrder(p, OrderRef{detail->order.student_id, detail->extras.student_parent_id,
                                 detail->order.school_id})) {
      return OrderNotFound();
    }
    RETURN_IF_ERROR(CheckStatusChange(p, *detail, to));
    const std::string now = FormatRfc3339(clock_.Now());
    ASSIGN_OR_RETURN(bool moved,
                     store::UpdateOrderStatus(conn, order_id, detail->order.status, to, now));
    if (!moved) {
      return Status(StatusCode::kAborted, "The order changed meanwhile; retry", "CONFLICT");
    }
    if (to == "cancelled") {
      for (const store::OrderItemRow& item : detail->items) {
        if (item.slot_id)
          RETURN_IF_ERROR(store::ReturnSlotStock(conn, *item.slot_id, item.quantity));
      }
    }
    detail->order.status = std::string(to);
    detail->order.updated_at = now;
    return Status::Ok();
  });
  if (!st.ok()) return st;
  if (read_cache_ != nullptr) {
    read_cache_->OrderChanged(detail->order.id, detail->order.student_id, detail->order.school_id,
                              detail->extras.student_parent_id);
    // A cancellation gave its units back to the day's menu.
    if (to == "cancelled") {
      read_cache_->MenuChanged(detail->order.school_id, detail->order.delivery_date);
    }
  }
  return std::move(*detail);
}

}  // namespace hasivu::domain
