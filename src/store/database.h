// Database: the SQL access layer every store backend implements (SQLite, PostgreSQL).
//
// SQL given to a Connection is written once for both dialects, with PostgreSQL-style positional
// placeholders ($1, $2, ...); the SQLite backend rewrites them. Statements are prepared on first
// use and kept per connection, keyed by their text, so callers pass constant SQL strings.
// Results come back as text cells (NULL = std::nullopt): integers as decimal, booleans as "1"/"0",
// instants as RFC 3339 UTC ("2026-11-27T13:25:21.123456Z"), dates as "YYYY-MM-DD", whatever the
// backend, so code above this layer never sees a dialect.
//
// Portable SQL: no "::" casts (write CAST(x AS type)), positional $N placeholders only, and a
// parameter whose type PostgreSQL cannot infer from context needs a CAST.
//
// Thread-safety: a Database is safe to use from any number of threads. A Connection is handed to
// one callback at a time and must not escape it.
#ifndef HASIVU_STORE_DATABASE_H_
#define HASIVU_STORE_DATABASE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"
#include "metrics/metrics.h"

namespace hasivu::store {

enum class Dialect { kSqlite, kPostgresql };
std::string_view DialectName(Dialect d);  // "sqlite" | "postgresql"

// A bound parameter. std::monostate is SQL NULL. Instants and dates are bound as text in the
// forms above; booleans as bool.
using Value = std::variant<std::monostate, int64_t, double, bool, std::string>;

// One result row: text cells, NULL = nullopt. Getters REQUIRE col < size().
class Row {
 public:
  explicit Row(std::vector<std::optional<std::string>> cells) : cells_(std::move(cells)) {}
  size_t size() const { return cells_.size(); }
  bool IsNull(size_t col) const { return !cells_[col].has_value(); }
  // "" for NULL.
  const std::string& Text(size_t col) const;
  std::optional<std::string> OptText(size_t col) const { return cells_[col]; }
  // 0 for NULL or non-numeric text.
  int64_t Int(size_t col) const;
  double Double(size_t col) const;
  // true for "1", "t", "true".
  bool Bool(size_t col) const;

 private:
  std::vector<std::optional<std::string>> cells_;
};

// A row seen through Connection::QueryEach: the cells are views valid only until the callback
// returns (the same text forms as Row). Getters REQUIRE col < size().
class RowView {
 public:
  virtual ~RowView() = default;
  virtual size_t size() const = 0;
  virtual bool IsNull(size_t col) const = 0;
  // "" for NULL.
  virtual std::string_view Text(size_t col) const = 0;
  std::optional<std::string> OptText(size_t col) const;
  // 0 for NULL or non-numeric text.
  int64_t Int(size_t col) const;
};

struct ResultSet {
  std::vector<std::string> columns;
  std::vector<Row> rows;
  int64_t rows_affected = 0;  // for INSERT/UPDATE/DELETE
  bool empty() const { return rows.empty(); }
};

// A connection of the pool, lent to one callback at a time.
class Connection {
 public:
  virtual ~Connection() = default;
  virtual Dialect dialect() const = 0;
  // Runs one statement. Errors: kAlreadyExists on a unique violation, kFailedPrecondition on
  // other constraint violations, kAborted on a serialization failure or deadlock (retryable),
  // kUnavailable when the server cannot be reached, kInternal otherwise.
  virtual StatusOr<ResultSet> Query(std::string_view sql, std::span<const Value> params = {}) = 0;
  // Runs one statement like Query() and hands each row to `fn` in turn without collecting a
  // ResultSet (hot reads build their own structures straight from the cells). `fn` returns false
  // to stop early; the rest of the rows are then never produced. The default implementation
  // runs Query() and walks its rows; a backend may stream.
  virtual Status QueryEach(std::string_view sql, std::span<const Value> params,
                           const std::function<bool(const RowView&)>& fn);
  // Runs a script of several statements without parameters (migrations). Not prepared.
  virtual Status ExecScript(std::string_view sql) = 0;
};

// Appends many rows to tables fast (SQLite: one prepared INSERT in large transactions;
// PostgreSQL: COPY). Used by seeding; not for request paths. Not thread-safe.
class BulkLoader {
 public:
  virtual ~BulkLoader() = default;
  // Starts (or switches to) loading `table` with these columns; flushes the previous table.
  virtual Status Begin(std::string_view table, std::vector<std::string> columns) = 0;
  // REQUIRES: row.size() == number of columns given to Begin.
  virtual Status Append(std::span<const Value> row) = 0;
  // Writes and commits everything appended. Must be called; the destructor discards.
  virtual Status Finish() = 0;
};

struct PoolStats {
  int size = 0;    // connections the pool may hold
  int in_use = 0;  // lent out right now
};

class Database {
 public:
  virtual ~Database() = default;
  virtual Dialect dialect() const = 0;

