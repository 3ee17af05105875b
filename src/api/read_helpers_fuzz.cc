// libFuzzer harness: the query-parameter and header parsers the read endpoints run before any
// domain call (api/read_helpers.h, api/auth.h's BearerToken, api/client_address.h) and the
// parameter values they hand on (dates, instants, UUIDs, orders-list sorts and cursors, IP
// addresses). Input: newline-separated parts, each fed to the parsers it fits.
//
// Invariants, beyond "no crash, no sanitizer report":
//   - FormDecode yields valid UTF-8 without NUL, never longer than its input, and inverts a
//     percent-encoding of any such text;
//   - ParseQuery keeps only allowed names, each once when repeats are refused, with the value
//     QueryValue finds (in a query without issues); a query it accepts re-encodes to one it reads
//     the same; every part it drops is named in an issue;
//   - SelectMembers / ApplyFieldSelection keep exactly the named members, in the parameter's
//     order, each once, and leave the object unchanged on an error;
//   - If-None-Match: the tag itself, its weak form and "*" answer 304 with the tag;
//   - dates and instants round-trip through their canonical text; IsUuid accepts only 8-4-4-4-12
//     hex; a cursor DecodeCursor accepts re-encodes to the same position and is refused under
//     the other sort orders; ParseOrderSort knows exactly the four documented names;
//   - BearerToken returns a non-empty token without blanks that is the header after "Bearer ";
//   - ClientAddress is the peer unless the peer is a trusted proxy, and otherwise a valid
//     address of X-Forwarded-For; a parsed IP address round-trips through its canonical text.
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "api/auth.h"
#include "api/client_address.h"
#include "api/read_helpers.h"
#include "common/ids.h"
#include "common/ip_address.h"
#include "common/testing/fuzz_check.h"
#include "common/time_util.h"
#include "common/utf8.h"
#include "domain/order_service.h"
#include "http/message.h"

