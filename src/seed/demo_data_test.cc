// Seeding suite, compiled against SQLite (demo_data_test, label unit) and PostgreSQL
// (demo_data_pgtest, label postgres) through store/testing/test_backend.h.
#include "seed/demo_data.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "common/time_util.h"
#include "domain/password.h"
#include "seed/fixtures.h"
#include "store/maintenance.h"
#include "store/migrations.h"
#include "store/testing/test_backend.h"

namespace hasivu::seed {
namespace {

using domain::PasswordHasher;
using domain::VerifyResult;
using store::Connection;
using store::Database;
using store::ResultSet;

// Wednesday 2026-11-25, 10:30 in Asia/Kolkata (05:00 UTC).
TimePoint Instant(const char* rfc3339) { return *ParseRfc3339(rfc3339); }

std::unique_ptr<store::testing::TestDatabase> NewDb() {
  auto db = store::testing::NewTestDatabase(4);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  if (!db.ok()) return nullptr;
  Status m = store::Migrate((*db)->db());
  EXPECT_TRUE(m.ok()) << m.ToString();
  return std::move(*db);
}

ResultSet Query(Database& db, const std::string& sql, std::vector<store::Value> params = {}) {
  ResultSet out;
  Status s = db.Read([&](Connection& c) -> Status {
    ASSIGN_OR_RETURN(out, c.Query(sql, params));
    return Status::Ok();
  });
  EXPECT_TRUE(s.ok()) << s.ToString() << "\n" << sql;
  return out;
}

int64_t Count(Database& db, const std::string& sql, std::vector<store::Value> params = {}) {
  ResultSet rs = Query(db, sql, std::move(params));
  return rs.rows.empty() ? -1 : rs.rows[0].Int(0);
}

// Every password of a seed report's accounts, in a fixed order.
std::vector<const std::string*> AllPasswords(const SeedReport& r) {
  std::vector<const std::string*> out = {&r.admin.password};
  for (const SeedSchool& s : r.schools) {
    out.push_back(&s.school_admin.password);
    for (const SeedAccount& k : s.kitchen_staff) out.push_back(&k.password);
    for (const SeedParent& p : s.parents) {
      out.push_back(&p.account.password);
      for (const SeedChild& c : p.children) out.push_back(&c.account.password);
    }
  }
  return out;
}

class DemoDataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitCrypto().ok());
    test_db_ = NewDb();
    ASSERT_NE(test_db_, nullptr);
  }

  StatusOr<SeedReport> Seed(Database& db, uint64_t seed = 1, std::string size = "demo") {
    SeedSettings settings;
    settings.size = std::move(size);
    settings.seed = seed;
    return SeedDemoData(db, settings, clock_);
  }

  Database& db() { return test_db_->db(); }

  FixedClock clock_{Instant("2026-11-25T05:00:00Z")};
  std::unique_ptr<store::testing::TestDatabase> test_db_;
};

