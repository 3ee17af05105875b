// OpenDatabase(): the one place that knows every store backend (library hasivu_store_backends).
// app/ calls it with the configured URL; nothing else names a backend.
#ifndef HASIVU_STORE_OPEN_DATABASE_H_
#define HASIVU_STORE_OPEN_DATABASE_H_

#include <cstdint>

#include "common/status.h"
#include "store/database.h"

namespace hasivu::store {

// Opens the backend named by the scheme of settings.url: "sqlite:<path>" / "sqlite::memory:"
// -> SQLite; "postgresql://..." / "postgres://..." -> PostgreSQL. Does not migrate (see
// migrations.h). Errors: kInvalidArgument with a one-line reason for an unknown scheme or a
// malformed URL; otherwise the backend's error (kUnavailable if it cannot be reached).
StatusOr<DatabasePtr> OpenDatabase(const DatabaseSettings& settings);

// The heap the embedded engine (SQLite) holds in this process now, its connections' page caches
// (at most their cache_size each) and prepared statements included: sqlite3_memory_used(). 0
// while no SQLite database is open; a server on PostgreSQL holds next to nothing here (that
// engine's caches are in its own server). Thread-safe.
int64_t EmbeddedEngineMemoryBytes();

}  // namespace hasivu::store

#endif  // HASIVU_STORE_OPEN_DATABASE_H_
