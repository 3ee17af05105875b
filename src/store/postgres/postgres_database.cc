// The PostgreSQL backend: libpq connections with timeouts, the pool, prepared statements, error
// mapping by SQLSTATE, transactions and COPY bulk loads. A little over 600 lines: the pool, the
// statement cache and the error mapping all work on the same connection struct.
#include "store/postgres/postgres_database.h"

#include <libpq-fe.h>
#include <poll.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <climits>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/blocking.h"
#include "common/deadline.h"
#include "common/time_util.h"
#include "store/postgres/libpq_loader.h"

namespace hasivu::store::postgres {
namespace {

constexpr unsigned kBoolOid = 16;
constexpr unsigned kTimestampOid = 1114;
constexpr unsigned kTimestamptzOid = 1184;

// Callers pass constant SQL, so a connection's cache stays small; the cap only keeps a caller that
// builds SQL dynamically from growing server memory without bound (it then runs unprepared).
constexpr size_t kMaxPreparedPerConnection = 1024;
constexpr size_t kCopyChunkBytes = size_t{1} << 20;
constexpr size_t kMaxParams = 65535;  // the protocol's limit

using Steady = std::chrono::steady_clock;
using Deadline = std::optional<Steady::time_point>;

struct TextHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

struct ResultDeleter {
  void operator()(PGresult* r) const { pq::PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

struct ConnDeleter {
  void operator()(PGconn* c) const { pq::PQfinish(c); }
};
using PgConnPtr = std::unique_ptr<PGconn, ConnDeleter>;

std::string Trimmed(const char* text) {
  std::string s = text ? text : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Text form of a parameter or COPY cell that PostgreSQL parses back to the same double.
void AppendDouble(double v, std::string& out) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "Infinity" : "-Infinity";
  } else {
    char buf[32];
    const int n = std::snprintf(buf, sizeof buf, "%.17g", v);
    out.append(buf, n);
  }
}

void AppendInt(int64_t v, std::string& out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

// Fast path for the forms PostgreSQL prints with DateStyle ISO and TimeZone UTC:
// "2026-11-27 13:25:21[.123]+00" (timestamptz) and "2026-11-27 13:25:21[.123]" (timestamp).
bool NormalizeTimestampFast(bool with_zone, std::string_view t, std::string& out) {
  if (t.size() < 19 || t[4] != '-' || t[7] != '-' || t[10] != ' ' || t[13] != ':' || t[16] != ':') {
    return false;
  }
  size_t i = 19;
  std::string_view frac;
  if (i < t.size() && t[i] == '.') {
    const size_t start = ++i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
    frac = t.substr(start, i - start);
  }
  const std::string_view rest = t.substr(i);
  if (frac.size() > 6 || !(with_zone ? rest == "+00" : rest.empty())) return false;
  out.reserve(27);
  out.append(t.substr(0, 10));
  out.push_back('T');
  out.append(t.substr(11, 8));
  out.push_back('.');
  out.append(frac);
  out.append(6 - frac.size(), '0');
  out.push_back('Z');
  return true;
}

// Waits until `fd` is ready for `events` or `deadline` passes (none: no limit). False only at the
// deadline; a socket in error counts as ready, so that the next libpq call reports the error.
bool WaitSocket(int fd, short events, Deadline deadline) {
  if (fd < 0) return true;
  for (;;) {
    int timeout_ms = -1;
    if (deadline) {
      const auto left =
          std::chrono::ceil<std::chrono::milliseconds>(*deadline - Steady::now()).count();
      if (left <= 0) return false;
      timeout_ms = static_cast<int>(std::min<int64_t>(left, INT_MAX));
    }
    pollfd p{fd, events, 0};
    const int r = ::poll(&p, 1, timeout_ms);
    if (r > 0 || (r < 0 && errno != EINTR)) return true;
  }
}

bool Passed(Deadline deadline) { return deadline && Steady::now() >= *deadline; }

class PgConnection final : public Connection {
 public:
  // Connects within connect_timeout_s and before `deadline`, whichever comes first (libpq's own
  // connect_timeout counts per host and only in its blocking connect, so the wait is ours).
  static StatusOr<std::unique_ptr<PgConnection>> Open(const std::string& url, int connect_timeout_s,
                                                      Deadline deadline) {
    Deadline limit = Steady::now() + std::chrono::seconds(connect_timeout_s);
    if (deadline && *deadline < *limit) limit = deadline;
    const std::string timeout = std::to_string(connect_timeout_s);
    // Keywords before "dbname" are defaults the URL may override; those after it win. TCP
    // keepalives notice a peer that vanished without closing the socket (about 60 s).
    const char* keys[] = {
        "keepalives_idle", "keepalives_interval",       "keepalives_count", "dbname",
        "connect_timeout", "fallback_application_name", "client_encoding",  nullptr};
    const char* values[] = {"30",     "10",   "3",    url.c_str(), timeout.c_str(),
                            "hasivu", "UTF8", nullptr};
    PgConnPtr conn(pq::PQconnectStartParams(keys, values, /*expand_dbname=*/1));
    if (conn == nullptr) return UnavailableError("postgres: out of memory opening a connection");
    // As if PQconnectPoll had answered WRITING (libpq's documented start of the loop).
    PostgresPollingStatusType polled =
        pq::PQstatus(conn.get()) == CONNECTION_BAD ? PGRES_POLLING_FAILED : PGRES_POLLING_WRITING;
    while (polled != PGRES_POLLING_OK && polled != PGRES_POLLING_FAILED) {
      // The socket may change between calls (another host or address of the URL).
      if (!WaitSocket(pq::PQsocket(conn.get()), polled == PGRES_POLLING_READING ? POLLIN : POLLOUT,
                      limit)) {
        return UnavailableError("postgres: connect: no answer within " +
                                std::string(deadline && *limit == *deadline
                                                ? "the request's deadline"
                                                : timeout + " s"));
      }
      polled = pq::PQconnectPoll(conn.get());
    }
    if (polled == PGRES_POLLING_FAILED || pq::PQstatus(conn.get()) != CONNECTION_OK) {
      return UnavailableError("postgres: connect: " + Trimmed(pq::PQerrorMessage(conn.get())));
    }
    auto c = std::unique_ptr<PgConnection>(new PgConnection(std::move(conn)));
    c->set_deadline(deadline);
    // Results must not depend on the server's or the role's defaults.
    RETURN_IF_ERROR(c->Exec("SET TimeZone = 'UTC'; SET DateStyle = 'ISO'").status());
    return c;
  }

  // store::Connection
  Dialect dialect() const override { return Dialect::kPostgresql; }

  StatusOr<ResultSet> Query(std::string_view sql, std::span<const Value> params) override {
    if (params.size() > kMaxParams) {
      return InvalidArgumentError("postgres: too many parameters: " +
                                  std::to_string(params.size()));
    }
    // Text parameters; `storage` is reserved up front so the pointers stay valid.
    std::vector<std::string> storage;
    storage.reserve(params.size());
    std::vector<const char*> values(params.size(), nullptr);
    for (size_t i = 0; i < params.size(); ++i) {
      const Value& v = params[i];
      if (std::holds_alternative<std::monostate>(v)) continue;
      std::string& s = storage.emplace_back();
      if (const auto* n = std::get_if<int64_t>(&v)) {
        AppendInt(*n, s);
      } else if (const auto* d = std::get_if<double>(&v)) {
        AppendDouble(*d, s);
      } else if (const auto* b = std::get_if<bool>(&v)) {
        s = *b ? "true" : "false";
      } else {
        s = std::get<std::string>(v);
        // libpq takes text parameters as C strings: a NUL would silently cut the value.
        if (s.find('\0') != std::string::npos) {
          return InvalidArgumentError("postgres: parameter $" + std::to_string(i + 1) +
                                      " holds a NUL byte");
        }
      }
      values[i] = s.c_str();
    }
    const int n = static_cast<int>(params.size());

    ResultPtr res;
    auto it = prepared_.find(sql);
    if (it == prepared_.end()) {
      std::string text(sql);  // NUL-terminated for libpq
      if (prepared_.size() >= kMaxPreparedPerConnection) {
        ASSIGN_OR_RETURN(res, RoundTrip("query", [&] {
                           return pq::PQsendQueryParams(conn_.get(), text.c_str(), n, nullptr,
                                                        values.data(), nullptr, nullptr, 0);
                         }));
      } else {
        std::string name = "hasivu_" + std::to_string(next_statement_++);
        ASSIGN_OR_RETURN(ResultPtr prep, RoundTrip("prepare", [&] {
                           return pq::PQsendPrepare(conn_.get(), name.c_str(), text.c_str(), 0,
                                                    nullptr);
                         }));
        if (pq::PQresultStatus(prep.get()) != PGRES_COMMAND_OK)
          return ErrorOf(prep.get(), "prepare");
        it = prepared_.emplace(std::move(text), std::move(name)).first;
      }
    }
    if (it != prepared_.end()) {
      ASSIGN_OR_RETURN(res, RoundTrip("query", [&] {
                         return pq::PQsendQueryPrepared(conn_.get(), it->second.c_str(), n,
                                                        values.data(), nullptr, nullptr, 0);
                       }));
    }
    const ExecStatusType st = pq::PQresultStatus(res.get());
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
      const char* state = res ? pq::PQresultErrorField(res.get(), PG_DIAG_SQLSTATE) : nullptr;
      // Someone ran DEALLOCATE behind our back: forget the name so the next call re-prepares.
      if (it != prepared_.end() && state != nullptr && std::strcmp(state, "26000") == 0) {
        prepared_.erase(it);
      }
      return ErrorOf(res.get(), "query");
    }
    return ToResultSet(res.get());
  }

  Status ExecScript(std::string_view sql) override {
    const std::string script(sql);
    ASSIGN_OR_RETURN(ResultPtr res, RoundTrip("script", [&] {
                       return pq::PQsendQuery(conn_.get(), script.c_str());
                     }));
    const ExecStatusType st = pq::PQresultStatus(res.get());
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) {
      return ErrorOf(res.get(), "script");
    }
    return Status::Ok();
  }

