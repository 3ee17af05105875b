#include "cache/tiered_cache.h"

#include <algorithm>
#include <atomic>
#include <utility>

#include "common/blocking.h"

namespace hasivu::cache {
namespace {

using std::chrono::milliseconds;

// Who refused a NonBlockingAttempt (common/blocking.h): an L1 miss with L2 still to ask.
constexpr char kL2Refusal[] = "cache second tier";

class TieredCache final : public Cache, public InvalidationListener {
 public:
  TieredCache(CachePtr l1, CachePtr l2, TieredCacheSettings s)
      : s_(s), l1_(std::move(l1)), l2_(std::move(l2)) {
    l2_->SetInvalidationListener(this);
  }

  ~TieredCache() override {
    l2_->SetInvalidationListener(nullptr);
    l2_.reset();  // joins its threads before L1 goes
  }

  // cache::Cache
  StatusOr<std::optional<Entry>> Get(std::string_view key) override {
    RETURN_IF_ERROR(ValidateKey(key));
    bool use_l1 = L1Usable();
    std::optional<Stamp> before;
    if (use_l1) {
      // The retry of an attempt this tier refused: L1 missed a moment ago and counted it once.
      if (!RetryingAfter(kL2Refusal, key)) {
        StatusOr<std::optional<Entry>> hit = l1_->Get(key);
        if (hit.ok() && hit->has_value()) return hit;
      }
      StatusOr<Stamp> s = l1_->StampFor(key, {});
      if (s.ok()) before = std::move(s).value();
    }
    if (RefuseToBlock(kL2Refusal, key)) {
      return UnavailableError(
          "cache: the second tier is not asked on a thread that must not block");
    }
    StatusOr<std::optional<Entry>> hit = l2_->Get(key);
    if (!hit.ok() || !hit->has_value()) return std::optional<Entry>();  // L2 counted its error
    const Entry& entry = **hit;
    if (before.has_value()) {
      StatusOr<Stamp> s = l1_->StampFor(key, entry.tags);
      // Any L1 invalidation since `before` may concern this value (it bumps the sequence before
      // the generations): skip the copy rather than risk keeping an old value.
      if (s.ok() && s->sequence == before->sequence) {
        milliseconds ttl = std::min(entry.ttl_left.value_or(s_.l1_ttl), s_.l1_ttl);
        if (ttl > milliseconds(0)) {
          (void)l1_->SetIfCurrent(key, entry.value, ttl, entry.tags, *s);
        }
      }
    }
    return hit;
  }

  StatusOr<Stamp> StampFor(std::string_view key, const Tags& tags) override {
    RETURN_IF_ERROR(ValidateKey(key));
    RETURN_IF_ERROR(ValidateTags(tags));
    Stamp stamp;
    stamp.tiers.resize(2);
    StatusOr<Stamp> s1 = l1_->StampFor(key, tags);
    if (s1.ok()) {
      stamp.tiers[0] = std::move(s1).value();
    } else {
      stamp.tiers[0].valid = false;
    }
    StatusOr<Stamp> s2 = l2_->StampFor(key, tags);
    if (s2.ok()) {
      stamp.tiers[1] = std::move(s2).value();
    } else {
      stamp.tiers[1].valid = false;
    }
    return stamp;
  }

  Status SetIfCurrent(std::string_view key, ValuePtr value, milliseconds ttl, const Tags& tags,
                      const Stamp& stamp) override {
    RETURN_IF_ERROR(ValidateKey(key));
    RETURN_IF_ERROR(ValidateTags(tags));
    RETURN_IF_ERROR(ValidateTtl(ttl));
    if (value == nullptr) return InvalidArgumentError("cache value is null");
    if (!stamp.valid) return Status::Ok();
    if (stamp.tiers.size() != 2) {
      return InvalidArgumentError("cache stamp does not come from a tiered cache");
    }
    Status l2 = stamp.tiers[1].valid ? l2_->SetIfCurrent(key, value, ttl, tags, stamp.tiers[1])
                                     : Status::Ok();
    if (l2.code() == StatusCode::kInvalidArgument) return l2;
    Status l1 = Status::Ok();
    if (L1Usable() && stamp.tiers[0].valid) {
      l1 = l1_->SetIfCurrent(key, std::move(value), std::min(ttl, s_.l1_ttl), tags, stamp.tiers[0]);
    }
    // Stored somewhere (or rightly dropped as stale) is success; an L2 outage alone is not an
    // error for the caller.
    if (!l1.ok() && !l2.ok()) return l1;
    return Status::Ok();
  }

