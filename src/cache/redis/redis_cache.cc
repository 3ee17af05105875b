#include "cache/redis/redis_cache.h"

#include <hiredis/hiredis.h>
#include <poll.h>
#include <signal.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "cache/glob.h"
#include "cache/tier_metrics.h"
#include "spdlog/spdlog.h"

namespace hasivu::cache {
namespace {

using Steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct ContextFree {
  void operator()(redisContext* c) const {
    if (c != nullptr) redisFree(c);
  }
};
using ContextPtr = std::unique_ptr<redisContext, ContextFree>;
struct ReplyFree {
  void operator()(redisReply* r) const {
    if (r != nullptr) freeReplyObject(r);
  }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyFree>;

timeval ToTimeval(milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

std::string ReplyString(const redisReply* r) {
  if (r == nullptr) return {};
  return std::string(r->str, r->len);
}

bool IsError(const redisReply* r) { return r != nullptr && r->type == REDIS_REPLY_ERROR; }

// Generations arrive as decimal strings (INCR values) or nil (never bumped: 0).
uint64_t ParseGeneration(const redisReply* r) {
  if (r == nullptr || r->type != REDIS_REPLY_STRING) return 0;
  uint64_t v = 0;
  std::from_chars(r->str, r->str + r->len, v);
  return v;
}

// Stores only if the epoch and all stamped generations are unchanged: the never-stale rule.
// KEYS: epoch, data, pattern gen, key gen, tag gens (n), tag sets (n).
// ARGV: epoch, value, ttl ms, n, generations (2 + n).
constexpr std::string_view kSetScript = R"lua(
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local n = tonumber(ARGV[4])
for i = 3, 4 + n do
  local g = redis.call('GET', KEYS[i]) or '0'
  if g ~= ARGV[i + 2] then return 0 end
end
local ttl = tonumber(ARGV[3])
redis.call('SET', KEYS[2], ARGV[2], 'PX', ttl)
for i = 5 + n, 4 + 2 * n do
  redis.call('SADD', KEYS[i], KEYS[2])
  if redis.call('PTTL', KEYS[i]) < ttl then redis.call('PEXPIRE', KEYS[i], ttl) end
end
return 1
)lua";

// KEYS: tag gens (n). ARGV: n, prefix, channel, message, generation ttl ms, tags (n).
constexpr std::string_view kInvalidateTagsScript = R"lua(
local n = tonumber(ARGV[1])
local prefix = ARGV[2]
local epoch = redis.call('GET', prefix .. 'epoch')
for i = 1, n do
  redis.call('INCR', KEYS[i])
  redis.call('PEXPIRE', KEYS[i], ARGV[5])
  if epoch then
    local set = prefix .. 's:' .. epoch .. ':' .. ARGV[5 + i]
    local members = redis.call('SMEMBERS', set)
    for j = 1, #members, 256 do
      redis.call('UNLINK', unpack(members, j, math.min(j + 255, #members)))
    end
    redis.call('DEL', set)
  end
end
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1
)lua";

// KEYS: key gen. ARGV: prefix, key, channel, message, generation ttl ms.
constexpr std::string_view kDeleteScript = R"lua(
redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
local epoch = redis.call('GET', ARGV[1] .. 'epoch')
local n = 0
if epoch then n = redis.call('UNLINK', ARGV[1] .. 'd:' .. epoch .. ':' .. ARGV[2]) end
redis.call('PUBLISH', ARGV[3], ARGV[4])
return n
)lua";

// KEYS: epoch. ARGV: candidate. Returns the epoch in force.
constexpr std::string_view kEnsureEpochScript = R"lua(
redis.call('SET', KEYS[1], ARGV[1], 'NX')
return redis.call('GET', KEYS[1])
)lua";

enum class BreakerState { kClosed = 0, kOpen = 1, kProbing = 2 };

class RedisCache final : public Cache {
 public:
  explicit RedisCache(RedisCacheSettings s)
      : s_(std::move(s)),
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
        rng_(std::random_device{}()) {
    channel_ = s_.key_prefix + "inval";
    // spdlog creates its default logger lazily inside the (uninstrumented) shared library; doing
    // it before our threads start gives ThreadSanitizer the ordering it cannot see there.
    spdlog::default_logger_raw();
    ping_us_.Set(-1);
    breaker_gauge_.Set(0);
    monitor_ = std::thread([this] { MonitorLoop(); });
    if (s_.subscribe) subscriber_ = std::thread([this] { SubscriberLoop(); });
  }

