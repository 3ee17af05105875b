#include "store/open_database.h"

#include <sqlite3.h>

#include <string_view>

#include "store/sqlite/sqlite_database.h"
#if HASIVU_HAVE_POSTGRES
#include "store/postgres/postgres_database.h"
#endif

namespace hasivu::store {

StatusOr<DatabasePtr> OpenDatabase(const DatabaseSettings& settings) {
  const std::string_view url = settings.url;
  if (url.empty()) return InvalidArgumentError("store URL is empty");
  if (url.starts_with("sqlite:")) return sqlite::OpenSqliteDatabase(settings);
  if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
#if HASIVU_HAVE_POSTGRES
    return postgres::OpenPostgresDatabase(settings);
#else
    return UnimplementedError("store URL: this build has no PostgreSQL backend");
#endif
  }
  return InvalidArgumentError(
      "store URL must start with sqlite:, postgresql:// or postgres:// (got a URL with another "
      "scheme)");
}

int64_t EmbeddedEngineMemoryBytes() { return static_cast<int64_t>(sqlite3_memory_used()); }

}  // namespace hasivu::store
