// Menus: menus-daily (GET /menus/daily) and PUT /menus/daily. JSON in and out only; rules live
// in domain/menu_service.h.
#include <boost/json.hpp>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "api/auth.h"
#include "api/body_reader.h"
#include "api/cached_read.h"
#include "api/envelope.h"
#include "api/json_writer.h"
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

// A daily menu's members in the order they are written (a `fields` selection picks among them).
constexpr JsonKey kMenuMembers[] = {"id", "schoolId", "date", "dayType", "isPublished", "items"};

std::span<const std::string_view> MenuMemberNames() {
  static const std::vector<std::string_view> kNames = [] {
    std::vector<std::string_view> n;
    for (JsonKey k : kMenuMembers) n.push_back(k.name());
    return n;
  }();
  return kNames;
}

// If `text` is a JSON array of strings without escapes (what the store holds for every item it
// wrote: SQLite keeps the text as written, PostgreSQL's jsonb gives it back with a space after
// each comma), appends it as boost::json::serialize would write it and returns true; otherwise
// returns false, `out` unchanged, and the caller parses the text.
bool AppendPlainStringArray(std::string& out, std::string_view text) {
  auto skip_spaces = [&text] {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t' || text.front() == '\n' ||
                             text.front() == '\r')) {
      text.remove_prefix(1);
    }
  };
  const size_t start = out.size();
  auto fail = [&] {
    out.resize(start);
    return false;
  };
  skip_spaces();
  if (text.empty() || text.front() != '[') return fail();
  text.remove_prefix(1);
  out.push_back('[');
  skip_spaces();
  bool first = true;
  while (text.empty() || text.front() != ']') {
    if (!first) {
      if (text.empty() || text.front() != ',') return fail();
      text.remove_prefix(1);
      skip_spaces();
      out.push_back(',');
    }
    first = false;
    if (text.empty() || text.front() != '"') return fail();
    const size_t close = text.find('"', 1);
    if (close == std::string_view::npos) return fail();
    const std::string_view inner = text.substr(1, close - 1);
    for (char c : inner) {
      if (c == '\\' || static_cast<unsigned char>(c) < 0x20) return fail();
    }
    if (!IsValidUtf8(inner)) return fail();
    out.append(text.data(), close + 1);
    text.remove_prefix(close + 1);
    skip_spaces();
  }
  text.remove_prefix(1);
  skip_spaces();
  if (!text.empty()) return fail();
  out.push_back(']');
  return true;
}

void WriteAllergens(JsonWriter& w, std::string_view allergens_json) {
  std::string canonical;
  if (!AppendPlainStringArray(canonical, allergens_json)) {
    boost::system::error_code ec;
    json::value allergens = json::parse(allergens_json, ec);
    if (ec || !allergens.is_array()) allergens = json::array();
    canonical = json::serialize(allergens);
  }
  w.Raw(canonical);
}

void WriteSlot(JsonWriter& w, const store::MenuSlotRow& s) {
  w.BeginObject();
  w.Key("slotId");
  w.String(s.slot_id);
  w.Key("menuItemId");
  w.String(s.menu_item_id);
  w.Key("name");
  w.String(s.name);
  w.Key("description");
  w.OptString(s.description);
  w.Key("category");
  w.String(s.category);
  w.Key("price");
  w.Int(s.price_paise);
  w.Key("currency");
  w.String(s.currency);
  w.Key("imageUrl");
  w.OptString(s.image_url);
  w.Key("allergens");
  WriteAllergens(w, s.allergens_json);
  w.Key("calories");
  w.OptInt(s.calories);
  w.Key("availableQuantity");
  w.OptInt(s.available_quantity);
  w.Key("maxPerOrder");
  w.OptInt(s.max_per_order);
  w.Key("isSpecial");
  w.Bool(s.is_special);
  w.Key("displayOrder");
  w.Int(s.display_order);
  w.EndObject();
}

// The data of a daily menu, cut to `fields` when given (read_helpers.h SelectMembers).
StatusOr<std::string> MenuData(const domain::DailyMenu& m, std::string_view fields = {}) {
  ASSIGN_OR_RETURN(std::vector<size_t> members, SelectMembers(MenuMemberNames(), fields));
  std::string out;
  out.reserve(256 + m.slots.size() * 400);
  JsonWriter w(out);
  w.BeginObject();
  for (size_t i : members) {
    w.Key(kMenuMembers[i]);
    switch (i) {
      case 0:
        w.String(m.menu.id);
        break;
      case 1:
        w.String(m.menu.school_id);
        break;
      case 2:
        w.String(m.menu.date);
        break;
      case 3:
        w.String(m.menu.day_type);
        break;
      case 4:
        w.Bool(m.menu.is_published);
        break;
      default:
        w.BeginArray();
        for (const store::MenuSlotRow& s : m.slots) WriteSlot(w, s);
        w.EndArray();
        break;
    }
  }
  w.EndObject();
  return out;
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
    return MenuData(menu, fields ? std::string_view(*fields) : std::string_view());
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
      ASSIGN_OR_RETURN(std::string data, MenuData(menu));
      return EncodeCachedData(data);
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
  StatusOr<std::string> data = MenuData(*menu);
  if (!data.ok()) return ErrorFromStatus(request, data.status());
  return SuccessSerialized(request, *data);
}

Status MenuRoutes::Register(http::Router& router) const {
  RETURN_IF_ERROR(router.Add("GET", "/api/v1/menus/daily",
                             [this](http::Request& r) { return GetDaily(r); },
                             {.blocking = true, .try_inline = true, .name = "menus-daily"}));
  return router.Add("PUT", "/api/v1/menus/daily", [this](http::Request& r) { return PutDaily(r); },
                    {.blocking = true, .name = "menus-publish"});
}

}  // namespace hasivu::api
