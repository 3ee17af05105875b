#include "metrics/metrics.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

namespace hasivu::metrics {
namespace {

// ---- A small parser of the Prometheus text format, strict enough to catch malformed output ----

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  std::string value;
};

struct Exposition {
  std::map<std::string, std::string> help;  // family -> text (unescaped)
  std::map<std::string, std::string> type;  // family -> type
  std::vector<Sample> samples;
  std::vector<std::string> errors;
};

bool IsNameChar(char c, bool first) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
         (!first && c >= '0' && c <= '9');
}

Exposition Parse(const std::string& text) {
  Exposition e;
  std::istringstream in(text);
  std::string line;
  if (!text.empty() && text.back() != '\n') e.errors.push_back("no trailing newline");
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line.starts_with("# HELP ") || line.starts_with("# TYPE ")) {
      bool is_help = line[2] == 'H';
      std::string rest = line.substr(7);
      size_t sp = rest.find(' ');
      if (sp == std::string::npos) {
        e.errors.push_back("bad comment: " + line);
        continue;
      }
      std::string family = rest.substr(0, sp);
      auto& map = is_help ? e.help : e.type;
      if (map.contains(family)) e.errors.push_back("duplicate HELP/TYPE for " + family);
      std::string body = rest.substr(sp + 1);
      if (is_help) {
        std::string un;
        for (size_t i = 0; i < body.size(); ++i) {
          if (body[i] == '\\' && i + 1 < body.size()) {
            ++i;
            un += body[i] == 'n' ? '\n' : body[i];
          } else {
            un += body[i];
          }
        }
        body = un;
      }
      map[family] = body;
      continue;
    }
    if (line[0] == '#') continue;
    Sample s;
    size_t i = 0;
    while (i < line.size() && IsNameChar(line[i], i == 0)) s.name += line[i++];
    if (s.name.empty()) {
      e.errors.push_back("no metric name: " + line);
      continue;
    }
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        std::string key;
        while (i < line.size() && line[i] != '=') key += line[i++];
        if (i + 1 >= line.size() || line[i + 1] != '"') {
          e.errors.push_back("bad label: " + line);
          break;
        }
        i += 2;
        std::string value;
        while (i < line.size() && line[i] != '"') {
          if (line[i] == '\\') {
            ++i;
            if (i >= line.size()) break;
            if (line[i] == 'n') {
              value += '\n';
            } else if (line[i] == '\\' || line[i] == '"') {
              value += line[i];
            } else {
              e.errors.push_back("bad escape: " + line);
            }
          } else {
            value += line[i];
          }
          ++i;
        }
        ++i;  // closing quote
        if (s.labels.contains(key)) e.errors.push_back("duplicate label: " + line);
        s.labels[key] = value;
        if (i < line.size() && line[i] == ',') ++i;
      }
      if (i >= line.size()) {
        e.errors.push_back("unterminated labels: " + line);
        continue;
      }
      ++i;  // '}'
    }
    if (i >= line.size() || line[i] != ' ') {
      e.errors.push_back("no value: " + line);
      continue;
    }
    s.value = line.substr(i + 1);
    if (s.value.empty() || s.value.find(' ') != std::string::npos) {
      e.errors.push_back("bad value: " + line);
    }
    e.samples.push_back(std::move(s));
  }
  return e;
}

double ParseValue(const std::string& v) {
  if (v == "+Inf") return INFINITY;
  return std::stod(v);
}

std::vector<const Sample*> Find(const Exposition& e, const std::string& name,
                                const std::map<std::string, std::string>& must_have = {}) {
  std::vector<const Sample*> out;
  for (const auto& s : e.samples) {
    if (s.name != name) continue;
    bool ok = std::all_of(must_have.begin(), must_have.end(), [&](const auto& kv) {
      auto it = s.labels.find(kv.first);
      return it != s.labels.end() && it->second == kv.second;
    });
    if (ok) out.push_back(&s);
  }
  return out;
}

// ---- Counters and gauges -----------------------------------------------------------------------

