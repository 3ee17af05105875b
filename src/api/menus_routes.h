// Menus: menus-daily (GET /api/v1/menus/daily) and menus-publish (PUT /api/v1/menus/daily).
// JSON in and out only; who sees which view of a day's menu, and the cache keys that follow
// from it, live in domain/menu_service.h.
//
// Ownership: the collaborators are not owned and must outlive the routes; the routes must
// outlive the router they are registered on. Thread-safety: safe to use concurrently.
#ifndef HASIVU_API_MENUS_ROUTES_H_
#define HASIVU_API_MENUS_ROUTES_H_

#include <vector>

#include "api/auth.h"
#include "api/cached_read.h"
#include "cache/cache_aside.h"
#include "common/status.h"
#include "domain/menu_service.h"
#include "http/message.h"
#include "http/router.h"

namespace hasivu::api {

class MenuRoutes {
 public:
  MenuRoutes(const Authenticator& authenticator, const domain::MenuService& menus,
             const CachedReads& reads)
      : authenticator_(authenticator), menus_(menus), reads_(reads) {}

  Status Register(http::Router& router) const;

  // Warm-up items: every active school's published menu of its today and next school day, as
  // members see it (the key GetDaily uses for them without `fields`). Empty with the read cache
  // disabled.
  std::vector<cache::WarmUpItem> DailyMenuWarmUp() const;

 private:
  http::Response GetDaily(const http::Request& request) const;
  http::Response PutDaily(const http::Request& request) const;

  const Authenticator& authenticator_;
  const domain::MenuService& menus_;
  const CachedReads& reads_;
};

}  // namespace hasivu::api

#endif  // HASIVU_API_MENUS_ROUTES_H_
