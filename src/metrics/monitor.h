// Monitor: the CloudWatch-facing side of the metrics core (architecture decision 5). It records
// and reads the series of metrics/catalog.h (a metric name with a bounded set of dimensions) on
// top of the Prometheus Registry, so /metrics and CloudWatch see the same numbers and a request
// never pays for the second view.
//
//   Recording  handles resolved at wiring time: GetDistribution() / GetCount() return a
//              Distribution / Count whose Record/Add is one Registry Histogram::Record /
//              Counter::Add (a few relaxed atomic adds into a per-thread shard; no lock, no
//              allocation). Each such series is also a Prometheus series of the Registry, named
//              "hasivu_" + the snake_case metric name + a unit suffix ("_seconds" for time, with
//              the value scaled; "_bytes"; "_total" for counts), its dimensions as snake_case
//              labels: ApiLatency{Function} -> hasivu_api_latency_seconds{function}.
//   Adoption   a series something else records into the Registry already (the HTTP server's
//              per-route histograms and counters, the cache tiers' counters) is shown under a
//              catalog definition without recording twice: AdoptHistogram (with a scale to the
//              catalog unit), AdoptCounter(s), and computed levels: AdoptRatio (100 * numerator
//              / denominator over each interval, clamped to [0, 100], missing when the
//              denominator did not move) and AddLevel (a callback sampled at each read).
//   Windows    Stats(def, dims, window): count, sum, min, max, mean, p50/p95/p99 over the last
//              `window` (1, 5, 15 minutes) from rolling histograms, not since start.
//   Collect    Collect(cursor): what every series did since that cursor's previous Collect, as
//              metrics/series.h values, for the EMF exporter, each alarm period, the dashboard.
//
// Windows. A background thread (MonitorTicker) calls Tick(now) every settings.resolution (10 s):
// Tick takes a cumulative snapshot of every series and keeps the difference from the previous
// one — sparse bucket counts, only for series that moved — in a ring covering settings.history
// (15 min). A window is the sum of the ring's last slots. Why this design: the request path pays
// nothing for windows (it only ever records into the cumulative histogram), a read never
// blocks a recorder, and memory is bounded by the ring, not by traffic. Time is injected (Tick
// takes `now`), so tests roll windows without sleeping. Bound: history / resolution slots (90),
// each holding per series that moved 64 bytes plus 8 bytes per histogram bucket it touched in
// that tick (at most kHistogramBucketCount = 802; a latency between 1 us and 10 s touches at most
// 384). With the default limits that is < 90 * 2000 * 64 B ~ 12 MB for counters and levels and
// 90 * 3 KB ~ 280 KB per busy latency series at worst; a few MB for hasivu's ~250 series in
// practice (WindowBytes() reports the figure, and each Tick sets the gauge
// hasivu_monitor_window_bytes to it).
//
// Bounded cardinality (CloudWatch bills every distinct series). A series is refused when its
// dimensions are not exactly its definition's names, a dimension name names an id (ends in "Id"
// or "ID", or is "id"), a value is empty, longer than 64 characters or shaped like a UUID, there
// are more than 30 dimensions, the definition's aggregation does not match the call, or a limit
// (settings.max_series in all, settings.max_series_per_name for one metric name) is reached. A
// refused series is never created: the call gets a shared sink handle that drops what it is given,
// and hasivu_metrics_dropped_series_total (each refused creation) and
// hasivu_metrics_dropped_observations_total (each observation given to a sink) count it.
//
// Why a concrete class (with its state behind a pointer) and not an interface with a factory:
// there is one implementation, tests use it over a private Registry (as cheap as a fake), and the
// handles are concrete so recording is not a second virtual call.
//
// Ownership: the Registry outlives the Monitor; handles, and the series they record into, live
// as long as the Monitor. Thread-safety: every method is safe to call concurrently. Series are
// created under a mutex (wiring time, not per request); Tick, Stats and Collect take snapshots
// under their own lock and never block recording.
#ifndef HASIVU_METRICS_MONITOR_H_
#define HASIVU_METRICS_MONITOR_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string_view>
#include <thread>
#include <vector>

#include "metrics/catalog.h"
#include "metrics/metrics.h"
#include "metrics/series.h"

namespace hasivu::metrics {

struct MonitorSettings {
  // How often Tick runs (the ring's slot width). Default: 10 s.
  std::chrono::milliseconds resolution{10'000};
  // How far back Stats() sees. Default: 15 min.
  std::chrono::minutes history{15};
  // Series in all (created and adopted), and per metric name. Defaults: 2000, 200.
  size_t max_series = 2000;
  size_t max_series_per_name = 200;
  // A database query (QueryMeter) slower than this counts in DatabaseSlowQueries. Default: 100 ms.
  std::chrono::milliseconds slow_query{100};
};

// The windows the dashboard and the seed's statistics helper ask for.
inline constexpr std::chrono::minutes kStatsWindows[] = {
    std::chrono::minutes(1), std::chrono::minutes(5), std::chrono::minutes(15)};

// Observations of one kDistribution series. Cheap to call from any thread.
class Distribution {
 public:
  Distribution(const Distribution&) = delete;
  Distribution& operator=(const Distribution&) = delete;

