// The command layer of the Redis tier: the Cache operations, the epoch, the circuit breaker and
// the monitor thread. Connections and the pipeline are in redis_connection.h, the invalidation
// channel in redis_invalidation.h, key names and scripts in redis_keys.h. A little over 600
// lines: the breaker and the monitor guard the same state as the commands, and splitting them
// apart would publish that state to a fourth file for no reader's benefit.
#include "cache/redis/redis_cache.h"

#include <hiredis/hiredis.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "cache/glob.h"
#include "cache/redis/redis_connection.h"
#include "cache/redis/redis_invalidation.h"
#include "cache/redis/redis_keys.h"
#include "cache/tier_metrics.h"
#include "spdlog/spdlog.h"

namespace hasivu::cache {
namespace {

using Steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

using redis_internal::ContextPtr;
using redis_internal::IsError;
using redis_internal::RedisConnectionGate;
using redis_internal::RedisConnectionPool;
using redis_internal::RedisInvalidationChannel;
using redis_internal::RedisSubscriberGate;
using redis_internal::ReplyPtr;
using redis_internal::ReplyString;

enum class BreakerState { kClosed = 0, kOpen = 1, kProbing = 2 };

// The breaker lives here; the pool and the subscriber consult it through the two gates.
class RedisCache final : public Cache, private RedisConnectionGate, private RedisSubscriberGate {
 public:
  explicit RedisCache(RedisCacheSettings s)
      : s_(std::move(s)),
        keys_(s_.key_prefix),
        channel_(keys_.Channel()),
        metrics_(s_.registry, s_.tier),
        ping_us_(metrics_.registry().GetGauge("hasivu_cache_redis_ping_microseconds",
                                              "Last Redis PING round trip (-1: no answer)",
                                              {{"tier", s_.tier}})),
        breaker_gauge_(metrics_.registry().GetGauge(
            "hasivu_cache_redis_breaker_state",
            "Redis circuit breaker: 0 closed, 1 open, 2 probing", {{"tier", s_.tier}})),
        faults_(metrics_.registry().GetCounter("hasivu_cache_redis_faults_total",
                                               "Times the Redis circuit breaker opened",
                                               {{"tier", s_.tier}})),
        recoveries_(metrics_.registry().GetCounter("hasivu_cache_redis_recoveries_total",
                                                   "Times Redis became reachable again",
                                                   {{"tier", s_.tier}})),
        subscriptions_lost_(metrics_.registry().GetCounter(
            "hasivu_cache_redis_subscriptions_lost_total",
            "Times the invalidation subscription was lost (tiered L1 bypassed until resubscribed)",
            {{"tier", s_.tier}})),
        pool_(s_, *this,
              &metrics_.registry().GetGauge("hasivu_cache_redis_pool_connections",
                                            "Connections to Redis open (or being opened)",
                                            {{"tier", s_.tier}})),
        invalidation_(s_, channel_, *this, subscriptions_lost_),
        rng_(std::random_device{}()) {
    // spdlog creates its default logger lazily inside the (uninstrumented) shared library; doing
    // it before our threads start gives ThreadSanitizer the ordering it cannot see there.
    spdlog::default_logger_raw();
    ping_us_.Set(-1);
    breaker_gauge_.Set(0);
    monitor_ = std::thread([this] { MonitorLoop(); });
    if (s_.subscribe) invalidation_.Start();
  }

  ~RedisCache() override {
    {
      std::lock_guard lock(stop_mu_);
      stop_ = true;
    }
    stop_cv_.notify_all();
    // Both threads are told before either is joined, so their exits overlap. Both call back into
    // this object (the gates, EpochChanged), so both are joined here, before any member goes.
    invalidation_.RequestStop();
    if (monitor_.joinable()) monitor_.join();
    invalidation_.Stop();
  }

