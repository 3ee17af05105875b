// Cached reads: a read endpoint's `data`, serialised, with its strong ETag, served from the read
// cache (domain/read_cache.h) so that a hit does no database and no JSON work: the envelope
// (envelope.h) is written around the cached bytes with this request's meta, and If-None-Match is
// answered from the cached ETag (read_helpers.h semantics).
//
// Thread-safety: CachedReads is immutable after construction, safe to use concurrently.
#ifndef HASIVU_API_CACHED_READ_H_
#define HASIVU_API_CACHED_READ_H_

#include <functional>
#include <string>
#include <string_view>

#include "cache/cache.h"
#include "cache/ttl.h"
#include "common/status.h"
#include "compress/settings.h"
#include "domain/read_cache.h"
#include "http/message.h"

namespace hasivu::api {

// Produces the serialised `data` of a read (or its error, which is answered and not cached).
using DataLoader = std::function<StatusOr<std::string>()>;

// The cache value of a read's serialised data: the data with its strong ETag. What
// CachedConditionalSuccess stores, for warm-up loaders that fill the same keys.
std::string EncodeCachedData(std::string_view data_json);

// The read endpoints' cache: the read cache and the server's response compression
// (http::ServerSettings::compression), by which cached reads keep ready-compressed variants.
class CachedReads {
 public:
  // `read_cache` is not owned and must outlive this object; when it is disabled, nothing is
  // cached.
  CachedReads(const domain::ReadCache& read_cache, compress::Settings compression)
      : read_cache_(read_cache), compression_(std::move(compression)) {}

  const domain::ReadCache& read_cache() const { return read_cache_; }

  // The response for `key`: cached, or loaded with `load` and cached with `tags` for the TTL of
  // `kind`. With the read cache disabled this is ConditionalSuccessSerialized(request, load()).
  http::Response ConditionalSuccess(const http::Request& request, std::string_view key,
                                    cache::Kind kind, const cache::Tags& tags,
                                    const DataLoader& load) const;

 private:
  // The body kSuccessHead + data_json + tail in the encoding the request negotiates, from (or
  // into) the compressed variant cached beside `key`; nullopt when identity is to be sent (no
  // encoding accepted, a HEAD, a body under the compression threshold, a codec error, or no
  // saving worth it). Sets *encoding.
  std::optional<std::string> CachedVariant(const http::Request& request, std::string_view key,
                                           cache::Kind kind, const cache::Tags& tags,
                                           std::string_view data_json, std::string_view etag,
                                           std::string_view tail,
                                           compress::Encoding* encoding) const;

  const domain::ReadCache& read_cache_;
  const compress::Settings compression_;
};

}  // namespace hasivu::api

#endif  // HASIVU_API_CACHED_READ_H_
