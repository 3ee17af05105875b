#include "cache/glob.h"

#include <gtest/gtest.h>

namespace hasivu::cache {
namespace {

TEST(GlobTest, MatchesLikeRedis) {
  EXPECT_TRUE(GlobMatch("*", ""));
  EXPECT_TRUE(GlobMatch("orders:*", "orders:1"));
  EXPECT_FALSE(GlobMatch("orders:*", "menus:1"));
  EXPECT_TRUE(GlobMatch("h?llo", "hello"));
  EXPECT_FALSE(GlobMatch("h?llo", "hllo"));
  EXPECT_TRUE(GlobMatch("h[ae]llo", "hallo"));
  EXPECT_FALSE(GlobMatch("h[ae]llo", "hillo"));
  EXPECT_TRUE(GlobMatch("h[^e]llo", "hallo"));
  EXPECT_FALSE(GlobMatch("h[^e]llo", "hello"));
  EXPECT_TRUE(GlobMatch("h[a-c]llo", "hbllo"));
  EXPECT_FALSE(GlobMatch("h[a-c]llo", "hdllo"));
  EXPECT_TRUE(GlobMatch("a\\*b", "a*b"));
  EXPECT_FALSE(GlobMatch("a\\*b", "axb"));
  EXPECT_TRUE(GlobMatch("exact", "exact"));
  EXPECT_FALSE(GlobMatch("exact", "exactly"));
  EXPECT_TRUE(GlobMatch("*:u:*:p*", "orders:u:7:p1"));
  EXPECT_TRUE(GlobMatch("a*b*c", "axxbyyc"));
  EXPECT_FALSE(GlobMatch("a*b*c", "axxbyy"));
}

TEST(GlobTest, PathologicalPatternIsFast) {
  std::string text(5000, 'a');
  EXPECT_FALSE(GlobMatch("a*a*a*a*a*a*a*a*a*b", text));
}

TEST(GlobTest, EscapedLiteralMatchesItselfOnly) {
  std::string lit = "pre*fix?[x]\\:";
  EXPECT_TRUE(GlobMatch(GlobEscape(lit) + "*", lit + "key"));
  EXPECT_FALSE(GlobMatch(GlobEscape(lit) + "*", "preXfix?[x]\\:key"));
}

}  // namespace
}  // namespace hasivu::cache
