// The store suite: the behaviour every backend must show through the Database interface. Compiled
// into store_test (SQLite) and store_pgtest (PostgreSQL) with the backend of testing/. Just over
// 600 lines: one suite, so that both backends are held to every case; the bulk loads have their
// own (bulk_load_suite.cc).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <regex>
#include <set>
#include <thread>

#include "common/ids.h"
#include "store/database.h"
#include "store/maintenance.h"
#include "store/migrations.h"
#include "store/open_database.h"
#include "store/testing/test_backend.h"

namespace hasivu::store {
namespace {

using testing::NewTestDatabase;
using testing::TestDatabase;

// The 36 index names of the original's performance migration (reference §2), verbatim.
const char* const kOriginalIndexes[] = {
    "users_role_status_idx",
    "users_schoolId_role_isActive_idx",
    "users_parentId_isActive_idx",
    "users_createdAt_desc_idx",
    "orders_userId_createdAt_desc_idx",
    "orders_schoolId_deliveryDate_status_idx",
    "orders_studentId_deliveryDate_desc_idx",
    "orders_status_paymentStatus_idx",
    "payment_orders_userId_createdAt_desc_idx",
    "payment_orders_status_expiresAt_idx",
    "rfid_cards_studentId_isActive_idx",
    "rfid_cards_schoolId_isActive_idx",
    "rfid_cards_cardNumber_isActive_idx",
    "rfid_cards_expiresAt_idx",
    "payments_userId_paidAt_desc_idx",
    "payments_status_createdAt_idx",
    "payments_subscriptionId_status_idx",
    "subscriptions_userId_status_idx",
    "subscriptions_schoolId_status_idx",
    "subscriptions_status_nextBillingDate_idx",
    "subscriptions_studentId_status_idx",
    "invoices_userId_invoiceDate_desc_idx",
    "invoices_schoolId_status_idx",
    "invoices_status_dueDate_idx",
    "menu_items_category_available_idx",
    "menu_items_featured_available_idx",
    "delivery_verifications_studentId_verifiedAt_desc_idx",
    "delivery_verifications_readerId_verifiedAt_desc_idx",
    "notifications_userId_createdAt_desc_idx",
    "notifications_userId_status_idx",
    "billing_cycles_subscriptionId_cycleStart_idx",
    "billing_cycles_status_nextDunningAt_idx",
    "payment_analytics_schoolId_reportDate_idx",
    "subscription_analytics_schoolId_reportDate_idx",
    "daily_menus_schoolId_date_isActive_idx",
    "menu_plans_schoolId_status_startDate_idx",
};

const std::regex kInstant(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z)");

std::string S(std::string_view s) { return std::string(s); }

class StoreSuite : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitCrypto().ok());
    auto t = NewTestDatabase();
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    test_db_ = std::move(*t);
  }

  Database& db() { return test_db_->db(); }

  void Migrated() {
    Status s = Migrate(db());
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  // Runs one statement in its own transaction.
  StatusOr<ResultSet> WriteQuery(std::string_view sql, std::vector<Value> params = {}) {
    StatusOr<ResultSet> out = InternalError("not run");
    Status s = db().Write([&](Connection& c) -> Status {
      out = c.Query(sql, params);
      return out.ok() ? Status::Ok() : out.status();
    });
    if (!s.ok()) return s;
    return out;
  }

  StatusOr<ResultSet> ReadQuery(std::string_view sql, std::vector<Value> params = {}) {
    StatusOr<ResultSet> out = InternalError("not run");
    Status s = db().Read([&](Connection& c) -> Status {
      out = c.Query(sql, params);
      return out.ok() ? Status::Ok() : out.status();
    });
    if (!s.ok()) return s;
    return out;
  }

  std::string InsertSchool(std::string code) {
    const std::string id = NewUuidV7();
    auto rs = WriteQuery("INSERT INTO schools (id, name, code) VALUES ($1, $2, $3)",
                         {id, "School " + code, code});
    EXPECT_TRUE(rs.ok()) << rs.status().ToString();
    return id;
  }

  std::string InsertUser(const std::string& school_id, const std::string& role,
                         std::optional<std::string> parent_id = std::nullopt) {
    const std::string id = NewUuidV7();
    Value parent = parent_id ? Value(*parent_id) : Value(std::monostate{});
    auto rs = WriteQuery(
        "INSERT INTO users (id, email, password_hash, role, school_id, parent_id) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        {id, id + "@example.test", S("hash"), role, school_id, parent});
    EXPECT_TRUE(rs.ok()) << rs.status().ToString();
    return id;
  }

  std::unique_ptr<TestDatabase> test_db_;
};

TEST_F(StoreSuite, MigrateTwiceAppliesNothingTheSecondTime) {
  std::vector<int> first;
  ASSERT_TRUE(Migrate(db(), &first).ok());
  EXPECT_FALSE(first.empty());
  EXPECT_EQ(first.back(), LatestMigrationVersion(db().dialect()));
  EXPECT_TRUE(std::is_sorted(first.begin(), first.end()));

  std::vector<int> second = {42};
  Status s = Migrate(db(), &second);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(second.empty());

  auto listed = ListMigrations(db());
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), first.size());
  for (size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ((*listed)[i].version, first[i]);
    EXPECT_FALSE((*listed)[i].name.empty());
    EXPECT_TRUE(std::regex_match((*listed)[i].applied_at, kInstant)) << (*listed)[i].applied_at;
  }
}

