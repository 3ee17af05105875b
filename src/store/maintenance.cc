#include "store/maintenance.h"

namespace hasivu::store {

Status UpdatePlannerStatistics(Database& db) {
  // ANALYZE may run inside a transaction on both engines (unlike VACUUM).
  return db.Write([](Connection& c) { return c.ExecScript("ANALYZE"); })
      .WithContext("update planner statistics");
}

}  // namespace hasivu::store
