#include "cache/cache.h"

#include <string>
#include <utility>

namespace hasivu::cache {

Status Cache::Set(std::string_view key, std::string value, std::chrono::milliseconds ttl,
                  const Tags& tags) {
  ASSIGN_OR_RETURN(Stamp stamp, StampFor(key, tags));
  return SetIfCurrent(key, std::make_shared<const std::string>(std::move(value)), ttl, tags, stamp);
}

Status ValidateKey(std::string_view key) {
  if (key.empty()) return InvalidArgumentError("cache key is empty");
  if (key.size() > kMaxKeyBytes) {
    return InvalidArgumentError("cache key is longer than " + std::to_string(kMaxKeyBytes) +
                                " bytes");
  }
  return Status::Ok();
}

Status ValidateTags(const Tags& tags) {
  if (tags.size() > kMaxTagsPerEntry) {
    return InvalidArgumentError("more than " + std::to_string(kMaxTagsPerEntry) +
                                " cache tags on one entry");
  }
  for (const std::string& tag : tags) {
    if (tag.empty()) return InvalidArgumentError("cache tag is empty");
    if (tag.size() > kMaxTagBytes) {
      return InvalidArgumentError("cache tag is longer than " + std::to_string(kMaxTagBytes) +
                                  " bytes");
    }
    // Tags travel newline-separated in Redis values and invalidation messages.
    if (tag.find('\n') != std::string::npos) {
      return InvalidArgumentError("cache tag contains a newline");
    }
  }
  return Status::Ok();
}

Status ValidateTtl(std::chrono::milliseconds ttl) {
  if (ttl <= std::chrono::milliseconds(0))
    return InvalidArgumentError("cache TTL must be positive");
  return Status::Ok();
}

}  // namespace hasivu::cache