  // Runs a parameterless command; returns its command tag ("COMMIT", "ROLLBACK", ...).
  StatusOr<std::string> Exec(const char* sql) {
    ASSIGN_OR_RETURN(ResultPtr res,
                     RoundTrip(sql, [&] { return pq::PQsendQuery(conn_.get(), sql); }));
    const ExecStatusType st = pq::PQresultStatus(res.get());
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return ErrorOf(res.get(), sql);
    return std::string(pq::PQcmdStatus(res.get()));
  }

  // False if the connection is known dead. Also notices a server that closed the connection while
  // it sat idle: the goodbye (a FATAL error, then EOF) is already waiting on the socket.
  bool Healthy() {
    for (int round = 0; round < 4; ++round) {
      if (fatal_seen_ || pq::PQstatus(conn_.get()) != CONNECTION_OK) return false;
      pollfd p{pq::PQsocket(conn_.get()), POLLIN, 0};
      const int r = ::poll(&p, 1, 0);
      if (r == 0) return true;
      if (r < 0) return errno == EINTR;
      if (p.revents & (POLLERR | POLLNVAL)) return false;
      // Reading hits EOF (-> CONNECTION_BAD); parsing hands a FATAL error to NoticeReceiver.
      if (!pq::PQconsumeInput(conn_.get())) return false;
      pq::PQisBusy(conn_.get());
      while (PGnotify* n = pq::PQnotifies(conn_.get())) pq::PQfreemem(n);
    }
    return !fatal_seen_ && pq::PQstatus(conn_.get()) == CONNECTION_OK;
  }

