#include "http/peer_address.h"

namespace hasivu::http {

std::optional<IpAddress> ParsePeerAddress(std::string_view text) {
  // The zone of a link-local address ("fe80::1%eth0") names an interface, not a host.
  return ParseIpAddress(text.substr(0, text.find('%')));
}

std::optional<std::string> PeerAddressGroup(std::string_view address) {
  const std::optional<IpAddress> ip = ParsePeerAddress(address);
  if (!ip) return std::nullopt;
  // The same grouping as the login and register throttles' (common/ip_address.h).
  return ClientKeyOf(*ip);
}

}  // namespace hasivu::http
