// Index audit (architecture decision 2): loads enough rows that the planner is honest and
// asserts (SQLite: before and after ANALYZE; PostgreSQL: after) that no hot query of hot_queries.h
// scans a large table in full. SQLite: no "SCAN <large table>" line in EXPLAIN QUERY PLAN (a full
// scan of an index is still a scan); PostgreSQL: no Seq Scan on a large table and no index scan
// without an Index Cond, from EXPLAIN (FORMAT JSON) of the statement with its sample parameters.
// The plans are printed. Compiled into index_audit_test (SQLite) and index_audit_pgtest
// (PostgreSQL).
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdio>
#include <map>
#include <regex>
#include <set>

#include "common/ids.h"
#include "common/time_util.h"
#include "store/hot_queries.h"
#include "store/maintenance.h"
#include "store/migrations.h"
#include "store/testing/test_backend.h"

namespace hasivu::store {
namespace {

constexpr int kSchools = 100;
constexpr int kParents = 2000;
constexpr int kStudentsPerParent = 2;  // plus one more for every third parent
constexpr int kOrdersPerStudent = 10;
constexpr int kItemsPerSchool = 40;
constexpr int kMenuDays = 60;
constexpr int kSlotsPerMenu = 8;
constexpr int kSampleDay = 57;  // 2026-11-27

std::string S(std::string_view s) { return std::string(s); }

// Day 0 is 2026-10-01; kMenuDays covers HotQuerySamples::kDate (2026-11-27).
Date DayDate(int day) {
  return Date(std::chrono::year{2026} / std::chrono::October / 1) + std::chrono::days(day);
}

std::string Day(int day) { return FormatDate(DayDate(day)); }

std::string Instant(int day, int second) {
  return FormatRfc3339(TimePoint(DayDate(day)) + std::chrono::seconds(second % 86400) +
                       std::chrono::microseconds(second % 999983));
}

class IndexAudit : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_TRUE(InitCrypto().ok());
    auto t = testing::NewTestDatabase();
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    test_db_ = std::move(*t).release();
    Status m = Migrate(test_db_->db());
    ASSERT_TRUE(m.ok()) << m.ToString();
    Status l = Load(test_db_->db());
    ASSERT_TRUE(l.ok()) << l.ToString();
  }
  static void TearDownTestSuite() {
    delete test_db_;
    test_db_ = nullptr;
  }

