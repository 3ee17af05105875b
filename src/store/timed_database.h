// TimedDatabase: a store::Database that times every Read/Write it runs into the metrics registry
// and forwards to an inner database. The monitoring dashboard reads the same series back through
// OperationsOf() / SlowOperationsOf(), so writer and reader share one definition of each metric.
//
//   hasivu_db_operation_duration_seconds  one Read or Write callback, including the wait for a
//                                          connection (microsecond samples, reported in seconds)
//   hasivu_db_slow_operations_total       operations over kSlowOperation
//
// Each operation also adds to the current request's db span time (metrics/trace.h), for the
// access log line.
//
// Ownership: `inner` and `registry` outlive the TimedDatabase. Thread-safety: as the inner
// database; the metrics are thread-safe.
#ifndef HASIVU_STORE_TIMED_DATABASE_H_
#define HASIVU_STORE_TIMED_DATABASE_H_

#include <chrono>
#include <functional>
#include <memory>

#include "common/status.h"
#include "metrics/metrics.h"
#include "store/database.h"

namespace hasivu::store {

// Database operations slower than this count as slow.
inline constexpr std::chrono::milliseconds kSlowOperation{100};

class TimedDatabase : public Database {
 public:
  TimedDatabase(Database* inner, metrics::Registry& registry);
  Dialect dialect() const override { return inner_->dialect(); }
  Status Read(const std::function<Status(Connection&)>& fn) override;
  Status Write(const std::function<Status(Connection&)>& fn) override;
  Status Ping() override;
  PoolStats Stats() const override { return inner_->Stats(); }
  StatusOr<std::unique_ptr<BulkLoader>> NewBulkLoader() override { return inner_->NewBulkLoader(); }
  Database* inner() const { return inner_; }

  // The series every TimedDatabase of `registry` records into.
  static metrics::Histogram& OperationsOf(metrics::Registry& registry);
  static metrics::Counter& SlowOperationsOf(metrics::Registry& registry);

 private:
  void Observe(std::chrono::steady_clock::time_point start);
  Database* inner_;
  metrics::Histogram& operations_;
  metrics::Counter& slow_;
};

}  // namespace hasivu::store

#endif  // HASIVU_STORE_TIMED_DATABASE_H_
