#include "cache/cached_body.h"

namespace hasivu::cache {
namespace {
// A version byte first, so a future layout can be told apart from this one.
constexpr char kVersion = '1';
}  // namespace

std::string EncodeCachedBody(std::string_view etag, std::string_view body) {
  std::string out;
  out.reserve(2 + etag.size() + body.size());
  out.push_back(kVersion);
  out.append(etag);
  out.push_back('\n');
  out.append(body);
  return out;
}

StatusOr<CachedBodyView> DecodeCachedBody(std::string_view value) {
  if (value.empty() || value[0] != kVersion) {
    return InvalidArgumentError("cached body: unknown layout");
  }
  size_t nl = value.find('\n', 1);
  if (nl == std::string_view::npos) return InvalidArgumentError("cached body: no ETag line");
  return CachedBodyView{value.substr(1, nl - 1), value.substr(nl + 1)};
}

std::string DerivedKey(std::string_view key, std::string_view variant) {
  std::string out(key);
  out.push_back('|');
  out.append(variant);
  return out;
}

}  // namespace hasivu::cache
