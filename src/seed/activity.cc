#include "seed/activity.h"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "seed/catalog.h"
#include "store/menus_repo.h"
#include "store/orders_repo.h"
#include "store/payments_repo.h"
#include "store/rfid_repo.h"

namespace hasivu::seed {
namespace {

using std::chrono::days;
using std::chrono::microseconds;
using std::chrono::minutes;

Date LocalDateOf(TimePoint t) { return std::chrono::floor<days>(t + kZoneOffset); }

std::string CompactDate(Date d) {
  const std::chrono::year_month_day ymd{d};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d%02u%02u", int(ymd.year()), unsigned(ymd.month()),
                unsigned(ymd.day()));
  return buf;
}

TimePoint Clamp(TimePoint t, TimePoint lo, TimePoint hi) { return std::max(lo, std::min(t, hi)); }

enum class OrderStatus {
  kPending,
  kConfirmed,
  kPreparing,
  kReady,
  kOutForDelivery,
  kDelivered,
  kCancelled
};
enum class PayStatus { kPending, kPaid, kFailed, kRefunded };

constexpr const char* StatusName(OrderStatus s) {
  constexpr const char* kNames[] = {"pending",          "confirmed", "preparing", "ready",
                                    "out_for_delivery", "delivered", "cancelled"};
  return kNames[static_cast<int>(s)];
}
constexpr const char* PayName(PayStatus s) {
  constexpr const char* kNames[] = {"pending", "paid", "failed", "refunded"};
  return kNames[static_cast<int>(s)];
}

struct Slot {
  std::string id;
  int item = 0;
  int64_t price = 0;
  std::optional<int64_t> custom_price;
  int max_per_order = 0;  // 0: no limit
  bool limited = false;
  bool special = false;
  int64_t planned = 0;
  int64_t remaining = 0;
};

struct MenuDay {
  Date date;
  std::string id;
  bool weekend = false;
  std::vector<Slot> slots;
};

struct Line {
  int slot;
  int64_t quantity;
};

struct Order {
  std::string id;
  std::string number;
  int student = 0;
  bool placed_by_student = false;
  int day = 0;
  OrderStatus status = OrderStatus::kPending;
  PayStatus pay = PayStatus::kPending;
  int64_t total = 0;
  TimePoint created;
  TimePoint updated;
  std::optional<TimePoint> delivered_at;
  std::optional<TimePoint> cancelled_at;
  std::optional<TimePoint> paid_at;
  std::vector<Line> lines;
  int reader = 0;
};

// One school's activity: its menus and orders are generated first, then written. The writes draw
// too (line, payment and verification ids, gateway ids, methods), so the order of the writes is
// part of a seed's data set (random.h).
class SchoolActivity {
 public:
  SchoolActivity(SeedRun& run, size_t school)
      : run_(run),
        rng_(run.rng),
        ids_(run.ids),
        report_(run.report),
        spec_(run.spec),
        now_(run.now),
        today_index_(run.today_index),
        st_(run.schools[school]) {}

  Status Write() {
    const SchoolState& st = st_;
    std::vector<MenuDay> menus = MakeMenus(st);
    const int n_students = static_cast<int>(st.students.size());
    const int readers = static_cast<int>(st.reader_ids.size());
    // Order probability per student and non-base day, so that the total lands near the target.
    constexpr double kTodayShare = 0.9;
    const double other_days = static_cast<double>(menus.size() - 1);
    const double per_school_target =
        static_cast<double>(spec_.target_orders) / spec_.schools - kTodayShare * n_students;
    const double p = std::clamp(per_school_target / (n_students * other_days), 0.0, 1.0);

    std::vector<Order> orders;
    orders.reserve(static_cast<size_t>(n_students * (kTodayShare + p * other_days) * 1.1) + 16);
    // The last seven students of each school order for the base date in each status in turn, so
    // every status exists in every school (they hold the inactive/expired cards too).
    constexpr OrderStatus kAll[] = {OrderStatus::kCancelled,      OrderStatus::kDelivered,
                                    OrderStatus::kOutForDelivery, OrderStatus::kReady,
                                    OrderStatus::kPreparing,      OrderStatus::kConfirmed,
                                    OrderStatus::kPending};
    for (size_t d = 0; d < menus.size(); ++d) {
      const int di = static_cast<int>(d);
      for (int i = 0; i < n_students; ++i) {
        const int from_end = n_students - 1 - i;
        StatusPick pick;
        if (di == today_index_ && from_end < 7) {
          const OrderStatus forced = kAll[from_end];
          pick.status = forced;
          pick.pay = forced == OrderStatus::kPending     ? PayStatus::kPending
                     : forced == OrderStatus::kCancelled ? PayStatus::kRefunded
                                                         : PayStatus::kPaid;
        } else {
          if (!rng_.Chance(di == today_index_ ? kTodayShare : p)) continue;
          pick = PickStatus(di);
        }
        Order& o = orders.emplace_back();
        o.student = i;
        FillOrder(o, menus[d], di, pick, readers);
      }
    }
    RETURN_IF_ERROR(WriteMenus(st, menus));
    return WriteOrders(st, menus, orders);
  }

