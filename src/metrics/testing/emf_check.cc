#include "metrics/testing/emf_check.h"

#include <boost/json.hpp>
#include <set>
#include <string>

namespace hasivu::metrics::testing {
namespace {

namespace json = boost::json;

const std::set<std::string> kAllowedUnits = {"Seconds",
                                             "Microseconds",
                                             "Milliseconds",
                                             "Bytes",
                                             "Kilobytes",
                                             "Megabytes",
                                             "Gigabytes",
                                             "Terabytes",
                                             "Bits",
                                             "Kilobits",
                                             "Megabits",
                                             "Gigabits",
                                             "Terabits",
                                             "Percent",
                                             "Count",
                                             "Bytes/Second",
                                             "Kilobytes/Second",
                                             "Megabytes/Second",
                                             "Gigabytes/Second",
                                             "Terabytes/Second",
                                             "Bits/Second",
                                             "Kilobits/Second",
                                             "Megabits/Second",
                                             "Gigabits/Second",
                                             "Terabits/Second",
                                             "Count/Second",
                                             "None"};

bool IsNumber(const json::value& v) { return v.is_double() || v.is_int64() || v.is_uint64(); }

}  // namespace

std::string CheckEmfDocument(const std::string& line) {
  if (line.size() > 256 * 1024) return "line over 256 KB";
  if (line.find('\n') != std::string::npos) return "a newline inside the line";
  json::error_code ec;
  json::value doc = json::parse(line, ec);
  if (ec) return "not JSON: " + ec.message();
  if (!doc.is_object()) return "root is not an object";
  const json::object& root = doc.as_object();
  const json::value* aws = root.if_contains("_aws");
  if (aws == nullptr || !aws->is_object()) return "no _aws object";
  const json::value* ts = aws->as_object().if_contains("Timestamp");
  if (ts == nullptr || !(ts->is_int64() || ts->is_uint64())) return "Timestamp not an integer";
  const json::value* directives = aws->as_object().if_contains("CloudWatchMetrics");
  if (directives == nullptr || !directives->is_array()) return "no CloudWatchMetrics array";
  if (directives->as_array().empty()) return "CloudWatchMetrics empty";
  for (const json::value& d : directives->as_array()) {
    if (!d.is_object()) return "directive not an object";
    for (const auto& member : d.as_object()) {
      if (member.key() != "Namespace" && member.key() != "Dimensions" &&
          member.key() != "Metrics") {
        return "directive member " + std::string(member.key());
      }
    }
    const json::value* ns = d.as_object().if_contains("Namespace");
    if (ns == nullptr || !ns->is_string() || ns->as_string().empty() ||
        ns->as_string().size() > 255) {
      return "Namespace not a string of 1-255";
    }
    const json::value* dims = d.as_object().if_contains("Dimensions");
    if (dims == nullptr || !dims->is_array() || dims->as_array().empty()) {
      return "Dimensions not a non-empty array";
    }
    for (const json::value& set : dims->as_array()) {
      if (!set.is_array() || set.as_array().size() > 30) return "dimension set not <= 30 names";
      for (const json::value& name : set.as_array()) {
        if (!name.is_string()) return "dimension name not a string";
        const json::value* target = root.if_contains(name.as_string());
        if (target == nullptr || !target->is_string()) {
          return "dimension " + std::string(name.as_string()) + " not a top-level string";
        }
      }
    }
    const json::value* metrics = d.as_object().if_contains("Metrics");
    if (metrics == nullptr || !metrics->is_array()) return "Metrics not an array";
    if (metrics->as_array().size() > 100) return "more than 100 metrics";
    for (const json::value& m : metrics->as_array()) {
      if (!m.is_object()) return "metric definition not an object";
      for (const auto& member : m.as_object()) {
        if (member.key() != "Name" && member.key() != "Unit" &&
            member.key() != "StorageResolution") {
          return "metric definition member " + std::string(member.key());
        }
      }
      const json::value* name = m.as_object().if_contains("Name");
      if (name == nullptr || !name->is_string() || name->as_string().empty()) return "no Name";
      if (const json::value* unit = m.as_object().if_contains("Unit")) {
        if (!unit->is_string() || !kAllowedUnits.contains(std::string(unit->as_string()))) {
          return "Unit not allowed";
        }
      }
      if (const json::value* res = m.as_object().if_contains("StorageResolution")) {
        if (!res->is_int64() || (res->as_int64() != 1 && res->as_int64() != 60)) {
          return "StorageResolution not 1 or 60";
        }
      }
      const json::value* target = root.if_contains(name->as_string());
      if (target == nullptr) return "metric " + std::string(name->as_string()) + " not a member";
      if (target->is_array()) {
        const json::array& values = target->as_array();
        if (values.size() > 100) return "metric array over 100 values";
        for (const json::value& v : values) {
          if (!IsNumber(v)) return "metric array holds a non-number";
        }
      } else if (!IsNumber(*target)) {
        return "metric value not a number or array";
      }
    }
  }
  return "";
}

}  // namespace hasivu::metrics::testing