  bool Broken() const {
    return fatal_seen_ || abandoned_ || pq::PQstatus(conn_.get()) != CONNECTION_OK;
  }
  // Every round trip from now on stops waiting at `deadline` (none: waits as long as it takes).
  void set_deadline(Deadline deadline) { deadline_ = deadline; }
  PGTransactionStatusType TransactionStatus() const { return pq::PQtransactionStatus(conn_.get()); }
  PGconn* raw() { return conn_.get(); }

  Status ErrorOf(const PGresult* res, std::string_view what) const {
    const std::string context = "postgres " + std::string(what);
    if (Broken()) {
      return UnavailableError(
          context + ": connection lost: " +
          Trimmed(res ? pq::PQresultErrorMessage(res) : pq::PQerrorMessage(conn_.get())));
    }
    const char* state = res ? pq::PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
    if (state == nullptr) {
      return InternalError(
          context + ": " +
          Trimmed(res ? pq::PQresultErrorMessage(res) : pq::PQerrorMessage(conn_.get())));
    }
    const char* primary = pq::PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    return StatusFromSqlState(state, context + ": " + Trimmed(primary));
  }

 private:
  explicit PgConnection(PgConnPtr conn) : conn_(std::move(conn)) {
    pq::PQsetNoticeReceiver(conn_.get(), &PgConnection::NoticeReceiver, this);
  }

