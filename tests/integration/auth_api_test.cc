// auth-register, auth-login, refresh, logout and the bearer-token check through a seeded server,
// on both backends. The suite knows the server's JWT secret so it can craft tokens (expired,
// alg none, re-signed) the way an attacker or a stale client would send them.
#include <crypt.h>
#include <openssl/hmac.h>

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <set>
#include <thread>

#include "tests/integration/api_fixture.h"

namespace hasivu::testing {
namespace {

const std::string kSecret = "auth-api-test-secret-0123456789abcdef";

std::string B64Url(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kAlphabet[(v >> s) & 63]);
  }
  if (in.size() - i == 1) {
    const uint32_t v = uint8_t(in[i]) << 16;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
  } else if (in.size() - i == 2) {
    const uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
  }
  return out;
}

std::string B64UrlDecode(std::string_view in) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = c >= 'A' && c <= 'Z'   ? c - 'A'
            : c >= 'a' && c <= 'z' ? c - 'a' + 26
            : c >= '0' && c <= '9' ? c - '0' + 52
            : c == '-'             ? 62
            : c == '_'             ? 63
                                   : -1;
    if (v < 0) break;
    acc = (acc << 6) | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(char((acc >> bits) & 0xFF));
    }
  }
  return out;
}

std::string Sign(std::string_view header, std::string_view payload, std::string_view secret) {
  std::string input = B64Url(header) + "." + B64Url(payload);
  unsigned char mac[32];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), int(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  return input + "." + B64Url(std::string_view(reinterpret_cast<char*>(mac), len));
}

// The claims of a token the server issued.
boost::json::object Claims(const std::string& token) {
  const size_t a = token.find('.');
  const size_t b = token.rfind('.');
  return boost::json::parse(B64UrlDecode(token.substr(a + 1, b - a - 1))).as_object();
}

std::string LoginBody(const std::string& email, const std::string& password) {
  return Json(boost::json::object{{"email", email}, {"password", password}});
}

std::string RegisterBody(const std::string& email, const std::string& password = "Str0ng!pass",
                         boost::json::object extra = {}) {
  boost::json::object o{
      {"email", email}, {"password", password}, {"firstName", "Asha"}, {"lastName", "Rao"}};
  for (auto& kv : extra) o[kv.key()] = kv.value();
  return Json(o);
}

std::set<std::string> DetailFields(const ApiResponse& r) {
  std::set<std::string> out;
  const auto* err = r.json.is_object() ? r.json.as_object().if_contains("error") : nullptr;
  if (err == nullptr) return out;
  const auto* details = err->as_object().if_contains("details");
  if (details == nullptr) return out;
  for (const auto& d : details->as_array()) out.insert(Str(d, "field"));
  return out;
}

class AuthApiTest : public ApiSuite {
 public:
  static void SetUpTestSuite() {
    // Many registrations come from this one address; the per-address limit has its own suite.
    SetServerOptions({"--jwt-secret", kSecret, "--register-limit", "100000"}, {});
    ApiSuite::SetUpTestSuite();
  }

 protected:
  // A fresh parent account: {accessToken, refreshToken, email}.
  boost::json::object NewParent(const std::string& tag) {
    const std::string email = tag + "." + std::to_string(counter_++) + "@auth-test.example";
    ApiResponse r = Call("POST", "/api/v1/auth/register", "", RegisterBody(email));
    EXPECT_EQ(r.status, 201) << r.body;
    boost::json::object out = r.Data().at("tokens").as_object();
    out["email"] = email;
    return out;
  }
  static inline std::atomic<int> counter_{0};
};

TEST_F(AuthApiTest, EveryFixtureAccountLogsIn) {
  struct Account {
    boost::json::value value;
    std::string role;
  };
  std::vector<Account> accounts;
  accounts.push_back({Fixtures().at("admin"), "admin"});
  for (const auto& school : Fixtures().at("schools").as_array()) {
    accounts.push_back({school.at("schoolAdmin"), "school_admin"});
    for (const auto& k : school.at("kitchenStaff").as_array())
      accounts.push_back({k, "kitchen_staff"});
    for (const auto& p : school.at("parents").as_array()) {
      accounts.push_back({p, "parent"});
      for (const auto& c : p.at("children").as_array()) accounts.push_back({c, "student"});
    }
  }
  ASSERT_GT(accounts.size(), 40u);
  for (const Account& a : accounts) {
    ApiResponse r = Call("POST", "/api/v1/auth/login", "",
                         LoginBody(Str(a.value, "email"), Str(a.value, "password")));
    ASSERT_EQ(r.status, 200) << Str(a.value, "email") << ": " << r.body;
    EXPECT_EQ(Str(r.Data().at("user"), "role"), a.role);
    EXPECT_EQ(Str(r.Data().at("user"), "id"), Str(a.value, "id"));
  }
}

