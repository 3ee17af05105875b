// AuthService against a real database (SQLite here; auth_service_pgtest runs the same on
// PostgreSQL): cases the black-box tests cannot reach without an admin API (inactive accounts,
// legacy bcrypt hashes) and the session-family rules.
#include "domain/auth_service.h"

#include <crypt.h>
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <memory>
#include <thread>

#include "common/ids.h"
#include "store/migrations.h"
#include "store/sessions_repo.h"
#include "store/testing/test_backend.h"
#include "store/users_repo.h"

namespace hasivu::domain {
namespace {

std::string BcryptHash(const std::string& password) {
  auto data = std::make_unique<crypt_data>();
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  const char* setting = crypt_gensalt_rn("$2b$", 4, nullptr, 0, salt, sizeof salt);
  EXPECT_NE(setting, nullptr);
  const char* out = crypt_rn(password.c_str(), setting, data.get(), sizeof(crypt_data));
  return out == nullptr ? std::string() : std::string(out);
}

// A database whose reads can be switched off, for the "database down" paths.
class FlakyDatabase : public store::Database {
 public:
  explicit FlakyDatabase(store::Database* real) : real_(real) {}
  void set_reads_fail(bool fail) { reads_fail_ = fail; }
  store::Dialect dialect() const override { return real_->dialect(); }
  Status Read(const std::function<Status(store::Connection&)>& fn) override {
    if (reads_fail_) return UnavailableError("database down (test)");
    return real_->Read(fn);
  }
  Status Write(const std::function<Status(store::Connection&)>& fn) override {
    return real_->Write(fn);
  }
  Status Ping() override { return real_->Ping(); }
  store::PoolStats Stats() const override { return real_->Stats(); }
  StatusOr<std::unique_ptr<store::BulkLoader>> NewBulkLoader() override {
    return real_->NewBulkLoader();
  }

 private:
  store::Database* real_;
  std::atomic<bool> reads_fail_{false};
};

class AuthServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitCrypto().ok());
    auto db = store::testing::NewTestDatabase(4);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    test_db_ = std::move(*db);
    ASSERT_TRUE(store::Migrate(test_db_->db()).ok());
    AuthSettings settings;
    settings.jwt_secret = std::string(32, 's');
    settings.password = LightPasswordSettings();
    auth_ = std::make_unique<AuthService>(&test_db_->db(), &clock_, settings);
  }

  // A user with the given hash; returns its id.
  std::string AddUser(const std::string& email, const std::string& hash, bool active = true) {
    store::NewUser u;
    u.id = NewUuidV7();
    u.email = email;
    u.password_hash = hash;
    u.first_name = "Test";
    u.last_name = "User";
    u.now = clock_.Now();
    Status s = test_db_->db().Write([&](store::Connection& c) -> Status {
      RETURN_IF_ERROR(store::InsertUser(c, u));
      if (!active) RETURN_IF_ERROR(store::SetUserActive(c, u.id, false, clock_.Now()));
      return Status::Ok();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return u.id;
  }

  std::string StoredHash(const std::string& email) {
    std::string hash;
    EXPECT_TRUE(test_db_->db()
                    .Read([&](store::Connection& c) -> Status {
                      ASSIGN_OR_RETURN(auto u, store::FindUserByEmail(c, email));
                      if (u) hash = u->password_hash;
                      return Status::Ok();
                    })
                    .ok());
    return hash;
  }

  Registration ValidRegistration(const std::string& email) {
    return Registration{email, "Str0ng!pass", "Asha", "Rao", "", ""};
  }

  FixedClock clock_{std::chrono::system_clock::now()};
  std::unique_ptr<store::testing::TestDatabase> test_db_;
  std::unique_ptr<AuthService> auth_;
  ClientInfo client_{"127.0.0.1", "unit-test"};
};

TEST_F(AuthServiceTest, InactiveAccountFailsLikeAWrongPassword) {
  PasswordHasher hasher(LightPasswordSettings());
  AddUser("off@x.test", *hasher.Hash("Right!pass1"), /*active=*/false);
  auto r = auth_->Login("off@x.test", "Right!pass1", client_, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(r.status().reason(), "INVALID_CREDENTIALS");
  auto wrong = auth_->Login("nobody@x.test", "Right!pass1", client_, nullptr);
  EXPECT_EQ(wrong.status(), r.status());
}

TEST_F(AuthServiceTest, LegacyBcryptHashLogsInAndIsUpgradedToArgon2id) {
  const std::string bcrypt = BcryptHash("Legacy!pass1");
  ASSERT_EQ(bcrypt.substr(0, 4), "$2b$");
  AddUser("legacy@x.test", bcrypt);
  auto r = auth_->Login("  LEGACY@x.test ", "Legacy!pass1", client_, nullptr);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->user.email, "legacy@x.test");
  const std::string upgraded = StoredHash("legacy@x.test");
  EXPECT_EQ(upgraded.rfind("$argon2id$", 0), 0u) << upgraded;
  // The new hash verifies the same password.
  EXPECT_TRUE(auth_->Login("legacy@x.test", "Legacy!pass1", client_, nullptr).ok());
}

TEST_F(AuthServiceTest, ThrottlesAfterFiveFailuresWithRetryAfter) {
  PasswordHasher hasher(LightPasswordSettings());
  AddUser("t@x.test", *hasher.Hash("Right!pass1"));
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(auth_->Login("t@x.test", "wrong", client_, nullptr).status().reason(),
              "INVALID_CREDENTIALS");
  }
  std::chrono::seconds wait{0};
  auto r = auth_->Login("t@x.test", "Right!pass1", client_, &wait);
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(wait, std::chrono::seconds(15 * 60));
  clock_.Advance(std::chrono::minutes(15));
  EXPECT_TRUE(auth_->Login("t@x.test", "Right!pass1", client_, &wait).ok());
}

