// Housekeeping over any Database, written once for both dialects: planner statistics, and
// deferring secondary indexes around a bulk load ("indexes built once", demo-data.md).
//
// A bulk load (seeding) runs:
//   DeferIndexes(db, {"orders", "order_items", ...});   // drop, remembering definitions
//   ... BulkLoader ...
//   RestoreDeferredIndexes(db);                          // build each index once, sorted
//   UpdatePlannerStatistics(db);
// LoadInBulk() (bulk_load.h) runs exactly this around the repositories' bulk appenders.
// Only non-unique secondary indexes are deferred: primary keys, unique constraints and unique
// indexes (the guards, e.g. one delivery per order) stay and keep checking every row. The
// definitions live in the table store_deferred_indexes (migration 0003), written in the same
// transaction as the drops, and Migrate() restores any left there, so a load that crashed leaves
// no database without its indexes beyond the next start.
//
// Thread-safety: as the Database. Not for request paths (each call may take seconds).
#ifndef HASIVU_STORE_MAINTENANCE_H_
#define HASIVU_STORE_MAINTENANCE_H_

#include <span>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/database.h"

namespace hasivu::store {

// Refreshes the query planner's statistics (ANALYZE) for every table. Run it after bulk loading:
// PostgreSQL plans a freshly COPYed table from default estimates and picks sequential scans for
// the hot queries until it has statistics (see index_audit_pgtest).
Status UpdatePlannerStatistics(Database& db);

// Drops the non-unique secondary indexes of `tables` (of the current schema), saving their
// definitions. Tables without such indexes are fine; an index already deferred stays deferred.
// If `deferred` is given it receives the names dropped now. Errors: kInvalidArgument for a table
// name that is not a plain identifier; the backend's error (nothing dropped then).
Status DeferIndexes(Database& db, std::span<const std::string_view> tables,
                    std::vector<std::string>* deferred = nullptr);

// Recreates every deferred index and forgets it, in one transaction. No-op when none is
// deferred. Errors: the backend's (e.g. kUnavailable); nothing is forgotten then.
Status RestoreDeferredIndexes(Database& db);

// The names currently deferred (empty normally).
StatusOr<std::vector<std::string>> DeferredIndexes(Database& db);

}  // namespace hasivu::store

#endif  // HASIVU_STORE_MAINTENANCE_H_
