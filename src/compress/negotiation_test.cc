#include "compress/negotiation.h"

#include <gtest/gtest.h>

#include <string>

namespace hasivu::compress {
namespace {

constexpr EncodingSet kAll = EncodingSet::All();
constexpr EncodingSet kGzipOnly = EncodingSet().With(Encoding::kGzip);
constexpr EncodingSet kNoBrotli = EncodingSet().With(Encoding::kZstd).With(Encoding::kGzip);

struct Case {
  const char* who;
  const char* header;
  Encoding all;        // with br, zstd and gzip offered
  Encoding gzip_only;  // with only gzip offered
};

// Headers as real clients send them (recent versions), plus the edge cases of RFC 9110 12.5.3.
const Case kCases[] = {
    {"Chrome 124", "gzip, deflate, br, zstd", Encoding::kBrotli, Encoding::kGzip},
    {"Chrome 110", "gzip, deflate, br", Encoding::kBrotli, Encoding::kGzip},
    {"Firefox 126", "gzip, deflate, br, zstd", Encoding::kBrotli, Encoding::kGzip},
    {"Safari 17", "gzip, deflate, br", Encoding::kBrotli, Encoding::kGzip},
    {"Edge", "gzip, deflate, br, zstd", Encoding::kBrotli, Encoding::kGzip},
    {"curl --compressed", "deflate, gzip, br, zstd", Encoding::kBrotli, Encoding::kGzip},
    {"curl --compressed (no zstd)", "deflate, gzip, br", Encoding::kBrotli, Encoding::kGzip},
    {"Python requests", "gzip, deflate", Encoding::kGzip, Encoding::kGzip},
    {"Python requests + brotli", "gzip, deflate, br", Encoding::kBrotli, Encoding::kGzip},
    {"Go net/http", "gzip", Encoding::kGzip, Encoding::kGzip},
    {"okhttp", "gzip", Encoding::kGzip, Encoding::kGzip},
    {"wget", "identity", Encoding::kIdentity, Encoding::kIdentity},
    {"zstd only", "zstd", Encoding::kZstd, Encoding::kIdentity},
    {"star", "*", Encoding::kBrotli, Encoding::kGzip},
    {"star with q", "*;q=0.5", Encoding::kBrotli, Encoding::kGzip},
    {"identity excluded", "identity;q=0", Encoding::kIdentity, Encoding::kIdentity},
    {"everything excluded", "*;q=0", Encoding::kIdentity, Encoding::kIdentity},
    {"star but br excluded", "br;q=0, *", Encoding::kZstd, Encoding::kGzip},
    {"q orders codecs", "br;q=0.5, gzip;q=0.9", Encoding::kGzip, Encoding::kGzip},
    {"q orders codecs 2", "gzip;q=0.2, zstd;q=0.8, br;q=0.4", Encoding::kZstd, Encoding::kGzip},
    {"equal q: br first", "gzip;q=0.7, br;q=0.7, zstd;q=0.7", Encoding::kBrotli, Encoding::kGzip},
    {"identity preferred", "gzip;q=0.5, identity", Encoding::kIdentity, Encoding::kIdentity},
    {"identity equal to gzip", "gzip, identity", Encoding::kGzip, Encoding::kGzip},
    {"upper case", "GZIP, BR", Encoding::kBrotli, Encoding::kGzip},
    {"upper case Q", "br;Q=0, gzip", Encoding::kGzip, Encoding::kGzip},
    {"spaces and tabs", " \tbr \t; \tq=1.000 ,\tgzip ", Encoding::kBrotli, Encoding::kGzip},
    {"x-gzip", "x-gzip", Encoding::kGzip, Encoding::kGzip},
    {"q=0 on the only codec", "gzip;q=0", Encoding::kIdentity, Encoding::kIdentity},
    {"q=0.000", "br;q=0.000, gzip;q=0.001", Encoding::kGzip, Encoding::kGzip},
    {"first occurrence wins", "br;q=0, br", Encoding::kIdentity, Encoding::kIdentity},
    {"bad q skipped", "br;q=2, gzip", Encoding::kGzip, Encoding::kGzip},
    {"bad q skipped 2", "br;q=abc, gzip;q=0.5", Encoding::kGzip, Encoding::kGzip},
    {"too many decimals", "br;q=0.1234, gzip;q=0.1", Encoding::kGzip, Encoding::kGzip},
    {"other parameters ignored", "br;level=9, gzip", Encoding::kBrotli, Encoding::kGzip},
    {"empty members", ",,, ,gzip,,", Encoding::kGzip, Encoding::kGzip},
    {"unknown codings only", "compress, deflate, sdch", Encoding::kIdentity, Encoding::kIdentity},
    {"empty", "", Encoding::kIdentity, Encoding::kIdentity},
    {"garbage", "\x01\x02;;==,,q", Encoding::kIdentity, Encoding::kIdentity},
    {"garbage 2", "br gzip", Encoding::kIdentity, Encoding::kIdentity},
    {"garbage 3", "\"br\", gz ip, br;q", Encoding::kIdentity, Encoding::kIdentity},
    {"garbage then valid", "@@@, zstd", Encoding::kZstd, Encoding::kIdentity},
    {"substring is not a match", "brotli, gzipped", Encoding::kIdentity, Encoding::kIdentity},
};

TEST(NegotiateTest, RealClientsAndEdgeCases) {
  for (const Case& c : kCases) {
    EXPECT_EQ(Negotiate(c.header, kAll), c.all) << c.who << ": " << c.header;
    EXPECT_EQ(Negotiate(c.header, kGzipOnly), c.gzip_only) << c.who << ": " << c.header;
  }
}

TEST(NegotiateTest, OnlyOfferedCodecsAreChosen) {
  EXPECT_EQ(Negotiate("gzip, deflate, br, zstd", kNoBrotli), Encoding::kZstd);
  EXPECT_EQ(Negotiate("br", kNoBrotli), Encoding::kIdentity);
  EXPECT_EQ(Negotiate("*", EncodingSet()), Encoding::kIdentity);
}

TEST(ParseAcceptEncodingTest, MembersWithWeights) {
  const auto members = ParseAcceptEncoding("br;q=0.8, gzip , *;q=0, bad;q=9, zstd;q=.5, id;q=1.0");
  ASSERT_EQ(members.size(), 4u);
  EXPECT_EQ(members[0], (CodingWeight{"br", 800}));
  EXPECT_EQ(members[1], (CodingWeight{"gzip", 1000}));
  EXPECT_EQ(members[2], (CodingWeight{"*", 0}));
  EXPECT_EQ(members[3], (CodingWeight{"id", 1000}));
  EXPECT_TRUE(ParseAcceptEncoding("").empty());
  EXPECT_TRUE(ParseAcceptEncoding(";q=1").empty());
}

TEST(EncodingNameTest, RoundTripsAndAliases) {
  for (Encoding e : {Encoding::kIdentity, Encoding::kBrotli, Encoding::kZstd, Encoding::kGzip}) {
    EXPECT_EQ(EncodingFromName(EncodingName(e)), e);
  }
  EXPECT_EQ(EncodingFromName("X-GZIP"), Encoding::kGzip);
  EXPECT_EQ(EncodingFromName("deflate"), std::nullopt);
  EXPECT_EQ(EncodingFromName(""), std::nullopt);
}

TEST(ParseEncodingListTest, ConfigLists) {
  std::string bad;
  EXPECT_EQ(ParseEncodingList("br,zstd,gzip", &bad), EncodingSet::All());
  EXPECT_EQ(ParseEncodingList(" gzip ", &bad), kGzipOnly);
  EXPECT_EQ(ParseEncodingList("deflate,gzip", &bad), std::nullopt);
  EXPECT_EQ(bad, "deflate");
  EXPECT_EQ(ParseEncodingList("identity", &bad), std::nullopt);
  EXPECT_EQ(ParseEncodingList("", &bad), std::nullopt);
  EXPECT_EQ(ParseEncodingList("br,", &bad), std::nullopt);
}

TEST(ETagTest, TagForEncoding) {
  EXPECT_EQ(TagForEncoding("\"abc\"", Encoding::kBrotli), "\"abc-br\"");
  EXPECT_EQ(TagForEncoding("\"abc\"", Encoding::kZstd), "\"abc-zstd\"");
  EXPECT_EQ(TagForEncoding("W/\"abc\"", Encoding::kGzip), "W/\"abc-gzip\"");
  EXPECT_EQ(TagForEncoding("\"abc\"", Encoding::kIdentity), "\"abc\"");
  EXPECT_EQ(TagForEncoding("abc", Encoding::kBrotli), "abc");
  EXPECT_EQ(TagForEncoding("\"", Encoding::kBrotli), "\"");
  EXPECT_EQ(TagForEncoding("", Encoding::kBrotli), "");
}

TEST(ETagTest, IfNoneMatchForHandlerAddsStrippedTags) {
  EXPECT_EQ(IfNoneMatchForHandler("\"abc-br\"", Encoding::kBrotli), "\"abc-br\", \"abc\"");
  EXPECT_EQ(IfNoneMatchForHandler("W/\"abc-br\", \"x\"", Encoding::kBrotli),
            "W/\"abc-br\", \"x\", W/\"abc\"");
  EXPECT_EQ(IfNoneMatchForHandler("\"a-gzip\", \"b-gzip\"", Encoding::kGzip),
            "\"a-gzip\", \"b-gzip\", \"a\", \"b\"");
  // Only the negotiated encoding's suffix is stripped: a br tag says nothing about gzip bytes.
  EXPECT_EQ(IfNoneMatchForHandler("\"abc-br\"", Encoding::kGzip), std::nullopt);
  EXPECT_EQ(IfNoneMatchForHandler("\"abc\"", Encoding::kBrotli), std::nullopt);
  EXPECT_EQ(IfNoneMatchForHandler("\"abc-br\"", Encoding::kIdentity), std::nullopt);
  EXPECT_EQ(IfNoneMatchForHandler("*", Encoding::kBrotli), std::nullopt);
  EXPECT_EQ(IfNoneMatchForHandler("\"-br\"", Encoding::kBrotli), std::nullopt);
  // A comma inside the quotes belongs to the tag.
  EXPECT_EQ(IfNoneMatchForHandler("\"a,b-br\"", Encoding::kBrotli), "\"a,b-br\", \"a,b\"");
  EXPECT_EQ(IfNoneMatchForHandler("garbage, \"x-br", Encoding::kBrotli), std::nullopt);
}

TEST(ETagTest, IfNoneMatchLists) {
  EXPECT_TRUE(IfNoneMatchLists("\"a\", \"b-br\"", "\"b-br\""));
  EXPECT_TRUE(IfNoneMatchLists("W/\"b-br\"", "\"b-br\""));
  EXPECT_TRUE(IfNoneMatchLists("\"b-br\"", "W/\"b-br\""));
  EXPECT_FALSE(IfNoneMatchLists("\"a\", \"b\"", "\"b-br\""));
  EXPECT_FALSE(IfNoneMatchLists("*", "\"b\""));
  EXPECT_FALSE(IfNoneMatchLists("\"b\"", "b"));
}

}  // namespace
}  // namespace hasivu::compress