TEST_F(StoreSuite, ListMigrationsOfAFreshDatabaseIsEmpty) {
  auto listed = ListMigrations(db());
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_TRUE(listed->empty());
}

TEST_F(StoreSuite, MigrateRefusesAnEditedMigration) {
  Migrated();
  ASSERT_TRUE(
      WriteQuery("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1").ok());
  Status s = Migrate(db());
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
}

TEST_F(StoreSuite, ConcurrentMigrationsApplyEachVersionOnce) {
  // Separate handles on the same data, as separate processes would have.
  DatabaseSettings settings;
  settings.url = test_db_->url();
  settings.pool_size = 2;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&] {
      auto other = OpenDatabase(settings);
      if (!other.ok() || !Migrate(**other).ok()) ++failures;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  auto listed = ListMigrations(db());
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(static_cast<int>(listed->size()), LatestMigrationVersion(db().dialect()));
}

TEST_F(StoreSuite, AllOriginalIndexesExistUnderTheirNames) {
  Migrated();
  const std::string_view sql =
      db().dialect() == Dialect::kSqlite
          ? "SELECT name FROM sqlite_master WHERE type = 'index'"
          : "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()";
  auto rs = ReadQuery(sql);
  ASSERT_TRUE(rs.ok()) << rs.status().ToString();
  std::set<std::string> names;
  for (const Row& r : rs->rows) names.insert(r.Text(0));
  for (const char* name : kOriginalIndexes) EXPECT_TRUE(names.count(name)) << name;
  for (const char* name :
       {"orders_studentId_createdAt_id_desc_idx", "orders_schoolId_createdAt_id_desc_idx",
        "delivery_verifications_orderId_verified_key"}) {
    EXPECT_TRUE(names.count(name)) << name;
  }
}

