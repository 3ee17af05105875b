#include "api/envelope.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <sstream>

#include "api/testing/log_capture.h"
#include "common/time_util.h"
#include "store/database.h"
#include "store/open_database.h"

namespace hasivu::api {
namespace {

http::Request MakeRequest(std::string body = "") {
  http::Request r;
  r.method = "POST";
  r.path = "/api/v1/test";
  r.request_id = "req-123";
  r.body = std::move(body);
  return r;
}

boost::json::object Body(const http::Response& r) { return boost::json::parse(r.body).as_object(); }

TEST(EnvelopeTest, SuccessCarriesDataAndMeta) {
  const http::Request req = MakeRequest();
  const http::Response r = Success(req, boost::json::object{{"x", 1}}, 201);
  EXPECT_EQ(r.status, 201u);
  EXPECT_EQ(r.content_type, "application/json");
  const auto body = Body(r);
  EXPECT_TRUE(body.at("success").as_bool());
  EXPECT_EQ(body.at("data").at("x").as_int64(), 1);
  EXPECT_EQ(body.at("meta").at("requestId").as_string(), "req-123");
  EXPECT_TRUE(ParseRfc3339(body.at("meta").at("timestamp").as_string()).ok());
  EXPECT_FALSE(body.contains("error"));
}

TEST(EnvelopeTest, ErrorWithAndWithoutDetails) {
  const http::Request req = MakeRequest();
  auto plain = Body(Error(req, 404, "NOT_FOUND", "nope"));
  EXPECT_FALSE(plain.at("success").as_bool());
  EXPECT_EQ(plain.at("error").at("code").as_string(), "NOT_FOUND");
  EXPECT_EQ(plain.at("error").at("message").as_string(), "nope");
  EXPECT_FALSE(plain.at("error").as_object().contains("details"));
  EXPECT_EQ(plain.at("meta").at("requestId").as_string(), "req-123");

  auto detailed = Body(Error(req, 400, "VALIDATION_ERROR", "bad",
                             {{"items[2].quantity", "must be between 1 and 10"}}));
  const auto& d = detailed.at("error").at("details").as_array();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].at("field").as_string(), "items[2].quantity");
  EXPECT_EQ(d[0].at("issue").as_string(), "must be between 1 and 10");
}

TEST(EnvelopeTest, StatusMapping) {
  const http::Request req = MakeRequest();
  struct Case {
    Status status;
    unsigned http;
    const char* code;
  } cases[] = {
      {InvalidArgumentError("x"), 400, "VALIDATION_ERROR"},
      {NotFoundError("x"), 404, "NOT_FOUND"},
      {AlreadyExistsError("x"), 409, "CONFLICT"},
      {FailedPreconditionError("x"), 422, "UNPROCESSABLE"},
      {PermissionDeniedError("x"), 403, "FORBIDDEN"},
      {UnauthenticatedError("x"), 401, "UNAUTHENTICATED"},
      {ResourceExhaustedError("x"), 429, "RATE_LIMITED"},
      {UnavailableError("x"), 503, "UNAVAILABLE"},
      {InternalError("x"), 500, "INTERNAL"},
  };
  for (const Case& c : cases) {
    const http::Response r = ErrorFromStatus(req, c.status);
    EXPECT_EQ(r.status, c.http) << c.code;
    EXPECT_EQ(Body(r).at("error").at("code").as_string(), c.code);
  }
  EXPECT_NE(ErrorFromStatus(req, UnavailableError("db")).headers.Find("Retry-After"), nullptr);
  EXPECT_NE(ErrorFromStatus(req, ResourceExhaustedError("x")).headers.Find("Retry-After"), nullptr);
}

TEST(EnvelopeTest, InternalErrorsNeverLeakTheirText) {
  const http::Request req = MakeRequest();
  const http::Response r =
      ErrorFromStatus(req, InternalError("no such table: orders at /srv/data/hasivu.db"));
  EXPECT_EQ(r.status, 500u);
  EXPECT_EQ(r.body.find("orders"), std::string::npos);
  EXPECT_EQ(r.body.find("/srv"), std::string::npos);
  const http::Response u = ErrorFromStatus(req, UnavailableError("connect to 10.0.0.5:5432"));
  EXPECT_EQ(u.body.find("10.0.0.5"), std::string::npos);
}

