#include "metrics/monitor.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <limits>
#include <map>
#include <string>
#include <utility>

#include "metrics/window.h"

namespace hasivu::metrics {
namespace {

using std::chrono::steady_clock;

constexpr size_t kMaxDimensions = 30;  // CloudWatch's limit per metric
constexpr size_t kMaxDimensionValue = 64;

// ---- Cardinality rules --------------------------------------------------------------------------

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// "UserId", "OrderID", "request_id", "id": a dimension of one value per entity.
bool NamesAnId(std::string_view name) {
  return name == "id" || name == "Id" || name == "ID" || EndsWith(name, "Id") ||
         EndsWith(name, "ID") || EndsWith(name, "_id") || EndsWith(name, "-id");
}

bool LooksLikeUuid(std::string_view v) {
  if (v.size() != 36) return false;
  for (size_t i = 0; i < v.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? v[i] != '-' : !std::isxdigit(static_cast<unsigned char>(v[i]))) return false;
  }
  return true;
}

// `dims` sorted by name; true when they are exactly `def`'s dimensions with bounded values.
bool AcceptableDimensions(const catalog::MetricDef& def, const Dimensions& dims) {
  if (dims.size() > kMaxDimensions) return false;
  std::vector<std::string_view> expected;
  for (std::string_view d : def.dimensions) {
    if (!d.empty()) expected.push_back(d);
  }
  std::sort(expected.begin(), expected.end());
  if (expected.size() != dims.size()) return false;
  for (size_t i = 0; i < dims.size(); ++i) {
    const auto& [name, value] = dims[i];
    if (name != expected[i] || NamesAnId(name)) return false;
    if (value.empty() || value.size() > kMaxDimensionValue || LooksLikeUuid(value)) return false;
  }
  return true;
}

Dimensions Canonical(const Dimensions& dims) {
  Dimensions out = dims;
  std::sort(out.begin(), out.end());
  return out;
}

bool HasDuplicateNames(const Dimensions& sorted) {
  for (size_t i = 1; i < sorted.size(); ++i) {
    if (sorted[i].first == sorted[i - 1].first) return true;
  }
  return false;
}

// ---- Units and Prometheus names -----------------------------------------------------------------

// Seconds per unit for time units, 0 for others.
double SecondsPer(Unit unit) {
  switch (unit) {
    case Unit::kMicroseconds:
      return 1e-6;
    case Unit::kMilliseconds:
      return 1e-3;
    case Unit::kSeconds:
      return 1;
    default:
      return 0;
  }
}

// Series unit per nanosecond (non-time units are taken as milliseconds: RecordDuration is only
// meant for time units).
double UnitsPerNanosecond(Unit unit) {
  const double s = SecondsPer(unit);
  return 1e-9 / (s > 0 ? s : 1e-3);
}

// "ColdStartDuration" -> "cold_start_duration", "QueryKind" -> "query_kind".
std::string SnakeCase(std::string_view camel) {
  std::string out;
  for (size_t i = 0; i < camel.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(camel[i]);
    if (std::isupper(c)) {
      const bool after_lower = i > 0 && (std::islower(static_cast<unsigned char>(camel[i - 1])) ||
                                         std::isdigit(static_cast<unsigned char>(camel[i - 1])));
      const bool ends_acronym = i > 0 && std::isupper(static_cast<unsigned char>(camel[i - 1])) &&
                                i + 1 < camel.size() &&
                                std::islower(static_cast<unsigned char>(camel[i + 1]));
      if ((after_lower || ends_acronym) && !out.empty() && out.back() != '_') out += '_';
      out += static_cast<char>(std::tolower(c));
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string PrometheusName(const catalog::MetricDef& def) {
  std::string name = "hasivu_" + SnakeCase(def.name);
  const bool time = SecondsPer(def.unit) > 0;
  std::string suffix;
  if (time) {
    suffix = "_seconds";
  } else if (def.unit == Unit::kBytes) {
    suffix = "_bytes";
  } else if (def.unit == Unit::kPercent) {
    suffix = "_percent";
  }
  if (!suffix.empty() && !EndsWith(name, suffix)) name += suffix;
  if (def.aggregation == Aggregation::kSum) name += "_total";
  return name;
}

Labels PrometheusLabels(const Dimensions& dims) {
  Labels out;
  for (const auto& [k, v] : dims) out.emplace_back(SnakeCase(k), v);
  return out;
}

std::vector<double> ExportBounds(Unit unit) {
  if (SecondsPer(unit) > 0) return {};  // the Registry's latency bounds in seconds
  return {1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
}

// ---- Sinks --------------------------------------------------------------------------------------

class SinkHistogram final : public Histogram {
 public:
  explicit SinkHistogram(Counter& dropped) : dropped_(dropped) {}
  // metrics::Histogram
  void Record(double) override { dropped_.Add(); }
  HistogramSnapshot Snapshot() const override { return {}; }

 private:
  Counter& dropped_;
};

class SinkCounter final : public Counter {
 public:
  explicit SinkCounter(Counter& dropped) : dropped_(dropped) {}
  // metrics::Counter
  void Add(uint64_t) override { dropped_.Add(); }
  uint64_t Value() const override { return 0; }

 private:
  Counter& dropped_;
};

// ---- Series -------------------------------------------------------------------------------------

enum class Source {
  kHistogram,  // a Registry histogram (created or adopted)
  kCounters,   // the sum of Registry counters (one when created or adopted with a handle)
  kRatio,      // 100 * added(numerator) / added(denominator)
  kLevel,      // a callback
  kSetLatest,  // a value set by the caller
};

struct Entry {
  SeriesInfo info;
  Source source = Source::kHistogram;
  const Histogram* histogram = nullptr;
  double scale = 1;  // series unit per recorded unit
  std::vector<const Counter*> counters;
  std::vector<const Counter*> denominator;
  LevelFn level;
  std::atomic<double> latest{0};
  std::atomic<bool> has_latest{false};
  Gauge* gauge = nullptr;  // the Prometheus mirror of a level
  std::unique_ptr<Distribution> distribution;
  std::unique_ptr<Count> count;
};

// A series' cumulative state at one read.
struct SeriesState {
  window::HistogramCounts histogram;  // kHistogram
  uint64_t total = 0;                 // kCounters; kRatio: numerator
  uint64_t denominator = 0;           // kRatio
};

uint64_t SumOf(const std::vector<const Counter*>& counters) {
  uint64_t total = 0;
  for (const Counter* c : counters) total += c->Value();
  return total;
}

SeriesState ReadState(const Entry& e) {
  SeriesState s;
  switch (e.source) {
    case Source::kHistogram:
      s.histogram = window::FromSnapshot(e.histogram->Snapshot());
      break;
    case Source::kCounters:
      s.total = SumOf(e.counters);
      break;
    case Source::kRatio:
      // Numerator first: an event recorded between the two reads (a hit counts in both) then
      // lands in this interval's denominator and the next one's numerator, so the numerator
      // never runs ahead of its denominator within an interval. The reads are not one atomic
      // snapshot (nor are a counter's shards), so LevelOf still clamps to [0, 100].
      s.total = SumOf(e.counters);
      s.denominator = SumOf(e.denominator);
      break;
    case Source::kLevel:
    case Source::kSetLatest:
      break;
  }
  return s;
}

uint64_t Added(uint64_t now, uint64_t before) { return now > before ? now - before : 0; }

// A level's value now (a ratio: over the interval from `before` to `now`), mirrored to its
// Prometheus gauge.
std::optional<double> LevelOf(Entry& e, const SeriesState& now, const SeriesState& before) {
  std::optional<double> v;
  switch (e.source) {
    case Source::kRatio: {
      const uint64_t den = Added(now.denominator, before.denominator);
      if (den > 0) {
        const double ratio =
            100.0 * static_cast<double>(Added(now.total, before.total)) / static_cast<double>(den);
        v = std::clamp(ratio, 0.0, 100.0);
      }
      break;
    }
    case Source::kLevel:
      v = e.level();
      if (v && !std::isfinite(*v)) v.reset();
      break;
    case Source::kSetLatest:
      if (e.has_latest.load(std::memory_order_acquire)) {
        v = e.latest.load(std::memory_order_relaxed);
      }
      break;
    default:
      break;
  }
  if (v && e.gauge != nullptr) e.gauge->Set(std::llround(*v));
  return v;
}

// ---- The ring -----------------------------------------------------------------------------------

struct PackedBucket {
  uint16_t index;
  uint32_t count;
};
static_assert(kHistogramBucketCount <= std::numeric_limits<uint16_t>::max());

struct TickEntry {
  uint32_t series = 0;
  uint64_t count = 0;  // observations; kSum: the total added; kLatest: 1
  double sum = 0;      // in the recorded unit; kLatest: the level
  double min = 0;
  double max = 0;
  std::vector<PackedBucket> buckets;
};

struct Slot {
  steady_clock::time_point end;
  std::vector<TickEntry> entries;  // ascending by series
};

// What an allocation of `n` bytes takes of the heap: glibc's malloc (x86-64) adds an 8-byte header
// and rounds up to 16, at least 32 bytes. A ring of many small bucket vectors takes a third more
// than their sizes add up to; the soak (docs/reliability.md) subtracts this figure from the live
// heap, so it must be the heap's.
size_t HeapBytes(size_t n) {
  if (n == 0) return 0;
  return std::max<size_t>(32, (n + 8 + 15) & ~size_t{15});
}

// What the windows take of the heap, for Monitor::WindowBytes and its gauge: the ring of ticks
// (std::deque's 512-byte blocks and its block map included) and each series' state at the last
// tick, which the next tick diffs against.
size_t RingBytes(const std::deque<Slot>& ring, const std::vector<SeriesState>& at_last_tick) {
  constexpr size_t kDequeBlock = 512;  // libstdc++: blocks of 512 bytes (or one element)
  const size_t per_block = std::max<size_t>(1, kDequeBlock / sizeof(Slot));
  const size_t blocks = (ring.size() + per_block - 1) / per_block + 1;
  size_t bytes = blocks * HeapBytes(per_block * sizeof(Slot)) + HeapBytes(8 * sizeof(void*)) +
                 HeapBytes(at_last_tick.capacity() * sizeof(SeriesState));
  for (const SeriesState& state : at_last_tick) {
    bytes += HeapBytes(state.histogram.buckets.capacity() * sizeof(window::BucketCount));
  }
  for (const Slot& s : ring) {
    bytes += HeapBytes(s.entries.capacity() * sizeof(TickEntry));
    for (const TickEntry& t : s.entries) {
      bytes += HeapBytes(t.buckets.capacity() * sizeof(PackedBucket));
    }
  }
  return bytes;
}

std::vector<PackedBucket> Pack(const std::vector<window::BucketCount>& buckets) {
  std::vector<PackedBucket> out;
  out.reserve(buckets.size());
  for (const window::BucketCount& b : buckets) {
    uint64_t left = b.count;
    while (left > 0) {
      const uint32_t n =
          static_cast<uint32_t>(std::min<uint64_t>(left, std::numeric_limits<uint32_t>::max()));
      out.push_back({static_cast<uint16_t>(b.index), n});
      left -= n;
    }
  }
  return out;
}

// Statistics of per-tick values (kSum totals, kLatest samples).
WindowStats SampleStats(std::vector<double> values, uint64_t count, double sum) {
  WindowStats w;
  w.count = count;
  w.sum = sum;
  if (values.empty() || count == 0) return WindowStats{};
  w.min = *std::min_element(values.begin(), values.end());
  w.max = *std::max_element(values.begin(), values.end());
  double total = 0;
  for (double v : values) total += v;
  w.mean = total / static_cast<double>(values.size());
  w.p50 = window::NearestRank(values, 0.50);
  w.p95 = window::NearestRank(values, 0.95);
  w.p99 = window::NearestRank(values, 0.99);
  return w;
}

}  // namespace

// ---- Cursor -------------------------------------------------------------------------------------

struct Cursor::State {
  std::vector<SeriesState> series;  // by series index
};

Cursor::Cursor() = default;
Cursor::~Cursor() = default;
Cursor::Cursor(Cursor&&) noexcept = default;
Cursor& Cursor::operator=(Cursor&&) noexcept = default;

// ---- Monitor ------------------------------------------------------------------------------------

struct Monitor::Impl {
  Impl(Registry& r, MonitorSettings s)
      : registry(r),
        settings(s),
        dropped_series(r.GetCounter("hasivu_metrics_dropped_series_total",
                                    "Monitor series refused (cardinality rules or limits)")),
        dropped_observations(
            r.GetCounter("hasivu_metrics_dropped_observations_total",
                         "Observations given to a refused series, or not a finite number")),
        window_bytes(r.GetGauge("hasivu_monitor_window_bytes",
                                "Bytes the monitor's windows hold (its ring of ticks)")),
        sink_histogram(dropped_observations),
        sink_counter(dropped_observations),
        sink_distribution(new Distribution(&sink_histogram, 1, 1, true)),
        sink_count(new Count(&sink_counter, true)) {
    if (settings.resolution <= std::chrono::milliseconds(0)) {
      settings.resolution = std::chrono::seconds(10);
    }
  }

  using Key = std::pair<std::string, Dimensions>;

  // The existing entry of (def.name, dims), or null. REQUIRES: mu held; dims canonical.
  Entry* Find(std::string_view name, const Dimensions& dims) {
    auto it = index.find(Key(std::string(name), dims));
    return it == index.end() ? nullptr : entries[it->second].get();
  }

  // A new entry for (def, dims) if the rules allow it, else null (counted). REQUIRES: mu held;
  // no entry of that key; dims canonical.
  Entry* Create(const catalog::MetricDef& def, const Dimensions& dims, Aggregation expected) {
    const bool acceptable = def.aggregation == expected && !def.name.empty() &&
                            !HasDuplicateNames(dims) && AcceptableDimensions(def, dims) &&
                            entries.size() < settings.max_series &&
                            per_name[std::string(def.name)] < settings.max_series_per_name;
    if (!acceptable) {
      dropped_series.Add();
      return nullptr;
    }
    ++per_name[std::string(def.name)];
    auto e = std::make_unique<Entry>();
    e->info = SeriesInfo{.name = std::string(def.name),
                         .unit = def.unit,
                         .dimensions = dims,
                         .aggregation = def.aggregation};
    Entry* raw = e.get();
    index.emplace(Key(std::string(def.name), dims), entries.size());
    entries.push_back(std::move(e));
    return raw;
  }

  std::vector<Entry*> Entries() const {
    std::lock_guard lock(mu);
    std::vector<Entry*> out;
    out.reserve(entries.size());
    for (const auto& e : entries) out.push_back(e.get());
    return out;
  }

  Distribution& DistributionOf(const catalog::MetricDef& def, const Dimensions& raw_dims) {
    const Dimensions dims = Canonical(raw_dims);
    std::lock_guard lock(mu);
    if (Entry* e = Find(def.name, dims)) {
      if (e->distribution) return *e->distribution;
      dropped_series.Add();
      return *sink_distribution;
    }
    Entry* e = Create(def, dims, Aggregation::kDistribution);
    if (e == nullptr) return *sink_distribution;
    const double seconds = SecondsPer(def.unit);
    Histogram& h = registry.GetHistogram(PrometheusName(def), def.help, PrometheusLabels(dims),
                                         seconds > 0 ? seconds : 1.0, ExportBounds(def.unit));
    e->source = Source::kHistogram;
    e->histogram = &h;
    e->scale = 1;
    e->distribution.reset(new Distribution(&h, 1, UnitsPerNanosecond(def.unit), false));
    return *e->distribution;
  }

  Count& CountOf(const catalog::MetricDef& def, const Dimensions& raw_dims) {
    const Dimensions dims = Canonical(raw_dims);
    std::lock_guard lock(mu);
    if (Entry* e = Find(def.name, dims)) {
      if (e->count) return *e->count;
      dropped_series.Add();
      return *sink_count;
    }
    Entry* e = Create(def, dims, Aggregation::kSum);
    if (e == nullptr) return *sink_count;
    Counter& c = registry.GetCounter(PrometheusName(def), def.help, PrometheusLabels(dims));
    e->source = Source::kCounters;
    e->counters = {&c};
    e->count.reset(new Count(&c, false));
    return *e->count;
  }

  // Creates a level entry of `source` (refused when it exists), with its Prometheus gauge.
  Entry* NewLevel(const catalog::MetricDef& def, const Dimensions& dims, Source source,
                  bool mirror) {
    if (Find(def.name, dims) != nullptr) {
      dropped_series.Add();
      return nullptr;
    }
    Entry* e = Create(def, dims, Aggregation::kLatest);
    if (e == nullptr) return nullptr;
    e->source = source;
    if (mirror) {
      e->gauge = &registry.GetGauge(PrometheusName(def), def.help, PrometheusLabels(dims));
    }
    return e;
  }

  Registry& registry;
  MonitorSettings settings;
  Counter& dropped_series;
  Counter& dropped_observations;
  Gauge& window_bytes;  // RingBytes(ring, at_last_tick), set at each Tick
  SinkHistogram sink_histogram;
  SinkCounter sink_counter;
  std::unique_ptr<Distribution> sink_distribution;
  std::unique_ptr<Count> sink_count;

  mutable std::mutex mu;
  std::vector<std::unique_ptr<Entry>> entries;  // GUARDED_BY(mu); never removed
  std::map<Key, size_t> index;                  // GUARDED_BY(mu)
  std::map<std::string, size_t> per_name;       // GUARDED_BY(mu)

  mutable std::mutex ring_mu;
  std::vector<SeriesState> at_last_tick;              // GUARDED_BY(ring_mu); by series index
  std::deque<Slot> ring;                              // GUARDED_BY(ring_mu); ascending by end
  std::optional<steady_clock::time_point> last_tick;  // GUARDED_BY(ring_mu)
};

Monitor::Monitor(Registry& registry, MonitorSettings settings)
    : impl_(std::make_unique<Impl>(registry, settings)) {}

Monitor::~Monitor() = default;

const MonitorSettings& Monitor::settings() const { return impl_->settings; }
Registry& Monitor::registry() const { return impl_->registry; }

Distribution& Monitor::GetDistribution(const catalog::MetricDef& def, const Dimensions& dims) {
  return impl_->DistributionOf(def, dims);
}

Count& Monitor::GetCount(const catalog::MetricDef& def, const Dimensions& dims) {
  return impl_->CountOf(def, dims);
}

bool Monitor::SetLatest(const catalog::MetricDef& def, const Dimensions& raw_dims, double value) {
  const Dimensions dims = Canonical(raw_dims);
  if (!std::isfinite(value)) {
    impl_->dropped_observations.Add();
    return false;
  }
  std::lock_guard lock(impl_->mu);
  Entry* e = impl_->Find(def.name, dims);
  if (e == nullptr) e = impl_->NewLevel(def, dims, Source::kSetLatest, /*mirror=*/true);
  if (e == nullptr || e->source != Source::kSetLatest) {
    impl_->dropped_observations.Add();
    return false;
  }
  e->latest.store(value, std::memory_order_relaxed);
  e->has_latest.store(true, std::memory_order_release);
  e->gauge->Set(std::llround(value));
  return true;
}

bool Monitor::AddLevel(const catalog::MetricDef& def, const Dimensions& raw_dims, LevelFn level) {
  if (!level) return false;
  const Dimensions dims = Canonical(raw_dims);
  std::lock_guard lock(impl_->mu);
  Entry* e = impl_->NewLevel(def, dims, Source::kLevel, /*mirror=*/true);
  if (e == nullptr) return false;
  e->level = std::move(level);
  return true;
}

Distribution& Monitor::AdoptHistogram(const catalog::MetricDef& def, const Dimensions& raw_dims,
                                      Histogram& histogram, double scale) {
  const Dimensions dims = Canonical(raw_dims);
  std::lock_guard lock(impl_->mu);
  if (Entry* e = impl_->Find(def.name, dims)) {
    if (e->histogram == &histogram && e->distribution) return *e->distribution;
    impl_->dropped_series.Add();
    return *impl_->sink_distribution;
  }
  if (!(scale > 0) || !std::isfinite(scale)) {
    impl_->dropped_series.Add();
    return *impl_->sink_distribution;
  }
  Entry* e = impl_->Create(def, dims, Aggregation::kDistribution);
  if (e == nullptr) return *impl_->sink_distribution;
  e->source = Source::kHistogram;
  e->histogram = &histogram;
  e->scale = scale;
  e->distribution.reset(
      new Distribution(&histogram, 1 / scale, UnitsPerNanosecond(def.unit) / scale, false));
  return *e->distribution;
}

Count& Monitor::AdoptCounter(const catalog::MetricDef& def, const Dimensions& raw_dims,
                             Counter& counter) {
  const Dimensions dims = Canonical(raw_dims);
  std::lock_guard lock(impl_->mu);
  if (Entry* e = impl_->Find(def.name, dims)) {
    if (e->count && e->counters.size() == 1 && e->counters[0] == &counter) return *e->count;
    impl_->dropped_series.Add();
    return *impl_->sink_count;
  }
  Entry* e = impl_->Create(def, dims, Aggregation::kSum);
  if (e == nullptr) return *impl_->sink_count;
  e->source = Source::kCounters;
  e->counters = {&counter};
  e->count.reset(new Count(&counter, false));
  return *e->count;
}

bool Monitor::AdoptCounters(const catalog::MetricDef& def, const Dimensions& raw_dims,
                            std::vector<const Counter*> counters) {
  std::erase(counters, nullptr);
  const Dimensions dims = Canonical(raw_dims);
  std::lock_guard lock(impl_->mu);
  if (impl_->Find(def.name, dims) != nullptr) {
    impl_->dropped_series.Add();
    return false;
  }
  Entry* e = impl_->Create(def, dims, Aggregation::kSum);
  if (e == nullptr) return false;
  e->source = Source::kCounters;
  e->counters = std::move(counters);
  return true;
}

bool Monitor::AdoptRatio(const catalog::MetricDef& def, const Dimensions& raw_dims,
                         std::vector<const Counter*> numerator,
                         std::vector<const Counter*> denominator) {
  std::erase(numerator, nullptr);
  std::erase(denominator, nullptr);
  const Dimensions dims = Canonical(raw_dims);
  std::lock_guard lock(impl_->mu);
  // A ratio is computed per interval, so it has no Prometheus gauge: rate() over the counters
  // gives the same there.
  Entry* e = impl_->NewLevel(def, dims, Source::kRatio, /*mirror=*/false);
  if (e == nullptr) return false;
  e->counters = std::move(numerator);
  e->denominator = std::move(denominator);
  return true;
}

bool Monitor::Record(const catalog::MetricDef& def, double value, const Dimensions& dims) {
  switch (def.aggregation) {
    case Aggregation::kDistribution: {
      Distribution& d = GetDistribution(def, dims);
      if (d.dropping() || !std::isfinite(value)) {
        impl_->dropped_observations.Add();
        return false;
      }
      d.Record(value);
      return true;
    }
    case Aggregation::kSum: {
      Count& c = GetCount(def, dims);
      if (c.dropping() || !std::isfinite(value) || value < 0) {
        impl_->dropped_observations.Add();
        return false;
      }
      c.Add(static_cast<uint64_t>(std::llround(value)));
      return true;
    }
    case Aggregation::kLatest:
      return SetLatest(def, dims, value);
  }
  return false;
}

bool Monitor::Record(std::string_view name, double value, const Dimensions& dims) {
  for (const catalog::MetricDef& def : catalog::kAll) {
    if (def.name == name) return Record(def, value, dims);
  }
  impl_->dropped_observations.Add();
  return false;
}

size_t Monitor::RecordBatch(std::span<const Observation> batch) {
  size_t recorded = 0;
  for (const Observation& o : batch) {
    const bool ok = o.def != nullptr ? Record(*o.def, o.value, o.dimensions)
                                     : Record(o.name, o.value, o.dimensions);
    if (ok) ++recorded;
  }
  return recorded;
}

void Monitor::Tick(steady_clock::time_point now) {
  const std::vector<Entry*> entries = impl_->Entries();
  std::lock_guard lock(impl_->ring_mu);
  if (impl_->last_tick && now <= *impl_->last_tick) return;
  // Grow only: a Tick racing this one may have copied fewer entries.
  if (impl_->at_last_tick.size() < entries.size()) impl_->at_last_tick.resize(entries.size());
  Slot slot;
  slot.end = now;
  for (size_t i = 0; i < entries.size(); ++i) {
    Entry& e = *entries[i];
    SeriesState current = ReadState(e);
    SeriesState& before = impl_->at_last_tick[i];
    TickEntry t;
    t.series = static_cast<uint32_t>(i);
    switch (e.info.aggregation) {
      case Aggregation::kDistribution: {
        window::HistogramCounts d = window::Diff(current.histogram, before.histogram);
        t.count = d.count;
        t.sum = d.sum;
        t.min = d.min;
        t.max = d.max;
        t.buckets = Pack(d.buckets);
        break;
      }
      case Aggregation::kSum:
        t.count = Added(current.total, before.total);
        t.sum = static_cast<double>(t.count);
        break;
      case Aggregation::kLatest:
        if (std::optional<double> v = LevelOf(e, current, before)) {
          t.count = 1;
          t.sum = t.min = t.max = *v;
        }
        break;
    }
    before = std::move(current);
    if (t.count > 0) slot.entries.push_back(std::move(t));
  }
  impl_->ring.push_back(std::move(slot));
  impl_->last_tick = now;
  const steady_clock::time_point oldest = now - impl_->settings.history;
  while (!impl_->ring.empty() && impl_->ring.front().end <= oldest) impl_->ring.pop_front();
  impl_->window_bytes.Set(static_cast<int64_t>(RingBytes(impl_->ring, impl_->at_last_tick)));
}

std::optional<WindowStats> Monitor::Stats(const catalog::MetricDef& def, const Dimensions& dims,
                                          std::chrono::seconds window) const {
  return MergedStats(def, std::span<const Dimensions>(&dims, 1), window);
}

std::optional<WindowStats> Monitor::MergedStats(const catalog::MetricDef& def,
                                                std::span<const Dimensions> series_dims,
                                                std::chrono::seconds window) const {
  std::vector<uint32_t> series;  // ascending, as a slot's entries are
  Aggregation aggregation = Aggregation::kDistribution;
  double scale = 1;
  {
    std::lock_guard lock(impl_->mu);
    for (const Dimensions& dims : series_dims) {
      auto it = impl_->index.find(Impl::Key(std::string(def.name), Canonical(dims)));
      if (it == impl_->index.end()) continue;
      const Entry& entry = *impl_->entries[it->second];
      if (series.empty()) {
        aggregation = entry.info.aggregation;
        scale = entry.scale;
      } else if (aggregation == Aggregation::kDistribution && entry.scale != scale) {
        // Bucket indexes of histograms in other units do not add up.
        return std::nullopt;
      }
      series.push_back(static_cast<uint32_t>(it->second));
    }
  }
  if (series.empty()) return std::nullopt;
  std::sort(series.begin(), series.end());
  series.erase(std::unique(series.begin(), series.end()), series.end());

  std::lock_guard lock(impl_->ring_mu);
  if (!impl_->last_tick) return WindowStats{};
  const auto span = std::min<steady_clock::duration>(window, impl_->settings.history);
  const steady_clock::time_point from = *impl_->last_tick - span;

  std::vector<uint64_t> dense;
  if (aggregation == Aggregation::kDistribution) dense.assign(kHistogramBucketCount, 0);
  std::vector<double> samples;  // kSum: per-tick totals; kLatest: levels
  uint64_t count = 0;
  double sum = 0;
  double min = std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();
  for (auto slot = impl_->ring.rbegin(); slot != impl_->ring.rend() && slot->end > from; ++slot) {
    double slot_total = 0;
    for (const uint32_t s : series) {
      auto t = std::lower_bound(slot->entries.begin(), slot->entries.end(), s,
                                [](const TickEntry& e, uint32_t i) { return e.series < i; });
      if (t == slot->entries.end() || t->series != s) continue;
      count += t->count;
      sum += t->sum;
      min = std::min(min, t->min);
      max = std::max(max, t->max);
      if (aggregation == Aggregation::kSum) slot_total += t->sum;
      if (aggregation == Aggregation::kLatest) samples.push_back(t->sum);
      if (aggregation == Aggregation::kDistribution) {
        for (const PackedBucket& b : t->buckets) dense[b.index] += b.count;
      }
    }
    if (aggregation == Aggregation::kSum) samples.push_back(slot_total);
  }
  if (aggregation != Aggregation::kDistribution) return SampleStats(std::move(samples), count, sum);
  if (count == 0) return WindowStats{};
  const HistogramSnapshot snap = window::SnapshotOf(dense, sum, min, max);
  WindowStats w;
  w.count = count;
  w.sum = sum * scale;
  w.min = min * scale;
  w.max = max * scale;
  w.mean = w.sum / static_cast<double>(count);
  w.p50 = snap.Quantile(0.50) * scale;
  w.p95 = snap.Quantile(0.95) * scale;
  w.p99 = snap.Quantile(0.99) * scale;
  return w;
}

std::vector<SeriesInterval> Monitor::Collect(Cursor& cursor) {
  const std::vector<Entry*> entries = impl_->Entries();
  if (!cursor.state_) cursor.state_ = std::make_unique<Cursor::State>();
  std::vector<SeriesState>& before = cursor.state_->series;
  before.resize(std::max(before.size(), entries.size()));
  std::vector<SeriesInterval> out;
  out.reserve(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    Entry& e = *entries[i];
    SeriesState current = ReadState(e);
    SeriesInterval s;
    s.info = e.info;
    switch (e.info.aggregation) {
      case Aggregation::kDistribution: {
        const window::HistogramCounts d = window::Diff(current.histogram, before[i].histogram);
        s.data.count = d.count;
        s.data.sum = d.sum * e.scale;
        s.data.min = d.min * e.scale;
        s.data.max = d.max * e.scale;
        s.data.values = window::Representatives(d, e.scale);
        break;
      }
      case Aggregation::kSum:
        s.data.count = Added(current.total, before[i].total);
        s.data.sum = static_cast<double>(s.data.count);
        break;
      case Aggregation::kLatest:
        if (std::optional<double> v = LevelOf(e, current, before[i])) {
          s.data.count = 1;
          s.data.sum = *v;
        }
        break;
    }
    before[i] = std::move(current);
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<SeriesInfo> Monitor::Series() const {
  std::vector<SeriesInfo> out;
  for (const Entry* e : impl_->Entries()) out.push_back(e->info);
  return out;
}

size_t Monitor::WindowBytes() const {
  std::lock_guard lock(impl_->ring_mu);
  return RingBytes(impl_->ring, impl_->at_last_tick);
}

uint64_t Monitor::DroppedSeries() const { return impl_->dropped_series.Value(); }
uint64_t Monitor::DroppedObservations() const { return impl_->dropped_observations.Value(); }

// ---- MonitorTicker ------------------------------------------------------------------------------

MonitorTicker::MonitorTicker(Monitor& monitor) : monitor_(monitor) {
  thread_ = std::thread([this] { Run(); });
}

MonitorTicker::~MonitorTicker() { Stop(); }

void MonitorTicker::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  std::lock_guard join(join_mu_);
  if (thread_.joinable()) thread_.join();
}

void MonitorTicker::Run() {
  const auto period = monitor_.settings().resolution;
  // Deadlines advance by the period, so a slow Tick does not make the slots drift longer.
  steady_clock::time_point next = steady_clock::now() + period;
  std::unique_lock lock(mu_);
  while (!wake_.wait_until(lock, next, [this] { return stop_; })) {
    lock.unlock();
    const steady_clock::time_point now = steady_clock::now();
    monitor_.Tick(now);
    next += period;
    if (next <= now) next = now + period;  // fell behind (a suspended process): skip ahead
    lock.lock();
  }
}

// ---- Process ------------------------------------------------------------------------------------

std::optional<int64_t> ResidentBytesFromStatm(std::string_view statm, int64_t page_size) {
  if (page_size <= 0) return std::nullopt;
  // The second of the space-separated fields.
  const size_t space = statm.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  std::string_view field = statm.substr(space + 1);
  field = field.substr(0, field.find_first_of(" \n"));
  int64_t pages = 0;
  const auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), pages);
  if (ec != std::errc() || end != field.data() + field.size() || field.empty() || pages < 0 ||
      pages > INT64_MAX / page_size) {
    return std::nullopt;
  }
  return pages * page_size;
}

std::optional<int64_t> ProcessResidentBytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return std::nullopt;
  char text[256];
  const size_t n = std::fread(text, 1, sizeof(text) - 1, f);
  std::fclose(f);
  return ResidentBytesFromStatm(std::string_view(text, n), sysconf(_SC_PAGESIZE));
}

}  // namespace hasivu::metrics