TEST_F(AuthServiceTest, RegisterValidatesAndRefusesADuplicateEmail) {
  auto bad = auth_->Register(Registration{"not-an-email", "weak", "", "Rao", "12", ""}, client_);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  std::vector<std::string> fields;
  for (const auto& d : bad.status().details()) fields.push_back(d.field);
  EXPECT_EQ(fields, (std::vector<std::string>{"email", "password", "firstName", "phone"}));

  auto unknown_school = ValidRegistration("s@x.test");
  unknown_school.school_id = NewUuidV7();
  auto r0 = auth_->Register(unknown_school, client_);
  ASSERT_FALSE(r0.ok());
  ASSERT_EQ(r0.status().details().size(), 1u);
  EXPECT_EQ(r0.status().details()[0].field, "schoolId");

  auto r1 = auth_->Register(ValidRegistration(" New@X.test"), client_);
  ASSERT_TRUE(r1.ok()) << r1.status().ToString();
  EXPECT_EQ(r1->user.email, "new@x.test");
  EXPECT_EQ(r1->user.role, Role::kParent);
  auto r2 = auth_->Register(ValidRegistration("new@x.test"), client_);
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(r2.status().reason(), "EMAIL_TAKEN");
}

TEST_F(AuthServiceTest, ConcurrentRegistrationsOfOneEmailCreateOneAccount) {
  std::atomic<int> created{0}, taken{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      auto r = auth_->Register(ValidRegistration("race@x.test"), client_);
      if (r.ok()) ++created;
      if (r.status().reason() == "EMAIL_TAKEN") ++taken;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(taken.load(), 3);
}

TEST_F(AuthServiceTest, RefreshRotatesAndReuseRevokesTheFamily) {
  auto reg = auth_->Register(ValidRegistration("fam@x.test"), client_);
  ASSERT_TRUE(reg.ok());
  const std::string first = reg->tokens.refresh_token;
  EXPECT_TRUE(auth_->Authenticate(reg->tokens.access_token).ok());
  auto second = auth_->Refresh(first, client_);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_NE(second->refresh_token, first);
  EXPECT_TRUE(auth_->Authenticate(second->access_token).ok());
  // The rotated token comes back: the family dies, the current token and access tokens too.
  auto reused = auth_->Refresh(first, client_);
  EXPECT_EQ(reused.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(auth_->Refresh(second->refresh_token, client_).status().code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(auth_->Authenticate(second->access_token).status().code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(auth_->Authenticate(reg->tokens.access_token).status().code(),
            StatusCode::kUnauthenticated);
}

TEST_F(AuthServiceTest, ExpiredOrUnknownRefreshTokensAreRefused) {
  auto reg = auth_->Register(ValidRegistration("exp@x.test"), client_);
  ASSERT_TRUE(reg.ok());
  EXPECT_FALSE(auth_->Refresh("not-a-token", client_).ok());
  EXPECT_FALSE(auth_->Refresh(std::string(10000, 'a'), client_).ok());
  clock_.Advance(std::chrono::hours(24 * 30) + std::chrono::seconds(1));
  EXPECT_EQ(auth_->Refresh(reg->tokens.refresh_token, client_).status().code(),
            StatusCode::kUnauthenticated);
}

TEST_F(AuthServiceTest, LogoutEndsTheSessionsAccessTokensAtOnce) {
  auto reg = auth_->Register(ValidRegistration("out@x.test"), client_);
  ASSERT_TRUE(reg.ok());
  auto other = auth_->Login("out@x.test", "Str0ng!pass", client_, nullptr);
  ASSERT_TRUE(other.ok());
  auto principal = auth_->Authenticate(reg->tokens.access_token);
  ASSERT_TRUE(principal.ok());
  ASSERT_TRUE(auth_->Logout("", principal->session_id).ok());
  EXPECT_EQ(auth_->Authenticate(reg->tokens.access_token).status().code(),
            StatusCode::kUnauthenticated);
  EXPECT_FALSE(auth_->Refresh(reg->tokens.refresh_token, client_).ok());
  // The other session (another login) is untouched.
  EXPECT_TRUE(auth_->Authenticate(other->tokens.access_token).ok());
  ASSERT_TRUE(auth_->Logout(other->tokens.refresh_token, "").ok());
  EXPECT_FALSE(auth_->Authenticate(other->tokens.access_token).ok());
  // Unknown refresh tokens are not an error (logout is idempotent).
  EXPECT_TRUE(auth_->Logout("unknown", "").ok());
}

TEST_F(AuthServiceTest, DeactivatedUsersLoseAccessOnTheNextSessionCheck) {
  auto reg = auth_->Register(ValidRegistration("deact@x.test"), client_);
  ASSERT_TRUE(reg.ok());
  // A second service instance (another process) has no cached state for the session.
  AuthSettings settings;
  settings.jwt_secret = std::string(32, 's');
  settings.password = LightPasswordSettings();
  AuthService fresh(&test_db_->db(), &clock_, settings);
  EXPECT_TRUE(fresh.Authenticate(reg->tokens.access_token).ok());
  ASSERT_TRUE(test_db_->db()
                  .Write([&](store::Connection& c) {
                    return store::SetUserActive(c, reg->user.id, false, clock_.Now());
                  })
                  .ok());
  AuthService third(&test_db_->db(), &clock_, settings);
  EXPECT_EQ(third.Authenticate(reg->tokens.access_token).status().code(),
            StatusCode::kUnauthenticated);
  EXPECT_FALSE(third.Refresh(reg->tokens.refresh_token, client_).ok());
}

TEST_F(AuthServiceTest, SuspendedUsersLoseAccessOnTheNextSessionCheck) {
  auto reg = auth_->Register(ValidRegistration("susp@x.test"), client_);
  ASSERT_TRUE(reg.ok());
  AuthSettings settings;
  settings.jwt_secret = std::string(32, 's');
  settings.password = LightPasswordSettings();
  AuthService before(&test_db_->db(), &clock_, settings);
  EXPECT_TRUE(before.Authenticate(reg->tokens.access_token).ok());
  // Suspension leaves is_active alone: only the status says the account is switched off.
  ASSERT_TRUE(
      test_db_->db()
          .Write([&](store::Connection& c) -> Status {
            const store::Value params[] = {reg->user.id};
            return c.Query("UPDATE users SET status = 'suspended' WHERE id = $1", params).status();
          })
          .ok());
  AuthService after(&test_db_->db(), &clock_, settings);
  EXPECT_EQ(after.Authenticate(reg->tokens.access_token).status().code(),
            StatusCode::kUnauthenticated);
  EXPECT_FALSE(after.Refresh(reg->tokens.refresh_token, client_).ok());
}

TEST_F(AuthServiceTest, AnOverlongEmailIsAValidationErrorAndNeverReachesTheThrottle) {
  const std::string huge = std::string(60000, 'a') + "@x.test";
  for (int i = 0; i < 8; ++i) {
    auto r = auth_->Login(huge, "wrong", client_, nullptr);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << i;
    ASSERT_EQ(r.status().details().size(), 1u);
    EXPECT_EQ(r.status().details()[0].field, "email");
  }
  // 254 bytes is still an ordinary (failed) login.
  const std::string longest = std::string(254 - 7, 'b') + "@x.test";
  EXPECT_EQ(auth_->Login(longest, "wrong", client_, nullptr).status().reason(),
            "INVALID_CREDENTIALS");
}

TEST_F(AuthServiceTest, RegistrationsAreThrottledPerAddressTakenEmailsIncluded) {
  AuthSettings settings;
  settings.jwt_secret = std::string(32, 's');
  settings.password = LightPasswordSettings();
  settings.max_registrations_per_address = 3;
  settings.registration_window = std::chrono::seconds(600);
  AuthService auth(&test_db_->db(), &clock_, settings);
  const ClientInfo a{"2001:db8:7:7::1", "t"};
  const ClientInfo same_net{"2001:db8:7:7:ffff::2", "t"};
  ASSERT_TRUE(auth.Register(ValidRegistration("r1@x.test"), a).ok());
  EXPECT_EQ(auth.Register(ValidRegistration("r1@x.test"), same_net).status().reason(),
            "EMAIL_TAKEN");
  // Validation errors cost no hash and tell nothing: not counted.
  EXPECT_EQ(auth.Register(ValidRegistration("bad"), a).status().code(),
            StatusCode::kInvalidArgument);
  ASSERT_TRUE(auth.Register(ValidRegistration("r2@x.test"), a).ok());
  std::chrono::seconds wait{0};
  auto limited = auth.Register(ValidRegistration("r3@x.test"), same_net, &wait);
  ASSERT_FALSE(limited.ok());
  EXPECT_EQ(limited.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(limited.status().reason(), "RATE_LIMITED");
  EXPECT_EQ(wait, std::chrono::seconds(600));
  // Not created, and not an EMAIL_TAKEN oracle either.
  EXPECT_TRUE(StoredHash("r3@x.test").empty());
  EXPECT_TRUE(
      auth.Register(ValidRegistration("r3@x.test"), ClientInfo{"2001:db8:7:8::1", "t"}).ok());
  clock_.Advance(std::chrono::seconds(600));
  EXPECT_TRUE(auth.Register(ValidRegistration("r4@x.test"), a).ok());
}

// A login that never got to check a password (database down) is not a failed attempt.
TEST_F(AuthServiceTest, ALoginTheDatabaseCouldNotAnswerDoesNotCountAsAFailure) {
  PasswordHasher hasher(LightPasswordSettings());
  AddUser("down@x.test", *hasher.Hash("Right!pass1"));
  FlakyDatabase flaky(&test_db_->db());
  AuthSettings settings;
  settings.jwt_secret = std::string(32, 's');
  settings.password = LightPasswordSettings();
  settings.max_failures_per_email = 2;
  AuthService auth(&flaky, &clock_, settings);
  flaky.set_reads_fail(true);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(auth.Login("down@x.test", "Right!pass1", client_, nullptr).status().code(),
              StatusCode::kUnavailable)
        << i;
  }
  flaky.set_reads_fail(false);
  EXPECT_TRUE(auth.Login("down@x.test", "Right!pass1", client_, nullptr).ok());
}

}  // namespace
}  // namespace hasivu::domain