  // Sends one command with `send` (a PQsend* call) and waits for its results until the deadline,
  // returning what PQexec would: the last result (after an error the server runs nothing more of
  // the command, so that is the error). Past the deadline the connection is abandoned (Broken():
  // an answer may still arrive, and nothing can tell it from the next command's) and the call
  // fails with kUnavailable; a deadline already past sends nothing.
  template <typename Send>
  StatusOr<ResultPtr> RoundTrip(std::string_view what, Send send) {
    const std::string context = "postgres " + std::string(what);
    if (Passed(deadline_)) {
      return UnavailableError(context + ": the request's deadline passed before it was sent");
    }
    if (send() != 1) return ErrorOf(nullptr, what);
    ResultPtr last;
    for (;;) {
      while (pq::PQisBusy(conn_.get())) {
        if (!WaitSocket(pq::PQsocket(conn_.get()), POLLIN, deadline_)) {
          abandoned_ = true;
          return UnavailableError(context + ": no answer within the request's deadline");
        }
        // A lost connection: PQgetResult then hands over the error without waiting.
        if (!pq::PQconsumeInput(conn_.get())) break;
      }
      PGresult* r = pq::PQgetResult(conn_.get());
      if (r == nullptr) break;
      last.reset(r);
      const ExecStatusType st = pq::PQresultStatus(r);
      if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH ||
          pq::PQstatus(conn_.get()) == CONNECTION_BAD) {
        break;
      }
    }
    if (last == nullptr) return ErrorOf(nullptr, what);
    return last;
  }

  // Notices (e.g. "already exists, skipping") are dropped rather than printed to stderr. A FATAL
  // arriving while the connection is idle is delivered here too, and marks it dead.
  static void NoticeReceiver(void* arg, const PGresult* res) {
    const char* severity = pq::PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
    if (severity != nullptr &&
        (std::strcmp(severity, "FATAL") == 0 || std::strcmp(severity, "PANIC") == 0)) {
      static_cast<PgConnection*>(arg)->fatal_seen_ = true;
    }
  }

  static ResultSet ToResultSet(const PGresult* res) {
    ResultSet rs;
    const int nf = pq::PQnfields(res);
    const int nt = pq::PQntuples(res);
    rs.columns.reserve(nf);
    std::vector<Oid> types(nf);
    for (int f = 0; f < nf; ++f) {
      rs.columns.emplace_back(pq::PQfname(res, f));
      types[f] = pq::PQftype(res, f);
    }
    rs.rows.reserve(nt);
    for (int r = 0; r < nt; ++r) {
      std::vector<std::optional<std::string>> cells(nf);
      for (int f = 0; f < nf; ++f) {
        if (pq::PQgetisnull(res, r, f)) continue;
        const std::string_view text(pq::PQgetvalue(res, r, f), pq::PQgetlength(res, r, f));
        if (types[f] == kBoolOid || types[f] == kTimestampOid || types[f] == kTimestamptzOid) {
          cells[f] = NormalizeCell(types[f], text);
        } else {
          cells[f].emplace(text);
        }
      }
      rs.rows.emplace_back(std::move(cells));
    }
    const char* tuples = pq::PQcmdTuples(const_cast<PGresult*>(res));
    if (tuples != nullptr && *tuples != '\0') {
      std::from_chars(tuples, tuples + std::strlen(tuples), rs.rows_affected);
    }
    return rs;
  }

