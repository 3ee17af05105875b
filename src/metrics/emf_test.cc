#include "metrics/emf.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <string>

#include "metrics/catalog.h"
#include "metrics/testing/emf_check.h"

namespace hasivu::metrics {
namespace {

namespace json = boost::json;
using testing::CheckEmfDocument;

constexpr int64_t kTimestamp = 1760431200123;  // 2025-10-14T08:40:00.123Z

// ---- a reader: what CloudWatch would compute from the documents ---------------------------------

struct SeriesKey {
  std::string ns, name;
  std::map<std::string, std::string> dims;
  auto operator<=>(const SeriesKey&) const = default;
};

struct Seen {
  std::string unit;
  std::vector<double> values;  // every number received, arrays expanded
  int documents = 0;
};

double ToDouble(const json::value& v) {
  if (v.is_double()) return v.as_double();
  if (v.is_int64()) return static_cast<double>(v.as_int64());
  return static_cast<double>(v.as_uint64());
}

std::map<SeriesKey, Seen> Read(const std::vector<std::string>& lines) {
  std::map<SeriesKey, Seen> out;
  for (const std::string& line : lines) {
    const json::object root = json::parse(line).as_object();
    for (const json::value& d : root.at("_aws").at("CloudWatchMetrics").as_array()) {
      for (const json::value& set : d.at("Dimensions").as_array()) {
        SeriesKey base;
        base.ns = std::string(d.at("Namespace").as_string());
        for (const json::value& n : set.as_array()) {
          base.dims[std::string(n.as_string())] = std::string(root.at(n.as_string()).as_string());
        }
        for (const json::value& m : d.at("Metrics").as_array()) {
          SeriesKey key = base;
          key.name = std::string(m.at("Name").as_string());
          Seen& seen = out[key];
          seen.unit = std::string(m.at("Unit").as_string());
          ++seen.documents;
          const json::value& v = root.at(key.name);
          if (v.is_array()) {
            for (const json::value& x : v.as_array()) seen.values.push_back(ToDouble(x));
          } else {
            seen.values.push_back(ToDouble(v));
          }
        }
      }
    }
  }
  return out;
}

// Nearest rank, as CloudWatch defines percentiles.
double NearestRank(std::vector<double> values, double q) {
  std::sort(values.begin(), values.end());
  const size_t rank = std::max<size_t>(1, static_cast<size_t>(std::ceil(q * values.size())));
  return values[rank - 1];
}

// ---- inputs
// --------------------------------------------------------------------------------------

SeriesInterval Distribution(std::string name, Dimensions dims,
                            std::vector<std::pair<double, uint64_t>> values) {
  SeriesInterval s;
  s.info = {std::move(name), Unit::kMilliseconds, std::move(dims), Aggregation::kDistribution};
  std::sort(values.begin(), values.end());
  s.data.values = std::move(values);
  for (const auto& [v, n] : s.data.values) {
    s.data.count += n;
    s.data.sum += v * static_cast<double>(n);
  }
  if (!s.data.values.empty()) {
    s.data.min = s.data.values.front().first;
    s.data.max = s.data.values.back().first;
  }
  return s;
}

SeriesInterval Scalar(std::string name, Dimensions dims, Aggregation aggregation, double value,
                      Unit unit = Unit::kCount, uint64_t count = 1) {
  SeriesInterval s;
  s.info = {std::move(name), unit, std::move(dims), aggregation};
  s.data.count = count;
  s.data.sum = value;
  return s;
}

// A log-normal-ish latency distribution on `buckets` representatives, `total` observations.
std::vector<std::pair<double, uint64_t>> LatencyValues(uint64_t total, int buckets, unsigned seed) {
  std::mt19937 rng(seed);
  std::lognormal_distribution<double> dist(1.5, 0.8);
  std::map<double, uint64_t> hist;
  for (uint64_t i = 0; i < total; ++i) {
    const double v = dist(rng);
    // Log-linear representative, like the monitor's histogram.
    const double step = std::pow(2.0, std::floor(std::log2(v))) / (buckets / 8.0);
    hist[std::round(v / step) * step + 0.125] += 1;
  }
  return {hist.begin(), hist.end()};
}

struct Rich {
  std::vector<SeriesInterval> input;
  size_t functions = 10;
};

Rich RichInput() {
  Rich r;
  const char* functions[] = {"auth-register",         "auth-login",      "users-get",
                             "menus-daily",           "orders-list",     "orders-create",
                             "payments-create-order", "payments-verify", "rfid-verify-card",
                             "monitoring-dashboard"};
  unsigned seed = 1;
  for (const char* f : functions) {
    const uint64_t n = std::string(f) == "orders-list" ? 20000 : 37 * seed;
    r.input.push_back(Distribution("ApiLatency", {{"Function", f}}, LatencyValues(n, 64, seed)));
    r.input.push_back(Scalar("ApiRequests", {{"Function", f}}, Aggregation::kSum, double(n)));
    r.input.push_back(Scalar("ApiServerErrors", {{"Function", f}}, Aggregation::kSum, 0,
                             Unit::kCount,
                             0));  // nothing added: skipped
    ++seed;
  }
  // More than 100 metrics in one dimension set.
  for (int i = 0; i < 150; ++i) {
    r.input.push_back(Scalar("Synthetic" + std::to_string(1000 + i), {{"Function", "orders-list"}},
                             Aggregation::kSum, i * 1.5));
  }
  // A distribution of more than 100 values in a set of its own.
  r.input.push_back(
      Distribution("DatabaseQueryDuration", {{"QueryKind", "read"}}, LatencyValues(450, 32, 99)));
  // 30 dimensions (the most a set may have).
  Dimensions thirty;
  for (int i = 0; i < 30; ++i) thirty.emplace_back("D" + std::to_string(10 + i), "v");
  r.input.push_back(Scalar("Wide", thirty, Aggregation::kSum, 7));
  // Levels: one known, one missing (no lookups: omitted), one without dimensions.
  r.input.push_back(
      Scalar("CacheHitRate", {{"Tier", "memory"}}, Aggregation::kLatest, 93.5, Unit::kPercent));
  r.input.push_back(
      Scalar("CacheHitRate", {{"Tier", "redis"}}, Aggregation::kLatest, 0, Unit::kPercent, 0));
  r.input.push_back(Scalar("MemoryRss", {}, Aggregation::kLatest, 123456789, Unit::kBytes));
  r.input.push_back(Distribution("ColdStartDuration", {{"Store", "sqlite"}}, {{18.5, 1}}));
  return r;
}

SeriesKey KeyOf(const SeriesInterval& s) {
  SeriesKey k{std::string(catalog::kNamespace), s.info.name, {}};
  for (const auto& [n, v] : s.info.dimensions) k.dims[n] = v;
  return k;
}

// ---- tests
// ---------------------------------------------------------------------------------------

TEST(EmfTest, EveryDocumentOfARichInputIsValidEmf) {
  Rich rich = RichInput();
  EmfStats stats;
  const std::vector<std::string> lines = EncodeEmf(rich.input, kTimestamp, {}, &stats);
  ASSERT_FALSE(lines.empty());
  for (const std::string& line : lines) {
    EXPECT_EQ(CheckEmfDocument(line), "") << line.substr(0, 300);
    const json::object root = json::parse(line).as_object();
    EXPECT_EQ(root.at("_aws").at("Timestamp").as_int64(), kTimestamp);
    const json::object& directive =
        root.at("_aws").at("CloudWatchMetrics").as_array().at(0).as_object();
    EXPECT_EQ(directive.at("Namespace").as_string(), catalog::kNamespace);
    for (const json::value& m : directive.at("Metrics").as_array()) {
      EXPECT_EQ(m.at("StorageResolution").as_int64(), 60);
    }
  }
  EXPECT_EQ(stats.documents, lines.size());
  // The redis hit rate (no level) is skipped; ApiServerErrors x10 (nothing added) are sent as 0.
  EXPECT_EQ(stats.series_skipped, 1u);
  EXPECT_EQ(stats.series_dropped, 0u);
}

TEST(EmfTest, TheCheckerRejectsWhatTheSpecificationForbids) {
  // The checker must be able to fail, or the test above proves nothing.
  const std::string good =
      R"({"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["F"]],)"
      R"("Metrics":[{"Name":"M","Unit":"Count"}]}]},"F":"x","M":[1,2]})";
  EXPECT_EQ(CheckEmfDocument(good), "");
  auto replace = [&](std::string from, std::string to) {
    std::string s = good;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  EXPECT_NE(CheckEmfDocument(replace(R"("Timestamp":1)", R"("Timestamp":1.5)")), "");
  EXPECT_NE(CheckEmfDocument(replace(R"("Namespace":"N")", R"("Namespace":"")")), "");
  EXPECT_NE(CheckEmfDocument(replace(R"("Dimensions":[["F"]])", R"("Dimensions":[])")), "");
  EXPECT_NE(CheckEmfDocument(replace(R"("F":"x")", R"("F":3)")), "");
  EXPECT_NE(CheckEmfDocument(replace(R"("Unit":"Count")", R"("Unit":"Parsecs")")), "");
  EXPECT_NE(CheckEmfDocument(replace(R"("M":[1,2])", R"("M":"1")")), "");
  EXPECT_NE(CheckEmfDocument(replace(R"("M":[1,2])", R"("X":[1,2])")), "");
  std::string many = "[";
  for (int i = 0; i < 101; ++i) many += (i ? ",1" : "1");
  EXPECT_NE(CheckEmfDocument(replace("[1,2]", many + "]")), "");
  std::string thirty_one = "[";
  for (int i = 0; i < 31; ++i) thirty_one += (i ? ",\"F\"" : "\"F\"");
  EXPECT_NE(CheckEmfDocument(replace(R"([["F"]])", "[" + thirty_one + "]]")), "");
}

TEST(EmfTest, EmptyInputGivesNoDocuments) {
  EmfStats stats;
  EXPECT_TRUE(EncodeEmf({}, kTimestamp, {}, &stats).empty());
  EXPECT_EQ(stats.documents, 0u);
  // Only series without data: nothing either.
  std::vector<SeriesInterval> idle = {
      Scalar("CacheHitRate", {{"Tier", "memory"}}, Aggregation::kLatest, 0, Unit::kPercent, 0),
      Distribution("ApiLatency", {{"Function", "f"}}, {})};
  EXPECT_TRUE(EncodeEmf(idle, kTimestamp, {}, &stats).empty());
  EXPECT_EQ(stats.series_skipped, 2u);
  // A sum that did not move is a known zero, sent as one.
  const std::vector<std::string> zero =
      EncodeEmf({Scalar("ApiRequests", {{"Function", "f"}}, Aggregation::kSum, 0, Unit::kCount, 0)},
                kTimestamp, {}, &stats);
  ASSERT_EQ(zero.size(), 1u);
  EXPECT_EQ(CheckEmfDocument(zero[0]), "");
  EXPECT_EQ(json::value_to<double>(json::parse(zero[0]).at("ApiRequests")), 0.0);
}

TEST(EmfTest, ReaderSeesTheInputCountsSumsAndPercentiles) {
  Rich rich = RichInput();
  EmfStats stats;
  const EmfLimits limits;
  const std::map<SeriesKey, Seen> seen = Read(EncodeEmf(rich.input, kTimestamp, limits, &stats));
  uint64_t expected_dropped = 0;
  for (const SeriesInterval& s : rich.input) {
    const auto it = seen.find(KeyOf(s));
    if (s.data.count == 0 && s.info.aggregation != Aggregation::kSum) {
      EXPECT_EQ(it, seen.end()) << s.info.name << " has no data and must be omitted";
      continue;
    }
    ASSERT_NE(it, seen.end()) << s.info.name;
    const Seen& got = it->second;
    EXPECT_EQ(got.unit, UnitName(s.info.unit));
    if (s.info.aggregation != Aggregation::kDistribution) {
      // A scalar is written once, whatever number of documents its dimension set needs.
      ASSERT_EQ(got.values.size(), 1u) << s.info.name;
      EXPECT_EQ(got.values[0], s.data.sum) << s.info.name;
      continue;
    }
    // The representatives' own statistics: what an unscaled reader must see exactly.
    std::vector<double> expanded;
    for (const auto& [v, n] : s.data.values) expanded.insert(expanded.end(), n, v);
    const double mean = std::accumulate(expanded.begin(), expanded.end(), 0.0) / expanded.size();
    const double got_mean =
        std::accumulate(got.values.begin(), got.values.end(), 0.0) / got.values.size();
    EXPECT_EQ(*std::min_element(got.values.begin(), got.values.end()), s.data.min);
    EXPECT_EQ(*std::max_element(got.values.begin(), got.values.end()), s.data.max);
    if (s.data.count <= limits.max_values_per_series) {
      EXPECT_EQ(got.values.size(), s.data.count) << s.info.name << ": every observation is sent";
      EXPECT_NEAR(got_mean, mean, 1e-9 * mean);
      for (double q : {0.5, 0.9, 0.95, 0.99, 1.0}) {
        EXPECT_EQ(NearestRank(got.values, q), s.data.Quantile(q)) << s.info.name << " q=" << q;
      }
    } else {
      // Scaled: exactly the bound is sent, and each percentile is the input's within the rank
      // error of the scaling (under one value per representative, plus the two extremes).
      EXPECT_EQ(got.values.size(), limits.max_values_per_series);
      expected_dropped += s.data.count - limits.max_values_per_series;
      const double eps = double(s.data.values.size() + 2) / double(limits.max_values_per_series);
      for (double q : {0.5, 0.9, 0.95, 0.99}) {
        const double p = NearestRank(got.values, q);
        EXPECT_GE(p, s.data.Quantile(std::max(0.0, q - eps))) << "q=" << q;
        EXPECT_LE(p, s.data.Quantile(std::min(1.0, q + eps))) << "q=" << q;
      }
      EXPECT_NEAR(got_mean, mean, 0.02 * mean);
    }
  }
  EXPECT_EQ(stats.values_dropped, expected_dropped);
  EXPECT_GT(expected_dropped, 0u) << "the rich input must exercise the scaling";
}

TEST(EmfTest, LargeGroupsAndDistributionsSpreadOverDocumentsOfOneDimensionSet) {
  Rich rich = RichInput();
  const std::vector<std::string> lines = EncodeEmf(rich.input, kTimestamp);
  size_t orders_list_docs = 0, read_docs = 0;
  for (const std::string& line : lines) {
    const json::object root = json::parse(line).as_object();
    const json::array& dims =
        root.at("_aws").at("CloudWatchMetrics").at(0).at("Dimensions").at(0).as_array();
    // One dimension set per document, and nothing else as a string member.
    std::set<std::string> names;
    for (const json::value& d : dims) names.insert(std::string(d.as_string()));
    for (const auto& member : root) {
      if (member.value().is_string()) {
        EXPECT_TRUE(names.contains(std::string(member.key()))) << member.key();
      }
    }
    if (const json::value* f = root.if_contains("Function"); f && f->as_string() == "orders-list") {
      ++orders_list_docs;
    }
    if (root.contains("QueryKind")) ++read_docs;
  }
  // orders-list: ApiLatency (3000 values after scaling: 30 rounds) + ApiRequests + 150 synthetic:
  // round 0 holds 152 metrics (2 documents), rounds 1..29 one each.
  EXPECT_EQ(orders_list_docs, 2u + 29u);
  EXPECT_EQ(read_docs, 5u);  // 450 values, 100 per document
}

TEST(EmfTest, DimensionSetsGroupRegardlessOfOrderAndStayApart) {
  std::vector<SeriesInterval> in = {
      Scalar("ExternalCalls", {{"Service", "razorpay"}, {"Operation", "capture"}},
             Aggregation::kSum, 3),
      Scalar("ExternalCallRetries", {{"Operation", "capture"}, {"Service", "razorpay"}},
             Aggregation::kSum, 1),
      Scalar("ExternalCalls", {{"Service", "razorpay"}, {"Operation", "refund"}}, Aggregation::kSum,
             2)};
  const std::vector<std::string> lines = EncodeEmf(in, kTimestamp);
  ASSERT_EQ(lines.size(), 2u);
  for (const std::string& line : lines) EXPECT_EQ(CheckEmfDocument(line), "");
  const json::object first = json::parse(lines[0]).as_object();
  EXPECT_EQ(first.at("Operation").as_string(), "capture");
  EXPECT_EQ(first.at("ExternalCalls").as_int64(), 3);
  EXPECT_EQ(first.at("ExternalCallRetries").as_int64(), 1);
  const json::array& names =
      first.at("_aws").at("CloudWatchMetrics").at(0).at("Dimensions").at(0).as_array();
  EXPECT_EQ(names, (json::array{"Operation", "Service"}));
}

TEST(EmfTest, NoDimensionsIsAnEmptyDimensionSet) {
  const std::vector<std::string> lines =
      EncodeEmf({Scalar("MemoryRss", {}, Aggregation::kLatest, 1048576, Unit::kBytes)}, kTimestamp);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(CheckEmfDocument(lines[0]), "");
  EXPECT_NE(lines[0].find(R"("Dimensions":[[]])"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find(R"("MemoryRss":1048576)"), std::string::npos) << lines[0];
}

TEST(EmfTest, UnencodableSeriesAreDroppedAndCounted) {
  Dimensions thirty_one;
  for (int i = 0; i < 31; ++i) thirty_one.emplace_back("D" + std::to_string(10 + i), "v");
  std::vector<SeriesInterval> in = {
      Scalar("TooWide", thirty_one, Aggregation::kSum, 1),
      Scalar("Function", {{"Function", "f"}}, Aggregation::kSum, 1),  // clashes with its dimension
      Scalar("NotFinite", {}, Aggregation::kLatest, std::nan("")),
      Distribution("Inf", {}, {{1, 2}, {std::numeric_limits<double>::infinity(), 1}}),
      Scalar("Fine", {}, Aggregation::kSum, 4)};
  EmfStats stats;
  const std::vector<std::string> lines = EncodeEmf(in, kTimestamp, {}, &stats);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(CheckEmfDocument(lines[0]), "");
  EXPECT_EQ(stats.series, 1u);
  EXPECT_EQ(stats.series_dropped, 4u);
  EXPECT_EQ(stats.values_dropped, 3u);
}

TEST(EmfTest, DocumentsStayUnderTheByteLimit) {
  Rich rich = RichInput();
  EmfLimits limits;
  limits.max_document_bytes = 4000;
  EmfStats stats;
  const std::vector<std::string> lines = EncodeEmf(rich.input, kTimestamp, limits, &stats);
  std::map<SeriesKey, Seen> seen = Read(lines);
  for (const std::string& line : lines) EXPECT_LE(line.size(), 4000u);
  // Halving the metrics is enough here: nothing is lost.
  EXPECT_EQ(stats.oversize_documents, 0u);
  EXPECT_EQ(seen.at(KeyOf(rich.input[0])).values.size(), rich.input[0].data.count);
  // A single metric too large for the limit is dropped, counted, and the rest still sent.
  limits.max_document_bytes = 300;
  EmfStats tight;
  const std::vector<std::string> few =
      EncodeEmf({Distribution("ApiLatency", {{"Function", "f"}}, LatencyValues(500, 64, 3)),
                 Scalar("ApiRequests", {{"Function", "f"}}, Aggregation::kSum, 500)},
                kTimestamp, limits, &tight);
  EXPECT_GT(tight.oversize_documents, 0u);
  EXPECT_GT(tight.values_dropped, 0u);
  ASSERT_FALSE(few.empty());
  for (const std::string& line : few) EXPECT_LE(line.size(), 300u);
}

TEST(EmfTest, RepeatedSeriesGoToDocumentsOfTheirOwn) {
  std::vector<SeriesInterval> in = {
      Scalar("ApiRequests", {{"Function", "f"}}, Aggregation::kSum, 2),
      Scalar("ApiRequests", {{"Function", "f"}}, Aggregation::kSum, 5)};
  const std::map<SeriesKey, Seen> seen = Read(EncodeEmf(in, kTimestamp));
  const Seen& got = seen.at(KeyOf(in[0]));
  EXPECT_EQ(got.documents, 2);
  EXPECT_EQ(got.values, (std::vector<double>{2, 5}));
}

TEST(EmfTest, ScalingKeepsProportionsAndExtremes) {
  EXPECT_EQ(ScaleCountsForEmf({3, 4}, 10), (std::vector<uint64_t>{3, 4}));
  const std::vector<uint64_t> scaled = ScaleCountsForEmf({1, 500, 300, 199, 1}, 100);
  EXPECT_EQ(std::accumulate(scaled.begin(), scaled.end(), uint64_t{0}), 100u);
  EXPECT_EQ(scaled.front(), 1u);  // the minimum survives
  EXPECT_EQ(scaled.back(), 1u);   // and the maximum
  // Exact shares 49.95, 29.97, 19.88: each within one value of its share.
  EXPECT_EQ(scaled, (std::vector<uint64_t>{1, 49, 30, 19, 1}));
  // Largest remainder: 7 values for {1,1,1} x (7/3) -> 3,2,2 (ties to the earlier).
  EXPECT_EQ(ScaleCountsForEmf({10, 10, 10}, 7), (std::vector<uint64_t>{3, 2, 2}));
  // Two representatives, budget 2: one each, the minimum included.
  EXPECT_EQ(ScaleCountsForEmf({1, 1000}, 2), (std::vector<uint64_t>{1, 1}));
  // Huge counts do not overflow.
  const std::vector<uint64_t> big = ScaleCountsForEmf({uint64_t{1} << 62, uint64_t{1} << 62}, 3000);
  EXPECT_EQ(big, (std::vector<uint64_t>{1500, 1500}));
}

}  // namespace
}  // namespace hasivu::metrics