TEST(CounterTest, ExactTotalUnderConcurrency) {
  RegistryPtr registry = NewRegistry();
  Counter& c = registry->GetCounter("hasivu_test_total", "test");
  constexpr int kThreads = 8;
  constexpr int kAdds = 100000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&c] {
      for (int i = 0; i < kAdds; ++i) c.Add();
    });
  }
  // Reading while writers run must be safe (checked under TSan) and never exceed the total.
  for (int i = 0; i < 100; ++i) EXPECT_LE(c.Value(), uint64_t{kThreads} * kAdds);
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.Value(), uint64_t{kThreads} * kAdds);
  c.Add(42);
  EXPECT_EQ(c.Value(), uint64_t{kThreads} * kAdds + 42);
}

TEST(GaugeTest, SetAndAdd) {
  RegistryPtr registry = NewRegistry();
  Gauge& g = registry->GetGauge("hasivu_conns", "open connections");
  EXPECT_EQ(g.Value(), 0);
  g.Set(10);
  g.Add(-3);
  EXPECT_EQ(g.Value(), 7);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&g] {
      for (int i = 0; i < 10000; ++i) {
        g.Add(1);
        g.Add(-1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(g.Value(), 7);
}

TEST(RegistryTest, SameNameAndLabelsReturnSameObject) {
  RegistryPtr registry = NewRegistry();
  Counter& a = registry->GetCounter("req_total", "h", {{"route", "/x"}, {"code", "2xx"}});
  Counter& b = registry->GetCounter("req_total", "other help", {{"code", "2xx"}, {"route", "/x"}});
  Counter& c = registry->GetCounter("req_total", "h", {{"route", "/y"}, {"code", "2xx"}});
  EXPECT_EQ(&a, &b);
  EXPECT_NE(&a, &c);
  Histogram& h1 = registry->GetHistogram("lat", "h", {{"route", "/x"}}, 1e-6);
  Histogram& h2 = registry->GetHistogram("lat", "h", {{"route", "/x"}}, 1e-6);
  EXPECT_EQ(&h1, &h2);
  Gauge& g1 = registry->GetGauge("g", "h");
  Gauge& g2 = registry->GetGauge("g", "h");
  EXPECT_EQ(&g1, &g2);
  a.Add(3);
  EXPECT_EQ(b.Value(), 3u);
  // help is kept from the first call.
  Exposition e = Parse(registry->RenderPrometheus());
  EXPECT_EQ(e.help["req_total"], "h");
}

TEST(RegistryTest, ConcurrentRegistrationReturnsOneObject) {
  RegistryPtr registry = NewRegistry();
  std::vector<Counter*> seen(8);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      Counter& c = registry->GetCounter("race_total", "h", {{"k", "v"}});
      c.Add();
      seen[t] = &c;
    });
  }
  for (auto& t : threads) t.join();
  for (Counter* c : seen) EXPECT_EQ(c, seen[0]);
  EXPECT_EQ(seen[0]->Value(), 8u);
}

TEST(RegistryDeathTest, OneNameForTwoKindsAborts) {
  EXPECT_DEATH(
      {
        RegistryPtr registry = NewRegistry();
        registry->GetCounter("x_total", "h");
        registry->GetGauge("x_total", "h");
      },
      "x_total");
}

// ---- Histograms --------------------------------------------------------------------------------

TEST(HistogramTest, EmptySnapshot) {
  RegistryPtr registry = NewRegistry();
  HistogramSnapshot s = registry->GetHistogram("h", "h").Snapshot();
  EXPECT_EQ(s.count, 0u);
  EXPECT_EQ(s.sum, 0);
  EXPECT_EQ(s.min, 0);
  EXPECT_EQ(s.max, 0);
  EXPECT_EQ(s.Quantile(0.5), 0);
  EXPECT_TRUE(s.buckets.empty());
}

