#include "common/ip_address.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace hasivu {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IsV4Mapped(const uint8_t* b) {
  for (int i = 0; i < 10; ++i) {
    if (b[i] != 0) return false;
  }
  return b[10] == 0xff && b[11] == 0xff;
}

}  // namespace

std::optional<IpAddress> ParseIpAddress(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  // inet_pton wants a C string; longer text cannot be an address anyway, and a NUL inside would
  // cut it short ("10.0.0.1\0junk" read as 10.0.0.1).
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN ||
      text.find('\0') != std::string_view::npos) {
    return std::nullopt;
  }
  char buf[INET6_ADDRSTRLEN] = {};
  text.copy(buf, text.size());
  IpAddress ip;
  if (inet_pton(AF_INET, buf, ip.bytes.data()) == 1) return ip;
  uint8_t v6[16];
  if (inet_pton(AF_INET6, buf, v6) != 1) return std::nullopt;
  if (IsV4Mapped(v6)) {
    std::memcpy(ip.bytes.data(), v6 + 12, 4);
    return ip;
  }
  ip.v6 = true;
  std::memcpy(ip.bytes.data(), v6, 16);
  return ip;
}

std::string FormatIpAddress(const IpAddress& ip) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(ip.v6 ? AF_INET6 : AF_INET, ip.bytes.data(), buf, sizeof buf);
  return buf;
}

bool IpRange::Contains(const IpAddress& ip) const {
  if (ip.v6 != base.v6) return false;
  int bits = prefix_bits;
  for (size_t i = 0; bits > 0; ++i, bits -= 8) {
    const uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
    if ((ip.bytes[i] & mask) != base.bytes[i]) return false;
  }
  return true;
}

StatusOr<IpRange> ParseIpRange(std::string_view text) {
  text = Trim(text);
  const auto bad = [&] {
    return InvalidArgumentError("'" + std::string(text) + "' is not an IP address or CIDR range");
  };
  std::string_view address = text;
  std::optional<int> prefix;
  if (size_t slash = text.find('/'); slash != std::string_view::npos) {
    address = text.substr(0, slash);
    std::string_view digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3) return bad();
    int n = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return bad();
      n = n * 10 + (c - '0');
    }
    prefix = n;
  }
  std::optional<IpAddress> ip = ParseIpAddress(address);
  if (!ip) return bad();
  const int max_bits = ip->v6 ? 128 : 32;
  // A mapped IPv4 address was written in IPv6 terms: its prefix counts the 96 mapping bits.
  const bool written_as_v6 = address.find(':') != std::string_view::npos;
  int bits = prefix.value_or(max_bits);
  if (!ip->v6 && written_as_v6 && prefix) {
    if (bits < 96) return bad();
    bits -= 96;
  }
  if (bits < 0 || bits > max_bits) return bad();
  IpRange range{*ip, bits};
  for (int i = 0; i < 16; ++i) {
    const int keep = std::max(0, std::min(8, bits - 8 * i));
    range.base.bytes[i] &= keep == 0 ? 0 : static_cast<uint8_t>(0xff << (8 - keep));
  }
  return range;
}

StatusOr<std::vector<IpRange>> ParseIpRanges(std::string_view text) {
  std::vector<IpRange> out;
  if (Trim(text).empty()) return out;
  while (true) {
    const size_t comma = text.find(',');
    ASSIGN_OR_RETURN(IpRange range, ParseIpRange(text.substr(0, comma)));
    out.push_back(range);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

bool InAnyRange(const std::vector<IpRange>& ranges, const IpAddress& ip) {
  for (const IpRange& r : ranges) {
    if (r.Contains(ip)) return true;
  }
  return false;
}

std::string ClientKeyOf(const IpAddress& ip) {
  if (!ip.v6) return FormatIpAddress(ip);
  IpAddress net = ip;
  std::fill(net.bytes.begin() + 8, net.bytes.end(), 0);
  return FormatIpAddress(net) + "/64";
}

std::string ClientKeyOfAddress(std::string_view address) {
  std::optional<IpAddress> ip = ParseIpAddress(address);
  return ip ? ClientKeyOf(*ip) : std::string(address);
}

}  // namespace hasivu
