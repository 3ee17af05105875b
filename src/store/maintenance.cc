#include "store/maintenance.h"

#include <string>

namespace hasivu::store {
namespace {

bool IsPlainIdentifier(std::string_view s) {
  if (s.empty() || s.size() > 63 || (s[0] >= '0' && s[0] <= '9')) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
      return false;
  }
  return true;
}

// (name, definition) of the deferrable indexes of one table. Constraint-backing and unique
// indexes are excluded: SQLite lists those with sql NULL (autoindexes) or as CREATE UNIQUE INDEX.
std::string_view ListIndexesSql(Dialect dialect) {
  if (dialect == Dialect::kSqlite) {
    return "SELECT name, sql FROM sqlite_master"
           " WHERE type = 'index' AND tbl_name = $1 AND sql IS NOT NULL"
           " AND upper(substr(sql, 1, 13)) = 'CREATE INDEX '"
           " ORDER BY name";
  }
  return "SELECT c.relname, pg_get_indexdef(c.oid)"
         " FROM pg_index x"
         " JOIN pg_class c ON c.oid = x.indexrelid"
         " JOIN pg_class t ON t.oid = x.indrelid"
         " JOIN pg_namespace n ON n.oid = t.relnamespace"
         " WHERE n.nspname = current_schema() AND t.relname = $1"
         " AND NOT x.indisunique AND NOT x.indisprimary"
         " ORDER BY c.relname";
}

std::string Quoted(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    out += c;
    if (c == '"') out += '"';
  }
  return out + "\"";
}

}  // namespace

Status UpdatePlannerStatistics(Database& db) {
  // ANALYZE may run inside a transaction on both engines (unlike VACUUM). On PostgreSQL a bare
  // ANALYZE takes every table of the database, other schemas' too (other deployments or test
  // runs sharing the server), and can deadlock with their DDL: analyse this schema's tables only.
  return db
      .Write([&db](Connection& c) -> Status {
        if (db.dialect() != Dialect::kPostgresql) return c.ExecScript("ANALYZE");
        ASSIGN_OR_RETURN(ResultSet tables,
                         c.Query("SELECT tablename FROM pg_tables"
                                 " WHERE schemaname = current_schema() ORDER BY tablename"));
        std::string names;
        for (const Row& row : tables.rows) {
          const std::string& name = row.Text(0);
          if (!IsPlainIdentifier(name)) continue;
          if (!names.empty()) names += ", ";
          names += name;
        }
        return names.empty() ? Status::Ok() : c.ExecScript("ANALYZE " + names);
      })
      .WithContext("update planner statistics");
}

Status DeferIndexes(Database& db, std::span<const std::string_view> tables,
                    std::vector<std::string>* deferred) {
  if (deferred != nullptr) deferred->clear();
  for (std::string_view t : tables) {
    if (!IsPlainIdentifier(t)) return InvalidArgumentError("defer indexes: bad table name");
  }
  std::vector<std::string> dropped;
  Status s = db.Write([&](Connection& c) -> Status {
    dropped.clear();
    for (std::string_view table : tables) {
      const Value p[] = {std::string(table)};
      ASSIGN_OR_RETURN(ResultSet indexes, c.Query(ListIndexesSql(c.dialect()), p));
      for (const Row& r : indexes.rows) {
        const Value row[] = {r.Text(0), std::string(table), r.Text(1)};
        ASSIGN_OR_RETURN(ResultSet ins, c.Query("INSERT INTO store_deferred_indexes"
                                                " (name, table_name, definition)"
                                                " VALUES ($1, $2, $3)",
                                                row));
        RETURN_IF_ERROR(c.ExecScript("DROP INDEX " + Quoted(r.Text(0))));
        dropped.push_back(r.Text(0));
      }
    }
    return Status::Ok();
  });
  if (!s.ok()) return s.WithContext("defer indexes");
  if (deferred != nullptr) *deferred = std::move(dropped);
  return Status::Ok();
}

Status RestoreDeferredIndexes(Database& db) {
  return db
      .Write([](Connection& c) -> Status {
        ASSIGN_OR_RETURN(
            ResultSet rs,
            c.Query("SELECT name, definition FROM store_deferred_indexes ORDER BY name"));
        for (const Row& r : rs.rows) {
          RETURN_IF_ERROR(c.ExecScript(r.Text(1)));
          const Value p[] = {r.Text(0)};
          ASSIGN_OR_RETURN(ResultSet del,
                           c.Query("DELETE FROM store_deferred_indexes WHERE name = $1", p));
        }
        return Status::Ok();
      })
      .WithContext("restore deferred indexes");
}

StatusOr<std::vector<std::string>> DeferredIndexes(Database& db) {
  std::vector<std::string> out;
  RETURN_IF_ERROR(db.ReadOnce([&](Connection& c) -> Status {
    ASSIGN_OR_RETURN(ResultSet rs,
                     c.Query("SELECT name FROM store_deferred_indexes ORDER BY name"));
    for (const Row& r : rs.rows) out.push_back(r.Text(0));
    return Status::Ok();
  }));
  return out;
}

}  // namespace hasivu::store