  PgConnPtr conn_;
  // SQL text -> statement name; looked up by string_view without a copy.
  std::unordered_map<std::string, std::string, TextHash, std::equal_to<>> prepared_;
  int64_t next_statement_ = 0;
  bool fatal_seen_ = false;
  bool abandoned_ = false;  // a round trip passed its deadline: the stream's state is unknown
  Deadline deadline_;
};

// Identifiers given to BulkLoader go into COPY unquoted, exactly as the SQL elsewhere names them.
bool IsPlainIdentifier(std::string_view s, bool allow_dot) {
  if (s.empty() || s.size() > 127) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || (allow_dot && c == '.');
    if (!ok) return false;
  }
  return !(s.front() >= '0' && s.front() <= '9');
}

class PostgresBulkLoader final : public BulkLoader {
 public:
  PostgresBulkLoader(std::unique_ptr<PgConnection> conn, std::atomic<bool>* active)
      : conn_(std::move(conn)), active_(active) {}
  // Closing the connection makes the server roll back whatever was not finished.
  ~PostgresBulkLoader() override {
    conn_.reset();
    active_->store(false);
  }

  // store::BulkLoader
  Status Begin(std::string_view table, std::vector<std::string> columns) override {
    RETURN_IF_ERROR(failed_);
    if (!IsPlainIdentifier(table, /*allow_dot=*/true)) {
      return InvalidArgumentError("postgres bulk load: bad table name '" +
                                  std::string(table.substr(0, 64)) + "'");
    }
    if (columns.empty()) return InvalidArgumentError("postgres bulk load: no columns");
    std::string sql = "COPY " + std::string(table) + " (";
    for (size_t i = 0; i < columns.size(); ++i) {
      if (!IsPlainIdentifier(columns[i], /*allow_dot=*/false)) {
        return InvalidArgumentError("postgres bulk load: bad column name '" +
                                    columns[i].substr(0, 64) + "'");
      }
      if (i > 0) sql += ", ";
      sql += columns[i];
    }
    sql += ") FROM STDIN";
    if (copying_) RETURN_IF_ERROR(Fail(EndCopy()));
    if (!in_transaction_) {
      RETURN_IF_ERROR(Fail(conn_->Exec("BEGIN").status()));
      in_transaction_ = true;
    }
    ResultPtr res(pq::PQexec(conn_->raw(), sql.c_str()));
    if (pq::PQresultStatus(res.get()) != PGRES_COPY_IN) {
      return Fail(conn_->ErrorOf(res.get(), "copy"));
    }
    copying_ = true;
    columns_ = columns.size();
    return Status::Ok();
  }

  Status Append(std::span<const Value> row) override {
    RETURN_IF_ERROR(failed_);
    if (!copying_) return FailedPreconditionError("postgres bulk load: Append before Begin");
    if (row.size() != columns_) {
      return InvalidArgumentError("postgres bulk load: row has " + std::to_string(row.size()) +
                                  " values for " + std::to_string(columns_) + " columns");
    }
    const size_t row_start = buffer_.size();
    for (size_t i = 0; i < row.size(); ++i) {
      if (i > 0) buffer_.push_back('\t');
      Status s = AppendCopyValue(row[i], buffer_);
      if (!s.ok()) {
        buffer_.resize(row_start);  // the row is refused whole; the load may go on
        return s;
      }
    }
    buffer_.push_back('\n');
    if (buffer_.size() >= kCopyChunkBytes) return Fail(Flush());
    return Status::Ok();
  }

  Status Finish() override {
    RETURN_IF_ERROR(failed_);
    if (copying_) RETURN_IF_ERROR(Fail(EndCopy()));
    if (in_transaction_) {
      in_transaction_ = false;
      ASSIGN_OR_RETURN(std::string tag, conn_->Exec("COMMIT"));
      if (tag != "COMMIT") return Fail(InternalError("postgres bulk load: commit rolled back"));
    }
    return Status::Ok();
  }

 private:
  // Errors stick: the transaction is aborted, so everything after it would fail anyway.
  Status Fail(Status s) {
    if (!s.ok() && failed_.ok()) failed_ = s;
    return s;
  }

  Status Flush() {
    if (buffer_.empty()) return Status::Ok();
    if (pq::PQputCopyData(conn_->raw(), buffer_.data(), static_cast<int>(buffer_.size())) != 1) {
      return UnavailableError("postgres bulk load: " + Trimmed(pq::PQerrorMessage(conn_->raw())));
    }
    buffer_.clear();
    return Status::Ok();
  }