  static Status Load(Database& db) {
    using Samples = HotQuerySamples;
    ASSIGN_OR_RETURN(std::unique_ptr<BulkLoader> bl, db.NewBulkLoader());
    std::vector<std::string> schools;
    RETURN_IF_ERROR(bl->Begin("schools", {"id", "name", "code"}));
    for (int i = 0; i < kSchools; ++i) {
      schools.push_back(i == 0 ? S(Samples::kSchoolId) : NewUuidV7());
      const Value row[] = {schools.back(), "School " + std::to_string(i),
                           "SCH" + std::to_string(i)};
      RETURN_IF_ERROR(bl->Append(row));
    }
    struct Student {
      std::string id, school;
    };
    std::vector<Student> students;
    RETURN_IF_ERROR(bl->Begin("users", {"id", "email", "password_hash", "role", "school_id",
                                        "parent_id", "first_name", "created_at"}));
    int n = 0;
    for (int p = 0; p < kParents; ++p) {
      const std::string& school = schools[p % kSchools];
      const std::string parent = p == 0 ? S(Samples::kParentId) : NewUuidV7();
      const std::string email =
          p == 0 ? S(Samples::kEmail) : "parent" + std::to_string(p) + "@audit.test";
      const Value prow[] = {parent,      email,
                            S("h"),      S("parent"),
                            school,      std::monostate{},
                            S("Parent"), Instant(p % 80, p)};
      RETURN_IF_ERROR(bl->Append(prow));
      const int kids = kStudentsPerParent + (p % 3 == 0 ? 1 : 0);
      for (int k = 0; k < kids; ++k, ++n) {
        const std::string id = (p == 0 && k == 0) ? S(Samples::kStudentId) : NewUuidV7();
        const Value srow[] = {id,       "student" + std::to_string(n) + "@audit.test",
                              S("h"),   S("student"),
                              school,   parent,
                              S("Kid"), Instant(p % 80, n)};
        RETURN_IF_ERROR(bl->Append(srow));
        students.push_back({id, school});
      }
    }
    RETURN_IF_ERROR(bl->Begin("rfid_cards", {"id", "card_number", "student_id", "school_id"}));
    for (size_t i = 0; i < students.size(); ++i) {
      const std::string number =
          i == 0 ? S(Samples::kCardNumber) : "RFID-AUDIT-" + std::to_string(i);
      const Value row[] = {NewUuidV7(), number, students[i].id, students[i].school};
      RETURN_IF_ERROR(bl->Append(row));
    }
    RETURN_IF_ERROR(bl->Begin("auth_sessions",
                              {"id", "user_id", "family_id", "refresh_token_hash", "expires_at"}));
    for (size_t i = 0; i < students.size(); ++i) {
      const std::string hash = i == 0 ? S(Samples::kRefreshHash) : "hash-" + std::to_string(i);
      const Value row[] = {NewUuidV7(), students[i].id, NewUuidV7(), hash, Instant(100, 0)};
      RETURN_IF_ERROR(bl->Append(row));
    }
    std::map<std::string, std::vector<std::string>> items;  // school -> menu item ids
    RETURN_IF_ERROR(bl->Begin(
        "menu_items", {"id", "school_id", "name", "category", "price_paise", "sort_order"}));
    for (const std::string& school : schools) {
      for (int i = 0; i < kItemsPerSchool; ++i) {
        items[school].push_back(NewUuidV7());
        const Value row[] = {items[school].back(),        school,
                             "Item " + std::to_string(i), S("LUNCH"),
                             int64_t{2500 + i * 100},     int64_t{i}};
        RETURN_IF_ERROR(bl->Append(row));
      }
    }
    std::vector<std::pair<std::string, std::string>> menus;  // (menu id, school)
    RETURN_IF_ERROR(
        bl->Begin("daily_menus", {"id", "school_id", "date", "is_published", "published_at"}));
    for (const std::string& school : schools) {
      for (int d = 0; d < kMenuDays; ++d) {
        const bool sample = school == Samples::kSchoolId && Day(d) == Samples::kDate;
        menus.emplace_back(sample ? S(Samples::kDailyMenuId) : NewUuidV7(), school);
        const Value row[] = {menus.back().first, school, Day(d), true, Instant(d, 1)};
        RETURN_IF_ERROR(bl->Append(row));
      }
    }
    RETURN_IF_ERROR(bl->Begin(
        "menu_item_slots", {"id", "daily_menu_id", "menu_item_id", "category", "display_order"}));
    for (const auto& [menu, school] : menus) {
      for (int s = 0; s < kSlotsPerMenu; ++s) {
        const Value row[] = {NewUuidV7(), menu, items[school][s], S("LUNCH"), int64_t{s}};
        RETURN_IF_ERROR(bl->Append(row));
      }
    }
    static const char* const kStatuses[] = {"pending",          "confirmed", "preparing", "ready",
                                            "out_for_delivery", "delivered", "cancelled"};
    RETURN_IF_ERROR(bl->Begin(
        "orders", {"id", "order_number", "user_id", "student_id", "school_id", "status",
                   "payment_status", "total_amount_paise", "delivery_date", "created_at"}));
    int64_t number = 0;
    for (const Student& st : students) {
      for (int o = 0; o < kOrdersPerStudent; ++o, ++number) {
        // The sample student's first order is the one rfid-verify-card finds today.
        const bool sample = number == 0;
        const int day = sample ? kSampleDay : static_cast<int>((number * 7 + o) % kMenuDays);
        const Value row[] = {sample ? S(Samples::kOrderId) : NewUuidV7(),
                             "ORD-AUDIT-" + std::to_string(number),
                             st.id,
                             st.id,
                             st.school,
                             S(sample ? "confirmed" : kStatuses[number % 7]),
                             S(!sample && number % 7 == 0 ? "pending" : "paid"),
                             int64_t{5000},
                             Day(day),
                             Instant(day, static_cast<int>(number % 86400))};
        RETURN_IF_ERROR(bl->Append(row));
      }
    }
    return bl->Finish();
  }

