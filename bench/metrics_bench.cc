// Cost of recording on a request path: Counter::Add and Histogram::Record, single- and
// multi-threaded (threads share one series, the contended case the shards exist for).
#include <benchmark/benchmark.h>

#include <random>

#include "metrics/metrics.h"

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

}  // namespace
}  // namespace hasivu::metrics

BENCHMARK_MAIN();
