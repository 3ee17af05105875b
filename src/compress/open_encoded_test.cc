#include "compress/open_encoded.h"

#include <brotli/decode.h>
#include <gtest/gtest.h>
#include <zlib.h>
#include <zstd.h>

#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "compress/codec.h"

namespace hasivu::compress {
namespace {

std::string JsonLike(size_t bytes) {
  std::string out = "{\"success\":true,\"data\":[";
  int i = 0;
  while (out.size() < bytes) {
    out += "{\"id\":\"ord_" + std::to_string(100000 + i) +
           "\",\"status\":\"confirmed\",\"totalAmount\":" + std::to_string(4500 + i % 7 * 250) +
           "},";
    ++i;
  }
  out.back() = ']';
  out.resize(bytes);
  return out;
}

std::string RandomBytes(size_t bytes, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(bytes, '\0');
  for (char& c : out) c = static_cast<char>(rng() & 0xff);
  return out;
}

std::string Meta(int n) {
  return ",\"meta\":{\"timestamp\":\"2026-11-27T16:54:26.123Z\",\"requestId\":\"req-" +
         std::to_string(n) + "\"}}";
}

// --- Independent decoders: each library's own one-shot and streaming APIs. -------------------

// Empty string on any decoder error (every case below decodes to something non-empty or is
// compared against an expected value, so a failure shows as a mismatch).
std::string GzipOneShot(const std::string& data, size_t expected_size) {
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
  std::string out(expected_size + 1, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&z, Z_FINISH);
  EXPECT_EQ(rc, Z_STREAM_END) << (z.msg ? z.msg : "");
  EXPECT_EQ(z.avail_in, 0u) << "bytes after the gzip member";
  out.resize(out.size() - z.avail_out);
  inflateEnd(&z);
  return rc == Z_STREAM_END ? out : std::string("<gzip error>");
}

// Feeds `chunk` input bytes at a time into a 1000-byte output buffer.
std::string GzipStreaming(const std::string& data, size_t chunk) {
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
  std::string out;
  char buffer[1000];
  size_t pos = 0;
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    const size_t n = std::min(chunk, data.size() - pos);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data() + pos));
    z.avail_in = static_cast<uInt>(n);
    do {
      z.next_out = reinterpret_cast<Bytef*>(buffer);
      z.avail_out = sizeof(buffer);
      rc = inflate(&z, Z_NO_FLUSH);
      out.append(buffer, sizeof(buffer) - z.avail_out);
    } while (rc == Z_OK && z.avail_out == 0);
    pos += n - z.avail_in;
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) break;
    if (rc != Z_STREAM_END && pos == data.size()) break;  // truncated
  }
  EXPECT_EQ(rc, Z_STREAM_END);
  EXPECT_EQ(pos, data.size());
  inflateEnd(&z);
  return rc == Z_STREAM_END ? out : std::string("<gzip error>");
}

std::string ZstdOneShot(const std::string& data, size_t expected_size) {
  // Every frame declares its content size, and they add up to the body.
  unsigned long long declared = 0;
  for (size_t pos = 0; pos < data.size();) {
    const size_t frame = ZSTD_findFrameCompressedSize(data.data() + pos, data.size() - pos);
    if (ZSTD_isError(frame)) {
      ADD_FAILURE() << "frame at " << pos << ": " << ZSTD_getErrorName(frame);
      break;
    }
    const unsigned long long size = ZSTD_getFrameContentSize(data.data() + pos, frame);
    EXPECT_LT(size, ZSTD_CONTENTSIZE_ERROR) << "frame at " << pos << " has no content size";
    declared += size;
    pos += frame;
  }
  EXPECT_EQ(declared, static_cast<unsigned long long>(expected_size));
  std::string out(expected_size + 1, '\0');
  const size_t n = ZSTD_decompress(out.data(), out.size(), data.data(), data.size());
  EXPECT_FALSE(ZSTD_isError(n)) << ZSTD_getErrorName(n);
  if (ZSTD_isError(n)) return "<zstd error>";
  out.resize(n);
  return out;
}