TEST(EnvelopeTest, JsonBodyParsing) {
  auto ok = ParseJsonObject(MakeRequest(R"({"email":"a@b.c"})"));
  ASSERT_TRUE(ok.ok);
  EXPECT_EQ(ok.object.at("email").as_string(), "a@b.c");

  for (const char* bad : {"", "{", "{\"a\":}", "nul", "{\"a\":1}}", "\xff\xfe"}) {
    auto r = ParseJsonObject(MakeRequest(bad));
    EXPECT_FALSE(r.ok) << bad;
    EXPECT_EQ(r.error.status, 400u);
    EXPECT_EQ(Body(r.error).at("error").at("code").as_string(), "INVALID_JSON") << bad;
  }
  for (const char* bad : {"{\"a\":\"caf\xc3\"}", "{\"a\":\"\\ud800\"}"}) {
    auto r = ParseJsonObject(MakeRequest(bad));
    EXPECT_FALSE(r.ok) << bad;
    EXPECT_EQ(Body(r.error).at("error").at("code").as_string(), "INVALID_JSON") << bad;
  }
  for (const char* nul : {R"({"a":"x\u0000y"})", R"({"a":[{"b":"\u0000"}]})", R"({"\u0000":1})"}) {
    auto r = ParseJsonObject(MakeRequest(nul));
    EXPECT_FALSE(r.ok) << nul;
    EXPECT_EQ(r.error.status, 400u);
    EXPECT_EQ(Body(r.error).at("error").at("code").as_string(), "VALIDATION_ERROR") << nul;
  }
  auto arr = ParseJsonObject(MakeRequest("[1,2]"));
  EXPECT_FALSE(arr.ok);
  EXPECT_EQ(Body(arr.error).at("error").at("code").as_string(), "VALIDATION_ERROR");
}

TEST(EnvelopeTest, ErrorRendererUsesTheEnvelope) {
  const http::Request req = MakeRequest();
  auto render = MakeErrorRenderer();
  const http::Response r = render(405, "METHOD_NOT_ALLOWED", "Method not allowed", req);
  EXPECT_EQ(r.status, 405u);
  EXPECT_EQ(Body(r).at("error").at("code").as_string(), "METHOD_NOT_ALLOWED");
}

}  // namespace
}  // namespace hasivu::api

namespace hasivu::api {
namespace {

TEST(EnvelopeTest, ReasonAndDetailsBecomeTheErrorCode) {
  const http::Request req = MakeRequest();
  const http::Response sold =
      ErrorFromStatus(req, Status(StatusCode::kAborted, "The slot is sold out", "SOLD_OUT"));
  EXPECT_EQ(sold.status, 409u);
  auto body = Body(sold);
  EXPECT_EQ(body.at("error").at("code").as_string(), "SOLD_OUT");
  EXPECT_EQ(body.at("error").at("message").as_string(), "The slot is sold out");

  const http::Response invalid = ErrorFromStatus(
      req, ValidationError("Invalid order", {{"items[1].quantity", "must be between 1 and 10"}}));
  EXPECT_EQ(invalid.status, 400u);
  auto v = Body(invalid);
  EXPECT_EQ(v.at("error").at("code").as_string(), "VALIDATION_ERROR");
  EXPECT_EQ(v.at("error").at("details").as_array()[0].at("field").as_string(), "items[1].quantity");

  // A reason never lets an internal error's text out.
  const http::Response internal =
      ErrorFromStatus(req, Status(StatusCode::kInternal, "disk /var/x full", "DISK"));
  EXPECT_EQ(internal.status, 500u);
  EXPECT_EQ(internal.body.find("/var/x"), std::string::npos);
  EXPECT_EQ(Body(internal).at("error").at("code").as_string(), "INTERNAL");
}

}  // namespace
}  // namespace hasivu::api

