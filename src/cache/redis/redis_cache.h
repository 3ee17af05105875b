// The Redis cache: the shared L2 behind `--cache redis://host:port/db` (used through
// NewTieredCache; usable alone).
//
// Connections: a pool of `pool_size` synchronous hiredis connections, opened lazily, each with a
// connect timeout and a command timeout (SO_RCVTIMEO/SO_SNDTIMEO). One round trip (Get is a
// pipelined GET+PTTL; Set, Delete and InvalidateTags are one Lua script each) blocks at most
// command_timeout waiting for a free connection + connect_timeout (if it must connect) +
// command_timeout; InvalidatePattern makes one round trip per SCAN page. Once the breaker is
// open, calls return at once. A broken connection is dropped and reopened on next use.
//
// Circuit breaker: `breaker_failures` consecutive failures (connect, I/O, timeout) open it; a
// failed invalidation opens it at once. While open every call fails fast with kUnavailable and
// touches no socket. A monitor thread PINGs every `ping_interval` (latency exported) and, while
// open, probes with exponential backoff from `breaker_cooldown` up to `max_backoff` with jitter
// (half of each wait randomised), for ever (a process that missed invalidations: every
// `breaker_cooldown`, see Outages below). Each state change is logged once (spdlog warn/info)
// and counted.
//
// Keys in Redis (all under `key_prefix`, so deployments and tests can share one server):
//   <prefix>epoch            the namespace epoch, a random token (SET NX when missing)
//   <prefix>d:<epoch>:<key>  values ("<n>\n<tag 1>\n...<tag n>\n<bytes>"), PX = ttl
//   <prefix>s:<epoch>:<tag>  the keys stored with a tag (a set, expires with its longest member)
//   <prefix>g:p, g:k:<key>, g:t:<tag>  generations (INCR; expire after generation_ttl)
//   channel <prefix>inval    invalidation messages to every process's L1
//
// Guarantees:
//  * SetIfCurrent runs as one Lua script that stores only if the epoch and every stamped
//    generation are unchanged, so a value loaded before an invalidation is never stored after it.
//  * InvalidateTags / Delete run as one Lua script: bump generations, delete the affected values,
//    publish. When it returns OK no process reads the old values from Redis.
//  * InvalidatePattern bumps the pattern generation (no in-flight store of ANY key survives),
//    then deletes matching values with SCAN MATCH + UNLINK (never KEYS), then publishes. Keys
//    stored by other processes during the scan after the bump are new values, not stale ones.
//  * Outages: an invalidation that fails (Redis unreachable, or the breaker open) marks this
//    process suspect and opens the breaker. When a probe succeeds again, a NEW epoch is set and
//    "everything invalidated" published before the breaker closes, so every value written
//    before the outage becomes unreachable (it expires by TTL): Redis may hold values that an
//    invalidation of any process missed, and whichever process is back first must not use them.
//    Only a process that missed no invalidation and finds that another has already set a new
//    epoch since the outage began takes that one instead. A suspect process probes at the first
//    backoff interval (breaker_cooldown, jittered) instead of backing off: Redis may be back for
//    others before it notices, and a write it makes meanwhile is not invalidated in Redis; the
//    others may serve the value that write replaced until it renews the epoch (about one
//    breaker_cooldown). A Redis restart (data lost, epoch key gone) also yields a new epoch, and
//    the epoch check keeps stamps taken before it from storing. Other processes learn a new
//    epoch from the message (their subscriber makes them forget the old one before their L1 is
//    emptied), from their next PING round (every ping_interval) or from their next store,
//    whichever comes first.
//  * Remote invalidations reach the InvalidationListener through a subscriber thread with its
//    own connection; it reports OnSubscription(true) on each (re)subscription and
//    OnSubscription(false) when the connection is lost or the breaker opens, retrying every
//    50-500 ms. Both are asynchronous: a message, and equally the close of a dropped subscriber
//    connection, take effect only when the subscriber thread reads them.
//  Assumes a single Redis node (scripts touch keys they compute; not Redis Cluster).
//
// Stats: keys/bytes are -1 (the namespace size is not tracked). Extra series:
// hasivu_cache_redis_ping_microseconds (gauge), hasivu_cache_redis_breaker_state (gauge: 0
// closed, 1 open, 2 probing), hasivu_cache_redis_faults_total, hasivu_cache_redis_recoveries_total,
// hasivu_cache_redis_subscriptions_lost_total (subscriber connections lost after subscribing,
// counted after OnSubscription(false) has returned).
//
// Thread-safety: all methods may be called concurrently. The destructor stops and joins the
// monitor and subscriber threads (bounded by connect_timeout + 100 ms).
#ifndef HASIVU_CACHE_REDIS_REDIS_CACHE_H_
#define HASIVU_CACHE_REDIS_REDIS_CACHE_H_

#include <chrono>
#include <string>
#include <string_view>

#include "cache/cache.h"
#include "metrics/metrics.h"

namespace hasivu::cache {

struct RedisCacheSettings {
  std::string host = "127.0.0.1";  // Default: 127.0.0.1
  int port = 6379;                 // Default: 6379
  int db = 0;                      // Default: 0 (SELECT)
  // Default: none. With a username, AUTH username password (a Redis 6+ ACL user); with only a
  // password, AUTH password (the default user). The password is never logged.
  std::string username;
  std::string password;
  std::string key_prefix = "hasivu:";               // Default: "hasivu:"
  int pool_size = 4;                                // Default: 4 connections
  std::chrono::milliseconds connect_timeout{200};   // Default: 200 ms
  std::chrono::milliseconds command_timeout{100};   // Default: 100 ms
  int breaker_failures = 3;                         // Default: 3 consecutive failures
  std::chrono::milliseconds breaker_cooldown{500};  // Default: first probe after ~0.5 s
  std::chrono::milliseconds max_backoff{5000};      // Default: probes at most ~5 s apart
  std::chrono::milliseconds ping_interval{1000};    // Default: 1 s
  std::chrono::milliseconds generation_ttl = std::chrono::hours(24);  // > longest TTL + load
  size_t max_value_bytes = 8u << 20;  // Default: 8 MiB (kResourceExhausted beyond)
  bool subscribe = true;              // Default: listen for other processes' invalidations
  // Not owned; must outlive the cache. Default: a private registry.
  metrics::Registry* registry = nullptr;
  std::string tier = "redis";  // Default: "redis" ("l2" inside a tiered cache)
};

// Parses redis://[[user][:password]@]host[:port][/db] into host, port, db, username and password
// (other fields keep their defaults). User and password are percent-decoded (%40 for '@', %3A for
// ':'). kInvalidArgument with the reason on anything else, including rediss:// (TLS): the
// hiredis of Debian 12 (0.14) has no TLS (docs/decisions.md D26).
StatusOr<RedisCacheSettings> ParseRedisUrl(std::string_view url);

// Starts the monitor (and subscriber) threads and returns at once: an unreachable Redis is not
// an error here (calls fail until it answers; the breaker opens and probing starts).
// kInvalidArgument for bad settings. Side effect: if SIGPIPE still has its default action
// (terminate), it is set to ignored, so a write to a connection Redis reset becomes an error.
StatusOr<CachePtr> NewRedisCache(RedisCacheSettings settings);

}  // namespace hasivu::cache

#endif  // HASIVU_CACHE_REDIS_REDIS_CACHE_H_
