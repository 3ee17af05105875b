#include "cache/redis/redis_connection.h"

#include <sys/time.h>

#include <cerrno>
#include <chrono>
#include <utility>

namespace hasivu::cache::redis_internal {
namespace {

using Steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

timeval ToTimeval(milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

}  // namespace

std::string ReplyString(const redisReply* r) {
  if (r == nullptr) return {};
  return std::string(r->str, r->len);
}

bool IsError(const redisReply* r) { return r != nullptr && r->type == REDIS_REPLY_ERROR; }

StatusOr<ContextPtr> Connect(const RedisCacheSettings& s) {
  ContextPtr ctx(redisConnectWithTimeout(s.host.c_str(), s.port, ToTimeval(s.connect_timeout)));
  if (ctx == nullptr) return UnavailableError("redis: cannot allocate a connection");
  if (ctx->err != 0) {
    return UnavailableError("redis " + s.host + ":" + std::to_string(s.port) + ": " + ctx->errstr);
  }
  if (redisSetTimeout(ctx.get(), ToTimeval(s.command_timeout)) != REDIS_OK) {
    return UnavailableError(std::string("redis: cannot set timeouts: ") + ctx->errstr);
  }
  redisEnableKeepAlive(ctx.get());
  if (!s.username.empty() || !s.password.empty()) {
    // AUTH user password for an ACL user; AUTH password for the default user.
    const bool as_user = !s.username.empty();
    const std::string& first = as_user ? s.username : s.password;
    const char* argv[] = {"AUTH", first.c_str(), s.password.c_str()};
    size_t lens[] = {4, first.size(), s.password.size()};
    ReplyPtr r(static_cast<redisReply*>(redisCommandArgv(ctx.get(), as_user ? 3 : 2, argv, lens)));
    if (r == nullptr) return UnavailableError(std::string("redis AUTH: ") + ctx->errstr);
    if (IsError(r.get())) {
      return UnavailableError(as_user ? "redis AUTH refused for user " + s.username
                                      : std::string("redis AUTH refused"));
    }
  }
  if (s.db != 0) {
    std::string db = std::to_string(s.db);
    const char* argv[] = {"SELECT", db.c_str()};
    size_t lens[] = {6, db.size()};
    ReplyPtr r(static_cast<redisReply*>(redisCommandArgv(ctx.get(), 2, argv, lens)));
    if (r == nullptr) return UnavailableError(std::string("redis SELECT: ") + ctx->errstr);
    if (IsError(r.get())) return UnavailableError("redis SELECT: " + ReplyString(r.get()));
  }
  return ctx;
}

RedisConnectionPool::RedisConnectionPool(const RedisCacheSettings& settings,
                                         RedisConnectionGate& gate, metrics::Gauge* open)
    : s_(settings), gate_(gate), open_gauge_(open) {}

StatusOr<ContextPtr> RedisConnectionPool::Acquire() {
  RETURN_IF_ERROR(gate_.Admit());
  {
    std::unique_lock lock(mu_);
    auto deadline = Steady::now() + s_.command_timeout;
    for (;;) {
      if (!idle_.empty()) {
        ContextPtr ctx = std::move(idle_.back());
        idle_.pop_back();
        return ctx;
      }
      if (open_connections_ < s_.pool_size) {
        ++open_connections_;
        if (open_gauge_ != nullptr) open_gauge_->Set(open_connections_);
        break;
      }
      if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
          open_connections_ >= s_.pool_size) {
        return DeadlineExceededError("redis: no free connection within " +
                                     std::to_string(s_.command_timeout.count()) + " ms");
      }
    }
  }
  StatusOr<ContextPtr> ctx = Connect(s_);
  if (!ctx.ok()) {
    Release(nullptr);
    gate_.RecordFailure(ctx.status());
  }
  return ctx;
}

void RedisConnectionPool::Release(ContextPtr ctx) {
  {
    std::lock_guard lock(mu_);
    if (ctx != nullptr && ctx->err == 0) {
      idle_.push_back(std::move(ctx));
    } else {
      --open_connections_;
      if (open_gauge_ != nullptr) open_gauge_->Set(open_connections_);
    }
  }
  cv_.notify_one();
}

void RedisConnectionPool::DropIdle() {
  std::vector<ContextPtr> old;
  {
    std::lock_guard lock(mu_);
    old.swap(idle_);
    open_connections_ -= static_cast<int>(old.size());
    if (open_gauge_ != nullptr) open_gauge_->Set(open_connections_);
  }
  cv_.notify_all();
}

StatusOr<std::vector<ReplyPtr>> RedisConnectionPool::Pipeline(
    const std::vector<std::vector<std::string>>& commands) {
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
    if (redisAppendCommandArgv(ctx.get(), static_cast<int>(cmd.size()), argv.data(), lens.data()) !=
        REDIS_OK) {
      Status s = UnavailableError(std::string("redis: ") + ctx->errstr);
      Release(nullptr);
      gate_.RecordFailure(s);
      return s;
    }
  }
  std::vector<ReplyPtr> replies;
  replies.reserve(commands.size());
  for (size_t i = 0; i < commands.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(ctx.get(), &raw) != REDIS_OK || raw == nullptr) {
      // hiredis reports the socket timeout (SO_RCVTIMEO) as an I/O error and leaves errno set.
      bool timeout = ctx->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK);
      Status s = timeout ? DeadlineExceededError("redis: no answer within " +
                                                 std::to_string(s_.command_timeout.count()) + " ms")
                         : UnavailableError(std::string("redis: ") +
                                            (ctx->errstr[0] ? ctx->errstr : "connection lost"));
      Release(nullptr);
      gate_.RecordFailure(s);
      return s;
    }
    replies.emplace_back(static_cast<redisReply*>(raw));
  }
  Release(std::move(ctx));
  gate_.RecordSuccess();
  return replies;
}

}  // namespace hasivu::cache::redis_internal
