// GET /openapi.json: the OpenAPI 3.1 document of docs/openapi.json, embedded into the binary at
// build time (cmake/embed_openapi.cmake), served as is. No authentication, no database.
#include "api/routes.h"

namespace hasivu::api {

// Defined in the generated embedded_openapi.cc.
std::string_view OpenApiDocument();

Status RegisterOpenApiRoute(http::Router& router, ApiContext& ctx) {
  (void)ctx;
  return router.Add("GET", "/openapi.json",
                    [](http::Request&) {
                      http::Response response;
                      response.content_type = "application/json";
                      response.body = std::string(OpenApiDocument());
                      response.headers.Set("Cache-Control", "public, max-age=300");
                      return response;
                    },
                    {.blocking = false, .name = "openapi"});
}

}  // namespace hasivu::api
