#include "domain/read_cache.h"

#include <spdlog/spdlog.h>

#include <optional>
#include <utility>

#include "store/orders_repo.h"

namespace hasivu::domain {

ReadCache::ReadCache(cache::CacheAside* aside, cache::TtlSettings ttls, store::Database* db)
    : aside_(aside), ttls_(std::move(ttls)), db_(db) {}

StatusOr<cache::ValuePtr> ReadCache::GetOrLoad(std::string_view key, cache::Kind kind,
                                               const cache::Tags& tags,
                                               const Loader& loader) const {
  // A key the cache refuses (a very long or odd query string) is served, just not cached: only
  // the loader's own errors may reach the caller.
  if (aside_ == nullptr || !cache::ValidateKey(key).ok() || !cache::ValidateTags(tags).ok()) {
    ASSIGN_OR_RETURN(std::string value, loader());
    return std::make_shared<const std::string>(std::move(value));
  }
  ASSIGN_OR_RETURN(cache::Loaded loaded, aside_->GetOrLoad(key, ttls_.For(kind), tags, loader));
  return std::move(loaded.value);
}

void ReadCache::Put(std::string_view key, cache::Kind kind, const cache::Tags& tags,
                    std::string value) const {
  if (aside_ == nullptr || !cache::ValidateKey(key).ok()) return;
  // A failed store only costs a later miss; the cache counts it.
  (void)aside_->cache().Set(key, std::move(value), ttls_.For(kind), tags);
}

std::string ReadCache::KeyPart(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '%') {
      out += "%25";
    } else if (c == '|') {
      out += "%7C";
    } else {
      out += c;
    }
  }
  return out;
}

ReadCache::Scope ReadCache::OrderListScope(const Principal& caller) {
  switch (caller.role) {
    case Role::kParent:
      return {"p:" + KeyPart(caller.user_id), {OrdersOfParentTag(caller.user_id)}};
    case Role::kStudent:
      return {"s:" + KeyPart(caller.user_id), {OrdersOfStudentTag(caller.user_id)}};
    case Role::kKitchenStaff:
    case Role::kSchoolAdmin:
      return {"c:" + KeyPart(caller.school_id), {OrdersOfSchoolTag(caller.school_id)}};
    case Role::kAdmin:
      break;
  }
  return {"a", {AllOrdersTag()}};
}

std::string ReadCache::OrderListKey(const Principal& caller, std::string_view query) {
  return OrderListKey(OrderListScope(caller), query);
}

std::string ReadCache::OrderListKey(const Scope& scope, std::string_view query) {
  return "ol|" + scope.key + "|" + KeyPart(query);
}

std::string ReadCache::OrderDetailKey(const Principal& caller, std::string_view order_id,
                                      std::string_view query) {
  return "og|" + KeyPart(caller.user_id) + "|" + KeyPart(order_id) + "|" + KeyPart(query);
}

std::string ReadCache::UserDetailsKey(const Principal& caller, std::string_view target_id,
                                      std::string_view fields) {
  return "ug|" + KeyPart(caller.user_id) + "|" + KeyPart(target_id) + "|fields=" + KeyPart(fields);
}

std::string ReadCache::OrdersOfParentTag(std::string_view parent_id) {
  return "orders:parent:" + std::string(parent_id);
}
std::string ReadCache::OrdersOfStudentTag(std::string_view student_id) {
  return "orders:student:" + std::string(student_id);
}
std::string ReadCache::OrdersOfSchoolTag(std::string_view school_id) {
  return "orders:school:" + std::string(school_id);
}
std::string ReadCache::AllOrdersTag() { return "orders:all"; }
std::string ReadCache::OrderTag(std::string_view order_id) {
  return "order:" + std::string(order_id);
}
std::string ReadCache::UserTag(std::string_view user_id) { return "user:" + std::string(user_id); }
std::string ReadCache::MenuTag(std::string_view school_id, std::string_view date) {
  return "menu:" + std::string(school_id) + ":" + std::string(date);
}

void ReadCache::OrderChanged(std::string_view order_id, std::string_view student_id,
                             std::string_view school_id, std::string_view parent_id) const {
  if (aside_ == nullptr) return;
  cache::Tags tags = {OrderTag(order_id), OrdersOfStudentTag(student_id),
                      OrdersOfSchoolTag(school_id), AllOrdersTag()};
  if (!parent_id.empty()) tags.push_back(OrdersOfParentTag(parent_id));
  Invalidate(tags);
}

void ReadCache::OrderChanged(std::string_view order_id) const {
  if (aside_ == nullptr) return;
  std::optional<store::OrderOwners> owners;
  Status read = db_->Read([&](store::Connection& conn) -> Status {
    ASSIGN_OR_RETURN(owners, store::FindOrderOwners(conn, order_id));
    return Status::Ok();
  });
  if (!read.ok() || !owners) {
    // Not knowing whose lists show the order, drop every order list: never serve stale.
    spdlog::warn(
        "cache: order {} changed but could not be looked up ({}); dropping all order lists",
        order_id, read.ok() ? "not found" : read.ToString());
    auto dropped = aside_->InvalidatePattern("ol|*");
    (void)dropped;
    Invalidate({OrderTag(order_id), AllOrdersTag()});
    return;
  }
  OrderChanged(order_id, owners->student_id, owners->school_id, owners->parent_id);
}

void ReadCache::UserChanged(std::string_view user_id) const {
  if (aside_ == nullptr) return;
  Invalidate({UserTag(user_id)});
}

void ReadCache::MenuChanged(std::string_view school_id, std::string_view date) const {
  if (aside_ == nullptr) return;
  Invalidate({MenuTag(school_id, date)});
}

StatusOr<size_t> ReadCache::InvalidatePattern(std::string_view glob) const {
  if (aside_ == nullptr) return size_t{0};
  return aside_->InvalidatePattern(glob);
}

void ReadCache::Invalidate(const cache::Tags& tags) const {
  // The cache counts and logs its own faults; a failed invalidation also makes the cache distrust
  // what it holds (see cache/redis/redis_cache.h), so the write itself stands.
  Status s = aside_->InvalidateTags(tags);
  if (!s.ok()) spdlog::warn("cache: invalidation failed: {}", s.ToString());
}

}  // namespace hasivu::domain