TEST_F(DemoDataTest, DemoHasTheDocumentedCounts) {
  auto report = Seed(db());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(FormatDate(report->base_date), "2026-11-25");
  EXPECT_EQ(Count(db(), "SELECT COUNT(*) FROM schools"), 2);
  EXPECT_EQ(Count(db(), "SELECT COUNT(*) FROM schools WHERE timezone = 'Asia/Kolkata'"), 2);
  EXPECT_EQ(Count(db(), "SELECT COUNT(*) FROM users WHERE role = 'student'"), 40);
  EXPECT_EQ(Count(db(), "SELECT COUNT(*) FROM users WHERE role = 'parent'"), 30);
  EXPECT_EQ(Count(db(), "SELECT COUNT(*) FROM users WHERE role = 'admin'"), 1);
  EXPECT_EQ(Count(db(),
                  "SELECT COUNT(*) FROM users WHERE email = 'admin@demo.hasivu.test' AND "
                  "role = 'admin'"),
            1);
  EXPECT_EQ(report->counts.users, Count(db(), "SELECT COUNT(*) FROM users"));
  EXPECT_EQ(report->counts.orders, Count(db(), "SELECT COUNT(*) FROM orders"));
  // The secondary indexes deferred for the load are all back.
  auto deferred = store::DeferredIndexes(db());
  ASSERT_TRUE(deferred.ok()) << deferred.status().ToString();
  EXPECT_TRUE(deferred->empty());

  for (const SeedSchool& s : report->schools) {
    SCOPED_TRACE(s.name);
    const std::vector<store::Value> p{s.id};
    EXPECT_EQ(Count(db(),
                    "SELECT COUNT(*) FROM users WHERE school_id = $1 AND role = "
                    "'school_admin'",
                    p),
              1);
    EXPECT_EQ(Count(db(),
                    "SELECT COUNT(*) FROM users WHERE school_id = $1 AND role = "
                    "'kitchen_staff'",
                    p),
              2);
    EXPECT_EQ(Count(db(),
                    "SELECT COUNT(*) FROM rfid_readers WHERE school_id = $1 AND "
                    "is_active = $2 AND status = 'online'",
                    {s.id, true}),
              2);
    EXPECT_EQ(Count(db(), "SELECT COUNT(*) FROM menu_items WHERE school_id = $1", p), 25);
    EXPECT_EQ(s.menu_item_ids.size(), 25u);
    EXPECT_EQ(s.readers.size(), 2u);
    EXPECT_EQ(s.kitchen_staff.size(), 2u);

    // A published menu on exactly the weekdays from 20 days before to 20 days after.
    std::set<std::string> expected;
    const Date base = report->base_date;
    for (int off = -20; off <= 20; ++off) {
      const Date d = base + std::chrono::days(off);
      if (IsoWeekday(d) <= 5) expected.insert(FormatDate(d));
    }
    std::set<std::string> got;
    for (const store::Row& r : Query(db(),
                                     "SELECT date FROM daily_menus WHERE school_id = $1 "
                                     "AND is_published = $2 AND is_active = $2",
                                     {s.id, true})
                                   .rows) {
      got.insert(r.Text(0));
    }
    EXPECT_EQ(got, expected);
    EXPECT_EQ(Count(db(),
                    "SELECT COUNT(*) FROM daily_menus m WHERE m.school_id = $1 AND NOT "
                    "EXISTS (SELECT 1 FROM menu_item_slots x WHERE x.daily_menu_id = m.id)",
                    p),
              0);

    // Every status, in every school.
    std::set<std::string> statuses;
    for (const store::Row& r :
         Query(db(), "SELECT DISTINCT status FROM orders WHERE school_id = $1", p).rows) {
      statuses.insert(r.Text(0));
    }
    EXPECT_EQ(statuses, (std::set<std::string>{"pending", "confirmed", "preparing", "ready",
                                               "out_for_delivery", "delivered", "cancelled"}));
    // Paid, undelivered orders for today, for RFID scans.
    EXPECT_GE(Count(db(),
                    "SELECT COUNT(*) FROM orders WHERE school_id = $1 AND delivery_date = "
                    "$2 AND payment_status = 'paid' AND status IN ('confirmed', "
                    "'preparing', 'ready', 'out_for_delivery')",
                    {s.id, FormatDate(base)}),
              8);
    // At least one inactive and one expired card.
    EXPECT_GE(Count(db(),
                    "SELECT COUNT(*) FROM rfid_cards WHERE school_id = $1 AND is_active "
                    "= $2",
                    {s.id, false}),
              1);
    EXPECT_GE(Count(db(),
                    "SELECT COUNT(*) FROM rfid_cards WHERE school_id = $1 AND expires_at "
                    "< $2",
                    {s.id, FormatRfc3339(clock_.Now())}),
              1);
  }

  const int64_t orders = Count(db(), "SELECT COUNT(*) FROM orders");
  EXPECT_GE(orders, 450);
  EXPECT_LE(orders, 750);
  // Every student has exactly one card, a parent, and the card's school is the student's.
  EXPECT_EQ(Count(db(),
                  "SELECT COUNT(*) FROM users u WHERE u.role = 'student' AND (SELECT "
                  "COUNT(*) FROM rfid_cards c WHERE c.student_id = u.id AND c.school_id "
                  "= u.school_id) <> 1"),
            0);
  EXPECT_EQ(Count(db(),
                  "SELECT COUNT(*) FROM users s JOIN users p ON p.id = s.parent_id WHERE "
                  "s.role = 'student' AND p.role = 'parent' AND p.school_id = s.school_id"),
            40);
  // Parents have 1-3 children.
  EXPECT_EQ(Count(db(),
                  "SELECT COUNT(*) FROM users p WHERE p.role = 'parent' AND (SELECT "
                  "COUNT(*) FROM users c WHERE c.parent_id = p.id) NOT BETWEEN 1 AND 3"),
            0);
  const std::regex card_re("^RFID-[A-Z0-9-]{4,60}$");
  for (const store::Row& r : Query(db(), "SELECT card_number FROM rfid_cards").rows) {
    EXPECT_TRUE(std::regex_match(r.Text(0), card_re)) << r.Text(0);
  }
}

