// The seed's measuring helpers, over a Monitor (metrics/monitor.h) and its catalog series:
//
//   OperationMeter      an operation: OperationDuration{Operation}, and on failure
//                       OperationErrors{Operation, ErrorKind = the Status code name}
//   QueryMeter          a database query: DatabaseQueryDuration{QueryKind}, and
//                       DatabaseSlowQueries{QueryKind} over MonitorSettings::slow_query
//   ExternalCallMeter   a call to another service: ExternalCallDuration{Service, Operation},
//                       ExternalCalls{Service, Operation, StatusClass}, ExternalCallRetries
//                       {Service}, ExternalCallTimeouts{Service}
//   BusinessEventMeter  an event: BusinessEvents{Event}, with its amount BusinessAmountPaise{Event}
//   FlowMeter/FlowTimer a timer with named checkpoints: FlowSegmentDuration{Flow, Segment} from
//                       the previous checkpoint (or the start) to each, FlowCumulativeDuration
//                       {Flow, Checkpoint} from the start to each
//
// A meter is built at wiring time (it resolves its handles then, taking the Monitor's lock) and
// kept; measuring through it is then a handle record, with no lock and no allocation. Handles a
// meter cannot know in advance (an error kind, a status class, a checkpoint it was not given) are
// resolved on their first use, once. Each Observe takes the elapsed time explicitly, so tests
// need no clock; Measure() and the timers read steady_clock.
//
// Dimension values (operation, query kind, service, event, flow, checkpoint names) are names in
// code from small fixed sets, never ids (the Monitor refuses what looks like one).
//
// Ownership: the Monitor outlives its meters. Thread-safety: meters are safe to use from any
// number of threads; a FlowTimer or OperationTimer belongs to one thread at a time.
#ifndef HASIVU_METRICS_METERS_H_
#define HASIVU_METRICS_METERS_H_

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "common/status.h"
#include "metrics/catalog.h"
#include "metrics/monitor.h"

namespace hasivu::metrics {

// The kSum handle of (def, dims), resolved through the Monitor on first use. Thread-safe.
class LazyCount {
 public:
  LazyCount(Monitor& monitor, const catalog::MetricDef& def, Dimensions dims)
      : monitor_(&monitor), def_(&def), dims_(std::move(dims)) {}
  LazyCount(LazyCount&& other) noexcept;
  Count& Get() const;

 private:
  Monitor* monitor_;
  const catalog::MetricDef* def_;
  Dimensions dims_;
  mutable std::atomic<Count*> count_{nullptr};
};

namespace meters_internal {
// The Status of a callable's result: Status itself, or StatusOr<T>'s status().
inline const Status& StatusOfResult(const Status& s) { return s; }
template <typename T>
Status StatusOfResult(const StatusOr<T>& s) {
  return s.status();
}
}  // namespace meters_internal

class OperationMeter {
 public:
  OperationMeter(Monitor& monitor, std::string_view operation);

  // One run that took `elapsed` and ended with `code` (kOk: no error counted).
  void Observe(std::chrono::nanoseconds elapsed, StatusCode code) const;

  // Runs `fn` (returning Status or StatusOr<T>), observes it, and returns its result.
  template <typename F>
  auto Measure(F&& fn) const -> std::invoke_result_t<F> {
    const auto start = std::chrono::steady_clock::now();
    auto result = fn();
    Observe(std::chrono::steady_clock::now() - start,
            meters_internal::StatusOfResult(result).code());
    return result;
  }

 private:
  static constexpr size_t kCodes = static_cast<size_t>(StatusCode::kUnimplemented) + 1;
  Distribution& duration_;
  std::vector<LazyCount> errors_;  // by StatusCode
};

// RAII: observes the meter on destruction with the elapsed time since construction and the last
// status given to Set() (OK when none). Not copyable.
class OperationTimer {
 public:
  explicit OperationTimer(const OperationMeter& meter)
      : meter_(meter), start_(std::chrono::steady_clock::now()) {}
  ~OperationTimer() { meter_.Observe(std::chrono::steady_clock::now() - start_, code_); }
  OperationTimer(const OperationTimer&) = delete;
  OperationTimer& operator=(const OperationTimer&) = delete;

