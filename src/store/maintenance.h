// Housekeeping over any Database, written once for both dialects.
#ifndef HASIVU_STORE_MAINTENANCE_H_
#define HASIVU_STORE_MAINTENANCE_H_

#include "common/status.h"
#include "store/database.h"

namespace hasivu::store {

// Refreshes the query planner's statistics (ANALYZE) for every table. Run it after bulk loading
// (seeding): PostgreSQL plans a freshly COPYed table from default estimates, and picks sequential
// scans for the hot queries until it has statistics (see index_audit_pgtest). Takes seconds on
// millions of rows; not for request paths.
Status UpdatePlannerStatistics(Database& db);

}  // namespace hasivu::store

#endif  // HASIVU_STORE_MAINTENANCE_H_
