#include "common/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace hasivu {
namespace {

TEST(IsValidUtf8Test, AcceptsRfc3629AndRefusesTheRest) {
  for (const char* good : {"", "plain ascii", "caf\xC3\xA9", "\xE0\xA4\xB9\xE0\xA4\xBF",
                           "\xF0\x9F\x8D\x9B curry", "\xEF\xBF\xBF", "\xF4\x8F\xBF\xBF"}) {
    EXPECT_TRUE(IsValidUtf8(good)) << good;
  }
  EXPECT_TRUE(IsValidUtf8(std::string("a\0b", 3)));
  for (const char* bad : {"\xFF", "\x80", "caf\xC3", "\xC0\xAF",  // overlong '/'
                          "\xE0\x80\xAF",                         // overlong
                          "\xED\xA0\x80",                         // a surrogate
                          "\xF4\x90\x80\x80",                     // above U+10FFFF
                          "\xF5\x80\x80\x80", "\xE2\x82", "ok\xF0\x9F\x8D"}) {
    EXPECT_FALSE(IsValidUtf8(bad)) << bad;
  }
}

TEST(ToValidUtf8Test, ReplacesEachMaximalSubpart) {
  EXPECT_EQ(ToValidUtf8("caf\xC3\xA9"), "caf\xC3\xA9");
  EXPECT_EQ(ToValidUtf8("a\xFF"
                        "b"),
            "a\xEF\xBF\xBD"
            "b");
  // E2 82 begins the euro sign but stops: one replacement for the two bytes.
  EXPECT_EQ(ToValidUtf8("\xE2\x82"
                        "x"),
            "\xEF\xBF\xBD"
            "x");
  // C0 can begin nothing: each byte of an overlong form is its own subpart.
  EXPECT_EQ(ToValidUtf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(ToValidUtf8("\xF0\x9F\x8D"), "\xEF\xBF\xBD");
  EXPECT_TRUE(IsValidUtf8(ToValidUtf8("\xED\xA0\x80\xF4\x90\x80\x80\x80\x80\xFE")));
}

TEST(Utf8PrefixTest, CutsOnCharacterBoundaries) {
  const std::string text =
      "ab\xC3\xA9"
      "\xE2\x82\xAC"
      "\xF0\x9F\x8D\x9B";  // a b é € 🍛
  EXPECT_EQ(Utf8Prefix(text, 100), text);
  EXPECT_EQ(Utf8Prefix(text, text.size()), text);
  EXPECT_EQ(Utf8Prefix(text, 2), "ab");
  EXPECT_EQ(Utf8Prefix(text, 3), "ab");  // inside é
  EXPECT_EQ(Utf8Prefix(text, 4), "ab\xC3\xA9");
  EXPECT_EQ(Utf8Prefix(text, 5), "ab\xC3\xA9");  // inside €
  EXPECT_EQ(Utf8Prefix(text, 6), "ab\xC3\xA9");
  for (size_t n = 7; n < 11; ++n) {
    EXPECT_EQ(Utf8Prefix(text, n), "ab\xC3\xA9\xE2\x82\xAC") << n;  // inside 🍛
  }
  EXPECT_EQ(Utf8Prefix(text, 0), "");
  for (size_t n = 0; n <= text.size(); ++n) EXPECT_TRUE(IsValidUtf8(Utf8Prefix(text, n))) << n;
}

// The User-Agent of issue 19: 254 ASCII bytes and then a 3-byte character across byte 255.
TEST(Utf8TruncatedTest, FitsAColumnWithValidText) {
  const std::string agent = std::string(254, 'A') + "\xE2\x82\xAC" + "tail";
  ASSERT_FALSE(IsValidUtf8(agent.substr(0, 255)));
  const std::string cut = Utf8Truncated(agent, 255);
  EXPECT_EQ(cut, std::string(254, 'A'));
  EXPECT_EQ(Utf8Truncated("x\xFFy", 255), "x\xEF\xBF\xBDy");
  EXPECT_LE(Utf8Truncated(std::string(300, '\xFF'), 255).size(), 255u);
  EXPECT_TRUE(IsValidUtf8(Utf8Truncated(std::string(300, '\xFF'), 255)));
}

}  // namespace
}  // namespace hasivu
