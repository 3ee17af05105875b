#include "compress/settings.h"

#include <gtest/gtest.h>

namespace hasivu::compress {
namespace {

TEST(SettingsTest, DefaultsAreValid) {
  Settings s;
  EXPECT_TRUE(ValidateSettings(s).ok());
  EXPECT_TRUE(s.enabled);
  EXPECT_EQ(s.min_bytes, 1024u);
  EXPECT_EQ(LevelFor(s, Encoding::kBrotli), kDefaultBrotliLevel);
  EXPECT_EQ(LevelFor(s, Encoding::kZstd), kDefaultZstdLevel);
  EXPECT_EQ(LevelFor(s, Encoding::kGzip), kDefaultGzipLevel);
  EXPECT_EQ(LevelFor(s, Encoding::kIdentity), 0);
  // A body compressed for one response only gets the cheaper brotli level; the others keep theirs.
  EXPECT_EQ(PerRequestLevelFor(s, Encoding::kBrotli), kDefaultBrotliLevelPerRequest);
  EXPECT_LT(kDefaultBrotliLevelPerRequest, kDefaultBrotliLevel);
  EXPECT_EQ(PerRequestLevelFor(s, Encoding::kZstd), kDefaultZstdLevel);
  EXPECT_EQ(PerRequestLevelFor(s, Encoding::kGzip), kDefaultGzipLevel);
}

TEST(SettingsTest, LevelsOutOfRangeAreRefusedByName) {
  Settings s;
  s.brotli_level = 12;
  Status st = ValidateSettings(s);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("brotli level must be 0..11"), std::string::npos) << st.ToString();
  s = Settings();
  s.brotli_level_per_request = -1;
  EXPECT_NE(ValidateSettings(s).message().find("brotli per-request level must be 0..11"),
            std::string::npos);
  s = Settings();
  s.zstd_level = 0;
  EXPECT_NE(ValidateSettings(s).message().find("zstd level"), std::string::npos);
  s = Settings();
  s.gzip_level = 10;
  EXPECT_NE(ValidateSettings(s).message().find("gzip level"), std::string::npos);
  s = Settings();
  s.codecs = EncodingSet();
  EXPECT_FALSE(ValidateSettings(s).ok());
  s.enabled = false;
  EXPECT_TRUE(ValidateSettings(s).ok());
}

TEST(SettingsTest, CompressibleContentTypes) {
  for (const char* t :
       {"application/json", "application/json; charset=utf-8", "APPLICATION/JSON", "text/html",
        "text/plain; version=0.0.4", "text/css", "application/problem+json",
        "application/vnd.api+json", "image/svg+xml", "application/javascript", "application/xml",
        " application/json ", "application/x-ndjson"}) {
    EXPECT_TRUE(IsCompressibleContentType(t)) << t;
  }
  for (const char* t :
       {"", "image/png", "image/jpeg", "image/webp", "video/mp4", "audio/mpeg", "application/zip",
        "application/gzip", "application/zstd", "application/octet-stream", "font/woff2",
        "application/pdf", "text/", "application/jsonx", "json"}) {
    EXPECT_FALSE(IsCompressibleContentType(t)) << t;
  }
}

}  // namespace
}  // namespace hasivu::compress
