// Menus: menus-daily (GET /menus/daily) and PUT /menus/daily. JSON in and out only; rules live
// in domain/menu_service.h.
#include <boost/json.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/auth.h"
#include "api/body_reader.h"
#include "api/cached_read.h"
#include "api/envelope.h"
#include "api/menus_routes.h"
#include "api/read_helpers.h"
#include "common/ids.h"
#include "common/time_util.h"
#include "common/utf8.h"
#include "domain/menu_service.h"

namespace hasivu::api {
namespace {

namespace json = boost::json;
using domain::Principal;

json::value OptString(const std::optional<std::string>& s) {
  return s ? json::value(*s) : json::value(nullptr);
}
json::value OptInt(const std::optional<int64_t>& v) {
  return v ? json::value(*v) : json::value(nullptr);
}

json::object MenuJson(const domain::DailyMenu& m) {
  json::array items;
  items.reserve(m.slots.size());
  for (const store::MenuSlotRow& s : m.slots) {
    boost::system::error_code ec;
    json::value allergens = json::parse(s.allergens_json, ec);
    if (ec || !allergens.is_array()) allergens = json::array();
    items.push_back(json::object{{"slotId", s.slot_id},
                                 {"menuItemId", s.menu_item_id},
                                 {"name", s.name},
                                 {"description", OptString(s.description)},
                                 {"category", s.category},
                                 {"price", s.price_paise},
                                 {"currency", s.currency},
                                 {"imageUrl", OptString(s.image_url)},
                                 {"allergens", std::move(allergens)},
                                 {"calories", OptInt(s.calories)},
                                 {"availableQuantity", OptInt(s.available_quantity)},
                                 {"maxPerOrder", OptInt(s.max_per_order)},
                                 {"isSpecial", s.is_special},
                                 {"displayOrder", s.display_order}});
  }
  return json::object{{"id", m.menu.id},
                      {"schoolId", m.menu.school_id},
                      {"date", m.menu.date},
                      {"dayType", m.menu.day_type},
                      {"isPublished", m.menu.is_published},
                      {"items", std::move(items)}};
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

domain::MenuReplacement ReadReplacement(const json::object& body, std::vector<FieldIssue>& issues) {
  domain::MenuReplacement r;
  BodyReader read(issues);
  r.school_id = Lower(read.String(body, "schoolId", {}, true).value_or(""));
  r.date = read.String(body, "date", {}, true).value_or("");
  if (auto t = read.String(body, "dayType")) r.day_type = *t;
  const json::value* publish = body.if_contains("publish");
  if (publish == nullptr || !publish->is_bool()) {
    issues.push_back({"publish", "is required (true or false)"});
  } else {
    r.publish = publish->as_bool();
  }
  const json::value* items = body.if_contains("items");
  if (items == nullptr || !items->is_array()) {
    issues.push_back({"items", "is required (an array)"});
    return r;
  }
  if (items->as_array().size() > domain::kMaxMenuItems) {
    issues.push_back({"items", "at most 100 items"});
    return r;
  }
  size_t i = 0;
  for (const json::value& v : items->as_array()) {
    const std::string at = "items[" + std::to_string(i++) + "]";
    if (!v.is_object()) {
      issues.push_back({at, "must be an object"});
      continue;
    }
    const json::object& o = v.as_object();
    domain::MenuSlotInput s;
    s.menu_item_id = Lower(read.String(o, "menuItemId", at + ".menuItemId", true).value_or(""));
    s.category = read.String(o, "category", at + ".category", true).value_or("");
    s.custom_price_paise = read.Int(o, "customPrice", at + ".customPrice");
    s.available_quantity = read.Int(o, "availableQuantity", at + ".availableQuantity");
    s.max_per_order = read.Int(o, "maxPerOrder", at + ".maxPerOrder");
    s.display_order = read.Int(o, "displayOrder", at + ".displayOrder");
    if (std::optional<bool> special = read.Bool(o, "isSpecial", at + ".isSpecial")) {
      s.is_special = *special;
    }
    r.items.push_back(std::move(s));
  }
  return r;
}

}  // namespace

http::Response MenuRoutes::GetDaily(const http::Request& request) const {
  Principal p;
  if (auto denied = RequirePrincipal(authenticator_, request, &p)) return *denied;
  // A repeated parameter counts once, its last value.
  QueryParams q =
      ParseQuery(request.query, {"schoolId", "date", "fields"}, RepeatedParameter::kLastWins);
  std::vector<FieldIssue> issues = std::move(q.issues);
  // Null when absent; point into `q`.
  const std::string* school_id = q.Find("schoolId");
  const std::string* date = q.Find("date");
  const std::string* fields = q.Find("fields");
  if (!school_id) {
    issues.push_back({"schoolId", "is required"});
  } else if (!IsUuid(*school_id)) {
    issues.push_back({"schoolId", "must be a UUID"});
  }
  if (date && !ParseDate(*date).ok()) issues.push_back({"date", "must be a date YYYY-MM-DD"});
  if (!issues.empty()) {
    return Error(request, 400, "VALIDATION_ERROR", "Invalid query parameters", issues);
  }
  const std::string school = Lower(*school_id);
  auto render = [&](const domain::DailyMenu& menu) -> StatusOr<std::string> {
    json::object data = MenuJson(menu);
    if (fields) RETURN_IF_ERROR(ApplyFieldSelection(data, *fields));
    return json::serialize(data);
  };
  if (!date || !reads_.read_cache().enabled()) {
    // "Today" depends on the school's zone and the hour: answered from the database.
    StatusOr<domain::DailyMenu> menu =
        menus_.GetDaily(p, school, date ? std::optional<std::string_view>(*date) : std::nullopt);
    if (!menu.ok()) return ErrorFromStatus(request, menu.status());
    StatusOr<std::string> data = render(*menu);
    if (!data.ok()) return ErrorFromStatus(request, data.status());
    return ConditionalSuccessSerialized(request, *data);
  }
  StatusOr<std::optional<domain::MenuView>> view = menus_.ViewOf(p, school);
  if (!view.ok()) return ErrorFromStatus(request, view.status());
  if (!*view) {
    return Error(request, 404, "MENU_NOT_FOUND", "No menu was found for this school and date");
  }
  return reads_.ConditionalSuccess(
      request, domain::MenuService::DailyMenuKey(school, *date, **view, fields ? *fields : ""),
      cache::Kind::kDailyMenu, {domain::ReadCache::MenuTag(school, *date)},
      [&]() -> StatusOr<std::string> {
        ASSIGN_OR_RETURN(domain::DailyMenu menu, menus_.GetDailyAs(**view, p, school, *date));
        return render(menu);
      });
}

std::vector<cache::WarmUpItem> MenuRoutes::DailyMenuWarmUp() const {
  std::vector<cache::WarmUpItem> items;
  const domain::ReadCache& read_cache = reads_.read_cache();
  if (!read_cache.enabled()) return items;
  StatusOr<std::vector<std::pair<std::string, std::string>>> days =
      menus_.WarmUpDays(2);  // (school id, date)
  if (!days.ok()) return items;
  for (const auto& [school, day] : *days) {
    cache::WarmUpItem item;
    item.key = domain::MenuService::DailyMenuKey(school, day, domain::MenuView::kMember, "");
    item.ttl = read_cache.TtlFor(cache::Kind::kDailyMenu);
    item.tags = {domain::ReadCache::MenuTag(school, day)};
    item.loader = [this, school = school, day = day]() -> StatusOr<std::string> {
      ASSIGN_OR_RETURN(domain::DailyMenu menu, menus_.GetPublishedDaily(school, day));
      return EncodeCachedData(json::serialize(MenuJson(menu)));
    };
    items.push_back(std::move(item));
  }
  return items;
}

http::Response MenuRoutes::PutDaily(const http::Request& request) const {
  Principal p;
  if (auto denied = RequirePrincipal(authenticator_, request, &p)) return *denied;
  ParsedBody body = ParseJsonObject(request);
  if (!body.ok) return body.error;
  std::vector<FieldIssue> issues;
  domain::MenuReplacement r = ReadReplacement(body.object, issues);
  if (issues.empty()) issues = domain::ValidateMenuReplacement(r);
  if (!issues.empty()) {
    return Error(request, 400, "VALIDATION_ERROR", "The menu is not valid", issues);
  }
  StatusOr<domain::DailyMenu> menu = menus_.ReplaceDaily(p, r);
  if (!menu.ok()) return ErrorFromStatus(request, menu.status());
  return Success(request, MenuJson(*menu));
}

Status MenuRoutes::Register(http::Router& router) const {
  RETURN_IF_ERROR(router.Add("GET", "/api/v1/menus/daily",
                             [this](http::Request& r) { return GetDaily(r); },
                             {.blocking = true, .name = "menus-daily"}));
  return router.Add("PUT", "/api/v1/menus/daily", [this](http::Request& r) { return PutDaily(r); },
                    {.blocking = true, .name = "menus-publish"});
}

}  // namespace hasivu::api
