// The SQLite backend: error mapping, binding and stepping, connections (pragmas, the WAL
// checkpointer thread, the reader pool and the one writer), transactions and the bulk loader.
// Over 600 lines because those parts share one connection type and its locking; the driver
// wrapper alone would be a second file exposing sqlite3 handles to no other reader.
#include "store/sqlite/sqlite_database.h"

#include <pthread.h>
#include <sched.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>

namespace hasivu::store::sqlite {
namespace {

// Rows per transaction of the bulk loader: large enough to amortise commits, small enough that
// the WAL stays bounded.
constexpr int64_t kBulkBatchRows = 50000;
// Past this many cached statements a connection drops its cache; constant SQL never gets there.
constexpr size_t kMaxCachedStatements = 512;

std::string SqlExcerpt(std::string_view sql) {
  std::string s(sql.substr(0, 80));
  for (char& c : s) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return sql.size() > 80 ? s + "..." : s;
}

// Whether `error` is the errno of an I/O error of the connection. SQLite keeps a failed call's
// errno per file; its connection-wide sqlite3_system_errno reads the global errno after the
// fact, by then often overwritten (0, or ENOENT from looking for a journal). In WAL mode a
// commit's failing write is the log's, so the log's file is asked as well as the database's.
bool IoErrnoIs(sqlite3* db, std::initializer_list<int> errors) {
  int log_errno = 0;
  sqlite3_file* log = nullptr;
  if (sqlite3_file_control(db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &log) == SQLITE_OK &&
      log != nullptr && log->pMethods != nullptr) {
    (void)log->pMethods->xFileControl(log, SQLITE_FCNTL_LAST_ERRNO, &log_errno);
  }
  int db_errno = 0;
  (void)sqlite3_file_control(db, "main", SQLITE_FCNTL_LAST_ERRNO, &db_errno);
  for (int seen : {log_errno, db_errno, sqlite3_system_errno(db)}) {
    for (int error : errors) {
      if (seen == error) return true;
    }
  }
  return false;
}

// The API's code for a failure of the disk under the store, or nullptr: a full disk (also the
// process's file size limit or a quota) and a file system gone read-only are the operator's to
// fix, not a broken request, and a client should learn which of the two stops its writes.
// SQLite reports ENOSPC on a write as SQLITE_FULL but every other failed call (and EROFS, EFBIG)
// as SQLITE_IOERR_*.
const char* StorageReason(int rc, sqlite3* db) {
  const int primary = rc & 0xff;
  if (primary == SQLITE_FULL) return "STORAGE_FULL";
  if (primary == SQLITE_READONLY) {
    // A plain READONLY on a connection opened read-write is the query_only guard of a reader:
    // a write inside Read(), a bug and not the disk.
    if (rc == SQLITE_READONLY && (db == nullptr || sqlite3_db_readonly(db, "main") != 1)) {
      return nullptr;
    }
    return "STORAGE_READ_ONLY";
  }
  if (primary == SQLITE_IOERR && db != nullptr) {
    if (IoErrnoIs(db, {EROFS})) return "STORAGE_READ_ONLY";
    if (IoErrnoIs(db, {ENOSPC, EDQUOT, EFBIG})) return "STORAGE_FULL";
  }
  return nullptr;
}

Status MapError(int rc, sqlite3* db, std::string_view sql) {
  const int primary = rc & 0xff;
  std::string detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  detail += " (" + std::to_string(rc) + ")";
  if (!sql.empty()) detail += " in: " + SqlExcerpt(sql);
  if (const char* reason = StorageReason(rc, db)) {
    // WithContext leaves the reason and takes away the client mark the reason gave: the client
    // gets the code, the log gets SQLite's text.
    return Status(StatusCode::kUnavailable, std::move(detail), reason).WithContext("sqlite");
  }
  std::string msg = "sqlite: " + detail;
  switch (primary) {
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return AlreadyExistsError(std::move(msg));
      }
      return FailedPreconditionError(std::move(msg));
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
      return UnavailableError(std::move(msg));
    case SQLITE_NOMEM:
      return ResourceExhaustedError(std::move(msg));
    case SQLITE_INTERRUPT:
      return DeadlineExceededError(std::move(msg));
    case SQLITE_RANGE:
    case SQLITE_TOOBIG:
      return InvalidArgumentError(std::move(msg));
    default:
      return InternalError(std::move(msg));
  }
}

bool IsIdentifier(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  for (char c : s) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return !(s[0] >= '0' && s[0] <= '9');
}

Status BindAll(sqlite3* db, sqlite3_stmt* stmt, std::span<const Value> params,
               std::string_view sql) {
  const int expected = sqlite3_bind_parameter_count(stmt);
  if (static_cast<size_t>(expected) != params.size()) {
    return InvalidArgumentError("sqlite: statement takes " + std::to_string(expected) +
                                " parameters, " + std::to_string(params.size()) +
                                " given, in: " + SqlExcerpt(sql));
  }
  for (size_t i = 0; i < params.size(); ++i) {
    const int idx = static_cast<int>(i) + 1;
    const Value& v = params[i];
    int rc = SQLITE_OK;
    if (std::holds_alternative<std::monostate>(v)) {
      rc = sqlite3_bind_null(stmt, idx);
    } else if (const auto* n = std::get_if<int64_t>(&v)) {
      rc = sqlite3_bind_int64(stmt, idx, *n);
    } else if (const auto* d = std::get_if<double>(&v)) {
      rc = sqlite3_bind_double(stmt, idx, *d);
    } else if (const auto* b = std::get_if<bool>(&v)) {
      rc = sqlite3_bind_int(stmt, idx, *b ? 1 : 0);
    } else {
      const std::string& s = std::get<std::string>(v);
      // SQLITE_STATIC: the caller's span outlives the step loop, and bindings are cleared after.
      rc = sqlite3_bind_text64(stmt, idx, s.data(), s.size(), SQLITE_STATIC, SQLITE_UTF8);
    }
    if (rc != SQLITE_OK) return MapError(rc, db, sql);
  }
  return Status::Ok();
}

// Steps `stmt` to completion, collecting rows as text. Always leaves the statement reset and
// unbound, so a cached statement is never left half-stepped.
StatusOr<ResultSet> StepAll(sqlite3* db, sqlite3_stmt* stmt, std::string_view sql) {
  ResultSet rs;
  const int ncols = sqlite3_column_count(stmt);
  rs.columns.reserve(ncols);
  for (int i = 0; i < ncols; ++i) {
    const char* name = sqlite3_column_name(stmt, i);
    rs.columns.emplace_back(name != nullptr ? name : "");
  }
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    std::vector<std::optional<std::string>> cells(ncols);
    for (int i = 0; i < ncols; ++i) {
      if (sqlite3_column_type(stmt, i) == SQLITE_NULL) continue;
      const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
      const int len = sqlite3_column_bytes(stmt, i);
      cells[i].emplace(text != nullptr ? text : "", static_cast<size_t>(len));
    }
    rs.rows.emplace_back(std::move(cells));
  }
  Status status;
  if (rc == SQLITE_DONE) {
    if (!sqlite3_stmt_readonly(stmt)) rs.rows_affected = sqlite3_changes64(db);
  } else {
    status = MapError(sqlite3_extended_errcode(db), db, sql);
  }
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  if (!status.ok()) return status;
  return rs;
}

