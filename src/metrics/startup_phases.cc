#include "metrics/startup_phases.h"

#include <time.h>

#include <algorithm>
#include <atomic>
#include <cstdio>

namespace hasivu::metrics {
namespace {

// -1: not recorded. Atomic only so that a reader on another thread sees a whole value.
std::atomic<int64_t> cpu_at_main_us{-1};

std::string Millis(std::chrono::microseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f ms", static_cast<double>(d.count()) / 1000.0);
  return buf;
}

}  // namespace

std::chrono::microseconds ProcessCpuTime() {
  timespec ts{};
  if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0) return std::chrono::microseconds(0);
  return std::chrono::microseconds(int64_t{ts.tv_sec} * 1000000 + ts.tv_nsec / 1000);
}

void MarkMainEntered() {
  int64_t expected = -1;
  cpu_at_main_us.compare_exchange_strong(expected, ProcessCpuTime().count());
}

std::optional<std::chrono::microseconds> CpuAtMain() {
  const int64_t v = cpu_at_main_us.load();
  if (v < 0) return std::nullopt;
  return std::chrono::microseconds(v);
}

StartupPhases::StartupPhases(Clock::time_point start) : start_(start), last_(start) {}

std::chrono::microseconds StartupPhases::End(std::string_view name, Clock::time_point now) {
  // A clock read before `last_` (a caller's own instant) counts as an empty phase.
  const auto duration =
      std::max(std::chrono::microseconds(0),
               std::chrono::duration_cast<std::chrono::microseconds>(now - last_));
  if (now > last_) last_ = now;
  phases_.push_back({std::string(name), duration});
  return duration;
}

void StartupPhases::MarkListening() { cpu_at_listening_ = ProcessCpuTime(); }

std::chrono::microseconds StartupPhases::Total() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(last_ - start_);
}

std::string StartupPhases::Summary() const {
  std::string s;
  for (const Phase& p : phases_) {
    if (!s.empty()) s += ", ";
    s += p.name + " " + Millis(p.duration);
  }
  s += " = " + Millis(Total());
  if (const auto main = CpuAtMain()) {
    s += "; CPU " + Millis(*main) + " before main";
    if (cpu_at_listening_) s += ", " + Millis(*cpu_at_listening_) + " to listening";
  }
  return s;
}

Gauge& StartupPhaseGauge(Registry& registry, std::string_view phase) {
  return registry.GetGauge("hasivu_startup_phase_microseconds",
                           "Wall time of each start-up phase of this process (docs/performance.md)",
                           {{"phase", std::string(phase)}});
}

void StartupPhases::Publish(Registry& registry) const {
  for (const Phase& p : phases_) StartupPhaseGauge(registry, p.name).Set(p.duration.count());
  const auto cpu = [&registry](std::string_view at, std::chrono::microseconds v) {
    registry
        .GetGauge("hasivu_startup_cpu_microseconds",
                  "CPU time of the process (all threads) at a point of its start-up",
                  {{"at", std::string(at)}})
        .Set(v.count());
  };
  if (const auto main = CpuAtMain()) cpu("main", *main);
  if (cpu_at_listening_) cpu("listening", *cpu_at_listening_);
}

}  // namespace hasivu::metrics
