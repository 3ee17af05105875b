// The SQLite backend of store::Database (the embedded default store).
//
// A file database runs in WAL mode with synchronous=NORMAL, foreign_keys=ON and a busy timeout.
// Writes go through one writer connection behind a mutex: Write() takes it (waiting at most
// settings.acquire_timeout_ms, then kUnavailable), runs BEGIN IMMEDIATE, `fn`, COMMIT or
// ROLLBACK. Reads run on a reader connection of the calling thread (opened on the thread's first
// Read(), PRAGMA query_only=1), so readers never wait for the writer or for each other. Reader
// connections live until the Database is destroyed, one per thread that ever read: use it from a
// fixed set of threads (the server's workers), not from a stream of short-lived ones.
//
// Checkpoints: a file database's writer never runs SQLite's automatic checkpoint. Past
// settings.checkpoint_pages WAL pages a commit wakes a background thread (its own connection,
// SCHED_BATCH at nice 19) that runs PASSIVE checkpoints; past settings.writer_checkpoint_pages
// the committing writer checkpoints itself, so the log stays bounded if that thread is starved.
//
// "sqlite::memory:" is one private in-memory database on a single connection: Read() and Write()
// both use it, serialised by the writer mutex. Meant for tests and tools.
//
// Statements: `$N` placeholders are rewritten to `?N` (outside string literals, quoted
// identifiers and comments), prepared once per connection with SQLITE_PREPARE_PERSISTENT and
// cached keyed by the caller's SQL text. The number of parameters must equal the highest $N.
// Binding: int64, double, text as given, bool as 0/1, monostate as NULL. Results: INTEGER as
// decimal, REAL as SQLite prints it, TEXT/BLOB as stored, NULL as nullopt.
//
// Errors: SQLITE_CONSTRAINT_UNIQUE/PRIMARYKEY -> kAlreadyExists; other SQLITE_CONSTRAINT_* ->
// kFailedPrecondition; SQLITE_BUSY/LOCKED (another process holds the lock beyond the busy
// timeout) -> kUnavailable; I/O, CANTOPEN -> kUnavailable; NOMEM -> kResourceExhausted;
// anything else (SQL errors, a write inside Read(), wrong parameter count) -> kInternal or
// kInvalidArgument. The disk refusing a write is kUnavailable with a reason (the API's error
// code; the message stays operator text, not marked for clients): "STORAGE_FULL" for
// SQLITE_FULL and an I/O error whose errno is ENOSPC, EDQUOT or EFBIG (the file size limit);
// "STORAGE_READ_ONLY" for an I/O error with EROFS and SQLITE_READONLY_* of a file SQLite could
// open only read-only. What was committed stays; the failed transaction is rolled back, and
// writes succeed again once space is freed, without reopening. Messages carry SQLite's message
// and the start of the SQL, never parameters.
//
// BulkLoader: its own connection with a large page cache, committing every 50 000 rows (and at
// Finish()); it must not outlive the Database. Not available for "sqlite::memory:".
//
// Nesting: Write() inside Write() on one thread answers kFailedPrecondition instead of
// deadlocking; Read() inside Write() reads committed data through the thread's reader (on a
// memory database: the writer's own connection).
//
// Thread-safety: the Database is thread-safe; see database.h for Connection and BulkLoader.
#ifndef HASIVU_STORE_SQLITE_SQLITE_DATABASE_H_
#define HASIVU_STORE_SQLITE_SQLITE_DATABASE_H_

#include <string>
#include <string_view>

#include "common/status.h"
#include "store/database.h"

namespace hasivu::store::sqlite {

// Opens settings.url: "sqlite:<path>" (a file, created if missing; "sqlite:file:...?..." is
// passed to SQLite as a URI) or "sqlite::memory:". Errors: kInvalidArgument for another scheme,
// an empty path or settings out of range; kUnavailable if the file cannot be opened or put into
// WAL mode.
StatusOr<DatabasePtr> OpenSqliteDatabase(const DatabaseSettings& settings);

// Exposed for tests: `sql` with every $N outside literals, quoted identifiers and comments
// replaced by ?N.
std::string RewritePlaceholders(std::string_view sql);

}  // namespace hasivu::store::sqlite

#endif  // HASIVU_STORE_SQLITE_SQLITE_DATABASE_H_
