#include "api/read_helpers.h"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <vector>

#include "api/envelope.h"
#include "common/digest.h"
#include "common/utf8.h"

namespace hasivu::api {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Removes the W/ prefix: If-None-Match compares weakly.
std::string_view Opaque(std::string_view tag) {
  tag = Trim(tag);
  if (tag.size() >= 2 && tag[0] == 'W' && tag[1] == '/') tag.remove_prefix(2);
  return tag;
}

bool IfNoneMatchMatches(std::string_view header, std::string_view etag) {
  if (Trim(header) == "*") return true;
  const std::string_view want = Opaque(etag);
  while (!header.empty()) {
    const size_t comma = header.find(',');
    if (Opaque(header.substr(0, comma)) == want) return true;
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

StatusOr<std::vector<size_t>> SelectMembers(std::span<const std::string_view> names,
                                            std::string_view fields_param) {
  std::vector<size_t> kept;
  if (Trim(fields_param).empty()) {
    for (size_t i = 0; i < names.size(); ++i) kept.push_back(i);
    return kept;
  }
  std::vector<FieldIssue> issues;
  std::string_view rest = fields_param;
  while (true) {
    const size_t comma = rest.find(',');
    const std::string_view name = Trim(rest.substr(0, comma));
    const auto at = std::find(names.begin(), names.end(), name);
    if (name.empty()) {
      issues.push_back({"fields", "has an empty field name"});
    } else if (at == names.end()) {
      issues.push_back({"fields", "unknown field '" + std::string(Utf8Prefix(name, 64)) + "'"});
    } else if (const size_t i = static_cast<size_t>(at - names.begin());
               std::find(kept.begin(), kept.end(), i) == kept.end()) {
      kept.push_back(i);
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  if (!issues.empty()) return ValidationError("The fields parameter is invalid", issues);
  return kept;
}

Status ApplyFieldSelection(boost::json::object& object, std::string_view fields_param) {
  if (Trim(fields_param).empty()) return Status::Ok();
  std::vector<std::string_view> names;
  names.reserve(object.size());
  for (const auto& member : object) names.push_back(member.key());
  ASSIGN_OR_RETURN(std::vector<size_t> selected, SelectMembers(names, fields_param));
  boost::json::object kept;
  kept.reserve(selected.size());
  for (size_t i : selected) kept[names[i]] = std::move(object[names[i]]);
  object = std::move(kept);
  return Status::Ok();
}

std::string StrongETag(std::string_view data_json) {
  const Sha256Digest digest = Sha256(data_json);
  std::string out = "\"";
  out += HexLower(digest.data(), digest.size());
  out += '"';
  return out;
}

http::Response ConditionalSuccess(const http::Request& request, const boost::json::value& data) {
  return ConditionalSuccessSerialized(request, boost::json::serialize(data));
}

http::Response ConditionalSuccessSerialized(const http::Request& request,
                                            std::string_view data_json) {
  return ConditionalSuccessWithETag(request, data_json, StrongETag(data_json));
}

std::optional<http::Response> NotModified(const http::Request& request, std::string_view etag) {
  const std::string* if_none_match = request.headers.Find("If-None-Match");
  if (if_none_match == nullptr || !IfNoneMatchMatches(*if_none_match, etag)) return std::nullopt;
  http::Response not_modified;
  not_modified.status = 304;
  not_modified.content_type.clear();
  not_modified.headers.Set("ETag", std::string(etag));
  return not_modified;
}

http::Response ConditionalSuccessWithETag(const http::Request& request, std::string_view data_json,
                                          std::string_view etag) {
  if (std::optional<http::Response> not_modified = NotModified(request, etag)) {
    return std::move(*not_modified);
  }
  http::Response r = SuccessSerialized(request, data_json);
  r.headers.Set("ETag", std::string(etag));
  return r;
}

std::optional<std::string> FormDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      const int hi = HexValue(s[i + 1]);
      const int lo = HexValue(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  // Decoded parameters reach the store and error details: PostgreSQL refuses invalid UTF-8 and
  // NUL in text, and a response must not echo bytes that are not UTF-8.
  if (!IsValidUtf8(out) || out.find('\0') != std::string::npos) return std::nullopt;
  return out;
}

std::optional<std::string> QueryValue(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view part = query.substr(0, amp);
    const size_t eq = part.find('=');
    std::optional<std::string> key = FormDecode(part.substr(0, eq));
    if (key && *key == name) {
      return FormDecode(eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

const std::string* QueryParams::Find(std::string_view name) const {
  for (const auto& [k, v] : items) {
    if (k == name) return &v;
  }
  return nullptr;
}

QueryParams ParseQuery(std::string_view query, const std::set<std::string_view>& allowed,
                       RepeatedParameter repeated) {
  QueryParams out;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (part.empty()) continue;
    const size_t eq = part.find('=');
    std::optional<std::string> key = FormDecode(part.substr(0, eq));
    std::optional<std::string> value =
        FormDecode(eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1));
    if (!key || !value) {
      out.issues.push_back({"query", "has a malformed percent escape or is not UTF-8"});
      continue;
    }
    if (key->empty()) {
      out.issues.push_back({"query", "has a parameter without a name"});
      continue;
    }
    if (!allowed.count(*key)) {
      out.issues.push_back({std::string(Utf8Prefix(*key, 64)), "is not a known parameter"});
      continue;
    }
    auto earlier = std::find_if(out.items.begin(), out.items.end(),
                                [&](const auto& item) { return item.first == *key; });
    if (earlier == out.items.end()) {
      out.items.emplace_back(std::move(*key), std::move(*value));
    } else if (repeated == RepeatedParameter::kLastWins) {
      earlier->second = std::move(*value);
    } else {
      out.issues.push_back({*key, "is given more than once"});
    }
  }
  return out;
}

}  // namespace hasivu::api
