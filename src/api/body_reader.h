// BodyReader: reads the members of a JSON request body into typed values, collecting one field
// issue per member that is missing (when required) or of the wrong type, so a handler answers
// every problem of a body in one 400 VALIDATION_ERROR.
//
//   std::vector<FieldIssue> issues;
//   BodyReader r(issues);
//   std::string email = r.String(body, "email").value_or("");
//   std::optional<int64_t> qty = r.Int(line, "quantity", "items[0].quantity", /*required=*/true);
//
// Absent and null members are "not given". `field` names the member in issues (a path such as
// "items[2].quantity"); it defaults to the key. Thread-safety: one reader per request.
#ifndef HASIVU_API_BODY_READER_H_
#define HASIVU_API_BODY_READER_H_

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace hasivu::api {

class BodyReader {
 public:
  // Issues are appended to `issues`, which outlives the reader.
  explicit BodyReader(std::vector<FieldIssue>& issues) : issues_(issues) {}

  std::optional<std::string> String(const boost::json::object& o, std::string_view key,
                                    std::string_view field = {}, bool required = false);
  // A JSON integer that fits int64 ("is too large" beyond it, "must be an integer" otherwise).
  std::optional<int64_t> Int(const boost::json::object& o, std::string_view key,
                             std::string_view field = {}, bool required = false);
  std::optional<bool> Bool(const boost::json::object& o, std::string_view key,
                           std::string_view field = {}, bool required = false);

 private:
  // The member, or null when absent or null (with "is required" when `required`).
  const boost::json::value* Member(const boost::json::object& o, std::string_view key,
                                   std::string_view field, bool required);
  void Issue(std::string_view key, std::string_view field, std::string issue);

  std::vector<FieldIssue>& issues_;
};

}  // namespace hasivu::api

#endif  // HASIVU_API_BODY_READER_H_
