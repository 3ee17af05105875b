#include "http/peer_address.h"

#include "common/ip_address.h"

namespace hasivu::http {

std::optional<std::string> PeerAddressGroup(std::string_view address) {
  // The zone of a link-local address ("fe80::1%eth0") names an interface, not a host.
  const std::string_view bare = address.substr(0, address.find('%'));
  if (!ParseIpAddress(bare)) return std::nullopt;
  // The same grouping as the login and register throttles' (common/ip_address.h).
  return ClientKeyOfAddress(bare);
}

}  // namespace hasivu::http
