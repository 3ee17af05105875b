#include "metrics/meters.h"

#include <algorithm>
#include <utility>

namespace hasivu::metrics {

LazyCount::LazyCount(LazyCount&& other) noexcept
    : monitor_(other.monitor_),
      def_(other.def_),
      dims_(std::move(other.dims_)),
      count_(other.count_.load(std::memory_order_acquire)) {}

Count& LazyCount::Get() const {
  Count* c = count_.load(std::memory_order_acquire);
  if (c != nullptr) return *c;
  // Two first uses racing both ask the Monitor, which returns the same handle to both.
  c = &monitor_->GetCount(*def_, dims_);
  count_.store(c, std::memory_order_release);
  return *c;
}

OperationMeter::OperationMeter(Monitor& monitor, std::string_view operation)
    : duration_(monitor.GetDistribution(catalog::kOperationDuration,
                                        {{"Operation", std::string(operation)}})) {
  errors_.reserve(kCodes);
  for (size_t i = 0; i < kCodes; ++i) {
    errors_.emplace_back(
        monitor, catalog::kOperationErrors,
        Dimensions{{"ErrorKind", std::string(StatusCodeName(static_cast<StatusCode>(i)))},
                   {"Operation", std::string(operation)}});
  }
}

void OperationMeter::Observe(std::chrono::nanoseconds elapsed, StatusCode code) const {
  duration_.RecordDuration(elapsed);
  const size_t i = static_cast<size_t>(code);
  if (code != StatusCode::kOk && i < errors_.size()) errors_[i].Get().Add();
}

QueryMeter::QueryMeter(Monitor& monitor, std::string_view query_kind)
    : QueryMeter(
          monitor.GetDistribution(catalog::kDatabaseQueryDuration,
                                  {{"QueryKind", std::string(query_kind)}}),
          monitor.GetCount(catalog::kDatabaseSlowQueries, {{"QueryKind", std::string(query_kind)}}),
          monitor.settings().slow_query) {}

ExternalCallMeter::ExternalCallMeter(Monitor& monitor, std::string_view service,
                                     std::string_view operation)
    : duration_(monitor.GetDistribution(
          catalog::kExternalCallDuration,
          {{"Operation", std::string(operation)}, {"Service", std::string(service)}})),
      retries_(
          monitor.GetCount(catalog::kExternalCallRetries, {{"Service", std::string(service)}})),
      timeouts_(
          monitor.GetCount(catalog::kExternalCallTimeouts, {{"Service", std::string(service)}})) {
  calls_.reserve(kClasses.size());
  for (std::string_view c : kClasses) {
    calls_.emplace_back(monitor, catalog::kExternalCalls,
                        Dimensions{{"Operation", std::string(operation)},
                                   {"Service", std::string(service)},
                                   {"StatusClass", std::string(c)}});
  }
}

void ExternalCallMeter::Observe(std::chrono::nanoseconds elapsed, std::string_view status_class,
                                int retries, int timeouts) const {
  duration_.RecordDuration(elapsed);
  auto it = std::find(kClasses.begin(), kClasses.end(), status_class);
  if (it == kClasses.end()) it = kClasses.end() - 1;  // "error"
  calls_[static_cast<size_t>(it - kClasses.begin())].Get().Add();
  if (retries > 0) retries_.Add(static_cast<uint64_t>(retries));
  if (timeouts > 0) timeouts_.Add(static_cast<uint64_t>(timeouts));
}

BusinessEventMeter::BusinessEventMeter(Monitor& monitor, std::string_view event)
    : events_(monitor.GetCount(catalog::kBusinessEvents, {{"Event", std::string(event)}})),
      amount_(monitor, catalog::kBusinessAmount, {{"Event", std::string(event)}}) {}

FlowMeter::FlowMeter(Monitor& monitor, std::string_view flow,
                     std::initializer_list<std::string_view> checkpoints)
    : monitor_(monitor), flow_(flow) {
  for (std::string_view name : checkpoints) {
    points_.push_back(
        Point{.name = std::string(name),
              .segment = &monitor.GetDistribution(
                  catalog::kFlowSegmentDuration, {{"Flow", flow_}, {"Segment", std::string(name)}}),
              .cumulative =
                  &monitor.GetDistribution(catalog::kFlowCumulativeDuration,
                                           {{"Checkpoint", std::string(name)}, {"Flow", flow_}})});
  }
}

FlowMeter::Handles FlowMeter::Find(std::string_view name) const {
  for (const Point& p : points_) {
    if (p.name == name) return {p.segment, p.cumulative};
  }
  return {&monitor_.GetDistribution(catalog::kFlowSegmentDuration,
                                    {{"Flow", flow_}, {"Segment", std::string(name)}}),
          &monitor_.GetDistribution(catalog::kFlowCumulativeDuration,
                                    {{"Checkpoint", std::string(name)}, {"Flow", flow_}})};
}

FlowTimer FlowMeter::Start(std::chrono::steady_clock::time_point start) const {
  return FlowTimer(*this, start);
}

void FlowTimer::Checkpoint(std::string_view name, std::chrono::steady_clock::time_point at) {
  const FlowMeter::Handles p = meter_->Find(name);
  p.segment->RecordDuration(std::max(at - last_, std::chrono::steady_clock::duration::zero()));
  p.cumulative->RecordDuration(std::max(at - start_, std::chrono::steady_clock::duration::zero()));
  last_ = at;
}

}  // namespace hasivu::metrics