TEST_F(AuthApiTest, LoginAnswersTheUserAndAPairOfTokens) {
  const auto& parent = Fixtures().at("schools").at(0).at("parents").at(0);
  std::string shouted = "  " + Str(parent, "email") + " ";
  for (char& c : shouted) c = char(std::toupper(static_cast<unsigned char>(c)));
  ApiResponse r =
      Call("POST", "/api/v1/auth/login", "", LoginBody(shouted, Str(parent, "password")));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("cache-control"), "no-store");
  const auto& user = r.Data().at("user").as_object();
  for (const char* key : {"id", "email", "firstName", "lastName", "role", "schoolId"}) {
    EXPECT_TRUE(user.contains(key)) << key;
  }
  EXPECT_EQ(Str(user, "email"), Str(parent, "email"));
  EXPECT_EQ(Str(user, "schoolId"), Str(Fixtures().at("schools").at(0), "id"));
  const auto& tokens = r.Data().at("tokens").as_object();
  EXPECT_EQ(Str(tokens, "tokenType"), "Bearer");
  EXPECT_EQ(tokens.at("expiresIn").as_int64(), 900);
  const std::string access = Str(tokens, "accessToken");
  EXPECT_EQ(std::count(access.begin(), access.end(), '.'), 2);
  EXPECT_EQ(B64UrlDecode(access.substr(0, access.find('.'))), R"({"alg":"HS256","typ":"JWT"})");
  boost::json::object claims = Claims(access);
  EXPECT_EQ(Str(claims, "sub"), Str(parent, "id"));
  EXPECT_EQ(Str(claims, "role"), "parent");
  EXPECT_EQ(Str(claims, "iss"), "hasivu");
  EXPECT_EQ(Str(claims, "aud"), "hasivu-api");
  EXPECT_EQ(claims.at("exp").as_int64() - claims.at("iat").as_int64(), 900);
  EXPECT_GE(Str(tokens, "refreshToken").size(), 43u);
  ApiResponse me = Call("GET", "/api/v1/users/me", access);
  EXPECT_EQ(me.status, 200) << me.body;
}

// Issue 19: the session keeps 255 bytes of the User-Agent. A cut inside a character used to
// leave invalid UTF-8, which PostgreSQL refused ("invalid byte sequence"), failing the login
// with the driver's text; a header that is not UTF-8 at all must not fail it either.
TEST_F(AuthApiTest, LongAndInvalidUserAgentsDoNotFailTheLogin) {
  const auto& parent = Fixtures().at("schools").at(0).at("parents").at(1);
  const std::string euro = "\xE2\x82\xAC";
  const std::string split_at_255 = std::string(254, 'A') + euro + "/tail";
  const std::string not_utf8 = "Agent/1.0 (\xFF\xFE; caf\xC3)";
  for (const std::string& agent : {split_at_255, not_utf8, std::string(300, 'B') + euro}) {
    ApiResponse r =
        Call("POST", "/api/v1/auth/login", "",
             LoginBody(Str(parent, "email"), Str(parent, "password")), {"User-Agent: " + agent});
    ASSERT_EQ(r.status, 200) << agent.size() << ": " << r.body;
  }
  // What was stored is the agent's first 254 bytes: the euro sign is left out whole.
  const std::string stored =
      Sql("SELECT user_agent FROM auth_sessions WHERE user_agent LIKE 'AAAA%' LIMIT 1");
  EXPECT_EQ(stored, std::string(254, 'A'));
}

TEST_F(AuthApiTest, WrongPasswordUnknownEmailAndEmptyPasswordAnswerAlike) {
  const auto& kitchen = Fixtures().at("schools").at(1).at("kitchenStaff").at(0);
  ApiResponse wrong =
      Call("POST", "/api/v1/auth/login", "", LoginBody(Str(kitchen, "email"), "Wrong!pass1"));
  ApiResponse unknown = Call("POST", "/api/v1/auth/login", "",
                             LoginBody("nobody.here@demo.hasivu.test", "Wrong!pass1"));
  ASSERT_EQ(wrong.status, 401) << wrong.body;
  ASSERT_EQ(unknown.status, 401) << unknown.body;
  EXPECT_EQ(wrong.ErrorCode(), "INVALID_CREDENTIALS");
  EXPECT_EQ(unknown.ErrorCode(), "INVALID_CREDENTIALS");
  EXPECT_EQ(wrong.json.at("error").at("message"), unknown.json.at("error").at("message"));
  // An absurd email is refused for its length (no account can have it, so that tells nothing;
  // AnOverlongLoginEmailIsAValidationError), before it could reach the throttle.
  ApiResponse huge =
      Call("POST", "/api/v1/auth/login", "", LoginBody(std::string(5000, 'a') + "@x.test", "x"));
  EXPECT_EQ(huge.ErrorCode(), "VALIDATION_ERROR");
}

