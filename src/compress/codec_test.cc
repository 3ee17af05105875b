#include "compress/codec.h"

#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace hasivu::compress {
namespace {

std::string JsonLike(size_t bytes) {
  std::string out = "{\"orders\":[";
  int i = 0;
  while (out.size() < bytes) {
    out += "{\"id\":\"ord_" + std::to_string(100000 + i) +
           "\",\"status\":\"confirmed\",\"totalAmount\":" + std::to_string(4500 + i % 7 * 250) +
           ",\"currency\":\"INR\"},";
    ++i;
  }
  out.back() = ']';
  out += '}';
  return out;
}

std::string RandomBytes(size_t bytes, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(bytes, '\0');
  for (char& c : out) c = static_cast<char>(rng() & 0xff);
  return out;
}

struct Body {
  const char* name;
  std::string bytes;
};

std::vector<Body> Bodies() {
  std::string with_nuls("a\0b\0\0c", 6);
  return {{"empty", ""},
          {"one byte", "x"},
          {"small", "{\"success\":true}"},
          {"nuls", with_nuls},
          {"json 2 KiB", JsonLike(2048)},
          {"json 1 MiB", JsonLike(1 << 20)},
          {"random 64 KiB", RandomBytes(65536, 7)},
          {"zeros 3 MiB", std::string(3 << 20, '\0')}};
}

class CodecTest : public ::testing::TestWithParam<Encoding> {
 protected:
  const Codec& codec() const { return *CodecFor(GetParam()); }
};

TEST_P(CodecTest, RoundTripsEveryBodyAtEveryLevelBound) {
  const Codec& c = codec();
  EXPECT_EQ(c.encoding(), GetParam());
  for (const Body& body : Bodies()) {
    for (int level : {c.min_level(), (c.min_level() + c.max_level()) / 2, c.max_level()}) {
      // The top levels are slow on megabytes; the middle level covers those bodies.
      if (body.bytes.size() > 100000 && level != (c.min_level() + c.max_level()) / 2) continue;
      StatusOr<std::string> encoded = Encode(GetParam(), body.bytes, level);
      ASSERT_TRUE(encoded.ok()) << body.name << " level " << level << ": "
                                << encoded.status().ToString();
      StatusOr<std::string> decoded = Decode(GetParam(), *encoded);
      ASSERT_TRUE(decoded.ok()) << body.name << " level " << level << ": "
                                << decoded.status().ToString();
      EXPECT_EQ(*decoded, body.bytes) << body.name << " level " << level;
    }
  }
}

TEST_P(CodecTest, CompressesJsonWell) {
  const std::string body = JsonLike(20000);
  StatusOr<std::string> encoded = Encode(GetParam(), body, (codec().min_level() + 6) / 2 + 1);
  ASSERT_TRUE(encoded.ok());
  EXPECT_LT(encoded->size(), body.size() / 4) << EncodingName(GetParam());
}

TEST_P(CodecTest, RejectsLevelsOutOfRange) {
  EXPECT_EQ(Encode(GetParam(), "abc", codec().min_level() - 1).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Encode(GetParam(), "abc", codec().max_level() + 1).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_P(CodecTest, CorruptTruncatedAndTrailingInputIsAnError) {
  const std::string body = JsonLike(5000);
  StatusOr<std::string> encoded = Encode(GetParam(), body, codec().min_level() + 1);
  ASSERT_TRUE(encoded.ok());
  const std::string truncated = encoded->substr(0, encoded->size() / 2);
  EXPECT_EQ(Decode(GetParam(), truncated).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Decode(GetParam(), *encoded + "garbage!").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_FALSE(Decode(GetParam(), "definitely not compressed data").ok());
  EXPECT_FALSE(Decode(GetParam(), std::string_view()).ok());
  // Flipping bytes in the middle never crashes; it fails or (rarely) decodes to other bytes.
  for (size_t i = 0; i < encoded->size(); i += 7) {
    std::string damaged = *encoded;
    damaged[i] = static_cast<char>(damaged[i] ^ 0x5a);
    StatusOr<std::string> r = Decode(GetParam(), damaged);
    if (r.ok()) {
      EXPECT_LE(r->size(), size_t{64} << 20);
    }
  }
}

TEST_P(CodecTest, DecodeIsBounded) {
  const std::string zeros(1 << 20, '\0');
  StatusOr<std::string> encoded = Encode(GetParam(), zeros, codec().min_level() + 1);
  ASSERT_TRUE(encoded.ok());
  EXPECT_LT(encoded->size(), size_t{8192});
  EXPECT_EQ(Decode(GetParam(), *encoded, 1000).status().code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(Decode(GetParam(), *encoded, zeros.size()).ok());
}

INSTANTIATE_TEST_SUITE_P(AllCodecs, CodecTest,
                         ::testing::Values(Encoding::kBrotli, Encoding::kZstd, Encoding::kGzip),
                         [](const auto& info) { return std::string(EncodingName(info.param)); });

TEST(CodecForTest, IdentityHasNoCodecAndEncodesToACopy) {
  EXPECT_EQ(CodecFor(Encoding::kIdentity), nullptr);
  EXPECT_EQ(*Encode(Encoding::kIdentity, "abc", 0), "abc");
  EXPECT_EQ(*Decode(Encoding::kIdentity, "abc"), "abc");
  EXPECT_EQ(Decode(Encoding::kIdentity, "abcd", 3).status().code(), StatusCode::kResourceExhausted);
}

TEST(CodecTest, GzipOutputIsAGzipMember) {
  StatusOr<std::string> encoded = Encode(Encoding::kGzip, JsonLike(3000), 6);
  ASSERT_TRUE(encoded.ok());
  ASSERT_GE(encoded->size(), 18u);
  EXPECT_EQ(static_cast<unsigned char>((*encoded)[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>((*encoded)[1]), 0x8b);
  // Two members back to back decode to both bodies (RFC 1952).
  StatusOr<std::string> twice = Decode(Encoding::kGzip, *encoded + *encoded);
  ASSERT_TRUE(twice.ok()) << twice.status().ToString();
  EXPECT_EQ(*twice, JsonLike(3000) + JsonLike(3000));
}

TEST(CodecTest, ZstdOutputIsAZstdFrame) {
  StatusOr<std::string> encoded = Encode(Encoding::kZstd, JsonLike(3000), 3);
  ASSERT_TRUE(encoded.ok());
  EXPECT_EQ(encoded->substr(0, 4), std::string("\x28\xb5\x2f\xfd", 4));
}

TEST(CodecTest, ConcurrentUseFromThreads) {
  const std::string body = JsonLike(30000);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        const Encoding e = kCodecs[(t + i) % 3];
        const int level = e == Encoding::kGzip   ? 1 + i % 9
                          : e == Encoding::kZstd ? 1 + i % 5
                                                 : i % 6;
        StatusOr<std::string> enc = Encode(e, body, level);
        StatusOr<std::string> dec = enc.ok() ? Decode(e, *enc) : enc;
        if (!dec.ok() || *dec != body) failures.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace hasivu::compress
