// StartupPhases: where a start of `hasivu serve` spends its time, phase by phase (issue 18). The
// app ends each phase as it completes it (configuration, store, accounts, monitoring, cache,
// routes, listen, ...); a phase runs from the end of the one before, the first from the process
// start instant (ProcessStartSteady(), a static initialiser before main). The process's CPU time
// is read at main's entry (MarkMainEntered) and at listening: the CPU before main, the dynamic
// loader's binding of the shared libraries and their constructors, is invisible to a wall clock
// that starts in a static initialiser, and is the largest part on a quiet machine
// (docs/performance.md, "Start-up phases").
//
// Publish() writes, once, into a Registry:
//   hasivu_startup_phase_microseconds{phase}  each phase's wall time
//   hasivu_startup_cpu_microseconds{at}       the process's CPU time (all threads) at "main" and
//                                             at "listening"
//
// Thread-safety: End() and Summary() from the thread that runs the start-up; Publish() once,
// from the same thread. MarkMainEntered() once, first thing in main, before any thread starts.
#ifndef HASIVU_METRICS_STARTUP_PHASES_H_
#define HASIVU_METRICS_STARTUP_PHASES_H_

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/metrics.h"

namespace hasivu::metrics {

// Records the process's CPU time at main's entry; later calls keep the first.
void MarkMainEntered();
// The CPU time MarkMainEntered recorded; nullopt when it was never called.
std::optional<std::chrono::microseconds> CpuAtMain();
// The process's CPU time so far, every thread's (CLOCK_PROCESS_CPUTIME_ID).
std::chrono::microseconds ProcessCpuTime();

// The gauge of one phase's wall time, hasivu_startup_phase_microseconds{phase}: Publish() sets
// the phases it ended, the app the first request's ("first_request") when it is served.
Gauge& StartupPhaseGauge(Registry& registry, std::string_view phase);

class StartupPhases {
 public:
  using Clock = std::chrono::steady_clock;

  struct Phase {
    std::string name;
    std::chrono::microseconds duration{0};
  };

  explicit StartupPhases(Clock::time_point start = ProcessStartSteady());

  // Ends the phase under way at `now`, under `name` (a short lower_snake word, the metric's
  // label), and returns its duration; the next phase starts at `now`.
  std::chrono::microseconds End(std::string_view name, Clock::time_point now = Clock::now());

  // Records the process's CPU time as the "listening" point (call right after listening).
  void MarkListening();

  const std::vector<Phase>& phases() const { return phases_; }
  // Start to the end of the last phase.
  std::chrono::microseconds Total() const;

  // One line for the log: "configuration 0.1 ms, store 4.2 ms, ... = 9.8 ms to listening;
  // CPU 3.1 ms before main, 8.0 ms to listening".
  std::string Summary() const;

  // Sets the gauges above for every phase ended so far and the CPU points known.
  void Publish(Registry& registry) const;

 private:
  const Clock::time_point start_;
  Clock::time_point last_;
  std::vector<Phase> phases_;
  std::optional<std::chrono::microseconds> cpu_at_listening_;
};

}  // namespace hasivu::metrics

#endif  // HASIVU_METRICS_STARTUP_PHASES_H_
