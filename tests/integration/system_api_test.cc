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

}  // namespace
}  // namespace hasivu::testing