  void Set(const Status& status) { code_ = status.code(); }

 private:
  const OperationMeter& meter_;
  std::chrono::steady_clock::time_point start_;
  StatusCode code_ = StatusCode::kOk;
};

class QueryMeter {
 public:
  // The Monitor's series of `query_kind` ("read" | "write"); slow over settings().slow_query.
  QueryMeter(Monitor& monitor, std::string_view query_kind);
  // Over handles the caller resolved (e.g. Monitor::AdoptHistogram/AdoptCounter of its own
  // Registry series); slow over `slow_query`.
  QueryMeter(Distribution& duration, Count& slow, std::chrono::nanoseconds slow_query)
      : duration_(duration), slow_(slow), slow_query_(slow_query) {}

  void Observe(std::chrono::nanoseconds elapsed) const {
    duration_.RecordDuration(elapsed);
    if (elapsed > slow_query_) slow_.Add();
  }

  template <typename F>
  auto Measure(F&& fn) const -> std::invoke_result_t<F> {
    const auto start = std::chrono::steady_clock::now();
    auto result = fn();
    Observe(std::chrono::steady_clock::now() - start);
    return result;
  }

 private:
  Distribution& duration_;
  Count& slow_;
  std::chrono::nanoseconds slow_query_;
};

class ExternalCallMeter {
 public:
  // `service` ("razorpay") and `operation` ("capture_payment").
  ExternalCallMeter(Monitor& monitor, std::string_view service, std::string_view operation);

  // One call as its caller saw it, retries included: `status_class` is the final outcome,
  // "1xx".."5xx" for an HTTP answer, "timeout" when the last attempt timed out, "error" for any
  // other failure (and for anything else given); `retries` attempts after the first, `timeouts`
  // attempts that timed out.
  void Observe(std::chrono::nanoseconds elapsed, std::string_view status_class, int retries,
               int timeouts) const;

 private:
  static constexpr std::array<std::string_view, 7> kClasses = {"1xx", "2xx",     "3xx",  "4xx",
                                                               "5xx", "timeout", "error"};
  Distribution& duration_;
  std::vector<LazyCount> calls_;  // by kClasses
  Count& retries_;
  Count& timeouts_;
};

class BusinessEventMeter {
 public:
  // `event`: "order_created", "payment_captured", "delivery_verified".
  BusinessEventMeter(Monitor& monitor, std::string_view event);

  // One event.
  void Track() const { events_.Add(); }
  // One event with its amount (a negative amount adds nothing to the amount series).
  void Track(int64_t amount_paise) const {
    events_.Add();
    if (amount_paise > 0) amount_.Get().Add(static_cast<uint64_t>(amount_paise));
  }

 private:
  Count& events_;
  LazyCount amount_;
};

class FlowTimer;

class FlowMeter {
 public:
  // `checkpoints` in the order the flow passes them; their handles are resolved here.
  FlowMeter(Monitor& monitor, std::string_view flow,
            std::initializer_list<std::string_view> checkpoints);

  // A timer started at `start`.
  FlowTimer Start(
      std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now()) const;

 private:
  friend class FlowTimer;
  struct Point {
    std::string name;
    Distribution* segment;
    Distribution* cumulative;
  };
  struct Handles {
    Distribution* segment;
    Distribution* cumulative;
  };
  // The handles of `name`: resolved here, or through the Monitor (its lock, each time) for a
  // name not given above.
  Handles Find(std::string_view name) const;

  Monitor& monitor_;
  std::string flow_;
  std::vector<Point> points_;
};

// One pass through a flow. Checkpoints may be skipped (a segment then spans from the last one
// reached) or repeated.
class FlowTimer {
 public:
  // Records the segment ending here (Segment = `name`: from the previous checkpoint, or the
  // start) and the cumulative time to it.
  void Checkpoint(std::string_view name,
                  std::chrono::steady_clock::time_point at = std::chrono::steady_clock::now());

 private:
  friend class FlowMeter;
  FlowTimer(const FlowMeter& meter, std::chrono::steady_clock::time_point start)
      : meter_(&meter), start_(start), last_(start) {}
  const FlowMeter* meter_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace hasivu::metrics

#endif  // HASIVU_METRICS_METERS_H_
