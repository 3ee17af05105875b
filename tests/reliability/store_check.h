// The store half of a reliability scenario: after the load and the fault, what the database holds
// is checked against every acknowledged write and against the invariants no fault may break.
//
//  - integrity: SQLite's PRAGMA integrity_check; on PostgreSQL amcheck's bt_index_check of every
//    B-tree index and verify_heapam of every table of the schema (scripts/services.sh installs
//    the extension and grants its functions to the test role);
//  - orders: every acknowledged order is there, the store gained exactly as many orders (and
//    idempotency records) as orders were acknowledged, none without lines, none whose total is
//    not the sum of its lines, no idempotency claim left unfinished;
//  - the payment ledger: every acknowledged payment is one captured transaction, every paid order
//    has exactly one captured transaction, the captured amounts sum to the paid orders' totals,
//    no paid payment order belongs to an order that is not paid;
//  - deliveries: every acknowledged delivery is recorded, no order delivered twice, no delivered
//    order without its verification or verification of an undelivered order, and each scanned
//    card has as many deliveries today as its student has delivered orders today.
//
// Thread-safety: stateless functions; the runner is called from the calling thread only.
#ifndef HASIVU_TESTS_RELIABILITY_STORE_CHECK_H_
#define HASIVU_TESTS_RELIABILITY_STORE_CHECK_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "tests/reliability/campaign.h"

namespace hasivu::reliability {

// Runs one SQL statement on the store under test; returns the first column of the first row
// ("" when there is none), or nullopt with the reason in *error (EmptyStore::Sql).
using SqlRunner = std::function<std::optional<std::string>(const std::string&, std::string*)>;

// Row counts taken before the load, to compare with after.
struct StoreCounts {
  int64_t orders = 0;
  int64_t idempotency_keys = 0;
};
StatusOr<StoreCounts> CountRows(const SqlRunner& sql);

struct StoreCheck {
  std::vector<std::string> violations;  // empty: everything holds
  // What was found, for the report.
  int64_t orders_acknowledged = 0;
  int64_t orders_found = 0;
  int64_t orders_gained = 0;
  int64_t payments_acknowledged = 0;
  int64_t payments_found = 0;
  int64_t deliveries_acknowledged = 0;
  int64_t deliveries_found = 0;
  std::string integrity;  // what the integrity check said ("ok", or the checks that ran)
};

// `before` from CountRows before the load; `writes` from Campaign::writes() once settled;
// `base_date` the fixtures' today. `postgres` picks the integrity check.
StoreCheck CheckStore(const SqlRunner& sql, bool postgres, const StoreCounts& before,
                      const std::vector<WriteRecord>& writes, const std::string& base_date);

}  // namespace hasivu::reliability

#endif  // HASIVU_TESTS_RELIABILITY_STORE_CHECK_H_
