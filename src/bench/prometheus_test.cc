#include "bench/prometheus.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

namespace hasivu::bench {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr double kInf = std::numeric_limits<double>::infinity();

Scrape MustParse(std::string_view text) {
  StatusOr<Scrape> s = ParsePrometheusText(text);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? *std::move(s) : Scrape{};
}

std::string ErrorOf(std::string_view text) {
  StatusOr<Scrape> s = ParsePrometheusText(text);
  EXPECT_FALSE(s.ok()) << "parsed: " << text;
  if (s.ok()) return "";
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  return s.status().message();
}

TEST(ParsePrometheusTextTest, HelpTypeSamplesLabelsAndTimestamps) {
  const Scrape s = MustParse(
      "# HELP http_requests_total The total number of HTTP requests.\n"
      "# TYPE http_requests_total counter\n"
      "http_requests_total{method=\"post\",code=\"200\"} 1027 1395066363000\n"
      "http_requests_total{method=\"post\",code=\"400\"}    3 1395066363000\n"
      "\n"
      "# A plain comment\n"
      "metric_without_timestamp_and_labels 12.47\n"
      "  indented_gauge   -3e-2  \n"
      "with_trailing_comma{a=\"1\",} 1\n"
      "spaced_labels{ a = \"1\" , b=\"2\" } 2\n"
      "ns:colon_name 5\r\n");
  ASSERT_EQ(s.samples.size(), 7u);
  EXPECT_EQ(s.families.at("http_requests_total").type, MetricType::kCounter);
  EXPECT_EQ(s.families.at("http_requests_total").help, "The total number of HTTP requests.");

  const MetricSample& first = s.samples[0];
  EXPECT_EQ(first.name, "http_requests_total");
  EXPECT_EQ(first.labels, (MetricLabels{{"method", "post"}, {"code", "200"}}));
  EXPECT_DOUBLE_EQ(first.value, 1027);
  EXPECT_EQ(first.timestamp_ms, 1395066363000);
  EXPECT_EQ(first.line, 3);
  EXPECT_DOUBLE_EQ(s.samples[1].value, 3);

  EXPECT_EQ(s.samples[2].name, "metric_without_timestamp_and_labels");
  EXPECT_TRUE(s.samples[2].labels.empty());
  EXPECT_FALSE(s.samples[2].timestamp_ms.has_value());
  EXPECT_EQ(s.samples[2].line, 7);
  EXPECT_DOUBLE_EQ(s.samples[3].value, -0.03);
  EXPECT_EQ(s.samples[4].labels, (MetricLabels{{"a", "1"}}));
  EXPECT_EQ(s.samples[5].labels, (MetricLabels{{"a", "1"}, {"b", "2"}}));
  EXPECT_EQ(s.samples[6].name, "ns:colon_name");
  EXPECT_DOUBLE_EQ(s.samples[6].value, 5);
}

TEST(ParsePrometheusTextTest, EscapesInLabelValuesAndHelp) {
  const Scrape s = MustParse(
      "# HELP m A \\\\ backslash\\nand a new line\n"
      "m{path=\"C:\\\\DIR\\\\FILE.TXT\",error=\"Cannot find file:\\n\\\"FILE.TXT\\\"\"} 1\n"
      "m{brace=\"}{,=\"} 2\n");
  EXPECT_EQ(s.families.at("m").help, "A \\ backslash\nand a new line");
  ASSERT_EQ(s.samples.size(), 2u);
  EXPECT_EQ(s.samples[0].labels.at("path"), "C:\\DIR\\FILE.TXT");
  EXPECT_EQ(s.samples[0].labels.at("error"), "Cannot find file:\n\"FILE.TXT\"");
  EXPECT_EQ(s.samples[1].labels.at("brace"), "}{,=");
}

TEST(ParsePrometheusTextTest, InfinitiesAndNaN) {
  const Scrape s = MustParse(
      "a +Inf\n"
      "b -Inf\n"
      "c NaN\n"
      "d inf\n"
      "e 1e+3\n"
      "f +2\n");
  ASSERT_EQ(s.samples.size(), 6u);
  EXPECT_EQ(s.samples[0].value, kInf);
  EXPECT_EQ(s.samples[1].value, -kInf);
  EXPECT_TRUE(std::isnan(s.samples[2].value));
  EXPECT_EQ(s.samples[3].value, kInf);
  EXPECT_DOUBLE_EQ(s.samples[4].value, 1000);
  EXPECT_DOUBLE_EQ(s.samples[5].value, 2);
}

TEST(ParsePrometheusTextTest, Histogram) {
  const Scrape s = MustParse(
      "# TYPE h histogram\n"
      "h_bucket{route=\"a\",le=\"0.1\"} 2\n"
      "h_bucket{route=\"a\",le=\"1\"} 5\n"
      "h_bucket{route=\"a\",le=\"+Inf\"} 6\n"
      "h_sum{route=\"a\"} 4.5\n"
      "h_count{route=\"a\"} 6\n");
  EXPECT_EQ(s.families.at("h").type, MetricType::kHistogram);
  StatusOr<std::optional<HistogramCounts>> h = FindHistogram(s, "h", {{"route", "a"}});
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  ASSERT_TRUE(h->has_value());
  const HistogramCounts& c = **h;
  ASSERT_EQ(c.buckets.size(), 3u);
  EXPECT_DOUBLE_EQ(c.buckets[0].upper_bound, 0.1);
  EXPECT_DOUBLE_EQ(c.buckets[0].cumulative_count, 2);
  EXPECT_EQ(c.buckets[2].upper_bound, kInf);
  EXPECT_DOUBLE_EQ(c.buckets[2].cumulative_count, 6);
  EXPECT_DOUBLE_EQ(c.sum, 4.5);
  EXPECT_DOUBLE_EQ(c.count, 6);

  StatusOr<std::optional<HistogramCounts>> none = FindHistogram(s, "h", {{"route", "b"}});
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST(ParsePrometheusTextTest, MalformedInputNamesTheLine) {
  EXPECT_THAT(ErrorOf("ok 1\nbad{a=\"1\" 2\n"), StartsWith("line 2: "));
  EXPECT_THAT(ErrorOf("m{a=\"unterminated} 1\n"), HasSubstr("not terminated"));
  EXPECT_THAT(ErrorOf("m{a=\"\\t\"} 1\n"), HasSubstr("invalid escape"));
  EXPECT_THAT(ErrorOf("m{a=1} 1\n"), HasSubstr("quoted"));
  EXPECT_THAT(ErrorOf("m{1a=\"x\"} 1\n"), HasSubstr("label name"));
  EXPECT_THAT(ErrorOf("m{a=\"x\",a=\"y\"} 1\n"), HasSubstr("duplicate label a"));
  EXPECT_THAT(ErrorOf("m{a=\"x\"\n"), HasSubstr("line 1: "));
  EXPECT_THAT(ErrorOf("m\n"), HasSubstr("no value"));
  EXPECT_THAT(ErrorOf("m one\n"), HasSubstr("not a number"));
  EXPECT_THAT(ErrorOf("m 1 1.5\n"), HasSubstr("timestamp"));
  EXPECT_THAT(ErrorOf("m 1 2 3\n"), HasSubstr("after the timestamp"));
  EXPECT_THAT(ErrorOf("9m 1\n"), HasSubstr("metric name"));
  EXPECT_THAT(ErrorOf("\n\n# TYPE m countr\n"), StartsWith("line 3: unknown metric type"));
  EXPECT_THAT(ErrorOf("# TYPE m counter\n# TYPE m gauge\n"), StartsWith("line 2: a second TYPE"));
  EXPECT_THAT(ErrorOf("# HELP m a\n# HELP m b\n"), StartsWith("line 2: a second HELP"));
  EXPECT_THAT(ErrorOf("# HELP m bad \\x\n"), HasSubstr("invalid escape"));
  EXPECT_THAT(ErrorOf("# TYPE h histogram\nh_bucket{x=\"1\"} 1\n"), StartsWith("line 2: "));
  EXPECT_THAT(ErrorOf("# TYPE h histogram\nh_bucket{le=\"big\"} 1\n"), HasSubstr("le=\"big\""));
}

TEST(FindSamplesTest, MatchesNameAndLabelSubset) {
  const Scrape s = MustParse(
      "r{route=\"a\",class=\"2xx\"} 1\n"
      "r{route=\"a\",class=\"5xx\"} 2\n"
      "r{route=\"b\",class=\"2xx\"} 4\n"
      "other{route=\"a\"} 8\n");
  EXPECT_EQ(FindSamples(s, "r").size(), 3u);
  EXPECT_EQ(FindSamples(s, "r", {{"route", "a"}}).size(), 2u);
  const MetricSample* five = FindSample(s, "r", {{"route", "a"}, {"class", "5xx"}});
  ASSERT_NE(five, nullptr);
  EXPECT_DOUBLE_EQ(five->value, 2);
  EXPECT_EQ(FindSample(s, "r", {{"route", "c"}}), nullptr);
  EXPECT_EQ(FindSample(s, "r", {{"missing", ""}}), nullptr);  // absent is not empty
  EXPECT_EQ(FindSample(s, "nothing"), nullptr);
}

TEST(CounterIncreaseTest, PairsSeriesAndHandlesNewAndResetSeries) {
  const Scrape before = MustParse(
      "c{k=\"a\"} 10\n"
      "c{k=\"b\"} 5\n"
      "c{k=\"gone\"} 100\n");
  const Scrape after = MustParse(
      "c{k=\"a\"} 15\n"     // +5
      "c{k=\"b\"} 2\n"      // went down: a restart, counts 2
      "c{k=\"new\"} 7\n");  // created in the interval: +7
  EXPECT_EQ(CounterIncrease(before, after, "c", {{"k", "a"}}), 5);
  EXPECT_EQ(CounterIncrease(before, after, "c", {{"k", "b"}}), 2);
  EXPECT_EQ(CounterIncrease(before, after, "c", {{"k", "new"}}), 7);
  EXPECT_EQ(CounterIncrease(before, after, "c"), 14);
  EXPECT_EQ(CounterIncrease(before, after, "c", {{"k", "gone"}}), std::nullopt);
  EXPECT_EQ(CounterIncrease(before, after, "absent"), std::nullopt);
}

HistogramCounts Buckets(std::vector<std::pair<double, double>> cumulative) {
  HistogramCounts h;
  for (const auto& [le, n] : cumulative) h.buckets.push_back({le, n});
  h.count = h.buckets.empty() ? 0 : h.buckets.back().cumulative_count;
  return h;
}

TEST(HistogramQuantileTest, InterpolatesLinearlyInsideTheBucket) {
  // 10 in (0, 1], 10 in (1, 2], none above.
  const HistogramCounts h = Buckets({{1, 10}, {2, 20}, {4, 20}, {kInf, 20}});
  EXPECT_DOUBLE_EQ(*HistogramQuantile(h, 0.5), 1.0);   // rank 10: the end of the first bucket
  EXPECT_DOUBLE_EQ(*HistogramQuantile(h, 0.25), 0.5);  // rank 5 of 10 in (0, 1]
  EXPECT_DOUBLE_EQ(*HistogramQuantile(h, 0.75), 1.5);  // rank 15: 5 of 10 into (1, 2]
  EXPECT_DOUBLE_EQ(*HistogramQuantile(h, 0.95), 1.9);
  EXPECT_DOUBLE_EQ(*HistogramQuantile(h, 1.0), 2.0);
  EXPECT_DOUBLE_EQ(*HistogramQuantile(h, 0.0), 0.0);  // the lowest bucket's lower bound
  EXPECT_DOUBLE_EQ(*HistogramQuantile(h, 7.0), 2.0);  // clamped
  EXPECT_FALSE(HistogramQuantile(h, std::nan("")).has_value());
}

TEST(HistogramQuantileTest, LowerBoundIsThePreviousBucketsUpperBound) {
  // Nothing below 0.5; 4 in (0.5, 1.0].
  const HistogramCounts h = Buckets({{0.25, 0}, {0.5, 0}, {1.0, 4}, {kInf, 4}});
  EXPECT_DOUBLE_EQ(*HistogramQuantile(h, 0.5), 0.75);
  EXPECT_DOUBLE_EQ(*HistogramQuantile(h, 0.0), 0.5);
}

TEST(HistogramQuantileTest, TheInfBucketAnswersTheHighestFiniteBound) {
  // 2 of 10 observations above 10: p95's rank 9.5 is in the +Inf bucket.
  const HistogramCounts h = Buckets({{1, 4}, {10, 8}, {kInf, 10}});
  bool overflow = false;
  EXPECT_DOUBLE_EQ(*HistogramQuantile(h, 0.95, &overflow), 10.0);
  EXPECT_TRUE(overflow);
  EXPECT_DOUBLE_EQ(*HistogramQuantile(h, 0.5, &overflow), 3.25);  // rank 5: 1 of 4 into (1, 10]
  EXPECT_FALSE(overflow);
}

TEST(HistogramQuantileTest, NothingToEstimateFrom) {
  EXPECT_FALSE(HistogramQuantile(Buckets({{1, 0}, {kInf, 0}}), 0.5).has_value());  // empty
  EXPECT_FALSE(HistogramQuantile(Buckets({{1, 3}, {2, 5}}), 0.5).has_value());     // no +Inf
  EXPECT_FALSE(HistogramQuantile(Buckets({{kInf, 5}}), 0.5).has_value());          // no finite
  EXPECT_FALSE(HistogramQuantile(HistogramCounts{}, 0.5).has_value());
}

TEST(HistogramQuantileTest, NonMonotonicCountsTakeTheRunningMaximum) {
  const HistogramCounts h = Buckets({{1, 10}, {2, 8}, {4, 20}, {kInf, 20}});
  // As {10, 10, 20, 20}: rank 15 is 5 of 10 into (2, 4].
  EXPECT_DOUBLE_EQ(*HistogramQuantile(h, 0.75), 3.0);
}

TEST(HistogramDeltaTest, SubtractsBucketsAndDetectsResets) {
  HistogramCounts before = Buckets({{1, 3}, {2, 4}, {kInf, 4}});
  before.sum = 4;
  HistogramCounts after = Buckets({{1, 3}, {2, 14}, {kInf, 16}});
  after.sum = 40;
  StatusOr<HistogramCounts> d = HistogramDelta(before, after);
  ASSERT_TRUE(d.ok());
  EXPECT_DOUBLE_EQ(d->buckets[0].cumulative_count, 0);
  EXPECT_DOUBLE_EQ(d->buckets[1].cumulative_count, 10);
  EXPECT_DOUBLE_EQ(d->buckets[2].cumulative_count, 12);
  EXPECT_DOUBLE_EQ(d->count, 12);
  EXPECT_DOUBLE_EQ(d->sum, 36);
  // Only the interval's observations: all of them in (1, 2] or above, so p50 is past 1.
  EXPECT_GT(*HistogramQuantile(*d, 0.5), 1.0);

  // A restart: after holds less than before; after alone is the interval's.
  const HistogramCounts restarted = Buckets({{1, 1}, {2, 1}, {kInf, 2}});
  StatusOr<HistogramCounts> r = HistogramDelta(after, restarted);
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(r->count, 2);
  EXPECT_DOUBLE_EQ(r->buckets[2].cumulative_count, 2);

  // Created during the interval.
  StatusOr<HistogramCounts> fresh = HistogramDelta(HistogramCounts{}, after);
  ASSERT_TRUE(fresh.ok());
  EXPECT_DOUBLE_EQ(fresh->count, 16);

  EXPECT_FALSE(HistogramDelta(before, Buckets({{1, 3}, {5, 4}, {kInf, 4}})).ok());
}

TEST(FindHistogramTest, MergesSeriesWithTheSameBounds) {
  const Scrape s = MustParse(
      "# TYPE d histogram\n"
      "d_bucket{kind=\"read\",le=\"1\"} 4\n"
      "d_bucket{kind=\"read\",le=\"+Inf\"} 5\n"
      "d_sum{kind=\"read\"} 3\n"
      "d_count{kind=\"read\"} 5\n"
      "d_bucket{kind=\"write\",le=\"1\"} 1\n"
      "d_bucket{kind=\"write\",le=\"+Inf\"} 3\n"
      "d_sum{kind=\"write\"} 7\n"
      "d_count{kind=\"write\"} 3\n"
      "# TYPE e histogram\n"
      "e_bucket{kind=\"read\",le=\"1\"} 1\n"
      "e_bucket{kind=\"read\",le=\"+Inf\"} 1\n"
      "e_bucket{kind=\"write\",le=\"2\"} 1\n"
      "e_bucket{kind=\"write\",le=\"+Inf\"} 1\n");
  StatusOr<std::optional<HistogramCounts>> d = FindHistogram(s, "d");
  ASSERT_TRUE(d.ok());
  ASSERT_TRUE(d->has_value());
  EXPECT_DOUBLE_EQ((*d)->buckets[0].cumulative_count, 5);
  EXPECT_DOUBLE_EQ((*d)->buckets[1].cumulative_count, 8);
  EXPECT_DOUBLE_EQ((*d)->sum, 10);
  EXPECT_DOUBLE_EQ((*d)->count, 8);
  StatusOr<std::optional<HistogramCounts>> e = FindHistogram(s, "e");
  EXPECT_FALSE(e.ok());
  EXPECT_TRUE(FindHistogram(s, "e", {{"kind", "write"}}).ok());
}

}  // namespace
}  // namespace hasivu::bench
