#include "api/body_reader.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace hasivu::api {
namespace {

boost::json::object Body(const char* text) { return boost::json::parse(text).as_object(); }

TEST(BodyReaderTest, ReadsTypedMembersAndTreatsNullAsAbsent) {
  std::vector<FieldIssue> issues;
  BodyReader r(issues);
  const auto b = Body(R"({"s":"x","i":-7,"t":true,"n":null})");
  EXPECT_EQ(r.String(b, "s"), "x");
  EXPECT_EQ(r.Int(b, "i"), -7);
  EXPECT_EQ(r.Bool(b, "t"), true);
  EXPECT_EQ(r.String(b, "n"), std::nullopt);
  EXPECT_EQ(r.String(b, "absent"), std::nullopt);
  EXPECT_TRUE(issues.empty());
}

TEST(BodyReaderTest, CollectsOneIssuePerBadMemberNamedByItsField) {
  std::vector<FieldIssue> issues;
  BodyReader r(issues);
  const auto b = Body(R"({"s":1,"i":"2","big":18446744073709551615,"f":1.5,"t":"yes"})");
  EXPECT_EQ(r.String(b, "s"), std::nullopt);
  EXPECT_EQ(r.Int(b, "i", "items[0].quantity"), std::nullopt);
  EXPECT_EQ(r.Int(b, "big"), std::nullopt);
  EXPECT_EQ(r.Int(b, "f"), std::nullopt);
  EXPECT_EQ(r.Bool(b, "t"), std::nullopt);
  EXPECT_EQ(r.String(b, "missing", "studentId", /*required=*/true), std::nullopt);
  EXPECT_EQ(issues, (std::vector<FieldIssue>{{"s", "must be a string"},
                                             {"items[0].quantity", "must be an integer"},
                                             {"big", "is too large"},
                                             {"f", "must be an integer"},
                                             {"t", "must be true or false"},
                                             {"studentId", "is required"}}));
}

}  // namespace
}  // namespace hasivu::api