  Status EndCopy() {
    copying_ = false;
    RETURN_IF_ERROR(Flush());
    if (pq::PQputCopyEnd(conn_->raw(), nullptr) != 1) {
      return UnavailableError("postgres bulk load: " + Trimmed(pq::PQerrorMessage(conn_->raw())));
    }
    Status status;
    bool first = true;
    while (PGresult* r = pq::PQgetResult(conn_->raw())) {
      ResultPtr res(r);
      if (first && pq::PQresultStatus(r) != PGRES_COMMAND_OK) status = conn_->ErrorOf(r, "copy");
      first = false;
    }
    return status;
  }

  std::unique_ptr<PgConnection> conn_;
  std::atomic<bool>* active_;
  std::string buffer_;
  size_t columns_ = 0;
  bool copying_ = false;
  bool in_transaction_ = false;
  Status failed_;
};

// Who refused a NonBlockingAttempt (common/blocking.h).
constexpr char kPoolRefusal[] = "postgres pool";

class PostgresDatabase final : public Database {
 public:
  PostgresDatabase(const DatabaseSettings& settings, std::unique_ptr<PgConnection> first)
      : settings_(settings),
        wait_(PoolHistogram(settings.registry, "hasivu_db_pool_wait_seconds",
                            "Time a database operation waited for a pooled connection")),
        hold_(PoolHistogram(settings.registry, "hasivu_db_pool_hold_seconds",
                            "Time a database operation held its pooled connection")) {
    idle_.push_back(std::move(first));
    open_ = 1;
  }

  // store::Database
  Dialect dialect() const override { return Dialect::kPostgresql; }

  Status Read(const std::function<Status(Connection&)>& fn) override {
    ASSIGN_OR_RETURN(Lease lease, Acquire());
    return fn(*lease.conn);
  }

  Status Write(const std::function<Status(Connection&)>& fn) override {
    // A connection that died idle slipped past Healthy() only if its goodbye was still in
    // flight; BEGIN then fails before fn ran, so one retry on a fresh connection is safe.
    for (int attempt = 0;; ++attempt) {
      ASSIGN_OR_RETURN(Lease lease, Acquire());
      StatusOr<std::string> begin = lease.conn->Exec("BEGIN ISOLATION LEVEL READ COMMITTED");
      if (!begin.ok()) {
        if (attempt == 0 && lease.conn->Broken() && !Passed(CurrentDeadline())) continue;
        return begin.status();
      }
      Status s = fn(*lease.conn);
      if (!s.ok()) {
        (void)lease.conn->Exec("ROLLBACK");  // a failure here leaves the connection to Release
        return s;
      }
      ASSIGN_OR_RETURN(std::string tag, lease.conn->Exec("COMMIT"));
      if (tag != "COMMIT") {
        return InternalError(
            "postgres: transaction rolled back at COMMIT: a statement in it failed but the "
            "callback returned OK");
      }
      return Status::Ok();
    }
  }

  Status Ping() override {
    return Read([](Connection& c) { return c.Query("SELECT 1").status(); });
  }

