// Cost of recording on a request path: Counter::Add and Histogram::Record, single- and
// multi-threaded (threads share one series, the contended case the shards exist for); the same
// through the Monitor's handles (metrics/monitor.h); and the Monitor's background work, Tick and
// Collect, over ~200 series.
#include <benchmark/benchmark.h>

#include <chrono>
#include <random>
#include <string>
#include <vector>

#include "metrics/catalog.h"
#include "metrics/metrics.h"
#include "metrics/monitor.h"

namespace hasivu::metrics {
namespace {

Registry& SharedRegistry() {
  static RegistryPtr registry = NewRegistry();
  return *registry;
}

void BM_CounterAdd(benchmark::State& state) {
  Counter& c = SharedRegistry().GetCounter("bench_counter_total", "bench");
  for (auto _ : state) c.Add();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CounterAdd)->Threads(1)->Threads(2)->Threads(4)->Threads(8);

void BM_HistogramRecord(benchmark::State& state) {
  Histogram& h = SharedRegistry().GetHistogram("bench_latency_seconds", "bench", {}, 1e-6);
  std::mt19937 rng(static_cast<unsigned>(state.thread_index()));
  std::lognormal_distribution<double> dist(6, 1.5);
  double values[1024];
  for (double& v : values) v = dist(rng);
  size_t i = 0;
  for (auto _ : state) h.Record(values[i++ & 1023]);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HistogramRecord)->Threads(1)->Threads(2)->Threads(4)->Threads(8);

void BM_GetCounterLookup(benchmark::State& state) {
  Registry& r = SharedRegistry();
  for (auto _ : state) {
    benchmark::DoNotOptimize(&r.GetCounter("bench_lookup_total", "bench",
                                           {{"route", "/api/v1/orders"}, {"code", "2xx"}}));
  }
}
BENCHMARK(BM_GetCounterLookup);

void BM_RenderPrometheus(benchmark::State& state) {
  RegistryPtr r = NewRegistry();
  for (int route = 0; route < 40; ++route) {
    std::string name = "/api/v1/route" + std::to_string(route);
    for (int code : {200, 400, 500}) {
      r->GetCounter("hasivu_http_requests_total", "requests",
                    {{"route", name}, {"code", std::string(StatusClass(code))}})
          .Add(static_cast<uint64_t>(code));
    }
    Histogram& h =
        r->GetHistogram("hasivu_http_request_duration_seconds", "latency", {{"route", name}}, 1e-6);
    for (int i = 1; i < 1000; ++i) h.Record(i * 13);
  }
  for (auto _ : state) benchmark::DoNotOptimize(r->RenderPrometheus());
}
BENCHMARK(BM_RenderPrometheus);

Monitor& SharedMonitor() {
  static Monitor monitor(SharedRegistry());
  return monitor;
}

void BM_DistributionRecord(benchmark::State& state) {
  Distribution& d =
      SharedMonitor().GetDistribution(catalog::kOperationDuration, {{"Operation", "bench"}});
  std::mt19937 rng(static_cast<unsigned>(state.thread_index()));
  std::lognormal_distribution<double> dist(0, 1.5);
  double values[1024];
  for (double& v : values) v = dist(rng);
  size_t i = 0;
  for (auto _ : state) d.Record(values[i++ & 1023]);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DistributionRecord)->Threads(1)->Threads(2);

void BM_DistributionRecordDuration(benchmark::State& state) {
  Distribution& d =
      SharedMonitor().GetDistribution(catalog::kOperationDuration, {{"Operation", "bench_ns"}});
  int64_t ns = 1000;
  for (auto _ : state) {
    d.RecordDuration(std::chrono::nanoseconds(ns));
    ns = (ns * 33 + 7) & ((1 << 24) - 1);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DistributionRecordDuration)->Threads(1)->Threads(2);

void BM_CountAdd(benchmark::State& state) {
  Count& c = SharedMonitor().GetCount(catalog::kBusinessEvents, {{"Event", "bench"}});
  for (auto _ : state) c.Add();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CountAdd)->Threads(1)->Threads(2);

// 200 series shaped like hasivu's: 60 latency distributions, 117 counters, 20 per-tier ratios,
// 3 levels; Traffic() records into each as a busy 10 s would (300 observations per
// distribution), so every Tick and Collect finds new data.
struct MonitorFleet {
  MonitorFleet() : registry(NewRegistry()), monitor(*registry) {
    for (int i = 0; i < 60; ++i) {
      distributions.push_back(&monitor.GetDistribution(catalog::kOperationDuration,
                                                       {{"Operation", "op" + std::to_string(i)}}));
    }
    for (int i = 0; i < 117; ++i) {
      counts.push_back(
          &monitor.GetCount(catalog::kBusinessEvents, {{"Event", "e" + std::to_string(i)}}));
    }
    for (int i = 0; i < 20; ++i) {
      Counter& hits = registry->GetCounter("h_total", "h", {{"i", std::to_string(i)}});
      Counter& misses = registry->GetCounter("m_total", "m", {{"i", std::to_string(i)}});
      ratio_counters.push_back(&hits);
      ratio_counters.push_back(&misses);
      monitor.AdoptRatio(catalog::kCacheHitRate, {{"Tier", "t" + std::to_string(i)}}, {&hits},
                         {&hits, &misses});
    }
    monitor.AddLevel(catalog::kMemoryRss, {}, ProcessResidentBytes);
    monitor.AddLevel(catalog::kDatabasePoolInUse, {}, [] { return 3.0; });
    monitor.AddLevel(catalog::kDatabasePoolSize, {}, [] { return 8.0; });
  }
  void Traffic() {
    for (Distribution* d : distributions) {
      for (int i = 0; i < 300; ++i) d->Record(values[(next++) & 1023]);
    }
    for (Count* c : counts) c->Add(7);
    for (Counter* c : ratio_counters) c->Add(5);
  }
  RegistryPtr registry;
  Monitor monitor;
  std::vector<Distribution*> distributions;
  std::vector<Count*> counts;
  std::vector<Counter*> ratio_counters;
  double values[1024];
  size_t next = 0;
};

void FillValues(MonitorFleet& f) {
  std::mt19937 rng(3);
  std::lognormal_distribution<double> dist(0, 1.5);
  for (double& v : f.values) v = dist(rng);
}

void BM_MonitorTick(benchmark::State& state) {
  MonitorFleet fleet;
  FillValues(fleet);
  auto now = std::chrono::steady_clock::now();
  for (auto _ : state) {
    state.PauseTiming();
    fleet.Traffic();
    now += std::chrono::seconds(10);
    state.ResumeTiming();
    fleet.monitor.Tick(now);
  }
  state.counters["series"] = static_cast<double>(fleet.monitor.Series().size());
  state.counters["window_bytes"] = static_cast<double>(fleet.monitor.WindowBytes());
}
BENCHMARK(BM_MonitorTick)->Unit(benchmark::kMicrosecond);

void BM_MonitorCollect(benchmark::State& state) {
  MonitorFleet fleet;
  FillValues(fleet);
  Cursor cursor;
  for (auto _ : state) {
    state.PauseTiming();
    fleet.Traffic();
    state.ResumeTiming();
    benchmark::DoNotOptimize(fleet.monitor.Collect(cursor));
  }
  state.counters["series"] = static_cast<double>(fleet.monitor.Series().size());
}
BENCHMARK(BM_MonitorCollect)->Unit(benchmark::kMicrosecond);

void BM_MonitorStats(benchmark::State& state) {
  MonitorFleet fleet;
  FillValues(fleet);
  auto now = std::chrono::steady_clock::now();
  for (int t = 0; t < 90; ++t) {  // a full 15-minute ring
    fleet.Traffic();
    now += std::chrono::seconds(10);
    fleet.monitor.Tick(now);
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(fleet.monitor.Stats(catalog::kOperationDuration,
                                                 {{"Operation", "op7"}}, std::chrono::minutes(15)));
  }
}
BENCHMARK(BM_MonitorStats)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace hasivu::metrics

BENCHMARK_MAIN();
