// GET /openapi.json through a seeded server, on both backends.
#include <boost/json.hpp>
#include <string>

#include "tests/integration/api_fixture.h"

namespace hasivu::testing {
namespace {

namespace json = boost::json;

class OpenApiApiTest : public ApiSuite {};

TEST_F(OpenApiApiTest, ServesTheDocument) {
  ApiResponse r = Call("GET", "/openapi.json");
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 200);
  EXPECT_EQ(r.Header("content-type"), "application/json");
  ASSERT_TRUE(r.json.is_object()) << "not JSON";
  const json::object& doc = r.json.as_object();
  EXPECT_EQ(doc.at("openapi").as_string(), "3.1.0");
  EXPECT_EQ(doc.at("components").at("securitySchemes").at("bearerAuth").at("scheme").as_string(),
            "bearer");
  const json::object& paths = doc.at("paths").as_object();
  const std::pair<const char*, const char*> kTen[] = {
      {"/api/v1/auth/register", "post"},   {"/api/v1/auth/login", "post"},
      {"/api/v1/users/{id}", "get"},       {"/api/v1/menus/daily", "get"},
      {"/api/v1/orders", "get"},           {"/api/v1/orders", "post"},
      {"/api/v1/payments/orders", "post"}, {"/api/v1/payments/verify", "post"},
      {"/api/v1/rfid/verify", "post"},     {"/api/v1/monitoring/dashboard", "get"}};
  for (const auto& [path, method] : kTen) {
    ASSERT_TRUE(paths.contains(path)) << path;
    EXPECT_TRUE(paths.at(path).as_object().contains(method)) << method << " " << path;
  }
  for (const char* path : {"/healthz", "/readyz", "/metrics", "/openapi.json"}) {
    EXPECT_TRUE(paths.contains(path)) << path;
  }
  // Every operation names its error answers.
  const json::object& rfid = paths.at("/api/v1/rfid/verify").at("post").as_object();
  for (const char* status : {"200", "400", "401", "403", "404", "409", "422"}) {
    EXPECT_TRUE(rfid.at("responses").as_object().contains(status)) << status;
  }
  // HEAD works as for every GET route, with no body.
  ApiResponse head = Call("HEAD", "/openapi.json");
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
}

}  // namespace
}  // namespace hasivu::testing