  PoolStats Stats() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return PoolStats{settings_.pool_size, in_use_};
  }

  StatusOr<std::unique_ptr<BulkLoader>> NewBulkLoader() override {
    if (loader_active_.exchange(true)) {
      return FailedPreconditionError("postgres: a bulk loader is already open");
    }
    // A bulk load (the seed at start-up) may take as long as it needs: no deadline.
    StatusOr<std::unique_ptr<PgConnection>> conn =
        PgConnection::Open(settings_.url, settings_.connect_timeout_s, std::nullopt);
    if (!conn.ok()) {
      loader_active_.store(false);
      return conn.status();
    }
    return std::unique_ptr<BulkLoader>(
        std::make_unique<PostgresBulkLoader>(std::move(*conn), &loader_active_));
  }

 private:
  // Lends a pooled connection and gives it back on every path out of Read/Write.
  struct Lease {
    Lease(PostgresDatabase* db, std::unique_ptr<PgConnection> c)
        : db(db), conn(std::move(c)), since(std::chrono::steady_clock::now()) {}
    Lease(Lease&& o) noexcept : db(o.db), conn(std::move(o.conn)), since(o.since) {}
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (!conn) return;
      Record(db->hold_, since);
      db->Release(std::move(conn));
    }
    PostgresDatabase* db;
    std::unique_ptr<PgConnection> conn;
    std::chrono::steady_clock::time_point since;
  };

  // Null without a registry: a pool opened by a command-line tool records nothing.
  static metrics::Histogram* PoolHistogram(metrics::Registry* registry, std::string_view name,
                                           std::string_view help) {
    if (registry == nullptr) return nullptr;
    return &registry->GetHistogram(name, help, {}, 1e-6, metrics::FineLatencyBoundsSeconds());
  }

  static void Record(metrics::Histogram* h, std::chrono::steady_clock::time_point since) {
    if (h == nullptr) return;
    h->Record(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - since)
                  .count());
  }

  StatusOr<Lease> Acquire() {
    if (RefuseToBlock(kPoolRefusal)) {
      return UnavailableError("postgres: no connection is taken on a thread that must not block");
    }
    const auto start = std::chrono::steady_clock::now();
    // The thread's request deadline bounds the wait, the connect and every round trip after.
    const Deadline deadline = CurrentDeadline();
    StatusOr<Lease> lease =
        AcquireUntil(start + std::chrono::milliseconds(settings_.acquire_timeout_ms), deadline);
    // A refusal waited too; a connection opened for this call counts its connect time as wait.
    Record(wait_, start);
    return lease;
  }

  StatusOr<Lease> AcquireUntil(Steady::time_point acquire_by, Deadline deadline) {
    const bool deadline_first = deadline && *deadline < acquire_by;
    const Steady::time_point wait_until = deadline_first ? *deadline : acquire_by;
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      while (!idle_.empty()) {
        std::unique_ptr<PgConnection> c = std::move(idle_.back());
        idle_.pop_back();
        ++in_use_;
        lock.unlock();
        if (c->Healthy()) {
          c->set_deadline(deadline);
          return Lease(this, std::move(c));
        }
        c.reset();
        lock.lock();
        --in_use_;
        --open_;
      }
      if (open_ < settings_.pool_size) {
        ++open_;
        ++in_use_;
        lock.unlock();
        StatusOr<std::unique_ptr<PgConnection>> c =
            PgConnection::Open(settings_.url, settings_.connect_timeout_s, deadline);
        if (c.ok()) return Lease(this, std::move(*c));
        lock.lock();
        --open_;
        --in_use_;
        cv_.notify_one();
        return c.status();
      }
      if (cv_.wait_until(lock, wait_until) == std::cv_status::timeout && idle_.empty() &&
          open_ >= settings_.pool_size) {
        if (deadline_first) {
          return UnavailableError("postgres: no free connection before the request's deadline");
        }
        return UnavailableError("postgres: no free connection within " +
                                std::to_string(settings_.acquire_timeout_ms) + " ms (pool of " +
                                std::to_string(settings_.pool_size) + ")");
      }
    }
  }

  void Release(std::unique_ptr<PgConnection> c) {
    bool keep = !c->Broken();
    // A callback that left a transaction open (or failed inside one) must not hand it on.
    if (keep && c->TransactionStatus() != PQTRANS_IDLE) {
      keep = c->Exec("ROLLBACK").ok() && c->TransactionStatus() == PQTRANS_IDLE;
    }
    if (!keep) c.reset();
    std::lock_guard<std::mutex> lock(mu_);
    --in_use_;
    if (keep) {
      idle_.push_back(std::move(c));
    } else {
      --open_;
    }
    cv_.notify_one();
  }

  const DatabaseSettings settings_;
  metrics::Histogram* const wait_;  // may be null
  metrics::Histogram* const hold_;  // may be null
  std::atomic<bool> loader_active_{false};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<PgConnection>> idle_;  // GUARDED_BY(mu_); most recent last
  int open_ = 0;                                     // GUARDED_BY(mu_); idle + lent + being opened
  int in_use_ = 0;                                   // GUARDED_BY(mu_)
};

}  // namespace

