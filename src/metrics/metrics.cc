#include "metrics/metrics.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>
#include <thread>

namespace hasivu::metrics {
namespace {

// ---- Process start ------------------------------------------------------------------------------

struct StartInstant {
  std::chrono::steady_clock::time_point steady = std::chrono::steady_clock::now();
  std::chrono::system_clock::time_point wall = std::chrono::system_clock::now();
};

// A function-local static so that a caller from another translation unit's static initialiser
// still sees a captured instant, whatever the initialisation order.
const StartInstant& Start() {
  static const StartInstant start;
  return start;
}

// Captures the instant during static initialisation, before main, whenever this object file is
// linked (it is whenever NewRegistry is).
[[maybe_unused]] const StartInstant& kCapturedAtLoad = Start();

// ---- Sharding -----------------------------------------------------------------------------------

constexpr size_t kCacheLine = 64;

size_t ShardCount() {
  static const size_t count = [] {
    size_t hw = std::max<size_t>(std::thread::hardware_concurrency(), 1);
    return std::clamp<size_t>(std::bit_ceil(hw), 16, 256);
  }();
  return count;
}

// Threads take shards round robin; with at most ShardCount() live recording threads no two share
// a cache line, and beyond that sharing only costs contention, never correctness.
size_t ThisThreadShard() {
  static std::atomic<size_t> next{0};
  thread_local const size_t shard =
      next.fetch_add(1, std::memory_order_relaxed) & (ShardCount() - 1);
  return shard;
}

struct alignas(kCacheLine) PaddedCounter {
  std::atomic<uint64_t> value{0};
};

void AtomicMin(std::atomic<double>& target, double v) {
  double cur = target.load(std::memory_order_relaxed);
  while (v < cur && !target.compare_exchange_weak(cur, v, std::memory_order_relaxed)) {
  }
}

void AtomicMax(std::atomic<double>& target, double v) {
  double cur = target.load(std::memory_order_relaxed);
  while (v > cur && !target.compare_exchange_weak(cur, v, std::memory_order_relaxed)) {
  }
}

// ---- Log-linear bucket layout -------------------------------------------------------------------

constexpr int kSubBucketBits = std::countr_zero(static_cast<unsigned>(kSubBuckets));
static_assert((1 << kSubBucketBits) == kSubBuckets, "kSubBuckets must be a power of two");
constexpr int kMinExponent = -10;  // first log-linear bucket starts at 2^-10
constexpr int kMaxExponent = 40;   // overflow bucket starts at 2^40
constexpr size_t kLinearBuckets = static_cast<size_t>(kMaxExponent - kMinExponent) * kSubBuckets;
// Index 0: [0, 2^kMinExponent); 1..kLinearBuckets: log-linear; last: [2^kMaxExponent, inf).
constexpr size_t kBucketCount = kLinearBuckets + 2;
constexpr size_t kOverflowBucket = kBucketCount - 1;

size_t BucketIndex(double v) {
  if (!(v >= std::ldexp(1.0, kMinExponent))) return 0;
  if (v >= std::ldexp(1.0, kMaxExponent)) return kOverflowBucket;
  // The IEEE exponent gives the power of two, the top mantissa bits the linear sub-bucket.
  uint64_t bits = std::bit_cast<uint64_t>(v);
  int exponent = static_cast<int>((bits >> 52) & 0x7ff) - 1023;
  size_t sub = static_cast<size_t>((bits >> (52 - kSubBucketBits)) & (kSubBuckets - 1));
  return 1 + static_cast<size_t>(exponent - kMinExponent) * kSubBuckets + sub;
}

double BucketLower(size_t index) {
  if (index == 0) return 0.0;
  if (index >= kOverflowBucket) return std::ldexp(1.0, kMaxExponent);
  size_t i = index - 1;
  int exponent = kMinExponent + static_cast<int>(i / kSubBuckets);
  double sub = static_cast<double>(i % kSubBuckets);
  return std::ldexp(1.0 + sub / kSubBuckets, exponent);
}

double BucketUpper(size_t index) {
  if (index >= kOverflowBucket) return std::numeric_limits<double>::infinity();
  return BucketLower(index + 1);
}

// ---- Formatting ---------------------------------------------------------------------------------

std::string FormatDouble(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  double a = std::fabs(v);
  // Plain decimals read best for bounds like 0.00025; exponents only where they would be long.
  auto fmt =
      (a == 0 || (a >= 1e-6 && a < 1e15)) ? std::chars_format::fixed : std::chars_format::general;
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v, fmt);
  if (ec != std::errc()) return "NaN";
  return std::string(buf, end);
}

std::string SanitizeName(std::string_view name, bool allow_colon) {
  std::string out(name);
  if (out.empty()) out = "_";
  for (size_t i = 0; i < out.size(); ++i) {
    char c = out[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (allow_colon && c == ':') || (i > 0 && c >= '0' && c <= '9');
    if (!ok) out[i] = '_';
  }
  return out;
}

void AppendEscapedLabelValue(std::string& out, std::string_view v) {
  for (char c : v) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
}

std::string EscapeHelp(std::string_view help) {
  std::string out;
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// Sorted by name, first of duplicate names kept, names sanitised: the identity of a series.
Labels CanonicalLabels(const Labels& labels) {
  Labels out;
  out.reserve(labels.size());
  for (const auto& [k, v] : labels) out.emplace_back(SanitizeName(k, false), v);
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  out.erase(std::unique(out.begin(), out.end(),
                        [](const auto& a, const auto& b) { return a.first == b.first; }),
            out.end());
  return out;
}

// `{a="x",b="y"}` (empty when there are no labels and no extra), with `extra` appended last.
std::string RenderLabels(const Labels& labels, std::string_view extra_name = {},
                         std::string_view extra_value = {}) {
  if (labels.empty() && extra_name.empty()) return {};
  std::string out = "{";
  bool first = true;
  auto add = [&](std::string_view k, std::string_view v) {
    if (!first) out += ',';
    first = false;
    out += k;
    out += "=\"";
    AppendEscapedLabelValue(out, v);
    out += '"';
  };
  for (const auto& [k, v] : labels) add(k, v);
  if (!extra_name.empty()) add(extra_name, extra_value);
  out += '}';
  return out;
}

// ---- Series -------------------------------------------------------------------------------------

class ShardedCounter final : public Counter {
 public:
  ShardedCounter() : shards_(new PaddedCounter[ShardCount()]) {}

  // metrics::Counter
  void Add(uint64_t n) override {
    shards_[ThisThreadShard()].value.fetch_add(n, std::memory_order_relaxed);
  }
  uint64_t Value() const override {
    uint64_t total = 0;
    for (size_t i = 0; i < ShardCount(); ++i) {
      total += shards_[i].value.load(std::memory_order_relaxed);
    }
    return total;
  }

 private:
  std::unique_ptr<PaddedCounter[]> shards_;
};

// One value: Set() has no meaningful per-thread split, and gauges are not on hot paths.
class AtomicGauge final : public Gauge {
 public:
  // metrics::Gauge
  void Set(int64_t v) override { value_.store(v, std::memory_order_relaxed); }
  void Add(int64_t d) override { value_.fetch_add(d, std::memory_order_relaxed); }
  int64_t Value() const override { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

const std::vector<double>& DefaultExportBounds() {
  static const std::vector<double> bounds = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                             0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                             1,      2.5,     5,      10};
  return bounds;
}

class LogLinearHistogram final : public Histogram {
 public:
  LogLinearHistogram(double scale, std::vector<double> export_bounds) : scale_(scale) {
    if (!(scale_ > 0) || !std::isfinite(scale_)) scale_ = 1.0;
    std::erase_if(export_bounds, [](double b) { return !std::isfinite(b); });
    std::sort(export_bounds.begin(), export_bounds.end());
    export_bounds.erase(std::unique(export_bounds.begin(), export_bounds.end()),
                        export_bounds.end());
    export_bounds_ = export_bounds.empty() ? DefaultExportBounds() : std::move(export_bounds);
    // Compared in the recorded unit, so Record does no multiplication; the relative slack keeps
    // e.g. 100 us at scale 1e-6 inside le="0.0001" despite 1e-6 not being exact in binary.
    for (double b : export_bounds_) raw_bounds_.push_back(b / scale_ * (1 + 1e-12));
    shards_ = std::make_unique<std::atomic<Shard*>[]>(ShardCount());
  }

  ~LogLinearHistogram() override {
    for (size_t i = 0; i < ShardCount(); ++i) delete shards_[i].load(std::memory_order_relaxed);
  }

  // metrics::Histogram
  void Record(double value) override {
    if (!std::isfinite(value)) return;
    if (value < 0) value = 0;
    Shard& shard = ThisShard();
    shard.buckets[BucketIndex(value)].fetch_add(1, std::memory_order_relaxed);
    size_t e = static_cast<size_t>(std::lower_bound(raw_bounds_.begin(), raw_bounds_.end(), value) -
                                   raw_bounds_.begin());
    shard.export_counts[e].fetch_add(1, std::memory_order_relaxed);
    shard.sum.fetch_add(value, std::memory_order_relaxed);
    AtomicMin(shard.min, value);
    AtomicMax(shard.max, value);
  }

  HistogramSnapshot Snapshot() const override {
    std::array<uint64_t, kBucketCount> counts{};
    HistogramSnapshot snap;
    double min = std::numeric_limits<double>::infinity();
    double max = -std::numeric_limits<double>::infinity();
    for (size_t s = 0; s < ShardCount(); ++s) {
      const Shard* shard = shards_[s].load(std::memory_order_acquire);
      if (shard == nullptr) continue;
      for (size_t i = 0; i < kBucketCount; ++i) {
        counts[i] += shard->buckets[i].load(std::memory_order_relaxed);
      }
      snap.sum += shard->sum.load(std::memory_order_relaxed);
      min = std::min(min, shard->min.load(std::memory_order_relaxed));
      max = std::max(max, shard->max.load(std::memory_order_relaxed));
    }
    for (size_t i = 0; i < kBucketCount; ++i) {
      if (counts[i] == 0) continue;
      snap.count += counts[i];
      snap.buckets.emplace_back(BucketUpper(i), counts[i]);
    }
    if (snap.count > 0) {
      // A Record in flight on another thread may have counted its bucket but not yet its
      // min/max; fall back to bucket bounds rather than report infinities.
      snap.min = std::isfinite(min)
                     ? min
                     : BucketLower(BucketIndex(std::nextafter(snap.buckets.front().first, 0.0)));
      snap.max = std::isfinite(max)
                     ? max
                     : BucketLower(BucketIndex(std::nextafter(snap.buckets.back().first, 0.0)));
    }
    return snap;
  }

  // Per export bound, the count of values <= it (not cumulative), then the rest (+Inf); and the
  // sum in the recorded unit.
  std::vector<uint64_t> ExportCounts(double* sum) const {
    std::vector<uint64_t> out(raw_bounds_.size() + 1, 0);
    *sum = 0;
    for (size_t s = 0; s < ShardCount(); ++s) {
      const Shard* shard = shards_[s].load(std::memory_order_acquire);
      if (shard == nullptr) continue;
      for (size_t i = 0; i < out.size(); ++i) {
        out[i] += shard->export_counts[i].load(std::memory_order_relaxed);
      }
      *sum += shard->sum.load(std::memory_order_relaxed);
    }
    return out;
  }

  double scale() const { return scale_; }
  const std::vector<double>& export_bounds() const { return export_bounds_; }

 private:
  struct alignas(kCacheLine) Shard {
    explicit Shard(size_t export_slots)
        : export_counts(std::make_unique<std::atomic<uint64_t>[]>(export_slots)) {}
    std::array<std::atomic<uint64_t>, kBucketCount> buckets{};
    std::unique_ptr<std::atomic<uint64_t>[]> export_counts;
    std::atomic<double> sum{0};
    std::atomic<double> min{std::numeric_limits<double>::infinity()};
    std::atomic<double> max{-std::numeric_limits<double>::infinity()};
  };

  // Shards (~6.5 KB each) are allocated by the first thread that records into them, so a series
  // touched by few threads stays small.
  Shard& ThisShard() {
    std::atomic<Shard*>& slot = shards_[ThisThreadShard()];
    Shard* shard = slot.load(std::memory_order_acquire);
    if (shard != nullptr) return *shard;
    auto fresh = std::make_unique<Shard>(raw_bounds_.size() + 1);
    if (slot.compare_exchange_strong(shard, fresh.get(), std::memory_order_acq_rel,
                                     std::memory_order_acquire)) {
      return *fresh.release();
    }
    return *shard;
  }

  double scale_;
  std::vector<double> export_bounds_;
  std::vector<double> raw_bounds_;
  std::unique_ptr<std::atomic<Shard*>[]> shards_;
};

// ---- Registry -----------------------------------------------------------------------------------

enum class Kind { kCounter, kGauge, kHistogram };

const char* KindName(Kind kind) {
  switch (kind) {
    case Kind::kCounter:
      return "counter";
    case Kind::kGauge:
      return "gauge";
    case Kind::kHistogram:
      return "histogram";
  }
  return "untyped";
}

struct Series {
  Labels labels;
  std::unique_ptr<ShardedCounter> counter;
  std::unique_ptr<AtomicGauge> gauge;
  std::unique_ptr<LogLinearHistogram> histogram;
};

struct Family {
  Kind kind;
  std::string help;
  std::map<Labels, Series> series;  // keyed by canonical labels: sorted output
};

class PrometheusRegistry final : public Registry {
 public:
  // metrics::Registry
  Counter& GetCounter(std::string_view name, std::string_view help, const Labels& labels) override {
    std::lock_guard lock(mu_);
    Series& s = FindOrCreate(Kind::kCounter, name, help, labels);
    if (!s.counter) s.counter = std::make_unique<ShardedCounter>();
    return *s.counter;
  }

  Gauge& GetGauge(std::string_view name, std::string_view help, const Labels& labels) override {
    std::lock_guard lock(mu_);
    Series& s = FindOrCreate(Kind::kGauge, name, help, labels);
    if (!s.gauge) s.gauge = std::make_unique<AtomicGauge>();
    return *s.gauge;
  }

  Histogram& GetHistogram(std::string_view name, std::string_view help, const Labels& labels,
                          double scale, std::vector<double> export_bounds) override {
    std::lock_guard lock(mu_);
    Series& s = FindOrCreate(Kind::kHistogram, name, help, labels);
    if (!s.histogram) {
      s.histogram = std::make_unique<LogLinearHistogram>(scale, std::move(export_bounds));
    }
    return *s.histogram;
  }

  std::string RenderPrometheus() const override {
    std::lock_guard lock(mu_);
    std::string out;
    for (const auto& [name, family] : families_) {
      out += "# HELP " + name + " " + EscapeHelp(family.help) + "\n";
      out += "# TYPE " + name + " " + KindName(family.kind) + "\n";
      for (const auto& [labels, series] : family.series) {
        switch (family.kind) {
          case Kind::kCounter:
            out +=
                name + RenderLabels(labels) + " " + std::to_string(series.counter->Value()) + "\n";
            break;
          case Kind::kGauge:
            out += name + RenderLabels(labels) + " " + std::to_string(series.gauge->Value()) + "\n";
            break;
          case Kind::kHistogram:
            RenderHistogram(out, name, labels, *series.histogram);
            break;
        }
      }
    }
    return out;
  }

 private:
  static void RenderHistogram(std::string& out, const std::string& name, const Labels& labels,
                              const LogLinearHistogram& h) {
    double raw_sum = 0;
    std::vector<uint64_t> counts = h.ExportCounts(&raw_sum);
    // `le` is reserved in histograms; a caller's own `le` label would make the series ambiguous.
    Labels own;
    for (const auto& kv : labels) {
      if (kv.first != "le") own.push_back(kv);
    }
    uint64_t cumulative = 0;
    const std::vector<double>& bounds = h.export_bounds();
    for (size_t i = 0; i < bounds.size(); ++i) {
      cumulative += counts[i];
      out += name + "_bucket" + RenderLabels(own, "le", FormatDouble(bounds[i])) + " " +
             std::to_string(cumulative) + "\n";
    }
    cumulative += counts.back();
    out += name + "_bucket" + RenderLabels(own, "le", "+Inf") + " " + std::to_string(cumulative) +
           "\n";
    out += name + "_sum" + RenderLabels(own) + " " + FormatDouble(raw_sum * h.scale()) + "\n";
    out += name + "_count" + RenderLabels(own) + " " + std::to_string(cumulative) + "\n";
  }

  Series& FindOrCreate(Kind kind, std::string_view raw_name, std::string_view help,
                       const Labels& labels) {
    std::string name = SanitizeName(raw_name, true);
    auto [it, inserted] = families_.try_emplace(name);
    Family& family = it->second;
    if (inserted) {
      family.kind = kind;
      family.help = std::string(help);
    } else if (family.kind != kind) {
      std::fprintf(stderr, "hasivu metrics: '%s' registered as a %s and then as a %s\n",
                   name.c_str(), KindName(family.kind), KindName(kind));
      std::abort();
    }
    Labels key = CanonicalLabels(labels);
    auto [sit, sinserted] = family.series.try_emplace(key);
    if (sinserted) sit->second.labels = key;
    return sit->second;
  }

  mutable std::mutex mu_;
  std::map<std::string, Family> families_;  // GUARDED_BY(mu_); sorted output by name
};

}  // namespace

double HistogramSnapshot::Quantile(double q) const {
  if (count == 0) return 0;
  if (!(q > 0)) return min;
  if (q >= 1) return max;
  double rank = q * static_cast<double>(count);
  uint64_t below = 0;
  for (const auto& [upper, n] : buckets) {
    if (n == 0) continue;
    if (static_cast<double>(below + n) >= rank) {
      double lower = BucketLower(BucketIndex(std::nextafter(upper, 0.0)));
      if (std::isinf(upper)) lower = BucketLower(kOverflowBucket);
      double lo = std::max(lower, min);
      double hi = std::min(upper, max);
      if (hi < lo) return lo;
      double fraction = (rank - static_cast<double>(below)) / static_cast<double>(n);
      return lo + (hi - lo) * std::clamp(fraction, 0.0, 1.0);
    }
    below += n;
  }
  return max;
}

static_assert(kHistogramBucketCount == kBucketCount, "metrics.h states the bucket count");

size_t HistogramBucketIndex(double value) { return BucketIndex(value); }
double HistogramBucketLower(size_t index) { return BucketLower(index); }
double HistogramBucketUpper(size_t index) { return BucketUpper(index); }

std::vector<double> FineLatencyBoundsSeconds() {
  return {0.00001, 0.00002, 0.00005, 0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005,
          0.01,    0.02,    0.05,    0.1,    0.2,    0.5,    1,     2,     5};
}

RegistryPtr NewRegistry() { return std::make_unique<PrometheusRegistry>(); }

std::string_view StatusClass(int status) {
  switch (status / 100) {
    case 1:
      return "1xx";
    case 2:
      return "2xx";
    case 3:
      return "3xx";
    case 4:
      return "4xx";
    case 5:
      return "5xx";
    default:
      return "other";
  }
}

std::chrono::steady_clock::time_point ProcessStartSteady() { return Start().steady; }
std::chrono::system_clock::time_point ProcessStartWall() { return Start().wall; }

HistogramSnapshot MergeSnapshots(const std::vector<HistogramSnapshot>& parts) {
  HistogramSnapshot merged;
  std::map<double, uint64_t> buckets;
  for (const HistogramSnapshot& part : parts) {
    if (part.count == 0) continue;
    merged.min = merged.count == 0 ? part.min : std::min(merged.min, part.min);
    merged.max = merged.count == 0 ? part.max : std::max(merged.max, part.max);
    merged.count += part.count;
    merged.sum += part.sum;
    for (const auto& [upper, n] : part.buckets) buckets[upper] += n;
  }
  merged.buckets.assign(buckets.begin(), buckets.end());
  return merged;
}

}  // namespace hasivu::metrics