  ~RedisCache() override {
    {
      std::lock_guard lock(stop_mu_);
      stop_ = true;
    }
    stop_cv_.notify_all();
    if (monitor_.joinable()) monitor_.join();
    if (subscriber_.joinable()) subscriber_.join();
  }

  // cache::Cache
  StatusOr<std::optional<Entry>> Get(std::string_view key) override {
    RETURN_IF_ERROR(ValidateKey(key));
    StatusOr<std::string> epoch = Epoch();
    if (!epoch.ok()) return Failed(epoch.status());
    std::string data_key = DataKey(*epoch, key);
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
    if (!DecodeValue(raw, entry)) {
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
      std::vector<std::string> cmd = {"MGET", EpochKey(), PatternGenKey(), KeyGenKey(key)};
      for (const std::string& tag : tags) cmd.push_back(TagGenKey(tag));
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
        stamp.generations.push_back(ParseGeneration(r->element[i]));
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
    std::string encoded = EncodeValue(tags, *value);
    std::vector<std::string> cmd = {
        "EVAL",        std::string(kSetScript),   std::to_string(4 + 2 * tags.size()),
        EpochKey(),    DataKey(stamp.token, key), PatternGenKey(),
        KeyGenKey(key)};
    for (const std::string& tag : tags) cmd.push_back(TagGenKey(tag));
    for (const std::string& tag : tags) cmd.push_back(TagSetKey(stamp.token, tag));
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
    StatusOr<std::vector<ReplyPtr>> replies =
        Pipeline({{"EVAL", std::string(kDeleteScript), "1", KeyGenKey(key), s_.key_prefix,
                   std::string(key), channel_, std::move(message), GenerationTtl()}});
    return InvalidationResult(replies, "delete");
  }

  Status InvalidateTags(const Tags& tags) override {
    RETURN_IF_ERROR(ValidateTags(tags));
    if (tags.empty()) return Status::Ok();
    metrics_.invalidations.Add();
    std::string message = "t";
    for (const std::string& tag : tags) message += "\n" + tag;
    std::vector<std::string> cmd = {"EVAL", std::string(kInvalidateTagsScript),
                                    std::to_string(tags.size())};
    for (const std::string& tag : tags) cmd.push_back(TagGenKey(tag));
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
    StatusOr<std::vector<ReplyPtr>> bumped =
        Pipeline({{"INCR", PatternGenKey()}, {"PEXPIRE", PatternGenKey(), GenerationTtl()}});
    RETURN_IF_ERROR(InvalidationResult(bumped, "pattern generation"));
    StatusOr<std::string> epoch = Epoch();
    if (!epoch.ok()) return InvalidationFailed(epoch.status(), "pattern");
    std::string match = GlobEscape(DataKey(*epoch, "")) + std::string(glob);
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
        Pipeline({{"SET", EpochKey(), NewToken()}, {"PUBLISH", channel_, "f"}});
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
    std::lock_guard lock(listener_mu_);
    listener_ = listener;
    // The subscriber may have subscribed before anyone listened.
    if (listener_ != nullptr && subscribed_) listener_->OnSubscription(true);
  }

 private:
  // ---- keys ----
  std::string EpochKey() const { return s_.key_prefix + "epoch"; }
  std::string DataKey(std::string_view epoch, std::string_view key) const {
    std::string k = s_.key_prefix;
    k.append("d:").append(epoch).append(":").append(key);
    return k;
  }
  std::string TagSetKey(std::string_view epoch, std::string_view tag) const {
    std::string k = s_.key_prefix;
    k.append("s:").append(epoch).append(":").append(tag);
    return k;
  }
  std::string PatternGenKey() const { return s_.key_prefix + "g:p"; }
  std::string KeyGenKey(std::string_view key) const {
    return s_.key_prefix + "g:k:" + std::string(key);
  }
  std::string TagGenKey(std::string_view tag) const {
    return s_.key_prefix + "g:t:" + std::string(tag);
  }
  std::string GenerationTtl() const { return std::to_string(s_.generation_ttl.count()); }

  std::string NewToken() {
    std::lock_guard lock(rng_mu_);
    char buf[17];
    snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng_()));
    return buf;
  }