// The names of the indexes on `table` in the current schema.
std::set<std::string> IndexNames(Database& db, const std::string& table) {
  std::set<std::string> names;
  const std::string_view sql =
      db.dialect() == Dialect::kSqlite
          ? "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = $1"
          : "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
            " AND tablename = $1";
  Status s = db.Read([&](Connection& c) -> Status {
    const Value p[] = {table};
    ASSIGN_OR_RETURN(ResultSet rs, c.Query(sql, p));
    for (const Row& r : rs.rows) names.insert(r.Text(0));
    return Status::Ok();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return names;
}

TEST_F(StoreSuite, DeferredIndexesAreDroppedAndRestored) {
  Migrated();
  const std::set<std::string> before = IndexNames(db(), "orders");
  const std::set<std::string> dv_before = IndexNames(db(), "delivery_verifications");
  ASSERT_TRUE(before.count("orders_studentId_deliveryDate_desc_idx"));

  std::vector<std::string> deferred;
  const std::string_view tables[] = {"orders", "delivery_verifications"};
  Status s = DeferIndexes(db(), tables, &deferred);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(std::count(deferred.begin(), deferred.end(), "orders_createdAt_id_desc_idx"));
  const std::set<std::string> during = IndexNames(db(), "orders");
  EXPECT_FALSE(during.count("orders_studentId_deliveryDate_desc_idx"));
  EXPECT_FALSE(during.count("orders_createdAt_id_desc_idx"));
  // Unique guards stay: the delivered-once index and the order number.
  EXPECT_TRUE(IndexNames(db(), "delivery_verifications")
                  .count("delivery_verifications_orderId_verified_key"));
  EXPECT_LT(during.size(), before.size());
  auto listed = DeferredIndexes(db());
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), deferred.size());

  // Rows inserted meanwhile land in the rebuilt indexes.
  const std::string school = InsertSchool("S1");
  const std::string parent = InsertUser(school, "parent");
  const std::string student = InsertUser(school, "student", parent);
  ASSERT_TRUE(WriteQuery("INSERT INTO orders (id, order_number, user_id, student_id, school_id,"
                         " total_amount_paise, delivery_date) VALUES ($1, 'O1', $2, $3, $4, 100,"
                         " '2026-11-27')",
                         {NewUuidV7(), parent, student, school})
                  .ok());
  auto dup = WriteQuery(
      "INSERT INTO orders (id, order_number, user_id, student_id, school_id,"
      " total_amount_paise, delivery_date) VALUES ($1, 'O1', $2, $3, $4, 100,"
      " '2026-11-27')",
      {NewUuidV7(), parent, student, school});
  EXPECT_EQ(dup.status().code(), StatusCode::kAlreadyExists);

  s = RestoreDeferredIndexes(db());
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(IndexNames(db(), "orders"), before);
  EXPECT_EQ(IndexNames(db(), "delivery_verifications"), dv_before);
  listed = DeferredIndexes(db());
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
  // Restoring again is a no-op.
  EXPECT_TRUE(RestoreDeferredIndexes(db()).ok());
  EXPECT_EQ(DeferIndexes(db(), std::vector<std::string_view>{"orders; DROP TABLE x"}).code(),
            StatusCode::kInvalidArgument);
}

TEST_F(StoreSuite, MigrateRestoresIndexesACrashedLoadLeftDeferred) {
  Migrated();
  const std::set<std::string> before = IndexNames(db(), "users");
  const std::string_view tables[] = {"users"};
  ASSERT_TRUE(DeferIndexes(db(), tables).ok());
  ASSERT_NE(IndexNames(db(), "users"), before);
  Status s = Migrate(db());
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(IndexNames(db(), "users"), before);
}