TEST(HistogramTest, CountSumMinMaxExact) {
  RegistryPtr registry = NewRegistry();
  Histogram& h = registry->GetHistogram("h", "h");
  for (double v : {5.0, 1000.0, 0.25, 123456.0, 7.5}) h.Record(v);
  HistogramSnapshot s = h.Snapshot();
  EXPECT_EQ(s.count, 5u);
  EXPECT_DOUBLE_EQ(s.sum, 5.0 + 1000.0 + 0.25 + 123456.0 + 7.5);
  EXPECT_EQ(s.min, 0.25);
  EXPECT_EQ(s.max, 123456.0);
  EXPECT_EQ(s.Quantile(0), 0.25);
  EXPECT_EQ(s.Quantile(1), 123456.0);
  uint64_t total = 0;
  double prev = -1;
  for (const auto& [upper, n] : s.buckets) {
    EXPECT_GT(upper, prev);
    EXPECT_GT(n, 0u);
    prev = upper;
    total += n;
  }
  EXPECT_EQ(total, 5u);
}

TEST(HistogramTest, BadValuesNeitherCrashNorCorrupt) {
  RegistryPtr registry = NewRegistry();
  Histogram& h = registry->GetHistogram("h", "h");
  h.Record(NAN);
  h.Record(INFINITY);
  h.Record(-INFINITY);
  EXPECT_EQ(h.Snapshot().count, 0u);
  h.Record(-5);  // recorded as 0
  h.Record(1e300);
  h.Record(1e-300);
  HistogramSnapshot s = h.Snapshot();
  EXPECT_EQ(s.count, 3u);
  EXPECT_EQ(s.min, 0);
  EXPECT_EQ(s.max, 1e300);
  EXPECT_EQ(s.Quantile(1), 1e300);
  double median = s.Quantile(0.5);
  EXPECT_GE(median, 0);
  EXPECT_LE(median, 1e300);
  Exposition e = Parse(registry->RenderPrometheus());
  EXPECT_TRUE(e.errors.empty()) << e.errors.front();
}

TEST(HistogramTest, ConstantValueQuantilesAreExact) {
  RegistryPtr registry = NewRegistry();
  Histogram& h = registry->GetHistogram("h", "h");
  for (int i = 0; i < 1000; ++i) h.Record(3.7);
  HistogramSnapshot s = h.Snapshot();
  for (double q : {0.01, 0.5, 0.99}) EXPECT_DOUBLE_EQ(s.Quantile(q), 3.7);
}

double ExactQuantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  size_t idx = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size())));
  return v[std::clamp<size_t>(idx, 1, v.size()) - 1];
}

class QuantileTest : public ::testing::TestWithParam<const char*> {};

TEST_P(QuantileTest, WithinBucketError) {
  std::mt19937_64 rng(12345);
  std::vector<double> values;
  std::string dist = GetParam();
  if (dist == "uniform") {
    std::uniform_real_distribution<double> d(0, 10000);
    for (int i = 0; i < 100000; ++i) values.push_back(d(rng));
  } else if (dist == "lognormal") {
    std::lognormal_distribution<double> d(6, 1.5);  // latency-like, microseconds
    for (int i = 0; i < 100000; ++i) values.push_back(d(rng));
  } else {  // integers 1..1000, each ten times
    for (int i = 1; i <= 1000; ++i) {
      for (int k = 0; k < 10; ++k) values.push_back(i);
    }
  }
  RegistryPtr registry = NewRegistry();
  Histogram& h = registry->GetHistogram("h", "h");
  for (double v : values) h.Record(v);
  HistogramSnapshot s = h.Snapshot();
  ASSERT_EQ(s.count, values.size());
  for (double q : {0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999}) {
    double exact = ExactQuantile(values, q);
    double got = s.Quantile(q);
    // One bucket is under 1/kSubBuckets of its values wide.
    EXPECT_NEAR(got, exact, exact / kSubBuckets + 1e-9) << dist << " q=" << q;
  }
}

INSTANTIATE_TEST_SUITE_P(Distributions, QuantileTest,
                         ::testing::Values("uniform", "lognormal", "integers"));

