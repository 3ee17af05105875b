#include "cache/redis/redis_invalidation.h"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <string_view>
#include <utility>

#include "cache/redis/redis_connection.h"

namespace hasivu::cache::redis_internal {

using std::chrono::milliseconds;

RedisInvalidationChannel::RedisInvalidationChannel(const RedisCacheSettings& settings,
                                                   std::string channel, RedisSubscriberGate& gate,
                                                   metrics::Counter& subscriptions_lost)
    : s_(settings),
      channel_(std::move(channel)),
      gate_(gate),
      subscriptions_lost_(subscriptions_lost) {}

RedisInvalidationChannel::~RedisInvalidationChannel() { Stop(); }

void RedisInvalidationChannel::Start() {
  subscriber_ = std::thread([this] { SubscriberLoop(); });
}

void RedisInvalidationChannel::RequestStop() {
  {
    std::lock_guard lock(stop_mu_);
    stop_ = true;
  }
  stop_cv_.notify_all();
}

void RedisInvalidationChannel::Stop() {
  RequestStop();
  if (subscriber_.joinable()) subscriber_.join();
}

void RedisInvalidationChannel::SetListener(InvalidationListener* listener) {
  std::lock_guard lock(listener_mu_);
  listener_ = listener;
  // The subscriber may have subscribed before anyone listened.
  if (listener_ != nullptr && subscribed_) listener_->OnSubscription(true);
}

void RedisInvalidationChannel::NotifyEverything() {
  std::lock_guard lock(listener_mu_);
  if (listener_ != nullptr) listener_->OnEverythingInvalidated();
}

bool RedisInvalidationChannel::WaitFor(milliseconds d) {
  std::unique_lock lock(stop_mu_);
  stop_cv_.wait_for(lock, d, [this] { return stop_; });
  return !stop_;
}

void RedisInvalidationChannel::NotifySubscription(bool live) {
  std::lock_guard lock(listener_mu_);
  subscribed_ = live;
  if (listener_ != nullptr) listener_->OnSubscription(live);
  // After the listener, so the count never runs ahead of what the listener was told.
  if (!live) subscriptions_lost_.Add();
}

void RedisInvalidationChannel::Dispatch(const redisReply* r) {
  if (r == nullptr || r->type != REDIS_REPLY_ARRAY || r->elements != 3) return;
  if (ReplyString(r->element[0]) != "message") return;
  std::string payload = ReplyString(r->element[2]);
  // The cache must forget its epoch before the listener empties L1: a read between the two
  // could otherwise fill L1 again from values of the old epoch.
  const bool everything =
      !payload.empty() && payload[0] != 't' && payload[0] != 'k' && payload[0] != 'p';
  if (everything) gate_.EverythingInvalidated();
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

void RedisInvalidationChannel::SubscriberLoop() {
  milliseconds backoff{50};
  while (WaitFor(milliseconds(0))) {
    if (!gate_.Allowed()) {
      WaitFor(milliseconds(100));
      continue;
    }
    uint64_t outage = gate_.Outages();
    StatusOr<ContextPtr> conn = Connect(s_);
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

void RedisInvalidationChannel::Listen(redisContext* ctx, uint64_t outage) {
  while (WaitFor(milliseconds(0)) && gate_.Outages() == outage) {
    void* raw = nullptr;
    if (redisGetReplyFromReader(ctx, &raw) != REDIS_OK) return;
    if (raw != nullptr) {
      ReplyPtr reply(static_cast<redisReply*>(raw));
      Dispatch(reply.get());
      continue;
    }
    // Poll, not a blocking read: the loop must notice a stop or an outage within 100 ms.
    pollfd pfd{ctx->fd, POLLIN, 0};
    int n = poll(&pfd, 1, 100);
    if (n < 0 && errno != EINTR) return;
    if (n > 0) {
      if ((pfd.revents & (POLLERR | POLLNVAL)) != 0) return;
      if (redisBufferRead(ctx) != REDIS_OK) return;
    }
  }
}

}  // namespace hasivu::cache::redis_internal
