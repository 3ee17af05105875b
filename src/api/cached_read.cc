#include "api/cached_read.h"

#include <utility>

#include "api/envelope.h"
#include "api/read_helpers.h"
#include "cache/cached_body.h"
#include "domain/read_cache.h"

namespace hasivu::api {

http::Response CachedConditionalSuccess(const ApiContext& ctx, const http::Request& request,
                                        std::string_view key, cache::Kind kind,
                                        const cache::Tags& tags, const DataLoader& load) {
  if (ctx.read_cache == nullptr || !ctx.read_cache->enabled()) {
    StatusOr<std::string> data = load();
    if (!data.ok()) return ErrorFromStatus(request, data.status());
    return ConditionalSuccessSerialized(request, *data);
  }
  StatusOr<cache::ValuePtr> value =
      ctx.read_cache->GetOrLoad(key, kind, tags, [&]() -> StatusOr<std::string> {
        ASSIGN_OR_RETURN(std::string data, load());
        return cache::EncodeCachedBody(StrongETag(data), data);
      });
  if (!value.ok()) return ErrorFromStatus(request, value.status());
  StatusOr<cache::CachedBodyView> cached = cache::DecodeCachedBody(**value);
  if (!cached.ok()) {
    // Not a value this code wrote (another version sharing a Redis): serve from the source.
    StatusOr<std::string> data = load();
    if (!data.ok()) return ErrorFromStatus(request, data.status());
    return ConditionalSuccessSerialized(request, *data);
  }
  return ConditionalSuccessWithETag(request, cached->body, cached->etag);
}

}  // namespace hasivu::api
