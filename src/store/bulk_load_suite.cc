// Bulk loading through the repositories' appenders (bulk_load.h), compiled into store_test
// (SQLite) and store_pgtest (PostgreSQL) with the backend of testing/.
#include "store/bulk_load.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "common/ids.h"
#include "common/time_util.h"
#include "store/maintenance.h"
#include "store/menus_repo.h"
#include "store/migrations.h"
#include "store/orders_repo.h"
#include "store/payments_repo.h"
#include "store/rfid_repo.h"
#include "store/testing/test_backend.h"
#include "store/users_repo.h"

namespace hasivu::store {
namespace {

using std::chrono::days;
using std::chrono::hours;

// Records what a writer hands its loader.
class RecordingLoader final : public BulkLoader {
 public:
  // store::BulkLoader
  Status Begin(std::string_view table, std::vector<std::string> columns) override {
    begun.push_back(std::string(table));
    width = columns.size();
    return Status::Ok();
  }
  Status Append(std::span<const Value> row) override {
    if (row.size() != width) return InternalError("width");
    rows.emplace_back(row.begin(), row.end());
    return Status::Ok();
  }
  Status Finish() override { return Status::Ok(); }

  std::vector<std::string> begun;
  size_t width = 0;
  std::vector<std::vector<Value>> rows;
};

TEST(BulkWriterTest, FormatsInstantsAndDatesAsTimeUtil) {
  RecordingLoader loader;
  BulkWriter w(loader);
  static constexpr std::string_view kColumns[] = {"at", "on"};
  const TimePoint base = *ParseRfc3339("2026-11-27T13:25:21.123456Z");
  const std::vector<TimePoint> instants = {
      base,
      *ParseRfc3339("1999-12-31T23:59:59.999999Z"),
      *ParseRfc3339("2000-01-01T00:00:00Z"),
      *ParseRfc3339("2024-02-29T12:00:00.000001Z"),
      base + std::chrono::nanoseconds(999),  // below a microsecond: truncated
      TimePoint(),                           // 1970
  };
  for (const TimePoint& t : instants) {
    ASSERT_TRUE(w.StartRow("t", kColumns).ok());
    ASSERT_TRUE(w.Time(t).Day(std::chrono::floor<days>(t)).EndRow().ok());
  }
  ASSERT_EQ(loader.rows.size(), instants.size());
  for (size_t i = 0; i < instants.size(); ++i) {
    EXPECT_EQ(std::get<std::string>(loader.rows[i][0]), FormatRfc3339(instants[i]));
    EXPECT_EQ(std::get<std::string>(loader.rows[i][1]),
              FormatDate(std::chrono::floor<days>(instants[i])));
  }
  // Years past 9999 leave the fast path.
  const Date far = Date(std::chrono::year(12000) / 1 / 2);
  ASSERT_TRUE(w.StartRow("t", kColumns).ok());
  ASSERT_TRUE(w.Null().Day(far).EndRow().ok());
  EXPECT_EQ(std::get<std::string>(loader.rows.back()[1]), FormatDate(far));
  EXPECT_EQ(loader.begun, std::vector<std::string>{"t"});
}

TEST(BulkWriterTest, BeginsATableWhenRowsSwitchToItAndRefusesWrongWidths) {
  RecordingLoader loader;
  BulkWriter w(loader);
  static constexpr std::string_view kTwo[] = {"a", "b"};
  static constexpr std::string_view kOne[] = {"a"};
  for (const char* table : {"x", "x", "y", "x"}) {
    ASSERT_TRUE(w.StartRow(table, kOne).ok());
    ASSERT_TRUE(w.Int(1).EndRow().ok());
  }
  EXPECT_EQ(loader.begun, (std::vector<std::string>{"x", "y", "x"}));
  ASSERT_TRUE(w.StartRow("z", kTwo).ok());
  EXPECT_EQ(w.Int(1).EndRow().code(), StatusCode::kInternal);
  ASSERT_TRUE(w.StartRow("z", kTwo).ok());
  EXPECT_EQ(w.Int(1).Int(2).Int(3).EndRow().code(), StatusCode::kInternal);
  ASSERT_TRUE(w.StartRow("z", kTwo).ok());
  EXPECT_TRUE(w.TextOrNull("").OptInt(std::nullopt).EndRow().ok());
  EXPECT_TRUE(std::holds_alternative<std::monostate>(loader.rows.back()[0]));
  EXPECT_TRUE(std::holds_alternative<std::monostate>(loader.rows.back()[1]));
}

class BulkLoadSuite : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitCrypto().ok());
    auto t = testing::NewTestDatabase();
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    test_db_ = std::move(*t);
    Status m = Migrate(db());
    ASSERT_TRUE(m.ok()) << m.ToString();
  }

  Database& db() { return test_db_->db(); }

  std::unique_ptr<testing::TestDatabase> test_db_;
};