class StatementRowView final : public RowView {
 public:
  StatementRowView(sqlite3_stmt* stmt, int ncols) : stmt_(stmt), ncols_(ncols) {}
  size_t size() const override { return static_cast<size_t>(ncols_); }
  bool IsNull(size_t col) const override {
    return sqlite3_column_type(stmt_, static_cast<int>(col)) == SQLITE_NULL;
  }
  std::string_view Text(size_t col) const override {
    const int i = static_cast<int>(col);
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, i));
    if (text == nullptr) return {};
    return std::string_view(text, static_cast<size_t>(sqlite3_column_bytes(stmt_, i)));
  }

 private:
  sqlite3_stmt* stmt_;
  int ncols_;
};

class SqliteConnection final : public Connection {
 public:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}
  ~SqliteConnection() override {
    for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  sqlite3* handle() { return db_; }

  // store::Connection
  Dialect dialect() const override { return Dialect::kSqlite; }

  StatusOr<ResultSet> Query(std::string_view sql, std::span<const Value> params) override {
    ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(sql));
    RETURN_IF_ERROR(BindAll(db_, stmt, params, sql));
    return StepAll(db_, stmt, sql);
  }

  Status QueryEach(std::string_view sql, std::span<const Value> params,
                   const std::function<bool(const RowView&)>& fn) override {
    ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(sql));
    // Leaves the cached statement reset and unbound however this ends (fn may throw).
    struct Reset {
      sqlite3_stmt* stmt;
      ~Reset() {
        sqlite3_reset(stmt);
        sqlite3_clear_bindings(stmt);
      }
    } reset{stmt};
    Status status = BindAll(db_, stmt, params, sql);
    if (status.ok()) {
      const StatementRowView row(stmt, sqlite3_column_count(stmt));
      int rc;
      while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (!fn(row)) {
          rc = SQLITE_DONE;
          break;
        }
      }
      if (rc != SQLITE_DONE) status = MapError(sqlite3_extended_errcode(db_), db_, sql);
    }
    return status;
  }

  Status ExecScript(std::string_view sql) override {
    // sqlite3_exec needs a NUL-terminated string.
    const std::string script(sql);
    char* err = nullptr;
    const int rc = sqlite3_exec(db_, script.c_str(), nullptr, nullptr, &err);
    if (rc == SQLITE_OK) return Status::Ok();
    Status s = MapError(sqlite3_extended_errcode(db_), db_, {});
    sqlite3_free(err);
    return s.WithContext("script");
  }

  // Runs a parameterless statement through the statement cache (BEGIN, COMMIT on hot paths).
  Status Run(std::string_view sql) {
    ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(sql));
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    }
    Status status;
    if (rc != SQLITE_DONE) status = MapError(sqlite3_extended_errcode(db_), db_, sql);
    sqlite3_reset(stmt);
    return status;
  }

  Status Exec(const char* sql) {
    const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
    if (rc == SQLITE_OK) return Status::Ok();
    return MapError(sqlite3_extended_errcode(db_), db_, sql);
  }

  StatusOr<sqlite3_stmt*> Prepare(std::string_view sql) {
    auto it = statements_.find(sql);
    if (it != statements_.end()) return it->second;
    if (statements_.size() >= kMaxCachedStatements) {
      for (auto& [text, stmt] : statements_) sqlite3_finalize(stmt);
      statements_.clear();
    }
    const std::string rewritten = RewritePlaceholders(sql);
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    const int rc = sqlite3_prepare_v3(db_, rewritten.data(), static_cast<int>(rewritten.size()),
                                      SQLITE_PREPARE_PERSISTENT, &stmt, &tail);
    if (rc != SQLITE_OK) return MapError(sqlite3_extended_errcode(db_), db_, sql);
    if (stmt == nullptr) return InvalidArgumentError("sqlite: empty statement");
    for (const char* p = tail; p != nullptr && *p != '\0'; ++p) {
      if (*p != ' ' && *p != '\n' && *p != '\t' && *p != '\r' && *p != ';') {
        sqlite3_finalize(stmt);
        return InvalidArgumentError("sqlite: more than one statement in Query (use ExecScript): " +
                                    SqlExcerpt(sql));
      }
    }
    statements_.emplace(std::string(sql), stmt);
    return stmt;
  }

 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*, StringHash, std::equal_to<>> statements_;
};

