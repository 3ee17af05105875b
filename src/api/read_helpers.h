// Helpers for read endpoints (api.md conventions): `?fields=` top-level field selection and
// strong ETags with If-None-Match → 304. Generic: any route with a JSON object body uses them.
//
//   boost::json::object data = ...;
//   if (Status s = ApplyFieldSelection(data, QueryValue(request.query, "fields").value_or(""));
//       !s.ok()) return ErrorFromStatus(request, s);
//   return ConditionalSuccess(request, data);
//
// Thread-safety: free functions, safe concurrently.
#ifndef HASIVU_API_READ_HELPERS_H_
#define HASIVU_API_READ_HELPERS_H_

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "http/message.h"

namespace hasivu::api {

// Keeps only the top-level members of `object` named in `fields_param` ("id,email,role";
// spaces around names are ignored). An empty parameter changes nothing. Errors:
// kInvalidArgument with a {"fields", "unknown field 'x'"} detail for each name the object does
// not have (or an empty name), and the object is left unchanged.
Status ApplyFieldSelection(boost::json::object& object, std::string_view fields_param);

// The same selection for an object written member by member (json_writer.h): of the members
// `names` (in the order they are written), the indexes `fields_param` keeps, in the parameter's
// order, each once; every index in order for an empty parameter. Errors as ApplyFieldSelection's.
StatusOr<std::vector<size_t>> SelectMembers(std::span<const std::string_view> names,
                                            std::string_view fields_param);

// The strong ETag of serialised data: "\"" + hex SHA-256 of the text + "\"".
std::string StrongETag(std::string_view data_json);

// A 200 success envelope (envelope.h) around `data`, with the strong ETag of data's
// serialisation (so the varying meta does not change it), or 304 Not Modified (no body, the ETag)
// when the request's If-None-Match lists that tag or "*" (weak comparison, RFC 9110 13.1.2).
// `data` is serialised once.
http::Response ConditionalSuccess(const http::Request& request, const boost::json::value& data);
// The same for data already serialised. REQUIRES: `data_json` is one JSON value.
http::Response ConditionalSuccessSerialized(const http::Request& request,
                                            std::string_view data_json);
// 304 Not Modified (no body, the ETag) when the request's If-None-Match lists `etag` or "*";
// nullopt otherwise.
std::optional<http::Response> NotModified(const http::Request& request, std::string_view etag);
// The same with the ETag already known (StrongETag(data_json), e.g. kept in a cache).
http::Response ConditionalSuccessWithETag(const http::Request& request, std::string_view data_json,
                                          std::string_view etag);

// application/x-www-form-urlencoded decoding ('+' is a space, %XX escapes); nullopt on a broken
// escape, or when the decoded text is not UTF-8 (common/utf8.h) or holds a NUL: callers answer
// that as a malformed parameter, so such bytes never reach the store.
std::optional<std::string> FormDecode(std::string_view s);

// A query string decoded against the parameters a route knows: the (name, value) pairs in order,
// and a field issue for each malformed or nameless part ({"query", ...}), unknown name ({name,
// "is not a known parameter"}) and, unless repeats are allowed, repeated name ({name, "is given
// more than once"}).
struct QueryParams {
  std::vector<std::pair<std::string, std::string>> items;
  std::vector<FieldIssue> issues;
  // The value of `name`, or null when absent.
  const std::string* Find(std::string_view name) const;
};
enum class RepeatedParameter { kRefused, kLastWins };
QueryParams ParseQuery(std::string_view query, const std::set<std::string_view>& allowed,
                       RepeatedParameter repeated = RepeatedParameter::kRefused);

// The percent-decoded value of query parameter `name` in a raw query string (first occurrence;
// '+' is a space). nullopt when absent or malformed (FormDecode).
std::optional<std::string> QueryValue(std::string_view query, std::string_view name);

}  // namespace hasivu::api

#endif  // HASIVU_API_READ_HELPERS_H_