TEST_F(DemoDataTest, OrderTotalsAndLinesFollowTheMenus) {
  ASSERT_TRUE(Seed(db()).ok());
  // Total = sum of lines, and every order has a line.
  EXPECT_EQ(Count(db(),
                  "SELECT COUNT(*) FROM orders o WHERE o.total_amount_paise <> (SELECT "
                  "COALESCE(SUM(i.total_price_paise), -1) FROM order_items i WHERE "
                  "i.order_id = o.id)"),
            0);
  EXPECT_EQ(Count(db(),
                  "SELECT COUNT(*) FROM order_items WHERE total_price_paise <> "
                  "unit_price_paise * quantity OR quantity < 1 OR quantity > 10"),
            0);
  // Each line is a slot of that day's menu of the order's school, at the slot's price, within
  // its maxPerOrder.
  EXPECT_EQ(Count(db(),
                  "SELECT COUNT(*) FROM order_items i JOIN orders o ON o.id = i.order_id "
                  "LEFT JOIN menu_item_slots x ON x.id = i.slot_id LEFT JOIN daily_menus m "
                  "ON m.id = x.daily_menu_id LEFT JOIN menu_items mi ON mi.id = "
                  "x.menu_item_id WHERE m.id IS NULL OR m.date <> o.delivery_date OR "
                  "m.school_id <> o.school_id OR x.menu_item_id <> i.menu_item_id OR "
                  "i.unit_price_paise <> COALESCE(x.custom_price_paise, mi.price_paise) OR "
                  "i.quantity > COALESCE(x.max_per_order, 10) OR i.name <> mi.name"),
            0);
  // Limited slots never oversold.
  EXPECT_EQ(Count(db(),
                  "SELECT COUNT(*) FROM menu_item_slots WHERE available_quantity < 0 OR "
                  "available_quantity > planned_quantity"),
            0);
  EXPECT_GT(Count(db(), "SELECT COUNT(*) FROM menu_item_slots WHERE is_limited = $1", {true}), 0);
  EXPECT_GT(Count(db(), "SELECT COUNT(*) FROM menu_item_slots WHERE max_per_order IS NOT NULL"), 0);
  // Payment status follows order status.
  EXPECT_EQ(Count(db(),
                  "SELECT COUNT(*) FROM orders WHERE status IN ('confirmed', "
                  "'preparing', 'ready', 'out_for_delivery', 'delivered') AND "
                  "payment_status <> 'paid'"),
            0);
  EXPECT_EQ(Count(db(),
                  "SELECT COUNT(*) FROM orders WHERE status = 'pending' AND "
                  "payment_status NOT IN ('pending', 'failed')"),
            0);
  EXPECT_EQ(Count(db(),
                  "SELECT COUNT(*) FROM orders WHERE status = 'cancelled' AND "
                  "(payment_status NOT IN ('pending', 'refunded') OR cancelled_at IS NULL)"),
            0);
  EXPECT_EQ(Count(db(),
                  "SELECT COUNT(*) FROM orders WHERE (status = 'delivered') <> "
                  "(delivered_at IS NOT NULL)"),
            0);
  EXPECT_EQ(Count(db(),
                  "SELECT COUNT(*) FROM orders WHERE status = 'delivered' AND delivery_date "
                  "> $1",
                  {"2026-11-25"}),
            0);
  EXPECT_EQ(Count(db(),
                  "SELECT COUNT(*) FROM orders WHERE delivery_date > $1 AND status NOT IN "
                  "('pending', 'confirmed', 'cancelled')",
                  {"2026-11-25"}),
            0);
  // Past orders are mostly delivered.
  const int64_t past =
      Count(db(), "SELECT COUNT(*) FROM orders WHERE delivery_date < $1", {"2026-11-25"});
  const int64_t past_delivered =
      Count(db(), "SELECT COUNT(*) FROM orders WHERE delivery_date < $1 AND status = 'delivered'",
            {"2026-11-25"});
  EXPECT_GT(past_delivered * 10, past * 7);
  // Paid orders have a paid payment order of the same amount; delivered ones a verification.
  EXPECT_EQ(Count(db(),
                  "SELECT COUNT(*) FROM orders o WHERE o.payment_status = 'paid' AND NOT "
                  "EXISTS (SELECT 1 FROM payment_orders p JOIN payment_transactions t ON "
                  "t.payment_order_id = p.id WHERE p.order_id = o.id AND p.status = 'paid' "
                  "AND p.amount_paise = o.total_amount_paise AND t.status = 'captured')"),
            0);
  EXPECT_EQ(Count(db(),
                  "SELECT COUNT(*) FROM orders o WHERE o.status = 'delivered' AND NOT "
                  "EXISTS (SELECT 1 FROM delivery_verifications v WHERE v.order_id = o.id "
                  "AND v.status = 'verified' AND v.student_id = o.student_id)"),
            0);
  // Order numbers: ORD-YYYYMMDD-XXXXXXXX.
  const std::regex number_re("^ORD-[0-9]{8}-[A-Z0-9]{8}$");
  for (const store::Row& r : Query(db(), "SELECT order_number FROM orders").rows) {
    EXPECT_TRUE(std::regex_match(r.Text(0), number_re)) << r.Text(0);
  }
  // Instants are canonical RFC 3339 (the seeder formats them itself, for speed).
  for (const store::Row& r :
       Query(db(), "SELECT created_at, updated_at, delivered_at FROM orders").rows) {
    for (size_t c = 0; c < 3; ++c) {
      if (r.IsNull(c)) continue;
      auto t = ParseRfc3339(r.Text(c));
      ASSERT_TRUE(t.ok()) << r.Text(c);
      EXPECT_EQ(FormatRfc3339(*t), r.Text(c));
    }
  }
  // The placing user is the student or their parent.
  EXPECT_EQ(Count(db(),
                  "SELECT COUNT(*) FROM orders o JOIN users s ON s.id = o.student_id "
                  "WHERE o.user_id <> s.id AND o.user_id <> s.parent_id"),
            0);
}

