// menus-daily and PUT /menus/daily through a seeded server, on both backends.
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <map>
#include <string>

#include "tests/integration/api_fixture.h"

namespace hasivu::testing {
namespace {

namespace json = boost::json;

class MenusApiTest : public ApiSuite {
 protected:
  const json::value& School(size_t i) { return Fixtures().at("schools").at(i); }
  std::string SchoolId(size_t i) { return Str(School(i), "id"); }
  const json::value& Parent(size_t school) { return School(school).at("parents").at(0); }
  std::string Base() { return std::string(Fixtures().at("baseDate").as_string()); }
  std::string MenuPath(size_t school, const std::string& date) {
    return "/api/v1/menus/daily?schoolId=" + SchoolId(school) + "&date=" + date;
  }
  std::string Item(size_t school, size_t i) {
    return std::string(School(school).at("menuItemIds").at(i).as_string());
  }
};

TEST_F(MenusApiTest, ParentSeesTheMenuOfTheirChildsSchool) {
  const std::string token = Login(Parent(0));
  const std::string date = NextWeekday(Base(), 1);
  ApiResponse r = Call("GET", MenuPath(0, date), token);
  ASSERT_EQ(r.status, 200) << r.body;
  const json::object& menu = r.Data();
  EXPECT_EQ(menu.at("schoolId").as_string(), SchoolId(0));
  EXPECT_EQ(menu.at("date").as_string(), date);
  EXPECT_TRUE(menu.at("isPublished").as_bool());
  const json::array& items = menu.at("items").as_array();
  ASSERT_FALSE(items.empty());
  int64_t last_order = -1;
  for (const json::value& v : items) {
    const json::object& item = v.as_object();
    for (const char* key : {"slotId", "menuItemId", "name", "description", "category", "price",
                            "currency", "imageUrl", "allergens", "calories", "availableQuantity",
                            "maxPerOrder", "isSpecial", "displayOrder"}) {
      EXPECT_TRUE(item.contains(key)) << key;
    }
    EXPECT_TRUE(item.at("price").is_int64());
    EXPECT_GT(item.at("price").as_int64(), 0);
    EXPECT_EQ(item.at("currency").as_string(), "INR");
    EXPECT_TRUE(item.at("allergens").is_array());
    EXPECT_GE(item.at("displayOrder").as_int64(), last_order);
    last_order = item.at("displayOrder").as_int64();
  }
}

TEST_F(MenusApiTest, DateDefaultsToTodayInTheSchoolsZone) {
  const std::string token = Login(Parent(0));
  ApiResponse r = Call("GET", "/api/v1/menus/daily?schoolId=" + SchoolId(0), token);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Data().at("date").as_string(), Base());
}

TEST_F(MenusApiTest, NonMembersGetMenuNotFound) {
  const std::string other_parent = Login(Parent(1));
  ApiResponse r = Call("GET", MenuPath(0, NextWeekday(Base(), 1)), other_parent);
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_EQ(r.ErrorCode(), "MENU_NOT_FOUND");
  const std::string kitchen_other = Login(School(1).at("kitchenStaff").at(0));
  r = Call("GET", MenuPath(0, NextWeekday(Base(), 1)), kitchen_other);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.ErrorCode(), "MENU_NOT_FOUND");
  // An unknown school answers the same.
  r = Call("GET",
           "/api/v1/menus/daily?schoolId=0190f5a0-0000-7000-8000-0000000000ff&date=" + Base(),
           Login(Fixtures().at("admin")));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.ErrorCode(), "MENU_NOT_FOUND");
  // No menu that far ahead.
  r = Call("GET", MenuPath(0, NextWeekday(Base(), 60)), Login(Parent(0)));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.ErrorCode(), "MENU_NOT_FOUND");
}

TEST_F(MenusApiTest, StudentAndStaffOfTheSchoolSeeIt) {
  const json::value& child = Parent(0).at("children").at(0);
  EXPECT_EQ(Call("GET", MenuPath(0, Base()), Login(child)).status, 200);
  EXPECT_EQ(Call("GET", MenuPath(0, Base()), Login(School(0).at("kitchenStaff").at(0))).status,
            200);
  EXPECT_EQ(Call("GET", MenuPath(1, Base()), Login(Fixtures().at("admin"))).status, 200);
}