  Status Delete(std::string_view key) override {
    RETURN_IF_ERROR(ValidateKey(key));
    (void)l2_->Delete(key);  // failure: counted, namespace marked suspect (redis_cache.h)
    return l1_->Delete(key);
  }

  Status InvalidateTags(const Tags& tags) override {
    RETURN_IF_ERROR(ValidateTags(tags));
    (void)l2_->InvalidateTags(tags);
    return l1_->InvalidateTags(tags);
  }

  StatusOr<size_t> InvalidatePattern(std::string_view glob) override {
    StatusOr<size_t> l2 = l2_->InvalidatePattern(glob);
    if (!l2.ok() && l2.status().code() == StatusCode::kInvalidArgument) return l2;
    StatusOr<size_t> l1 = l1_->InvalidatePattern(glob);
    if (!l1.ok()) return l1;
    return l2.ok() ? *l2 : *l1;
  }

  Status Clear() override {
    (void)l2_->Clear();
    return l1_->Clear();
  }

  CacheStats Stats() const override {
    CacheStats stats = l1_->Stats();
    for (TierStats& t : l2_->Stats().tiers) stats.tiers.push_back(std::move(t));
    return stats;
  }

  CacheHealth Health() const override {
    CacheHealth h1 = l1_->Health();
    CacheHealth h2 = l2_->Health();
    CacheHealth h;
    h.ok = h1.ok && h2.ok;
    h.detail = h1.detail + "; " + h2.detail;
    h.ping = h2.ping;
    h.subscribed = live_.load();
    return h;
  }

  // cache::InvalidationListener (called from L2's subscriber thread)
  void OnTagsInvalidated(const Tags& tags) override { (void)l1_->InvalidateTags(tags); }
  void OnKeyDeleted(std::string_view key) override {
    if (ValidateKey(key).ok()) (void)l1_->Delete(key);
  }
  void OnPatternInvalidated(std::string_view glob) override {
    if (!l1_->InvalidatePattern(glob).ok()) (void)l1_->Clear();
  }
  void OnEverythingInvalidated() override { (void)l1_->Clear(); }
  void OnSubscription(bool live) override {
    if (live) {
      (void)l1_->Clear();  // whatever was missed while not subscribed
      live_.store(true);
    } else {
      live_.store(false);
    }
  }

 private:
  bool L1Usable() const {
    if (!s_.l2_publishes || live_.load()) return true;
    // Not subscribed: remote invalidations are not heard. Only when L2 is unreachable (nobody
    // can publish through it) is L1 still the best answer.
    return !l2_->Health().ok;
  }

  const TieredCacheSettings s_;
  CachePtr l1_;
  CachePtr l2_;  // after l1_: destroyed first (its threads call into l1_)
  std::atomic<bool> live_{false};
};

}  // namespace

StatusOr<CachePtr> NewTieredCache(CachePtr l1, CachePtr l2, TieredCacheSettings settings) {
  if (l1 == nullptr || l2 == nullptr) return InvalidArgumentError("tiered cache: missing tier");
  if (settings.l1_ttl <= milliseconds(0)) {
    return InvalidArgumentError("tiered cache: l1_ttl must be positive");
  }
  return CachePtr(std::make_unique<TieredCache>(std::move(l1), std::move(l2), settings));
}

StatusOr<CachePtr> NewTieredRedisCache(MemoryCacheSettings l1, RedisCacheSettings l2,
                                       TieredCacheSettings settings) {
  l1.tier = "l1";
  l2.tier = "l2";
  ASSIGN_OR_RETURN(CachePtr memory, NewMemoryCache(std::move(l1)));
  ASSIGN_OR_RETURN(CachePtr redis, NewRedisCache(std::move(l2)));
  return NewTieredCache(std::move(memory), std::move(redis), settings);
}

}  // namespace hasivu::cache
