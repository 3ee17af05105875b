// Internal to cache/redis (not part of the public API; users include redis_cache.h): how the Redis
// cache lays out its data in Redis. The key names, the encoding of values, and the Lua scripts
// that read and write them. They live together because the scripts build some of these keys
// themselves (from the prefix and the epoch), so names and scripts must agree. redis_cache.h
// describes the layout.
#ifndef HASIVU_CACHE_REDIS_REDIS_KEYS_H_
#define HASIVU_CACHE_REDIS_REDIS_KEYS_H_

#include <hiredis/hiredis.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "cache/cache.h"

namespace hasivu::cache::redis_internal {

// The names of the cache's keys and channel under one prefix.
// Thread-safety: immutable; safe to use concurrently.
class RedisKeys {
 public:
  explicit RedisKeys(std::string prefix) : prefix_(std::move(prefix)) {}

  // <prefix>epoch: the namespace epoch.
  std::string EpochKey() const;
  // <prefix>d:<epoch>:<key>: a value.
  std::string DataKey(std::string_view epoch, std::string_view key) const;
  // <prefix>s:<epoch>:<tag>: the set of data keys stored with `tag`.
  std::string TagSetKey(std::string_view epoch, std::string_view tag) const;
  // <prefix>g:p, <prefix>g:k:<key>, <prefix>g:t:<tag>: generations.
  std::string PatternGenKey() const;
  std::string KeyGenKey(std::string_view key) const;
  std::string TagGenKey(std::string_view tag) const;
  // <prefix>inval: the channel invalidations are published on.
  std::string Channel() const;

 private:
  const std::string prefix_;
};

// A value as stored under a data key: "<n>\n<tag 1>\n...<tag n>\n<bytes>".
std::string EncodeValue(const Tags& tags, std::string_view value);
// The inverse of EncodeValue into entry.tags and entry.value (entry.ttl_left untouched); false
// when `raw` is not such a value (or has more than kMaxTagsPerEntry tags).
bool DecodeValue(std::string_view raw, Entry& entry);

// A generation from a GET or MGET reply: a decimal string (an INCR value), or 0 for nil (never
// bumped) or anything else.
uint64_t ParseGeneration(const redisReply* r);

// The Lua scripts, run with EVAL; their KEYS and ARGV are described in redis_keys.cc.
// SetIfCurrent: returns 1 (stored), 0 (a generation moved: not stored), -1 (the epoch moved).
extern const std::string_view kSetScript;
// InvalidateTags: bumps the tags' generations, unlinks their values, publishes.
extern const std::string_view kInvalidateTagsScript;
// Delete: bumps the key's generation, unlinks its value, publishes; returns the number unlinked.
extern const std::string_view kDeleteScript;
// Sets the epoch if missing (SET NX) and returns the epoch in force.
extern const std::string_view kEnsureEpochScript;

}  // namespace hasivu::cache::redis_internal

#endif  // HASIVU_CACHE_REDIS_REDIS_KEYS_H_