TEST_F(MenusApiTest, InvalidParametersAnswer400WithDetails) {
  const std::string token = Login(Parent(0));
  ApiResponse r = Call("GET", "/api/v1/menus/daily?schoolId=not-a-uuid&date=2026-02-30", token);
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(r.ErrorCode(), "VALIDATION_ERROR");
  const json::array& details = r.json.at("error").at("details").as_array();
  ASSERT_EQ(details.size(), 2u);
  EXPECT_EQ(details[0].at("field").as_string(), "schoolId");
  EXPECT_EQ(details[1].at("field").as_string(), "date");
  EXPECT_EQ(Call("GET", "/api/v1/menus/daily", token).status, 400);
  EXPECT_EQ(Call("GET", "/api/v1/menus/daily?schoolId=" + SchoolId(0) + "&date=%ZZ", token).status,
            400);
  EXPECT_EQ(Call("GET", MenuPath(0, Base())).status, 401);
}

TEST_F(MenusApiTest, SqlMetacharactersInEveryParameterAreFieldErrors) {
  const std::string token = Login(Parent(0));
  // "' OR 1=1; DROP TABLE daily_menus;--", URL-encoded.
  const std::string evil = "%27%20OR%201%3D1%3B%20DROP%20TABLE%20daily_menus%3B--";
  ApiResponse school =
      Call("GET", "/api/v1/menus/daily?schoolId=" + evil + "&date=" + Base(), token);
  EXPECT_EQ(school.status, 400) << school.body;
  ExpectCleanError(school);
  ApiResponse date =
      Call("GET", "/api/v1/menus/daily?schoolId=" + SchoolId(0) + "&date=" + evil, token);
  EXPECT_EQ(date.status, 400) << date.body;
  ExpectCleanError(date);

  const std::string admin = Login(School(0).at("schoolAdmin"));
  const std::string day = NextWeekday(Base(), 26);
  const std::string sql = "' OR 1=1; DROP TABLE daily_menus;--";
  for (const char* field : {"schoolId", "date", "dayType"}) {
    json::object body{
        {"schoolId", SchoolId(0)},
        {"date", day},
        {"publish", true},
        {"items", json::array{json::object{{"menuItemId", Item(0, 0)}, {"category", "LUNCH"}}}}};
    body[field] = sql;
    ApiResponse r = Call("PUT", "/api/v1/menus/daily", admin, Json(body));
    EXPECT_EQ(r.status, 400) << field << " " << r.body;
    ExpectCleanError(r);
  }
  // Nothing was written and the menus are all still there.
  EXPECT_EQ(Call("GET", MenuPath(0, day), token).status, 404);
  EXPECT_EQ(Call("GET", MenuPath(0, Base()), token).status, 200);
}

// Issue 19: "\u0000" is valid JSON but no store text. A menu category is stored as given, so
// PostgreSQL used to answer with the driver's "parameter $n holds a NUL byte" and SQLite stored
// the NUL; now both refuse it cleanly and write nothing.
TEST_F(MenusApiTest, NulInABodyStringIsRefusedCleanlyOnBothBackends) {
  const std::string admin = Login(School(0).at("schoolAdmin"));
  const std::string day = NextWeekday(Base(), 45);
  const std::string body = R"({"schoolId":")" + SchoolId(0) + R"(","date":")" + day +
                           R"(","publish":true,"items":[{"menuItemId":")" + Item(0, 0) +
                           R"(","category":"LUN\u0000CH"}]})";
  ApiResponse r = Call("PUT", "/api/v1/menus/daily", admin, body);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(r.ErrorCode(), "VALIDATION_ERROR") << r.body;
  ExpectCleanError(r);
  EXPECT_EQ(r.body.find("NUL byte"), std::string::npos) << r.body;
  EXPECT_EQ(Call("GET", MenuPath(0, day), admin).status, 404);
}