// The required test: every password of the fixtures file logs in (until login exists:
// verifies against the stored hash of that user).
TEST_F(DemoDataTest, EveryFixturesPasswordVerifies) {
  auto report = Seed(db());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  const boost::json::value fx = boost::json::parse(FixturesJson(*report));
  EXPECT_EQ(fx.at("baseDate").as_string(), "2026-11-25");
  PasswordHasher hasher;  // login's settings: seeded (lighter) hashes must still verify
  const std::regex policy("^(?=.*[a-z])(?=.*[A-Z])(?=.*[0-9])(?=.*[^A-Za-z0-9]).{8,128}$");
  const std::regex card_re("^RFID-[A-Z0-9-]{4,60}$");
  int checked = 0;
  auto check = [&](const boost::json::value& acc, const char* role) {
    const std::string id(acc.at("id").as_string());
    const std::string email(acc.at("email").as_string());
    const std::string password(acc.at("password").as_string());
    SCOPED_TRACE(email);
    EXPECT_TRUE(IsUuid(id));
    EXPECT_TRUE(std::regex_match(password, policy)) << password;
    ResultSet rs =
        Query(db(), "SELECT email, password_hash, role, is_active FROM users WHERE id = $1", {id});
    ASSERT_EQ(rs.rows.size(), 1u);
    EXPECT_EQ(rs.rows[0].Text(0), email);
    EXPECT_EQ(rs.rows[0].Text(2), role);
    EXPECT_TRUE(rs.rows[0].Bool(3));
    const VerifyResult v = hasher.Verify(password, rs.rows[0].Text(1));
    EXPECT_TRUE(v.ok);
    EXPECT_TRUE(v.needs_rehash);  // light seeding parameters: login upgrades them
    EXPECT_FALSE(hasher.Verify(password + "x", rs.rows[0].Text(1)).ok);
    ++checked;
  };
  check(fx.at("admin"), "admin");
  int children = 0;
  for (const boost::json::value& s : fx.at("schools").as_array()) {
    EXPECT_EQ(s.at("timezone").as_string(), "Asia/Kolkata");
    check(s.at("schoolAdmin"), "school_admin");
    for (const auto& k : s.at("kitchenStaff").as_array()) check(k, "kitchen_staff");
    EXPECT_EQ(s.at("readers").as_array().size(), 2u);
    EXPECT_EQ(s.at("menuItemIds").as_array().size(), 25u);
    for (const auto& p : s.at("parents").as_array()) {
      check(p, "parent");
      const auto& kids = p.at("children").as_array();
      EXPECT_GE(kids.size(), 1u);
      EXPECT_LE(kids.size(), 3u);
      for (const auto& c : kids) {
        check(c, "student");
        ++children;
        const std::string card(c.at("cardNumber").as_string());
        EXPECT_TRUE(std::regex_match(card, card_re)) << card;
        ResultSet rs = Query(db(),
                             "SELECT student_id, is_active, expires_at FROM rfid_cards WHERE "
                             "card_number = $1",
                             {card});
        ASSERT_EQ(rs.rows.size(), 1u);
        EXPECT_EQ(rs.rows[0].Text(0), std::string(c.at("id").as_string()));
        EXPECT_EQ(rs.rows[0].Bool(1), c.at("cardActive").as_bool());
        EXPECT_EQ(rs.rows[0].Text(2) < FormatRfc3339(clock_.Now()), c.at("cardExpired").as_bool());
        EXPECT_FALSE(std::string(c.at("grade").as_string()).empty());
        EXPECT_FALSE(std::string(c.at("section").as_string()).empty());
      }
    }
  }
  EXPECT_EQ(children, 40);
  EXPECT_EQ(checked, 1 + 2 * 3 + 30 + 40);
}

