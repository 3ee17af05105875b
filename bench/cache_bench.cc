// Cost of the in-process cache on a request path (ns per operation): an L1 hit, a miss, a
// store, and a hit through CacheAside, single- and multi-threaded over one shared cache (the
// contended case the shards exist for). Values are 4 KiB, like a cached list response.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "cache/cache_aside.h"
#include "cache/memory/memory_cache.h"

namespace hasivu::cache {
namespace {

constexpr int kKeys = 4096;

Cache& SharedCache() {
  static CachePtr cache = [] {
    CachePtr c = std::move(NewMemoryCache({.max_bytes = 256u << 20}).value());
    std::string value(4096, 'x');
    for (int i = 0; i < kKeys; ++i) {
      (void)c->Set("orders:u:" + std::to_string(i) + ":p1", value, std::chrono::hours(1),
                   {"user:" + std::to_string(i) + ":orders", "school:1:orders"});
    }
    return c;
  }();
  return *cache;
}

std::vector<std::string> Keys(const char* prefix) {
  std::vector<std::string> keys;
  for (int i = 0; i < kKeys; ++i) keys.push_back(prefix + std::to_string(i) + ":p1");
  return keys;
}

void BM_MemoryHit(benchmark::State& state) {
  Cache& c = SharedCache();
  static const std::vector<std::string> keys = Keys("orders:u:");
  size_t i = static_cast<size_t>(state.thread_index()) * 97;
  for (auto _ : state) {
    auto r = c.Get(keys[i++ % kKeys]);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MemoryHit)->Threads(1)->Threads(2)->Threads(4);

void BM_MemoryMiss(benchmark::State& state) {
  Cache& c = SharedCache();
  static const std::vector<std::string> keys = Keys("absent:u:");
  size_t i = 0;
  for (auto _ : state) {
    auto r = c.Get(keys[i++ % kKeys]);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MemoryMiss)->Threads(1)->Threads(4);

void BM_MemorySet(benchmark::State& state) {
  Cache& c = SharedCache();
  static const std::vector<std::string> keys = Keys("set:u:");
  auto value = std::make_shared<const std::string>(4096, 'y');
  Tags tags = {"user:1:orders"};
  size_t i = 0;
  for (auto _ : state) {
    const std::string& key = keys[i++ % kKeys];
    auto stamp = c.StampFor(key, tags);
    benchmark::DoNotOptimize(c.SetIfCurrent(key, value, std::chrono::hours(1), tags, *stamp));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MemorySet)->Threads(1)->Threads(4);

void BM_AsideHit(benchmark::State& state) {
  static CacheAside aside(SharedCache());
  static const std::vector<std::string> keys = Keys("orders:u:");
  Tags tags = {"user:1:orders"};
  size_t i = static_cast<size_t>(state.thread_index()) * 97;
  for (auto _ : state) {
    auto r = aside.GetOrLoad(keys[i++ % kKeys], std::chrono::hours(1), tags,
                             []() -> StatusOr<std::string> { return std::string("unused"); });
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AsideHit)->Threads(1)->Threads(4);

}  // namespace
}  // namespace hasivu::cache
BENCHMARK_MAIN();