  // cache::Cache
  StatusOr<std::optional<Entry>> Get(std::string_view key) override {
    RETURN_IF_ERROR(ValidateKey(key));
    StatusOr<std::string> epoch = Epoch();
    if (!epoch.ok()) return Failed(epoch.status());
    std::string data_key = keys_.DataKey(*epoch, key);
    StatusOr<std::vector<ReplyPtr>> replies = Pipeline({{"GET", data_key}, {"PTTL", data_key}});
    if (!replies.ok()) return Failed(replies.status());
    const redisReply* value = (*replies)[0].get();
    if (IsError(value)) return Failed(InternalError("redis GET: " + ReplyString(value)));
    if (value->type != REDIS_REPLY_STRING) {
      metrics_.misses.Add();
      return std::optional<Entry>();
    }
    Entry entry;
    std::string_view raw(value->str, value->len);
    if (!redis_internal::DecodeValue(raw, entry)) {
      metrics_.errors.Add();
      metrics_.misses.Add();
      spdlog::warn("redis cache: undecodable value under {} ignored", data_key.substr(0, 200));
      return std::optional<Entry>();
    }
    const redisReply* pttl = (*replies)[1].get();
    if (pttl->type == REDIS_REPLY_INTEGER && pttl->integer >= 0) {
      entry.ttl_left = milliseconds(pttl->integer);
    }
    metrics_.hits.Add();
    return std::optional<Entry>(std::move(entry));
  }

  StatusOr<Stamp> StampFor(std::string_view key, const Tags& tags) override {
    RETURN_IF_ERROR(ValidateKey(key));
    RETURN_IF_ERROR(ValidateTags(tags));
    for (int attempt = 0;; ++attempt) {
      StatusOr<std::string> epoch = Epoch();
      if (!epoch.ok()) return Failed(epoch.status());
      std::vector<std::string> cmd = {"MGET", keys_.EpochKey(), keys_.PatternGenKey(),
                                      keys_.KeyGenKey(key)};
      for (const std::string& tag : tags) cmd.push_back(keys_.TagGenKey(tag));
      StatusOr<std::vector<ReplyPtr>> replies = Pipeline({std::move(cmd)});
      if (!replies.ok()) return Failed(replies.status());
      const redisReply* r = (*replies)[0].get();
      if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 + tags.size()) {
        return Failed(InternalError("redis MGET: unexpected reply"));
      }
      if (ReplyString(r->element[0]) != *epoch || r->element[0]->type != REDIS_REPLY_STRING) {
        EpochChanged();
        if (attempt == 0) continue;
        return Failed(UnavailableError("redis: namespace epoch keeps changing"));
      }
      Stamp stamp;
      stamp.token = *epoch;
      for (size_t i = 1; i < r->elements; ++i) {
        stamp.generations.push_back(redis_internal::ParseGeneration(r->element[i]));
      }
      return stamp;
    }
  }

  Status SetIfCurrent(std::string_view key, ValuePtr value, milliseconds ttl, const Tags& tags,
                      const Stamp& stamp) override {
    RETURN_IF_ERROR(ValidateKey(key));
    RETURN_IF_ERROR(ValidateTags(tags));
    RETURN_IF_ERROR(ValidateTtl(ttl));
    if (value == nullptr) return InvalidArgumentError("cache value is null");
    if (!stamp.valid || stamp.token.empty()) return Status::Ok();
    if (stamp.generations.size() != 2 + tags.size()) {
      return InvalidArgumentError("cache stamp does not belong to this key and tags");
    }
    if (value->size() > s_.max_value_bytes) {
      return ResourceExhaustedError("cache value of " + std::to_string(value->size()) +
                                    " bytes exceeds the Redis limit of " +
                                    std::to_string(s_.max_value_bytes) + " bytes");
    }
    std::string encoded = redis_internal::EncodeValue(tags, *value);
    std::vector<std::string> cmd = {"EVAL",
                                    std::string(redis_internal::kSetScript),
                                    std::to_string(4 + 2 * tags.size()),
                                    keys_.EpochKey(),
                                    keys_.DataKey(stamp.token, key),
                                    keys_.PatternGenKey(),
                                    keys_.KeyGenKey(key)};
    for (const std::string& tag : tags) cmd.push_back(keys_.TagGenKey(tag));
    for (const std::string& tag : tags) cmd.push_back(keys_.TagSetKey(stamp.token, tag));
    cmd.push_back(stamp.token);
    cmd.push_back(std::move(encoded));
    cmd.push_back(std::to_string(ttl.count()));
    cmd.push_back(std::to_string(tags.size()));
    for (uint64_t g : stamp.generations) cmd.push_back(std::to_string(g));
    StatusOr<std::vector<ReplyPtr>> replies = Pipeline({std::move(cmd)});
    if (!replies.ok()) return Failed(replies.status());
    const redisReply* r = (*replies)[0].get();
    if (IsError(r)) return Failed(InternalError("redis set script: " + ReplyString(r)));
    if (r->type == REDIS_REPLY_INTEGER && r->integer == 1) {
      metrics_.sets.Add();
    } else {
      if (r->type == REDIS_REPLY_INTEGER && r->integer == -1) EpochChanged();
      metrics_.stale_sets.Add();
    }
    return Status::Ok();
  }