  static std::string EncodeValue(const Tags& tags, std::string_view value) {
    std::string out = std::to_string(tags.size());
    out.push_back('\n');
    for (const std::string& tag : tags) out.append(tag).push_back('\n');
    out.append(value);
    return out;
  }
  static bool DecodeValue(std::string_view raw, Entry& entry) {
    size_t nl = raw.find('\n');
    if (nl == std::string_view::npos) return false;
    size_t n = 0;
    auto [end, ec] = std::from_chars(raw.data(), raw.data() + nl, n);
    if (ec != std::errc() || end != raw.data() + nl || n > kMaxTagsPerEntry) return false;
    raw.remove_prefix(nl + 1);
    for (size_t i = 0; i < n; ++i) {
      nl = raw.find('\n');
      if (nl == std::string_view::npos) return false;
      entry.tags.emplace_back(raw.substr(0, nl));
      raw.remove_prefix(nl + 1);
    }
    entry.value = std::make_shared<const std::string>(raw);
    return true;
  }

  // ---- connections ----
  StatusOr<ContextPtr> Connect() const {
    ContextPtr ctx(
        redisConnectWithTimeout(s_.host.c_str(), s_.port, ToTimeval(s_.connect_timeout)));
    if (ctx == nullptr) return UnavailableError("redis: cannot allocate a connection");
    if (ctx->err != 0) {
      return UnavailableError("redis " + s_.host + ":" + std::to_string(s_.port) + ": " +
                              ctx->errstr);
    }
    if (redisSetTimeout(ctx.get(), ToTimeval(s_.command_timeout)) != REDIS_OK) {
      return UnavailableError(std::string("redis: cannot set timeouts: ") + ctx->errstr);
    }
    redisEnableKeepAlive(ctx.get());
    if (!s_.username.empty() || !s_.password.empty()) {
      // AUTH user password for an ACL user; AUTH password for the default user.
      const bool as_user = !s_.username.empty();
      const std::string& first = as_user ? s_.username : s_.password;
      const char* argv[] = {"AUTH", first.c_str(), s_.password.c_str()};
      size_t lens[] = {4, first.size(), s_.password.size()};
      ReplyPtr r(
          static_cast<redisReply*>(redisCommandArgv(ctx.get(), as_user ? 3 : 2, argv, lens)));
      if (r == nullptr) return UnavailableError(std::string("redis AUTH: ") + ctx->errstr);
      if (IsError(r.get())) {
        return UnavailableError(as_user ? "redis AUTH refused for user " + s_.username
                                        : std::string("redis AUTH refused"));
      }
    }
    if (s_.db != 0) {
      std::string db = std::to_string(s_.db);
      const char* argv[] = {"SELECT", db.c_str()};
      size_t lens[] = {6, db.size()};
      ReplyPtr r(static_cast<redisReply*>(redisCommandArgv(ctx.get(), 2, argv, lens)));
      if (r == nullptr) return UnavailableError(std::string("redis SELECT: ") + ctx->errstr);
      if (IsError(r.get())) return UnavailableError("redis SELECT: " + ReplyString(r.get()));
    }
    return ctx;
  }

  StatusOr<ContextPtr> Acquire() {
    if (!Allowed()) return UnavailableError("redis: circuit open (" + LastError() + ")");
    {
      std::unique_lock lock(pool_mu_);
      auto deadline = Steady::now() + s_.command_timeout;
      for (;;) {
        if (!idle_.empty()) {
          ContextPtr ctx = std::move(idle_.back());
          idle_.pop_back();
          return ctx;
        }
        if (open_connections_ < s_.pool_size) {
          ++open_connections_;
          break;
        }
        if (pool_cv_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
            open_connections_ >= s_.pool_size) {
          return DeadlineExceededError("redis: no free connection within " +
                                       std::to_string(s_.command_timeout.count()) + " ms");
        }
      }
    }
    StatusOr<ContextPtr> ctx = Connect();
    if (!ctx.ok()) {
      Release(nullptr);
      RecordFailure(ctx.status());
    }
    return ctx;
  }

