#include "api/body_reader.h"

#include <boost/json/value.hpp>

namespace hasivu::api {

void BodyReader::Issue(std::string_view key, std::string_view field, std::string issue) {
  issues_.push_back({std::string(field.empty() ? key : field), std::move(issue)});
}

const boost::json::value* BodyReader::Member(const boost::json::object& o, std::string_view key,
                                             std::string_view field, bool required) {
  const boost::json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) {
    if (required) Issue(key, field, "is required");
    return nullptr;
  }
  return v;
}

std::optional<std::string> BodyReader::String(const boost::json::object& o, std::string_view key,
                                              std::string_view field, bool required) {
  const boost::json::value* v = Member(o, key, field, required);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) {
    Issue(key, field, "must be a string");
    return std::nullopt;
  }
  return std::string(v->as_string());
}

std::optional<int64_t> BodyReader::Int(const boost::json::object& o, std::string_view key,
                                       std::string_view field, bool required) {
  const boost::json::value* v = Member(o, key, field, required);
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return v->as_int64();
  Issue(key, field, v->is_uint64() ? "is too large" : "must be an integer");
  return std::nullopt;
}

std::optional<bool> BodyReader::Bool(const boost::json::object& o, std::string_view key,
                                     std::string_view field, bool required) {
  const boost::json::value* v = Member(o, key, field, required);
  if (v == nullptr) return std::nullopt;
  if (!v->is_bool()) {
    Issue(key, field, "must be true or false");
    return std::nullopt;
  }
  return v->as_bool();
}

}  // namespace hasivu::api
