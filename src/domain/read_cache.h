// ReadCache: the cache-aside of the read endpoints and the invalidations of every write, in one
// place so that what a read caches and what a write drops are named by the same tags.
//
// Reads (api/) cache the serialised `data` of a response with its ETag under a key naming the
// route, the caller where the answer depends on them, and the query; each entry carries the tags
// of everything it shows:
//   orders-list                  orders:parent:<id> | orders:student:<id> | orders:school:<id> |
//                                orders:all (by the caller's scope)
//   GET /orders/{id}             order:<id>
//   users-get                    user:<id> (the user shown)
//   menus-daily (dated)          menu:<school>:<date>
//   menu membership of a caller  user:<caller>
// Writes call the matching *Changed() AFTER their transaction commits. A change of an order drops
// its detail and every list that can show it (its student's, that student's parent's, its
// school's and the admin's).
//
// Without a cache (null CacheAside) every GetOrLoad just runs its loader and the *Changed() calls
// do nothing. Cache faults never fail a read or a write: they are counted by the cache layer.
//
// Thread-safety: safe to use concurrently. Ownership: does not own the CacheAside or the
// Database; both must outlive it.
#ifndef HASIVU_DOMAIN_READ_CACHE_H_
#define HASIVU_DOMAIN_READ_CACHE_H_

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "cache/cache.h"
#include "cache/cache_aside.h"
#include "cache/ttl.h"
#include "common/status.h"
#include "domain/principal.h"
#include "store/database.h"

namespace hasivu::domain {

class ReadCache {
 public:
  using Loader = std::function<StatusOr<std::string>()>;

  // `aside` may be null (no caching).
  ReadCache(cache::CacheAside* aside, cache::TtlSettings ttls, store::Database* db);

  bool enabled() const { return aside_ != nullptr; }
  std::chrono::milliseconds TtlFor(cache::Kind kind) const { return ttls_.For(kind); }

  // The cached value of `key`, or the loader's (stored with `tags` for the TTL of `kind`). The
  // loader's error is returned as is and not cached.
  StatusOr<cache::ValuePtr> GetOrLoad(std::string_view key, cache::Kind kind,
                                      const cache::Tags& tags, const Loader& loader) const;

  // Stores `value` under `key` unconditionally (replacing a value found to be out of step).
  void Put(std::string_view key, cache::Kind kind, const cache::Tags& tags,
           std::string value) const;

  // Tags.
  static std::string OrdersOfParentTag(std::string_view parent_id);
  static std::string OrdersOfStudentTag(std::string_view student_id);
  static std::string OrdersOfSchoolTag(std::string_view school_id);
  static std::string AllOrdersTag();
  static std::string OrderTag(std::string_view order_id);
  static std::string UserTag(std::string_view user_id);
  static std::string MenuTag(std::string_view school_id, std::string_view date);

  // What a caller's orders list is cached under: one entry per scope of rows the caller may see
  // (a parent's children, a student's own, a school for its staff, everything for an admin), and
  // the tag that every order change in that scope drops.
  struct Scope {
    std::string key;  // "p:<user>", "s:<user>", "c:<school>", "a"
    cache::Tags tags;
  };
  static Scope OrderListScope(const Principal& caller);

  // Keys of reads whose answer depends on who asks. A list is shared by its scope; an order's or a
  // user's details are per caller (who may see them, and the permissions shown, follow from the
  // caller). `query` is the request's raw query, `fields` its decoded fields parameter. Every part
  // goes in through KeyPart, so two different reads never share a key.
  static std::string OrderListKey(const Principal& caller, std::string_view query);
  static std::string OrderListKey(const Scope& scope, std::string_view query);
  static std::string OrderDetailKey(const Principal& caller, std::string_view order_id,
                                    std::string_view query);
  static std::string UserDetailsKey(const Principal& caller, std::string_view target_id,
                                    std::string_view fields);
  // `text` (client text: a raw query, a decoded parameter, a path id) as one part of a key, with
  // '%' and '|' percent-escaped: '|' then only ever separates a key's parts, so client text cannot
  // move the boundary between them, and no read's key is the key of another read's compressed
  // variant (cache::DerivedKey appends "|<encoding>"). Text without either is unchanged.
  static std::string KeyPart(std::string_view text);

  // An order was created or changed (status, payment, delivery). `parent_id` may be empty.
  void OrderChanged(std::string_view order_id, std::string_view student_id,
                    std::string_view school_id, std::string_view parent_id) const;
  // The same when only the order id is at hand: its student, parent and school are read first.
  void OrderChanged(std::string_view order_id) const;
  void UserChanged(std::string_view user_id) const;
  void MenuChanged(std::string_view school_id, std::string_view date) const;

  // The seed's pattern invalidation (a Redis glob over keys). Returns how many were removed.
  StatusOr<size_t> InvalidatePattern(std::string_view glob) const;

 private:
  void Invalidate(const cache::Tags& tags) const;

  cache::CacheAside* aside_;
  cache::TtlSettings ttls_;
  store::Database* db_;
};

}  // namespace hasivu::domain

#endif  // HASIVU_DOMAIN_READ_CACHE_H_
