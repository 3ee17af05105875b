// Cached reads: a read endpoint's `data`, serialised, with its strong ETag, served from the read
// cache (domain/read_cache.h) so that a hit does no database and no JSON work: the envelope
// (envelope.h) is written around the cached bytes with this request's meta, and If-None-Match is
// answered from the cached ETag (read_helpers.h semantics).
//
// Thread-safety: free functions, safe concurrently.
#ifndef HASIVU_API_CACHED_READ_H_
#define HASIVU_API_CACHED_READ_H_

#include <functional>
#include <string>
#include <string_view>

#include "api/context.h"
#include "cache/cache.h"
#include "cache/ttl.h"
#include "common/status.h"
#include "http/message.h"

namespace hasivu::api {

// Produces the serialised `data` of a read (or its error, which is answered and not cached).
using DataLoader = std::function<StatusOr<std::string>()>;

// The cache value of a read's serialised data: the data with its strong ETag. What
// CachedConditionalSuccess stores, for warm-up loaders that fill the same keys.
std::string EncodeCachedData(std::string_view data_json);

// The response for `key`: cached, or loaded with `load` and cached with `tags` for the TTL of
// `kind`. Without a read cache in `ctx` this is ConditionalSuccessSerialized(request, load()).
http::Response CachedConditionalSuccess(const ApiContext& ctx, const http::Request& request,
                                        std::string_view key, cache::Kind kind,
                                        const cache::Tags& tags, const DataLoader& load);

}  // namespace hasivu::api

#endif  // HASIVU_API_CACHED_READ_H_