TEST_F(StoreSuite, EveryValueTypeAndNullRoundTrips) {
  Migrated();
  const std::string school = InsertSchool("S1");
  const std::string id = NewUuidV7();
  const std::string tricky = "Robert'); DROP TABLE users;-- \"x\" $1 ?1 \\ ಹಸಿವು";
  auto ins = WriteQuery(
      "INSERT INTO menu_items (id, school_id, name, description, category, price_paise,"
      " available, featured, calories, image_url, allergens)"
      " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
      {id, school, tricky, std::monostate{}, S("LUNCH"), int64_t{9007199254740993}, false, true,
       int64_t{-5}, std::monostate{}, S("[\"nuts\",\"milk\"]")});
  ASSERT_TRUE(ins.ok()) << ins.status().ToString();
  EXPECT_EQ(ins->rows_affected, 1);

  auto rs = ReadQuery(
      "SELECT name, description, price_paise, available, featured, calories, image_url,"
      " allergens, created_at FROM menu_items WHERE id = $1",
      {id});
  ASSERT_TRUE(rs.ok()) << rs.status().ToString();
  ASSERT_EQ(rs->rows.size(), 1u);
  const Row& r = rs->rows[0];
  EXPECT_EQ(r.Text(0), tricky);
  EXPECT_TRUE(r.IsNull(1));
  EXPECT_EQ(r.Text(2), "9007199254740993");
  EXPECT_EQ(r.Int(2), int64_t{9007199254740993});
  EXPECT_EQ(r.Text(3), "0");
  EXPECT_EQ(r.Text(4), "1");
  EXPECT_TRUE(r.Bool(4));
  EXPECT_EQ(r.Int(5), -5);
  EXPECT_TRUE(r.IsNull(6));
  EXPECT_NE(r.Text(7).find("nuts"), std::string::npos);
  EXPECT_TRUE(std::regex_match(r.Text(8), kInstant)) << r.Text(8);
  ASSERT_EQ(rs->columns.size(), 9u);
  EXPECT_EQ(rs->columns[0], "name");

  // Doubles travel both ways.
  auto d = ReadQuery("SELECT CAST($1 AS DOUBLE PRECISION) * 2", {1.25});
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_DOUBLE_EQ(d->rows[0].Double(0), 2.5);

  // A bool parameter compares with a boolean column.
  auto b = ReadQuery("SELECT count(*) FROM menu_items WHERE featured = $1 AND available = $2",
                     {true, false});
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->rows[0].Int(0), 1);
}

TEST_F(StoreSuite, InstantsAndDatesComeBackInTheContractForms) {
  Migrated();
  const std::string school = InsertSchool("S1");
  const std::string parent = InsertUser(school, "parent");
  const std::string student = InsertUser(school, "student", parent);
  const std::string order = NewUuidV7();
  auto ins = WriteQuery(
      "INSERT INTO orders (id, order_number, user_id, student_id, school_id, total_amount_paise,"
      " delivery_date, created_at, updated_at, delivered_at)"
      " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
      {order, S("ORD-20261127-ABCDEFGH"), parent, student, school, int64_t{12345}, S("2026-11-27"),
       S("2026-11-27T13:25:21.123456Z"), S("2026-11-27T00:00:00.000000Z"), std::monostate{}});
  ASSERT_TRUE(ins.ok()) << ins.status().ToString();
  auto rs = ReadQuery(
      "SELECT delivery_date, created_at, updated_at, delivered_at, status, payment_status"
      " FROM orders WHERE id = $1",
      {order});
  ASSERT_TRUE(rs.ok()) << rs.status().ToString();
  const Row& r = rs->rows.at(0);
  EXPECT_EQ(r.Text(0), "2026-11-27");
  EXPECT_EQ(r.Text(1), "2026-11-27T13:25:21.123456Z");
  EXPECT_EQ(r.Text(2), "2026-11-27T00:00:00.000000Z");
  EXPECT_TRUE(r.IsNull(3));
  EXPECT_EQ(r.Text(4), "pending");
  EXPECT_EQ(r.Text(5), "pending");

  // Comparisons and ordering of instants and dates bound as text.
  auto cmp = ReadQuery(
      "SELECT count(*) FROM orders WHERE created_at > $1 AND created_at < $2"
      " AND delivery_date BETWEEN $3 AND $4",
      {S("2026-11-27T13:25:21.123455Z"), S("2026-11-27T13:25:21.123457Z"), S("2026-11-01"),
       S("2026-11-30")});
  ASSERT_TRUE(cmp.ok()) << cmp.status().ToString();
  EXPECT_EQ(cmp->rows[0].Int(0), 1);
}

TEST_F(StoreSuite, UniqueViolationIsAlreadyExists) {
  Migrated();
  InsertSchool("DUP");
  auto again =
      WriteQuery("INSERT INTO schools (id, name, code) VALUES ($1, 'x', 'DUP')", {NewUuidV7()});
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists) << again.status().ToString();
  const std::string id = InsertSchool("A");
  auto pk = WriteQuery("INSERT INTO schools (id, name, code) VALUES ($1, 'x', 'B')", {id});
  EXPECT_EQ(pk.status().code(), StatusCode::kAlreadyExists) << pk.status().ToString();
}

