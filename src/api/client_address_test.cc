#include "api/client_address.h"

#include <gtest/gtest.h>

namespace hasivu::api {
namespace {

http::Request From(std::string peer, std::vector<std::string> forwarded_for) {
  http::Request r;
  r.remote_address = std::move(peer);
  for (std::string& v : forwarded_for) r.headers.Add("X-Forwarded-For", std::move(v));
  return r;
}

std::vector<IpRange> Trusted(const char* list) { return ParseIpRanges(list).value(); }

TEST(ClientAddressTest, WithoutTrustedProxiesTheHeaderIsIgnored) {
  EXPECT_EQ(ClientAddress(From("10.0.0.5", {"203.0.113.9"}), {}), "10.0.0.5");
}

TEST(ClientAddressTest, AnUntrustedPeerIsTheClientWhateverItForwards) {
  EXPECT_EQ(ClientAddress(From("198.51.100.1", {"203.0.113.9"}), Trusted("10.0.0.0/8")),
            "198.51.100.1");
}

TEST(ClientAddressTest, TheRightMostUntrustedHopIsTheClient) {
  const auto trusted = Trusted("10.0.0.0/8, 2001:db8:ffff::/48");
  // The client wrote "1.2.3.4" itself; the proxy appended what it saw.
  EXPECT_EQ(ClientAddress(From("10.0.0.2", {"1.2.3.4, 203.0.113.9"}), trusted), "203.0.113.9");
  // Two proxies in a row, over two header lines.
  EXPECT_EQ(ClientAddress(From("10.0.0.2", {"1.2.3.4, 203.0.113.9", "10.9.9.9"}), trusted),
            "203.0.113.9");
  EXPECT_EQ(ClientAddress(From("::ffff:10.0.0.2", {"2001:db8:1::7"}), trusted), "2001:db8:1::7");
  EXPECT_EQ(ClientAddress(From("2001:db8:ffff::1", {"::ffff:203.0.113.9"}), trusted),
            "203.0.113.9");
}

TEST(ClientAddressTest, AllTrustedGarbageOrNoHeaderFallBackToAProxy) {
  const auto trusted = Trusted("10.0.0.0/8");
  EXPECT_EQ(ClientAddress(From("10.0.0.2", {}), trusted), "10.0.0.2");
  EXPECT_EQ(ClientAddress(From("10.0.0.2", {"10.1.1.1, 10.2.2.2"}), trusted), "10.1.1.1");
  EXPECT_EQ(ClientAddress(From("10.0.0.2", {"203.0.113.9, not-an-ip, 10.3.3.3"}), trusted),
            "10.3.3.3");
  EXPECT_EQ(ClientAddress(From("10.0.0.2", {""}), trusted), "10.0.0.2");
}

}  // namespace
}  // namespace hasivu::api
