#include "common/ip_address.h"

#include <gtest/gtest.h>

namespace hasivu {
namespace {

TEST(IpAddressTest, ParsesV4V6AndTreatsMappedV6AsV4) {
  auto v4 = ParseIpAddress("192.0.2.7");
  ASSERT_TRUE(v4.has_value());
  EXPECT_FALSE(v4->v6);
  EXPECT_EQ(FormatIpAddress(*v4), "192.0.2.7");
  auto mapped = ParseIpAddress("::ffff:192.0.2.7");
  ASSERT_TRUE(mapped.has_value());
  EXPECT_EQ(*mapped, *v4);
  auto v6 = ParseIpAddress("[2001:DB8::1]");
  ASSERT_TRUE(v6.has_value());
  EXPECT_TRUE(v6->v6);
  EXPECT_EQ(FormatIpAddress(*v6), "2001:db8::1");
  EXPECT_FALSE(ParseIpAddress("").has_value());
  EXPECT_FALSE(ParseIpAddress("example.org").has_value());
  EXPECT_FALSE(ParseIpAddress("192.0.2.7, 10.0.0.1").has_value());
  EXPECT_FALSE(ParseIpAddress(std::string(200, '1')).has_value());
  // A NUL would end inet_pton's C string early: the text is not an address.
  EXPECT_FALSE(ParseIpAddress(std::string_view("10.0.0.1\0junk", 13)).has_value());
}

TEST(IpAddressTest, ClientKeyGroupsV6ByItsSlash64) {
  EXPECT_EQ(ClientKeyOfAddress("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
  EXPECT_EQ(ClientKeyOfAddress("2001:db8:1:2:ffff:ffff:ffff:ffff"), "2001:db8:1:2::/64");
  EXPECT_NE(ClientKeyOfAddress("2001:db8:1:3::1"), ClientKeyOfAddress("2001:db8:1:2::1"));
  EXPECT_EQ(ClientKeyOfAddress("::ffff:10.1.2.3"), "10.1.2.3");
  EXPECT_EQ(ClientKeyOfAddress("10.1.2.3"), "10.1.2.3");
  EXPECT_EQ(ClientKeyOfAddress("not-an-ip"), "not-an-ip");
}

TEST(IpRangeTest, ParsesCidrsAndBareAddresses) {
  auto ranges = ParseIpRanges(" 10.0.0.0/8, 192.0.2.1 ,2001:db8::/32,::ffff:172.16.0.0/108");
  ASSERT_TRUE(ranges.ok()) << ranges.status().ToString();
  ASSERT_EQ(ranges->size(), 4u);
  auto in = [&](const char* a) { return InAnyRange(*ranges, *ParseIpAddress(a)); };
  EXPECT_TRUE(in("10.200.3.4"));
  EXPECT_TRUE(in("::ffff:10.0.0.1"));
  EXPECT_FALSE(in("11.0.0.1"));
  EXPECT_TRUE(in("192.0.2.1"));
  EXPECT_FALSE(in("192.0.2.2"));
  EXPECT_TRUE(in("2001:db8:ffff::1"));
  EXPECT_FALSE(in("2001:db9::1"));
  EXPECT_TRUE(in("172.31.255.255"));
  EXPECT_FALSE(in("172.32.0.0"));
  EXPECT_TRUE(ParseIpRanges("")->empty());
  EXPECT_FALSE(ParseIpRanges("10.0.0.0/33").ok());
  EXPECT_FALSE(ParseIpRanges("10.0.0.0/").ok());
  EXPECT_FALSE(ParseIpRanges("10.0.0.0/8,").ok());
  EXPECT_FALSE(ParseIpRanges("proxy.internal").ok());
  EXPECT_FALSE(ParseIpRanges("::/129").ok());
}

}  // namespace
}  // namespace hasivu
