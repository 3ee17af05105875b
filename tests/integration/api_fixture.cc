#include "tests/integration/api_fixture.h"

#include "common/time_util.h"

#include <libpq-fe.h>
#include <signal.h>
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

namespace hasivu::testing {
namespace {

std::vector<std::string>& PendingArgs() {
  static std::vector<std::string> v;
  return v;
}
std::map<std::string, std::string>& PendingEnv() {
  static std::map<std::string, std::string> v;
  return v;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool Exec(const std::string& url, const std::string& sql, std::string* error) {
  PGconn* conn = PQconnectdb(url.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    *error = std::string("cannot connect to PostgreSQL: ") + PQerrorMessage(conn);
    PQfinish(conn);
    return false;
  }
  PGresult* res = PQexec(conn, sql.c_str());
  const bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
  if (!ok) *error = std::string("PostgreSQL: ") + PQerrorMessage(conn);
  PQclear(res);
  PQfinish(conn);
  return ok;
}

}  // namespace

std::unique_ptr<EmptyStore> EmptyStore::Create(std::string* error) {
  std::unique_ptr<EmptyStore> s(new EmptyStore());
  s->data_dir_ = MakeTempDir("hasivu-api");
  if (s->data_dir_.empty()) {
    *error = "cannot make a temporary folder";
    return nullptr;
  }
#ifdef HASIVU_TEST_BACKEND_POSTGRES
  const char* url = std::getenv("HASIVU_TEST_POSTGRES_URL");
  if (!url || !*url) {
    *error = "HASIVU_TEST_POSTGRES_URL is not set (run scripts/services.sh start)";
    return nullptr;
  }
  s->postgres_ = true;
  s->admin_url_ = url;
  std::random_device rd;
  s->schema_ = "hasivu_it_" + std::to_string(rd()) + std::to_string(rd() % 100000);
  if (!Exec(s->admin_url_, "CREATE SCHEMA " + s->schema_, error)) return nullptr;
  s->url_ = s->admin_url_ + (s->admin_url_.find('?') == std::string::npos ? "?" : "&") +
            "options=-csearch_path%3D" + s->schema_;
#else
  s->url_ = "sqlite:" + s->data_dir_ + "/hasivu.db";
#endif
  return s;
}

EmptyStore::~EmptyStore() {
  if (postgres_ && !schema_.empty()) {
    std::string ignored;
    Exec(admin_url_, "DROP SCHEMA IF EXISTS " + schema_ + " CASCADE", &ignored);
  }
  if (!data_dir_.empty()) std::filesystem::remove_all(data_dir_);
}

std::optional<std::string> ApiServer::Sql(const std::string& sql, std::string* error) const {
  return store_->Sql(sql, error);
}

std::optional<std::string> EmptyStore::Sql(const std::string& sql, std::string* error) const {
#ifdef HASIVU_TEST_BACKEND_POSTGRES
  PGconn* conn = PQconnectdb(url_.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    *error = std::string("cannot connect to PostgreSQL: ") + PQerrorMessage(conn);
    PQfinish(conn);
    return std::nullopt;
  }
  PGresult* res = PQexec(conn, sql.c_str());
  std::optional<std::string> out;
  if (PQresultStatus(res) == PGRES_TUPLES_OK) {
    out = PQntuples(res) > 0 && PQnfields(res) > 0 ? std::string(PQgetvalue(res, 0, 0)) : "";
  } else if (PQresultStatus(res) == PGRES_COMMAND_OK) {
    out = "";
  } else {
    *error = std::string("PostgreSQL: ") + PQerrorMessage(conn);
  }
  PQclear(res);
  PQfinish(conn);
  return out;
#else
  sqlite3* db = nullptr;
  const std::string path = url_.substr(std::string("sqlite:").size());
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    *error = "cannot open " + path + ": " + (db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return std::nullopt;
  }
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt* stmt = nullptr;
  std::optional<std::string> out;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    *error = std::string("SQLite: ") + sqlite3_errmsg(db);
  } else {
    const int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
      const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
      out = text ? std::string(text) : "";
    } else if (rc == SQLITE_DONE) {
      out = "";
    } else {
      *error = std::string("SQLite: ") + sqlite3_errmsg(db);
    }
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return out;
#endif
}

const boost::json::object& ApiResponse::Data() const {
  static const boost::json::object kEmpty;
  if (!json.is_object()) return kEmpty;
  const auto* d = json.as_object().if_contains("data");
  return d && d->is_object() ? d->as_object() : kEmpty;
}

std::string ApiResponse::ErrorCode() const {
  if (!json.is_object()) return "";
  const auto* e = json.as_object().if_contains("error");
  if (!e || !e->is_object()) return "";
  const auto* c = e->as_object().if_contains("code");
  return c && c->is_string() ? std::string(c->as_string()) : "";
}

std::string ApiResponse::Header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? "" : it->second;
}

