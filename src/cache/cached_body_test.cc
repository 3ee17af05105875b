#include "cache/cached_body.h"

#include <gtest/gtest.h>

namespace hasivu::cache {
namespace {

TEST(CachedBodyTest, RoundTrips) {
  std::string body = "{\"a\":1}\n\nwith newlines\n";
  std::string v = EncodeCachedBody("W/\"abc\"", body);
  auto d = DecodeCachedBody(v);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->etag, "W/\"abc\"");
  EXPECT_EQ(d->body, body);
  auto empty = DecodeCachedBody(EncodeCachedBody("", ""));
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->etag, "");
  EXPECT_EQ(empty->body, "");
}

TEST(CachedBodyTest, RejectsForeignValues) {
  EXPECT_FALSE(DecodeCachedBody("").ok());
  EXPECT_FALSE(DecodeCachedBody("{\"a\":1}").ok());
  EXPECT_FALSE(DecodeCachedBody("1no-newline").ok());
}

TEST(CachedBodyTest, DerivedKeys) { EXPECT_EQ(DerivedKey("orders:u:7", "br"), "orders:u:7|br"); }

}  // namespace
}  // namespace hasivu::cache
