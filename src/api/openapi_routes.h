// GET /openapi.json: the OpenAPI 3.1 document of docs/openapi.json, embedded into the binary at
// build time (cmake/embed_openapi.cmake), served as is. No authentication, no database, no
// collaborators, so a function rather than a route group.
#ifndef HASIVU_API_OPENAPI_ROUTES_H_
#define HASIVU_API_OPENAPI_ROUTES_H_

#include <string_view>

#include "common/status.h"
#include "http/router.h"

namespace hasivu::api {

// The embedded document (defined in the generated embedded_openapi.cc).
std::string_view OpenApiDocument();

Status RegisterOpenApiRoute(http::Router& router);

}  // namespace hasivu::api

#endif  // HASIVU_API_OPENAPI_ROUTES_H_
