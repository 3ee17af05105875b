// Cost of tracing on a request's path: reading and writing traceparent, new ids, adding span
// time (with and without a request current), and queueing an access log line for the writer.
#include <benchmark/benchmark.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "http/access_log.h"
#include "metrics/metrics.h"
#include "metrics/trace.h"

namespace hasivu {
namespace {

void BM_ParseTraceparent(benchmark::State& state) {
  const std::string value = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  for (auto _ : state) benchmark::DoNotOptimize(metrics::ParseTraceparent(value));
}
BENCHMARK(BM_ParseTraceparent);

void BM_FormatTraceparent(benchmark::State& state) {
  const metrics::TraceContext context = metrics::NewTrace();
  std::string out;
  out.reserve(64);
  for (auto _ : state) {
    out.clear();
    metrics::AppendTraceparent(out, context);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_FormatTraceparent);

void BM_NewTrace(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(metrics::NewTrace());
}
BENCHMARK(BM_NewTrace)->Threads(1)->Threads(2);

void BM_ChildOf(benchmark::State& state) {
  const metrics::TraceContext parent = metrics::NewTrace();
  for (auto _ : state) benchmark::DoNotOptimize(metrics::ChildOf(parent));
}
BENCHMARK(BM_ChildOf);

void BM_AddSpanTime(benchmark::State& state) {
  metrics::RequestTrace trace;
  metrics::ScopedRequestTrace current(trace);
  for (auto _ : state) {
    metrics::AddSpanTime(metrics::SpanKind::kDb, std::chrono::nanoseconds(1000));
    benchmark::ClobberMemory();
  }
  benchmark::DoNotOptimize(trace.spans.nanos[0]);
}
BENCHMARK(BM_AddSpanTime)->Threads(1)->Threads(2);

void BM_AddSpanTimeNoRequest(benchmark::State& state) {
  for (auto _ : state) {
    metrics::AddSpanTime(metrics::SpanKind::kDb, std::chrono::nanoseconds(1000));
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_AddSpanTimeNoRequest);

// What a timed call adds: two steady_clock reads and AddSpanTime.
void BM_ScopedSpan(benchmark::State& state) {
  metrics::RequestTrace trace;
  metrics::ScopedRequestTrace current(trace);
  for (auto _ : state) {
    metrics::ScopedSpan span(metrics::SpanKind::kCache);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_ScopedSpan);

// The I/O thread's side of the asynchronous access log: a ~300-byte line copied into the queue's
// slot while the writer thread drains it into a sink that discards. Every 4096 lines the clock
// stops until the writer has caught up, so this is the cost of an accepted line, not of the drop
// path (below).
void BM_AccessLogWrite(benchmark::State& state) {
  metrics::RegistryPtr registry = metrics::NewRegistry();
  metrics::Counter& written = registry->GetCounter("bench_written_total", "");
  metrics::Counter& dropped = registry->GetCounter("bench_dropped_total", "");
  http::AccessLogQueue queue(
      8192, [](std::span<const std::string> lines) { benchmark::DoNotOptimize(lines.size()); },
      written, dropped);
  const std::string line(300, 'x');
  uint64_t sent = 0;
  for (auto _ : state) {
    queue.Write(line);
    if (++sent % 4096 == 0) {
      state.PauseTiming();
      while (written.Value() + dropped.Value() < sent) std::this_thread::yield();
      state.ResumeTiming();
    }
  }
  queue.Close();
  state.counters["dropped"] = static_cast<double>(dropped.Value());
}
BENCHMARK(BM_AccessLogWrite);

// A full queue (the sink is stuck): every Write is a drop, counted.
void BM_AccessLogWriteDropped(benchmark::State& state) {
  metrics::RegistryPtr registry = metrics::NewRegistry();
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  http::AccessLogQueue queue(
      16,
      [&](std::span<const std::string>) {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return open; });
      },
      registry->GetCounter("bench_written_total", ""),
      registry->GetCounter("bench_dropped_total", ""));
  const std::string line(300, 'x');
  for (int i = 0; i < 64; ++i) queue.Write(line);  // the writer is stuck, the queue full
  for (auto _ : state) queue.Write(line);
  {
    std::lock_guard lock(mu);
    open = true;
  }
  cv.notify_all();
}
BENCHMARK(BM_AccessLogWriteDropped);

}  // namespace
}  // namespace hasivu

BENCHMARK_MAIN();