  static testing::TestDatabase* test_db_;
};
testing::TestDatabase* IndexAudit::test_db_ = nullptr;

bool IsLarge(std::string_view table) {
  for (std::string_view t : LargeTables()) {
    if (t == table) return true;
  }
  return false;
}

// alias -> table for "FROM t a" / "JOIN t a" in the query text.
std::map<std::string, std::string> Aliases(std::string_view sql) {
  std::map<std::string, std::string> out;
  static const std::regex kFrom(R"((?:FROM|JOIN)\s+(\w+)\s+(\w+))", std::regex::icase);
  const std::string s(sql);
  for (auto it = std::sregex_iterator(s.begin(), s.end(), kFrom); it != std::sregex_iterator();
       ++it) {
    out[(*it)[2]] = (*it)[1];
    out[(*it)[1]] = (*it)[1];
  }
  return out;
}

// SQLite: the offending plan lines.
std::vector<std::string> SqliteFullScans(const ResultSet& plan, std::string_view sql) {
  std::vector<std::string> bad;
  const auto aliases = Aliases(sql);
  static const std::regex kScan(R"(^SCAN (\w+))");
  for (const Row& r : plan.rows) {
    const std::string detail = r.Text(r.size() - 1);
    std::smatch m;
    if (!std::regex_search(detail, m, kScan)) continue;
    auto it = aliases.find(m[1]);
    const std::string table = it != aliases.end() ? it->second : std::string(m[1]);
    if (IsLarge(table)) bad.push_back(detail);
  }
  return bad;
}

// PostgreSQL: walks the JSON plan tree.
void PostgresFullScans(const boost::json::value& node, std::vector<std::string>& bad) {
  if (!node.is_object()) return;
  const auto& obj = node.as_object();
  if (const auto* plan = obj.if_contains("Plan")) PostgresFullScans(*plan, bad);
  if (const auto* type = obj.if_contains("Node Type")) {
    const std::string node_type(type->as_string());
    std::string relation;
    if (const auto* rel = obj.if_contains("Relation Name")) relation = rel->as_string().c_str();
    if (IsLarge(relation)) {
      if (node_type == "Seq Scan") bad.push_back("Seq Scan on " + relation);
      if ((node_type == "Index Scan" || node_type == "Index Only Scan") &&
          !obj.contains("Index Cond")) {
        bad.push_back(node_type + " on " + relation + " without an Index Cond (full index scan)");
      }
    }
  }
  if (const auto* plans = obj.if_contains("Plans")) {
    for (const auto& child : plans->as_array()) PostgresFullScans(child, bad);
  }
}

