// Black-box API tests: a seeded `hasivu serve` on loopback per test suite, on SQLite or on a real
// PostgreSQL, and small helpers to call the JSON API.
//
// Each <resource>_api_test.cc is compiled twice (slice_api_tests.cmake): into
// <resource>_api_test (SQLite, label integration) and <resource>_api_pgtest (PostgreSQL, label
// postgres, which needs HASIVU_TEST_POSTGRES_URL from scripts/services.sh and fails without it).
// The PostgreSQL variant runs the server in a fresh schema that is dropped afterwards.
//
// Usage:
//   class OrdersApiTest : public ApiSuite {};   // one server for all tests of the suite
//   TEST_F(OrdersApiTest, ListsMyOrders) {
//     const auto& parent = Fixtures().at("schools").at(0).at("parents").at(0);
//     std::string token = Login(parent);
//     ApiResponse r = Call("GET", "/api/v1/orders?limit=5", token);
//     ASSERT_EQ(r.status, 200) << r.body;
//     EXPECT_EQ(r.Data().at("orders").as_array().size(), 5u);
//   }
#ifndef HASIVU_TESTS_INTEGRATION_API_FIXTURE_H_
#define HASIVU_TESTS_INTEGRATION_API_FIXTURE_H_

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/integration/harness.h"

namespace hasivu::testing {

struct ApiResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  boost::json::value json;  // null if the body is not JSON

  // data of a success envelope ({} if absent).
  const boost::json::object& Data() const;
  // error.code of an error envelope ("" if absent).
  std::string ErrorCode() const;
  std::string Header(const std::string& lower_name) const;
};

// A fresh, empty store in a fresh data folder, for tests that start the binary themselves: a
// SQLite file in the folder, or (in the PostgreSQL variant) a new schema of
// HASIVU_TEST_POSTGRES_URL. The destructor drops the schema and removes the folder; stop every
// process using the store first.
class EmptyStore {
 public:
  // Null (with the reason in *error) if the store could not be made.
  static std::unique_ptr<EmptyStore> Create(std::string* error);
  ~EmptyStore();
  EmptyStore(const EmptyStore&) = delete;
  EmptyStore& operator=(const EmptyStore&) = delete;

  // For --store.
  const std::string& url() const { return url_; }
  // For --data-dir.
  const std::string& data_dir() const { return data_dir_; }
  bool postgres() const { return postgres_; }

  // Runs one SQL statement directly on the store. Returns the first column of the first row
  // ("" when there is none), or nullopt with the reason in *error. Write only SQL both dialects
  // accept.
  std::optional<std::string> Sql(const std::string& sql, std::string* error) const;

 private:
  EmptyStore() = default;
  std::string data_dir_;
  std::string url_;
  std::string schema_;  // PostgreSQL only
  std::string admin_url_;
  bool postgres_ = false;
};

// A seeded server. Start() runs `hasivu serve` on a fresh data folder (and, for PostgreSQL, a
// fresh schema), which migrates, seeds the demo set and writes fixtures.json.
class ApiServer {
 public:
  // `extra_args` go to `hasivu serve` (e.g. {"--gateway", "razorpay", ...}; the log level is warn
  // unless they give --log-level); `env` is added to the environment. Returns null (with the
  // reason in *error) if the server did not start.
  static std::unique_ptr<ApiServer> Start(std::vector<std::string> extra_args,
                                          std::map<std::string, std::string> env,
                                          std::string* error);
  ~ApiServer();

  int port() const { return process_->port(); }
  const std::string& store_url() const { return store_->url(); }
  const boost::json::object& fixtures() const { return fixtures_; }
  bool postgres() const { return store_->postgres(); }
  ServerProcess& process() { return *process_; }
  const std::string& data_dir() const { return store_->data_dir(); }

  // Ends the process with `signal` (SIGKILL: a crash) and starts it again on the same store and
  // port with the same arguments; the store keeps what was committed (no seeding: it is not
  // empty). Returns false (with the reason in *error) if it did not come back. `exit_code`, when
  // given, gets StopWith's answer for the old process.
  bool Restart(int signal, std::string* error, int* exit_code = nullptr);

  // Another `hasivu serve` on the same store and data folder, with the same arguments and
  // environment plus `extra_args` (options the first was not given), on `port` (0: a free one):
  // the second process of a pair behind a load balancer. Null (with the reason in *error) if it
  // did not become ready. The caller stops it, before this server goes.
  std::unique_ptr<ServerProcess> StartPeer(const std::vector<std::string>& extra_args,
                                           std::string* error, int port = 0) const;

  // One request on a new connection. `body` is sent as application/json when not empty.
  ApiResponse Call(const std::string& method, const std::string& target,
                   const std::string& token = "", const std::string& body = "",
                   const std::vector<std::string>& extra_headers = {}) const;

  // Runs one SQL statement directly on the server's database (its SQLite file, or its PostgreSQL
  // schema), for arranging states the API cannot create (an inactive account, a legacy hash) and
  // for counting rows. Returns the first column of the first row ("" when there is none), or
  // nullopt with the reason in *error. Write only SQL both dialects accept.
  std::optional<std::string> Sql(const std::string& sql, std::string* error) const;

 private:
  ApiServer() = default;
  std::unique_ptr<EmptyStore> store_;
  std::unique_ptr<ServerProcess> process_;
  std::vector<std::string> args_;
  std::map<std::string, std::string> env_;
  boost::json::object fixtures_;
};

// gtest base: one ApiServer per test suite (started in SetUpTestSuite, stopped in
// TearDownTestSuite). A suite that needs other server flags defines its own static
// SetUpTestSuite() that calls SetServerOptions(...) and then ApiSuite::SetUpTestSuite().
class ApiSuite : public ::testing::Test {
 public:
  static void SetUpTestSuite();
  static void TearDownTestSuite();

 protected:
  void SetUp() override;

  static void SetServerOptions(std::vector<std::string> args,
                               std::map<std::string, std::string> env);
  static ApiServer& Server();
  static const boost::json::object& Fixtures();

  static ApiResponse Call(const std::string& method, const std::string& target,
                          const std::string& token = "", const std::string& body = "",
                          const std::vector<std::string>& extra_headers = {});
  // Logs in with a fixtures account ({"email","password",...}); returns the access token, or ""
  // (with a test failure) if login did not answer 200.
  static std::string Login(const boost::json::value& account);
  static std::string Login(const std::string& email, const std::string& password);
  // Full login data ({user, tokens}) or null.
  static boost::json::value LoginData(const std::string& email, const std::string& password);
  // ApiServer::Sql on the suite's server; a failure fails the test and returns "".
  static std::string Sql(const std::string& sql);
  // Expects `r` to be an error envelope that carries no internals: no SQL, no engine or file
  // names, no exception text.
  static void ExpectCleanError(const ApiResponse& r);

 private:
  static std::unique_ptr<ApiServer>& ServerSlot();
  static std::string& StartError();
};

// Calendar arithmetic on "YYYY-MM-DD" texts (the fixtures' baseDate), through common/time_util.
// The day `offset_days` after `date` (negative: before).
std::string AddDays(const std::string& date, int offset_days);
// The first Monday-Friday at least `offset_days` after `date`.
std::string NextWeekday(const std::string& date, int offset_days);
// The first Saturday or Sunday after `date`.
std::string NextWeekend(const std::string& date);

// Serialises a JSON value.
std::string Json(const boost::json::value& v);
// A fixtures account's string field.
std::string Str(const boost::json::value& v, const char* key);

}  // namespace hasivu::testing

#endif  // HASIVU_TESTS_INTEGRATION_API_FIXTURE_H_