std::string AddDays(const std::string& date, int offset_days) {
  auto d = ParseDate(date);
  if (!d.ok()) {
    ADD_FAILURE() << "not a date: " << date;
    return date;
  }
  return FormatDate(*d + std::chrono::days(offset_days));
}

std::string NextWeekday(const std::string& date, int offset_days) {
  std::string d = AddDays(date, offset_days);
  while (IsoWeekday(*ParseDate(d)) > 5) d = AddDays(d, 1);
  return d;
}

std::string NextWeekend(const std::string& date) {
  std::string d = AddDays(date, 1);
  while (IsoWeekday(*ParseDate(d)) < 6) d = AddDays(d, 1);
  return d;
}

std::string Json(const boost::json::value& v) { return boost::json::serialize(v); }

std::string Str(const boost::json::value& v, const char* key) {
  const auto* f = v.as_object().if_contains(key);
  return f && f->is_string() ? std::string(f->as_string()) : "";
}

std::unique_ptr<ApiServer> ApiServer::Start(std::vector<std::string> extra_args,
                                            std::map<std::string, std::string> env,
                                            std::string* error) {
  std::unique_ptr<ApiServer> s(new ApiServer());
  s->store_ = EmptyStore::Create(error);
  if (s->store_ == nullptr) return nullptr;
  std::vector<std::string> args = {"--data-dir", s->store_->data_dir(), "--store", s->store_->url(),
                                   // Logins in tests should not each cost 64 MiB of argon2id.
                                   "--argon2-opslimit", "1", "--argon2-memlimit-kib", "8"};
  // Each option may be given once only: these are defaults a test may override (the soak keeps
  // the access log on, as a deployment does).
  if (std::find(extra_args.begin(), extra_args.end(), "--log-level") == extra_args.end()) {
    args.insert(args.end(), {"--log-level", "warn"});
  }
  if (std::find(extra_args.begin(), extra_args.end(), "--access-log") == extra_args.end()) {
    args.insert(args.end(), {"--access-log", "false"});
  }
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  s->args_ = args;
  s->env_ = env;
  s->process_ = std::make_unique<ServerProcess>(args, env, std::chrono::seconds(120));
  if (!s->process_->started()) {
    *error = "hasivu serve did not start: " + s->process_->Stderr();
    return nullptr;
  }
  boost::system::error_code ec;
  auto fixtures = boost::json::parse(Slurp(s->store_->data_dir() + "/fixtures.json"), ec);
  if (ec || !fixtures.is_object()) {
    *error = "no fixtures.json in " + s->store_->data_dir();
    return nullptr;
  }
  s->fixtures_ = std::move(fixtures.as_object());
  return s;
}

bool ApiServer::Restart(int signal, std::string* error, int* exit_code) {
  const int port = process_->port();
  const int code = process_->StopWith(signal);
  if (exit_code != nullptr) *exit_code = code;
  process_ = std::make_unique<ServerProcess>(args_, env_, std::chrono::seconds(120),
                                             ReadyWhen::kHealthz, port);
  if (!process_->started()) {
    *error = "hasivu serve did not come back on port " + std::to_string(port) + ": " +
             process_->Stderr();
    return false;
  }
  return true;
}

std::unique_ptr<ServerProcess> ApiServer::StartPeer(const std::vector<std::string>& extra_args,
                                                    std::string* error, int port) const {
  std::vector<std::string> args = args_;
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  auto peer = std::make_unique<ServerProcess>(args, env_, std::chrono::seconds(120),
                                              ReadyWhen::kHealthz, port);
  if (!peer->started()) {
    *error = "the peer hasivu serve did not start: " + peer->Stderr();
    return nullptr;
  }
  return peer;
}