 private:
  std::vector<MenuDay> MakeMenus(const SchoolState& st) {
    std::vector<MenuDay> out;
    const int n_items = static_cast<int>(st.item_ids.size());
    const int64_t students = static_cast<int64_t>(st.students.size());
    std::vector<int> order(n_items);
    for (size_t d = 0; d < run_.day_dates.size(); ++d) {
      MenuDay day;
      day.date = run_.day_dates[d];
      day.weekend = run_.day_weekend[d];
      day.id = ids_.Next();
      for (int i = 0; i < n_items; ++i) order[i] = i;
      const int k = std::min(spec_.slots_per_menu, n_items);
      for (int i = 0; i < k; ++i) {
        std::swap(order[i], order[i + rng_.Below(n_items - i)]);
        Slot slot;
        slot.id = ids_.Next();
        slot.item = order[i];
        slot.price = st.item_prices[slot.item];
        if (rng_.Chance(0.15)) {
          slot.custom_price = std::max<int64_t>(500, slot.price - 500);
          slot.price = *slot.custom_price;
        }
        slot.special = rng_.Chance(0.1);
        if (rng_.Chance(0.3)) slot.max_per_order = static_cast<int>(rng_.Range(2, 3));
        // Slot 0 stays unlimited so every order finds something to buy.
        if (i > 0 && rng_.Chance(0.2)) {
          slot.limited = true;
          slot.planned = 10 + students / 8;
          slot.remaining = slot.planned;
        }
        day.slots.push_back(std::move(slot));
      }
      out.push_back(std::move(day));
    }
    return out;
  }

  struct StatusPick {
    OrderStatus status;
    PayStatus pay;
  };

  StatusPick PickStatus(int day) {
    const uint64_t r = rng_.Below(100);
    if (day < today_index_) {
      if (r < 86) return {OrderStatus::kDelivered, PayStatus::kPaid};
      if (r < 90) return {OrderStatus::kCancelled, PayStatus::kRefunded};
      if (r < 94) return {OrderStatus::kCancelled, PayStatus::kPending};
      if (r < 97) return {OrderStatus::kPending, PayStatus::kFailed};
      return {OrderStatus::kPending, PayStatus::kPending};
    }
    if (day == today_index_) {
      if (r < 35) return {OrderStatus::kConfirmed, PayStatus::kPaid};
      if (r < 60) return {OrderStatus::kPreparing, PayStatus::kPaid};
      if (r < 80) return {OrderStatus::kReady, PayStatus::kPaid};
      if (r < 88) return {OrderStatus::kOutForDelivery, PayStatus::kPaid};
      if (r < 92) return {OrderStatus::kDelivered, PayStatus::kPaid};
      if (r < 97) return {OrderStatus::kPending, PayStatus::kPending};
      return {OrderStatus::kCancelled, PayStatus::kRefunded};
    }
    if (r < 50) return {OrderStatus::kConfirmed, PayStatus::kPaid};
    if (r < 88) return {OrderStatus::kPending, PayStatus::kPending};
    if (r < 93) return {OrderStatus::kPending, PayStatus::kFailed};
    if (r < 96) return {OrderStatus::kCancelled, PayStatus::kRefunded};
    return {OrderStatus::kCancelled, PayStatus::kPending};
  }

