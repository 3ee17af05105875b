// TimedDatabase: a store::Database that times every Read/Write it runs into the metrics registry
// and forwards to an inner database. The monitoring dashboard reads the same series back through
// OperationsSnapshot() / SlowOperations(), so writer and reader share one definition of each
// metric; the Monitor shows them as DatabaseQueryDuration{QueryKind} and
// DatabaseSlowQueries{QueryKind} (adopted, not recorded twice).
//
//   hasivu_db_operation_duration_seconds{kind}  one Read (kind="read") or Write ("write")
//                                                callback, including the wait for a connection
//                                                (microsecond samples, reported in seconds)
//   hasivu_db_slow_operations_total{kind}       operations over the Monitor's slow-query
//                                                threshold (MonitorSettings::slow_query)
//
// Each operation also adds to the current request's db span time (metrics/trace.h), for the
// access log line.
//
// Ownership: `inner` and `monitor` (and its registry) outlive the TimedDatabase. Thread-safety:
// as the inner database; the metrics are thread-safe.
#ifndef HASIVU_STORE_TIMED_DATABASE_H_
#define HASIVU_STORE_TIMED_DATABASE_H_

#include <chrono>
#include <functional>
#include <memory>
#include <string_view>

#include "common/status.h"
#include "metrics/meters.h"
#include "metrics/metrics.h"
#include "metrics/monitor.h"
#include "store/database.h"

namespace hasivu::store {

// The `kind` label values (and QueryKind dimension values).
inline constexpr std::string_view kReadQuery = "read";
inline constexpr std::string_view kWriteQuery = "write";

class TimedDatabase : public Database {
 public:
  TimedDatabase(Database* inner, metrics::Monitor& monitor);
  Dialect dialect() const override { return inner_->dialect(); }
  Status Read(const std::function<Status(Connection&)>& fn) override;
  Status ReadOnce(const std::function<Status(Connection&)>& fn) override;
  Status Write(const std::function<Status(Connection&)>& fn) override;
  Status Ping() override;
  PoolStats Stats() const override { return inner_->Stats(); }
  StatusOr<std::unique_ptr<BulkLoader>> NewBulkLoader() override { return inner_->NewBulkLoader(); }
  Database* inner() const { return inner_; }

  // The series every TimedDatabase of `registry` records into; `kind` kReadQuery or kWriteQuery.
  static metrics::Histogram& OperationsOf(metrics::Registry& registry, std::string_view kind);
  static metrics::Counter& SlowOperationsOf(metrics::Registry& registry, std::string_view kind);
  // Both kinds together: the histograms merged, the slow counts added.
  static metrics::HistogramSnapshot OperationsSnapshot(metrics::Registry& registry);
  static uint64_t SlowOperations(metrics::Registry& registry);

 private:
  void Observe(const metrics::QueryMeter& meter, std::chrono::steady_clock::time_point start);
  Database* inner_;
  metrics::QueryMeter reads_;
  metrics::QueryMeter writes_;
};

}  // namespace hasivu::store

#endif  // HASIVU_STORE_TIMED_DATABASE_H_