ApiServer::~ApiServer() {
  // The server stops before its store goes.
  if (process_) process_->StopWith(SIGTERM);
  process_.reset();
  store_.reset();
}

ApiResponse ApiServer::Call(const std::string& method, const std::string& target,
                            const std::string& token, const std::string& body,
                            const std::vector<std::string>& extra_headers) const {
  std::vector<std::string> headers = extra_headers;
  if (!token.empty()) headers.push_back("Authorization: Bearer " + token);
  if (!body.empty()) headers.push_back("Content-Type: application/json");
  HttpResponse raw = HttpRequest(port(), method, target, headers, body);
  ApiResponse r;
  r.status = raw.ok ? raw.status : 0;
  r.headers = std::move(raw.headers);
  r.body = std::move(raw.body);
  boost::system::error_code ec;
  auto v = boost::json::parse(r.body, ec);
  if (!ec) r.json = std::move(v);
  return r;
}

std::unique_ptr<ApiServer>& ApiSuite::ServerSlot() {
  static std::unique_ptr<ApiServer> s;
  return s;
}
std::string& ApiSuite::StartError() {
  static std::string e;
  return e;
}

void ApiSuite::SetServerOptions(std::vector<std::string> args,
                                std::map<std::string, std::string> env) {
  PendingArgs() = std::move(args);
  PendingEnv() = std::move(env);
}

void ApiSuite::SetUpTestSuite() {
  ASSERT_FALSE(HasivuBinary().empty()) << "HASIVU_BINARY is not set";
  StartError().clear();
  ServerSlot() = ApiServer::Start(PendingArgs(), PendingEnv(), &StartError());
  PendingArgs().clear();
  PendingEnv().clear();
}

void ApiSuite::TearDownTestSuite() { ServerSlot().reset(); }

void ApiSuite::SetUp() {
  ASSERT_NE(ServerSlot(), nullptr) << "server did not start: " << StartError();
}

ApiServer& ApiSuite::Server() { return *ServerSlot(); }
const boost::json::object& ApiSuite::Fixtures() { return ServerSlot()->fixtures(); }

ApiResponse ApiSuite::Call(const std::string& method, const std::string& target,
                           const std::string& token, const std::string& body,
                           const std::vector<std::string>& extra_headers) {
  return ServerSlot()->Call(method, target, token, body, extra_headers);
}

std::string ApiSuite::Sql(const std::string& sql) {
  std::string error;
  std::optional<std::string> out = Server().Sql(sql, &error);
  if (!out) {
    ADD_FAILURE() << error << " in: " << sql;
    return "";
  }
  return *out;
}

void ApiSuite::ExpectCleanError(const ApiResponse& r) {
  ASSERT_TRUE(r.json.is_object()) << r.body;
  EXPECT_EQ(r.json.at("success"), false) << r.body;
  EXPECT_FALSE(r.ErrorCode().empty()) << r.body;
  EXPECT_GE(r.status, 400) << r.body;
  EXPECT_NE(r.status, 500) << r.body;  // bad input is never an internal error
  for (const char* leak : {"SELECT", "INSERT", "UPDATE ", "sqlite", "SQLITE", "postgres",
                           "SQLSTATE", "syntax error", ".cc", ".db", "std::", "what()"}) {
    EXPECT_EQ(r.body.find(leak), std::string::npos) << leak << " in " << r.body;
  }
}

boost::json::value ApiSuite::LoginData(const std::string& email, const std::string& password) {
  ApiResponse r = Call("POST", "/api/v1/auth/login", "",
                       Json(boost::json::object{{"email", email}, {"password", password}}));
  if (r.status != 200) {
    ADD_FAILURE() << "login of " << email << " answered " << r.status << ": " << r.body;
    return nullptr;
  }
  return r.Data();
}

std::string ApiSuite::Login(const std::string& email, const std::string& password) {
  boost::json::value d = LoginData(email, password);
  if (!d.is_object()) return "";
  const auto* tokens = d.as_object().if_contains("tokens");
  if (!tokens || !tokens->is_object()) return "";
  return Str(*tokens, "accessToken");
}

std::string ApiSuite::Login(const boost::json::value& account) {
  return Login(Str(account, "email"), Str(account, "password"));
}

}  // namespace hasivu::testing
