// Issue 19, points 1 and 2, through the real binary on both backends: a production start never
// seeds demo data or shows a credential, its first admin comes only from `hasivu admin create`, it
// refuses the simulated gateway unless explicitly allowed, and never routes the checkout
// simulator; development seeds draw fresh passwords on every installation.
#include <signal.h>

#include <filesystem>
#include <fstream>

#include "tests/integration/api_fixture.h"

namespace hasivu::testing {
namespace {

namespace fs = std::filesystem;

constexpr char kJwtSecret[] = "production-test-jwt-secret-0123456789abcdef";
constexpr char kAdminEmail[] = "ops@school.example";
constexpr char kAdminPassword[] = "Str0ng-Operator-Pass!";

class ProductionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(HasivuBinary().empty()) << "HASIVU_BINARY is not set";
    std::string error;
    store_ = EmptyStore::Create(&error);
    ASSERT_NE(store_, nullptr) << error;
  }
  void TearDown() override { store_.reset(); }

  // Secrets through the environment, as docs/operations.md tells operators to pass them.
  static std::map<std::string, std::string> ProductionEnv() {
    return {{"HASIVU_JWT_SECRET", kJwtSecret},
            {"HASIVU_RAZORPAY_KEY_ID", "rzp_live_productiontest"},
            {"HASIVU_RAZORPAY_KEY_SECRET", "production-test-key-secret"},
            {"HASIVU_RAZORPAY_WEBHOOK_SECRET", "production-test-webhook-secret"}};
  }
  // `serve` flags of a production server on the test's store (without "serve" and --listen).
  std::vector<std::string> ServeFlags(std::vector<std::string> extra) const {
    std::vector<std::string> args = {"--mode",
                                     "production",
                                     "--store",
                                     store_->url(),
                                     "--data-dir",
                                     store_->data_dir(),
                                     "--log-level",
                                     "warn",
                                     "--access-log",
                                     "false",
                                     "--argon2-opslimit",
                                     "1",
                                     "--argon2-memlimit-kib",
                                     "8"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }
  CommandResult Serve(std::vector<std::string> extra) const {
    std::vector<std::string> args = {HasivuBinary(), "serve", "--listen", "127.0.0.1:0"};
    for (std::string& a : ServeFlags(std::move(extra))) args.push_back(std::move(a));
    return RunCommand(args, ProductionEnv(), std::chrono::seconds(60));
  }
  // `hasivu admin create` with the password on standard input.
  CommandResult AdminCreate(const std::string& email, const std::string& password) const {
    const std::string script =
        "printf '%s\\n' \"$HASIVU_TEST_PASSWORD\" | \"$0\" admin create --store \"$1\" --email "
        "\"$2\" --argon2-opslimit 1 --argon2-memlimit-kib 8";
    return RunCommand({"/bin/sh", "-c", script, HasivuBinary(), store_->url(), email},
                      {{"HASIVU_TEST_PASSWORD", password}});
  }
  std::string Sql(const std::string& sql) const {
    std::string error;
    std::optional<std::string> out = store_->Sql(sql, &error);
    EXPECT_TRUE(out.has_value()) << error;
    return out.value_or("");
  }
  static boost::json::value Parse(const std::string& body) {
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(body, ec);
    return ec ? boost::json::value() : v;
  }
  static HttpResponse LoginOver(int port, const std::string& email, const std::string& password) {
    return HttpRequest(port, "POST", "/api/v1/auth/login", {"Content-Type: application/json"},
                       Json(boost::json::object{{"email", email}, {"password", password}}));
  }
  static void ExpectOneLine(const CommandResult& r) {
    ASSERT_FALSE(r.err.empty());
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "more than one line: " << r.err;
  }

  std::unique_ptr<EmptyStore> store_;
};

TEST_F(ProductionTest, AnEmptyDatabaseIsNeverSeededAndTheStartIsRefused) {
  const CommandResult r = Serve({"--gateway", "razorpay"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  ExpectOneLine(r);
  EXPECT_NE(r.err.find("hasivu admin create"), std::string::npos) << r.err;
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM users"), "0");
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM schools"), "0");
  EXPECT_FALSE(fs::exists(store_->data_dir() + "/fixtures.json"));
  EXPECT_EQ(r.out.find("password"), std::string::npos) << r.out;
}

TEST_F(ProductionTest, TheFirstAdminComesFromAdminCreateAndLogsIn) {
  const CommandResult created = AdminCreate(kAdminEmail, kAdminPassword);
  ASSERT_EQ(created.exit_code, 0) << created.err;
  EXPECT_NE(created.out.find(kAdminEmail), std::string::npos) << created.out;
  EXPECT_EQ(created.out.find(kAdminPassword), std::string::npos);
  EXPECT_EQ(created.err.find(kAdminPassword), std::string::npos);
  EXPECT_EQ(Sql("SELECT role FROM users"), "admin");

  ServerProcess server(ServeFlags({"--gateway", "razorpay"}), ProductionEnv());
  ASSERT_TRUE(server.started()) << server.Stderr();
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM users"), "1");  // nothing seeded beside it
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM schools"), "0");
  EXPECT_FALSE(fs::exists(store_->data_dir() + "/fixtures.json"));
  EXPECT_EQ(server.Stdout().find("password"), std::string::npos) << server.Stdout();

  const HttpResponse login = LoginOver(server.port(), kAdminEmail, kAdminPassword);
  ASSERT_EQ(login.status, 200) << login.body;
  const boost::json::value data = Parse(login.body).at("data");
  EXPECT_EQ(data.at("user").at("role").as_string(), "admin");
  EXPECT_EQ(LoginOver(server.port(), kAdminEmail, "Wrong-Pass-123").status, 401);
  EXPECT_EQ(server.StopWith(SIGTERM), 0) << server.Stderr();

  // A password file works too, and the second admin joins the first.
  const std::string file = store_->data_dir() + "/second.pw";
  std::ofstream(file) << "An0ther-Operator!\n";
  const CommandResult second =
      RunCommand({HasivuBinary(), "admin", "create", "--store", store_->url(), "--email",
                  "second@school.example", "--password-file", file, "--argon2-opslimit", "1",
                  "--argon2-memlimit-kib", "8"});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM users WHERE role = 'admin'"), "2");
}

TEST_F(ProductionTest, AdminCreateRefusesBadInputAndATakenEmailWritingNothing) {
  CommandResult weak = AdminCreate(kAdminEmail, "password");
  EXPECT_EQ(weak.exit_code, 2) << weak.err;
  ExpectOneLine(weak);
  EXPECT_NE(weak.err.find("password"), std::string::npos) << weak.err;

  CommandResult bad_email = AdminCreate("not an email", kAdminPassword);
  EXPECT_EQ(bad_email.exit_code, 2) << bad_email.err;
  ExpectOneLine(bad_email);
  EXPECT_NE(bad_email.err.find("email"), std::string::npos) << bad_email.err;

  CommandResult no_password = AdminCreate(kAdminEmail, "");
  EXPECT_EQ(no_password.exit_code, 2) << no_password.err;
  ExpectOneLine(no_password);
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM users"), "0");

  ASSERT_EQ(AdminCreate(kAdminEmail, kAdminPassword).exit_code, 0);
  CommandResult taken = AdminCreate("OPS@School.Example", "Other-Pass-4567");
  EXPECT_EQ(taken.exit_code, 1) << taken.err;
  ExpectOneLine(taken);
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM users"), "1");
}

TEST_F(ProductionTest, TheSimulatedGatewayIsRefusedAndWhenAllowedTheSimulatorIsNotRouted) {
  ASSERT_EQ(AdminCreate(kAdminEmail, kAdminPassword).exit_code, 0);
  // The default gateway is the simulated one.
  const CommandResult refused = Serve({});
  EXPECT_EQ(refused.exit_code, 2) << refused.out << refused.err;
  ExpectOneLine(refused);
  EXPECT_NE(refused.err.find("--allow-simulated-payments"), std::string::npos) << refused.err;

  ServerProcess staging(ServeFlags({"--allow-simulated-payments"}), ProductionEnv());
  ASSERT_TRUE(staging.started()) << staging.Stderr();
  EXPECT_NE(staging.Stderr().find("simulated"), std::string::npos) << staging.Stderr();
  const HttpResponse login = LoginOver(staging.port(), kAdminEmail, kAdminPassword);
  ASSERT_EQ(login.status, 200) << login.body;
  const std::string token(Parse(login.body).at("data").at("tokens").at("accessToken").as_string());
  const HttpResponse simulate =
      HttpRequest(staging.port(), "POST", "/api/v1/payments/simulate",
                  {"Content-Type: application/json", "Authorization: Bearer " + token},
                  R"({"razorpayOrderId":"order_0000000000000a","outcome":"success"})");
  EXPECT_EQ(simulate.status, 404) << simulate.body;
  EXPECT_EQ(Parse(simulate.body).at("error").at("code").as_string(), "NOT_FOUND");
  EXPECT_EQ(staging.StopWith(SIGTERM), 0) << staging.Stderr();
}

// A database once started in development holds the demo accounts, whose logins were printed and
// written to a file: production refuses it.
TEST_F(ProductionTest, ADatabaseSeededInDevelopmentIsRefused) {
  {
    ServerProcess development({"--store", store_->url(), "--data-dir", store_->data_dir(),
                               "--log-level", "warn", "--access-log", "false", "--argon2-opslimit",
                               "1", "--argon2-memlimit-kib", "8"});
    ASSERT_TRUE(development.started()) << development.Stderr();
    EXPECT_EQ(development.StopWith(SIGTERM), 0);
  }
  // The fixtures hold every demo login: readable by their owner only.
  const fs::perms mode = fs::status(store_->data_dir() + "/fixtures.json").permissions();
  EXPECT_EQ(mode & (fs::perms::group_all | fs::perms::others_all), fs::perms::none);
  ASSERT_EQ(AdminCreate(kAdminEmail, kAdminPassword).exit_code, 0);
  const CommandResult r = Serve({"--gateway", "razorpay"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  ExpectOneLine(r);
  EXPECT_NE(r.err.find("demo"), std::string::npos) << r.err;
}

// Development keeps the demo seed, but no two installations share a login.
TEST(DevelopmentSeedTest, EachInstallationGetsItsOwnPasswords) {
  std::string error;
  std::unique_ptr<ApiServer> a = ApiServer::Start({}, {}, &error);
  ASSERT_NE(a, nullptr) << error;
  std::unique_ptr<ApiServer> b = ApiServer::Start({}, {}, &error);
  ASSERT_NE(b, nullptr) << error;
  const std::string email_a = Str(a->fixtures().at("admin"), "email");
  const std::string password_a = Str(a->fixtures().at("admin"), "password");
  const std::string password_b = Str(b->fixtures().at("admin"), "password");
  EXPECT_EQ(email_a, Str(b->fixtures().at("admin"), "email"));
  EXPECT_NE(password_a, password_b);
  const std::string parent_a =
      Str(a->fixtures().at("schools").at(0).at("parents").at(0), "password");
  const std::string parent_b =
      Str(b->fixtures().at("schools").at(0).at("parents").at(0), "password");
  EXPECT_NE(parent_a, parent_b);
  // Each works where it was made, and only there.
  const std::string body_a =
      Json(boost::json::object{{"email", email_a}, {"password", password_a}});
  EXPECT_EQ(a->Call("POST", "/api/v1/auth/login", "", body_a).status, 200);
  EXPECT_EQ(b->Call("POST", "/api/v1/auth/login", "", body_a).status, 401);
}

}  // namespace
}  // namespace hasivu::testing