  Status Delete(std::string_view key) override {
    RETURN_IF_ERROR(ValidateKey(key));
    metrics_.invalidations.Add();
    std::string message = "k\n" + std::string(key);
    StatusOr<std::vector<ReplyPtr>> replies = Pipeline(
        {{"EVAL", std::string(redis_internal::kDeleteScript), "1", keys_.KeyGenKey(key),
          s_.key_prefix, std::string(key), channel_, std::move(message), GenerationTtl()}});
    return InvalidationResult(replies, "delete");
  }

  Status InvalidateTags(const Tags& tags) override {
    RETURN_IF_ERROR(ValidateTags(tags));
    if (tags.empty()) return Status::Ok();
    metrics_.invalidations.Add();
    std::string message = "t";
    for (const std::string& tag : tags) message += "\n" + tag;
    std::vector<std::string> cmd = {"EVAL", std::string(redis_internal::kInvalidateTagsScript),
                                    std::to_string(tags.size())};
    for (const std::string& tag : tags) cmd.push_back(keys_.TagGenKey(tag));
    cmd.push_back(std::to_string(tags.size()));
    cmd.push_back(s_.key_prefix);
    cmd.push_back(channel_);
    cmd.push_back(std::move(message));
    cmd.push_back(GenerationTtl());
    for (const std::string& tag : tags) cmd.push_back(tag);
    StatusOr<std::vector<ReplyPtr>> replies = Pipeline({std::move(cmd)});
    return InvalidationResult(replies, "invalidate tags");
  }

  StatusOr<size_t> InvalidatePattern(std::string_view glob) override {
    if (glob.empty()) return InvalidArgumentError("cache pattern is empty");
    if (glob.size() > kMaxKeyBytes) return InvalidArgumentError("cache pattern is too long");
    metrics_.invalidations.Add();
    StatusOr<std::vector<ReplyPtr>> bumped = Pipeline(
        {{"INCR", keys_.PatternGenKey()}, {"PEXPIRE", keys_.PatternGenKey(), GenerationTtl()}});
    RETURN_IF_ERROR(InvalidationResult(bumped, "pattern generation"));
    StatusOr<std::string> epoch = Epoch();
    if (!epoch.ok()) return InvalidationFailed(epoch.status(), "pattern");
    std::string match = GlobEscape(keys_.DataKey(*epoch, "")) + std::string(glob);
    std::string cursor = "0";
    size_t removed = 0;
    do {
      StatusOr<std::vector<ReplyPtr>> scanned =
          Pipeline({{"SCAN", cursor, "MATCH", match, "COUNT", "500"}});
      if (!scanned.ok()) return InvalidationFailed(scanned.status(), "pattern scan");
      const redisReply* r = (*scanned)[0].get();
      if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
          r->element[1]->type != REDIS_REPLY_ARRAY) {
        return InvalidationFailed(InternalError("redis SCAN: unexpected reply"), "pattern scan");
      }
      cursor = ReplyString(r->element[0]);
      const redisReply* keys = r->element[1];
      if (keys->elements > 0) {
        std::vector<std::string> unlink = {"UNLINK"};
        for (size_t i = 0; i < keys->elements; ++i) unlink.push_back(ReplyString(keys->element[i]));
        StatusOr<std::vector<ReplyPtr>> done = Pipeline({std::move(unlink)});
        if (!done.ok()) return InvalidationFailed(done.status(), "pattern unlink");
        if ((*done)[0]->type == REDIS_REPLY_INTEGER) {
          removed += static_cast<size_t>((*done)[0]->integer);
        }
      }
    } while (cursor != "0");
    StatusOr<std::vector<ReplyPtr>> published =
        Pipeline({{"PUBLISH", channel_, "p\n" + std::string(glob)}});
    RETURN_IF_ERROR(InvalidationResult(published, "pattern publish"));
    return removed;
  }