TEST_F(AuthApiTest, LoginBodyErrors) {
  ApiResponse missing = Call("POST", "/api/v1/auth/login", "", R"({"email":"a@b.test"})");
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(missing.ErrorCode(), "VALIDATION_ERROR");
  EXPECT_EQ(DetailFields(missing), std::set<std::string>{"password"});
  ApiResponse typed = Call("POST", "/api/v1/auth/login", "", R"({"email":42,"password":["x"]})");
  EXPECT_EQ(typed.status, 400);
  EXPECT_EQ(DetailFields(typed), (std::set<std::string>{"email", "password"}));
  ApiResponse bad_json = Call("POST", "/api/v1/auth/login", "", R"({"email":)");
  EXPECT_EQ(bad_json.status, 400);
  EXPECT_EQ(bad_json.ErrorCode(), "INVALID_JSON");
  HttpResponse text = HttpRequest(Server().port(), "POST", "/api/v1/auth/login",
                                  {"Content-Type: text/plain"}, LoginBody("a@b.test", "x"));
  EXPECT_EQ(text.status, 415);
  ApiResponse get = Call("GET", "/api/v1/auth/login");
  EXPECT_EQ(get.status, 405);
}

TEST_F(AuthApiTest, FiveFailuresThenRateLimitedWithRetryAfter) {
  boost::json::object account = NewParent("throttle");
  const std::string email = Str(account, "email");
  for (int i = 0; i < 5; ++i) {
    ApiResponse r = Call("POST", "/api/v1/auth/login", "", LoginBody(email, "Wrong!pass1"));
    ASSERT_EQ(r.ErrorCode(), "INVALID_CREDENTIALS") << i << r.body;
  }
  // Locked even with the right password, and for the email in another spelling.
  ApiResponse r = Call("POST", "/api/v1/auth/login", "", LoginBody(" " + email, "Str0ng!pass"));
  ASSERT_EQ(r.status, 429) << r.body;
  EXPECT_EQ(r.ErrorCode(), "RATE_LIMITED");
  const int retry_after = std::stoi(r.Header("retry-after"));
  EXPECT_GT(retry_after, 800);
  EXPECT_LE(retry_after, 900);
  // Other accounts are not affected.
  const auto& admin = Fixtures().at("admin");
  EXPECT_FALSE(Login(admin).empty());
}

TEST_F(AuthApiTest, InactiveAccountAnswersLikeAWrongPassword) {
  boost::json::object account = NewParent("inactive");
  const std::string email = Str(account, "email");
  Sql("UPDATE users SET is_active = FALSE WHERE email = '" + email + "'");
  ApiResponse inactive = Call("POST", "/api/v1/auth/login", "", LoginBody(email, "Str0ng!pass"));
  ASSERT_EQ(inactive.status, 401) << inactive.body;
  EXPECT_EQ(inactive.ErrorCode(), "INVALID_CREDENTIALS");
  ApiResponse wrong = Call("POST", "/api/v1/auth/login", "", LoginBody(email, "Wrong!pass1"));
  EXPECT_EQ(wrong.json.at("error"), inactive.json.at("error"));

  // Switched back on, the same password logs in: it was the flag, not the password.
  Sql("UPDATE users SET is_active = TRUE WHERE email = '" + email + "'");
  EXPECT_FALSE(Login(email, "Str0ng!pass").empty());
}

// The original platform stored bcrypt hashes; such an account logs in with its password, and the
// login replaces the hash with an argon2id one.
TEST_F(AuthApiTest, LegacyBcryptHashesLogInAndAreRehashedToArgon2id) {
  for (const char* prefix : {"$2b$", "$2a$"}) {
    SCOPED_TRACE(prefix);
    boost::json::object account = NewParent("bcrypt");
    const std::string email = Str(account, "email");
    const std::string password = "Legacy!pass9";
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    ASSERT_NE(crypt_gensalt_rn(prefix, 4, nullptr, 0, setting, sizeof setting), nullptr);
    crypt_data data{};
    const char* hashed = crypt_r(password.c_str(), setting, &data);
    ASSERT_NE(hashed, nullptr);
    const std::string bcrypt_hash = hashed;
    ASSERT_EQ(bcrypt_hash.rfind(prefix, 0), 0u) << bcrypt_hash;
    Sql("UPDATE users SET password_hash = '" + bcrypt_hash + "' WHERE email = '" + email + "'");

    ApiResponse wrong = Call("POST", "/api/v1/auth/login", "", LoginBody(email, "Str0ng!pass"));
    EXPECT_EQ(wrong.ErrorCode(), "INVALID_CREDENTIALS") << wrong.body;
    EXPECT_EQ(Sql("SELECT password_hash FROM users WHERE email = '" + email + "'"), bcrypt_hash);

    EXPECT_FALSE(Login(email, password).empty());
    const std::string rehashed =
        Sql("SELECT password_hash FROM users WHERE email = '" + email + "'");
    EXPECT_EQ(rehashed.rfind("$argon2id$", 0), 0u) << rehashed;
    // The new hash verifies the same password.
    EXPECT_FALSE(Login(email, password).empty());
  }
}

