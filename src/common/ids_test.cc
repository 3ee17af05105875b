#include "common/ids.h"

#include <gtest/gtest.h>

#include <set>

namespace hasivu {
namespace {

class IdsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(InitCrypto().ok()); }
};

TEST_F(IdsTest, UuidV7HasVersionVariantAndTimeOrder) {
  using namespace std::chrono;
  const auto t0 = system_clock::time_point(milliseconds(1'700'000'000'000));
  const std::string a = NewUuidV7(t0);
  const std::string b = NewUuidV7(t0 + milliseconds(1));
  EXPECT_TRUE(IsUuid(a));
  EXPECT_EQ(a[14], '7');
  EXPECT_NE(std::string("89ab").find(a[19]), std::string::npos);
  EXPECT_LT(a, b);                        // later millisecond sorts later
  EXPECT_EQ(a.substr(0, 8), "018bcfe5");  // 1700000000000 = 0x018BCFE56800
}

TEST_F(IdsTest, UuidsAreUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) seen.insert(NewUuidV7());
  EXPECT_EQ(seen.size(), 10000u);
}

TEST_F(IdsTest, IsUuidRejectsMalformed) {
  EXPECT_TRUE(IsUuid("0190a3c4-5b6d-7e8f-9a0b-1c2d3e4f5a6b"));
  EXPECT_FALSE(IsUuid("0190a3c4-5b6d-7e8f-9a0b-1c2d3e4f5a6"));
  EXPECT_FALSE(IsUuid("0190a3c4x5b6d-7e8f-9a0b-1c2d3e4f5a6b"));
  EXPECT_FALSE(IsUuid("0190a3c4-5b6d-7e8f-9a0b-1c2d3e4f5a6g"));
  EXPECT_FALSE(IsUuid("' OR 1=1 --"));
}

TEST_F(IdsTest, RandomStringUsesAlphabetOnly) {
  const std::string s = RandomString(1000, "AB");
  EXPECT_EQ(s.size(), 1000u);
  EXPECT_EQ(s.find_first_not_of("AB"), std::string::npos);
  EXPECT_NE(s.find('A'), std::string::npos);
  EXPECT_NE(s.find('B'), std::string::npos);
  EXPECT_EQ(RandomHex(16).size(), 32u);
  EXPECT_NE(RandomHex(16), RandomHex(16));
}

}  // namespace
}  // namespace hasivu