using SqliteConnectionPtr = std::unique_ptr<SqliteConnection>;

// What a connection is opened for. A checkpoint-only connection skips the pragmas: the first of
// them that needs the schema makes SQLite parse all of it (~5 M instructions at start-up), and a
// checkpoint needs none of it (its syncing in WAL mode is the same under the default
// synchronous=FULL as under NORMAL).
enum class ConnectionUse { kQueries, kCheckpointOnly };

StatusOr<SqliteConnectionPtr> OpenConnection(const std::string& target, bool uri, bool create,
                                             const DatabaseSettings& settings,
                                             ConnectionUse use = ConnectionUse::kQueries) {
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  if (create) flags |= SQLITE_OPEN_CREATE;
  if (uri) flags |= SQLITE_OPEN_URI;
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(target.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    Status s = UnavailableError(std::string("sqlite: cannot open ") + target + ": " +
                                (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
    sqlite3_close_v2(db);
    return s;
  }
  auto conn = std::make_unique<SqliteConnection>(db);
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, settings.busy_timeout_ms);
  if (use == ConnectionUse::kCheckpointOnly) return conn;
  RETURN_IF_ERROR(conn->Exec("PRAGMA foreign_keys = ON"));
  RETURN_IF_ERROR(conn->Exec("PRAGMA synchronous = NORMAL"));
  RETURN_IF_ERROR(conn->Exec("PRAGMA temp_store = MEMORY"));
  RETURN_IF_ERROR(conn->Exec("PRAGMA cache_size = -32768"));
  // No memory-mapped I/O: in WAL mode a connection that sees another connection's commit drops
  // its page cache and unmaps the whole mapping, so under a stream of writes every read paid a
  // munmap (TLB shootdowns across cores) and fresh page faults. Reads without it cost the same
  // (orders-list) and deliveries got ~40 % cheaper (docs/performance.md, issue 3).
  return conn;
}

std::atomic<uint64_t> next_instance{1};

// The reader connection this thread used last, and the database it belongs to. Instances are
// numbered, never reused, so a stale entry of a destroyed database can never match.
struct ThreadReader {
  uint64_t instance = 0;
  SqliteConnection* conn = nullptr;
};
thread_local ThreadReader tl_reader;
// The database whose Write() this thread is inside (0 = none).
thread_local uint64_t tl_writing = 0;

class SqliteDatabase;

class SqliteBulkLoader final : public BulkLoader {
 public:
  SqliteBulkLoader(SqliteConnectionPtr conn, std::atomic<bool>* active)
      : conn_(std::move(conn)), active_(active) {}
  ~SqliteBulkLoader() override {
    if (in_txn_) (void)conn_->Exec("ROLLBACK");
    stmt_ = nullptr;
    conn_.reset();
    active_->store(false);
  }

  // store::BulkLoader
  Status Begin(std::string_view table, std::vector<std::string> columns) override {
    if (!IsIdentifier(table)) return InvalidArgumentError("bulk load: bad table name");
    if (columns.empty()) return InvalidArgumentError("bulk load: no columns");
    std::string sql = "INSERT INTO " + std::string(table) + " (";
    std::string values;
    for (size_t i = 0; i < columns.size(); ++i) {
      if (!IsIdentifier(columns[i])) {
        return InvalidArgumentError("bulk load: bad column name '" + columns[i] + "'");
      }
      if (i > 0) {
        sql += ", ";
        values += ", ";
      }
      sql += columns[i];
      values += "?" + std::to_string(i + 1);
    }
    sql += ") VALUES (" + values + ")";
    stmt_ = nullptr;
    ASSIGN_OR_RETURN(stmt_, conn_->Prepare(sql));
    sql_ = std::move(sql);
    ncols_ = columns.size();
    return Status::Ok();
  }

  Status Append(std::span<const Value> row) override {
    if (stmt_ == nullptr) return FailedPreconditionError("bulk load: Append before Begin");
    if (row.size() != ncols_) {
      return InvalidArgumentError("bulk load: row has " + std::to_string(row.size()) +
                                  " values, table takes " + std::to_string(ncols_));
    }
    if (!in_txn_) {
      RETURN_IF_ERROR(conn_->Exec("BEGIN IMMEDIATE"));
      in_txn_ = true;
    }
    RETURN_IF_ERROR(BindAll(conn_->handle(), stmt_, row, sql_));
    ASSIGN_OR_RETURN(ResultSet ignored, StepAll(conn_->handle(), stmt_, sql_));
    if (++rows_in_txn_ >= kBulkBatchRows) return Commit();
    return Status::Ok();
  }

  Status Finish() override { return in_txn_ ? Commit() : Status::Ok(); }

 private:
  Status Commit() {
    Status s = conn_->Exec("COMMIT");
    if (!s.ok()) (void)conn_->Exec("ROLLBACK");
    in_txn_ = false;
    rows_in_txn_ = 0;
    return s;
  }

  SqliteConnectionPtr conn_;
  std::atomic<bool>* active_;
  sqlite3_stmt* stmt_ = nullptr;  // owned by conn_'s statement cache
  std::string sql_;
  size_t ncols_ = 0;
  bool in_txn_ = false;
  int64_t rows_in_txn_ = 0;
};

class SqliteDatabase final : public Database {
 public:
  // `checkpoint_conn`: a connection of its own for the checkpointer (null for :memory:).
  SqliteDatabase(std::string target, bool uri, bool memory, DatabaseSettings settings,
                 SqliteConnectionPtr writer, SqliteConnectionPtr checkpoint_conn)
      : target_(std::move(target)),
        uri_(uri),
        memory_(memory),
        settings_(std::move(settings)),
        writer_(std::move(writer)),
        instance_(next_instance.fetch_add(1)),
        checkpoint_conn_(std::move(checkpoint_conn)) {
    if (checkpoint_conn_ != nullptr) {
      // Checkpoints (page copies and an fsync, easily 100 ms on a busy disk) move off the
      // committing request to a thread of their own: the writer's hook only signals it.
      sqlite3_wal_hook(writer_->handle(), &SqliteDatabase::OnWalCommit, this);
      checkpointer_ = std::thread([this] { RunCheckpointer(); });
    }
  }

  ~SqliteDatabase() override {
    if (checkpointer_.joinable()) {
      {
        std::lock_guard lock(checkpoint_mu_);
        checkpoint_stop_ = true;
      }
      checkpoint_cv_.notify_one();
      checkpointer_.join();
    }
    {
      std::lock_guard lock(readers_mu_);
      readers_.clear();
    }
    // SQLite's advice for long-lived connections: refresh statistics the planner lacks on close.
    WriterLock lock(*this);
    if (lock.Acquire().ok()) (void)writer_->Exec("PRAGMA optimize");
  }

  // store::Database
  Dialect dialect() const override { return Dialect::kSqlite; }

  Status Read(const std::function<Status(Connection&)>& fn) override {
    if (memory_) {
      if (tl_writing == instance_) return fn(*writer_);
      WriterLock lock(*this);
      RETURN_IF_ERROR(lock.Acquire());
      InUse guard(in_use_);
      return fn(*writer_);
    }
    ASSIGN_OR_RETURN(SqliteConnection * conn, ThisThreadReader());
    InUse guard(in_use_);
    // One read transaction around the callback: all its statements see one snapshot (a page and
    // the rows it refers to agree), and the WAL read lock is taken once instead of per statement.
    // A Read() nested in a Read() on this thread simply joins the outer transaction.
    if (sqlite3_get_autocommit(conn->handle()) == 0) return fn(*conn);
    RETURN_IF_ERROR(conn->Run("BEGIN"));
    // Ends the transaction even if fn throws, so no later Read() joins a stale snapshot. A
    // read-only transaction: COMMIT only releases the snapshot; should it fail, ROLLBACK does.
    struct Snapshot {
      SqliteConnection* conn;
      ~Snapshot() {
        if (!conn->Run("COMMIT").ok()) (void)conn->Exec("ROLLBACK");
      }
    } snapshot{conn};
    return fn(*conn);
  }

  Status ReadOnce(const std::function<Status(Connection&)>& fn) override {
    if (memory_ || tl_reader.instance == instance_ || tl_writing == instance_) return Read(fn);
    WriterLock lock(*this);
    RETURN_IF_ERROR(lock.Acquire());
    InUse guard(in_use_);
    RETURN_IF_ERROR(writer_->Exec("PRAGMA query_only = 1"));
    // The writer is writable again whatever fn does, and its snapshot released.
    struct ReadOnly {
      SqliteConnection* conn;
      bool begun = false;
      ~ReadOnly() {
        if (begun && !conn->Run("COMMIT").ok()) (void)conn->Exec("ROLLBACK");
        (void)conn->Exec("PRAGMA query_only = 0");
      }
    } read_only{writer_.get()};
    RETURN_IF_ERROR(writer_->Run("BEGIN"));
    read_only.begun = true;
    return fn(*writer_);
  }

  Status Write(const std::function<Status(Connection&)>& fn) override {
    if (tl_writing == instance_) {
      return FailedPreconditionError("sqlite: Write() called inside Write() on the same thread");
    }
    WriterLock lock(*this);
    RETURN_IF_ERROR(lock.Acquire());
    InUse guard(in_use_);
    RETURN_IF_ERROR(writer_->Run("BEGIN IMMEDIATE"));
    // Rolls back if fn throws, so the writer is never left inside a transaction.
    struct Txn {
      SqliteConnection* conn;
      bool done = false;
      ~Txn() {
        tl_writing = 0;
        if (!done) (void)conn->Exec("ROLLBACK");
      }
    } txn{writer_.get()};
    tl_writing = instance_;
    Status s = fn(*writer_);
    tl_writing = 0;
    if (!s.ok()) return s;
    Status c = writer_->Run("COMMIT");
    if (!c.ok()) return c.WithContext("commit");
    txn.done = true;
    return Status::Ok();
  }

  Status Ping() override {
    return Read([](Connection& c) -> Status {
      ASSIGN_OR_RETURN(ResultSet rs, c.Query("SELECT 1"));
      if (rs.rows.size() != 1) return InternalError("sqlite: SELECT 1 returned no row");
      return Status::Ok();
    });
  }

  PoolStats Stats() const override {
    PoolStats stats;
    {
      std::lock_guard lock(readers_mu_);
      stats.size = 1 + static_cast<int>(readers_.size());
    }
    stats.in_use = in_use_.load(std::memory_order_relaxed);
    return stats;
  }

  StatusOr<std::unique_ptr<BulkLoader>> NewBulkLoader() override {
    if (memory_) {
      return UnimplementedError("sqlite: bulk loading needs a file database, not :memory:");
    }
    bool expected = false;
    if (!loader_active_.compare_exchange_strong(expected, true)) {
      return FailedPreconditionError("sqlite: a bulk loader is already open");
    }
    auto conn = OpenConnection(target_, uri_, false, settings_);
    // Index pages of the tables being filled stay in memory across a 50k-row batch.
    if (conn.ok()) {
      Status s = (*conn)->Exec("PRAGMA cache_size = -262144");
      if (!s.ok()) conn = s;
    }
    if (!conn.ok()) {
      loader_active_ = false;
      return conn.status();
    }
    return std::unique_ptr<BulkLoader>(
        std::make_unique<SqliteBulkLoader>(std::move(*conn), &loader_active_));
  }

 private:
  struct InUse {
    explicit InUse(std::atomic<int>& n) : n_(n) { n_.fetch_add(1, std::memory_order_relaxed); }
    ~InUse() { n_.fetch_sub(1, std::memory_order_relaxed); }
    std::atomic<int>& n_;
  };

  // Ownership of the writer connection, waited for at most acquire_timeout_ms. A flag under a
  // mutex and condition variable rather than std::timed_mutex, whose timed lock ThreadSanitizer
  // (GCC 12) does not model.
  class WriterLock {
   public:
    explicit WriterLock(SqliteDatabase& db) : db_(db) {}
    ~WriterLock() {
      if (!held_) return;
      {
        std::lock_guard lock(db_.writer_mu_);
        db_.writer_busy_ = false;
      }
      db_.writer_cv_.notify_one();
    }
    Status Acquire() {
      std::unique_lock lock(db_.writer_mu_);
      const auto timeout = std::chrono::milliseconds(db_.settings_.acquire_timeout_ms);
      if (!db_.writer_cv_.wait_for(lock, timeout, [&] { return !db_.writer_busy_; })) {
        return UnavailableError("sqlite: the writer stayed busy for " +
                                std::to_string(db_.settings_.acquire_timeout_ms) + " ms");
      }
      db_.writer_busy_ = true;
      held_ = true;
      return Status::Ok();
    }

   private:
    SqliteDatabase& db_;
    bool held_ = false;
  };

  // sqlite3_wal_hook callback, on the writer's thread right after a commit. Once a checkpoint
  // has copied everything, the next writer restarts the log and, at synchronous=NORMAL, syncs
  // its header on the request's thread; a large checkpoint_pages makes that rare (rfid-verify
  // deliveries at 1 000/s: p99 from ~11 ms at 1 000 pages to 2.5-5 ms at 8 000), and readers pay
  // little for the longer log (the WAL index is a hash table).
  static int OnWalCommit(void* self, sqlite3* handle, const char* schema, int wal_pages) {
    auto* db = static_cast<SqliteDatabase*>(self);
    if (wal_pages >= db->settings_.writer_checkpoint_pages) {
      (void)sqlite3_wal_checkpoint_v2(handle, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
      return SQLITE_OK;
    }
    if (wal_pages >= db->settings_.checkpoint_pages) {
      {
        std::lock_guard lock(db->checkpoint_mu_);
        db->checkpoint_wanted_ = true;
      }
      db->checkpoint_cv_.notify_one();
    }
    return SQLITE_OK;
  }

  // PASSIVE checkpoints never wait for readers or the writer; what they cannot copy yet the next
  // one does. On its own connection, so no request's connection is ever busy with one.
  void RunCheckpointer() {
    // Background priority: a checkpoint is mostly kernel work submitting page writes, and at
    // normal priority, woken by a commit, it preempted request threads on a 2-core machine.
    // SCHED_BATCH is never favoured on wakeup; nice 19 yields the CPU to request threads.
    // Best effort: if the system refuses, the thread simply keeps the default priority.
    const sched_param batch{};
    (void)pthread_setschedparam(pthread_self(), SCHED_BATCH, &batch);
    (void)setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 19);
    // The connection was opened without its pragmas (kCheckpointOnly), so it has not read the
    // file yet: a checkpoint then finds no WAL to copy. Reading the schema cookie opens the file
    // and its WAL without parsing the schema, here rather than on the start-up's path.
    bool opened = false;
    std::unique_lock lock(checkpoint_mu_);
    while (true) {
      checkpoint_cv_.wait(lock, [&] { return checkpoint_stop_ || checkpoint_wanted_; });
      if (checkpoint_stop_) return;
      checkpoint_wanted_ = false;
      lock.unlock();
      if (!opened) opened = checkpoint_conn_->Exec("PRAGMA schema_version").ok();
      int log_pages = 0;
      int copied_pages = 0;
      // An error (SQLITE_BUSY from a cross-process lock, I/O) leaves the WAL as it was; the
      // next commit over the threshold asks again.
      (void)sqlite3_wal_checkpoint_v2(checkpoint_conn_->handle(), nullptr,
                                      SQLITE_CHECKPOINT_PASSIVE, &log_pages, &copied_pages);
      lock.lock();
    }
  }

  StatusOr<SqliteConnection*> ThisThreadReader() {
    if (tl_reader.instance == instance_) return tl_reader.conn;
    const std::thread::id me = std::this_thread::get_id();
    std::lock_guard lock(readers_mu_);
    auto it = readers_.find(me);
    if (it == readers_.end()) {
      ASSIGN_OR_RETURN(SqliteConnectionPtr conn, OpenConnection(target_, uri_, false, settings_));
      RETURN_IF_ERROR(conn->Exec("PRAGMA query_only = 1"));
      it = readers_.emplace(me, std::move(conn)).first;
    }
    tl_reader = {instance_, it->second.get()};
    return it->second.get();
  }

  const std::string target_;
  const bool uri_;
  const bool memory_;
  const DatabaseSettings settings_;
  std::mutex writer_mu_;
  std::condition_variable writer_cv_;
  bool writer_busy_ = false;    // GUARDED_BY(writer_mu_)
  SqliteConnectionPtr writer_;  // used only by the holder of a WriterLock
  mutable std::mutex readers_mu_;
  std::map<std::thread::id, SqliteConnectionPtr> readers_;  // GUARDED_BY(readers_mu_)
  std::atomic<int> in_use_{0};
  std::atomic<bool> loader_active_{false};
  const uint64_t instance_;
  const SqliteConnectionPtr checkpoint_conn_;  // used only by checkpointer_
  std::mutex checkpoint_mu_;
  std::condition_variable checkpoint_cv_;
  bool checkpoint_wanted_ = false;  // GUARDED_BY(checkpoint_mu_)
  bool checkpoint_stop_ = false;    // GUARDED_BY(checkpoint_mu_)
  std::thread checkpointer_;
};

}  // namespace