// One row of every table through its appender, read back through the repositories' queries.
TEST_F(BulkLoadSuite, AppendersWriteWhatTheRepositoriesRead) {
  const TimePoint t0 = *ParseRfc3339("2026-11-20T04:30:00.000001Z");
  const Date day = Date(std::chrono::year(2026) / 11 / 27);
  const std::string school = NewUuidV7(), parent = NewUuidV7(), student = NewUuidV7();
  const std::string reader = NewUuidV7(), card = NewUuidV7(), item = NewUuidV7();
  const std::string menu = NewUuidV7(), slot = NewUuidV7(), order = NewUuidV7();
  const std::string line = NewUuidV7(), payment = NewUuidV7(), txn = NewUuidV7();
  const std::string verification = NewUuidV7();
  Status loaded = LoadInBulk(db(), [&](BulkWriter& w) -> Status {
    RETURN_IF_ERROR(AppendSchool(w, {.id = school,
                                     .name = "Bulk School",
                                     .code = "BLK001",
                                     .timezone = "Asia/Kolkata",
                                     .address_json = R"({"city":"Pune"})",
                                     .city = "Pune",
                                     .state = "Maharashtra",
                                     .phone = "+91 80 40000001",
                                     .email = "office@bulk.test",
                                     .principal_name = "A Principal",
                                     .created_at = t0,
                                     .updated_at = t0}));
    RETURN_IF_ERROR(AppendUser(w, {.id = parent,
                                   .email = "parent@bulk.test",
                                   .password_hash = "h\tash",
                                   .first_name = "Pa",
                                   .last_name = "Rent",
                                   .phone = "+91 900000000",
                                   .role = "parent",
                                   .status = "active",
                                   .school_id = school,
                                   .timezone = "Asia/Kolkata",
                                   .email_verified = true,
                                   .created_at = t0,
                                   .updated_at = t0}));
    RETURN_IF_ERROR(AppendUser(w, {.id = student,
                                   .email = "student@bulk.test",
                                   .password_hash = "h",
                                   .first_name = "Stu",
                                   .last_name = "Dent",
                                   .role = "student",
                                   .status = "active",
                                   .school_id = school,
                                   .parent_id = parent,
                                   .grade = "4",
                                   .section = "B",
                                   .timezone = "Asia/Kolkata",
                                   .created_at = t0,
                                   .updated_at = t0}));
    RETURN_IF_ERROR(AppendReader(w, {.id = reader,
                                     .school_id = school,
                                     .name = "Gate",
                                     .location = "Canteen",
                                     .ip_address = "10.0.0.1",
                                     .status = "online",
                                     .last_heartbeat = t0,
                                     .created_at = t0,
                                     .updated_at = t0}));
    RETURN_IF_ERROR(AppendCard(w, {.id = card,
                                   .card_number = "RFID-BLK-000001",
                                   .student_id = student,
                                   .school_id = school,
                                   .issued_at = t0,
                                   .expires_at = t0 + days(365),
                                   .created_at = t0,
                                   .updated_at = t0}));
    RETURN_IF_ERROR(AppendMenuItem(w, {.id = item,
                                       .school_id = school,
                                       .name = "Poha",
                                       .description = "Flattened rice",
                                       .category = "BREAKFAST",
                                       .price_paise = 3000,
                                       .currency = "INR",
                                       .allergens_json = R"(["peanuts"])",
                                       .tags_json = R"(["veg"])",
                                       .calories = 270,
                                       .preparation_time = 15,
                                       .created_at = t0,
                                       .updated_at = t0}));
    RETURN_IF_ERROR(AppendDailyMenu(w, {.id = menu,
                                        .school_id = school,
                                        .date = day,
                                        .day_type = "WEEKDAY",
                                        .is_published = true,
                                        .published_at = t0,
                                        .created_at = t0,
                                        .updated_at = t0}));
    RETURN_IF_ERROR(AppendMenuSlot(w, {.id = slot,
                                       .daily_menu_id = menu,
                                       .menu_item_id = item,
                                       .category = "BREAKFAST",
                                       .planned_quantity = 10,
                                       .available_quantity = 9,
                                       .custom_price_paise = 2500,
                                       .is_limited = true,
                                       .max_per_order = 2}));
    RETURN_IF_ERROR(AppendOrder(w, {.id = order,
                                    .order_number = "ORD-20261127-00000ABC",
                                    .user_id = parent,
                                    .student_id = student,
                                    .school_id = school,
                                    .status = "delivered",
                                    .payment_status = "paid",
                                    .total_amount_paise = 2500,
                                    .currency = "INR",
                                    .delivery_date = day,
                                    .delivered_at = t0 + days(7),
                                    .created_at = t0,
                                    .updated_at = t0 + days(7),
                                    .item_count = 1}));
    RETURN_IF_ERROR(AppendOrderItem(w, {.id = line,
                                        .order_id = order,
                                        .menu_item_id = item,
                                        .slot_id = slot,
                                        .name = "Poha",
                                        .quantity = 1,
                                        .unit_price_paise = 2500,
                                        .total_price_paise = 2500,
                                        .created_at = t0,
                                        .updated_at = t0}));
    RETURN_IF_ERROR(AppendPaymentOrder(w, {.id = payment,
                                           .gateway_order_id = "order_000000abcdefgh",
                                           .gateway = "simulated",
                                           .order_id = order,
                                           .user_id = parent,
                                           .amount_paise = 2500,
                                           .currency = "INR",
                                           .status = "paid",
                                           .receipt = "ORD-20261127-00000ABC",
                                           .expires_at = t0 + hours(1),
                                           .paid_at = t0,
                                           .created_at = t0,
                                           .updated_at = t0}));
    RETURN_IF_ERROR(AppendPaymentTransaction(w, {.id = txn,
                                                 .gateway_payment_id = "pay_000000abcdefgh",
                                                 .payment_order_id = payment,
                                                 .amount_paise = 2500,
                                                 .currency = "INR",
                                                 .status = "captured",
                                                 .method = "upi",
                                                 .gateway = "simulated",
                                                 .captured_at = t0,
                                                 .created_at = t0,
                                                 .updated_at = t0}));
    return AppendVerification(w, {.id = verification,
                                  .order_id = order,
                                  .student_id = student,
                                  .card_id = card,
                                  .reader_id = reader,
                                  .verified_at = t0 + days(7),
                                  .status = "verified",
                                  .location = "Canteen",
                                  .created_at = t0 + days(7)});
  });
  ASSERT_TRUE(loaded.ok()) << loaded.ToString();
  auto deferred = DeferredIndexes(db());
  ASSERT_TRUE(deferred.ok());
  EXPECT_TRUE(deferred->empty());

  Status read = db().Read([&](Connection& c) -> Status {
    ASSIGN_OR_RETURN(std::optional<UserRecord> kid, FindUserById(c, student));
    EXPECT_TRUE(kid.has_value());
    if (kid) {
      EXPECT_EQ(kid->parent_id, parent);
      EXPECT_EQ(kid->phone, "");  // NULL
      EXPECT_EQ(kid->grade, "4");
      EXPECT_EQ(kid->created_at, FormatRfc3339(t0));
    }
    ASSIGN_OR_RETURN(std::optional<UserRecord> pa, FindUserByEmail(c, "parent@bulk.test"));
    EXPECT_TRUE(pa.has_value() && pa->password_hash == "h\tash" && pa->is_active);
    ASSIGN_OR_RETURN(std::optional<CardRow> found, FindCardByNumber(c, "RFID-BLK-000001"));
    EXPECT_TRUE(found.has_value());
    if (found) {
      EXPECT_EQ(found->student_id, student);
      EXPECT_EQ(found->expires_at, FormatRfc3339(t0 + days(365)));
      EXPECT_EQ(found->school_name, "Bulk School");
    }
    ASSIGN_OR_RETURN(std::optional<DailyMenuRow> dm, FindDailyMenu(c, school, "2026-11-27"));
    EXPECT_TRUE(dm.has_value() && dm->id == menu && dm->is_published);
    ASSIGN_OR_RETURN(std::vector<MenuSlotRow> slots, ListMenuSlots(c, menu));
    EXPECT_EQ(slots.size(), 1u);
    if (!slots.empty()) {
      EXPECT_EQ(slots[0].price_paise, 2500);
      EXPECT_EQ(slots[0].available_quantity, 9);
      EXPECT_EQ(slots[0].max_per_order, 2);
    }
    ASSIGN_OR_RETURN(std::optional<OrderDetailRow> detail, FindOrderDetail(c, order));
    EXPECT_TRUE(detail.has_value());
    if (detail) {
      EXPECT_EQ(detail->order.delivery_date, "2026-11-27");
      EXPECT_EQ(detail->order.item_count, 1);
      EXPECT_EQ(detail->items.size(), 1u);
    }
    ASSIGN_OR_RETURN(std::optional<PaymentOrderRow> po, FindPaymentOrderById(c, payment));
    EXPECT_TRUE(po.has_value() && po->paid_at == FormatRfc3339(t0));
    ASSIGN_OR_RETURN(std::optional<PaymentTransactionRow> pt,
                     FindTransactionByGatewayPaymentId(c, "pay_000000abcdefgh"));
    EXPECT_TRUE(pt.has_value() && pt->error_code.empty() && pt->status == "captured");
    ASSIGN_OR_RETURN(std::optional<VerificationRow> v, FindVerifiedDelivery(c, order));
    EXPECT_TRUE(v.has_value() && v->card_id == card);
    ASSIGN_OR_RETURN(bool schools, AnySchool(c));
    ASSIGN_OR_RETURN(bool orders, AnyOrder(c));
    EXPECT_TRUE(schools && orders);
    return Status::Ok();
  });
  EXPECT_TRUE(read.ok()) << read.ToString();
}

