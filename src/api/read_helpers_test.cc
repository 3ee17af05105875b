#include "api/read_helpers.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "common/digest.h"

namespace hasivu::api {
namespace {

boost::json::object Sample() {
  return boost::json::object{{"id", "u1"},
                             {"email", "a@b.test"},
                             {"role", "parent"},
                             {"children", boost::json::array{1, 2}}};
}

TEST(ApplyFieldSelectionTest, KeepsListedMembersInRequestOrder) {
  boost::json::object o = Sample();
  ASSERT_TRUE(ApplyFieldSelection(o, "role, id").ok());
  EXPECT_EQ(boost::json::serialize(o), R"({"role":"parent","id":"u1"})");
  boost::json::object same = Sample();
  ASSERT_TRUE(ApplyFieldSelection(same, "").ok());
  EXPECT_EQ(same, Sample());
  boost::json::object dup = Sample();
  ASSERT_TRUE(ApplyFieldSelection(dup, "id,id").ok());
  EXPECT_EQ(dup.size(), 1u);
}

TEST(ApplyFieldSelectionTest, UnknownOrEmptyNamesAreValidationErrors) {
  boost::json::object o = Sample();
  Status s = ApplyFieldSelection(o, "id,secret,,");
  ASSERT_EQ(s.code(), StatusCode::kInvalidArgument);
  ASSERT_EQ(s.details().size(), 3u);
  EXPECT_EQ(s.details()[0].field, "fields");
  EXPECT_EQ(s.details()[0].issue, "unknown field 'secret'");
  EXPECT_EQ(o, Sample());  // unchanged on error
}

TEST(SelectMembersTest, IndexesInRequestOrderEachOnceOrAllForAnEmptyParameter) {
  const std::string_view names[] = {"id", "schoolId", "date", "items"};
  StatusOr<std::vector<size_t>> picked = SelectMembers(names, " items ,id,items");
  ASSERT_TRUE(picked.ok()) << picked.status().ToString();
  EXPECT_EQ(*picked, (std::vector<size_t>{3, 0}));
  for (std::string_view empty : {"", " ", "\t"}) {
    StatusOr<std::vector<size_t>> all = SelectMembers(names, empty);
    ASSERT_TRUE(all.ok());
    EXPECT_EQ(*all, (std::vector<size_t>{0, 1, 2, 3}));
  }
  StatusOr<std::vector<size_t>> bad = SelectMembers(names, "id,Items,");
  ASSERT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  ASSERT_EQ(bad.status().details().size(), 2u);
  EXPECT_EQ(bad.status().details()[0].issue, "unknown field 'Items'");
  EXPECT_EQ(bad.status().details()[1].issue, "has an empty field name");
}

TEST(ConditionalSuccessTest, ETagCoversDataOnlyAndIfNoneMatchGives304) {
  http::Request request;
  request.request_id = "req-a";
  const boost::json::value data = boost::json::parse(R"({"id":1,"name":"x"})");
  http::Response a = ConditionalSuccess(request, data);
  EXPECT_EQ(a.status, 200u);
  // The envelope around the data, with the meta of the request.
  const boost::json::value body = boost::json::parse(a.body);
  EXPECT_EQ(body.at("success"), true);
  EXPECT_EQ(body.at("data"), data);
  EXPECT_EQ(body.at("meta").at("requestId"), "req-a");
  const std::string etag(a.headers.Get("ETag"));
  EXPECT_EQ(etag,
            "\"" + Sha256Hex(boost::json::serialize(data)) + "\"");  // strong: no W/ prefix
  http::Request other_request;
  other_request.request_id = "req-b";
  EXPECT_EQ(ConditionalSuccess(other_request, data).headers.Get("ETag"), etag);
  EXPECT_EQ(
      ConditionalSuccessSerialized(other_request, R"({"id":1,"name":"x"})").headers.Get("ETag"),
      etag);
  EXPECT_NE(ConditionalSuccess(request, boost::json::parse(R"({"id":2})")).headers.Get("ETag"),
            etag);

  for (std::string header : {etag, "W/" + etag, "\"x\", " + etag, std::string("*")}) {
    http::Request conditional;
    conditional.headers.Add("If-None-Match", header);
    http::Response r = ConditionalSuccess(conditional, data);
    EXPECT_EQ(r.status, 304u) << header;
    EXPECT_TRUE(r.body.empty());
    EXPECT_EQ(r.headers.Get("ETag"), etag);
  }
  http::Request other;
  other.headers.Add("If-None-Match", "\"nope\"");
  EXPECT_EQ(ConditionalSuccess(other, data).status, 200u);
}

TEST(QueryValueTest, DecodesTheFirstOccurrence) {
  EXPECT_EQ(QueryValue("a=1&fields=id%2Cemail&fields=x", "fields"), "id,email");
  EXPECT_EQ(QueryValue("fields=a+b", "fields"), "a b");
  EXPECT_EQ(QueryValue("fields", "fields"), "");
  EXPECT_FALSE(QueryValue("a=1", "fields").has_value());
  EXPECT_FALSE(QueryValue("fields=%zz", "fields").has_value());
  EXPECT_FALSE(QueryValue("fields=%4", "fields").has_value());
  EXPECT_FALSE(QueryValue("", "fields").has_value());
  // Bytes a store cannot hold as text are malformed, escaped or not.
  EXPECT_EQ(QueryValue("fields=caf%C3%A9", "fields"), "caf\xC3\xA9");
  EXPECT_FALSE(QueryValue("fields=caf%C3", "fields").has_value());
  EXPECT_FALSE(QueryValue("fields=%FF", "fields").has_value());
  EXPECT_FALSE(QueryValue("fields=\xFF", "fields").has_value());
  EXPECT_FALSE(QueryValue("fields=a%00b", "fields").has_value());
}

TEST(ParseQueryTest, KnownParametersInOrderAndAnIssueForEachBadPart) {
  QueryParams q = ParseQuery("limit=5&&sort=-createdAt&x%3Dy=1&bad=%zz&status=a+b",
                             {"limit", "sort", "status"});
  ASSERT_EQ(q.items.size(), 3u);
  EXPECT_EQ(q.items[0], (std::pair<std::string, std::string>{"limit", "5"}));
  EXPECT_EQ(*q.Find("sort"), "-createdAt");
  EXPECT_EQ(*q.Find("status"), "a b");
  EXPECT_EQ(q.Find("cursor"), nullptr);
  ASSERT_EQ(q.issues.size(), 2u);
  EXPECT_EQ(q.issues[0].field, "x=y");
  EXPECT_EQ(q.issues[0].issue, "is not a known parameter");
  EXPECT_EQ(q.issues[1].field, "query");
}

// Found by read_helpers_fuzz: "=5" gave the detail {"field":"","issue":"is not a known
// parameter"}, naming nothing a client could correct.
TEST(ParseQueryTest, AParameterWithoutANameIsAQueryIssue) {
  QueryParams q = ParseQuery("=5&limit=1&%20=x", {"limit"});
  ASSERT_EQ(q.items.size(), 1u);
  ASSERT_EQ(q.issues.size(), 2u);
  EXPECT_EQ(q.issues[0].field, "query");
  EXPECT_EQ(q.issues[0].issue, "has a parameter without a name");
  // A name of blanks is still a name (the client sees it quoted back).
  EXPECT_EQ(q.issues[1].field, " ");
  EXPECT_EQ(q.issues[1].issue, "is not a known parameter");
}

TEST(ParseQueryTest, RepeatsAreRefusedOrTheLastWins) {
  QueryParams refused = ParseQuery("limit=5&limit=6", {"limit"});
  EXPECT_EQ(*refused.Find("limit"), "5");
  ASSERT_EQ(refused.issues.size(), 1u);
  EXPECT_EQ(refused.issues[0].field, "limit");
  EXPECT_EQ(refused.issues[0].issue, "is given more than once");
  QueryParams last = ParseQuery("limit=5&limit=6", {"limit"}, RepeatedParameter::kLastWins);
  EXPECT_TRUE(last.issues.empty());
  ASSERT_EQ(last.items.size(), 1u);
  EXPECT_EQ(*last.Find("limit"), "6");
}

}  // namespace
}  // namespace hasivu::api