std::string RewritePlaceholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size());
  size_t i = 0;
  const size_t n = sql.size();
  auto copy_until = [&](std::string_view end) {
    const size_t stop = sql.find(end, i);
    const size_t to = stop == std::string_view::npos ? n : stop + end.size();
    out.append(sql.substr(i, to - i));
    i = to;
  };
  while (i < n) {
    const char c = sql[i];
    if (c == '\'' || c == '"' || c == '`') {
      // A doubled quote inside a literal is an escaped quote: the scan simply resumes there.
      out += c;
      ++i;
      copy_until(std::string_view(&c, 1));
    } else if (c == '-' && i + 1 < n && sql[i + 1] == '-') {
      copy_until("\n");
    } else if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
      out += "/*";
      i += 2;
      copy_until("*/");
    } else if (c == '$' && i + 1 < n && sql[i + 1] >= '0' && sql[i + 1] <= '9') {
      out += '?';
      ++i;
      while (i < n && sql[i] >= '0' && sql[i] <= '9') out += sql[i++];
    } else {
      out += c;
      ++i;
    }
  }
  return out;
}

StatusOr<DatabasePtr> OpenSqliteDatabase(const DatabaseSettings& settings) {
  constexpr std::string_view kScheme = "sqlite:";
  std::string_view url = settings.url;
  if (url.substr(0, kScheme.size()) != kScheme) {
    return InvalidArgumentError("sqlite: URL must start with 'sqlite:'");
  }
  const std::string path(url.substr(kScheme.size()));
  if (path.empty()) return InvalidArgumentError("sqlite: URL has no path (sqlite:/path/to/db)");
  if (path.find('\0') != std::string::npos) return InvalidArgumentError("sqlite: NUL in path");
  if (settings.busy_timeout_ms < 0 || settings.acquire_timeout_ms < 0) {
    return InvalidArgumentError("sqlite: timeouts must not be negative");
  }
  if (settings.checkpoint_pages < 1 || settings.writer_checkpoint_pages < 1) {
    return InvalidArgumentError("sqlite: checkpoint thresholds must be positive");
  }
  if (sqlite3_threadsafe() == 0) return InternalError("sqlite: library built without threads");
  const bool memory = path == ":memory:";
  const bool uri = path.rfind("file:", 0) == 0;

  ASSIGN_OR_RETURN(SqliteConnectionPtr writer, OpenConnection(path, uri, true, settings));
  if (!memory) {
    ASSIGN_OR_RETURN(ResultSet mode, writer->Query("PRAGMA journal_mode = WAL", {}));
    if (mode.rows.empty() || mode.rows[0].Text(0) != "wal") {
      return UnavailableError("sqlite: cannot switch " + path + " to WAL mode");
    }
  }
  SqliteConnectionPtr checkpoint_conn;
  if (!memory) {
    ASSIGN_OR_RETURN(checkpoint_conn,
                     OpenConnection(path, uri, false, settings, ConnectionUse::kCheckpointOnly));
  }
  return DatabasePtr(std::make_unique<SqliteDatabase>(
      path, uri, memory, settings, std::move(writer), std::move(checkpoint_conn)));
}

}  // namespace hasivu::store::sqlite