TEST_F(BulkLoadSuite, AFailedLoadKeepsTheIndexes) {
  Status loaded = LoadInBulk(db(), [](BulkWriter&) -> Status { return AbortedError("stop"); });
  EXPECT_EQ(loaded.code(), StatusCode::kAborted);
  auto deferred = DeferredIndexes(db());
  ASSERT_TRUE(deferred.ok());
  EXPECT_TRUE(deferred->empty());
  // A row the database refuses (no such school) fails the load the same way.
  loaded = LoadInBulk(db(), [](BulkWriter& w) -> Status {
    return AppendReader(
        w, {.id = NewUuidV7(), .school_id = NewUuidV7(), .name = "Gate", .status = "online"});
  });
  EXPECT_FALSE(loaded.ok());
  deferred = DeferredIndexes(db());
  ASSERT_TRUE(deferred.ok());
  EXPECT_TRUE(deferred->empty());
  Status empty = db().Read([](Connection& c) -> Status {
    ASSIGN_OR_RETURN(bool any, AnySchool(c));
    EXPECT_FALSE(any);
    ASSIGN_OR_RETURN(any, AnyOrder(c));
    EXPECT_FALSE(any);
    return Status::Ok();
  });
  EXPECT_TRUE(empty.ok()) << empty.ToString();
}

}  // namespace
}  // namespace hasivu::store