TEST_F(StoreSuite, ForeignKeyAndCheckViolationsAreFailedPrecondition) {
  Migrated();
  auto fk = WriteQuery(
      "INSERT INTO users (id, email, password_hash, school_id) VALUES ($1, 'a@b.c', 'h', $2)",
      {NewUuidV7(), NewUuidV7()});
  EXPECT_EQ(fk.status().code(), StatusCode::kFailedPrecondition) << fk.status().ToString();
  auto check = WriteQuery(
      "INSERT INTO users (id, email, password_hash, role) VALUES ($1, 'a@b.c', 'h', 'root')",
      {NewUuidV7()});
  EXPECT_EQ(check.status().code(), StatusCode::kFailedPrecondition) << check.status().ToString();
  auto not_null = WriteQuery("INSERT INTO schools (id, code) VALUES ($1, 'X')", {NewUuidV7()});
  EXPECT_EQ(not_null.status().code(), StatusCode::kFailedPrecondition)
      << not_null.status().ToString();
}

// Issue 19: what a store builds from its driver's text is operator text: api/ must never send it
// to a client (common/status.h, message_is_for_client).
TEST_F(StoreSuite, DriverErrorsAreNotClientMessages) {
  Migrated();
  InsertSchool("DUP");
  std::vector<Status> errors;
  errors.push_back(
      WriteQuery("INSERT INTO schools (id, name, code) VALUES ($1, 'x', 'DUP')", {NewUuidV7()})
          .status());
  errors.push_back(
      WriteQuery("INSERT INTO schools (id, code) VALUES ($1, 'X')", {NewUuidV7()}).status());
  errors.push_back(WriteQuery("SELEC 1").status());
  // A character cut in the middle: PostgreSQL refuses it (SQLite stores the bytes as given).
  auto cut = WriteQuery("INSERT INTO schools (id, name, code) VALUES ($1, $2, 'U8')",
                        {NewUuidV7(), S("caf\xC3")});
  if (db().dialect() == Dialect::kPostgresql) {
    ASSERT_FALSE(cut.ok());
    EXPECT_EQ(cut.status().code(), StatusCode::kInvalidArgument) << cut.status().ToString();
    errors.push_back(cut.status());
  }
  for (const Status& s : errors) {
    ASSERT_FALSE(s.ok());
    EXPECT_FALSE(s.message_is_for_client()) << s.ToString();
    EXPECT_TRUE(s.reason().empty()) << s.ToString();
  }
}

TEST_F(StoreSuite, DeliveryIsRecordedOncePerOrder) {
  Migrated();
  const std::string school = InsertSchool("S1");
  const std::string parent = InsertUser(school, "parent");
  const std::string student = InsertUser(school, "student", parent);
  const std::string order = NewUuidV7();
  const std::string card = NewUuidV7();
  ASSERT_TRUE(WriteQuery("INSERT INTO orders (id, order_number, user_id, student_id, school_id,"
                         " total_amount_paise, delivery_date) VALUES ($1, 'O1', $2, $3, $4, 100,"
                         " '2026-11-27')",
                         {order, parent, student, school})
                  .ok());
  ASSERT_TRUE(WriteQuery("INSERT INTO rfid_cards (id, card_number, student_id, school_id)"
                         " VALUES ($1, 'RFID-0001', $2, $3)",
                         {card, student, school})
                  .ok());
  const std::string sql =
      "INSERT INTO delivery_verifications (id, order_id, student_id, card_id, status)"
      " VALUES ($1, $2, $3, $4, $5)";
  EXPECT_TRUE(WriteQuery(sql, {NewUuidV7(), order, student, card, S("verified")}).ok());
  EXPECT_TRUE(WriteQuery(sql, {NewUuidV7(), order, student, card, S("duplicate")}).ok());
  auto second = WriteQuery(sql, {NewUuidV7(), order, student, card, S("verified")});
  EXPECT_EQ(second.status().code(), StatusCode::kAlreadyExists) << second.status().ToString();
}

