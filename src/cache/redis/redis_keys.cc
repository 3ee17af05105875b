#include "cache/redis/redis_keys.h"

#include <charconv>
#include <memory>
#include <utility>

namespace hasivu::cache::redis_internal {

std::string RedisKeys::EpochKey() const { return prefix_ + "epoch"; }

std::string RedisKeys::DataKey(std::string_view epoch, std::string_view key) const {
  std::string k = prefix_;
  k.append("d:").append(epoch).append(":").append(key);
  return k;
}

std::string RedisKeys::TagSetKey(std::string_view epoch, std::string_view tag) const {
  std::string k = prefix_;
  k.append("s:").append(epoch).append(":").append(tag);
  return k;
}

std::string RedisKeys::PatternGenKey() const { return prefix_ + "g:p"; }

std::string RedisKeys::KeyGenKey(std::string_view key) const {
  return prefix_ + "g:k:" + std::string(key);
}

std::string RedisKeys::TagGenKey(std::string_view tag) const {
  return prefix_ + "g:t:" + std::string(tag);
}

std::string RedisKeys::Channel() const { return prefix_ + "inval"; }

std::string EncodeValue(const Tags& tags, std::string_view value) {
  std::string out = std::to_string(tags.size());
  out.push_back('\n');
  for (const std::string& tag : tags) out.append(tag).push_back('\n');
  out.append(value);
  return out;
}

bool DecodeValue(std::string_view raw, Entry& entry) {
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

uint64_t ParseGeneration(const redisReply* r) {
  if (r == nullptr || r->type != REDIS_REPLY_STRING) return 0;
  uint64_t v = 0;
  std::from_chars(r->str, r->str + r->len, v);
  return v;
}

// Stores only if the epoch and all stamped generations are unchanged: the never-stale rule.
// KEYS: epoch, data, pattern gen, key gen, tag gens (n), tag sets (n).
// ARGV: epoch, value, ttl ms, n, generations (2 + n).
const std::string_view kSetScript = R"lua(
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
const std::string_view kInvalidateTagsScript = R"lua(
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
const std::string_view kDeleteScript = R"lua(
redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
local epoch = redis.call('GET', ARGV[1] .. 'epoch')
local n = 0
if epoch then n = redis.call('UNLINK', ARGV[1] .. 'd:' .. epoch .. ':' .. ARGV[2]) end
redis.call('PUBLISH', ARGV[3], ARGV[4])
return n
)lua";

// KEYS: epoch. ARGV: candidate. Returns the epoch in force.
const std::string_view kEnsureEpochScript = R"lua(
redis.call('SET', KEYS[1], ARGV[1], 'NX')
return redis.call('GET', KEYS[1])
)lua";

}  // namespace hasivu::cache::redis_internal