Status StatusFromSqlState(std::string_view state, std::string message) {
  if (state.size() != 5) return InternalError(std::move(message));
  const std::string_view cls = state.substr(0, 2);
  if (state == "23505") return AlreadyExistsError(std::move(message));
  if (cls == "23") return FailedPreconditionError(std::move(message));
  if (state == "40001" || state == "40P01") return AbortedError(std::move(message));
  if (cls == "22") return InvalidArgumentError(std::move(message));
  if (state == "57014") return DeadlineExceededError(std::move(message));
  // The database's disk is full, or the server takes no writes (a standby, a read-only
  // transaction): the operator's to fix, named for the client as SQLite's are. WithContext keeps
  // the driver's text for the log only.
  if (state == "53100") {
    return Status(StatusCode::kUnavailable, std::move(message), "STORAGE_FULL")
        .WithContext("storage");
  }
  if (state == "25006") {
    return Status(StatusCode::kUnavailable, std::move(message), "STORAGE_READ_ONLY")
        .WithContext("storage");
  }
  // 08P01 is a protocol violation, i.e. our bug (e.g. a wrong parameter count), not an outage.
  if ((cls == "08" && state != "08P01") || state == "57P01" || state == "57P02" ||
      state == "57P03" || state == "53300") {
    return UnavailableError(std::move(message));
  }
  return InternalError(std::move(message));
}

std::string NormalizeCell(unsigned type_oid, std::string_view text) {
  if (type_oid == kBoolOid) {
    if (text == "t") return "1";
    if (text == "f") return "0";
    return std::string(text);
  }
  if (type_oid == kTimestampOid || type_oid == kTimestamptzOid) {
    std::string out;
    if (NormalizeTimestampFast(type_oid == kTimestamptzOid, text, out)) return out;
    // Other offsets (a session whose TimeZone was changed); 'infinity' and BC stay as they are.
    StatusOr<TimePoint> t = ParseRfc3339(text);
    if (t.ok()) return FormatRfc3339(*t);
  }
  return std::string(text);
}

Status AppendCopyValue(const Value& value, std::string& out) {
  if (std::holds_alternative<std::monostate>(value)) {
    out += "\\N";
  } else if (const auto* n = std::get_if<int64_t>(&value)) {
    AppendInt(*n, out);
  } else if (const auto* d = std::get_if<double>(&value)) {
    AppendDouble(*d, out);
  } else if (const auto* b = std::get_if<bool>(&value)) {
    out.push_back(*b ? 't' : 'f');
  } else {
    const std::string& s = std::get<std::string>(value);
    if (s.find('\0') != std::string::npos) {
      return InvalidArgumentError("postgres bulk load: a value holds a NUL byte");
    }
    out.reserve(out.size() + s.size());
    for (char c : s) {
      switch (c) {
        case '\\':
          out += "\\\\";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        default:
          out.push_back(c);
      }
    }
  }
  return Status::Ok();
}

StatusOr<DatabasePtr> OpenPostgresDatabase(const DatabaseSettings& settings) {
  const std::string_view url = settings.url;
  if (!url.starts_with("postgresql://") && !url.starts_with("postgres://")) {
    return InvalidArgumentError("postgres: URL must start with postgresql:// or postgres://");
  }
  if (settings.pool_size < 1) return InvalidArgumentError("postgres: pool_size must be >= 1");
  if (settings.acquire_timeout_ms < 0) {
    return InvalidArgumentError("postgres: acquire_timeout_ms must be >= 0");
  }
  if (settings.connect_timeout_s < 1) {
    return InvalidArgumentError("postgres: connect_timeout_s must be >= 1");
  }
  char* error = nullptr;
  // libpq is loaded now, not at process start (libpq_loader.h).
  RETURN_IF_ERROR(pq::Load());
  PQconninfoOption* options = pq::PQconninfoParse(settings.url.c_str(), &error);
  if (options == nullptr) {
    std::string message = "postgres: bad URL: " + Trimmed(error ? error : "out of memory");
    pq::PQfreemem(error);
    return InvalidArgumentError(std::move(message));
  }
  pq::PQconninfoFree(options);
  // One connection up front, so a wrong URL or a server that is down fails at start-up.
  ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> first,
                   PgConnection::Open(settings.url, settings.connect_timeout_s, CurrentDeadline()));
  return DatabasePtr(std::make_unique<PostgresDatabase>(settings, std::move(first)));
}

}  // namespace hasivu::store::postgres