TEST_F(StoreSuite, FailedWriteRollsEverythingBack) {
  Migrated();
  const std::string id = NewUuidV7();
  Status s = db().Write([&](Connection& c) -> Status {
    const Value p[] = {id};
    ASSIGN_OR_RETURN(ResultSet r,
                     c.Query("INSERT INTO schools (id, name, code) VALUES ($1, 'n', 'RB')", p));
    EXPECT_EQ(r.rows_affected, 1);
    return AbortedError("changed my mind");
  });
  EXPECT_EQ(s.code(), StatusCode::kAborted);
  EXPECT_EQ(s.message(), "changed my mind");

  // A statement error after a successful insert: fn returns the error, nothing stays.
  s = db().Write([&](Connection& c) -> Status {
    const Value p[] = {id};
    ASSIGN_OR_RETURN(ResultSet r,
                     c.Query("INSERT INTO schools (id, name, code) VALUES ($1, 'n', 'RB')", p));
    ASSIGN_OR_RETURN(ResultSet r2,
                     c.Query("INSERT INTO schools (id, name, code) VALUES ($1, 'n', 'RB2')", p));
    return Status::Ok();
  });
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists) << s.ToString();

  auto rs = ReadQuery("SELECT count(*) FROM schools");
  ASSERT_TRUE(rs.ok());
  EXPECT_EQ(rs->rows[0].Int(0), 0);

  // The connection is usable afterwards.
  InsertSchool("AFTER");
  rs = ReadQuery("SELECT count(*) FROM schools");
  ASSERT_TRUE(rs.ok());
  EXPECT_EQ(rs->rows[0].Int(0), 1);
}

TEST_F(StoreSuite, ConcurrentWritesAllCommit) {
  Migrated();
  const std::string school = InsertSchool("S1");
  const std::string item = NewUuidV7();
  ASSERT_TRUE(WriteQuery("INSERT INTO menu_items (id, school_id, name, category, price_paise)"
                         " VALUES ($1, $2, 'counter', 'LUNCH', 0)",
                         {item, school})
                  .ok());
  constexpr int kThreads = 6;
  constexpr int kPerThread = 40;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        Status s = db().Write([&](Connection& c) -> Status {
          const Value p[] = {item};
          ASSIGN_OR_RETURN(
              ResultSet r,
              c.Query("UPDATE menu_items SET sort_order = sort_order + 1 WHERE id = $1", p));
          if (r.rows_affected != 1) return InternalError("no row updated");
          // A second statement in the same transaction sees the first one's effect.
          ASSIGN_OR_RETURN(ResultSet q,
                           c.Query("SELECT sort_order FROM menu_items WHERE id = $1", p));
          if (q.rows.empty() || q.rows[0].Int(0) < 1) return InternalError("lost update");
          return Status::Ok();
        });
        if (!s.ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  auto rs = ReadQuery("SELECT sort_order FROM menu_items WHERE id = $1", {item});
  ASSERT_TRUE(rs.ok());
  EXPECT_EQ(rs->rows[0].Int(0), kThreads * kPerThread);
}

TEST_F(StoreSuite, ReadsFromOtherThreadsSeeCommittedData) {
  Migrated();
  std::atomic<int> seen{0};
  for (int i = 0; i < 5; ++i) {
    InsertSchool("C" + std::to_string(i));
    std::thread reader([&, i] {
      auto rs = ReadQuery("SELECT count(*) FROM schools");
      if (rs.ok() && rs->rows[0].Int(0) == i + 1) ++seen;
    });
    reader.join();
  }
  EXPECT_EQ(seen.load(), 5);
  PoolStats stats = db().Stats();
  EXPECT_GE(stats.size, 1);
  EXPECT_EQ(stats.in_use, 0);
}

TEST_F(StoreSuite, BulkLoaderLoadsTenThousandRows) {
  Migrated();
  const std::string school = InsertSchool("BULK");
  auto loader = db().NewBulkLoader();
  ASSERT_TRUE(loader.ok()) << loader.status().ToString();
  ASSERT_TRUE((*loader)
                  ->Begin("users", {"id", "email", "password_hash", "first_name", "role",
                                    "school_id", "is_active", "created_at"})
                  .ok());
  std::string first_id;
  for (int i = 0; i < 10000; ++i) {
    const std::string id = NewUuidV7();
    if (i == 0) first_id = id;
    const Value row[] = {id,
                         "bulk" + std::to_string(i) + "@example.test",
                         S("h\tash\\with\nspecials"),
                         i % 2 ? Value(std::monostate{}) : Value(S("Ana")),
                         S("student"),
                         school,
                         i % 3 != 0,
                         S("2026-11-27T08:00:00.000001Z")};
    Status s = (*loader)->Append(row);
    ASSERT_TRUE(s.ok()) << i << ": " << s.ToString();
  }
  Status f = (*loader)->Finish();
  ASSERT_TRUE(f.ok()) << f.ToString();
  loader->reset();

  auto rs = ReadQuery("SELECT count(*), sum(CASE WHEN is_active THEN 1 ELSE 0 END) FROM users");
  ASSERT_TRUE(rs.ok()) << rs.status().ToString();
  EXPECT_EQ(rs->rows[0].Int(0), 10000);
  EXPECT_EQ(rs->rows[0].Int(1), 6666);
  auto one = ReadQuery("SELECT password_hash, first_name, created_at FROM users WHERE id = $1",
                       {first_id});
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->rows.size(), 1u);
  EXPECT_EQ(one->rows[0].Text(0), "h\tash\\with\nspecials");
  EXPECT_EQ(one->rows[0].Text(1), "Ana");
  EXPECT_EQ(one->rows[0].Text(2), "2026-11-27T08:00:00.000001Z");
}

