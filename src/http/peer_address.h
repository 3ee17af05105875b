// Grouping of peer addresses for per-address limits (connection caps, throttles).
//
// One host may own many addresses: an IPv6 end site is normally given a whole /64 and picks
// addresses in it at will (privacy addresses), so counting per IPv6 address would let one client
// multiply its share. The group is therefore:
//   IPv4                 the address itself             "203.0.113.7"
//   IPv4-mapped IPv6     the IPv4 address it carries    "::ffff:203.0.113.7" -> "203.0.113.7"
//   other IPv6           its /64 prefix, "/64" appended "2001:db8:1:2:a:b:c:d" ->
//   "2001:db8:1:2::/64"
// A zone (scope id, "fe80::1%eth0") is ignored. Every address of a group gives the same string,
// and groups of different families never collide, so the result can key a map.
//
// Implemented by common/ip_address.h's ClientKeyOfAddress, which the throttles key on, so a
// connection cap and a throttle always agree on who a client is.
//
// Thread-safety: a pure function, safe concurrently.
#ifndef HASIVU_HTTP_PEER_ADDRESS_H_
#define HASIVU_HTTP_PEER_ADDRESS_H_

#include <optional>
#include <string>
#include <string_view>

#include "common/ip_address.h"

namespace hasivu::http {

// The peer address in `text` (as asio or Request::remote_address prints it), its zone id
// ("%eth0") dropped. nullopt when `text` is not an IP address.
std::optional<IpAddress> ParsePeerAddress(std::string_view text);

// The group of `address` (an IPv4 or IPv6 address in text form). nullopt when `address` is not
// an IP address. For an address already parsed, common's ClientKeyOf() gives the same.
std::optional<std::string> PeerAddressGroup(std::string_view address);

}  // namespace hasivu::http

#endif  // HASIVU_HTTP_PEER_ADDRESS_H_
