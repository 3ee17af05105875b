#include "api/read_helpers.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

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

http::Response Ok(std::string data_json) {
  http::Response r;
  r.body = R"({"success":true,"data":)" + data_json + R"(,"meta":{"requestId":"x"}})";
  return r;
}

TEST(ConditionalResponseTest, ETagCoversDataOnlyAndIfNoneMatchGives304) {
  http::Request request;
  http::Response a = ConditionalResponse(request, Ok(R"({"id":1})"));
  http::Response b = ConditionalResponse(
      request, http::Response{200,
                              "application/json",
                              {},
                              R"({"success":true,"data":{"id":1},"meta":{"requestId":"y"}})"});
  const std::string etag(a.headers.Get("ETag"));
  EXPECT_EQ(etag.size(), 66u);
  EXPECT_EQ(b.headers.Get("ETag"), etag);
  EXPECT_NE(ConditionalResponse(request, Ok(R"({"id":2})")).headers.Get("ETag"), etag);

  for (std::string header : {etag, "W/" + etag, "\"x\", " + etag, std::string("*")}) {
    http::Request conditional;
    conditional.headers.Add("If-None-Match", header);
    http::Response r = ConditionalResponse(conditional, Ok(R"({"id":1})"));
    EXPECT_EQ(r.status, 304u) << header;
    EXPECT_TRUE(r.body.empty());
    EXPECT_EQ(r.headers.Get("ETag"), etag);
  }
  http::Request other;
  other.headers.Add("If-None-Match", "\"nope\"");
  EXPECT_EQ(ConditionalResponse(other, Ok(R"({"id":1})")).status, 200u);
}

TEST(ConditionalResponseTest, NonSuccessResponsesPassThrough) {
  http::Request request;
  request.headers.Add("If-None-Match", "*");
  http::Response error;
  error.status = 404;
  error.body = R"({"success":false})";
  http::Response r = ConditionalResponse(request, error);
  EXPECT_EQ(r.status, 404u);
  EXPECT_EQ(r.headers.Find("ETag"), nullptr);
  http::Response not_json;
  not_json.body = "plain";
  EXPECT_EQ(ConditionalResponse(request, not_json).status, 200u);
}

TEST(QueryValueTest, DecodesTheFirstOccurrence) {
  EXPECT_EQ(QueryValue("a=1&fields=id%2Cemail&fields=x", "fields"), "id,email");
  EXPECT_EQ(QueryValue("fields=a+b", "fields"), "a b");
  EXPECT_EQ(QueryValue("fields", "fields"), "");
  EXPECT_FALSE(QueryValue("a=1", "fields").has_value());
  EXPECT_FALSE(QueryValue("fields=%zz", "fields").has_value());
  EXPECT_FALSE(QueryValue("fields=%4", "fields").has_value());
  EXPECT_FALSE(QueryValue("", "fields").has_value());
}

}  // namespace
}  // namespace hasivu::api
