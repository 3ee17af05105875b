#include "store/timed_database.h"

#include "metrics/trace.h"

namespace hasivu::store {

using std::chrono::steady_clock;

metrics::Histogram& TimedDatabase::OperationsOf(metrics::Registry& registry) {
  return registry.GetHistogram(
      "hasivu_db_operation_duration_seconds",
      "Database operations (one Read or Write callback, including the wait for a connection)", {},
      1e-6);
}

metrics::Counter& TimedDatabase::SlowOperationsOf(metrics::Registry& registry) {
  return registry.GetCounter("hasivu_db_slow_operations_total",
                             "Database operations slower than 100 ms");
}

TimedDatabase::TimedDatabase(Database* inner, metrics::Registry& registry)
    : inner_(inner), operations_(OperationsOf(registry)), slow_(SlowOperationsOf(registry)) {}

void TimedDatabase::Observe(steady_clock::time_point start) {
  const auto elapsed = steady_clock::now() - start;
  metrics::AddSpanTime(metrics::SpanKind::kDb, elapsed);  // the current request's db time
  operations_.Record(
      static_cast<double>(std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count()));
  if (elapsed > kSlowOperation) slow_.Add();
}

Status TimedDatabase::Read(const std::function<Status(Connection&)>& fn) {
  const auto start = steady_clock::now();
  Status s = inner_->Read(fn);
  Observe(start);
  return s;
}

Status TimedDatabase::Write(const std::function<Status(Connection&)>& fn) {
  const auto start = steady_clock::now();
  Status s = inner_->Write(fn);
  Observe(start);
  return s;
}

Status TimedDatabase::Ping() { return inner_->Ping(); }

}  // namespace hasivu::store