  // Runs `fn` with a connection for reads only (SQLite: this thread's reader connection,
  // query_only; PostgreSQL: a pooled connection, autocommit). Blocks while the pool is empty,
  // up to the pool's acquire timeout (then kUnavailable).
  virtual Status Read(const std::function<Status(Connection&)>& fn) = 0;

  // Read() for a thread that reads once or twice and not again (the start-up's checks, a
  // command-line tool). SQLite: unless this thread has a reader connection already, runs `fn` on
  // the writer connection, query_only and in a read transaction, waiting for the writer like
  // Write(): every new SQLite connection parses the whole schema on first use (~5 M
  // instructions, a third of a cold start; docs/performance.md), which a reader opened for the
  // main thread's start-up checks paid and never used again. Elsewhere the same as Read().
  virtual Status ReadOnce(const std::function<Status(Connection&)>& fn) { return Read(fn); }

  // Runs `fn` in one transaction: committed if fn returns OK, rolled back otherwise (its status
  // is returned). SQLite: the single writer connection, BEGIN IMMEDIATE (writers queue on a
  // mutex, so SQLITE_BUSY is not seen). PostgreSQL: READ COMMITTED on a pooled connection.
  virtual Status Write(const std::function<Status(Connection&)>& fn) = 0;

  // A cheap round trip (SELECT 1). kUnavailable if the database cannot be reached.
  virtual Status Ping() = 0;

  virtual PoolStats Stats() const = 0;

  // A loader that writes through its own connection. One at a time.
  virtual StatusOr<std::unique_ptr<BulkLoader>> NewBulkLoader() = 0;
};

using DatabasePtr = std::unique_ptr<Database>;

// Settings for OpenDatabase(). Plain struct; app/ fills it from configuration.
struct DatabaseSettings {
  // "sqlite:/path/to/file.db", "sqlite::memory:" or a libpq URI "postgresql://..." /
  // "postgres://...".
  std::string url;
  // PostgreSQL: the most connections the pool opens. Default: 8.
  int pool_size = 8;
  // How long Read/Write wait for a free connection before kUnavailable. Default: 2000 ms.
  int acquire_timeout_ms = 2000;
  // SQLite: busy timeout for the rare cross-process lock wait. Default: 5000 ms.
  int busy_timeout_ms = 5000;
  // PostgreSQL: connect timeout. Default: 3 s.
  int connect_timeout_s = 3;
  // SQLite file databases: WAL pages after which a background thread checkpoints the log into
  // the database file (PASSIVE: never waits for readers or the writer). Default: 8000 (32 MiB of
  // 4 KiB pages; SQLite's own automatic checkpoint runs at 1000, inside the committing write).
  int checkpoint_pages = 8000;
  // SQLite file databases: should the log reach this many pages anyway (the background thread
  // runs at the lowest CPU priority and a saturated machine can starve it), the committing writer
  // checkpoints itself, as SQLite's own automatic checkpoint would. Default: 64000 (~256 MiB).
  int writer_checkpoint_pages = 64000;
  // PostgreSQL: where the pool records how long each Read/Write waited for a connection
  // (hasivu_db_pool_wait_seconds, zero when one was idle) and how long it then held it
  // (hasivu_db_pool_hold_seconds: the callback and, for a Write, BEGIN and COMMIT). Not owned;
  // outlives the database. Default: none, nothing recorded.
  metrics::Registry* registry = nullptr;
};

}  // namespace hasivu::store

#endif  // HASIVU_STORE_DATABASE_H_
