#include "store/migrations.h"

#include <cstdio>
#include <string_view>

#include "store/embedded_migrations.h"
#include "store/maintenance.h"

namespace hasivu::store {
namespace {

using internal::EmbeddedMigration;

// The migration that creates store_deferred_indexes (maintenance.h).
constexpr int kDeferredIndexesVersion = 3;

// Arbitrary but fixed: every hasivu process migrating one PostgreSQL database takes this lock.
constexpr std::string_view kPgLockSql = "SELECT pg_advisory_xact_lock(7308604759475138131)";

std::string_view CreateTableSql(Dialect dialect) {
  if (dialect == Dialect::kSqlite) {
    return "CREATE TABLE IF NOT EXISTS schema_migrations (\n"
           "  version INTEGER PRIMARY KEY NOT NULL,\n"
           "  name TEXT NOT NULL,\n"
           "  checksum TEXT NOT NULL,\n"
           "  applied_at TEXT NOT NULL\n"
           "    DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z')\n"
           ") STRICT";
  }
  return "CREATE TABLE IF NOT EXISTS schema_migrations (\n"
         "  version INTEGER PRIMARY KEY NOT NULL,\n"
         "  name TEXT NOT NULL,\n"
         "  checksum TEXT NOT NULL,\n"
         "  applied_at TIMESTAMPTZ NOT NULL DEFAULT now()\n"
         ")";
}

std::string_view TableExistsSql(Dialect dialect) {
  if (dialect == Dialect::kSqlite) {
    return "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'";
  }
  // to_regclass resolves through search_path, as the unqualified names of the migrations do.
  return "SELECT CASE WHEN to_regclass('schema_migrations') IS NULL THEN 0 ELSE 1 END";
}

// FNV-1a 64 of the SQL text: detects an edited migration file, not an adversary.
std::string Checksum(std::string_view sql) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : sql) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

struct Recorded {
  int version;
  std::string checksum;
};

StatusOr<std::vector<Recorded>> ReadRecorded(Connection& c) {
  std::vector<Recorded> out;
  ASSIGN_OR_RETURN(ResultSet exists, c.Query(TableExistsSql(c.dialect())));
  if (exists.rows.empty() || exists.rows[0].Int(0) == 0) return out;
  ASSIGN_OR_RETURN(ResultSet rs,
                   c.Query("SELECT version, checksum FROM schema_migrations ORDER BY version"));
  for (const Row& r : rs.rows) out.push_back({static_cast<int>(r.Int(0)), r.Text(1)});
  return out;
}

const Recorded* Find(const std::vector<Recorded>& recorded, int version) {
  for (const Recorded& r : recorded) {
    if (r.version == version) return &r;
  }
  return nullptr;
}

Status CheckUnchanged(const Recorded& r, const EmbeddedMigration& m) {
  if (r.checksum == Checksum(m.sql)) return Status::Ok();
  return FailedPreconditionError("migration " + std::to_string(m.version) + " (" + m.name +
                                 ") differs from the one applied to this database; recreate a "
                                 "development database, or ship changes as a new version");
}

Status CheckOrder(std::span<const EmbeddedMigration> migrations) {
  for (size_t i = 1; i < migrations.size(); ++i) {
    if (migrations[i].version <= migrations[i - 1].version) {
      return InternalError("embedded migrations are not strictly ascending at version " +
                           std::to_string(migrations[i].version));
    }
  }
  return Status::Ok();
}

}  // namespace

Status Migrate(Database& db, std::vector<int>* applied_versions) {
  if (applied_versions != nullptr) applied_versions->clear();
  const Dialect dialect = db.dialect();
  const std::span<const EmbeddedMigration> migrations = internal::EmbeddedMigrations(dialect);
  RETURN_IF_ERROR(CheckOrder(migrations));

  // The common case (nothing to do) costs one read and no write lock, which keeps start-up fast.
  std::vector<Recorded> recorded;
  RETURN_IF_ERROR(db.ReadOnce([&](Connection& c) -> Status {
    ASSIGN_OR_RETURN(recorded, ReadRecorded(c));
    return Status::Ok();
  }));

  for (const EmbeddedMigration& m : migrations) {
    if (const Recorded* r = Find(recorded, m.version)) {
      RETURN_IF_ERROR(CheckUnchanged(*r, m));
      continue;
    }
    bool applied = false;
    Status s = db.Write([&](Connection& c) -> Status {
      if (dialect == Dialect::kPostgresql) {
        ASSIGN_OR_RETURN(ResultSet lock, c.Query(kPgLockSql));
      }
      ASSIGN_OR_RETURN(ResultSet create, c.Query(CreateTableSql(dialect)));
      // Another process may have applied it between our read and the lock.
      ASSIGN_OR_RETURN(std::vector<Recorded> now, ReadRecorded(c));
      if (const Recorded* r = Find(now, m.version)) return CheckUnchanged(*r, m);
      RETURN_IF_ERROR(c.ExecScript(m.sql));
      const Value params[] = {int64_t{m.version}, std::string(m.name), Checksum(m.sql)};
      ASSIGN_OR_RETURN(
          ResultSet ins,
          c.Query("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                  params));
      applied = true;
      return Status::Ok();
    });
    if (!s.ok()) {
      return s.WithContext("migration " + std::to_string(m.version) + " (" + m.name + ")");
    }
    if (applied && applied_versions != nullptr) applied_versions->push_back(m.version);
  }

  // A bulk load that died between DeferIndexes() and RestoreDeferredIndexes() left definitions
  // behind; this start puts the indexes back.
  bool has_deferred_table = false;
  for (const EmbeddedMigration& m : migrations) {
    if (m.version == kDeferredIndexesVersion) has_deferred_table = true;
  }
  if (!has_deferred_table) return Status::Ok();
  ASSIGN_OR_RETURN(std::vector<std::string> deferred, DeferredIndexes(db));
  if (deferred.empty()) return Status::Ok();
  return RestoreDeferredIndexes(db);
}

StatusOr<std::vector<AppliedMigration>> ListMigrations(Database& db) {
  std::vector<AppliedMigration> out;
  RETURN_IF_ERROR(db.Read([&](Connection& c) -> Status {
    ASSIGN_OR_RETURN(ResultSet exists, c.Query(TableExistsSql(c.dialect())));
    if (exists.rows.empty() || exists.rows[0].Int(0) == 0) return Status::Ok();
    ASSIGN_OR_RETURN(
        ResultSet rs,
        c.Query("SELECT version, name, applied_at FROM schema_migrations ORDER BY version"));
    for (const Row& r : rs.rows) {
      out.push_back({static_cast<int>(r.Int(0)), r.Text(1), r.Text(2)});
    }
    return Status::Ok();
  }));
  return out;
}

int LatestMigrationVersion(Dialect dialect) {
  const auto migrations = internal::EmbeddedMigrations(dialect);
  return migrations.empty() ? 0 : migrations.back().version;
}

}  // namespace hasivu::store
