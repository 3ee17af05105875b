#include "http/peer_address.h"

#include <boost/asio/ip/address.hpp>

namespace hasivu::http {

std::optional<std::string> PeerAddressGroup(std::string_view address) {
  namespace ip = boost::asio::ip;
  // make_address reads a C string: an embedded NUL would cut the text short, not fail it.
  if (address.find('\0') != std::string_view::npos) return std::nullopt;
  boost::system::error_code ec;
  const ip::address parsed = ip::make_address(std::string(address), ec);
  if (ec) return std::nullopt;
  if (parsed.is_v4()) return parsed.to_v4().to_string();
  const ip::address_v6 v6 = parsed.to_v6();
  if (v6.is_v4_mapped()) return ip::make_address_v4(ip::v4_mapped, v6).to_string();
  ip::address_v6::bytes_type bytes = v6.to_bytes();
  for (size_t i = 8; i < bytes.size(); ++i) bytes[i] = 0;
  // Constructed without the scope id, so "fe80::1%eth0" and "fe80::1%eth1" share a group.
  return ip::address_v6(bytes).to_string() + "/64";
}

}  // namespace hasivu::http
