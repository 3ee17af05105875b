// Cost of one EMF flush's encoding (metrics::EncodeEmf) on ~200 series, the size of hasivu's
// catalog for ten functions, three tiers and two query kinds: 60 distributions and 140 sums and
// levels over 35 dimension sets. Arg: observations per distribution (50: a quiet minute, every
// value sent; 5000: a busy one, scaled to the 3000-value bound and spread over 30 documents).
// Runs on the flusher's thread, never a request's: the number says how much of one core a flush
// takes, not a request-path cost.
#include <benchmark/benchmark.h>

#include <cmath>
#include <map>
#include <random>
#include <string>

#include "metrics/emf.h"

namespace hasivu::metrics {
namespace {

std::vector<SeriesInterval> Catalog200(uint64_t observations) {
  std::mt19937 rng(7);
  std::lognormal_distribution<double> latency(1.2, 0.9);
  auto distribution = [&](std::string name, Dimensions dims) {
    std::map<double, uint64_t> hist;
    for (uint64_t i = 0; i < observations; ++i) {
      const double v = latency(rng);
      // Log-linear representative (16 per power of two), as the monitor's histograms give.
      const double step = std::pow(2.0, std::floor(std::log2(v))) / 16;
      hist[(std::floor(v / step) + 0.5) * step] += 1;
    }
    SeriesInterval s;
    s.info = {std::move(name), Unit::kMilliseconds, std::move(dims), Aggregation::kDistribution};
    s.data.values.assign(hist.begin(), hist.end());
    for (const auto& [v, n] : s.data.values) {
      s.data.count += n;
      s.data.sum += v * double(n);
    }
    s.data.min = s.data.values.front().first;
    s.data.max = s.data.values.back().first;
    return s;
  };
  auto scalar = [](std::string name, Dimensions dims, Aggregation a, double v) {
    SeriesInterval s;
    s.info = {std::move(name), Unit::kCount, std::move(dims), a};
    s.data.count = 1;
    s.data.sum = v;
    return s;
  };
  std::vector<SeriesInterval> out;
  // 35 dimension sets: 30 "functions" x (2 distributions, 3 sums), 5 tiers x 10 levels.
  for (int f = 0; f < 30; ++f) {
    const Dimensions dims{{"Function", "function-" + std::to_string(f)}};
    out.push_back(distribution("ApiLatency", dims));
    out.push_back(distribution("OperationDuration", dims));
    out.push_back(scalar("ApiRequests", dims, Aggregation::kSum, 1000 + f));
    out.push_back(scalar("ApiServerErrors", dims, Aggregation::kSum, f % 3));
    out.push_back(scalar("BusinessEvents", dims, Aggregation::kSum, 7 * f));
  }
  for (int t = 0; t < 5; ++t) {
    const Dimensions dims{{"Tier", "tier-" + std::to_string(t)}};
    for (int m = 0; m < 10; ++m) {
      out.push_back(scalar("Level" + std::to_string(m), dims, Aggregation::kLatest, 93.25 + m));
    }
  }
  return out;  // 30 * 5 + 5 * 10 = 200 series: 60 distributions, 140 scalars
}

void BM_EncodeEmf(benchmark::State& state) {
  const std::vector<SeriesInterval> series = Catalog200(static_cast<uint64_t>(state.range(0)));
  size_t documents = 0, bytes = 0;
  for (auto _ : state) {
    std::vector<std::string> lines = EncodeEmf(series, 1760431200000);
    documents = lines.size();
    bytes = 0;
    for (const std::string& l : lines) bytes += l.size();
    benchmark::DoNotOptimize(lines);
  }
  state.counters["series"] = double(series.size());
  state.counters["documents"] = double(documents);
  state.counters["bytes"] = double(bytes);
  state.SetItemsProcessed(state.iterations() * int64_t(series.size()));
}
BENCHMARK(BM_EncodeEmf)->Arg(50)->Arg(5000)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace hasivu::metrics

BENCHMARK_MAIN();