TEST(HistogramTest, ConcurrentRecordsAllCounted) {
  RegistryPtr registry = NewRegistry();
  Histogram& h = registry->GetHistogram("h", "h", {}, 1e-6);
  constexpr int kThreads = 8;
  constexpr int kRecords = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&h, t] {
      for (int i = 0; i < kRecords; ++i) h.Record(t + 1);
    });
  }
  for (int i = 0; i < 20; ++i) {
    HistogramSnapshot mid = h.Snapshot();
    EXPECT_LE(mid.count, uint64_t{kThreads} * kRecords);
    (void)registry->RenderPrometheus();
  }
  for (auto& t : threads) t.join();
  HistogramSnapshot s = h.Snapshot();
  EXPECT_EQ(s.count, uint64_t{kThreads} * kRecords);
  EXPECT_DOUBLE_EQ(s.sum, double{kRecords} * (kThreads * (kThreads + 1) / 2));
  EXPECT_EQ(s.min, 1);
  EXPECT_EQ(s.max, kThreads);
}

// ---- Prometheus output -------------------------------------------------------------------------

TEST(PrometheusTest, FullExpositionParsesBack) {
  RegistryPtr registry = NewRegistry();
  for (const char* route : {"/api/v1/orders", "/healthz"}) {
    for (int status : {200, 404, 503}) {
      registry
          ->GetCounter("hasivu_http_requests_total", "HTTP requests by route and status class",
                       {{"route", route}, {"code", std::string(StatusClass(status))}})
          .Add(status);
    }
    Histogram& h = registry->GetHistogram("hasivu_http_request_duration_seconds", "Request latency",
                                          {{"route", route}}, 1e-6);
    for (int us = 1; us <= 20000; us += 7) h.Record(us);
  }
  registry->GetGauge("hasivu_open_connections", "Open connections").Set(-3);

  std::string text = registry->RenderPrometheus();
  Exposition e = Parse(text);
  ASSERT_TRUE(e.errors.empty()) << e.errors.front() << "\n" << text;

  EXPECT_EQ(e.type["hasivu_http_requests_total"], "counter");
  EXPECT_EQ(e.type["hasivu_http_request_duration_seconds"], "histogram");
  EXPECT_EQ(e.type["hasivu_open_connections"], "gauge");
  EXPECT_EQ(e.help.size(), 3u);
  EXPECT_EQ(e.type.size(), 3u);
  // Every sample belongs to a family announced before it.
  for (const auto& s : e.samples) {
    std::string family = s.name;
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      if (!e.type.contains(family) && family.ends_with(suffix)) {
        family.resize(family.size() - std::strlen(suffix));
      }
    }
    EXPECT_TRUE(e.type.contains(family)) << s.name;
  }

  auto c = Find(e, "hasivu_http_requests_total", {{"route", "/healthz"}, {"code", "4xx"}});
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0]->value, "404");
  EXPECT_EQ(Find(e, "hasivu_http_requests_total").size(), 6u);
  auto g = Find(e, "hasivu_open_connections");
  ASSERT_EQ(g.size(), 1u);
  EXPECT_EQ(g[0]->value, "-3");

  for (const char* route : {"/api/v1/orders", "/healthz"}) {
    auto buckets = Find(e, "hasivu_http_request_duration_seconds_bucket", {{"route", route}});
    ASSERT_EQ(buckets.size(), 17u);  // 16 default bounds + +Inf
    double prev_le = -1;
    double prev_count = -1;
    for (const Sample* b : buckets) {
      double le = ParseValue(b->labels.at("le"));
      double count = ParseValue(b->value);
      EXPECT_GT(le, prev_le);
      EXPECT_GE(count, prev_count);
      prev_le = le;
      prev_count = count;
    }
    EXPECT_EQ(buckets.back()->labels.at("le"), "+Inf");
    auto count = Find(e, "hasivu_http_request_duration_seconds_count", {{"route", route}});
    auto sum = Find(e, "hasivu_http_request_duration_seconds_sum", {{"route", route}});
    ASSERT_EQ(count.size(), 1u);
    ASSERT_EQ(sum.size(), 1u);
    EXPECT_EQ(buckets.back()->value, count[0]->value);
    // 1, 8, 15, ... 20000 microseconds: 2858 values.
    EXPECT_EQ(count[0]->value, "2858");
    double expected_sum = 0;
    for (int us = 1; us <= 20000; us += 7) expected_sum += us * 1e-6;
    EXPECT_NEAR(ParseValue(sum[0]->value), expected_sum, 1e-9);
    // Exact counts at export bounds: values <= 1 ms are 1, 8, ..., 995 (143 values); <= 10 ms
    // are up to 9997 (1429 values).
    auto le_1ms =
        Find(e, "hasivu_http_request_duration_seconds_bucket", {{"route", route}, {"le", "0.001"}});
    ASSERT_EQ(le_1ms.size(), 1u);
    EXPECT_EQ(le_1ms[0]->value, "143");
    auto le_10ms =
        Find(e, "hasivu_http_request_duration_seconds_bucket", {{"route", route}, {"le", "0.01"}});
    ASSERT_EQ(le_10ms.size(), 1u);
    EXPECT_EQ(le_10ms[0]->value, "1429");
  }
}