TEST_F(AuthApiTest, RegisterMakesAParentWhateverTheBodySays) {
  ApiResponse r = Call("POST", "/api/v1/auth/register", "",
                       RegisterBody("  New.Parent@Auth-Test.example ", "Str0ng!pass",
                                    {{"role", "admin"}, {"phone", "+91 98765-43210"}}));
  ASSERT_EQ(r.status, 201) << r.body;
  const auto& user = r.Data().at("user").as_object();
  EXPECT_EQ(Str(user, "role"), "parent");
  EXPECT_EQ(Str(user, "email"), "new.parent@auth-test.example");
  EXPECT_TRUE(user.at("schoolId").is_null());
  EXPECT_EQ(r.Header("location"), "/api/v1/users/" + Str(user, "id"));
  const std::string access = Str(r.Data().at("tokens"), "accessToken");
  EXPECT_EQ(Str(Claims(access), "role"), "parent");
  ApiResponse me = Call("GET", "/api/v1/users/me", access);
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(Str(me.Data(), "role"), "parent");
  EXPECT_FALSE(Login("new.parent@auth-test.example", "Str0ng!pass").empty());
}

TEST_F(AuthApiTest, RegisterWithASchool) {
  const std::string school_id = Str(Fixtures().at("schools").at(1), "id");
  ApiResponse r =
      Call("POST", "/api/v1/auth/register", "",
           RegisterBody("with.school@auth-test.example", "Str0ng!pass", {{"schoolId", school_id}}));
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(Str(r.Data().at("user"), "schoolId"), school_id);
}

TEST_F(AuthApiTest, RegisterRefusesATakenEmailInAnySpelling) {
  ASSERT_EQ(
      Call("POST", "/api/v1/auth/register", "", RegisterBody("taken@auth-test.example")).status,
      201);
  for (const char* email : {"taken@auth-test.example", " TAKEN@auth-test.example"}) {
    ApiResponse r = Call("POST", "/api/v1/auth/register", "", RegisterBody(email));
    EXPECT_EQ(r.status, 409) << r.body;
    EXPECT_EQ(r.ErrorCode(), "EMAIL_TAKEN");
  }
  ApiResponse seeded =
      Call("POST", "/api/v1/auth/register", "", RegisterBody(Str(Fixtures().at("admin"), "email")));
  EXPECT_EQ(seeded.ErrorCode(), "EMAIL_TAKEN");
}

