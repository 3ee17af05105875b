// CreateAdmin and AnyUser on a real database: compiled against SQLite (first_admin_test, label
// unit) and PostgreSQL (first_admin_pgtest, label postgres) through store/testing/test_backend.h.
#include "domain/first_admin.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/ids.h"
#include "store/migrations.h"
#include "store/testing/test_backend.h"

namespace hasivu::domain {
namespace {

constexpr char kPassword[] = "Correct-Horse-42";

class FirstAdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitCrypto().ok());
    auto made = store::testing::NewTestDatabase(2);
    ASSERT_TRUE(made.ok()) << made.status().ToString();
    test_db_ = std::move(*made);
    ASSERT_TRUE(store::Migrate(db()).ok());
  }
  store::Database& db() { return test_db_->db(); }

  store::ResultSet Query(const std::string& sql, std::vector<store::Value> params = {}) {
    store::ResultSet out;
    Status s = db().Read([&](store::Connection& c) -> Status {
      ASSIGN_OR_RETURN(out, c.Query(sql, params));
      return Status::Ok();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  }
  int64_t UserCount() { return Query("SELECT COUNT(*) FROM users").rows.at(0).Int(0); }

  PasswordSettings settings_ = LightPasswordSettings();
  std::unique_ptr<store::testing::TestDatabase> test_db_;
};

TEST_F(FirstAdminTest, CreatesAnActiveAdminWhosePasswordVerifies) {
  auto any = AnyUser(db());
  ASSERT_TRUE(any.ok());
  EXPECT_FALSE(*any);

  auto created = CreateAdmin(db(), {.email = "  Ops@School.Example ", .password = kPassword},
                             settings_, SystemClock());
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_TRUE(IsUuid(created->id));
  EXPECT_EQ(created->email, "ops@school.example");

  store::ResultSet rs = Query(
      "SELECT email, role, is_active, status, school_id, password_hash, first_name FROM users "
      "WHERE id = $1",
      {created->id});
  ASSERT_EQ(rs.rows.size(), 1u);
  EXPECT_EQ(rs.rows[0].Text(0), "ops@school.example");
  EXPECT_EQ(rs.rows[0].Text(1), "admin");
  EXPECT_TRUE(rs.rows[0].Bool(2));
  EXPECT_EQ(rs.rows[0].Text(3), "active");
  EXPECT_FALSE(rs.rows[0].OptText(4).has_value());
  EXPECT_EQ(rs.rows[0].Text(6), "Platform");
  const PasswordHasher hasher(settings_);
  const VerifyResult v = hasher.Verify(kPassword, rs.rows[0].Text(5));
  EXPECT_TRUE(v.ok);
  EXPECT_FALSE(v.needs_rehash);  // hashed under the parameters it was given
  EXPECT_FALSE(hasher.Verify(std::string(kPassword) + "x", rs.rows[0].Text(5)).ok);

  any = AnyUser(db());
  ASSERT_TRUE(any.ok());
  EXPECT_TRUE(*any);
}

TEST_F(FirstAdminTest, InvalidInputNamesEachFieldAndWritesNothing) {
  auto r = CreateAdmin(
      db(), {.email = "not-an-email", .password = "short", .first_name = " ", .last_name = "Admin"},
      settings_, SystemClock());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  std::vector<std::string> fields;
  for (const FieldIssue& i : r.status().details()) fields.push_back(i.field);
  EXPECT_EQ(fields, (std::vector<std::string>{"email", "password", "firstName"}));
  EXPECT_EQ(UserCount(), 0);
}

TEST_F(FirstAdminTest, ATakenEmailIsAlreadyExistsAndKeepsTheFirstAccount) {
  auto first = CreateAdmin(db(), {.email = "ops@school.example", .password = kPassword}, settings_,
                           SystemClock());
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = CreateAdmin(db(), {.email = "OPS@school.example", .password = "Other-Pass-77"},
                            settings_, SystemClock());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(second.status().reason(), "EMAIL_TAKEN");
  EXPECT_EQ(UserCount(), 1);
  const std::string hash =
      Query("SELECT password_hash FROM users WHERE id = $1", {first->id}).rows.at(0).Text(0);
  EXPECT_TRUE(PasswordHasher(settings_).Verify(kPassword, hash).ok);
}

}  // namespace
}  // namespace hasivu::domain