TEST(PrometheusTest, ValueOnABoundCountsAsLessOrEqual) {
  RegistryPtr registry = NewRegistry();
  // 100 us with scale 1e-6 is 0.0001 s, the first default bound, though 1e-6 is inexact.
  Histogram& h = registry->GetHistogram("lat_seconds", "h", {}, 1e-6);
  h.Record(100);
  h.Record(250);
  h.Record(100.001);
  Exposition e = Parse(registry->RenderPrometheus());
  auto b1 = Find(e, "lat_seconds_bucket", {{"le", "0.0001"}});
  auto b2 = Find(e, "lat_seconds_bucket", {{"le", "0.00025"}});
  ASSERT_EQ(b1.size(), 1u);
  ASSERT_EQ(b2.size(), 1u);
  EXPECT_EQ(b1[0]->value, "1");
  EXPECT_EQ(b2[0]->value, "3");
}

TEST(PrometheusTest, CustomBoundsSortedAndDeduplicated) {
  RegistryPtr registry = NewRegistry();
  Histogram& h =
      registry->GetHistogram("size_bytes", "h", {}, 1.0, {1000, 10, 100, 10, INFINITY, NAN});
  for (double v : {5, 10, 50, 500, 5000}) h.Record(v);
  Exposition e = Parse(registry->RenderPrometheus());
  ASSERT_TRUE(e.errors.empty()) << e.errors.front();
  auto buckets = Find(e, "size_bytes_bucket");
  ASSERT_EQ(buckets.size(), 4u);
  std::vector<std::pair<std::string, std::string>> got;
  for (const Sample* b : buckets) got.emplace_back(b->labels.at("le"), b->value);
  std::vector<std::pair<std::string, std::string>> want = {
      {"10", "2"}, {"100", "3"}, {"1000", "4"}, {"+Inf", "5"}};
  EXPECT_EQ(got, want);
  EXPECT_EQ(Find(e, "size_bytes_sum")[0]->value, "5565");
}

TEST(PrometheusTest, LabelValuesAndHelpAreEscaped) {
  RegistryPtr registry = NewRegistry();
  std::string nasty = "a\\b\"c\nd}e,f=g";
  registry->GetCounter("esc_total", "line one\nline \\ two \"quoted\"", {{"v", nasty}}).Add(1);
  registry->GetHistogram("esc_hist", "h", {{"v", nasty}}).Record(1);
  std::string text = registry->RenderPrometheus();
  // A raw newline inside a value would split the sample line.
  EXPECT_NE(text.find(R"(v="a\\b\"c\nd}e,f=g")"), std::string::npos) << text;
  Exposition e = Parse(text);
  ASSERT_TRUE(e.errors.empty()) << e.errors.front() << "\n" << text;
  auto c = Find(e, "esc_total", {{"v", nasty}});
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0]->value, "1");
  EXPECT_EQ(e.help["esc_total"], "line one\nline \\ two \"quoted\"");
  EXPECT_EQ(Find(e, "esc_hist_bucket", {{"v", nasty}}).size(), 17u);
}