  // "ORD-YYYYMMDD-" + 5 characters of a counter + 3 random ones: unique by construction, and
  // ascending within a date, so the unique index is appended to rather than split at random.
  std::string NewOrderNumber(TimePoint created) {
    std::string number = "ORD-" + CompactDate(LocalDateOf(created)) + "-";
    AppendCounter(number, run_.order_counter++, 5, kDigitsUpper);
    rng_.Chars(number, 3, kUpperAlnum);
    return number;
  }

  void FillOrder(Order& o, MenuDay& day, int day_index, StatusPick pick, int readers) {
    o.id = ids_.Next();
    o.day = day_index;
    o.status = pick.status;
    o.pay = pick.pay;
    o.placed_by_student = rng_.Chance(0.1);
    o.reader = static_cast<int>(rng_.Below(readers));
    const Date d = day.date;
    const int64_t jitter_us = rng_.Range(0, 59'999'999);
    if (day_index < today_index_) {
      o.created = RandomLocalTime(rng_, d - days(rng_.Range(1, 7)), 7, 21);
    } else {
      // Ordered before the day (orders-create allows from tomorrow on) and before "now".
      const TimePoint latest = std::min(now_, LocalTime(d - days(1), 21, 0));
      o.created = latest - minutes(rng_.Range(5, 4 * 24 * 60)) - microseconds(jitter_us);
    }
    o.number = NewOrderNumber(o.created);
    o.updated = o.created;
    if (o.pay == PayStatus::kPaid || o.pay == PayStatus::kRefunded) {
      o.paid_at =
          Clamp(o.created + minutes(rng_.Range(1, 10)), o.created, std::max(o.created, now_));
      o.updated = *o.paid_at;
    }
    if (o.status == OrderStatus::kDelivered) {
      const TimePoint lo = LocalTime(d, 0, 1);
      TimePoint at = LocalTime(d, 12, static_cast<int>(rng_.Range(0, 90)), jitter_us);
      if (day_index == today_index_) at = Clamp(now_ - minutes(rng_.Range(1, 60)), lo, at);
      o.delivered_at = at;
      o.updated = at;
    } else if (o.status == OrderStatus::kCancelled) {
      const TimePoint from = o.paid_at.value_or(o.created);
      o.cancelled_at = Clamp(from + minutes(rng_.Range(5, 600)), from, std::max(from, now_));
      o.updated = *o.cancelled_at;
    } else if (day_index == today_index_ && o.status != OrderStatus::kPending &&
               o.status != OrderStatus::kConfirmed) {
      // The kitchen moved it along this morning.
      o.updated = Clamp(now_ - minutes(rng_.Range(1, 120)), o.updated, std::max(o.updated, now_));
    }
    // Lines: 1-3 distinct slots of that day's menu; sold-out limited slots are skipped.
    const bool consumes = o.status != OrderStatus::kCancelled;
    const int n_slots = static_cast<int>(day.slots.size());
    const uint64_t lr = rng_.Below(100);
    const int want = lr < 55 ? 1 : (lr < 90 ? 2 : 3);
    uint64_t used = 0;  // bitmask of slots taken (menus have at most 12 slots)
    for (int attempt = 0; attempt < 6 && static_cast<int>(o.lines.size()) < want; ++attempt) {
      const int si = static_cast<int>(rng_.Below(n_slots));
      Slot& slot = day.slots[si];
      if ((used >> si) & 1) continue;
      const uint64_t qr = rng_.Below(100);
      int64_t q = qr < 75 ? 1 : (qr < 95 ? 2 : 3);
      if (slot.max_per_order > 0) q = std::min<int64_t>(q, slot.max_per_order);
      if (slot.limited && consumes) {
        if (slot.remaining <= 0) continue;
        q = std::min(q, slot.remaining);
        slot.remaining -= q;
      }
      used |= uint64_t{1} << si;
      o.lines.push_back({si, q});
    }
    if (o.lines.empty()) o.lines.push_back({0, 1});  // slot 0 is never limited
    o.total = 0;
    for (const Line& l : o.lines) o.total += day.slots[l.slot].price * l.quantity;
  }