// The allergens are stored as JSON text (an import may bring any): canonical text is sent as it
// is, another array is written again in canonical form, and text that is not an array is [].
TEST_F(MenusApiTest, AllergensAnswerAsAJsonArrayWhateverTheirStoredText) {
  const std::string admin = Login(School(0).at("schoolAdmin"));
  const std::string day = NextWeekday(Base(), 40);
  // PostgreSQL keeps them as jsonb (so only valid JSON, written back with spaces); SQLite as text.
  std::vector<std::pair<std::string, std::string>> cases = {
      {R"(["nuts","milk"])", R"(["nuts","milk"])"},
      {R"([ "nuts" , "milk" ])", R"(["nuts","milk"])"},
      {R"(["a\"b","caf\u00e9"])", R"(["a\"b","café"])"},
      {R"([])", R"([])"},
      {R"( [ ] )", R"([])"},
      {R"({"nuts":true})", R"([])"}};
  if (!Server().postgres()) {
    cases.push_back({R"(["unterminated)", R"([])"});
    cases.push_back({R"(["x",])", R"([])"});
    cases.push_back({R"(["x"] ["y"])", R"([])"});
    cases.push_back({R"(not json)", R"([])"});
  }
  json::array items;
  for (size_t i = 0; i < cases.size(); ++i) {
    items.push_back(json::object{{"menuItemId", Item(0, i)}, {"category", "LUNCH"}});
  }
  std::vector<std::string> saved;
  for (size_t i = 0; i < cases.size(); ++i) {
    saved.push_back(Sql("SELECT allergens FROM menu_items WHERE id = '" + Item(0, i) + "'"));
    Sql("UPDATE menu_items SET allergens = '" + cases[i].first + "' WHERE id = '" + Item(0, i) +
        "'");
  }
  // A new day's menu of those items: its first read comes from the store.
  json::object body{{"schoolId", SchoolId(0)}, {"date", day}, {"publish", true}, {"items", items}};
  ASSERT_EQ(Call("PUT", "/api/v1/menus/daily", admin, Json(body)).status, 200);
  ApiResponse r = Call("GET", MenuPath(0, day), Login(Parent(0)));
  for (size_t i = 0; i < cases.size(); ++i) {
    Sql("UPDATE menu_items SET allergens = '" + saved[i] + "' WHERE id = '" + Item(0, i) + "'");
  }
  ASSERT_EQ(r.status, 200) << r.body;
  std::map<std::string, std::string> by_item;
  // The slots in display order, ties (every slot here has the default) by slot id.
  std::pair<int64_t, std::string> last;
  for (const json::value& v : r.Data().at("items").as_array()) {
    std::pair<int64_t, std::string> key(v.at("displayOrder").as_int64(),
                                        std::string(v.at("slotId").as_string()));
    EXPECT_LT(last, key);
    last = key;
    by_item[std::string(v.at("menuItemId").as_string())] = Json(v.at("allergens"));
  }
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(by_item[Item(0, i)], cases[i].second) << cases[i].first;
    // On the wire too, not only once parsed: the canonical text itself.
    EXPECT_NE(r.body.find("\"allergens\":" + cases[i].second), std::string::npos) << cases[i].first;
  }
}

TEST_F(MenusApiTest, MenuErrorBodiesCarryNoInternals) {
  const std::string token = Login(Parent(0));
  ExpectCleanError(Call("GET", "/api/v1/menus/daily?schoolId=not-a-uuid&date=2026-02-30", token));
  ExpectCleanError(Call("GET", MenuPath(1, Base()), token));
  ExpectCleanError(Call("GET", MenuPath(0, Base())));
  ExpectCleanError(Call("PUT", "/api/v1/menus/daily", token, "{}"));
  ExpectCleanError(
      Call("PUT", "/api/v1/menus/daily", Login(School(0).at("schoolAdmin")), "{not json"));
}

TEST_F(MenusApiTest, PutReplacesTheMenuAndDraftsStayHiddenFromParents) {
  const std::string admin = Login(School(0).at("schoolAdmin"));
  const std::string parent = Login(Parent(0));
  const std::string date = NextWeekday(Base(), 25);
  json::object body{
      {"schoolId", SchoolId(0)},
      {"date", date},
      {"publish", false},
      {"items", json::array{json::object{{"menuItemId", Item(0, 3)},
                                         {"category", "LUNCH'; DROP TABLE menu_items;--"},
                                         {"customPrice", 1234},
                                         {"availableQuantity", 5},
                                         {"maxPerOrder", 2},
                                         {"isSpecial", true},
                                         {"displayOrder", 2}},
                            json::object{{"menuItemId", Item(0, 4)}, {"category", "SNACKS"}}}}};
  ApiResponse put = Call("PUT", "/api/v1/menus/daily", admin, Json(body));
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_FALSE(put.Data().at("isPublished").as_bool());
  const json::array& items = put.Data().at("items").as_array();
  ASSERT_EQ(items.size(), 2u);
  // displayOrder defaults to the position: SNACKS (1) before the special (2).
  EXPECT_EQ(items[0].at("menuItemId").as_string(), Item(0, 4));
  EXPECT_EQ(items[1].at("category").as_string(), "LUNCH'; DROP TABLE menu_items;--");
  EXPECT_EQ(items[1].at("price").as_int64(), 1234);
  EXPECT_EQ(items[1].at("availableQuantity").as_int64(), 5);
  EXPECT_EQ(items[1].at("maxPerOrder").as_int64(), 2);
  EXPECT_TRUE(items[1].at("isSpecial").as_bool());
  EXPECT_TRUE(items[0].at("availableQuantity").is_null());

  ApiResponse hidden = Call("GET", MenuPath(0, date), parent);
  EXPECT_EQ(hidden.status, 404);
  EXPECT_EQ(hidden.ErrorCode(), "MENU_NOT_FOUND");
  ApiResponse draft = Call("GET", MenuPath(0, date), admin);
  ASSERT_EQ(draft.status, 200) << draft.body;
  EXPECT_EQ(draft.Data().at("items").as_array().size(), 2u);

  body["publish"] = true;
  body["items"] = json::array{json::object{{"menuItemId", Item(0, 5)}, {"category", "LUNCH"}}};
  body["dayType"] = "SPECIAL_EVENT";
  put = Call("PUT", "/api/v1/menus/daily", admin, Json(body));
  ASSERT_EQ(put.status, 200) << put.body;
  ApiResponse shown = Call("GET", MenuPath(0, date), parent);
  ASSERT_EQ(shown.status, 200) << shown.body;
  EXPECT_TRUE(shown.Data().at("isPublished").as_bool());
  EXPECT_EQ(shown.Data().at("dayType").as_string(), "SPECIAL_EVENT");
  ASSERT_EQ(shown.Data().at("items").as_array().size(), 1u);
  EXPECT_EQ(shown.Data().at("items").at(0).at("menuItemId").as_string(), Item(0, 5));
}

