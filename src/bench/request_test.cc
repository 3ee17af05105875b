#include "bench/request.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace hasivu::bench {
namespace {

using ::testing::HasSubstr;

TEST(ResponseTest, HeaderValueFindsTheFirstOfAName) {
  Response r;
  r.headers = {{"content-type", "application/json"}, {"etag", "\"1\""}, {"etag", "\"2\""}};
  EXPECT_EQ(r.HeaderValue("etag"), "\"1\"");
  EXPECT_EQ(r.HeaderValue("content-type"), "application/json");
  EXPECT_EQ(r.HeaderValue("Content-Type"), "application/json");
  EXPECT_EQ(r.HeaderValue("vary"), "");
}

TEST(ErrorCodeOfTest, OnlyAnErrorEnvelopeHasACode) {
  EXPECT_EQ(ErrorCodeOf(R"({"success":false,"error":{"code":"SOLD_OUT","message":"gone"},)"
                        R"("meta":{"requestId":"r1"}})"),
            "SOLD_OUT");
  EXPECT_EQ(ErrorCodeOf(R"({"error":{"code":"X"},"success":false})"), "X");
  EXPECT_EQ(ErrorCodeOf(R"({"success":true,"data":{"code":"X"}})"), "");
  EXPECT_EQ(ErrorCodeOf(R"({"success":true,"error":{"code":"X"}})"), "");
  EXPECT_EQ(ErrorCodeOf(R"({"error":{"code":"X"}})"), "");  // no success field
  EXPECT_EQ(ErrorCodeOf(R"({"success":"false","error":{"code":"X"}})"), "");
  EXPECT_EQ(ErrorCodeOf(R"({"success":false,"error":"X"})"), "");
  EXPECT_EQ(ErrorCodeOf(R"({"success":false,"error":{"code":42}})"), "");
  EXPECT_EQ(ErrorCodeOf(R"({"success":false})"), "");
  EXPECT_EQ(ErrorCodeOf("[1,2]"), "");
  EXPECT_EQ(ErrorCodeOf("not json"), "");
  EXPECT_EQ(ErrorCodeOf(""), "");
  EXPECT_EQ(ErrorCodeOf(std::string("\x1f\x8b\x08\x00\x00", 5)), "");  // a gzip body
}

TEST(ParseEndpointTest, AcceptsHostPortAndBasePath) {
  auto e = ParseEndpoint("http://127.0.0.1:8080");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->host, "127.0.0.1");
  EXPECT_EQ(e->port, 8080);
  EXPECT_EQ(e->base_path, "");
  EXPECT_EQ(e->ToString(), "http://127.0.0.1:8080");

  e = ParseEndpoint("http://localhost/");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->host, "localhost");
  EXPECT_EQ(e->port, 80);
  EXPECT_EQ(e->base_path, "");

  e = ParseEndpoint("HTTP://api.example.test:65535/stage/");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->host, "api.example.test");
  EXPECT_EQ(e->port, 65535);
  EXPECT_EQ(e->base_path, "/stage");
  EXPECT_EQ(e->ToString(), "http://api.example.test:65535/stage");

  e = ParseEndpoint("http://host:/a/b");  // an empty port is the default (RFC 3986)
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->port, 80);
  EXPECT_EQ(e->base_path, "/a/b");
}

TEST(ParseEndpointTest, Ipv6LiteralIsStoredWithoutBrackets) {
  auto e = ParseEndpoint("http://[::1]:9000/v");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->host, "::1");
  EXPECT_EQ(e->port, 9000);
  EXPECT_EQ(e->base_path, "/v");
  EXPECT_EQ(e->ToString(), "http://[::1]:9000/v");
}

TEST(ParseEndpointTest, RejectsWhatIsNotPlainHttpWithAReason) {
  struct Case {
    const char* url;
    const char* reason;
  };
  const Case cases[] = {
      {"https://127.0.0.1:8443", "https"},
      {"ftp://127.0.0.1", "scheme"},
      {"http://user:pw@127.0.0.1", "user"},
      {"http://127.0.0.1/?a=1", "query"},
      {"http://127.0.0.1/#top", "fragment"},
      {"http://", "host"},
      {"http:///path", "host"},
      {"http://127.0.0.1:0", "port"},
      {"http://127.0.0.1:65536", "port"},
      {"http://127.0.0.1:99999999999", "port"},
      {"not a url", "URL"},
      {"", "URL"},
  };
  for (const Case& c : cases) {
    auto e = ParseEndpoint(c.url);
    ASSERT_FALSE(e.ok()) << c.url;
    EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument) << c.url;
    EXPECT_THAT(e.status().message(), HasSubstr(c.reason)) << c.url;
  }
}

TEST(SerializeRequestTest, GetWithoutBody) {
  Endpoint e{.host = "127.0.0.1", .port = 8080, .base_path = ""};
  Request r;
  r.target = "/api/v1/orders?limit=20";
  r.headers = {{"Authorization", "Bearer t"}};
  EXPECT_EQ(SerializeRequest(e, r),
            "GET /api/v1/orders?limit=20 HTTP/1.1\r\n"
            "Host: 127.0.0.1:8080\r\n"
            "Connection: keep-alive\r\n"
            "Authorization: Bearer t\r\n"
            "\r\n");
}

TEST(SerializeRequestTest, PostWithJsonBodyAndBasePath) {
  Endpoint e{.host = "::1", .port = 80, .base_path = "/stage"};
  Request r;
  r.method = "POST";
  r.target = "/api/v1/auth/login";
  r.body = R"({"email":"a@b.c"})";
  EXPECT_EQ(SerializeRequest(e, r),
            "POST /stage/api/v1/auth/login HTTP/1.1\r\n"
            "Host: [::1]:80\r\n"
            "Connection: keep-alive\r\n"
            "Content-Type: application/json\r\n"
            "Content-Length: 17\r\n"
            "\r\n"
            R"({"email":"a@b.c"})");
}

TEST(SerializeRequestTest, KeepsTheRequestsContentTypeAndDropsFramingHeaders) {
  Endpoint e{.host = "h", .port = 1, .base_path = ""};
  Request r;
  r.method = "PUT";
  r.target = "/x";
  r.headers = {{"content-type", "text/plain"},
               {"Content-Length", "999"},
               {"Host", "evil"},
               {"Connection", "close"},
               {"Idempotency-Key", "k1"}};
  r.body = "hi";
  EXPECT_EQ(SerializeRequest(e, r),
            "PUT /x HTTP/1.1\r\n"
            "Host: h:1\r\n"
            "Connection: keep-alive\r\n"
            "content-type: text/plain\r\n"
            "Idempotency-Key: k1\r\n"
            "Content-Length: 2\r\n"
            "\r\n"
            "hi");
}

TEST(SerializeRequestTest, EmptyPostStillStatesItsLength) {
  Endpoint e{.host = "h", .port = 8080, .base_path = "/b"};
  Request r;
  r.method = "POST";
  r.target = "/api/v1/auth/logout";
  EXPECT_EQ(SerializeRequest(e, r),
            "POST /b/api/v1/auth/logout HTTP/1.1\r\n"
            "Host: h:8080\r\n"
            "Connection: keep-alive\r\n"
            "Content-Length: 0\r\n"
            "\r\n");
}

}  // namespace
}  // namespace hasivu::bench
