// users-get through a seeded server, on both backends: visibility by role and tenancy (404 for
// anything unseen), the response shape, fields= and conditional reads.
#include <boost/json.hpp>
#include <set>

#include "tests/integration/api_fixture.h"

namespace hasivu::testing {
namespace {

class UsersApiTest : public ApiSuite {
 protected:
  static const boost::json::value& School(int i) { return Fixtures().at("schools").at(i); }
  static const boost::json::value& Parent(int school, int i) {
    return School(school).at("parents").at(i);
  }
  static const boost::json::value& Child(int school, int parent, int i) {
    return Parent(school, parent).at("children").at(i);
  }
  static ApiResponse Get(const std::string& id, const std::string& token,
                         const std::vector<std::string>& headers = {}) {
    return Call("GET", "/api/v1/users/" + id, token, "", headers);
  }
};

TEST_F(UsersApiTest, MeAndOwnIdAnswerTheFullShape) {
  const auto& parent = Parent(0, 0);
  const std::string token = Login(parent);
  ApiResponse me = Get("me", token);
  ASSERT_EQ(me.status, 200) << me.body;
  const auto& d = me.Data();
  for (const char* key :
       {"id", "email", "firstName", "lastName", "role", "schoolId", "school", "parentId",
        "children", "isActive", "createdAt", "updatedAt", "permissions"}) {
    EXPECT_TRUE(d.contains(key)) << key;
  }
  EXPECT_EQ(d.size(), 13u);
  EXPECT_FALSE(d.contains("passwordHash"));
  EXPECT_EQ(me.body.find("argon2"), std::string::npos);
  EXPECT_EQ(Str(d, "id"), Str(parent, "id"));
  EXPECT_EQ(Str(d, "role"), "parent");
  EXPECT_EQ(Str(d.at("school"), "id"), Str(School(0), "id"));
  EXPECT_EQ(Str(d.at("school"), "name"), Str(School(0), "name"));
  EXPECT_TRUE(d.at("parentId").is_null());
  EXPECT_TRUE(d.at("isActive").as_bool());
  std::set<std::string> children, expected;
  for (const auto& c : d.at("children").as_array()) {
    children.insert(Str(c, "id"));
    for (const char* key : {"id", "firstName", "lastName", "grade", "section"}) {
      EXPECT_TRUE(c.as_object().contains(key)) << key;
    }
  }
  for (const auto& c : parent.at("children").as_array()) expected.insert(Str(c, "id"));
  EXPECT_EQ(children, expected);
  const auto& perms = d.at("permissions").as_object();
  EXPECT_TRUE(perms.at("canEdit").as_bool());
  EXPECT_FALSE(perms.at("canDelete").as_bool());
  EXPECT_TRUE(perms.at("canManageChildren").as_bool());

  ApiResponse by_id = Get(Str(parent, "id"), token);
  ASSERT_EQ(by_id.status, 200);
  EXPECT_EQ(by_id.Data(), me.Data());
}

TEST_F(UsersApiTest, ParentSeesOwnChildrenOnly) {
  const std::string token = Login(Parent(0, 0));
  ApiResponse child = Get(Str(Child(0, 0, 0), "id"), token);
  ASSERT_EQ(child.status, 200) << child.body;
  EXPECT_EQ(Str(child.Data(), "role"), "student");
  EXPECT_EQ(Str(child.Data(), "parentId"), Str(Parent(0, 0), "id"));
  EXPECT_FALSE(child.Data().at("permissions").at("canEdit").as_bool());
  for (const std::string& id :
       {Str(Child(0, 1, 0), "id"), Str(Child(1, 0, 0), "id"), Str(Parent(0, 1), "id"),
        Str(School(0).at("schoolAdmin"), "id"), Str(Fixtures().at("admin"), "id")}) {
    ApiResponse r = Get(id, token);
    EXPECT_EQ(r.status, 404) << id;
    EXPECT_EQ(r.ErrorCode(), "NOT_FOUND");
  }
}

TEST_F(UsersApiTest, StudentSeesSelfAndTheirParentOnly) {
  const auto& student = Child(1, 0, 0);
  const std::string token = Login(student);
  ApiResponse me = Get("me", token);
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(Str(me.Data(), "role"), "student");
  EXPECT_EQ(Str(me.Data(), "parentId"), Str(Parent(1, 0), "id"));
  ApiResponse parent = Get(Str(Parent(1, 0), "id"), token);
  ASSERT_EQ(parent.status, 200) << parent.body;
  EXPECT_FALSE(parent.Data().at("permissions").at("canManageChildren").as_bool());
  EXPECT_EQ(Get(Str(Parent(1, 1), "id"), token).status, 404);
  EXPECT_EQ(Get(Str(School(1).at("schoolAdmin"), "id"), token).status, 404);
  if (Parent(1, 0).at("children").as_array().size() > 1) {
    EXPECT_EQ(Get(Str(Child(1, 0, 1), "id"), token).status, 404);  // a sibling
  }
}

TEST_F(UsersApiTest, StaffSeeTheirOwnSchoolOnly) {
  const std::string kitchen = Login(School(0).at("kitchenStaff").at(0));
  EXPECT_EQ(Get(Str(Parent(0, 0), "id"), kitchen).status, 200);
  EXPECT_EQ(Get(Str(Child(0, 0, 0), "id"), kitchen).status, 200);
  EXPECT_EQ(Get(Str(Parent(1, 0), "id"), kitchen).status, 404);
  EXPECT_EQ(Get(Str(Child(1, 0, 0), "id"), kitchen).status, 404);
  EXPECT_EQ(Get(Str(School(1).at("kitchenStaff").at(0), "id"), kitchen).status, 404);
  EXPECT_EQ(Get(Str(Fixtures().at("admin"), "id"), kitchen).status, 404);
  ApiResponse seen = Get(Str(Parent(0, 0), "id"), kitchen);
  EXPECT_FALSE(seen.Data().at("permissions").at("canEdit").as_bool());

  const std::string school_admin = Login(School(1).at("schoolAdmin"));
  ApiResponse own = Get(Str(Parent(1, 0), "id"), school_admin);
  ASSERT_EQ(own.status, 200);
  EXPECT_TRUE(own.Data().at("permissions").at("canEdit").as_bool());
  EXPECT_FALSE(own.Data().at("permissions").at("canDelete").as_bool());
  EXPECT_EQ(Get(Str(Parent(0, 0), "id"), school_admin).status, 404);
}

TEST_F(UsersApiTest, AdminSeesEveryone) {
  const std::string admin = Login(Fixtures().at("admin"));
  for (const std::string& id : {Str(Parent(0, 0), "id"), Str(Child(1, 0, 0), "id"),
                                Str(School(1).at("kitchenStaff").at(1), "id")}) {
    ApiResponse r = Get(id, admin);
    ASSERT_EQ(r.status, 200) << id;
    EXPECT_TRUE(r.Data().at("permissions").at("canEdit").as_bool());
    EXPECT_TRUE(r.Data().at("permissions").at("canDelete").as_bool());
  }
  ApiResponse self = Get("me", admin);
  ASSERT_EQ(self.status, 200);
  EXPECT_TRUE(self.Data().at("school").is_null());
  EXPECT_TRUE(self.Data().at("schoolId").is_null());
  EXPECT_FALSE(self.Data().at("permissions").at("canDelete").as_bool());
}

TEST_F(UsersApiTest, UnknownAndMalformedIdsAnswerNotFound) {
  const std::string admin = Login(Fixtures().at("admin"));
  for (const std::string& id :
       std::vector<std::string>{"0190f5a0-0000-7000-8000-0000000000ff", "not-a-uuid", "1",
                                "%27%20OR%20%271%27%3D%271", std::string(300, 'a')}) {
    ApiResponse r = Get(id, admin);
    EXPECT_EQ(r.status, 404) << id;
    EXPECT_EQ(r.ErrorCode(), "NOT_FOUND") << id;
    EXPECT_EQ(r.body.find("SELECT"), std::string::npos);
  }
  EXPECT_EQ(Get("me", "").status, 401);
  EXPECT_EQ(Get(Str(Parent(0, 0), "id"), "").status, 401);
}

TEST_F(UsersApiTest, FieldsSelectsTopLevelMembers) {
  const std::string token = Login(Parent(0, 0));
  ApiResponse r = Call("GET", "/api/v1/users/me?fields=id,email,%20role", token);
  ASSERT_EQ(r.status, 200) << r.body;
  std::set<std::string> keys;
  for (const auto& kv : r.Data()) keys.insert(std::string(kv.key()));
  EXPECT_EQ(keys, (std::set<std::string>{"id", "email", "role"}));
  ApiResponse bad = Call("GET", "/api/v1/users/me?fields=id,passwordHash", token);
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.ErrorCode(), "VALIDATION_ERROR");
  ApiResponse empty_name = Call("GET", "/api/v1/users/me?fields=id,,email", token);
  EXPECT_EQ(empty_name.status, 400);
}

TEST_F(UsersApiTest, StrongETagAndNotModified) {
  const std::string token = Login(Parent(1, 0));
  ApiResponse first = Get("me", token);
  ASSERT_EQ(first.status, 200);
  const std::string etag = first.Header("etag");
  ASSERT_GE(etag.size(), 3u);
  EXPECT_EQ(etag.front(), '"');
  EXPECT_NE(etag.substr(0, 2), "W/");
  EXPECT_EQ(Get("me", token).Header("etag"), etag);  // stable across requests
  ApiResponse not_modified = Get("me", token, {"If-None-Match: " + etag});
  EXPECT_EQ(not_modified.status, 304);
  EXPECT_TRUE(not_modified.body.empty());
  EXPECT_EQ(not_modified.Header("etag"), etag);
  EXPECT_EQ(Get("me", token, {"If-None-Match: \"other\", " + etag}).status, 304);
  EXPECT_EQ(Get("me", token, {"If-None-Match: W/" + etag}).status, 304);
  EXPECT_EQ(Get("me", token, {"If-None-Match: \"other\""}).status, 200);
  // Another selection is another representation.
  ApiResponse narrow = Call("GET", "/api/v1/users/me?fields=id", token);
  EXPECT_NE(narrow.Header("etag"), etag);
}

}  // namespace
}  // namespace hasivu::testing
