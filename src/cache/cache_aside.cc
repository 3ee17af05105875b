#include "cache/cache_aside.h"

#include <condition_variable>
#include <optional>
#include <utility>

#include "common/blocking.h"
#include "metrics/trace.h"
#include "spdlog/spdlog.h"

namespace hasivu::cache {

struct CacheAside::Flight {
  explicit Flight(Stamp s) : stamp(std::move(s)) {}
  const Stamp stamp;
  size_t waiters = 0;  // GUARDED_BY(CacheAside::mu_)
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;                         // GUARDED_BY(mu)
  std::optional<StatusOr<ValuePtr>> result;  // GUARDED_BY(mu)
};

namespace {

// Who refused a NonBlockingAttempt (common/blocking.h): a miss, with a load to come.
constexpr char kLoadRefusal[] = "cache load";

// The calling request's cache span of one GetOrLoad (metrics/trace.h): the whole call less the
// time in the loader or waiting for another caller's load, which are not cache time (the loader's
// own database calls are counted as db time where they run).
class CacheSpan {
 public:
  CacheSpan() : start_(std::chrono::steady_clock::now()) {}
  ~CacheSpan() {
    metrics::AddSpanTime(metrics::SpanKind::kCache,
                         std::chrono::steady_clock::now() - start_ - excluded_);
  }
  CacheSpan(const CacheSpan&) = delete;
  CacheSpan& operator=(const CacheSpan&) = delete;
  void Exclude(std::chrono::steady_clock::duration d) { excluded_ += d; }

