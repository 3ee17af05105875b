#include "compress/estimate.h"

#include <gtest/gtest.h>

namespace hasivu::compress {
namespace {

TEST(EstimateTest, EveryCodecAndLevelWithRoundTrip) {
  std::string body;
  for (int i = 0; i < 300; ++i) body += "{\"item\":\"Idli sambar\",\"price\":4500},";
  EstimateOptions options;
  options.min_runs = 1;
  options.max_runs = 2;
  options.budget = std::chrono::microseconds(0);
  const std::vector<EstimateRow> rows = EstimateAll(body, options);
  ASSERT_EQ(rows.size(), 12u + 19u + 9u);
  EXPECT_EQ(rows.front().encoding, Encoding::kBrotli);
  EXPECT_EQ(rows.front().level, 0);
  EXPECT_EQ(rows.back().encoding, Encoding::kGzip);
  EXPECT_EQ(rows.back().level, 9);
  for (const EstimateRow& r : rows) {
    EXPECT_TRUE(r.error.empty()) << r.error;
    EXPECT_TRUE(r.round_trip) << EncodingName(r.encoding) << " " << r.level;
    EXPECT_EQ(r.original_bytes, body.size());
    EXPECT_GT(r.encoded_bytes, 0u);
    EXPECT_LT(r.ratio, 0.2) << EncodingName(r.encoding) << " " << r.level;
    EXPECT_DOUBLE_EQ(r.ratio, static_cast<double>(r.encoded_bytes) / body.size());
    EXPECT_GE(r.runs, 1);
  }
  const std::string table = FormatEstimate(rows);
  EXPECT_NE(table.find("codec  level"), std::string::npos);
  EXPECT_NE(table.find("zstd      19"), std::string::npos) << table;
  EXPECT_EQ(table.find("FAILED"), std::string::npos);
}

TEST(EstimateTest, EmptyBody) {
  EstimateOptions options;
  options.min_runs = 1;
  options.max_runs = 1;
  for (const EstimateRow& r : EstimateAll("", options)) {
    EXPECT_TRUE(r.round_trip);
    EXPECT_EQ(r.ratio, 1.0);
  }
}

}  // namespace
}  // namespace hasivu::compress