TEST_F(AuthApiTest, ConcurrentRegistrationsOfOneEmailCreateOneAccount) {
  std::atomic<int> created{0}, taken{0}, other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&] {
      ApiResponse r = Server().Call("POST", "/api/v1/auth/register", "",
                                    RegisterBody("race@auth-test.example"));
      if (r.status == 201) {
        ++created;
      } else if (r.ErrorCode() == "EMAIL_TAKEN") {
        ++taken;
      } else {
        ++other;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(taken.load(), 5);
  EXPECT_EQ(other.load(), 0);
}

TEST_F(AuthApiTest, RegisterValidationNamesEachField) {
  ApiResponse r =
      Call("POST", "/api/v1/auth/register", "",
           Json(boost::json::object{{"email", "not-an-email"},
                                    {"password", "short"},
                                    {"firstName", ""},
                                    {"lastName", std::string(101, 'x')},
                                    {"phone", "call me"},
                                    {"schoolId", "0190f5a0-0000-7000-8000-0000000000ff"}}));
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(r.ErrorCode(), "VALIDATION_ERROR");
  EXPECT_EQ(DetailFields(r), (std::set<std::string>{"email", "password", "firstName", "lastName",
                                                    "phone", "schoolId"}));
  for (const std::string& pw :
       std::vector<std::string>{"alllower1!", "ALLUPPER1!", "NoDigits!!", "NoSymbol12",
                                "Ab1!" + std::string(125, 'x')}) {
    ApiResponse weak =
        Call("POST", "/api/v1/auth/register", "", RegisterBody("weak@auth-test.example", pw));
    EXPECT_EQ(DetailFields(weak), std::set<std::string>{"password"}) << pw;
  }
  std::string long_email = std::string(64, 'a') + "@" + std::string(63, 'b') + "." +
                           std::string(63, 'c') + "." + std::string(63, 'd') + ".test";
  EXPECT_EQ(DetailFields(Call("POST", "/api/v1/auth/register", "", RegisterBody(long_email))),
            std::set<std::string>{"email"});
  EXPECT_EQ(Call("POST", "/api/v1/auth/register", "", "[1,2]").ErrorCode(), "VALIDATION_ERROR");
  EXPECT_EQ(Call("POST", "/api/v1/auth/register", "", "{nope").ErrorCode(), "INVALID_JSON");
  HttpResponse text =
      HttpRequest(Server().port(), "POST", "/api/v1/auth/register", {"Content-Type: text/plain"},
                  RegisterBody("x@auth-test.example"));
  EXPECT_EQ(text.status, 415);
}

TEST_F(AuthApiTest, SqlMetacharactersAreStoredVerbatim) {
  const std::string first = "Robert'); DROP TABLE users;--";
  const std::string last = "O'Brien \" OR 1=1 --";
  const std::string email = "o'brien+x@auth-test.example";
  ApiResponse r = Call("POST", "/api/v1/auth/register", "",
                       Json(boost::json::object{{"email", email},
                                                {"password", "P4ss'; --\"x"},
                                                {"firstName", first},
                                                {"lastName", last}}));
  ASSERT_EQ(r.status, 201) << r.body;
  ApiResponse me = Call("GET", "/api/v1/users/me", Str(r.Data().at("tokens"), "accessToken"));
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(Str(me.Data(), "firstName"), first);
  EXPECT_EQ(Str(me.Data(), "lastName"), last);
  EXPECT_EQ(Str(me.Data(), "email"), email);
  EXPECT_FALSE(Login(email, "P4ss'; --\"x").empty());
  ApiResponse injected =
      Call("POST", "/api/v1/auth/login", "", LoginBody("' OR '1'='1", "' OR '1'='1"));
  EXPECT_EQ(injected.ErrorCode(), "INVALID_CREDENTIALS");
  // Everyone is still there.
  EXPECT_FALSE(Login(Fixtures().at("admin")).empty());
}

TEST_F(AuthApiTest, SqlMetacharactersInTokensAndPhoneAreHarmless) {
  const std::string evil = "' OR '1'='1'; DROP TABLE auth_sessions;--";
  boost::json::object account = NewParent("tokens");
  ApiResponse refresh =
      Call("POST", "/api/v1/auth/refresh", "", Json(boost::json::object{{"refreshToken", evil}}));
  EXPECT_EQ(refresh.status, 401) << refresh.body;
  EXPECT_EQ(refresh.ErrorCode(), "UNAUTHENTICATED");
  ExpectCleanError(refresh);
  // Logging out an unknown token ends nothing and says nothing about what exists.
  ApiResponse logout =
      Call("POST", "/api/v1/auth/logout", "", Json(boost::json::object{{"refreshToken", evil}}));
  EXPECT_LT(logout.status, 500) << logout.body;
  // A phone number with quotes is a field error, not a query.
  ApiResponse phone = Call("POST", "/api/v1/auth/register", "",
                           RegisterBody("phone.evil@auth-test.example", "Str0ng!pass",
                                        {{"phone", "+91'; DROP TABLE users;--"}}));
  EXPECT_EQ(phone.status, 400) << phone.body;
  EXPECT_EQ(DetailFields(phone), std::set<std::string>{"phone"});
  ExpectCleanError(phone);
  // The real session still refreshes: nothing was revoked or dropped.
  ApiResponse real = Call("POST", "/api/v1/auth/refresh", "",
                          Json(boost::json::object{{"refreshToken", account.at("refreshToken")}}));
  EXPECT_EQ(real.status, 200) << real.body;
  EXPECT_FALSE(Login(Fixtures().at("admin")).empty());
}

TEST_F(AuthApiTest, AuthErrorBodiesCarryNoInternals) {
  ExpectCleanError(Call("POST", "/api/v1/auth/login", "", R"({"email":)"));
  ExpectCleanError(Call("POST", "/api/v1/auth/login", "", R"({"email":42,"password":["x"]})"));
  ExpectCleanError(
      Call("POST", "/api/v1/auth/login", "", LoginBody("nobody@auth-test.example", "x")));
  ExpectCleanError(Call("POST", "/api/v1/auth/register", "", RegisterBody("not-an-email")));
  ExpectCleanError(Call("GET", "/api/v1/users/me", "not.a.token"));
  ExpectCleanError(Call("POST", "/api/v1/auth/refresh", "", "{}"));
}

TEST_F(AuthApiTest, RefreshRotatesAndReuseRevokesTheFamily) {
  boost::json::object first = NewParent("refresh");
  ApiResponse r1 = Call("POST", "/api/v1/auth/refresh", "",
                        Json(boost::json::object{{"refreshToken", first.at("refreshToken")}}));
  ASSERT_EQ(r1.status, 200) << r1.body;
  const auto& second = r1.Data().at("tokens").as_object();
  EXPECT_NE(Str(second, "refreshToken"), Str(first, "refreshToken"));
  EXPECT_EQ(Str(second, "tokenType"), "Bearer");
  EXPECT_EQ(Str(Claims(Str(second, "accessToken")), "sid"),
            Str(Claims(Str(first, "accessToken")), "sid"));
  EXPECT_EQ(Call("GET", "/api/v1/users/me", Str(second, "accessToken")).status, 200);
  // The first token again: reuse. The family dies, with the newest token and its access token.
  ApiResponse reuse = Call("POST", "/api/v1/auth/refresh", "",
                           Json(boost::json::object{{"refreshToken", first.at("refreshToken")}}));
  EXPECT_EQ(reuse.status, 401);
  EXPECT_EQ(reuse.ErrorCode(), "UNAUTHENTICATED");
  ApiResponse after = Call("POST", "/api/v1/auth/refresh", "",
                           Json(boost::json::object{{"refreshToken", second.at("refreshToken")}}));
  EXPECT_EQ(after.status, 401);
  EXPECT_EQ(Call("GET", "/api/v1/users/me", Str(second, "accessToken")).status, 401);
}

TEST_F(AuthApiTest, RefreshRefusesUnknownAndMissingTokens) {
  ApiResponse unknown = Call("POST", "/api/v1/auth/refresh", "", R"({"refreshToken":"nope"})");
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(unknown.ErrorCode(), "UNAUTHENTICATED");
  ApiResponse missing = Call("POST", "/api/v1/auth/refresh", "", "{}");
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(DetailFields(missing), std::set<std::string>{"refreshToken"});
  // An access token is not a refresh token.
  boost::json::object account = NewParent("wrongkind");
  ApiResponse wrong = Call("POST", "/api/v1/auth/refresh", "",
                           Json(boost::json::object{{"refreshToken", account.at("accessToken")}}));
  EXPECT_EQ(wrong.status, 401);
}

TEST_F(AuthApiTest, LogoutWithTheBearerEndsItsAccessTokensAtOnce) {
  boost::json::object account = NewParent("logout");
  const std::string access = Str(account, "accessToken");
  ASSERT_EQ(Call("GET", "/api/v1/users/me", access).status, 200);
  ApiResponse out = Call("POST", "/api/v1/auth/logout", access);
  EXPECT_EQ(out.status, 204) << out.body;
  EXPECT_TRUE(out.body.empty());
  ApiResponse after = Call("GET", "/api/v1/users/me", access);
  EXPECT_EQ(after.status, 401);
  EXPECT_EQ(after.ErrorCode(), "UNAUTHENTICATED");
  ApiResponse refresh =
      Call("POST", "/api/v1/auth/refresh", "",
           Json(boost::json::object{{"refreshToken", account.at("refreshToken")}}));
  EXPECT_EQ(refresh.status, 401);
}

TEST_F(AuthApiTest, LogoutWithTheRefreshToken) {
  boost::json::object account = NewParent("logout2");
  ApiResponse out = Call("POST", "/api/v1/auth/logout", "",
                         Json(boost::json::object{{"refreshToken", account.at("refreshToken")}}));
  EXPECT_EQ(out.status, 204) << out.body;
  EXPECT_EQ(Call("GET", "/api/v1/users/me", Str(account, "accessToken")).status, 401);
  // Without a refresh token or a bearer there is nothing to log out.
  EXPECT_EQ(Call("POST", "/api/v1/auth/logout").status, 401);
}

TEST_F(AuthApiTest, ExpiredTokenAnswersTokenExpired) {
  boost::json::object account = NewParent("expired");
  boost::json::object claims = Claims(Str(account, "accessToken"));
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  claims["iat"] = now - 3600;
  claims["exp"] = now - 60;
  std::string expired = Sign(R"({"alg":"HS256","typ":"JWT"})", Json(claims), kSecret);
  ApiResponse r = Call("GET", "/api/v1/users/me", expired);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.ErrorCode(), "TOKEN_EXPIRED");
  // The same claims, unexpired and signed with the server's secret: accepted (the crafting is
  // sound, so the refusals below are about what they change).
  claims["exp"] = now + 600;
  EXPECT_EQ(
      Call("GET", "/api/v1/users/me", Sign(R"({"alg":"HS256","typ":"JWT"})", Json(claims), kSecret))
          .status,
      200);
}