 private:
  const std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::duration excluded_{0};
};

metrics::Registry& RegistryOr(metrics::Registry* given, metrics::RegistryPtr& owned) {
  if (given != nullptr) return *given;
  owned = metrics::NewRegistry();
  return *owned;
}

}  // namespace

CacheAside::CacheAside(Cache& cache, CacheAsideSettings settings)
    : cache_(cache),
      loader_seconds_(RegistryOr(settings.registry, owned_registry_)
                          .GetHistogram("hasivu_cache_loader_seconds",
                                        "Time spent in cache loaders (misses)", {}, 1e-6)),
      loads_((settings.registry ? *settings.registry : *owned_registry_)
                 .GetCounter("hasivu_cache_loads_total", "Cache loader calls")),
      loader_errors_((settings.registry ? *settings.registry : *owned_registry_)
                         .GetCounter("hasivu_cache_loader_errors_total",
                                     "Cache loader calls that failed (not cached)")),
      shared_((settings.registry ? *settings.registry : *owned_registry_)
                  .GetCounter("hasivu_cache_shared_loads_total",
                              "Cache misses served by a concurrent caller's load")) {}

CacheAside::~CacheAside() = default;

std::shared_ptr<CacheAside::Flight> CacheAside::Join(const std::string& key, const Stamp& stamp,
                                                     bool& leader) {
  std::lock_guard lock(mu_);
  auto it = flights_.find(key);
  if (it != flights_.end() && it->second->stamp == stamp) {
    leader = false;
    ++it->second->waiters;
    return it->second;
  }
  // None, or one stamped before an invalidation: its value may be old, so start a fresh load.
  auto flight = std::make_shared<Flight>(stamp);
  flights_[key] = flight;
  leader = true;
  return flight;
}

void CacheAside::Finish(const std::string& key, const std::shared_ptr<Flight>& flight,
                        StatusOr<ValuePtr> result) {
  {
    std::lock_guard lock(mu_);
    auto it = flights_.find(key);
    if (it != flights_.end() && it->second == flight) flights_.erase(it);
  }
  {
    std::lock_guard lock(flight->mu);
    flight->result.emplace(std::move(result));
    flight->done = true;
  }
  flight->cv.notify_all();
}

StatusOr<Loaded> CacheAside::GetOrLoad(std::string_view key, std::chrono::milliseconds ttl,
                                       const Tags& tags, const Loader& loader) {
  RETURN_IF_ERROR(ValidateKey(key));
  RETURN_IF_ERROR(ValidateTags(tags));
  RETURN_IF_ERROR(ValidateTtl(ttl));
  if (!loader) return InvalidArgumentError("cache loader is empty");
  CacheSpan span;

  StatusOr<std::optional<Entry>> hit = std::optional<Entry>();
  // The retry of an attempt refused below: this lookup missed a moment ago and was counted.
  if (!RetryingAfter(kLoadRefusal, key)) hit = cache_.Get(key);
  if (hit.ok() && hit->has_value()) return Loaded{(*hit)->value, Loaded::Source::kHit};
  // A cache error is a miss here; the backend has counted it. What follows may wait on the
  // backend, on another caller's load or on the loader.
  if (RefuseToBlock(kLoadRefusal, key)) {
    return UnavailableError("cache: no value is loaded on a thread that must not block");
  }

  StatusOr<Stamp> stamp_or = cache_.StampFor(key, tags);
  Stamp stamp;
  if (stamp_or.ok()) {
    stamp = std::move(stamp_or).value();
  } else {
    stamp.valid = false;  // load anyway, store nothing
  }

  std::string key_string(key);
  bool leader = false;
  std::shared_ptr<Flight> flight = Join(key_string, stamp, leader);
  if (!leader) {
    const auto wait_start = std::chrono::steady_clock::now();
    std::unique_lock lock(flight->mu);
    flight->cv.wait(lock, [&] { return flight->done; });
    span.Exclude(std::chrono::steady_clock::now() - wait_start);
    shared_.Add();
    const StatusOr<ValuePtr>& r = *flight->result;
    if (!r.ok()) return r.status();
    return Loaded{*r, Loaded::Source::kShared};
  }

  // Another caller may have stored the value between our miss and our becoming the leader.
  hit = cache_.Get(key);
  if (hit.ok() && hit->has_value()) {
    ValuePtr value = (*hit)->value;
    Finish(key_string, flight, value);
    return Loaded{std::move(value), Loaded::Source::kHit};
  }

  auto start = std::chrono::steady_clock::now();
  StatusOr<std::string> loaded = loader();
  auto elapsed = std::chrono::steady_clock::now() - start;
  span.Exclude(elapsed);
  loader_seconds_.Record(
      static_cast<double>(std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count()));
  loads_.Add();
  if (!loaded.ok()) {
    loader_errors_.Add();
    Status error = loaded.status();
    Finish(key_string, flight, error);
    return error;
  }
  auto value = std::make_shared<const std::string>(std::move(loaded).value());
  Status set = cache_.SetIfCurrent(key, value, ttl, tags, stamp);
  if (!set.ok()) {
    // The read still succeeds; the backend counted a backend failure, this is for the log.
    SPDLOG_DEBUG("cache: not stored {}: {}", key_string, set.ToString());
  }
  Finish(key_string, flight, value);
  return Loaded{std::move(value), Loaded::Source::kLoaded};
}

WarmUpResult CacheAside::WarmUp(const std::vector<WarmUpItem>& items) {
  WarmUpResult result;
  for (const WarmUpItem& item : items) {
    StatusOr<Loaded> r = GetOrLoad(item.key, item.ttl, item.tags, item.loader);
    if (!r.ok()) {
      if (result.failed++ == 0) result.first_error = r.status();
    } else if (r->source == Loaded::Source::kHit) {
      ++result.present;
    } else {
      ++result.loaded;
    }
  }
  return result;
}

size_t CacheAside::WaitersForTest(std::string_view key) const {
  std::lock_guard lock(mu_);
  auto it = flights_.find(std::string(key));
  return it == flights_.end() ? 0 : it->second->waiters;
}

AsideStats CacheAside::Stats() const {
  AsideStats s;
  s.loads = loads_.Value();
  s.loader_errors = loader_errors_.Value();
  s.shared = shared_.Value();
  s.loader_seconds = loader_seconds_.Snapshot().sum * 1e-6;
  return s;
}

}  // namespace hasivu::cache
