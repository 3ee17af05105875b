// Schema migrations (architecture decision 2): versioned SQL files per dialect in
// store/migrations/{sqlite,postgresql}/NNNN_name.sql, embedded into the binary at build time,
// applied in version order and recorded in the table
//   schema_migrations(version INTEGER PRIMARY KEY, name TEXT, checksum TEXT, applied_at instant).
//
// Migrate() is safe to run twice and from several processes at once: each pending version is
// applied in one Write() transaction together with its schema_migrations row (PostgreSQL takes a
// transaction-scoped advisory lock first; SQLite's single writer serialises by itself), and a
// version another process applied meanwhile is skipped. A database that already has versions
// this binary does not know (a newer binary migrated it) is accepted: migrations only add, so an
// older binary keeps working during a rolling upgrade.
//
// Thread-safety: the functions are thread-safe as far as the Database is.
#ifndef HASIVU_STORE_MIGRATIONS_H_
#define HASIVU_STORE_MIGRATIONS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/database.h"

namespace hasivu::store {

struct AppliedMigration {
  int version = 0;
  std::string name;
  std::string applied_at;  // RFC 3339 UTC, as every instant of the store
};

// Applies every embedded migration the database lacks, in version order, then recreates any
// index a crashed bulk load left deferred (maintenance.h). If `applied_versions`
// is given it receives the versions this call applied (empty when the schema was up to date).
// Errors: kFailedPrecondition if an applied version's SQL differs from the embedded one (the
// file was edited after it shipped: write a new version instead); the backend's error, with the
// version as context, if a migration fails (that version's transaction is rolled back).
Status Migrate(Database& db, std::vector<int>* applied_versions = nullptr);

// The versions recorded in schema_migrations, ascending; empty for a database never migrated.
StatusOr<std::vector<AppliedMigration>> ListMigrations(Database& db);

// The newest version embedded for `dialect` (what Migrate() brings a database to).
int LatestMigrationVersion(Dialect dialect);

}  // namespace hasivu::store

#endif  // HASIVU_STORE_MIGRATIONS_H_