  Status Clear() override {
    metrics_.invalidations.Add();
    StatusOr<std::vector<ReplyPtr>> replies =
        Pipeline({{"SET", keys_.EpochKey(), NewToken()}, {"PUBLISH", channel_, "f"}});
    Status s = InvalidationResult(replies, "clear");
    EpochChanged();
    return s;
  }

  CacheStats Stats() const override { return CacheStats{{metrics_.Snapshot(false)}}; }

  CacheHealth Health() const override {
    CacheHealth h;
    std::lock_guard lock(breaker_mu_);
    h.ok = state_ == BreakerState::kClosed;
    if (h.ok) {
      h.detail = s_.tier + ": ok";
    } else {
      auto down = std::chrono::duration_cast<milliseconds>(Steady::now() - opened_at_);
      h.detail = s_.tier + ": unreachable for " + std::to_string(down.count()) + " ms, breaker " +
                 (state_ == BreakerState::kOpen ? "open" : "probing") + ": " + last_error_;
    }
    int64_t ping = ping_us_.Value();
    if (ping >= 0) h.ping = std::chrono::microseconds(ping);
    return h;
  }

  void SetInvalidationListener(InvalidationListener* listener) override {
    invalidation_.SetListener(listener);
  }

 private:
  std::string GenerationTtl() const { return std::to_string(s_.generation_ttl.count()); }