namespace hasivu::api {
namespace {

// Routes the default logger into a string while alive.
using api::testing::LogCapture;

// What the SQLite driver says about a constraint, from a real database.
Status DriverConstraintError(const std::string& sql) {
  auto db = store::OpenDatabase({.url = "sqlite::memory:"});
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  if (!db.ok()) return db.status();
  Status setup = (*db)->Write([](store::Connection& c) {
    return c.ExecScript(
        "CREATE TABLE accounts (email TEXT NOT NULL UNIQUE);"
        "INSERT INTO accounts (email) VALUES ('a@example.com');");
  });
  EXPECT_TRUE(setup.ok()) << setup.ToString();
  return (*db)->Write([&](store::Connection& c) { return c.Query(sql, {}).status(); });
}

// Issue 19: a store error's text (driver wording, table and column names, SQL) is for the log,
// and the client reads a generic message for its code.
TEST(EnvelopeTest, StoreConstraintViolationsReachTheClientAsGenericMessages) {
  const http::Request req = MakeRequest();
  const Status unique =
      DriverConstraintError("INSERT INTO accounts (email) VALUES ('a@example.com')");
  ASSERT_EQ(unique.code(), StatusCode::kAlreadyExists) << unique.ToString();
  ASSERT_NE(unique.message().find("UNIQUE constraint failed: accounts.email"), std::string::npos)
      << unique.message();
  const Status not_null = DriverConstraintError("INSERT INTO accounts (email) VALUES (NULL)");
  ASSERT_EQ(not_null.code(), StatusCode::kFailedPrecondition) << not_null.ToString();

  LogCapture log;
  const http::Response conflict = ErrorFromStatus(req, unique);
  EXPECT_EQ(conflict.status, 409u);
  EXPECT_EQ(Body(conflict).at("error").at("code").as_string(), "CONFLICT");
  const http::Response unprocessable = ErrorFromStatus(req, not_null);
  EXPECT_EQ(unprocessable.status, 422u);
  for (const http::Response* r : {&conflict, &unprocessable}) {
    for (const char* leak : {"sqlite", "constraint", "accounts", "email", "INSERT", "NULL"}) {
      EXPECT_EQ(r->body.find(leak), std::string::npos) << leak << " in " << r->body;
    }
  }
  const std::string text = log.Text();
  EXPECT_NE(text.find("request req-123"), std::string::npos) << text;
  EXPECT_NE(text.find("UNIQUE constraint failed: accounts.email"), std::string::npos) << text;
  EXPECT_NE(text.find("NOT NULL constraint failed"), std::string::npos) << text;
}

// A write the disk refused (store/sqlite: a reason on operator text): 503 with the reason as
// the code, Retry-After, a message saying what stops writes, and SQLite's text only in the log.
TEST(EnvelopeTest, StorageReasonsAnswer503WithTheirCodeAndNoDriverText) {
  const http::Request req = MakeRequest();
  for (const char* reason : {"STORAGE_FULL", "STORAGE_READ_ONLY"}) {
    LogCapture log;
    const Status s =
        Status(StatusCode::kUnavailable, "disk I/O error (778) in: INSERT INTO orders", reason)
            .WithContext("sqlite");
    const http::Response r = ErrorFromStatus(req, s);
    EXPECT_EQ(r.status, 503u) << reason;
    EXPECT_EQ(Body(r).at("error").at("code").as_string(), reason);
    const std::string message(Body(r).at("error").at("message").as_string());
    EXPECT_NE(message.find(std::string(reason) == "STORAGE_FULL" ? "full" : "read-only"),
              std::string::npos)
        << message;
    ASSERT_NE(r.headers.Find("Retry-After"), nullptr) << reason;
    for (const char* leak : {"sqlite", "INSERT", "orders", "778"}) {
      EXPECT_EQ(r.body.find(leak), std::string::npos) << leak << " in " << r.body;
    }
    EXPECT_NE(log.Text().find("INSERT INTO orders"), std::string::npos) << log.Text();
  }
}

// The PostgreSQL wording of issue 19's failed login, and any other unmarked message.
TEST(EnvelopeTest, UnmarkedMessagesAreNotSentForAnyCode) {
  const http::Request req = MakeRequest();
  LogCapture log;
  const Status pg = InvalidArgumentError(
      "postgres: insert: ERROR:  invalid byte sequence for encoding \"UTF8\": 0xe2 0x82 (22021)");
  const http::Response invalid = ErrorFromStatus(req, pg);
  EXPECT_EQ(invalid.status, 400u);
  EXPECT_EQ(Body(invalid).at("error").at("code").as_string(), "VALIDATION_ERROR");
  EXPECT_EQ(Body(invalid).at("error").at("message").as_string(), "The request is invalid");
  EXPECT_EQ(invalid.body.find("postgres"), std::string::npos);
  EXPECT_NE(log.Text().find("invalid byte sequence"), std::string::npos);
  // Details without the client mark are operator text too.
  const http::Response no_details =
      ErrorFromStatus(req, InvalidArgumentError("x").WithDetails({{"users.email", "22021"}}));
  EXPECT_FALSE(Body(no_details).at("error").as_object().contains("details"));
  for (const Status& s :
       {AbortedError("postgres: could not serialize access"),
        FailedPreconditionError("sqlite: FOREIGN KEY constraint failed"),
        ValidationError("x", {}).WithContext("postgres: users"),
        Status(StatusCode::kAborted, "An item is sold out", "SOLD_OUT").WithContext("sqlite")}) {
    const http::Response r = ErrorFromStatus(req, s);
    EXPECT_EQ(r.body.find("postgres"), std::string::npos) << r.body;
    EXPECT_EQ(r.body.find("sqlite"), std::string::npos) << r.body;
  }
  // Messages written for clients still pass through.
  const http::Response marked =
      ErrorFromStatus(req, AbortedError("The order changed; retry").ForClient());
  EXPECT_EQ(Body(marked).at("error").at("message").as_string(), "The order changed; retry");
}

}  // namespace
}  // namespace hasivu::api
