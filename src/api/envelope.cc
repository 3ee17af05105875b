#include "api/envelope.h"

#include <spdlog/spdlog.h>

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "common/clock.h"
#include "common/time_util.h"

namespace hasivu::api {
namespace {

boost::json::object Meta(const http::Request& request) {
  boost::json::object meta;
  meta["timestamp"] = FormatRfc3339(SystemClock().Now());
  meta["requestId"] = request.request_id;
  return meta;
}

http::Response Make(unsigned status, boost::json::object body) {
  http::Response r;
  r.status = status;
  r.body = boost::json::serialize(body);
  return r;
}

}  // namespace

http::Response Success(const http::Request& request, boost::json::value data, unsigned status) {
  boost::json::object body;
  body["success"] = true;
  body["data"] = std::move(data);
  body["meta"] = Meta(request);
  return Make(status, std::move(body));
}

http::Response SuccessSerialized(const http::Request& request, std::string_view data_json,
                                 unsigned status) {
  const std::string meta = boost::json::serialize(Meta(request));
  http::Response r;
  r.status = status;
  r.body.reserve(data_json.size() + meta.size() + 40);
  r.body = "{\"success\":true,\"data\":";
  r.body += data_json;
  r.body += ",\"meta\":";
  r.body += meta;
  r.body += '}';
  return r;
}

http::Response Error(const http::Request& request, unsigned status, std::string_view code,
                     std::string_view message, const std::vector<FieldIssue>& details) {
  boost::json::object error;
  error["code"] = code;
  error["message"] = message;
  if (!details.empty()) {
    boost::json::array list;
    for (const FieldIssue& d : details) {
      list.push_back(boost::json::object{{"field", d.field}, {"issue", d.issue}});
    }
    error["details"] = std::move(list);
  }
  boost::json::object body;
  body["success"] = false;
  body["error"] = std::move(error);
  body["meta"] = Meta(request);
  http::Response r = Make(status, std::move(body));
  if (status == 503 || status == 429) r.headers.Set("Retry-After", "1");
  return r;
}

namespace {
unsigned HttpStatusOf(StatusCode code) {
  switch (code) {
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kUnauthenticated:
      return 401;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
    case StatusCode::kAborted:
      return 409;
    case StatusCode::kFailedPrecondition:
      return 422;
    case StatusCode::kResourceExhausted:
      return 429;
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded:
      return 503;
    default:
      return 500;
  }
}
}  // namespace

http::Response ErrorFromStatus(const http::Request& request, const Status& status) {
  const unsigned http_status = HttpStatusOf(status.code());
  if (!status.reason().empty() && http_status != 500) {
    return Error(request, http_status, status.reason(), status.message(), status.details());
  }
  switch (status.code()) {
    case StatusCode::kOk:
      break;
    case StatusCode::kInvalidArgument:
      return Error(request, 400, "VALIDATION_ERROR", status.message(), status.details());
    case StatusCode::kNotFound:
      return Error(request, 404, "NOT_FOUND", "The resource was not found");
    case StatusCode::kAlreadyExists:
    case StatusCode::kAborted:
      return Error(request, 409, "CONFLICT", status.message());
    case StatusCode::kFailedPrecondition:
      return Error(request, 422, "UNPROCESSABLE", status.message());
    case StatusCode::kPermissionDenied:
      return Error(request, 403, "FORBIDDEN", "This action is not allowed");
    case StatusCode::kUnauthenticated:
      return Error(request, 401, "UNAUTHENTICATED", "Authentication is required");
    case StatusCode::kResourceExhausted:
      return Error(request, 429, "RATE_LIMITED", "Too many requests");
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded:
      spdlog::warn("request {}: unavailable: {}", request.request_id, status.ToString());
      return Error(request, 503, "UNAVAILABLE", "The service is temporarily unavailable");
    case StatusCode::kInternal:
    case StatusCode::kUnimplemented:
      break;
  }
  // The text of an internal error may name tables or files: it goes to the log, never the client.
  spdlog::error("request {}: internal error: {}", request.request_id, status.ToString());
  return Error(request, 500, "INTERNAL", "An internal error occurred");
}

http::ErrorRenderer MakeErrorRenderer() {
  return [](unsigned status, std::string_view code, std::string_view message,
            const http::Request& request) { return Error(request, status, code, message); };
}

ParsedBody ParseJsonObject(const http::Request& request) {
  ParsedBody out;
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(request.body, ec);
  if (ec) {
    out.error = Error(request, 400, "INVALID_JSON", "The request body is not valid JSON");
    return out;
  }
  if (!v.is_object()) {
    out.error = Error(request, 400, "VALIDATION_ERROR", "The request body must be a JSON object");
    return out;
  }
  out.ok = true;
  out.object = std::move(v.as_object());
  return out;
}

}  // namespace hasivu::api