std::string ZstdStreaming(const std::string& data, size_t chunk) {
  std::unique_ptr<ZSTD_DStream, decltype(&ZSTD_freeDStream)> ds(ZSTD_createDStream(),
                                                                &ZSTD_freeDStream);
  ZSTD_initDStream(ds.get());
  std::string out;
  char buffer[1000];
  size_t pos = 0;
  size_t hint = 1;
  while (pos < data.size()) {
    const size_t n = std::min(chunk, data.size() - pos);
    ZSTD_inBuffer in{data.data() + pos, n, 0};
    while (in.pos < in.size) {
      ZSTD_outBuffer o{buffer, sizeof(buffer), 0};
      hint = ZSTD_decompressStream(ds.get(), &o, &in);
      if (ZSTD_isError(hint)) {
        ADD_FAILURE() << ZSTD_getErrorName(hint);
        return "<zstd error>";
      }
      out.append(buffer, o.pos);
    }
    pos += n;
  }
  // Drain what the last input left buffered.
  while (hint != 0) {
    ZSTD_inBuffer in{nullptr, 0, 0};
    ZSTD_outBuffer o{buffer, sizeof(buffer), 0};
    hint = ZSTD_decompressStream(ds.get(), &o, &in);
    if (ZSTD_isError(hint) || o.pos == 0) break;
    out.append(buffer, o.pos);
  }
  EXPECT_EQ(hint, 0u) << "zstd stream not complete";
  return out;
}

std::string BrotliOneShot(const std::string& data, size_t expected_size) {
  std::string out(expected_size + 1, '\0');
  size_t size = out.size();
  const BrotliDecoderResult r =
      BrotliDecoderDecompress(data.size(), reinterpret_cast<const uint8_t*>(data.data()), &size,
                              reinterpret_cast<uint8_t*>(out.data()));
  EXPECT_EQ(r, BROTLI_DECODER_RESULT_SUCCESS);
  if (r != BROTLI_DECODER_RESULT_SUCCESS) return "<brotli error>";
  out.resize(size);
  return out;
}

std::string BrotliStreaming(const std::string& data, size_t chunk) {
  std::unique_ptr<BrotliDecoderState, decltype(&BrotliDecoderDestroyInstance)> dec(
      BrotliDecoderCreateInstance(nullptr, nullptr, nullptr), &BrotliDecoderDestroyInstance);
  std::string out;
  uint8_t buffer[1000];
  size_t pos = 0;
  BrotliDecoderResult r = BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT;
  while (r != BROTLI_DECODER_RESULT_SUCCESS) {
    if (r == BROTLI_DECODER_RESULT_ERROR) break;
    if (r == BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT && pos == data.size()) break;
    const size_t n =
        r == BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT ? std::min(chunk, data.size() - pos) : 0;
    size_t avail_in = n;
    const uint8_t* next_in = reinterpret_cast<const uint8_t*>(data.data() + pos);
    size_t avail_out = sizeof(buffer);
    uint8_t* next_out = buffer;
    r = BrotliDecoderDecompressStream(dec.get(), &avail_in, &next_in, &avail_out, &next_out,
                                      nullptr);
    out.append(reinterpret_cast<char*>(buffer), sizeof(buffer) - avail_out);
    pos += n - avail_in;
  }
  EXPECT_EQ(r, BROTLI_DECODER_RESULT_SUCCESS)
      << BrotliDecoderErrorString(BrotliDecoderGetErrorCode(dec.get()));
  EXPECT_EQ(pos, data.size()) << "bytes after the brotli stream";
  return r == BROTLI_DECODER_RESULT_SUCCESS ? out : std::string("<brotli error>");
}

