#include "api/openapi_routes.h"

#include <string>

namespace hasivu::api {

Status RegisterOpenApiRoute(http::Router& router) {
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
