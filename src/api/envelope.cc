#include "api/envelope.h"

#include <spdlog/spdlog.h>

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "api/json_writer.h"
#include "common/clock.h"
#include "common/time_util.h"

namespace hasivu::api {
http::Response Success(const http::Request& request, boost::json::value data, unsigned status) {
  return SuccessSerialized(request, boost::json::serialize(data), status);
}

std::string EnvelopeTail(const http::Request& request) {
  std::string out;
  out.reserve(96 + request.request_id.size());
  JsonWriter w(out);
  out += ",\"meta\":";
  w.BeginObject();
  w.Key("timestamp");
  w.String(FormatRfc3339(SystemClock().Now()));
  w.Key("requestId");
  w.String(request.request_id);
  w.EndObject();
  out += '}';
  return out;
}

http::Response SuccessSerialized(const http::Request& request, std::string_view data_json,
                                 unsigned status) {
  const std::string tail = EnvelopeTail(request);
  http::Response r;
  r.status = status;
  r.body.reserve(kSuccessHead.size() + data_json.size() + tail.size());
  r.body = kSuccessHead;
  r.body += data_json;
  r.body += tail;
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
  http::Response r;
  r.status = status;
  r.body = "{\"success\":false,\"error\":";
  r.body += boost::json::serialize(error);
  r.body += EnvelopeTail(request);
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

// What a client reads when the Status's message was not written for clients.
std::string_view GenericMessage(unsigned http_status) {
  switch (http_status) {
    case 400:
      return "The request is invalid";
    case 401:
      return "Authentication is required";
    case 403:
      return "This action is not allowed";
    case 404:
      return "The resource was not found";
    case 409:
      return "The request conflicts with the current state of the resource";
    case 422:
      return "The request cannot be processed in the current state";
    case 429:
      return "Too many requests";
    case 503:
      return "The service is temporarily unavailable";
    default:
      return "An internal error occurred";
  }
}

// The message the client gets: the Status's own only when it was written for clients. Anything
// else (a store's driver text, a message with operator context) goes to the log with the
// request id, so the operator can find what the client saw as a generic text.
std::string_view ClientMessage(const http::Request& request, const Status& status,
                               unsigned http_status) {
  if (status.message_is_for_client()) return status.message();
  spdlog::warn("request {}: answered {} with a generic message for: {}", request.request_id,
               http_status, status.ToString());
  // The store's reasons for refusing writes come with its driver's text: the client learns what
  // stops its write, and that reading goes on, without the store's words.
  if (http_status == 503 && status.reason() == "STORAGE_FULL") {
    return "Changes cannot be saved right now: the service's storage is full. Reading still works";
  }
  if (http_status == 503 && status.reason() == "STORAGE_READ_ONLY") {
    return "Changes cannot be saved right now: the service's storage is read-only. Reading still "
           "works";
  }
  return GenericMessage(http_status);
}

const std::vector<FieldIssue>& ClientDetails(const Status& status) {
  static const std::vector<FieldIssue> kNone;
  return status.message_is_for_client() ? status.details() : kNone;
}

}  // namespace

http::Response ErrorFromStatus(const http::Request& request, const Status& status) {
  const unsigned http_status = HttpStatusOf(status.code());
  if (!status.reason().empty() && http_status != 500) {
    return Error(request, http_status, status.reason(), ClientMessage(request, status, http_status),
                 ClientDetails(status));
  }
  switch (status.code()) {
    case StatusCode::kOk:
      break;
    case StatusCode::kInvalidArgument:
      return Error(request, 400, "VALIDATION_ERROR", ClientMessage(request, status, 400),
                   ClientDetails(status));
    case StatusCode::kNotFound:
      return Error(request, 404, "NOT_FOUND", "The resource was not found");
    case StatusCode::kAlreadyExists:
    case StatusCode::kAborted:
      return Error(request, 409, "CONFLICT", ClientMessage(request, status, 409));
    case StatusCode::kFailedPrecondition:
      return Error(request, 422, "UNPROCESSABLE", ClientMessage(request, status, 422));
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

namespace {

// Boost.JSON accepts only valid UTF-8 and no lone surrogates, but "\u0000" decodes to a NUL,
// which PostgreSQL text cannot hold (and SQLite would store): refused here for both stores.
bool HoldsNul(const boost::json::value& v) {
  if (const auto* s = v.if_string()) return s->find('\0') != boost::json::string::npos;
  if (const auto* a = v.if_array()) {
    for (const boost::json::value& e : *a) {
      if (HoldsNul(e)) return true;
    }
  }
  if (const auto* o = v.if_object()) {
    for (const auto& m : *o) {
      if (m.key().find('\0') != std::string_view::npos || HoldsNul(m.value())) return true;
    }
  }
  return false;
}

}  // namespace

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
  if (HoldsNul(v)) {
    out.error = Error(request, 400, "VALIDATION_ERROR", "The request body holds a NUL character");
    return out;
  }
  out.ok = true;
  out.object = std::move(v.as_object());
  return out;
}

}  // namespace hasivu::api
