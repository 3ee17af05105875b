// The PostgreSQL backend of store::Database, over libpq.
//
// OpenPostgresDatabase() returns a Database with a bounded pool of at most settings.pool_size
// connections, opened lazily (one is opened at start to fail fast on a bad URL or an unreachable
// server). Each connection is set up with TimeZone 'UTC', DateStyle 'ISO', client_encoding UTF8
// and application_name "hasivu" (unless the URL names one); URL options such as
// `?options=-csearch_path%3Dmy_schema` are honoured.
//
// Calls are synchronous: the HTTP server runs database routes on its bounded blocking pool
// (see DESIGN.md beside this file), so a Read/Write blocks only that worker thread.
//
// Statements are prepared per connection on first use (keyed by SQL text) and executed with text
// parameters: int64 as decimal, double as %.17g, bool as "true"/"false", strings as given
// (a string holding a NUL byte is refused with kInvalidArgument), monostate as NULL.
// Result cells follow the text contract of database.h: booleans "1"/"0", timestamptz and
// timestamp "YYYY-MM-DDTHH:MM:SS.ffffffZ", dates "YYYY-MM-DD", everything else as PostgreSQL
// prints it.
//
// Errors, by SQLSTATE: 23505 -> kAlreadyExists; other 23xxx -> kFailedPrecondition;
// 40001/40P01 -> kAborted; 22xxx -> kInvalidArgument; 57014 -> kDeadlineExceeded;
// 08xxx (but 08P01), 57P01-57P03, 53300 and a lost connection -> kUnavailable; 53100 (disk full)
// and 25006 (a read-only transaction or server) -> kUnavailable with the reason STORAGE_FULL /
// STORAGE_READ_ONLY (the message not marked for clients); else kInternal. Messages are for logs
// (they carry PostgreSQL's primary message, never parameter values).
//
// Broken connections: a connection the server closed while it sat idle in the pool is noticed
// when it is lent out and replaced, so the next call succeeds. A connection that breaks during a
// call fails that call with kUnavailable (Write retries only its BEGIN, before `fn` ran) and is
// replaced for the next one.
//
// Deadlines: inside a ScopedDeadline (common/deadline.h; the HTTP server sets one per request)
// a Read/Write waits for nothing past it: not for a pooled connection (kUnavailable, as at the
// acquire timeout), not for a connect (the earlier of it and connect_timeout_s), not for an
// answer. A round trip still unanswered at the deadline fails the call with kUnavailable, and its
// connection, whose stream is then in an unknown state, is closed and replaced; once the deadline
// has passed nothing more is sent (Write's callback does not start). Without a scope the waits are
// the acquire and connect timeouts and TCP keepalives, which a peer that goes silent but still
// acknowledges (a stalled proxy or relay) never trips. Bulk loads (the seed) have no deadline.
//
// PostgreSQL aborts a whole transaction on the first failed statement: inside Write(), after a
// Query() error every further statement fails until rollback, so `fn` should return the error
// (or avoid it, e.g. INSERT ... ON CONFLICT). If `fn` returns OK anyway, the COMMIT turns into a
// rollback and Write() returns kInternal.
//
// The pool's behaviour, with settings.registry: every Read/Write records its wait for a
// connection (hasivu_db_pool_wait_seconds, zero when one was idle; the connect time when it
// opened one) and how long it held it (hasivu_db_pool_hold_seconds), so a pool that is too small
// shows as waits against holds.
//
// Thread-safety: the Database is thread-safe; see database.h for Connection and BulkLoader.
#ifndef HASIVU_STORE_POSTGRES_POSTGRES_DATABASE_H_
#define HASIVU_STORE_POSTGRES_POSTGRES_DATABASE_H_

#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "store/database.h"

namespace hasivu::store::postgres {

// Opens a pool for settings.url ("postgresql://..." or "postgres://..."). Errors:
// kInvalidArgument for a malformed URL or settings out of range (pool_size < 1,
// acquire_timeout_ms < 0, connect_timeout_s < 1); kUnavailable if the server cannot be reached.
StatusOr<DatabasePtr> OpenPostgresDatabase(const DatabaseSettings& settings);

// The pieces below are exposed for unit tests.

// The Status for an error with this SQLSTATE (five characters; anything else -> kInternal).
Status StatusFromSqlState(std::string_view sqlstate, std::string message);

// Rewrites one result cell of a column with type `type_oid` into the text contract.
// Values it does not recognise (e.g. 'infinity') are returned unchanged.
std::string NormalizeCell(unsigned type_oid, std::string_view text);

// Appends `value` to `out` in COPY text format (NULL as \N; \\, \t, \n, \r escaped).
// kInvalidArgument for a string holding a NUL byte, which COPY cannot carry.
Status AppendCopyValue(const Value& value, std::string& out);

}  // namespace hasivu::store::postgres

#endif  // HASIVU_STORE_POSTGRES_POSTGRES_DATABASE_H_