  std::string NewToken() {
    std::lock_guard lock(rng_mu_);
    char buf[17];
    snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng_()));
    return buf;
  }

  StatusOr<std::vector<ReplyPtr>> Pipeline(const std::vector<std::vector<std::string>>& commands) {
    return pool_.Pipeline(commands);
  }

  // ---- epoch ----
  StatusOr<std::string> Epoch() {
    uint64_t forgotten = 0;
    {
      std::lock_guard lock(epoch_mu_);
      if (!epoch_.empty()) return epoch_;
      forgotten = epoch_forgotten_;
    }
    StatusOr<std::vector<ReplyPtr>> replies =
        Pipeline({{"EVAL", std::string(redis_internal::kEnsureEpochScript), "1", keys_.EpochKey(),
                   NewToken()}});
    if (!replies.ok()) return replies.status();
    const redisReply* r = (*replies)[0].get();
    if (r->type != REDIS_REPLY_STRING) {
      return InternalError("redis: cannot establish the namespace epoch: " + ReplyString(r));
    }
    std::string epoch = ReplyString(r);
    std::lock_guard lock(epoch_mu_);
    // Forgotten while we asked: the answer may be the epoch that was just replaced. It serves
    // this one call (as if it had come a moment earlier) but is not kept.
    if (epoch_forgotten_ == forgotten) epoch_ = epoch;
    return epoch;
  }

  // The epoch moved (another process recovered from an outage, Redis restarted, Clear): values
  // this process mirrors may be stale.
  void EpochChanged() {
    ForgetEpoch();
    invalidation_.NotifyEverything();
  }

  // ---- failures and the breaker ----
  Status Failed(const Status& s) {
    metrics_.errors.Add();
    return s;
  }

  Status InvalidationResult(const StatusOr<std::vector<ReplyPtr>>& replies, const char* what) {
    if (!replies.ok()) return InvalidationFailed(replies.status(), what);
    for (const ReplyPtr& r : *replies) {
      if (IsError(r.get())) {
        return InvalidationFailed(
            InternalError(std::string("redis ") + what + ": " + ReplyString(r.get())), what);
      }
    }
    return Status::Ok();
  }

  // An invalidation that did not reach Redis leaves values there that may be stale: stop using
  // Redis at once and start a new epoch before using it again.
  Status InvalidationFailed(const Status& s, const char* what) {
    metrics_.errors.Add();
    {
      std::lock_guard lock(breaker_mu_);
      suspect_ = true;
    }
    Trip(s.WithContext(std::string("redis ") + what + " failed"));
    return s;
  }

  // RedisSubscriberGate
  bool Allowed() const override {
    std::lock_guard lock(breaker_mu_);
    return state_ == BreakerState::kClosed;
  }
  uint64_t Outages() const override { return outage_.load(); }
  void EverythingInvalidated() override { ForgetEpoch(); }
  void ForgetEpoch() {
    std::lock_guard lock(epoch_mu_);
    epoch_.clear();
    ++epoch_forgotten_;
  }

  std::string LastError() const {
    std::lock_guard lock(breaker_mu_);
    return last_error_;
  }

  // RedisConnectionGate
  Status Admit() const override {
    if (!Allowed()) return UnavailableError("redis: circuit open (" + LastError() + ")");
    return Status::Ok();
  }
  void RecordSuccess() override {
    std::lock_guard lock(breaker_mu_);
    if (state_ == BreakerState::kClosed) failures_ = 0;
  }
  void RecordFailure(const Status& s) override {
    std::lock_guard lock(breaker_mu_);
    last_error_ = s.message();
    if (state_ == BreakerState::kClosed && ++failures_ >= s_.breaker_failures) OpenLocked();
  }
  void Trip(const Status& s) {
    std::lock_guard lock(breaker_mu_);
    last_error_ = s.message();
    if (state_ == BreakerState::kClosed) OpenLocked();
  }
  void OpenLocked() {
    state_ = BreakerState::kOpen;
    opened_at_ = Steady::now();
    open_rounds_ = 0;
    retry_at_ = opened_at_ + Backoff(0);
    outage_.fetch_add(1);
    breaker_gauge_.Set(1);
    ping_us_.Set(-1);
    faults_.Add();
    spdlog::warn("cache {}: Redis {}:{} unreachable ({}); serving without it, probing again",
                 s_.tier, s_.host, s_.port, last_error_);
    stop_cv_.notify_all();
  }

  milliseconds Backoff(int round) {
    int64_t base = s_.breaker_cooldown.count();
    for (int i = 0; i < round && base < s_.max_backoff.count(); ++i) base *= 2;
    base = std::min<int64_t>(base, s_.max_backoff.count());
    std::lock_guard lock(rng_mu_);
    std::uniform_int_distribution<int64_t> jitter(0, base / 2);
    return milliseconds(base - base / 2 + jitter(rng_));
  }

  // ---- monitor thread ----
  bool WaitFor(milliseconds d) {
    std::unique_lock lock(stop_mu_);
    stop_cv_.wait_for(lock, d, [this] { return stop_; });
    return !stop_;
  }

  // One PING (and epoch check) on the monitor's own connection.
  Status Ping(ContextPtr& ctx, bool check_epoch) {
    if (ctx == nullptr || ctx->err != 0) {
      ctx.reset();
      ASSIGN_OR_RETURN(ctx, redis_internal::Connect(s_));
    }
    auto start = Steady::now();
    ReplyPtr r(static_cast<redisReply*>(redisCommand(ctx.get(), "PING")));
    if (r == nullptr) {
      Status s = UnavailableError(std::string("redis PING: ") +
                                  (ctx->errstr[0] ? ctx->errstr : "no answer"));
      ctx.reset();
      return s;
    }
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(Steady::now() - start);
    if (IsError(r.get())) return UnavailableError("redis PING: " + ReplyString(r.get()));
    ping_us_.Set(us.count());
    if (check_epoch) {
      // Compared with the epoch known BEFORE asking: one fetched while the GET was in flight (the
      // first use creates the key with SET NX) is newer than the answer, not a change.
      std::string known;
      {
        std::lock_guard lock(epoch_mu_);
        known = epoch_;
      }
      std::string key = keys_.EpochKey();
      ReplyPtr e(
          static_cast<redisReply*>(redisCommand(ctx.get(), "GET %b", key.data(), key.size())));
      if (e == nullptr) {
        ctx.reset();
        return UnavailableError("redis GET epoch: no answer");
      }
      std::string current = e->type == REDIS_REPLY_STRING ? ReplyString(e.get()) : "";
      bool changed = false;
      {
        std::lock_guard lock(epoch_mu_);
        changed = !known.empty() && epoch_ == known && known != current;
      }
      if (changed) EpochChanged();
    }
    return Status::Ok();
  }

  // Makes Redis usable again after an outage; false (stays open) if it failed again.
  //
  // Redis may hold values that an invalidation missed while it was away, this process's or
  // another's, and whichever process is back first must not use them. So a recovery starts a new
  // epoch (and publishes "everything invalidated"), unless another process has already started
  // one since this process last knew the epoch, i.e. after the outage began, and this process
  // missed no invalidation of its own.
  bool Recover(ContextPtr& ctx) {
    std::string known;
    {
      std::lock_guard lock(epoch_mu_);
      known = epoch_;
    }
    const std::string key = keys_.EpochKey();
    for (;;) {
      bool suspect = false;
      {
        std::lock_guard lock(breaker_mu_);
        suspect = suspect_;
        suspect_ = false;
      }
      auto give_up = [&] {
        std::lock_guard lock(breaker_mu_);
        suspect_ = suspect_ || suspect;
        ctx.reset();
        return false;
      };
      ReplyPtr current_reply(
          static_cast<redisReply*>(redisCommand(ctx.get(), "GET %b", key.data(), key.size())));
      if (current_reply == nullptr || IsError(current_reply.get())) return give_up();
      const std::string current = current_reply->type == REDIS_REPLY_STRING
                                      ? ReplyString(current_reply.get())
                                      : std::string();
      const bool renewed_elsewhere = !known.empty() && !current.empty() && current != known;
      if (suspect || !renewed_elsewhere) {
        std::string token = NewToken();
        ReplyPtr set(static_cast<redisReply*>(redisCommand(
            ctx.get(), "SET %b %b", key.data(), key.size(), token.data(), token.size())));
        ReplyPtr pub(set == nullptr
                         ? nullptr
                         : static_cast<redisReply*>(redisCommand(
                               ctx.get(), "PUBLISH %b f", channel_.data(), channel_.size())));
        if (pub == nullptr || IsError(set.get())) return give_up();
        spdlog::info("cache {}: new Redis namespace epoch after the outage ({})", s_.tier,
                     suspect ? "invalidations of this process were missed"
                             : "other processes may have missed invalidations");
        known = token;
      }
      EpochChanged();
      pool_.DropIdle();
      std::lock_guard lock(breaker_mu_);
      if (suspect_) continue;  // an invalidation failed while we were recovering
      state_ = BreakerState::kClosed;
      failures_ = 0;
      breaker_gauge_.Set(0);
      recoveries_.Add();
      auto down = std::chrono::duration_cast<milliseconds>(Steady::now() - opened_at_);
      spdlog::info("cache {}: Redis {}:{} reachable again after {} ms", s_.tier, s_.host, s_.port,
                   down.count());
      return true;
    }
  }

  void MonitorLoop() {
    ContextPtr ctx;
    milliseconds wait{0};
    while (WaitFor(wait)) {
      BreakerState state;
      Steady::time_point retry_at;
      {
        std::lock_guard lock(breaker_mu_);
        state = state_;
        retry_at = retry_at_;
      }
      if (state == BreakerState::kClosed) {
        Status s = Ping(ctx, true);
        if (!s.ok()) {
          ping_us_.Set(-1);
          RecordFailure(s);
          wait = milliseconds(std::min<int64_t>(s_.ping_interval.count(), 100));
        } else {
          wait = s_.ping_interval;
        }
        continue;
      }
      auto now = Steady::now();
      if (now < retry_at) {
        wait = std::chrono::duration_cast<milliseconds>(retry_at - now) + milliseconds(1);
        continue;
      }
      {
        std::lock_guard lock(breaker_mu_);
        state_ = BreakerState::kProbing;
        breaker_gauge_.Set(2);
      }
      ctx.reset();  // a fresh connection: the old one may be half-open
      Status s = Ping(ctx, false);
      if (s.ok() && Recover(ctx)) {
        wait = s_.ping_interval;
        continue;
      }
      std::lock_guard lock(breaker_mu_);
      if (!s.ok()) last_error_ = s.message();
      state_ = BreakerState::kOpen;
      breaker_gauge_.Set(1);
      // A process that missed invalidations keeps probing at the first interval: once Redis is
      // back, the others may use it before this process has renewed the epoch, and every
      // invalidation it misses meanwhile could leave them a stale value.
      retry_at_ = Steady::now() + Backoff(suspect_ ? 0 : ++open_rounds_);
      wait = std::chrono::duration_cast<milliseconds>(retry_at_ - Steady::now());
    }
  }

  const RedisCacheSettings s_;
  const redis_internal::RedisKeys keys_;
  const std::string channel_;
  mutable TierMetrics metrics_;
  metrics::Gauge& ping_us_;
  metrics::Gauge& breaker_gauge_;
  metrics::Counter& faults_;
  metrics::Counter& recoveries_;
  metrics::Counter& subscriptions_lost_;

  mutable std::mutex breaker_mu_;
  BreakerState state_ = BreakerState::kClosed;  // GUARDED_BY(breaker_mu_)
  int failures_ = 0;                            // GUARDED_BY(breaker_mu_)
  int open_rounds_ = 0;                         // GUARDED_BY(breaker_mu_)
  bool suspect_ = false;                        // GUARDED_BY(breaker_mu_)
  Steady::time_point opened_at_;                // GUARDED_BY(breaker_mu_)
  Steady::time_point retry_at_;                 // GUARDED_BY(breaker_mu_)
  std::string last_error_;                      // GUARDED_BY(breaker_mu_)
  std::atomic<uint64_t> outage_{0};             // bumped each time the breaker opens

  std::mutex epoch_mu_;
  std::string epoch_;             // GUARDED_BY(epoch_mu_); empty: ask Redis
  uint64_t epoch_forgotten_ = 0;  // GUARDED_BY(epoch_mu_); bumped each time epoch_ is cleared

  // Both call back into this object (the gates above), so they come after the breaker.
  RedisConnectionPool pool_;
  // Holds the listener. Its thread is started last in the constructor body and joined in the
  // destructor body, so it never sees this object half built or half destroyed.
  RedisInvalidationChannel invalidation_;

  std::mutex rng_mu_;
  std::mt19937_64 rng_;  // GUARDED_BY(rng_mu_)

  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stop_ = false;  // GUARDED_BY(stop_mu_)
  std::thread monitor_;
};

}  // namespace

