// The wire envelope of ../shared/spec/api.md, written in one place:
//   success: {"success":true,"data":<value>,"meta":{"timestamp":"<RFC 3339
//   UTC>","requestId":"<id>"}} error:
//   {"success":false,"error":{"code":"<UPPER_SNAKE>","message":"<text>","details":[...]?},
//             "meta":{...}}
// and the one mapping from Status to HTTP status and error code (architecture decision 7).
//
// Thread-safety: free functions, safe concurrently.
#ifndef HASIVU_API_ENVELOPE_H_
#define HASIVU_API_ENVELOPE_H_

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "http/message.h"
#include "http/server.h"

namespace hasivu::api {

using hasivu::FieldIssue;

// A success response carrying `data`.
http::Response Success(const http::Request& request, boost::json::value data,
                       unsigned status = 200);
// The same envelope around data already serialised. REQUIRES: `data_json` is one JSON value.
// Its body is kSuccessHead + data_json + EnvelopeTail(request).
http::Response SuccessSerialized(const http::Request& request, std::string_view data_json,
                                 unsigned status = 200);
inline constexpr std::string_view kSuccessHead = "{\"success\":true,\"data\":";
// `,"meta":{"timestamp":...,"requestId":...}}`: how every envelope (success or error) ends, the
// part of a body that is this request's own (a success's rest can be cached, compressed).
std::string EnvelopeTail(const http::Request& request);

// An error response. `details` is omitted from the body when empty.
http::Response Error(const http::Request& request, unsigned status, std::string_view code,
                     std::string_view message, const std::vector<FieldIssue>& details = {});

// Maps a Status from the domain to the contract. The error message is the Status's message only
// when message_is_for_client() (common/status.h); otherwise it is a generic text for the HTTP
// status, details are left out, and the Status goes to the log (warn) with the request id, so no
// store's driver text or operator context reaches a client. A Status with a reason() sends that
// as the error code (with the status's HTTP mapping below) and its details(); else:
// kInvalidArgument → 400 VALIDATION_ERROR, kNotFound → 404 NOT_FOUND, kAlreadyExists/kAborted → 409
// CONFLICT, kFailedPrecondition → 422, kPermissionDenied → 403 FORBIDDEN, kUnauthenticated → 401
// UNAUTHENTICATED, kResourceExhausted → 429 RATE_LIMITED, kUnavailable/kDeadlineExceeded → 503
// UNAVAILABLE (+ Retry-After), anything else → 500 INTERNAL whose message never carries the Status
// text (it is logged instead). The store's kUnavailable reasons STORAGE_FULL and
// STORAGE_READ_ONLY (a write the disk refused) answer 503 with that code, Retry-After and a fixed
// message saying which, and that reads go on.
http::Response ErrorFromStatus(const http::Request& request, const Status& status);

// The ErrorRenderer the HTTP server uses for the errors it produces itself (404, 405, 413, ...).
http::ErrorRenderer MakeErrorRenderer();

// Parses a request body as a JSON object. On failure returns an error Response (400
// INVALID_JSON for unparsable text, including text that is not UTF-8; 400 VALIDATION_ERROR when
// the top level is not an object or a string or key holds a NUL, "\u0000"). So every string of
// `object` is valid UTF-8 without NUL: fit for either store.
struct ParsedBody {
  bool ok = false;
  boost::json::object object;
  http::Response error;
};
ParsedBody ParseJsonObject(const http::Request& request);

}  // namespace hasivu::api

#endif  // HASIVU_API_ENVELOPE_H_
