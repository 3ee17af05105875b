// CachedBody: how the read endpoints keep a response in the cache: the serialised body and its
// ETag in one value, so a hit needs no JSON work (architecture decision 4).
//
// Compressed variants are separate entries under DerivedKey(key, "br") etc. with the SAME tags
// and TTL as the identity body, filled on first request through CacheAside::GetOrLoad; an
// invalidation of the tags therefore drops every variant together.
//
// Thread-safety: pure functions.
#ifndef HASIVU_CACHE_CACHED_BODY_H_
#define HASIVU_CACHE_CACHED_BODY_H_

#include <string>
#include <string_view>

#include "common/status.h"

namespace hasivu::cache {

// Views into the encoded value (valid as long as it is).
struct CachedBodyView {
  std::string_view etag;
  std::string_view body;
};

// Encodes etag and body as one value. REQUIRES: etag has no '\n' (an HTTP header value never has).
std::string EncodeCachedBody(std::string_view etag, std::string_view body);
// kInvalidArgument if `value` was not made by EncodeCachedBody.
StatusOr<CachedBodyView> DecodeCachedBody(std::string_view value);

// "<key>|<variant>", e.g. DerivedKey("orders:u:7:p1", "br") == "orders:u:7:p1|br".
std::string DerivedKey(std::string_view key, std::string_view variant);

}  // namespace hasivu::cache

#endif  // HASIVU_CACHE_CACHED_BODY_H_
