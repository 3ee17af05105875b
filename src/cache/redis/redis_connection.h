// Internal to cache/redis (not part of the public API; users include redis_cache.h): the
// connection and protocol layer of the Redis cache. RAII handles for hiredis contexts and
// replies, opening a connection (timeouts, keep-alive, AUTH, SELECT), and a bounded pool of
// synchronous connections that sends pipelined round trips.
//
// The pool knows nothing of keys, scripts or epochs. Before it touches a socket it asks a
// RedisConnectionGate (the cache's circuit breaker), and it reports the outcome of every connect
// and round trip to that gate.
#ifndef HASIVU_CACHE_REDIS_REDIS_CONNECTION_H_
#define HASIVU_CACHE_REDIS_REDIS_CONNECTION_H_

#include <hiredis/hiredis.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cache/redis/redis_cache.h"
#include "common/status.h"

namespace hasivu::cache::redis_internal {

struct ContextFree {
  void operator()(redisContext* c) const {
    if (c != nullptr) redisFree(c);
  }
};
// One hiredis connection, owned. Not thread-safe: one thread uses it at a time.
using ContextPtr = std::unique_ptr<redisContext, ContextFree>;

struct ReplyFree {
  void operator()(redisReply* r) const {
    if (r != nullptr) freeReplyObject(r);
  }
};
// One reply (with its elements), owned.
using ReplyPtr = std::unique_ptr<redisReply, ReplyFree>;

// The bytes of a string, status or error reply; empty for null.
std::string ReplyString(const redisReply* r);

// Whether `r` is an error reply (the server answered, with an error).
bool IsError(const redisReply* r);

// Opens a connection to s.host:s.port, waiting at most s.connect_timeout; sets s.command_timeout
// as the socket read and write timeout, enables TCP keep-alive, then sends AUTH (when s.username
// or s.password is set) and SELECT (when s.db != 0). kUnavailable with the reason on any failure;
// the password never appears in it. The connection belongs to the caller.
// Thread-safety: safe to call concurrently.
StatusOr<ContextPtr> Connect(const RedisCacheSettings& s);

// What the pool asks of the circuit breaker. The pool calls it with none of its locks held.
class RedisConnectionGate {
 public:
  virtual ~RedisConnectionGate() = default;
  // OK when Redis may be used; otherwise the Status to fail with at once, touching no socket.
  virtual Status Admit() const = 0;
  // A round trip completed (the server answered, possibly with error replies).
  virtual void RecordSuccess() = 0;
  // Connecting, sending or reading failed (not reported: waiting in vain for a free connection).
  virtual void RecordFailure(const Status& s) = 0;
};

// At most settings.pool_size connections, opened lazily (Connect) and reused. A connection that
// broke is closed when returned and reopened on a later use.
//
// `open`, when given, is kept at the number of connections open or being opened (a Registry gauge).
//
// Ownership: `settings`, `gate` and `open` are not owned and must outlive the pool. The destructor
// closes the idle connections. REQUIRES: no Pipeline call is running when it is destroyed.
// Thread-safety: all methods may be called concurrently.
class RedisConnectionPool {
 public:
  RedisConnectionPool(const RedisCacheSettings& settings, RedisConnectionGate& gate,
                      metrics::Gauge* open = nullptr);
  RedisConnectionPool(const RedisConnectionPool&) = delete;
  RedisConnectionPool& operator=(const RedisConnectionPool&) = delete;

  // Sends all `commands` (each an argv) in one round trip on one connection and returns one
  // reply per command, in order. Error replies are returned as replies (the server answered);
  // only connection-level problems become a Status, and those count for the gate:
  //  * the gate's Status when it does not admit the call;
  //  * kDeadlineExceeded when no connection frees up within command_timeout, or no answer
  //    arrives within it;
  //  * kUnavailable when connecting, sending or reading fails.
  // Blocks at most command_timeout (waiting for a free connection) + connect_timeout (if it must
  // connect) + command_timeout.
  StatusOr<std::vector<ReplyPtr>> Pipeline(const std::vector<std::vector<std::string>>& commands);

  // Closes every idle connection (connections in use are closed when returned broken, or kept),
  // so that the next calls connect afresh.
  void DropIdle();

 private:
  StatusOr<ContextPtr> Acquire();
  // Returns a healthy connection to the pool; a null or broken one is closed.
  void Release(ContextPtr ctx);

  const RedisCacheSettings& s_;
  RedisConnectionGate& gate_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<ContextPtr> idle_;  // GUARDED_BY(mu_)
  int open_connections_ = 0;      // GUARDED_BY(mu_)
  metrics::Gauge* const open_gauge_;
};

}  // namespace hasivu::cache::redis_internal

#endif  // HASIVU_CACHE_REDIS_REDIS_CONNECTION_H_
