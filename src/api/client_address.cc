#include "api/client_address.h"

#include <optional>
#include <string_view>

namespace hasivu::api {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string ClientAddress(const http::Request& request,
                          const std::vector<IpRange>& trusted_proxies) {
  if (trusted_proxies.empty()) return request.remote_address;
  std::optional<IpAddress> peer = ParseIpAddress(request.remote_address);
  if (!peer || !InAnyRange(trusted_proxies, *peer)) return request.remote_address;
  // Several X-Forwarded-For headers form one list, in order (RFC 9110 field combination).
  std::vector<std::string_view> hops;
  for (const auto& [name, value] : request.headers.items()) {
    if (!http::EqualsIgnoreCase(name, "X-Forwarded-For")) continue;
    std::string_view list = value;
    while (true) {
      const size_t comma = list.find(',');
      hops.push_back(Trim(list.substr(0, comma)));
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
  }
  IpAddress client = *peer;
  for (auto hop = hops.rbegin(); hop != hops.rend(); ++hop) {
    std::optional<IpAddress> ip = ParseIpAddress(*hop);
    if (!ip) break;
    client = *ip;
    if (!InAnyRange(trusted_proxies, *ip)) break;
  }
  return FormatIpAddress(client);
}

}  // namespace hasivu::api
