// What a heap trim (app/heap_trim.h, every 10 s in `hasivu serve`) costs: malloc_trim(0) over a
// heap shaped like the server's under load (docs/reliability.md, "6. Soak": ~40 MB live across
// the I/O, pool and background threads' arenas), with the free holes a steady load leaves
// between live chunks, refilled before each trim so that every trim has pages to give back.
// Reports the time of one trim and the bytes it gave back.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <thread>
#include <vector>

#include "app/heap_trim.h"

namespace hasivu::app {
namespace {

constexpr int kThreads = 4;                // arenas
constexpr size_t kBlocksPerThread = 5000;  // of 2 KiB: 40 MiB live in all

struct Arena {
  std::vector<char*> blocks;
};

// Each thread allocates its blocks (its own arena) and keeps them.
std::vector<Arena>& Heap() {
  static std::vector<Arena> arenas = [] {
    std::vector<Arena> a(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&a, t] {
        for (size_t i = 0; i < kBlocksPerThread; ++i) {
          char* p = static_cast<char*>(std::malloc(2048));
          p[0] = 1;
          a[t].blocks.push_back(p);
        }
      });
    }
    for (std::thread& th : threads) th.join();
    return a;
  }();
  return arenas;
}

// Frees and reallocates one block in eight, touching it, as a steady load does.
void Churn() {
  std::vector<std::thread> threads;
  for (Arena& arena : Heap()) {
    threads.emplace_back([&arena] {
      for (size_t i = 0; i < arena.blocks.size(); i += 8) std::free(arena.blocks[i]);
      for (size_t i = 0; i < arena.blocks.size(); i += 8) {
        arena.blocks[i] = static_cast<char*>(std::malloc(2048));
        for (size_t j = 0; j < 2048; j += 512) arena.blocks[i][j] = 1;
      }
    });
  }
  for (std::thread& th : threads) th.join();
}

bool InHole(size_t i) { return (i / 8) % 4 == 1; }

void BM_TrimHeap(benchmark::State& state) {
  Heap();
  uint64_t released = 0;
  for (auto _ : state) {
    state.PauseTiming();
    Churn();
    // Frees a quarter, in runs of 8 blocks (16 KiB) between live ones: whole free pages inside
    // the arenas, which only a trim gives back.
    for (Arena& arena : Heap()) {
      for (size_t i = 0; i < arena.blocks.size(); ++i) {
        if (InHole(i)) std::free(arena.blocks[i]);
      }
    }
    state.ResumeTiming();
    released += TrimHeap();
    state.PauseTiming();
    for (Arena& arena : Heap()) {
      for (size_t i = 0; i < arena.blocks.size(); ++i) {
        if (!InHole(i)) continue;
        arena.blocks[i] = static_cast<char*>(std::malloc(2048));
        for (size_t j = 0; j < 2048; j += 512) arena.blocks[i][j] = 1;
      }
    }
    state.ResumeTiming();
  }
  state.counters["live_MiB"] = static_cast<double>(HeapInUseBytes()) / 1048576.0;
  state.counters["released_KiB_per_trim"] =
      static_cast<double>(released) / 1024.0 / static_cast<double>(state.iterations());
}
BENCHMARK(BM_TrimHeap)->Unit(benchmark::kMicrosecond)->Iterations(50);

}  // namespace
}  // namespace hasivu::app

BENCHMARK_MAIN();