namespace {

using hasivu::StatusOr;
namespace api = hasivu::api;

std::string FormEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> SplitOn(std::string_view in, char sep) {
  std::vector<std::string_view> out;
  while (true) {
    const size_t at = in.find(sep);
    out.push_back(in.substr(0, at));
    if (at == std::string_view::npos) break;
    in.remove_prefix(at + 1);
  }
  return out;
}

void CheckFormDecode(std::string_view s) {
  const std::optional<std::string> decoded = api::FormDecode(s);
  if (decoded) {
    FUZZ_CHECK(hasivu::IsValidUtf8(*decoded));
    FUZZ_CHECK(decoded->find('\0') == std::string::npos);
    FUZZ_CHECK(decoded->size() <= s.size());
  }
  if (hasivu::IsValidUtf8(s) && s.find('\0') == std::string_view::npos) {
    const std::optional<std::string> back = api::FormDecode(FormEncode(s));
    FUZZ_CHECK(back && *back == s);
  }
}

void CheckQuery(std::string_view query) {
  static const std::set<std::string_view> kAllowed = {
      "status", "paymentStatus", "studentId", "schoolId",     "dateFrom", "dateTo",
      "sort",   "limit",         "cursor",    "includeTotal", "fields"};
  const api::QueryParams refused = api::ParseQuery(query, kAllowed);
  size_t parts = 0;
  for (std::string_view part : SplitOn(query, '&')) parts += part.empty() ? 0 : 1;
  FUZZ_CHECK(refused.items.size() + refused.issues.size() == parts);
  std::set<std::string> seen;
  for (const auto& [name, value] : refused.items) {
    FUZZ_CHECK(kAllowed.count(name) == 1);
    FUZZ_CHECK(seen.insert(name).second);
    // QueryValue reads the first part of that name, which a query with issues may have spoilt.
    if (refused.issues.empty()) {
      const std::optional<std::string> found = api::QueryValue(query, name);
      FUZZ_CHECK(found && *found == value);
    }
    FUZZ_CHECK(refused.Find(name) != nullptr && *refused.Find(name) == value);
  }
  for (const hasivu::FieldIssue& issue : refused.issues) {
    FUZZ_CHECK(!issue.field.empty() && !issue.issue.empty());
    FUZZ_CHECK(hasivu::IsValidUtf8(issue.field));
  }
  if (refused.issues.empty()) {
    std::string again;
    for (const auto& [name, value] : refused.items) {
      if (!again.empty()) again += '&';
      again += FormEncode(name) + "=" + FormEncode(value);
    }
    const api::QueryParams reread = api::ParseQuery(again, kAllowed);
    FUZZ_CHECK(reread.issues.empty() && reread.items == refused.items);
  }
  const api::QueryParams last = api::ParseQuery(query, kAllowed, api::RepeatedParameter::kLastWins);
  std::set<std::string> names;
  for (const auto& [name, value] : last.items) FUZZ_CHECK(names.insert(name).second);
  FUZZ_CHECK(last.items.size() <= refused.items.size() + refused.issues.size());
}

void CheckFields(std::string_view names_text, std::string_view fields) {
  std::vector<std::string_view> names;
  for (std::string_view n : SplitOn(names_text, ',')) {
    if (!n.empty() && std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
  }
  StatusOr<std::vector<size_t>> kept = api::SelectMembers(names, fields);
  boost::json::object object;
  for (std::string_view n : names) object[n] = std::string(n) + "-value";
  const std::string before = boost::json::serialize(object);
  hasivu::Status applied = api::ApplyFieldSelection(object, fields);
  FUZZ_CHECK(applied.ok() == kept.ok());
  if (!kept.ok()) {
    FUZZ_CHECK(boost::json::serialize(object) == before);
    return;
  }
  std::set<size_t> once;
  for (size_t i : *kept) {
    FUZZ_CHECK(i < names.size() && once.insert(i).second);
  }
  if (Trim(fields).empty()) {
    FUZZ_CHECK(kept->size() == names.size());
    return;
  }
  // In the parameter's order: each kept name at its first mention.
  std::vector<std::string_view> mentioned;
  for (std::string_view n : SplitOn(fields, ',')) {
    n = Trim(n);
    if (std::find(mentioned.begin(), mentioned.end(), n) == mentioned.end()) mentioned.push_back(n);
  }
  FUZZ_CHECK(kept->size() == mentioned.size());
  for (size_t k = 0; k < kept->size(); ++k) FUZZ_CHECK(names[(*kept)[k]] == mentioned[k]);
  FUZZ_CHECK(object.size() == kept->size());
  for (size_t i : *kept) FUZZ_CHECK(object.contains(names[i]));
}

void CheckIfNoneMatch(std::string_view header, std::string_view data) {
  const std::string etag = api::StrongETag(data);
  auto not_modified = [&](std::string value) {
    hasivu::http::Request request;
    request.headers.Add("If-None-Match", std::move(value));
    return api::NotModified(request, etag);
  };
  for (const std::string& value :
       {etag, "W/" + etag, std::string("*"), std::string(header) + ", " + etag}) {
    const std::optional<hasivu::http::Response> r = not_modified(value);
    FUZZ_CHECK(r && r->status == 304 && r->body.empty() && r->headers.Get("ETag") == etag);
  }
  (void)not_modified(std::string(header));
}

void CheckValues(std::string_view s) {
  if (StatusOr<hasivu::Date> d = hasivu::ParseDate(s); d.ok()) {
    FUZZ_CHECK(hasivu::FormatDate(*d) == s);
    const unsigned weekday = hasivu::IsoWeekday(*d);
    FUZZ_CHECK(weekday >= 1 && weekday <= 7);
  }
  if (StatusOr<hasivu::TimePoint> t = hasivu::ParseRfc3339(s); t.ok()) {
    StatusOr<hasivu::TimePoint> again = hasivu::ParseRfc3339(hasivu::FormatRfc3339(*t));
    FUZZ_CHECK(again.ok() && *again == *t);
  }
  if (hasivu::IsUuid(s)) {
    FUZZ_CHECK(s.size() == 36);
    for (size_t i = 0; i < s.size(); ++i) {
      const char c = s[i];
      if (i == 8 || i == 13 || i == 18 || i == 23) {
        FUZZ_CHECK(c == '-');
      } else {
        FUZZ_CHECK((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'));
      }
    }
  }
  using hasivu::domain::OrderSort;
  const OrderSort sorts[] = {OrderSort::kCreatedDesc, OrderSort::kCreatedAsc,
                             OrderSort::kDeliveryDesc, OrderSort::kDeliveryAsc};
  if (StatusOr<OrderSort> sort = hasivu::domain::ParseOrderSort(s); sort.ok()) {
    FUZZ_CHECK(s == "createdAt" || s == "-createdAt" || s == "deliveryDate" ||
               s == "-deliveryDate");
  }
  for (OrderSort sort : sorts) {
    StatusOr<hasivu::domain::CursorPosition> pos = hasivu::domain::DecodeCursor(s, sort);
    if (!pos.ok()) continue;
    FUZZ_CHECK(hasivu::IsUuid(pos->id));
    const std::string encoded = hasivu::domain::EncodeCursor(sort, pos->key, pos->id);
    StatusOr<hasivu::domain::CursorPosition> again = hasivu::domain::DecodeCursor(encoded, sort);
    FUZZ_CHECK(again.ok() && again->key == pos->key && again->id == pos->id);
    for (OrderSort other : sorts) {
      if (other != sort) FUZZ_CHECK(!hasivu::domain::DecodeCursor(encoded, other).ok());
    }
  }
  if (std::optional<hasivu::IpAddress> ip = hasivu::ParseIpAddress(s)) {
    const std::optional<hasivu::IpAddress> again =
        hasivu::ParseIpAddress(hasivu::FormatIpAddress(*ip));
    FUZZ_CHECK(again && *again == *ip);
  }
}

void CheckBearer(std::string_view header) {
  hasivu::http::Request request;
  request.headers.Add("Authorization", std::string(header));
  const std::optional<std::string_view> token = api::BearerToken(request);
  if (!token) return;
  FUZZ_CHECK(!token->empty());
  FUZZ_CHECK(token->find(' ') == std::string_view::npos);
  FUZZ_CHECK(token->find('\t') == std::string_view::npos);
  FUZZ_CHECK(header.size() == 7 + token->size() && header.substr(7) == *token);
  FUZZ_CHECK(hasivu::http::EqualsIgnoreCase(header.substr(0, 7), "bearer "));
}

void CheckClientAddress(std::string_view peer, std::string_view forwarded) {
  static const std::vector<hasivu::IpRange> kTrusted = [] {
    StatusOr<std::vector<hasivu::IpRange>> r = hasivu::ParseIpRanges("10.0.0.0/8, fd00::/8");
    FUZZ_CHECK(r.ok());
    return *r;
  }();
  hasivu::http::Request request;
  request.remote_address = std::string(peer);
  request.headers.Add("X-Forwarded-For", std::string(forwarded));
  const std::string client = api::ClientAddress(request, kTrusted);
  const std::optional<hasivu::IpAddress> peer_ip = hasivu::ParseIpAddress(peer);
  if (!peer_ip || !hasivu::InAnyRange(kTrusted, *peer_ip)) {
    FUZZ_CHECK(client == peer);
    return;
  }
  if (client == peer) return;
  FUZZ_CHECK(hasivu::ParseIpAddress(client).has_value());
  FUZZ_CHECK(forwarded.find(client) != std::string_view::npos ||
             hasivu::FormatIpAddress(*hasivu::ParseIpAddress(client)) == client);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> parts = SplitOn(input, '\n');
  while (parts.size() < 4) parts.push_back({});
  for (std::string_view p : parts) {
    CheckFormDecode(p);
    CheckValues(p);
    CheckBearer(p);
  }
  CheckQuery(parts[0]);
  CheckFields(parts[1], parts[2]);
  CheckIfNoneMatch(parts[2], parts[3]);
  CheckClientAddress(parts[1], parts[3]);
  return 0;
}
