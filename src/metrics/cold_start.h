// ColdStartReporter: the process's cold start, measured as architecture.md ("Cold start,
// defined") says and reported once:
//
//   ColdStartInitDuration{Store}          process start -> listening (every start-up phase done)
//   ColdStartFirstRequestDuration{Store}  the first request's first byte in -> last byte out
//   ColdStartDuration{Store}              the two added
//
// The idle wait between listening and the first request's arrival is in neither: a client that
// comes a second after start does not make the start a second slower. The parts are recorded
// into the Monitor (milliseconds) as soon as both are known, whichever arrives first, and
// Report() returns them for the dashboard.
//
// Inputs: `process_start` (default ProcessStartSteady(), captured by a static initialiser before
// main: the dynamic loader's work before it, about 2 ms here, is not counted), MarkListening()
// from the app once the server listens, OnFirstRequest() from the HTTP server's first-request
// hook (http::ServerSettings::on_first_request). Each is kept from its first call; later calls are
// ignored, so a second server or a repeated hook cannot report twice.
//
// Ownership: the Monitor outlives the reporter. Thread-safety: all methods are safe to call
// concurrently.
#ifndef HASIVU_METRICS_COLD_START_H_
#define HASIVU_METRICS_COLD_START_H_

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "metrics/metrics.h"
#include "metrics/monitor.h"

namespace hasivu::metrics {

struct ColdStartReport {
  std::string store;            // the Store dimension: "sqlite" | "postgres"
  double duration_ms = 0;       // init_ms + first_request_ms
  double init_ms = 0;           // process start -> listening
  double first_request_ms = 0;  // first byte in -> last byte out
};

class ColdStartReporter {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  ColdStartReporter(Monitor& monitor, std::string store,
                    TimePoint process_start = ProcessStartSteady());
  ColdStartReporter(const ColdStartReporter&) = delete;
  ColdStartReporter& operator=(const ColdStartReporter&) = delete;

  void MarkListening(TimePoint listening);
  void OnFirstRequest(TimePoint first_byte_in, TimePoint last_byte_out);

  // The report once both instants are known; nullopt before.
  std::optional<ColdStartReport> Report() const;

 private:
  void ReportIfComplete();  // REQUIRES: mu_ held

  Distribution& duration_;
  Distribution& init_;
  Distribution& first_request_;
  const std::string store_;
  const TimePoint process_start_;

  mutable std::mutex mu_;
  std::optional<TimePoint> listening_;                      // GUARDED_BY(mu_)
  std::optional<std::pair<TimePoint, TimePoint>> request_;  // GUARDED_BY(mu_); in, out
  std::optional<ColdStartReport> report_;                   // GUARDED_BY(mu_)
};

}  // namespace hasivu::metrics

#endif  // HASIVU_METRICS_COLD_START_H_