// Checks every hot query's plan; `when` labels the output.
void AuditPlans(Database& db, const char* when) {
  for (const HotQuery& q : HotQueries()) {
    SCOPED_TRACE(std::string(q.name) + " " + when);
    // The query itself runs and the sample data makes it find something.
    Status s = db.Read([&](Connection& c) -> Status {
      ASSIGN_OR_RETURN(ResultSet rs, c.Query(q.sql, q.sample_params));
      EXPECT_FALSE(rs.rows.empty()) << "sample parameters match no row";
      if (db.dialect() == Dialect::kSqlite) {
        ASSIGN_OR_RETURN(ResultSet plan,
                         c.Query("EXPLAIN QUERY PLAN " + std::string(q.sql), q.sample_params));
        std::printf("-- %s (%s)\n", std::string(q.name).c_str(), when);
        for (const Row& r : plan.rows) std::printf("   %s\n", r.Text(r.size() - 1).c_str());
        for (const std::string& line : SqliteFullScans(plan, q.sql)) {
          ADD_FAILURE() << "full scan: " << line;
        }
        if (q.ordered_by_index) {
          for (const Row& r : plan.rows) {
            const std::string detail = r.Text(r.size() - 1);
            EXPECT_EQ(detail.find("TEMP B-TREE"), std::string::npos) << "sorts: " << detail;
          }
        }
      } else {
        ASSIGN_OR_RETURN(ResultSet text, c.Query("EXPLAIN " + std::string(q.sql), q.sample_params));
        std::printf("-- %s (%s)\n", std::string(q.name).c_str(), when);
        for (const Row& r : text.rows) std::printf("   %s\n", r.Text(0).c_str());
        ASSIGN_OR_RETURN(ResultSet json,
                         c.Query("EXPLAIN (FORMAT JSON) " + std::string(q.sql), q.sample_params));
        boost::system::error_code ec;
        boost::json::value plan = boost::json::parse(json.rows.at(0).Text(0), ec);
        if (ec) return InternalError("EXPLAIN JSON did not parse: " + ec.message());
        std::vector<std::string> bad;
        for (const auto& entry : plan.as_array()) PostgresFullScans(entry, bad);
        for (const std::string& line : bad) ADD_FAILURE() << "full scan: " << line;
      }
      return Status::Ok();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
}

TEST_F(IndexAudit, HotQueriesNeverScanALargeTable) {
  Database& db = test_db_->db();
  // The embedded SQLite store may serve a freshly seeded database that was never analysed, so its
  // plans must already be right without statistics. PostgreSQL plans a freshly COPYed table from
  // default estimates; seeding runs UpdatePlannerStatistics() (and autovacuum would soon).
  if (db.dialect() == Dialect::kSqlite) AuditPlans(db, "before ANALYZE");
  Status a = UpdatePlannerStatistics(db);
  ASSERT_TRUE(a.ok()) << a.ToString();
  AuditPlans(db, "after ANALYZE");
}

TEST_F(IndexAudit, KeysetPagesWalkEveryOrderOfAParentOnce) {
  // The pagination the plans are audited for also has to be right: paging through a parent's
  // orders with (created_at, id) cursors returns each order exactly once, newest first.
  Database& db = test_db_->db();
  const std::string parent(HotQuerySamples::kParentId);
  int64_t total = 0;
  ASSERT_TRUE(db.Read([&](Connection& c) -> Status {
                  const Value p[] = {parent};
                  ASSIGN_OR_RETURN(
                      ResultSet rs,
                      c.Query("SELECT count(*) FROM orders o JOIN users u ON u.id = o.student_id"
                              " WHERE u.parent_id = $1",
                              p));
                  total = rs.rows[0].Int(0);
                  return Status::Ok();
                }).ok());
  ASSERT_GT(total, 7);
  std::set<std::string> seen;
  std::string last_created, last_id;
  bool first = true;
  for (int page = 0; page < 100; ++page) {
    ResultSet rs;
    Status s = db.Read([&](Connection& c) -> Status {
      if (first) {
        const Value p[] = {parent, int64_t{3}};
        ASSIGN_OR_RETURN(rs, c.Query(kOrdersOfParentFirstPage, p));
      } else {
        const Value p[] = {parent, last_created, last_id, int64_t{3}};
        ASSIGN_OR_RETURN(rs, c.Query(kOrdersOfParentAfter, p));
      }
      return Status::Ok();
    });
    ASSERT_TRUE(s.ok()) << s.ToString();
    first = false;
    if (rs.rows.empty()) break;
    for (const Row& r : rs.rows) {
      const std::string created = r.Text(10);
      if (!last_created.empty()) {
        EXPECT_TRUE(created < last_created || (created == last_created && r.Text(0) < last_id));
      }
      EXPECT_TRUE(seen.insert(r.Text(0)).second) << "order seen twice: " << r.Text(0);
      last_created = created;
      last_id = r.Text(0);
    }
  }
  EXPECT_EQ(static_cast<int64_t>(seen.size()), total);
}

}  // namespace
}  // namespace hasivu::store