TEST_F(AuthApiTest, ForgedTokensAreRefused) {
  boost::json::object account = NewParent("forged");
  const std::string genuine = Str(account, "accessToken");
  boost::json::object claims = Claims(genuine);
  boost::json::object admin_claims = claims;
  admin_claims["role"] = "admin";
  const std::string header = R"({"alg":"HS256","typ":"JWT"})";
  const std::string dot2_signature = genuine.substr(genuine.rfind('.'));
  std::vector<std::string> forged = {
      B64Url(R"({"alg":"none","typ":"JWT"})") + "." + B64Url(Json(admin_claims)) + ".",
      Sign(R"({"alg":"none","typ":"JWT"})", Json(admin_claims), kSecret),
      Sign(R"({"alg":"HS512","typ":"JWT"})", Json(claims), kSecret),
      Sign(R"({"alg":"RS256","typ":"JWT"})", Json(claims), kSecret),
      Sign(header, Json(admin_claims), "some-other-secret-of-32-bytes-or-more"),
      B64Url(header) + "." + B64Url(Json(admin_claims)) + dot2_signature,
      genuine + ".x",
      genuine.substr(0, genuine.size() - 2),
      "garbage",
      std::string(8000, 'A'),
  };
  for (const std::string& token : forged) {
    ApiResponse r = Call("GET", "/api/v1/users/me", token);
    EXPECT_EQ(r.status, 401) << token.substr(0, 80);
    EXPECT_EQ(r.ErrorCode(), "UNAUTHENTICATED");
  }
  ApiResponse none = Call("GET", "/api/v1/users/me");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.Header("www-authenticate"), "Bearer");
}