// Decodes `data` with every decoder for `e` and checks each yields `expected`.
void ExpectDecodesTo(Encoding e, const std::string& data, const std::string& expected,
                     const std::string& what) {
  SCOPED_TRACE(std::string(EncodingName(e)) + " " + what);
  StatusOr<std::string> ours = Decode(e, data);
  ASSERT_TRUE(ours.ok()) << ours.status().ToString();
  EXPECT_TRUE(*ours == expected) << "codec.h Decode differs";
  switch (e) {
    case Encoding::kGzip:
      EXPECT_TRUE(GzipOneShot(data, expected.size()) == expected) << "one-shot";
      EXPECT_TRUE(GzipStreaming(data, 1) == expected) << "streaming, 1-byte input";
      EXPECT_TRUE(GzipStreaming(data, 4093) == expected) << "streaming, 4093-byte input";
      break;
    case Encoding::kZstd:
      EXPECT_TRUE(ZstdOneShot(data, expected.size()) == expected) << "one-shot";
      EXPECT_TRUE(ZstdStreaming(data, 1) == expected) << "streaming, 1-byte input";
      EXPECT_TRUE(ZstdStreaming(data, 4093) == expected) << "streaming, 4093-byte input";
      break;
    case Encoding::kBrotli:
      EXPECT_TRUE(BrotliOneShot(data, expected.size()) == expected) << "one-shot";
      EXPECT_TRUE(BrotliStreaming(data, 1) == expected) << "streaming, 1-byte input";
      EXPECT_TRUE(BrotliStreaming(data, 4093) == expected) << "streaming, 4093-byte input";
      break;
    case Encoding::kIdentity:
      EXPECT_TRUE(data == expected);
      break;
  }
}

int DefaultLevel(Encoding e) {
  switch (e) {
    case Encoding::kBrotli:
      return 4;
    case Encoding::kZstd:
      return 1;
    case Encoding::kGzip:
      return 5;
    case Encoding::kIdentity:
      break;
  }
  return 0;
}

class OpenEncodedTest : public ::testing::TestWithParam<Encoding> {
 protected:
  Encoding e() const { return GetParam(); }
};

TEST_P(OpenEncodedTest, EveryPrefixAndTailDecodesToTheirConcatenation) {
  std::string with_nuls("a\0b\0\0c", 6);
  const std::vector<std::pair<const char*, std::string>> prefixes = {
      {"empty", ""},
      {"small", "{\"success\":true,\"data\":{\"id\":1}"},
      {"nuls", with_nuls},
      {"json 1 MiB", JsonLike(1 << 20)},
      {"binary 100 KiB", RandomBytes(100000, 3)}};
  const std::vector<std::pair<const char*, std::string>> tails = {
      {"empty", ""},
      {"one byte", "}"},
      {"small", Meta(1)},
      {"binary 300", RandomBytes(300, 5)},
      {"70000", JsonLike(70000)},
      {"random 200 KiB", RandomBytes(200000, 9)}};
  for (const auto& [prefix_name, prefix] : prefixes) {
    StatusOr<OpenEncoded> open = EncodeOpen(e(), prefix, DefaultLevel(e()));
    ASSERT_TRUE(open.ok()) << prefix_name << ": " << open.status().ToString();
    EXPECT_EQ(open->encoding, e());
    EXPECT_EQ(open->length, prefix.size());
    EXPECT_EQ(open->crc32, crc32(0, reinterpret_cast<const Bytef*>(prefix.data()),
                                 static_cast<uInt>(prefix.size())));
    for (const auto& [tail_name, tail] : tails) {
      ExpectDecodesTo(e(), FinishEncoded(*open, tail), prefix + tail,
                      std::string("prefix ") + prefix_name + ", tail " + tail_name);
    }
  }
}

TEST_P(OpenEncodedTest, OnePrefixFinishesWithDifferentTails) {
  const std::string prefix = JsonLike(20000);
  StatusOr<OpenEncoded> open = EncodeOpen(e(), prefix, DefaultLevel(e()));
  ASSERT_TRUE(open.ok());
  const OpenEncoded before = *open;
  const std::string a = FinishEncoded(*open, Meta(1));
  const std::string b = FinishEncoded(*open, Meta(2));
  EXPECT_NE(a, b);
  ExpectDecodesTo(e(), a, prefix + Meta(1), "tail 1");
  ExpectDecodesTo(e(), b, prefix + Meta(2), "tail 2");
  // Finishing does not change the open prefix.
  EXPECT_EQ(open->bytes, before.bytes);
  if (e() != Encoding::kIdentity) {
    // The prefix is compressed; the tail costs its own size plus a few bytes of framing.
    EXPECT_LT(open->bytes.size(), prefix.size() / 4);
    EXPECT_LE(a.size(), open->bytes.size() + Meta(1).size() + 16);
    EXPECT_TRUE(IsWorthSending(prefix.size() + Meta(1).size(), a.size()));
  }
}