  // `value` in the series' unit (its definition's: milliseconds for ApiLatency).
  void Record(double value) { histogram_->Record(value * to_recorded_); }
  // For a time unit: `elapsed` in it.
  void RecordDuration(std::chrono::nanoseconds elapsed) {
    histogram_->Record(static_cast<double>(elapsed.count()) * ns_to_recorded_);
  }
  // True for the sink handed out for a refused series.
  bool dropping() const { return dropping_; }

 private:
  friend class Monitor;
  Distribution(Histogram* histogram, double to_recorded, double ns_to_recorded, bool dropping)
      : histogram_(histogram),
        to_recorded_(to_recorded),
        ns_to_recorded_(ns_to_recorded),
        dropping_(dropping) {}
  Histogram* histogram_;
  double to_recorded_;     // recorded unit per series unit
  double ns_to_recorded_;  // recorded unit per nanosecond
  bool dropping_;
};

// Additions to one kSum series. Cheap to call from any thread.
class Count {
 public:
  Count(const Count&) = delete;
  Count& operator=(const Count&) = delete;

  void Add(uint64_t n = 1) { counter_->Add(n); }
  bool dropping() const { return dropping_; }

 private:
  friend class Monitor;
  Count(Counter* counter, bool dropping) : counter_(counter), dropping_(dropping) {}
  Counter* counter_;
  bool dropping_;
};

// A level sampled at each Tick and Collect; nullopt: unknown now (the data point is missing).
// REQUIRES: safe to call from any thread; quick (no I/O beyond a /proc read).
using LevelFn = std::function<std::optional<double>()>;

// Statistics of a series over a recent window (Monitor::Stats), in the series' unit.
//   kDistribution  the observations: count, their sum, min, max, mean = sum / count, and
//                  percentiles interpolated within the histogram's buckets (error < 1/16).
//   kSum           count and sum: the total added in the window; min, max, mean and
//                  percentiles: of the per-tick totals (one per resolution, zeros included).
//   kLatest        the levels sampled at each tick (missing ones left out): count of samples,
//                  their sum, min, max, mean and percentiles.
// All zero when count == 0.
struct WindowStats {
  uint64_t count = 0;
  double sum = 0;
  double min = 0;
  double max = 0;
  double mean = 0;
  double p50 = 0;
  double p95 = 0;
  double p99 = 0;
};

// One observation for Monitor::RecordBatch: under `def`, or when it is null under the catalog
// definition named `name`.
struct Observation {
  const catalog::MetricDef* def = nullptr;
  std::string_view name;
  double value = 0;
  Dimensions dimensions;
};

// A reader's position for Monitor::Collect: each reader (the EMF flusher, each alarm period)
// holds its own. A fresh cursor's first Collect reports everything since each series began.
// Thread-safety: one Collect at a time per cursor; use a cursor with one Monitor only.
class Cursor {
 public:
  Cursor();
  ~Cursor();
  Cursor(Cursor&&) noexcept;
  Cursor& operator=(Cursor&&) noexcept;

 private:
  friend class Monitor;
  struct State;
  std::unique_ptr<State> state_;
};

class Monitor {
 public:
  Monitor(Registry& registry, MonitorSettings settings = {});
  ~Monitor();
  Monitor(const Monitor&) = delete;
  Monitor& operator=(const Monitor&) = delete;

  const MonitorSettings& settings() const;
  Registry& registry() const;

  // ---- Handles (call at wiring time and keep the reference) ------------------------------------
  // The series (def.name, dims), created on first call (an adopted series of that name and
  // dimensions is returned as it is: recording converts to its unit). REQUIRES for a real
  // handle: def.aggregation kDistribution (resp. kSum) and dims as the file comment says;
  // otherwise the sink. `dims` in any order.
  Distribution& GetDistribution(const catalog::MetricDef& def, const Dimensions& dims = {});
  Count& GetCount(const catalog::MetricDef& def, const Dimensions& dims = {});
  // kLatest: a level the caller sets, kept until set again (a Prometheus gauge, rounded). False
  // when the series is refused.
  bool SetLatest(const catalog::MetricDef& def, const Dimensions& dims, double value);
  // kLatest: a level `level` reports at each read (a Prometheus gauge refreshed at each Tick
  // and Collect). False when refused or the series exists already.
  bool AddLevel(const catalog::MetricDef& def, const Dimensions& dims, LevelFn level);

