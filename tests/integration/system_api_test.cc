// The operational endpoints and the envelope through a seeded server, on both backends.
#include <boost/json.hpp>

#include "tests/integration/api_fixture.h"

namespace hasivu::testing {
namespace {

class SystemApiTest : public ApiSuite {};

TEST_F(SystemApiTest, HealthReadinessAndMetrics) {
  ApiResponse health = Call("GET", "/healthz");
  ASSERT_EQ(health.status, 200) << health.body;
  EXPECT_EQ(health.Data().at("status").as_string(), "ok");
  ApiResponse ready = Call("GET", "/readyz");
  ASSERT_EQ(ready.status, 200) << ready.body;
  EXPECT_EQ(ready.Data().at("status").as_string(), "ready");
  ApiResponse metrics = Call("GET", "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("hasivu_http_request_duration_seconds_bucket{route=\"readyz\""),
            std::string::npos);
}

TEST_F(SystemApiTest, FixturesDescribeTheSeededData) {
  const auto& schools = Fixtures().at("schools").as_array();
  ASSERT_EQ(schools.size(), 2u);
  for (const auto& school : schools) {
    EXPECT_EQ(school.at("timezone").as_string(), "Asia/Kolkata");
    EXPECT_EQ(school.at("kitchenStaff").as_array().size(), 2u);
    EXPECT_EQ(school.at("readers").as_array().size(), 2u);
    EXPECT_EQ(school.at("menuItemIds").as_array().size(), 25u);
    EXPECT_FALSE(school.at("parents").as_array().empty());
  }
}

TEST_F(SystemApiTest, ErrorsUseTheEnvelope) {
  ApiResponse missing = Call("GET", "/api/v1/does-not-exist", "", "", {"X-Request-Id: sys-1"});
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.ErrorCode(), "NOT_FOUND");
  EXPECT_EQ(missing.Header("x-request-id"), "sys-1");
}

TEST_F(SystemApiTest, TransportErrorsUseTheEnvelopeOnEveryBackend) {
  // 405 names the methods the path does take.
  ApiResponse wrong_method = Call("DELETE", "/api/v1/orders");
  EXPECT_EQ(wrong_method.status, 405) << wrong_method.body;
  EXPECT_EQ(wrong_method.ErrorCode(), "METHOD_NOT_ALLOWED");
  const std::string allow = wrong_method.Header("allow");
  EXPECT_NE(allow.find("GET"), std::string::npos) << allow;
  EXPECT_NE(allow.find("POST"), std::string::npos) << allow;
  EXPECT_EQ(allow.find("DELETE"), std::string::npos) << allow;

  // One byte over 64 KiB is refused before any handler runs; exactly 64 KiB is read (and then
  // judged on its content: not an account).
  const std::string pad_key = R"({"email":"a@b.test","password":"x","pad":")";
  const std::string at_limit = pad_key + std::string(65536 - pad_key.size() - 2, 'p') + "\"}";
  ASSERT_EQ(at_limit.size(), 65536u);
  ApiResponse read = Call("POST", "/api/v1/auth/login", "", at_limit);
  EXPECT_EQ(read.status, 401) << read.body;
  const std::string over = pad_key + std::string(65537 - pad_key.size() - 2, 'p') + "\"}";
  ApiResponse too_big = Call("POST", "/api/v1/auth/login", "", over);
  EXPECT_EQ(too_big.status, 413) << too_big.body;
  EXPECT_FALSE(too_big.ErrorCode().empty()) << too_big.body;
  EXPECT_EQ(too_big.json.at("success").as_bool(), false);

  HttpResponse text =
      HttpRequest(Server().port(), "POST", "/api/v1/orders", {"Content-Type: text/plain"}, "{}");
  EXPECT_EQ(text.status, 415);
  EXPECT_NE(text.body.find("\"success\":false"), std::string::npos) << text.body;

  // The server is still serving after all of them.
  EXPECT_EQ(Call("GET", "/healthz").status, 200);
}

}  // namespace
}  // namespace hasivu::testing
