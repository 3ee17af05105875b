#include "metrics/cold_start.h"

#include <algorithm>
#include <utility>

namespace hasivu::metrics {
namespace {

double MillisBetween(std::chrono::steady_clock::time_point from,
                     std::chrono::steady_clock::time_point to) {
  return std::max(0.0, std::chrono::duration<double, std::milli>(to - from).count());
}

}  // namespace

ColdStartReporter::ColdStartReporter(Monitor& monitor, std::string store, TimePoint process_start)
    : duration_(monitor.GetDistribution(catalog::kColdStartDuration, {{"Store", store}})),
      init_(monitor.GetDistribution(catalog::kColdStartInit, {{"Store", store}})),
      first_request_(monitor.GetDistribution(catalog::kColdStartFirstRequest, {{"Store", store}})),
      store_(std::move(store)),
      process_start_(process_start) {}

void ColdStartReporter::MarkListening(TimePoint listening) {
  std::lock_guard lock(mu_);
  if (listening_) return;
  listening_ = listening;
  ReportIfComplete();
}

void ColdStartReporter::OnFirstRequest(TimePoint first_byte_in, TimePoint last_byte_out) {
  std::lock_guard lock(mu_);
  if (request_) return;
  request_ = {first_byte_in, last_byte_out};
  ReportIfComplete();
}

std::optional<ColdStartReport> ColdStartReporter::Report() const {
  std::lock_guard lock(mu_);
  return report_;
}

void ColdStartReporter::ReportIfComplete() {
  if (report_ || !listening_ || !request_) return;
  ColdStartReport r;
  r.store = store_;
  r.init_ms = MillisBetween(process_start_, *listening_);
  r.first_request_ms = MillisBetween(request_->first, request_->second);
  r.duration_ms = r.init_ms + r.first_request_ms;
  init_.Record(r.init_ms);
  first_request_.Record(r.first_request_ms);
  duration_.Record(r.duration_ms);
  report_ = std::move(r);
}

}  // namespace hasivu::metrics
