#include "http/peer_address.h"

#include <gtest/gtest.h>

namespace hasivu::http {
namespace {

TEST(PeerAddressGroupTest, Ipv4IsItsOwnGroup) {
  EXPECT_EQ(PeerAddressGroup("203.0.113.7"), "203.0.113.7");
  EXPECT_EQ(PeerAddressGroup("127.0.0.1"), "127.0.0.1");
  EXPECT_NE(PeerAddressGroup("203.0.113.7"), PeerAddressGroup("203.0.113.8"));
}

TEST(PeerAddressGroupTest, Ipv4MappedIpv6CountsAsTheIpv4Address) {
  EXPECT_EQ(PeerAddressGroup("::ffff:203.0.113.7"), "203.0.113.7");
  EXPECT_EQ(PeerAddressGroup("::FFFF:cb00:7107"), "203.0.113.7");
}

TEST(PeerAddressGroupTest, Ipv6IsGroupedByItsSlash64) {
  EXPECT_EQ(PeerAddressGroup("2001:db8:1:2:a:b:c:d"), "2001:db8:1:2::/64");
  EXPECT_EQ(PeerAddressGroup("2001:db8:1:2::1"), "2001:db8:1:2::/64");
  EXPECT_EQ(PeerAddressGroup("2001:DB8:1:2:ffff:ffff:ffff:ffff"), "2001:db8:1:2::/64");
  EXPECT_NE(PeerAddressGroup("2001:db8:1:2::1"), PeerAddressGroup("2001:db8:1:3::1"));
  EXPECT_EQ(PeerAddressGroup("::1"), "::/64");
  EXPECT_EQ(PeerAddressGroup("fe80::1%1"), "fe80::/64");
}

TEST(PeerAddressGroupTest, Ipv4AndIpv6GroupsNeverCollide) {
  // "::cb00:7107" is not mapped (no ffff): it is an IPv6 address in ::/64, not 203.0.113.7.
  EXPECT_EQ(PeerAddressGroup("::cb00:7107"), "::/64");
}

TEST(PeerAddressGroupTest, NotAnAddress) {
  EXPECT_EQ(PeerAddressGroup(""), std::nullopt);
  EXPECT_EQ(PeerAddressGroup("localhost"), std::nullopt);
  EXPECT_EQ(PeerAddressGroup("203.0.113"), std::nullopt);
  EXPECT_EQ(PeerAddressGroup("2001:db8::/64"), std::nullopt);
  EXPECT_EQ(PeerAddressGroup(std::string_view("10.0.0.1\0junk", 13)), std::nullopt);
}

}  // namespace
}  // namespace hasivu::http
