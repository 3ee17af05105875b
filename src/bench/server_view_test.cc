#include "bench/server_view.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace hasivu::bench {
namespace {

Scrape MustParse(const std::string& text) {
  StatusOr<Scrape> s = ParsePrometheusText(text);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? *std::move(s) : Scrape{};
}

Scrape ParseFile(const std::string& name) {
  std::ifstream in(std::string(HASIVU_BENCH_TESTDATA) + "/" + name);
  EXPECT_TRUE(in) << name;
  std::stringstream text;
  text << in.rdbuf();
  return MustParse(text.str());
}

// One series of a histogram in a few of the server's seconds buckets: `counts` per bucket (not
// cumulative), the fifth being +Inf's own. Without the TYPE line (Type() gives it).
std::string Series(const std::string& name, const std::string& labels, std::vector<int> counts) {
  static const char* kBounds[] = {"0.001", "0.0025", "0.005", "0.01", "+Inf"};
  std::string out;
  int cumulative = 0;
  for (size_t i = 0; i < 5; ++i) {
    cumulative += i < counts.size() ? counts[i] : 0;
    out += name + "_bucket{" + labels + (labels.empty() ? "" : ",") + "le=\"" + kBounds[i] +
           "\"} " + std::to_string(cumulative) + "\n";
  }
  out += name + "_sum{" + labels + "} 0\n";
  out += name + "_count{" + labels + "} " + std::to_string(cumulative) + "\n";
  return out;
}

std::string Type(const std::string& name) { return "# TYPE " + name + " histogram\n"; }

// The real pair: `hasivu serve` (SQLite, memory cache, development seed) scraped, then 3
// orders-create and 3 payments-create-order, 40 each of users-get (gzip), menus-daily
// (gzip, br: precompressed) and orders-list (gzip), 5 monitoring-dashboard (zstd) and one 404 of
// users-get, then scraped again. The expectations were worked out by hand from the two files.
TEST(DiffServerViewTest, RealScrapePairOfTheServer) {
  const Scrape before = ParseFile("metrics_before.txt");
  const Scrape after = ParseFile("metrics_after.txt");
  const ServerView v = DiffServerView(before, after);

  // hasivu_db_operation_duration_seconds, reads and writes: 15 operations in the interval, 14
  // under 1 ms and one in (2.5, 5] ms; the rank 0.95 * 15 = 14.25 is a quarter into that bucket.
  ASSERT_TRUE(v.db_queries.has_value());
  EXPECT_DOUBLE_EQ(*v.db_queries, 15);
  ASSERT_TRUE(v.db_query_p95_ms.has_value());
  EXPECT_NEAR(*v.db_query_p95_ms, 3.125, 1e-9);

  // hasivu_cache_{hits,misses}_total{tier="memory"}: +234 hits, +14 misses.
  ASSERT_EQ(v.cache_hit_rate.count("memory"), 1u);
  EXPECT_NEAR(v.cache_hit_rate.at("memory"), 234.0 / 248.0, 1e-12);
  ASSERT_EQ(v.cache_hit_rate.count("all"), 1u);  // one tier: the same figure
  EXPECT_NEAR(v.cache_hit_rate.at("all"), 234.0 / 248.0, 1e-12);
  EXPECT_EQ(v.cache_hit_rate.size(), 2u);

  // Only the dashboards were compressed on the fly (zstd): 90411 bytes in, 11752 out.
  ASSERT_TRUE(v.compression_ratio.has_value());
  EXPECT_NEAR(*v.compression_ratio, 11752.0 / 90411.0, 1e-12);
  ASSERT_TRUE(v.compression_bytes_saved.has_value());
  EXPECT_DOUBLE_EQ(*v.compression_bytes_saved, 90411.0 - 11752.0);

  // The six functions that had requests; the others none.
  EXPECT_EQ(v.api_p95_ms.size(), 6u);
  EXPECT_EQ(v.api_p95_ms.count("auth-login"), 0u);
  EXPECT_EQ(v.api_p95_ms.count("rfid-verify-card"), 0u);
  // users-get: 40 of 41 under 0.1 ms, rank 38.95 of 40 in (0, 0.1 ms].
  EXPECT_NEAR(v.api_p95_ms.at("users-get"), 0.1 * 38.95 / 40, 1e-9);
  // orders-create: 2 in (0.5, 1] ms, the third in (2.5, 5] ms; rank 2.85. payments-create-order:
  // 2 in (0.25, 0.5] ms, 1 in (0.5, 1]. monitoring-dashboard: 2 and 3 in those; rank 4.75.
  EXPECT_NEAR(v.api_p95_ms.at("orders-create"), 2.5 + 2.5 * 0.85, 1e-9);
  EXPECT_NEAR(v.api_p95_ms.at("payments-create-order"), 0.5 + 0.5 * 0.85, 1e-9);
  EXPECT_NEAR(v.api_p95_ms.at("monitoring-dashboard"), 0.5 + 0.5 * (4.75 - 2) / 3, 1e-9);
  ASSERT_TRUE(v.api_p95_ms_max.has_value());
  EXPECT_DOUBLE_EQ(*v.api_p95_ms_max, v.api_p95_ms.at("orders-create"));

  // 132 answers of the ten functions (one a 404), none 5xx; /metrics's own are not counted.
  ASSERT_TRUE(v.error_rate_5xx.has_value());
  EXPECT_DOUBLE_EQ(*v.error_rate_5xx, 0);
}

TEST(DiffServerViewTest, NothingExportedGivesNoFigures) {
  const Scrape empty;
  const ServerView v = DiffServerView(empty, empty);
  EXPECT_FALSE(v.db_query_p95_ms.has_value());
  EXPECT_FALSE(v.db_queries.has_value());
  EXPECT_TRUE(v.cache_hit_rate.empty());
  EXPECT_FALSE(v.compression_ratio.has_value());
  EXPECT_FALSE(v.compression_bytes_saved.has_value());
  EXPECT_FALSE(v.api_p95_ms_max.has_value());
  EXPECT_TRUE(v.api_p95_ms.empty());
  EXPECT_FALSE(v.error_rate_5xx.has_value());
}

TEST(DiffServerViewTest, DatabaseP95OverReadsAndWritesOfTheInterval) {
  const std::string kName = "hasivu_db_operation_duration_seconds";
  // Before: 100 slow reads (in (5, 10] ms) that must not count.
  const Scrape before = MustParse(Type(kName) + Series(kName, "kind=\"read\"", {0, 0, 0, 100}) +
                                  Series(kName, "kind=\"write\"", {}));
  // After: +10 reads under 1 ms, +10 writes in (1, 2.5] ms.
  const Scrape after = MustParse(Type(kName) + Series(kName, "kind=\"read\"", {10, 0, 0, 100}) +
                                 Series(kName, "kind=\"write\"", {0, 10}));
  const ServerView v = DiffServerView(before, after);
  ASSERT_TRUE(v.db_queries.has_value());
  EXPECT_DOUBLE_EQ(*v.db_queries, 20);
  // Rank 19 of 20: 9 of 10 into (1, 2.5] ms.
  ASSERT_TRUE(v.db_query_p95_ms.has_value());
  EXPECT_NEAR(*v.db_query_p95_ms, 1 + 1.5 * 0.9, 1e-9);

  // No operation in the interval: a count of 0, no p95.
  const ServerView idle = DiffServerView(after, after);
  EXPECT_EQ(idle.db_queries, 0);
  EXPECT_FALSE(idle.db_query_p95_ms.has_value());
}

TEST(DiffServerViewTest, WaitsForAConnectionAgainstItsHolds) {
  const std::string kWait = "hasivu_http_offload_wait_seconds";
  const std::string kPoolWait = "hasivu_db_pool_wait_seconds";
  const std::string kHold = "hasivu_db_pool_hold_seconds";
  // Before: 50 waits in (5, 10] ms that must not count; holds none yet.
  const Scrape before = MustParse(Type(kWait) + Series(kWait, "", {0, 0, 0, 50}) + Type(kHold) +
                                  Series(kHold, "", {}));
  // After: +98 waits under 1 ms and +2 in (2.5, 5] ms; pool waits all under 1 ms (a series
  // created in the interval); holds +10 in (1, 2.5] ms and one past the last bound.
  const Scrape after =
      MustParse(Type(kWait) + Series(kWait, "", {98, 0, 2, 50}) + Type(kPoolWait) +
                Series(kPoolWait, "", {7}) + Type(kHold) + Series(kHold, "", {0, 10, 0, 0, 1}));
  const ServerView v = DiffServerView(before, after);

  ASSERT_TRUE(v.offload_wait.has_value());
  EXPECT_DOUBLE_EQ(v.offload_wait->count, 100);
  // Rank 99 of 100: half into (2.5, 5] ms; the worst is that bucket's bound, not the old 10 ms.
  ASSERT_TRUE(v.offload_wait->p99_ms.has_value());
  EXPECT_NEAR(*v.offload_wait->p99_ms, 3.75, 1e-9);
  EXPECT_NEAR(*v.offload_wait->worst_ms, 5, 1e-9);
  EXPECT_FALSE(v.offload_wait->worst_beyond_bounds);

  ASSERT_TRUE(v.db_pool_wait.has_value());
  EXPECT_DOUBLE_EQ(v.db_pool_wait->count, 7);
  EXPECT_NEAR(*v.db_pool_wait->worst_ms, 1, 1e-9);

  ASSERT_TRUE(v.db_pool_hold.has_value());
  EXPECT_DOUBLE_EQ(v.db_pool_hold->count, 11);
  EXPECT_NEAR(*v.db_pool_hold->worst_ms, 10, 1e-9);
  EXPECT_TRUE(v.db_pool_hold->worst_beyond_bounds);

  // A server without a blocking pool (SQLite) exports none of the three.
  const ServerView none = DiffServerView(Scrape{}, Scrape{});
  EXPECT_FALSE(none.offload_wait.has_value());
  EXPECT_FALSE(none.db_pool_wait.has_value());
  EXPECT_FALSE(none.db_pool_hold.has_value());
}

TEST(DiffServerViewTest, CacheHitRatePerTierAndAll) {
  const Scrape before = MustParse(
      "hasivu_cache_hits_total{tier=\"l1\"} 100\n"
      "hasivu_cache_misses_total{tier=\"l1\"} 100\n"
      "hasivu_cache_hits_total{tier=\"l2\"} 0\n"
      "hasivu_cache_misses_total{tier=\"l2\"} 100\n"
      "hasivu_cache_hits_total{tier=\"idle\"} 5\n"
      "hasivu_cache_misses_total{tier=\"idle\"} 5\n");
  // +80 L1 hits of 100 lookups; L2 sees the 20 misses and answers 15.
  const Scrape after = MustParse(
      "hasivu_cache_hits_total{tier=\"l1\"} 180\n"
      "hasivu_cache_misses_total{tier=\"l1\"} 120\n"
      "hasivu_cache_hits_total{tier=\"l2\"} 15\n"
      "hasivu_cache_misses_total{tier=\"l2\"} 105\n"
      "hasivu_cache_hits_total{tier=\"idle\"} 5\n"
      "hasivu_cache_misses_total{tier=\"idle\"} 5\n");
  const ServerView v = DiffServerView(before, after);
  EXPECT_DOUBLE_EQ(v.cache_hit_rate.at("l1"), 0.80);
  EXPECT_DOUBLE_EQ(v.cache_hit_rate.at("l2"), 0.75);
  EXPECT_DOUBLE_EQ(v.cache_hit_rate.at("all"), 0.95);  // (80 + 15) / 100
  // A tier without lookups in the interval has no rate, not 0 and not 0/0.
  EXPECT_EQ(v.cache_hit_rate.count("idle"), 0u);
  EXPECT_EQ(v.cache_hit_rate.size(), 3u);

  // No lookups at all: no tier, and no "all".
  EXPECT_TRUE(DiffServerView(after, after).cache_hit_rate.empty());
}

TEST(DiffServerViewTest, CompressionRatioAndBytesSaved) {
  const Scrape before = MustParse(
      "hasivu_http_compression_bytes_in_total{encoding=\"gzip\"} 1000\n"
      "hasivu_http_compression_bytes_out_total{encoding=\"gzip\"} 500\n"
      "hasivu_http_compression_bytes_in_total{encoding=\"br\"} 0\n"
      "hasivu_http_compression_bytes_out_total{encoding=\"br\"} 0\n");
  const Scrape after = MustParse(
      "hasivu_http_compression_bytes_in_total{encoding=\"gzip\"} 4000\n"
      "hasivu_http_compression_bytes_out_total{encoding=\"gzip\"} 1000\n"
      "hasivu_http_compression_bytes_in_total{encoding=\"br\"} 1000\n"
      "hasivu_http_compression_bytes_out_total{encoding=\"br\"} 100\n");
  const ServerView v = DiffServerView(before, after);
  EXPECT_DOUBLE_EQ(*v.compression_ratio, 600.0 / 4000.0);  // (500 + 100) / (3000 + 1000)
  EXPECT_DOUBLE_EQ(*v.compression_bytes_saved, 3400);

  // Nothing compressed in the interval: saved 0, no ratio.
  const ServerView none = DiffServerView(after, after);
  EXPECT_FALSE(none.compression_ratio.has_value());
  EXPECT_EQ(none.compression_bytes_saved, 0);
}

TEST(DiffServerViewTest, ApiP95PerFunctionAndTheWorst) {
  const std::string kName = "hasivu_http_request_duration_seconds";
  auto series = [&](const std::string& route, std::vector<int> counts) {
    return Series(kName, "route=\"" + route + "\"", std::move(counts));
  };
  const Scrape before = MustParse(Type(kName) + series("users-get", {5}) +
                                  series("menus-daily", {5}) + series("healthz", {}));
  const Scrape after = MustParse(Type(kName) + series("users-get", {25}) +  // +20 under 1 ms
                                 series("menus-daily", {5}) +               // nothing new
                                 series("orders-create", {0, 0, 10}) +      // new: (2.5, 5] ms
                                 series("healthz", {0, 0, 0, 50}));         // not a function
  const ServerView v = DiffServerView(before, after);
  EXPECT_EQ(v.api_p95_ms.size(), 2u);
  EXPECT_NEAR(v.api_p95_ms.at("users-get"), 0.95, 1e-9);  // rank 19 of 20 in (0, 1] ms
  EXPECT_NEAR(v.api_p95_ms.at("orders-create"), 2.5 + 2.5 * 0.95, 1e-9);
  EXPECT_EQ(v.api_p95_ms.count("menus-daily"), 0u);
  EXPECT_EQ(v.api_p95_ms.count("healthz"), 0u);
  EXPECT_NEAR(*v.api_p95_ms_max, 2.5 + 2.5 * 0.95, 1e-9);
}

TEST(DiffServerViewTest, ServerErrorRateOfTheTenFunctions) {
  const Scrape before = MustParse(
      "hasivu_http_requests_total{class=\"2xx\",method=\"GET\",route=\"users-get\"} 50\n"
      "hasivu_http_requests_total{class=\"5xx\",method=\"GET\",route=\"users-get\"} 50\n");
  const Scrape after = MustParse(
      "hasivu_http_requests_total{class=\"2xx\",method=\"GET\",route=\"users-get\"} 140\n"
      "hasivu_http_requests_total{class=\"5xx\",method=\"GET\",route=\"users-get\"} 55\n"
      "hasivu_http_requests_total{class=\"4xx\",method=\"POST\",route=\"orders-create\"} 5\n"
      "hasivu_http_requests_total{class=\"5xx\",method=\"GET\",route=\"readyz\"} 1000\n");
  const ServerView v = DiffServerView(before, after);
  ASSERT_TRUE(v.error_rate_5xx.has_value());
  EXPECT_DOUBLE_EQ(*v.error_rate_5xx, 5.0 / 100.0);  // 5 of 90 + 5 + 5; readyz is no function
  EXPECT_FALSE(DiffServerView(after, after).error_rate_5xx.has_value());  // no requests
}

TEST(DiffServerViewTest, ARestartedServerCountsFromItsRestart) {
  const Scrape before = MustParse(
      "hasivu_cache_hits_total{tier=\"memory\"} 1000\n"
      "hasivu_cache_misses_total{tier=\"memory\"} 1000\n");
  const Scrape after = MustParse(
      "hasivu_cache_hits_total{tier=\"memory\"} 9\n"
      "hasivu_cache_misses_total{tier=\"memory\"} 1\n");
  EXPECT_DOUBLE_EQ(DiffServerView(before, after).cache_hit_rate.at("memory"), 0.9);
}

}  // namespace
}  // namespace hasivu::bench
