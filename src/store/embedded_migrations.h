// The migration SQL files of store/migrations/, compiled into the binary at build time (the
// build generates embedded_migrations.cc from them; nothing is read from disk at run time).
//
// Internal to store/: code elsewhere uses Migrate() and ListMigrations() of migrations.h.
#ifndef HASIVU_STORE_EMBEDDED_MIGRATIONS_H_
#define HASIVU_STORE_EMBEDDED_MIGRATIONS_H_

#include <span>

#include "store/database.h"

namespace hasivu::store::internal {

struct EmbeddedMigration {
  int version;       // NNNN of the file name
  const char* name;  // the rest of the file name, without ".sql"
  const char* sql;   // the whole file
};

// The migrations of `dialect`, ascending by version. Static storage.
std::span<const EmbeddedMigration> EmbeddedMigrations(Dialect dialect);

}  // namespace hasivu::store::internal

#endif  // HASIVU_STORE_EMBEDDED_MIGRATIONS_H_