TEST_P(OpenEncodedTest, ManyThreadsFinishOneOpenPrefix) {
  const std::string prefix = JsonLike(30000);
  StatusOr<OpenEncoded> open = EncodeOpen(e(), prefix, DefaultLevel(e()));
  ASSERT_TRUE(open.ok());
  std::vector<int> bad(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        const std::string tail = Meta(t * 1000 + i);
        StatusOr<std::string> decoded = Decode(e(), FinishEncoded(*open, tail));
        if (!decoded.ok() || *decoded != prefix + tail) ++bad[t];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(bad, std::vector<int>(4, 0));
}

TEST_P(OpenEncodedTest, EveryLevelWorks) {
  const Codec* codec = CodecFor(e());
  const int min = codec ? codec->min_level() : 0;
  const int max = codec ? codec->max_level() : 0;
  const std::string prefix = JsonLike(5000);
  for (int level = min; level <= max; ++level) {
    StatusOr<OpenEncoded> open = EncodeOpen(e(), prefix, level);
    ASSERT_TRUE(open.ok()) << level;
    ExpectDecodesTo(e(), FinishEncoded(*open, Meta(level)), prefix + Meta(level),
                    "level " + std::to_string(level));
  }
}

TEST_P(OpenEncodedTest, RandomizedPrefixesAndTails) {
  std::mt19937 rng(static_cast<uint32_t>(GetParam()) * 7919 + 1);
  const std::string json = JsonLike(300000);
  const std::string noise = RandomBytes(300000, 11);
  auto piece = [&](size_t max_size) {
    std::uniform_int_distribution<size_t> size_dist(0, max_size);
    const size_t size = size_dist(rng);
    const std::string& source = (rng() & 1) ? json : noise;
    std::uniform_int_distribution<size_t> start_dist(0, source.size() - size);
    std::string out = source.substr(start_dist(rng), size);
    // Sprinkle noise into JSON and the stream-control bytes the framing uses into both.
    for (int i = 0; i < 3 && !out.empty(); ++i)
      out[rng() % out.size()] = "\x00\x01\x03\xff\x28"[rng() % 5];
    return out;
  };
  const Codec* codec = CodecFor(e());
  for (int round = 0; round < 40; ++round) {
    const std::string prefix = piece(round % 8 == 0 ? 200000 : 3000);
    const int level =
        codec ? codec->min_level() +
                    static_cast<int>(rng() % static_cast<uint32_t>(std::min(codec->max_level(), 9) -
                                                                   codec->min_level() + 1))
              : 0;
    StatusOr<OpenEncoded> open = EncodeOpen(e(), prefix, level);
    ASSERT_TRUE(open.ok()) << open.status().ToString();
    for (int t = 0; t < 3; ++t) {
      const std::string tail = piece(round % 5 == 0 ? 140000 : 400);
      const std::string finished = FinishEncoded(*open, tail);
      StatusOr<std::string> decoded = Decode(e(), finished);
      ASSERT_TRUE(decoded.ok()) << "round " << round << ": " << decoded.status().ToString();
      ASSERT_TRUE(*decoded == prefix + tail)
          << "round " << round << " prefix " << prefix.size() << " tail " << tail.size();
    }
  }
}

TEST_P(OpenEncodedTest, RejectsLevelsOutOfRange) {
  if (e() == Encoding::kIdentity) GTEST_SKIP() << "identity has no level";
  const Codec* codec = CodecFor(e());
  for (int level : {codec->min_level() - 1, codec->max_level() + 1, -100}) {
    StatusOr<OpenEncoded> open = EncodeOpen(e(), "x", level);
    ASSERT_FALSE(open.ok());
    EXPECT_EQ(open.status().code(), StatusCode::kInvalidArgument) << open.status().ToString();
  }
}

TEST_P(OpenEncodedTest, InjectedFailureIsAnInternalError) {
  if (e() == Encoding::kIdentity) GTEST_SKIP() << "identity never fails";
  FailEncodesForTest(1);
  StatusOr<OpenEncoded> open = EncodeOpen(e(), "{}", DefaultLevel(e()));
  FailEncodesForTest(0);
  ASSERT_FALSE(open.ok());
  EXPECT_EQ(open.status().code(), StatusCode::kInternal);
  EXPECT_TRUE(EncodeOpen(e(), "{}", DefaultLevel(e())).ok());
}

INSTANTIATE_TEST_SUITE_P(AllEncodings, OpenEncodedTest,
                         ::testing::Values(Encoding::kIdentity, Encoding::kBrotli, Encoding::kZstd,
                                           Encoding::kGzip),
                         [](const auto& info) { return std::string(EncodingName(info.param)); });

// The framing the RFCs define, byte for byte, so a change that still round-trips through these
// libraries but breaks another decoder shows up here.
TEST(OpenEncodedFramingTest, GzipStoredBlocksAndTrailer) {
  StatusOr<OpenEncoded> open = EncodeOpen(Encoding::kGzip, "abc", 5);
  ASSERT_TRUE(open.ok());
  // Z_SYNC_FLUSH ends with an empty stored block.
  ASSERT_GE(open->bytes.size(), 15u);
  EXPECT_EQ(open->bytes.substr(0, 2), "\x1f\x8b");
  EXPECT_EQ(open->bytes.substr(open->bytes.size() - 4), std::string("\x00\x00\xff\xff", 4));
  const std::string done = FinishEncoded(*open, "de");
  EXPECT_EQ(done.substr(open->bytes.size(), 7), std::string("\x01\x02\x00\xfd\xff"
                                                            "de",
                                                            7));
  const uint32_t crc = static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>("abcde"), 5));
  std::string trailer;
  for (int i = 0; i < 4; ++i) trailer.push_back(static_cast<char>(crc >> (8 * i)));
  trailer += std::string("\x05\x00\x00\x00", 4);
  EXPECT_EQ(done.substr(open->bytes.size() + 7), trailer);
}

