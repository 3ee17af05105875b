// IP address helpers for the client-address decisions (throttling, trusted reverse proxies):
// parsing textual IPv4/IPv6 addresses and CIDR ranges, and the coarse "who is this client" key
// an address is counted under.
//
// IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are treated as the IPv4 address everywhere, so a
// dual-stack listener does not give one client two identities.
//
// Thread-safety: plain values and pure functions.
#ifndef HASIVU_COMMON_IP_ADDRESS_H_
#define HASIVU_COMMON_IP_ADDRESS_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace hasivu {

struct IpAddress {
  bool v6 = false;                  // false: IPv4 in bytes[0..3]
  std::array<uint8_t, 16> bytes{};  // network order

  bool operator==(const IpAddress&) const = default;
};

// Parses dotted IPv4 or textual IPv6 (optionally in brackets, without a zone id). nullopt for
// anything else. IPv4-mapped IPv6 comes back as IPv4.
std::optional<IpAddress> ParseIpAddress(std::string_view text);

// Canonical text: "192.0.2.1", "2001:db8::1".
std::string FormatIpAddress(const IpAddress& ip);

// An address range "a.b.c.d/n" or "x::/n"; a bare address is the range of that one address.
struct IpRange {
  IpAddress base;  // with the bits past prefix_bits cleared
  int prefix_bits = 0;

  bool Contains(const IpAddress& ip) const;
};

// Errors: kInvalidArgument naming the bad entry.
StatusOr<IpRange> ParseIpRange(std::string_view text);
// A comma-separated list of ranges (spaces around entries allowed; empty text = no ranges).
StatusOr<std::vector<IpRange>> ParseIpRanges(std::string_view text);

bool InAnyRange(const std::vector<IpRange>& ranges, const IpAddress& ip);

// The key a client address is counted under: an IPv4 address as such, an IPv6 address by its
// /64 ("2001:db8:1:2::/64"), since one subscriber usually holds a whole /64. Text that is not
// an address comes back unchanged.
std::string ClientKeyOfAddress(std::string_view address);
// The same for an address already parsed.
std::string ClientKeyOf(const IpAddress& ip);

}  // namespace hasivu

#endif  // HASIVU_COMMON_IP_ADDRESS_H_