  // Returns a healthy connection to the pool; a null or broken one is closed.
  void Release(ContextPtr ctx) {
    {
      std::lock_guard lock(pool_mu_);
      if (ctx != nullptr && ctx->err == 0) {
        idle_.push_back(std::move(ctx));
      } else {
        --open_connections_;
      }
    }
    pool_cv_.notify_one();
  }

  void DropIdleConnections() {
    std::vector<ContextPtr> old;
    {
      std::lock_guard lock(pool_mu_);
      old.swap(idle_);
      open_connections_ -= static_cast<int>(old.size());
    }
    pool_cv_.notify_all();
  }

  // Sends all commands in one round trip. Error replies are returned as replies (the server
  // answered); only connection-level problems become a Status (and count for the breaker).
  StatusOr<std::vector<ReplyPtr>> Pipeline(const std::vector<std::vector<std::string>>& commands) {
    ASSIGN_OR_RETURN(ContextPtr ctx, Acquire());
    for (const auto& cmd : commands) {
      std::vector<const char*> argv;
      std::vector<size_t> lens;
      argv.reserve(cmd.size());
      lens.reserve(cmd.size());
      for (const std::string& a : cmd) {
        argv.push_back(a.data());
        lens.push_back(a.size());
      }
      if (redisAppendCommandArgv(ctx.get(), static_cast<int>(cmd.size()), argv.data(),
                                 lens.data()) != REDIS_OK) {
        Status s = UnavailableError(std::string("redis: ") + ctx->errstr);
        Release(nullptr);
        RecordFailure(s);
        return s;
      }
    }
    std::vector<ReplyPtr> replies;
    replies.reserve(commands.size());
    for (size_t i = 0; i < commands.size(); ++i) {
      void* raw = nullptr;
      if (redisGetReply(ctx.get(), &raw) != REDIS_OK || raw == nullptr) {
        bool timeout = ctx->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK);
        Status s = timeout
                       ? DeadlineExceededError("redis: no answer within " +
                                               std::to_string(s_.command_timeout.count()) + " ms")
                       : UnavailableError(std::string("redis: ") +
                                          (ctx->errstr[0] ? ctx->errstr : "connection lost"));
        Release(nullptr);
        RecordFailure(s);
        return s;
      }
      replies.emplace_back(static_cast<redisReply*>(raw));
    }
    Release(std::move(ctx));
    RecordSuccess();
    return replies;
  }

  // ---- epoch ----
  StatusOr<std::string> Epoch() {
    {
      std::lock_guard lock(epoch_mu_);
      if (!epoch_.empty()) return epoch_;
    }
    StatusOr<std::vector<ReplyPtr>> replies =
        Pipeline({{"EVAL", std::string(kEnsureEpochScript), "1", EpochKey(), NewToken()}});
    if (!replies.ok()) return replies.status();
    const redisReply* r = (*replies)[0].get();
    if (r->type != REDIS_REPLY_STRING) {
      return InternalError("redis: cannot establish the namespace epoch: " + ReplyString(r));
    }
    std::string epoch = ReplyString(r);
    std::lock_guard lock(epoch_mu_);
    epoch_ = epoch;
    return epoch;
  }

  // The epoch moved (another process recovered from an outage, Redis restarted, Clear): values
  // this process mirrors may be stale.
  void EpochChanged() {
    {
      std::lock_guard lock(epoch_mu_);
      epoch_.clear();
    }
    NotifyEverything();
  }

  void NotifySubscription(bool live) {
    std::lock_guard lock(listener_mu_);
    subscribed_ = live;
    if (listener_ != nullptr) listener_->OnSubscription(live);
    // After the listener, so the count never runs ahead of what the listener was told.
    if (!live) subscriptions_lost_.Add();
  }