  // ---- Adoption of Registry series (they must outlive the Monitor) -----------------------------
  // kDistribution over `histogram`: a recorded value times `scale` is in def.unit (1e-3 for a
  // histogram of microseconds shown in milliseconds). The returned handle records into it.
  Distribution& AdoptHistogram(const catalog::MetricDef& def, const Dimensions& dims,
                               Histogram& histogram, double scale);
  // kSum over `counter`; the returned handle adds to it.
  Count& AdoptCounter(const catalog::MetricDef& def, const Dimensions& dims, Counter& counter);
  // kSum over the sum of `counters` (read only). False when refused.
  bool AdoptCounters(const catalog::MetricDef& def, const Dimensions& dims,
                     std::vector<const Counter*> counters);
  // kLatest: 100 * (what `numerator` added) / (what `denominator` added) over each interval
  // (a tick, a cursor's period), clamped to [0, 100] (the counters are read one after another,
  // numerator first, not as one snapshot; and a numerator need not be part of its denominator,
  // e.g. every cache tier's hits over the outermost tier's lookups); missing when the
  // denominator added nothing. False when refused.
  bool AdoptRatio(const catalog::MetricDef& def, const Dimensions& dims,
                  std::vector<const Counter*> numerator, std::vector<const Counter*> denominator);

  // ---- Recording by definition or name (the seed's helpers; a lookup, not for hot paths) -------
  // kDistribution: one observation; kSum: adds llround(value) (negative: nothing); kLatest: sets
  // the level. `name` is a catalog::kAll name. False when dropped (unknown name, refused
  // series, or a value that is not a finite number); the drop is counted.
  bool Record(const catalog::MetricDef& def, double value, const Dimensions& dims = {});
  bool Record(std::string_view name, double value, const Dimensions& dims = {});
  // Each as Record; returns how many were recorded.
  size_t RecordBatch(std::span<const Observation> batch);

  // ---- Reading ---------------------------------------------------------------------------------
  // Closes the ring slot ending at `now` (see the file comment) and drops slots older than
  // settings.history. A `now` not after the previous Tick's is ignored.
  void Tick(std::chrono::steady_clock::time_point now);
  // The series' statistics over the ring slots that end within `window` before the last Tick
  // (window clamped to settings.history); count 0 before the first Tick. nullopt when the series
  // does not exist (never created, or refused).
  std::optional<WindowStats> Stats(const catalog::MetricDef& def, const Dimensions& dims,
                                   std::chrono::seconds window) const;
  // Several series of one definition taken together, as Stats gives for one: their
  // observations merged (the percentiles of all of them, not a mean of percentiles), their
  // per-tick totals (kSum) added, their levels (kLatest) pooled. Series that do not exist are
  // left out; nullopt when none does, or for kDistribution when they are recorded in different
  // units (a created series beside one adopted with a scale: their buckets do not add up).
  std::optional<WindowStats> MergedStats(const catalog::MetricDef& def,
                                         std::span<const Dimensions> series,
                                         std::chrono::seconds window) const;
  // For every series, in creation order, what it did since `cursor`'s previous Collect (see
  // series.h): kDistribution: the observations (count, sum, min/max within bucket error, the
  // (representative, count) list); kSum: count = the total added (an integer) and sum = the
  // same; kLatest: the level now (a ratio: over the cursor's interval), or count 0 when missing.
  // Series that did nothing are included (count 0).
  std::vector<SeriesInterval> Collect(Cursor& cursor);
  // The live series' descriptions, in creation order.
  std::vector<SeriesInfo> Series() const;
  // Bytes held by the window ring now.
  size_t WindowBytes() const;
  uint64_t DroppedSeries() const;
  uint64_t DroppedObservations() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Calls monitor.Tick(steady_clock::now()) every monitor.settings().resolution on a thread of its
// own, from construction until Stop() (or destruction). Thread-safety: Stop() may be called from
// any thread, more than once.
class MonitorTicker {
 public:
  explicit MonitorTicker(Monitor& monitor);
  ~MonitorTicker();
  MonitorTicker(const MonitorTicker&) = delete;
  MonitorTicker& operator=(const MonitorTicker&) = delete;

  // Wakes the thread and joins it; returns at once when it has stopped already.
  void Stop();

 private:
  void Run();
  Monitor& monitor_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;   // GUARDED_BY(mu_)
  std::mutex join_mu_;  // one Stop() joins
  std::thread thread_;
};

// The resident set size in bytes from the text of /proc/<pid>/statm ("size resident shared text
// lib data dt", in pages) at `page_size` bytes a page; nullopt when the text is malformed. Pure.
std::optional<int64_t> ResidentBytesFromStatm(std::string_view statm, int64_t page_size);

// This process's resident set size in bytes (/proc/self/statm); nullopt where there is no /proc.
std::optional<int64_t> ProcessResidentBytes();

}  // namespace hasivu::metrics

#endif  // HASIVU_METRICS_MONITOR_H_
