// Internal to cache/redis (not part of the public API; users include redis_cache.h): the
// invalidation channel of the Redis cache. A subscriber thread with its own connection SUBSCRIBEs
// to the cache's channel, decodes each message and hands it to the InvalidationListener;
// it reconnects after a lost connection or an outage (every 50-500 ms, doubling).
//
// Messages (published by the cache's scripts and commands):
//   "t\n<tag 1>\n...<tag n>"  OnTagsInvalidated      "k\n<key>"   OnKeyDeleted
//   "p\n<glob>"               OnPatternInvalidated   "f", other   OnEverythingInvalidated
//
// The channel also owns the listener registration, so that every listener call (remote messages,
// subscription changes, and the cache's own NotifyEverything) is made under one lock, one at a
// time.
#ifndef HASIVU_CACHE_REDIS_REDIS_INVALIDATION_H_
#define HASIVU_CACHE_REDIS_REDIS_INVALIDATION_H_

#include <hiredis/hiredis.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "cache/cache.h"
#include "cache/redis/redis_cache.h"
#include "metrics/metrics.h"

namespace hasivu::cache::redis_internal {

// What the subscriber asks of the cache's circuit breaker. Called from the subscriber thread.
class RedisSubscriberGate {
 public:
  virtual ~RedisSubscriberGate() = default;
  // Whether Redis may be used now (the breaker is closed); the subscriber does not connect
  // otherwise.
  virtual bool Allowed() const = 0;
  // How many times the breaker has opened; when it changes the subscription is dropped.
  virtual uint64_t Outages() const = 0;
  // An "everything invalidated" message arrived (another process started a new namespace
  // epoch, or cleared the cache): the epoch this process knows may be old. Called before the
  // listener hears of it, without the channel's lock held.
  virtual void EverythingInvalidated() = 0;
};

// Ownership: `settings`, `gate` and `subscriptions_lost` are not owned and must outlive the
// channel; so must the listener, until it is replaced or the channel is stopped.
// Thread-safety: all methods may be called concurrently. Start, RequestStop and Stop are meant
// for the owner's constructor and destructor.
class RedisInvalidationChannel {
 public:
  // `channel` is the Redis channel name. `subscriptions_lost` counts subscriber connections lost
  // after subscribing, each counted after OnSubscription(false) has returned. Starts no thread.
  RedisInvalidationChannel(const RedisCacheSettings& settings, std::string channel,
                           RedisSubscriberGate& gate, metrics::Counter& subscriptions_lost);
  RedisInvalidationChannel(const RedisInvalidationChannel&) = delete;
  RedisInvalidationChannel& operator=(const RedisInvalidationChannel&) = delete;
  // Stop().
  ~RedisInvalidationChannel();

  // Starts the subscriber thread. REQUIRES: called at most once, before any RequestStop.
  void Start();
  // Asks the subscriber thread to end and returns at once.
  void RequestStop();
  // RequestStop, then joins the subscriber thread (if started), which notices within 100 ms, or
  // once a connect in progress ends. After it returns, the listener is called only from
  // SetListener and NotifyEverything.
  void Stop();

  // Replaces the listener (nullptr: none). If the channel is subscribed, tells the new listener
  // OnSubscription(true) before returning.
  void SetListener(InvalidationListener* listener);
  // OnEverythingInvalidated on the listener, if any (this process's own "everything may be stale").
  void NotifyEverything();

 private:
  // Returns false once a stop has been requested (at once, not after `d`).
  bool WaitFor(std::chrono::milliseconds d);
  void SubscriberLoop();
  // Until stop, an outage, or the connection breaks.
  void Listen(redisContext* ctx, uint64_t outage);
  void Dispatch(const redisReply* r);
  void NotifySubscription(bool live);

  const RedisCacheSettings& s_;
  const std::string channel_;
  RedisSubscriberGate& gate_;
  metrics::Counter& subscriptions_lost_;

  std::mutex listener_mu_;
  InvalidationListener* listener_ = nullptr;  // GUARDED_BY(listener_mu_)
  bool subscribed_ = false;                   // GUARDED_BY(listener_mu_)

  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stop_ = false;  // GUARDED_BY(stop_mu_)
  std::thread subscriber_;
};

}  // namespace hasivu::cache::redis_internal

#endif  // HASIVU_CACHE_REDIS_REDIS_INVALIDATION_H_
