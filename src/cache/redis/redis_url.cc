// ParseRedisUrl (declared in redis_cache.h): the --cache URL into RedisCacheSettings.
#include <charconv>
#include <string>

#include "cache/redis/redis_cache.h"

namespace hasivu::cache {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 3986 percent-decoding of the userinfo, so a password may hold '@', ':' or '/'.
StatusOr<std::string> PercentDecoded(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    const int hi = i + 2 < text.size() ? HexDigit(text[i + 1]) : -1;
    const int lo = hi >= 0 ? HexDigit(text[i + 2]) : -1;
    if (lo < 0) return InvalidArgumentError("redis URL: bad %-escape in user or password");
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

}  // namespace

StatusOr<RedisCacheSettings> ParseRedisUrl(std::string_view url) {
  if (url.substr(0, 9) == "rediss://") {
    return InvalidArgumentError(
        "redis URL: rediss:// (TLS) is not supported: this build's hiredis (0.14, Debian 12) has "
        "no TLS; reach a TLS-only Redis through a local TLS tunnel and use redis://");
  }
  constexpr std::string_view kScheme = "redis://";
  if (url.substr(0, kScheme.size()) != kScheme) {
    return InvalidArgumentError("redis URL must start with redis://");
  }
  RedisCacheSettings s;
  std::string_view rest = url.substr(kScheme.size());
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    size_t colon = userinfo.find(':');
    ASSIGN_OR_RETURN(s.username, PercentDecoded(userinfo.substr(0, colon)));
    if (colon != std::string_view::npos) {
      ASSIGN_OR_RETURN(s.password, PercentDecoded(userinfo.substr(colon + 1)));
    }
    authority.remove_prefix(at + 1);
  }
  std::string_view host = authority;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return InvalidArgumentError("redis URL: unclosed [");
    host = authority.substr(1, close - 1);
    authority.remove_prefix(close + 1);
    if (!authority.empty() && authority[0] != ':') {
      return InvalidArgumentError("redis URL: junk after ]");
    }
  } else {
    size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    authority = colon == std::string_view::npos ? "" : authority.substr(colon);
  }
  if (host.empty()) return InvalidArgumentError("redis URL: no host");
  s.host = std::string(host);
  if (!authority.empty()) {
    std::string_view port = authority.substr(1);
    int p = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (ec != std::errc() || end != port.data() + port.size() || p < 1 || p > 65535) {
      return InvalidArgumentError("redis URL: port must be 1-65535");
    }
    s.port = p;
  }
  if (!path.empty()) {
    int db = 0;
    auto [end, ec] = std::from_chars(path.data(), path.data() + path.size(), db);
    if (ec != std::errc() || end != path.data() + path.size() || db < 0 || db > 1000000) {
      return InvalidArgumentError("redis URL: database must be a number");
    }
    s.db = db;
  }
  return s;
}

}  // namespace hasivu::cache