  Status WriteMenus(const SchoolState& st, const std::vector<MenuDay>& menus) {
    for (const MenuDay& m : menus) {
      const TimePoint published = std::min(now_, LocalTime(m.date - days(10), 9, 0));
      RETURN_IF_ERROR(
          store::AppendDailyMenu(run_.writer, {.id = m.id,
                                               .school_id = st.id,
                                               .date = m.date,
                                               .day_type = m.weekend ? "WEEKEND" : "WEEKDAY",
                                               .is_active = true,
                                               .is_published = true,
                                               .published_at = published,
                                               .notes = "",
                                               .created_at = published,
                                               .updated_at = published}));
      ++report_.counts.daily_menus;
    }
    for (const MenuDay& m : menus) {
      for (size_t i = 0; i < m.slots.size(); ++i) {
        const Slot& slot = m.slots[i];
        std::optional<int64_t> planned, available, max_per_order;
        if (slot.limited) {
          planned = slot.planned;
          available = slot.remaining;
        }
        if (slot.max_per_order > 0) max_per_order = slot.max_per_order;
        RETURN_IF_ERROR(
            store::AppendMenuSlot(run_.writer, {.id = slot.id,
                                                .daily_menu_id = m.id,
                                                .menu_item_id = st.item_ids[slot.item],
                                                .category = kCatalog[slot.item].category,
                                                .planned_quantity = planned,
                                                .available_quantity = available,
                                                .custom_price_paise = slot.custom_price,
                                                .is_special = slot.special,
                                                .is_limited = slot.limited,
                                                .max_per_order = max_per_order,
                                                .display_order = static_cast<int64_t>(i),
                                                .is_visible = true}));
        ++report_.counts.menu_item_slots;
      }
    }
    return Status::Ok();
  }

  // Razorpay's shape (prefix + 14 alphanumerics): a 6-character counter, then 8 random ones.
  std::string GatewayId(std::string_view prefix) {
    std::string id(prefix);
    AppendCounter(id, run_.gateway_counter++, 6, kDigitsFirstAlnum);
    rng_.Chars(id, 8, kAlnum);
    return id;
  }

  bool WithDetails(const Order& o) const { return spec_.full_history || o.day >= today_index_; }