TEST_F(StoreSuite, PingAnswers) { EXPECT_TRUE(db().Ping().ok()); }

TEST_F(StoreSuite, PlaceholdersInsideLiteralsAndCommentsAreLeftAlone) {
  auto rs =
      ReadQuery("SELECT '$1' AS a, CAST($1 AS TEXT) AS b, 'it''s $2' AS c /* $3 */", {S("x")});
  ASSERT_TRUE(rs.ok()) << rs.status().ToString();
  EXPECT_EQ(rs->rows[0].Text(0), "$1");
  EXPECT_EQ(rs->rows[0].Text(1), "x");
  EXPECT_EQ(rs->rows[0].Text(2), "it's $2");
}

TEST_F(StoreSuite, BadStatementsFailCleanly) {
  Migrated();
  EXPECT_FALSE(ReadQuery("SELEC nonsense").ok());
  EXPECT_FALSE(ReadQuery("SELECT * FROM no_such_table").ok());
  // Wrong number of parameters.
  EXPECT_FALSE(ReadQuery("SELECT count(*) FROM schools WHERE code = $1").ok());
  EXPECT_FALSE(ReadQuery("SELECT count(*) FROM schools WHERE code = $1", {S("a"), S("b")}).ok());
  // Still usable afterwards.
  EXPECT_TRUE(ReadQuery("SELECT count(*) FROM schools").ok());
}

TEST_F(StoreSuite, PreparedStatementsAreReusedWithNewParameters) {
  Migrated();
  for (int i = 0; i < 20; ++i) InsertSchool("P" + std::to_string(i));
  for (int i = 0; i < 20; ++i) {
    auto rs = ReadQuery("SELECT name FROM schools WHERE code = $1", {"P" + std::to_string(i)});
    ASSERT_TRUE(rs.ok());
    ASSERT_EQ(rs->rows.size(), 1u);
    EXPECT_EQ(rs->rows[0].Text(0), "School P" + std::to_string(i));
  }
}

}  // namespace
}  // namespace hasivu::store
