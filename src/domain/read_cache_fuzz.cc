// libFuzzer harness: the cache keys of the read endpoints (domain/read_cache.h,
// MenuService::DailyMenuKey) and the cache layer's own encodings (cache/cached_body.h,
// cache/glob.h, cache/redis/redis_keys.h, cache::Validate*).
//
// Input: newline-separated parts. Two requests A and B are read from them: a role, a user and a
// school (hex digits made into UUIDs: ids come from our own tokens), a path id (an order or a
// user: any decoded text), a raw query, a decoded `fields` value and a date. The same parts also
// feed the encoders.
//
// Invariants, beyond "no crash, no sanitizer report":
//   - no two different reads share a cache entry: the keys A and B get from every builder are
//     equal only when what the builder is documented to depend on is equal (an orders list's
//     scope and query; the caller, id and query or fields of the others; the school, date, view
//     and fields of a menu), and no read's key is the key of another read's compressed variant
//     (cache::DerivedKey), so one request can never be answered another's entry;
//   - the value layouts round-trip: DecodeCachedBody(EncodeCachedBody(etag, body)), and the
//     Redis value layout's DecodeValue(EncodeValue(tags, value));
//   - GlobEscape(s) matches s and nothing else, and as a prefix glob every extension of s.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cache/cache.h"
#include "cache/cached_body.h"
#include "cache/glob.h"
#include "cache/redis/redis_keys.h"
#include "common/testing/fuzz_check.h"
#include "domain/menu_service.h"
#include "domain/principal.h"
#include "domain/read_cache.h"

namespace {

using hasivu::domain::MenuService;
using hasivu::domain::MenuView;
using hasivu::domain::Principal;
using hasivu::domain::ReadCache;
using hasivu::domain::Role;

struct Read {
  Principal caller;
  std::string id;      // an order id or a user id from the path (decoded)
  std::string query;   // raw
  std::string fields;  // decoded
  std::string date;
  MenuView view = MenuView::kMember;
};

// 32 hex digits of `seed` as a UUID (8-4-4-4-12).
std::string UuidOf(std::string_view seed) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (size_t i = 0; i < 32; ++i) {
    const unsigned char c = i < seed.size() ? static_cast<unsigned char>(seed[i]) : 0;
    hex += kHex[c & 15];
  }
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

std::vector<std::string_view> Split(std::string_view in) {
  std::vector<std::string_view> parts;
  while (true) {
    const size_t nl = in.find('\n');
    parts.push_back(in.substr(0, nl));
    if (nl == std::string_view::npos) break;
    in.remove_prefix(nl + 1);
  }
  return parts;
}

Read ReadOf(const std::vector<std::string_view>& parts, size_t first) {
  auto part = [&](size_t i) {
    return first + i < parts.size() ? parts[first + i] : std::string_view();
  };
  Read r;
  const std::string_view role = part(0);
  r.caller.role = static_cast<Role>((role.empty() ? 0 : static_cast<uint8_t>(role[0])) % 5);
  r.caller.user_id = UuidOf(part(1));
  r.caller.school_id = r.caller.role == Role::kAdmin ? "" : UuidOf(part(2));
  r.id = std::string(part(3));
  r.query = std::string(part(4));
  r.fields = std::string(part(5));
  r.date = std::string(part(6));
  r.view = static_cast<MenuView>((role.size() > 1 ? static_cast<uint8_t>(role[1]) : 0) % 3);
  return r;
}

// A key with what it may depend on: equal keys must have equal `depends`.
struct Key {
  std::string key;
  std::string builder;
  std::vector<std::string> depends;
};

std::vector<Key> KeysOf(const Read& r) {
  const ReadCache::Scope scope = ReadCache::OrderListScope(r.caller);
  std::vector<Key> keys = {
      {ReadCache::OrderListKey(scope, r.query), "orders-list", {scope.key, r.query}},
      {ReadCache::OrderDetailKey(r.caller, r.id, r.query),
       "orders-get",
       {r.caller.user_id, r.id, r.query}},
      {ReadCache::UserDetailsKey(r.caller, r.id, r.fields),
       "users-get",
       {r.caller.user_id, r.id, r.fields}},
      {MenuService::DailyMenuKey(r.caller.school_id, r.date, r.view, r.fields),
       "menus-daily",
       {r.caller.school_id, r.date, std::to_string(static_cast<int>(r.view)), r.fields}},
  };
  return keys;
}

void CheckKeys(const Read& a, const Read& b) {
  const std::vector<Key> ka = KeysOf(a);
  const std::vector<Key> kb = KeysOf(b);
  for (const Key& x : ka) {
    for (const Key& y : kb) {
      if (x.key == y.key) {
        FUZZ_CHECK(x.builder == y.builder && x.depends == y.depends);
      }
      for (std::string_view variant : {"br", "zstd", "gzip"}) {
        FUZZ_CHECK(x.key != hasivu::cache::DerivedKey(y.key, variant));
      }
    }
  }
}

void CheckEncodings(const std::vector<std::string_view>& parts, std::string_view all) {
  using namespace hasivu::cache;
  // Cached bodies: an ETag never holds a newline (it is an HTTP header value).
  const std::string_view etag = parts[0];
  const std::string_view body = all.substr(std::min(all.size(), etag.size() + 1));
  const std::string encoded = EncodeCachedBody(etag, body);
  hasivu::StatusOr<CachedBodyView> view = DecodeCachedBody(encoded);
  FUZZ_CHECK(view.ok() && view->etag == etag && view->body == body);
  if (hasivu::StatusOr<CachedBodyView> any = DecodeCachedBody(all); any.ok()) {
    FUZZ_CHECK(EncodeCachedBody(any->etag, any->body) == all);
  }

  // The Redis value layout, with tags the cache accepts.
  Tags tags;
  for (size_t i = 1; i < parts.size() && tags.size() < 8; ++i) {
    if (!parts[i].empty() && parts[i].size() <= kMaxTagBytes) tags.emplace_back(parts[i]);
  }
  FUZZ_CHECK(ValidateTags(tags).ok());
  Entry entry;
  FUZZ_CHECK(redis_internal::DecodeValue(redis_internal::EncodeValue(tags, all), entry));
  FUZZ_CHECK(entry.tags == tags && entry.value && *entry.value == all);
  Entry any_entry;
  if (redis_internal::DecodeValue(all, any_entry)) {
    FUZZ_CHECK(any_entry.tags.size() <= kMaxTagsPerEntry);
  }

  // Globs: an escaped literal matches itself only; as a prefix, its extensions.
  const std::string_view literal = parts[0];
  const std::string_view other = parts.size() > 1 ? parts[1] : std::string_view();
  const std::string glob = GlobEscape(literal);
  FUZZ_CHECK(GlobMatch(glob, literal));
  FUZZ_CHECK(GlobMatch(glob, other) == (literal == other));
  FUZZ_CHECK(GlobMatch(glob + "*", std::string(literal) + std::string(other)));
  (void)GlobMatch(literal, other);  // any glob against any text: terminates, no UB
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::vector<std::string_view> parts = Split(input);
  CheckKeys(ReadOf(parts, 0), ReadOf(parts, 7));
  CheckEncodings(parts, input);
  return 0;
}