TEST_F(DemoDataTest, SameSeedGivesSameData) {
  auto other = NewDb();
  ASSERT_NE(other, nullptr);
  auto a = Seed(db(), 7);
  auto b = Seed(other->db(), 7);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(FixturesJson(*a).size(), FixturesJson(*b).size());
  for (const char* sql :
       {"SELECT id, email, role, school_id, parent_id, grade, section FROM users ORDER BY id",
        "SELECT id, order_number, student_id, status, payment_status, total_amount_paise, "
        "delivery_date FROM orders ORDER BY id",
        "SELECT id, order_id, menu_item_id, quantity, unit_price_paise FROM order_items ORDER BY "
        "id",
        "SELECT id, card_number, is_active FROM rfid_cards ORDER BY id",
        "SELECT id, daily_menu_id, menu_item_id, available_quantity FROM menu_item_slots ORDER "
        "BY id"}) {
    SCOPED_TRACE(sql);
    ResultSet ra = Query(db(), sql);
    ResultSet rb = Query(other->db(), sql);
    ASSERT_EQ(ra.rows.size(), rb.rows.size());
    ASSERT_FALSE(ra.rows.empty());
    for (size_t i = 0; i < ra.rows.size(); ++i) {
      for (size_t c = 0; c < ra.rows[i].size(); ++c) {
        ASSERT_EQ(ra.rows[i].OptText(c), rb.rows[i].OptText(c)) << "row " << i << " col " << c;
      }
    }
  }
  // The fixtures are identical too, but for the passwords (SeedsDrawFreshPasswords).
  auto without_passwords = [](const SeedReport& r) {
    std::string json = FixturesJson(r);
    for (const std::string* pw : AllPasswords(r)) {
      for (size_t at; (at = json.find("\"" + *pw + "\"")) != std::string::npos;) {
        json.replace(at, pw->size() + 2, "\"-\"");
      }
    }
    return json;
  };
  EXPECT_EQ(without_passwords(*a), without_passwords(*b));
}