TEST(PrometheusTest, InvalidNamesAreSanitized) {
  RegistryPtr registry = NewRegistry();
  registry->GetCounter("9bad-name.total", "h", {{"bad-label", "x"}, {"", "y"}}).Add(2);
  registry->GetCounter("", "h").Add(1);
  Exposition e = Parse(registry->RenderPrometheus());
  ASSERT_TRUE(e.errors.empty()) << e.errors.front();
  auto c = Find(e, "_bad_name_total", {{"bad_label", "x"}, {"_", "y"}});
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0]->value, "2");
  EXPECT_EQ(Find(e, "_").size(), 1u);
}

TEST(PrometheusTest, EmptyRegistryRendersNothing) {
  EXPECT_EQ(NewRegistry()->RenderPrometheus(), "");
}

// ---- Misc --------------------------------------------------------------------------------------

TEST(StatusClassTest, Classes) {
  EXPECT_EQ(StatusClass(101), "1xx");
  EXPECT_EQ(StatusClass(200), "2xx");
  EXPECT_EQ(StatusClass(304), "3xx");
  EXPECT_EQ(StatusClass(499), "4xx");
  EXPECT_EQ(StatusClass(500), "5xx");
  EXPECT_EQ(StatusClass(599), "5xx");
  EXPECT_EQ(StatusClass(600), "other");
  EXPECT_EQ(StatusClass(99), "other");
  EXPECT_EQ(StatusClass(-200), "other");
}

TEST(ProcessStartTest, CapturedBeforeTestRunsAndStable) {
  auto steady = ProcessStartSteady();
  auto wall = ProcessStartWall();
  EXPECT_LE(steady, std::chrono::steady_clock::now());
  EXPECT_LE(wall, std::chrono::system_clock::now());
  EXPECT_GT(wall.time_since_epoch().count(), 0);
  EXPECT_EQ(ProcessStartSteady(), steady);
  EXPECT_EQ(ProcessStartWall(), wall);
}

TEST(MergeSnapshotsTest, QuantilesOfTheUnionAreThoseOfOneHistogram) {
  auto registry = NewRegistry();
  Histogram& a = registry->GetHistogram("a", "");
  Histogram& b = registry->GetHistogram("b", "");
  Histogram& both = registry->GetHistogram("both", "");
  for (int i = 0; i < 1000; ++i) {
    const double v = (i * 7919 % 1000) * 3.7 + 0.5;  // a fixed spread over 0.5 .. 3700
    (i % 3 == 0 ? a : b).Record(v);
    both.Record(v);
  }
  const HistogramSnapshot merged = MergeSnapshots({a.Snapshot(), b.Snapshot()});
  const HistogramSnapshot expected = both.Snapshot();
  EXPECT_EQ(merged.count, expected.count);
  EXPECT_DOUBLE_EQ(merged.sum, expected.sum);
  EXPECT_EQ(merged.min, expected.min);
  EXPECT_EQ(merged.max, expected.max);
  EXPECT_EQ(merged.buckets, expected.buckets);
  for (double q : {0.01, 0.5, 0.9, 0.95, 0.99}) {
    EXPECT_DOUBLE_EQ(merged.Quantile(q), expected.Quantile(q)) << q;
  }
  // Empty parts change nothing; no parts make an empty snapshot.
  const HistogramSnapshot with_empty =
      MergeSnapshots({HistogramSnapshot{}, a.Snapshot(), HistogramSnapshot{}});
  EXPECT_EQ(with_empty.count, a.Snapshot().count);
  EXPECT_EQ(with_empty.min, a.Snapshot().min);
  EXPECT_EQ(MergeSnapshots({}).count, 0u);
}

}  // namespace
}  // namespace hasivu::metrics