StatusOr<CachePtr> NewRedisCache(RedisCacheSettings settings) {
  if (settings.host.empty()) return InvalidArgumentError("redis cache: no host");
  if (settings.port < 1 || settings.port > 65535) {
    return InvalidArgumentError("redis cache: port must be 1-65535");
  }
  if (settings.pool_size < 1 || settings.pool_size > 256) {
    return InvalidArgumentError("redis cache: pool_size must be 1-256");
  }
  if (settings.connect_timeout.count() < 1 || settings.command_timeout.count() < 1) {
    return InvalidArgumentError("redis cache: timeouts must be at least 1 ms");
  }
  if (settings.breaker_failures < 1) {
    return InvalidArgumentError("redis cache: breaker_failures must be at least 1");
  }
  if (settings.breaker_cooldown.count() < 1 || settings.max_backoff < settings.breaker_cooldown) {
    return InvalidArgumentError("redis cache: need 1 ms <= breaker_cooldown <= max_backoff");
  }
  if (settings.ping_interval.count() < 1) {
    return InvalidArgumentError("redis cache: ping_interval must be at least 1 ms");
  }
  if (settings.generation_ttl < std::chrono::minutes(1)) {
    return InvalidArgumentError("redis cache: generation_ttl must be at least 1 minute");
  }
  if (settings.key_prefix.find_first_of("\n") != std::string::npos) {
    return InvalidArgumentError("redis cache: key_prefix contains a newline");
  }
  // hiredis writes with write(2): a write to a connection Redis has reset would raise SIGPIPE,
  // whose default action kills the process. Failures must become a Status instead.
  struct sigaction current {};
  if (sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
    signal(SIGPIPE, SIG_IGN);
  }
  return CachePtr(std::make_unique<RedisCache>(std::move(settings)));
}

}  // namespace hasivu::cache