  void NotifyEverything() {
    std::lock_guard lock(listener_mu_);
    if (listener_ != nullptr) listener_->OnEverythingInvalidated();
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

  bool Allowed() const {
    std::lock_guard lock(breaker_mu_);
    return state_ == BreakerState::kClosed;
  }
  std::string LastError() const {
    std::lock_guard lock(breaker_mu_);
    return last_error_;
  }
  void RecordSuccess() {
    std::lock_guard lock(breaker_mu_);
    if (state_ == BreakerState::kClosed) failures_ = 0;
  }
  void RecordFailure(const Status& s) {
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
      ASSIGN_OR_RETURN(ctx, Connect());
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
      std::string key = EpochKey();
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
  bool Recover(ContextPtr& ctx) {
    for (;;) {
      bool suspect = false;
      {
        std::lock_guard lock(breaker_mu_);
        suspect = suspect_;
        suspect_ = false;
      }
      if (suspect) {
        std::string token = NewToken();
        std::string key = EpochKey();
        ReplyPtr set(static_cast<redisReply*>(redisCommand(
            ctx.get(), "SET %b %b", key.data(), key.size(), token.data(), token.size())));
        ReplyPtr pub(set == nullptr
                         ? nullptr
                         : static_cast<redisReply*>(redisCommand(
                               ctx.get(), "PUBLISH %b f", channel_.data(), channel_.size())));
        if (pub == nullptr || IsError(set.get())) {
          std::lock_guard lock(breaker_mu_);
          suspect_ = true;
          ctx.reset();
          return false;
        }
        spdlog::info("cache {}: new Redis namespace epoch after invalidations were missed",
                     s_.tier);
      }
      EpochChanged();
      DropIdleConnections();
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
      retry_at_ = Steady::now() + Backoff(++open_rounds_);
      wait = std::chrono::duration_cast<milliseconds>(retry_at_ - Steady::now());
    }
  }

  // ---- subscriber thread ----
  void Dispatch(const redisReply* r) {
    if (r == nullptr || r->type != REDIS_REPLY_ARRAY || r->elements != 3) return;
    if (ReplyString(r->element[0]) != "message") return;
    std::string payload = ReplyString(r->element[2]);
    std::lock_guard lock(listener_mu_);
    if (listener_ == nullptr || payload.empty()) return;
    std::string_view rest = payload.size() >= 2 ? std::string_view(payload).substr(2) : "";
    switch (payload[0]) {
      case 't': {
        Tags tags;
        while (!rest.empty()) {
          size_t nl = rest.find('\n');
          tags.emplace_back(rest.substr(0, nl));
          if (nl == std::string_view::npos) break;
          rest.remove_prefix(nl + 1);
        }
        listener_->OnTagsInvalidated(tags);
        break;
      }
      case 'k':
        listener_->OnKeyDeleted(rest);
        break;
      case 'p':
        listener_->OnPatternInvalidated(rest);
        break;
      default:  // 'f' and anything this version does not know: the safe answer
        listener_->OnEverythingInvalidated();
        break;
    }
  }

  void SubscriberLoop() {
    milliseconds backoff{50};
    while (WaitFor(milliseconds(0))) {
      if (!Allowed()) {
        WaitFor(milliseconds(100));
        continue;
      }
      uint64_t outage = outage_.load();
      StatusOr<ContextPtr> conn = Connect();
      if (conn.ok()) {
        ContextPtr ctx = std::move(conn).value();
        ReplyPtr r(static_cast<redisReply*>(
            redisCommand(ctx.get(), "SUBSCRIBE %b", channel_.data(), channel_.size())));
        if (r != nullptr && r->type == REDIS_REPLY_ARRAY) {
          backoff = milliseconds(50);
          NotifySubscription(true);
          Listen(ctx.get(), outage);
          NotifySubscription(false);
        }
      }
      WaitFor(backoff);
      // Capped low: while not subscribed the tiered cache serves nothing from its L1.
      backoff = std::min({backoff * 2, s_.max_backoff, milliseconds(500)});
    }
  }

  // Until stop, an outage, or the connection breaks.
  void Listen(redisContext* ctx, uint64_t outage) {
    while (WaitFor(milliseconds(0)) && outage_.load() == outage) {
      void* raw = nullptr;
      if (redisGetReplyFromReader(ctx, &raw) != REDIS_OK) return;
      if (raw != nullptr) {
        ReplyPtr reply(static_cast<redisReply*>(raw));
        Dispatch(reply.get());
        continue;
      }
      pollfd pfd{ctx->fd, POLLIN, 0};
      int n = poll(&pfd, 1, 100);
      if (n < 0 && errno != EINTR) return;
      if (n > 0) {
        if ((pfd.revents & (POLLERR | POLLNVAL)) != 0) return;
        if (redisBufferRead(ctx) != REDIS_OK) return;
      }
    }
  }

  const RedisCacheSettings s_;
  std::string channel_;
  mutable TierMetrics metrics_;
  metrics::Gauge& ping_us_;
  metrics::Gauge& breaker_gauge_;
  metrics::Counter& faults_;
  metrics::Counter& recoveries_;
  metrics::Counter& subscriptions_lost_;

  std::mutex pool_mu_;
  std::condition_variable pool_cv_;
  std::vector<ContextPtr> idle_;  // GUARDED_BY(pool_mu_)
  int open_connections_ = 0;      // GUARDED_BY(pool_mu_)

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
  std::string epoch_;  // GUARDED_BY(epoch_mu_); empty: ask Redis

  std::mutex listener_mu_;
  InvalidationListener* listener_ = nullptr;  // GUARDED_BY(listener_mu_)
  bool subscribed_ = false;                   // GUARDED_BY(listener_mu_)

  std::mutex rng_mu_;
  std::mt19937_64 rng_;  // GUARDED_BY(rng_mu_)

  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stop_ = false;  // GUARDED_BY(stop_mu_)
  std::thread monitor_;
  std::thread subscriber_;
};

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 3986 percent-decoding of the userinfo, so a password may hold '@', ':' or '/'.
StatusOr<std::string> PercentDecoded(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    const int hi = i + 2 < text.size() ? HexDigit(text[i + 1]) : -1;
    const int lo = hi >= 0 ? HexDigit(text[i + 2]) : -1;
    if (lo < 0) return InvalidArgumentError("redis URL: bad %-escape in user or password");
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

}  // namespace

StatusOr<RedisCacheSettings> ParseRedisUrl(std::string_view url) {
  if (url.substr(0, 9) == "rediss://") {
    return InvalidArgumentError(
        "redis URL: rediss:// (TLS) is not supported: this build's hiredis (0.14, Debian 12) has "
        "no TLS; reach a TLS-only Redis through a local TLS tunnel and use redis://");
  }
  constexpr std::string_view kScheme = "redis://";
  if (url.substr(0, kScheme.size()) != kScheme) {
    return InvalidArgumentError("redis URL must start with redis://");
  }
  RedisCacheSettings s;
  std::string_view rest = url.substr(kScheme.size());
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    size_t colon = userinfo.find(':');
    ASSIGN_OR_RETURN(s.username, PercentDecoded(userinfo.substr(0, colon)));
    if (colon != std::string_view::npos) {
      ASSIGN_OR_RETURN(s.password, PercentDecoded(userinfo.substr(colon + 1)));
    }
    authority.remove_prefix(at + 1);
  }
  std::string_view host = authority;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return InvalidArgumentError("redis URL: unclosed [");
    host = authority.substr(1, close - 1);
    authority.remove_prefix(close + 1);
    if (!authority.empty() && authority[0] != ':') {
      return InvalidArgumentError("redis URL: junk after ]");
    }
  } else {
    size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    authority = colon == std::string_view::npos ? "" : authority.substr(colon);
  }
  if (host.empty()) return InvalidArgumentError("redis URL: no host");
  s.host = std::string(host);
  if (!authority.empty()) {
    std::string_view port = authority.substr(1);
    int p = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (ec != std::errc() || end != port.data() + port.size() || p < 1 || p > 65535) {
      return InvalidArgumentError("redis URL: port must be 1-65535");
    }
    s.port = p;
  }
  if (!path.empty()) {
    int db = 0;
    auto [end, ec] = std::from_chars(path.data(), path.data() + path.size(), db);
    if (ec != std::errc() || end != path.data() + path.size() || db < 0 || db > 1000000) {
      return InvalidArgumentError("redis URL: database must be a number");
    }
    s.db = db;
  }
  return s;
}

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