TEST(OpenEncodedFramingTest, BrotliUncompressedMetaBlockHeaders) {
  StatusOr<OpenEncoded> open = EncodeOpen(Encoding::kBrotli, "abc", 4);
  ASSERT_TRUE(open.ok());
  const size_t base = open->bytes.size();
  // MLEN=2: ISLAST 0, MNIBBLES 00, MLEN-1 = 1 in 16 bits, ISUNCOMPRESSED 1 -> bits
  // 0 | 00 | 1000000000000000 | 1: 0x08, 0x00, 0x08 (20 bits, padded).
  std::string done = FinishEncoded(*open, "de");
  EXPECT_EQ(done.substr(base), std::string("\x08\x00\x08"
                                           "de\x03",
                                           6));
  // MLEN=65537 needs five nibbles (MLEN-1 = 0x10000): MNIBBLES 01, 24 bits in all.
  done = FinishEncoded(*open, std::string(65537, 'x'));
  EXPECT_EQ(done.substr(base, 4), std::string("\x02\x00\x88x", 4));
  EXPECT_EQ(done.back(), '\x03');
  // An empty tail adds only the last empty meta-block.
  EXPECT_EQ(FinishEncoded(*open, ""), open->bytes + "\x03");
  // The stream start EncodeOpen writes itself if the encoder ever flushes nothing for an empty
  // prefix: WBITS=16 and an empty metadata meta-block, one byte.
  OpenEncoded bare;
  bare.encoding = Encoding::kBrotli;
  bare.bytes = "\x0c";
  ExpectDecodesTo(Encoding::kBrotli, FinishEncoded(bare, "de"), "de", "bare stream start");
  ExpectDecodesTo(Encoding::kBrotli, FinishEncoded(bare, ""), "", "bare, empty");
}

TEST(OpenEncodedFramingTest, ZstdRawFrames) {
  StatusOr<OpenEncoded> open = EncodeOpen(Encoding::kZstd, "abc", 1);
  ASSERT_TRUE(open.ok());
  EXPECT_EQ(FinishEncoded(*open, ""), open->bytes);
  const std::string done = FinishEncoded(*open, "de");
  // Magic, FHD single segment with 1-byte FCS, FCS=2, block header (last, raw, size 2).
  EXPECT_EQ(done.substr(open->bytes.size()), std::string("\x28\xb5\x2f\xfd\x20\x02\x11\x00\x00"
                                                         "de",
                                                         11));
}

}  // namespace
}  // namespace hasivu::compress