// Issue 19: a password derived from the seed is known to anyone who reads the code (`hasivu seed
// --seed 1`). Every seeding draws every password afresh from the OS random source.
TEST_F(DemoDataTest, SeedsDrawFreshPasswords) {
  auto other = NewDb();
  ASSERT_NE(other, nullptr);
  auto a = Seed(db(), 1);
  auto b = Seed(other->db(), 1);
  ASSERT_TRUE(a.ok() && b.ok());
  const std::vector<const std::string*> pa = AllPasswords(*a);
  const std::vector<const std::string*> pb = AllPasswords(*b);
  ASSERT_EQ(pa.size(), pb.size());
  ASSERT_EQ(pa.size(), size_t{1 + 2 * 3 + 30 + 40});
  std::set<std::string> distinct;
  for (size_t i = 0; i < pa.size(); ++i) {
    EXPECT_NE(*pa[i], *pb[i]) << "account " << i << " got the same password twice";
    distinct.insert(*pa[i]);
    distinct.insert(*pb[i]);
  }
  EXPECT_EQ(distinct.size(), 2 * pa.size());
  // The same emails and ids: only the secrets changed.
  EXPECT_EQ(a->admin.id, b->admin.id);
  EXPECT_EQ(a->admin.email, b->admin.email);
}

TEST_F(DemoDataTest, DifferentSeedGivesDifferentData) {
  auto other = NewDb();
  ASSERT_NE(other, nullptr);
  auto a = Seed(db(), 1);
  auto b = Seed(other->db(), 2);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->admin.id, b->admin.id);
  EXPECT_NE(a->admin.password, b->admin.password);
  EXPECT_EQ(a->admin.email, b->admin.email);
}

TEST_F(DemoDataTest, RefusesANonEmptyDatabase) {
  ASSERT_TRUE(Seed(db()).ok());
  const int64_t users = Count(db(), "SELECT COUNT(*) FROM users");
  auto again = Seed(db(), 2);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(Count(db(), "SELECT COUNT(*) FROM users"), users);
}

TEST_F(DemoDataTest, RejectsUnknownSizeAndBadPasswordSettings) {
  SeedSettings settings;
  settings.size = "huge";
  auto r = SeedDemoData(db(), settings, clock_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  settings.size = "demo";
  settings.password.opslimit = 0;
  r = SeedDemoData(db(), settings, clock_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Count(db(), "SELECT COUNT(*) FROM users"), 0);
}

TEST_F(DemoDataTest, WeekendBaseDateStillHasTodaysMenuAndOrders) {
  // Saturday 2026-11-28, 09:00 in Kolkata.
  clock_.Set(Instant("2026-11-28T03:30:00Z"));
  auto report = Seed(db());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(FormatDate(report->base_date), "2026-11-28");
  EXPECT_EQ(Count(db(),
                  "SELECT COUNT(*) FROM daily_menus WHERE date = $1 AND day_type = "
                  "'WEEKEND' AND is_published = $2",
                  {"2026-11-28", true}),
            2);
  // No other weekend day has a menu.
  EXPECT_EQ(Count(db(), "SELECT COUNT(*) FROM daily_menus WHERE day_type = 'WEEKEND'"), 2);
  EXPECT_EQ(Count(db(), "SELECT COUNT(*) FROM daily_menus WHERE date = $1", {"2026-11-29"}), 0);
  EXPECT_GE(Count(db(),
                  "SELECT COUNT(*) FROM orders WHERE delivery_date = $1 AND "
                  "payment_status = 'paid' AND status IN ('confirmed', 'preparing', "
                  "'ready', 'out_for_delivery')",
                  {"2026-11-28"}),
            16);
  EXPECT_EQ(report->counts.today_deliverable_orders,
            Count(db(),
                  "SELECT COUNT(*) FROM orders WHERE delivery_date = $1 AND "
                  "payment_status = 'paid' AND status IN ('confirmed', 'preparing', "
                  "'ready', 'out_for_delivery')",
                  {"2026-11-28"}));
}

TEST_F(DemoDataTest, ExplicitBaseDateIsHonoured) {
  SeedSettings settings;
  settings.base_date = *ParseDate("2027-03-10");
  auto report = SeedDemoData(db(), settings, clock_);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(Count(db(), "SELECT COUNT(*) FROM daily_menus WHERE date = $1", {"2027-03-10"}), 2);
  EXPECT_EQ(Count(db(), "SELECT COUNT(*) FROM daily_menus WHERE date < $1", {"2027-02-18"}), 0);
  EXPECT_NE(DemoLoginsText(*report).find("admin@demo.hasivu.test"), std::string::npos);
  EXPECT_NE(SeedSummary(*report).find("2 schools"), std::string::npos);
}

}  // namespace
}  // namespace hasivu::seed