TEST_F(AuthApiTest, BearerSchemeParsing) {
  boost::json::object account = NewParent("scheme");
  const std::string token = Str(account, "accessToken");
  auto with = [&](const std::string& header) {
    return HttpRequest(Server().port(), "GET", "/api/v1/users/me", {header}).status;
  };
  EXPECT_EQ(with("Authorization: Bearer " + token), 200);
  EXPECT_EQ(with("Authorization: bearer " + token), 200);
  EXPECT_EQ(with("Authorization: BEARER " + token), 200);
  EXPECT_EQ(with("Authorization: Bearer  " + token), 401);
  EXPECT_EQ(with("Authorization: Basic " + token), 401);
  EXPECT_EQ(with("Authorization: Bearer"), 401);
  EXPECT_EQ(with("Authorization: " + token), 401);
}

TEST_F(AuthApiTest, UserIdHeadersAreIgnored) {
  const std::string admin_id = Str(Fixtures().at("admin"), "id");
  for (const std::string& name : std::vector<std::string>{"X-User-Id", "x-user-id", "X-USER-ID"}) {
    ApiResponse anonymous =
        Call("GET", "/api/v1/users/" + admin_id, "", "", {name + ": " + admin_id});
    EXPECT_EQ(anonymous.status, 401) << name;
  }
  boost::json::object account = NewParent("xuser");
  ApiResponse me = Call("GET", "/api/v1/users/me", Str(account, "accessToken"), "",
                        {"X-User-Id: " + admin_id, "x-user-role: admin"});
  ASSERT_EQ(me.status, 200);
  EXPECT_EQ(Str(me.Data(), "role"), "parent");
  ApiResponse admin = Call("GET", "/api/v1/users/" + admin_id, Str(account, "accessToken"), "",
                           {"X-User-Id: " + admin_id});
  EXPECT_EQ(admin.status, 404);
}

// Per client address: 30 failed attempts a minute, whichever emails they name. A suite of its own:
// the limit then holds for every login from this address for up to a minute.
class AuthAddressThrottleApiTest : public ApiSuite {};

TEST_F(AuthAddressThrottleApiTest, ThirtyFailuresFromOneAddressThenRateLimited) {
  for (int i = 0; i < 30; ++i) {
    // A different email each time, so the per-email limit (5) never applies.
    ApiResponse r = Call("POST", "/api/v1/auth/login", "",
                         LoginBody("nobody" + std::to_string(i) + "@throttle.example", "Wrong!1a"));
    ASSERT_EQ(r.status, 401) << i << r.body;
    ASSERT_EQ(r.ErrorCode(), "INVALID_CREDENTIALS") << i;
  }
  // The 31st attempt is refused even for a real account with its right password.
  const auto& admin = Fixtures().at("admin");
  ApiResponse r = Call("POST", "/api/v1/auth/login", "",
                       LoginBody(Str(admin, "email"), Str(admin, "password")));
  ASSERT_EQ(r.status, 429) << r.body;
  EXPECT_EQ(r.ErrorCode(), "RATE_LIMITED");
  const int retry_after = std::stoi(r.Header("retry-after"));
  EXPECT_GE(retry_after, 1);
  EXPECT_LE(retry_after, 60);
}

TEST_F(AuthApiTest, AnOverlongLoginEmailIsAValidationError) {
  const std::string email = std::string(300, 'a') + "@auth-test.example";
  ApiResponse r = Call("POST", "/api/v1/auth/login", "", LoginBody(email, "Wrong!pass1"));
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(r.ErrorCode(), "VALIDATION_ERROR");
  EXPECT_EQ(DetailFields(r), std::set<std::string>{"email"});
}