  Status WriteOrders(const SchoolState& st, const std::vector<MenuDay>& menus,
                     const std::vector<Order>& orders) {
    for (const Order& o : orders) {
      const Student& stu = st.students[o.student];
      RETURN_IF_ERROR(store::AppendOrder(
          run_.writer, {.id = o.id,
                        .order_number = o.number,
                        .user_id = o.placed_by_student ? stu.id : st.parent_ids[stu.parent],
                        .student_id = stu.id,
                        .school_id = st.id,
                        .status = StatusName(o.status),
                        .payment_status = PayName(o.pay),
                        .total_amount_paise = o.total,
                        .currency = "INR",
                        .delivery_date = menus[o.day].date,
                        .delivered_at = o.delivered_at,
                        .cancelled_at = o.cancelled_at,
                        .created_at = o.created,
                        .updated_at = o.updated,
                        .item_count = static_cast<int64_t>(o.lines.size())}));
      ++report_.counts.orders;
      if (o.day == today_index_ && o.pay == PayStatus::kPaid &&
          o.status != OrderStatus::kDelivered && o.status != OrderStatus::kCancelled &&
          o.status != OrderStatus::kPending) {
        ++report_.counts.today_deliverable_orders;
      }
    }
    for (const Order& o : orders) {
      for (const Line& l : o.lines) {
        const Slot& slot = menus[o.day].slots[l.slot];
        const std::string id = ids_.Next();
        RETURN_IF_ERROR(
            store::AppendOrderItem(run_.writer, {.id = id,
                                                 .order_id = o.id,
                                                 .menu_item_id = st.item_ids[slot.item],
                                                 .slot_id = slot.id,
                                                 .name = kCatalog[slot.item].name,
                                                 .quantity = l.quantity,
                                                 .unit_price_paise = slot.price,
                                                 .total_price_paise = slot.price * l.quantity,
                                                 .created_at = o.created,
                                                 .updated_at = o.created}));
        ++report_.counts.order_items;
      }
    }
    // Payment orders and gateway payments of the simulated gateway, for orders that were paid
    // (or refunded) or whose payment failed (see SizeSpec::full_history).
    struct Payment {
      std::string order_row;
      std::string transaction_row;
      const Order* order;
    };
    std::vector<Payment> payments;
    for (const Order& o : orders) {
      if (o.pay == PayStatus::kPending || o.total <= 0 || !WithDetails(o)) continue;
      const Student& stu = st.students[o.student];
      Payment p{.order_row = ids_.Next(), .transaction_row = ids_.Next(), .order = &o};
      const TimePoint created = o.created + std::chrono::seconds(20);
      const std::string gateway_order_id = GatewayId("order_");
      RETURN_IF_ERROR(store::AppendPaymentOrder(
          run_.writer, {.id = p.order_row,
                        .gateway_order_id = gateway_order_id,
                        .gateway = "simulated",
                        .order_id = o.id,
                        .user_id = o.placed_by_student ? stu.id : st.parent_ids[stu.parent],
                        .amount_paise = o.total,
                        .currency = "INR",
                        .status = o.pay == PayStatus::kFailed ? "failed" : "paid",
                        .receipt = o.number,
                        .expires_at = created + minutes(30),
                        .paid_at = o.paid_at,
                        .created_at = created,
                        .updated_at = o.paid_at.value_or(created + minutes(2))}));
      ++report_.counts.payment_orders;
      payments.push_back(std::move(p));
    }
    for (const Payment& p : payments) {
      const Order& o = *p.order;
      const bool failed = o.pay == PayStatus::kFailed;
      const std::string gateway_payment_id = GatewayId("pay_");
      const char* method = kMethods[rng_.Below(std::size(kMethods))];
      RETURN_IF_ERROR(store::AppendPaymentTransaction(
          run_.writer,
          {.id = p.transaction_row,
           .gateway_payment_id = gateway_payment_id,
           .payment_order_id = p.order_row,
           .amount_paise = o.total,
           .currency = "INR",
           .status = failed ? "failed" : (o.pay == PayStatus::kRefunded ? "refunded" : "captured"),
           .method = method,
           .gateway = "simulated",
           .error_code = failed ? "BAD_REQUEST_ERROR" : "",
           .error_description = failed ? "Payment failed" : "",
           .captured_at = failed ? std::nullopt : o.paid_at,
           .refunded_at = !failed && o.pay == PayStatus::kRefunded ? o.cancelled_at : std::nullopt,
           .created_at = o.created + std::chrono::seconds(80),
           .updated_at = o.updated}));
      ++report_.counts.payment_transactions;
    }
    for (const Order& o : orders) {
      if (!o.delivered_at || !WithDetails(o)) continue;
      const Student& stu = st.students[o.student];
      const std::string id = ids_.Next();
      RETURN_IF_ERROR(store::AppendVerification(
          run_.writer, {.id = id,
                        .order_id = o.id,
                        .student_id = stu.id,
                        .card_id = stu.card_id,
                        .reader_id = st.reader_ids[o.reader],
                        .verified_at = *o.delivered_at,
                        .status = "verified",
                        .location = o.reader == 0 ? "Main canteen" : "Junior block canteen",
                        .created_at = *o.delivered_at}));
      ++report_.counts.delivery_verifications;
    }
    return Status::Ok();
  }

  SeedRun& run_;
  Rng& rng_;
  IdGen& ids_;
  SeedReport& report_;
  const SizeSpec& spec_;
  const TimePoint now_;
  const int today_index_;
  const SchoolState& st_;
};

}  // namespace

void PlanMenuDays(SeedRun& run) {
  for (int offset = -kWindowDays; offset <= kWindowDays; ++offset) {
    const Date d = run.base + days(offset);
    const bool weekend = IsoWeekday(d) >= 6;
    if (weekend && offset != 0) continue;
    if (offset == 0) run.today_index = static_cast<int>(run.day_dates.size());
    run.day_dates.push_back(d);
    run.day_weekend.push_back(weekend);
  }
}

Status WriteSchoolActivity(SeedRun& run, size_t school) {
  return SchoolActivity(run, school).Write();
}

}  // namespace hasivu::seed
