#include "api/cached_read.h"

#include <cstring>
#include <utility>

#include "compress/negotiation.h"
#include "compress/open_encoded.h"

#include "api/envelope.h"
#include "api/read_helpers.h"
#include "cache/cached_body.h"
#include "compress/codec.h"
#include "compress/settings.h"
#include "domain/read_cache.h"

namespace hasivu::api {
namespace {

// An OpenEncoded as cache bytes: encoding, CRC-32 and length (little-endian), then the stream.
std::string PackOpen(const compress::OpenEncoded& open) {
  std::string out;
  out.reserve(13 + open.bytes.size());
  out.push_back(static_cast<char>(open.encoding));
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((open.crc32 >> (8 * i)) & 0xFF));
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((open.length >> (8 * i)) & 0xFF));
  out += open.bytes;
  return out;
}

std::optional<compress::OpenEncoded> UnpackOpen(std::string_view packed,
                                                compress::Encoding expected) {
  if (packed.size() < 13 || static_cast<uint8_t>(packed[0]) != static_cast<uint8_t>(expected)) {
    return std::nullopt;
  }
  compress::OpenEncoded open;
  open.encoding = expected;
  open.crc32 = 0;
  open.length = 0;
  for (int i = 0; i < 4; ++i) {
    open.crc32 |= static_cast<uint32_t>(static_cast<uint8_t>(packed[1 + i])) << (8 * i);
  }
  for (int i = 0; i < 8; ++i) {
    open.length |= static_cast<uint64_t>(static_cast<uint8_t>(packed[5 + i])) << (8 * i);
  }
  open.bytes = std::string(packed.substr(13));
  return open;
}

}  // namespace

// The compressed part of a variant is the envelope up to the end of the data; only this
// request's meta is appended, uncompressed (compress/open_encoded.h). The variant carries the
// identity's ETag and is used only if that still matches, so it can never be older than the
// identity body.
std::optional<std::string> CachedReads::CachedVariant(const http::Request& request,
                                                      std::string_view key, cache::Kind kind,
                                                      const cache::Tags& tags,
                                                      std::string_view data_json,
                                                      std::string_view etag, std::string_view tail,
                                                      compress::Encoding* encoding) const {
  const compress::Settings& cs = compression_;
  const size_t identity_bytes = kSuccessHead.size() + data_json.size() + tail.size();
  // HEAD answers carry the identity headers, as the server's own compression does (server.h).
  if (!cs.enabled || request.method == "HEAD" || identity_bytes < cs.min_bytes) {
    return std::nullopt;
  }
  const std::string* accept = request.headers.Find("Accept-Encoding");
  if (accept == nullptr) return std::nullopt;
  *encoding = compress::Negotiate(*accept, cs.codecs);
  if (*encoding == compress::Encoding::kIdentity) return std::nullopt;
  auto encode = [&]() -> StatusOr<std::string> {
    std::string prefix;
    prefix.reserve(kSuccessHead.size() + data_json.size());
    prefix = kSuccessHead;
    prefix += data_json;
    ASSIGN_OR_RETURN(compress::OpenEncoded open,
                     compress::EncodeOpen(*encoding, prefix, compress::LevelFor(cs, *encoding)));
    return cache::EncodeCachedBody(etag, PackOpen(open));
  };
  const std::string variant_key = cache::DerivedKey(key, compress::EncodingName(*encoding));
  StatusOr<cache::ValuePtr> value = read_cache_.GetOrLoad(variant_key, kind, tags, encode);
  if (!value.ok()) return std::nullopt;  // a codec error: the server compresses (or not) itself
  StatusOr<cache::CachedBodyView> variant = cache::DecodeCachedBody(**value);
  std::optional<compress::OpenEncoded> open;
  if (variant.ok() && variant->etag == etag) open = UnpackOpen(variant->body, *encoding);
  if (!open) {
    // Out of step with the identity entry (made from an older body): replace it.
    StatusOr<std::string> fresh = encode();
    if (!fresh.ok()) return std::nullopt;
    StatusOr<cache::CachedBodyView> view = cache::DecodeCachedBody(*fresh);
    if (view.ok()) open = UnpackOpen(view->body, *encoding);
    read_cache_.Put(variant_key, kind, tags, std::move(*fresh));
    if (!open) return std::nullopt;
  }
  std::string finished = compress::FinishEncoded(*open, tail);
  if (!compress::IsWorthSending(identity_bytes, finished.size())) return std::nullopt;
  return finished;
}

std::string EncodeCachedData(std::string_view data_json) {
  return cache::EncodeCachedBody(StrongETag(data_json), data_json);
}

http::Response CachedReads::ConditionalSuccess(const http::Request& request, std::string_view key,
                                               cache::Kind kind, const cache::Tags& tags,
                                               const DataLoader& load) const {
  if (!read_cache_.enabled()) {
    StatusOr<std::string> data = load();
    if (!data.ok()) return ErrorFromStatus(request, data.status());
    return ConditionalSuccessSerialized(request, *data);
  }
  StatusOr<cache::ValuePtr> value =
      read_cache_.GetOrLoad(key, kind, tags, [&]() -> StatusOr<std::string> {
        ASSIGN_OR_RETURN(std::string data, load());
        return EncodeCachedData(data);
      });
  if (!value.ok()) return ErrorFromStatus(request, value.status());
  StatusOr<cache::CachedBodyView> cached = cache::DecodeCachedBody(**value);
  if (!cached.ok()) {
    // Not a value this code wrote (another version sharing a Redis): serve from the source.
    StatusOr<std::string> data = load();
    if (!data.ok()) return ErrorFromStatus(request, data.status());
    return ConditionalSuccessSerialized(request, *data);
  }
  if (std::optional<http::Response> not_modified = NotModified(request, cached->etag)) {
    return std::move(*not_modified);
  }
  // The identity body is built only when it is the one sent: a client that takes the cached
  // variant gets the compressed data and its own meta, and nothing else is copied.
  const std::string tail = EnvelopeTail(request);
  http::Response response;
  response.status = 200;
  compress::Encoding encoding = compress::Encoding::kIdentity;
  if (std::optional<std::string> encoded =
          CachedVariant(request, key, kind, tags, cached->body, cached->etag, tail, &encoding)) {
    response.body = std::move(*encoded);
    response.content_encoding = std::string(compress::EncodingName(encoding));
  } else {
    response.body.reserve(kSuccessHead.size() + cached->body.size() + tail.size());
    response.body = kSuccessHead;
    response.body += cached->body;
    response.body += tail;
  }
  response.headers.Set("ETag", std::string(cached->etag));
  return response;
}

}  // namespace hasivu::api
