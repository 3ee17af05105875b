#include "store/timed_database.h"

#include <algorithm>
#include <string>
#include <vector>

#include "metrics/catalog.h"
#include "metrics/trace.h"

namespace hasivu::store {

using std::chrono::steady_clock;

namespace {

// The Monitor's view of one kind's series: adopted, so each operation is recorded once.
metrics::QueryMeter MeterOf(metrics::Monitor& monitor, std::string_view kind) {
  const metrics::Dimensions dims = {{"QueryKind", std::string(kind)}};
  return metrics::QueryMeter(
      monitor.AdoptHistogram(metrics::catalog::kDatabaseQueryDuration, dims,
                             TimedDatabase::OperationsOf(monitor.registry(), kind), 1e-3),
      monitor.AdoptCounter(metrics::catalog::kDatabaseSlowQueries, dims,
                           TimedDatabase::SlowOperationsOf(monitor.registry(), kind)),
      monitor.settings().slow_query);
}

}  // namespace

metrics::Histogram& TimedDatabase::OperationsOf(metrics::Registry& registry,
                                                std::string_view kind) {
  return registry.GetHistogram(
      "hasivu_db_operation_duration_seconds",
      "Database operations (one Read or Write callback, including the wait for a connection)",
      {{"kind", std::string(kind)}}, 1e-6);
}

metrics::Counter& TimedDatabase::SlowOperationsOf(metrics::Registry& registry,
                                                  std::string_view kind) {
  return registry.GetCounter("hasivu_db_slow_operations_total",
                             "Database operations slower than the slow-query threshold",
                             {{"kind", std::string(kind)}});
}

metrics::HistogramSnapshot TimedDatabase::OperationsSnapshot(metrics::Registry& registry) {
  return metrics::MergeSnapshots({OperationsOf(registry, kReadQuery).Snapshot(),
                                  OperationsOf(registry, kWriteQuery).Snapshot()});
}

uint64_t TimedDatabase::SlowOperations(metrics::Registry& registry) {
  return SlowOperationsOf(registry, kReadQuery).Value() +
         SlowOperationsOf(registry, kWriteQuery).Value();
}

TimedDatabase::TimedDatabase(Database* inner, metrics::Monitor& monitor)
    : inner_(inner), reads_(MeterOf(monitor, kReadQuery)), writes_(MeterOf(monitor, kWriteQuery)) {}

void TimedDatabase::Observe(const metrics::QueryMeter& meter, steady_clock::time_point start) {
  const auto elapsed = steady_clock::now() - start;
  metrics::AddSpanTime(metrics::SpanKind::kDb, elapsed);  // the current request's db time
  meter.Observe(elapsed);
}

Status TimedDatabase::Read(const std::function<Status(Connection&)>& fn) {
  const auto start = steady_clock::now();
  Status s = inner_->Read(fn);
  Observe(reads_, start);
  return s;
}

Status TimedDatabase::ReadOnce(const std::function<Status(Connection&)>& fn) {
  const auto start = steady_clock::now();
  Status s = inner_->ReadOnce(fn);
  Observe(reads_, start);
  return s;
}

Status TimedDatabase::Write(const std::function<Status(Connection&)>& fn) {
  const auto start = steady_clock::now();
  Status s = inner_->Write(fn);
  Observe(writes_, start);
  return s;
}

Status TimedDatabase::Ping() { return inner_->Ping(); }

}  // namespace hasivu::store