TEST_F(MenusApiTest, PutIsForTheSchoolsAdminAndAdmins) {
  const std::string date = NextWeekday(Base(), 26);
  json::object body{
      {"schoolId", SchoolId(0)},
      {"date", date},
      {"publish", true},
      {"items", json::array{json::object{{"menuItemId", Item(0, 1)}, {"category", "LUNCH"}}}}};
  ApiResponse r =
      Call("PUT", "/api/v1/menus/daily", Login(School(0).at("kitchenStaff").at(0)), Json(body));
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(r.ErrorCode(), "FORBIDDEN");
  r = Call("PUT", "/api/v1/menus/daily", Login(Parent(0)), Json(body));
  EXPECT_EQ(r.status, 403) << r.body;
  r = Call("PUT", "/api/v1/menus/daily", Login(School(1).at("schoolAdmin")), Json(body));
  EXPECT_EQ(r.status, 404) << r.body;
  r = Call("PUT", "/api/v1/menus/daily", Login(Fixtures().at("admin")), Json(body));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Call("PUT", "/api/v1/menus/daily", "", Json(body)).status, 401);
}

TEST_F(MenusApiTest, PutValidatesItsBody) {
  const std::string admin = Login(School(0).at("schoolAdmin"));
  // Far enough from the other tests' days (26, 45) that no weekend can move them onto this one
  // (with a Monday base, 26 and 27 both land on the same Monday).
  const std::string date = NextWeekday(Base(), 33);
  // An item of another school.
  json::object body{
      {"schoolId", SchoolId(0)},
      {"date", date},
      {"publish", true},
      {"items", json::array{json::object{{"menuItemId", Item(1, 0)}, {"category", "LUNCH"}}}}};
  ApiResponse r = Call("PUT", "/api/v1/menus/daily", admin, Json(body));
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(r.json.at("error").at("details").at(0).at("field").as_string(), "items[0].menuItemId");
  // Wrong types and ranges.
  body = json::object{{"schoolId", SchoolId(0)},
                      {"date", "tomorrow"},
                      {"publish", "yes"},
                      {"dayType", "PARTY"},
                      {"items", json::array{json::object{{"menuItemId", Item(0, 0)},
                                                         {"category", "LUNCH"},
                                                         {"customPrice", "10"},
                                                         {"maxPerOrder", 0}}}}};
  r = Call("PUT", "/api/v1/menus/daily", admin, Json(body));
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(r.ErrorCode(), "VALIDATION_ERROR");
  std::string fields;
  for (const json::value& d : r.json.at("error").at("details").as_array()) {
    fields += std::string(d.at("field").as_string()) + " ";
  }
  EXPECT_NE(fields.find("publish"), std::string::npos) << fields;
  EXPECT_NE(fields.find("items[0].customPrice"), std::string::npos) << fields;
  EXPECT_EQ(Call("PUT", "/api/v1/menus/daily", admin, "{not json").ErrorCode(), "INVALID_JSON");
  // Nothing was written: the parent sees no menu that day.
  EXPECT_EQ(Call("GET", MenuPath(0, date), Login(Parent(0))).status, 404);
}

TEST_F(MenusApiTest, FieldSelectionAndConditionalReads) {
  const std::string token = Login(Parent(0));
  const std::string path = MenuPath(0, NextWeekday(Base(), 1));
  ApiResponse r = Call("GET", path + "&fields=id,items", token);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Data().size(), 2u);
  EXPECT_TRUE(r.Data().contains("items"));
  EXPECT_EQ(Call("GET", path + "&fields=id,secret", token).status, 400);
  ApiResponse full = Call("GET", path, token);
  ASSERT_FALSE(full.Header("etag").empty());
  EXPECT_EQ(Call("GET", path, token, "", {"If-None-Match: " + full.Header("etag")}).status, 304);
}

}  // namespace
}  // namespace hasivu::testing