// Suspension is a status, not is_active: the tokens the account holds stop working once the
// session check next reads the database (the cached state lives 5 seconds).
TEST_F(AuthApiTest, ASuspendedAccountsAccessTokenStopsWorking) {
  boost::json::object account = NewParent("suspended");
  const std::string access = Str(account, "accessToken");
  ASSERT_EQ(Call("GET", "/api/v1/users/me", access).status, 200);
  Sql("UPDATE users SET status = 'suspended' WHERE email = '" + Str(account, "email") + "'");
  int status = 200;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (status == 200 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    status = Call("GET", "/api/v1/users/me", access).status;
  }
  EXPECT_EQ(status, 401);
  ApiResponse refresh =
      Call("POST", "/api/v1/auth/refresh", "",
           Json(boost::json::object{{"refreshToken", account.at("refreshToken")}}));
  EXPECT_EQ(refresh.status, 401) << refresh.body;
}

// Behind a trusted reverse proxy (here: loopback), with few registrations per address and one
// hashing slot per route.
class AuthAbuseApiTest : public ApiSuite {
 public:
  static void SetUpTestSuite() {
    SetServerOptions(
        {"--register-limit", "3", "--trusted-proxies", "127.0.0.1,::1", "--max-queued-hashes", "1"},
        {});
    ApiSuite::SetUpTestSuite();
  }

 protected:
  static ApiResponse RegisterFrom(const std::string& forwarded_for, const std::string& email) {
    return Call("POST", "/api/v1/auth/register", "", RegisterBody(email),
                {"X-Forwarded-For: " + forwarded_for});
  }
};

TEST_F(AuthAbuseApiTest, RegistrationsAreRateLimitedPerClientAddress) {
  // The proxy appended 198.51.100.7; "10.9.9.9" was written by the client and is not believed.
  const std::string client = "10.9.9.9, 198.51.100.7";
  ASSERT_EQ(RegisterFrom(client, "r1@abuse.example").status, 201);
  ASSERT_EQ(RegisterFrom(client, "r1@abuse.example").ErrorCode(), "EMAIL_TAKEN");
  ASSERT_EQ(RegisterFrom("10.8.8.8, 198.51.100.7", "r2@abuse.example").status, 201);
  ApiResponse limited = RegisterFrom(client, "r3@abuse.example");
  ASSERT_EQ(limited.status, 429) << limited.body;
  EXPECT_EQ(limited.ErrorCode(), "RATE_LIMITED");
  const int retry_after = std::stoi(limited.Header("retry-after"));
  EXPECT_GT(retry_after, 800);
  EXPECT_LE(retry_after, 900);
  // Not created: a later attempt from elsewhere can still take the email.
  EXPECT_EQ(RegisterFrom("198.51.100.8", "r3@abuse.example").status, 201);
  // IPv6 clients count by their /64.
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(RegisterFrom("2001:db8:5:5::" + std::to_string(i + 1),
                           "v6-" + std::to_string(i) + "@abuse.example")
                  .status,
              201)
        << i;
  }
  EXPECT_EQ(RegisterFrom("2001:db8:5:5:ffff::1", "v6-x@abuse.example").status, 429);
  EXPECT_EQ(RegisterFrom("2001:db8:5:6::1", "v6-y@abuse.example").status, 201);
}

// With one slot, concurrent registrations beyond it are refused at once instead of queueing
// for the pool (where they would delay every login and payment behind them).
TEST_F(AuthAbuseApiTest, AFloodOfRegistrationsGets503WithRetryAfterAndIsCounted) {
  constexpr int kThreads = 48;
  std::vector<ApiResponse> answers(kThreads);
  std::vector<std::thread> threads;
  std::atomic<int> ready{0};
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      ready.fetch_add(1);
      while (ready.load() < kThreads) std::this_thread::yield();
      answers[i] = RegisterFrom("192.0.2." + std::to_string(i + 1),
                                "flood" + std::to_string(i) + "@abuse.example");
    });
  }
  for (std::thread& t : threads) t.join();
  int created = 0, busy = 0;
  for (const ApiResponse& r : answers) {
    if (r.status == 201) {
      ++created;
    } else {
      ASSERT_EQ(r.status, 503) << r.body;
      EXPECT_EQ(r.ErrorCode(), "SERVICE_BUSY");
      EXPECT_EQ(r.Header("retry-after"), "1");
      ++busy;
    }
  }
  EXPECT_GE(created, 1);
  EXPECT_GE(busy, 1);
  ApiResponse metrics = Call("GET", "/metrics");
  EXPECT_NE(metrics.body.find("hasivu_hash_queue_rejected_total{route=\"auth-register\"} " +
                              std::to_string(busy)),
            std::string::npos)
      << metrics.body.substr(0, 2000);
}

}  // namespace
}  // namespace hasivu::testing
