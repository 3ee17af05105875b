// Compression cost and ratio per codec and level on real API bodies (bench/data/: orders-list
// with 20 and 100 orders and a daily menu, captured from `hasivu serve` on the demo data).
// Counters: ratio = encoded / identity bytes, saved = 1 - ratio, bytes = encoded size; the time
// per iteration is the compression of one body. Decompression is timed at each codec's default
// level for reference.
//
// finish/<body>/<codec>/<level> times compress::FinishEncoded (open_encoded.h): the body split
// before its `,"meta":` envelope tail, the prefix encoded once with EncodeOpen, the tail
// appended per iteration -- what a cache hit costs, to compare with compress/ of the same body
// and level. Counters: bytes = finished size, extra = bytes over a full compression's size.
//
// usage: compress_bench [--benchmark_filter=orders_list_100] (a release build; see
//        docs/performance.md). HASIVU_BENCH_DATA overrides the fixture folder.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "compress/codec.h"
#include "compress/open_encoded.h"
#include "compress/settings.h"

#ifndef HASIVU_BENCH_DATA_DIR
#define HASIVU_BENCH_DATA_DIR "bench/data"
#endif

namespace {

using hasivu::compress::Encoding;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "compress_bench: cannot read %s\n", path.c_str());
    std::exit(1);
  }
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void Compress(benchmark::State& state, const std::string* body, Encoding e, int level) {
  size_t encoded_size = 0;
  for (auto _ : state) {
    auto encoded = hasivu::compress::Encode(e, *body, level);
    if (!encoded.ok()) {
      state.SkipWithError(encoded.status().ToString().c_str());
      return;
    }
    encoded_size = encoded->size();
    benchmark::DoNotOptimize(encoded->data());
  }
  const double ratio = static_cast<double>(encoded_size) / body->size();
  state.counters["ratio"] = ratio;
  state.counters["saved"] = 1.0 - ratio;
  state.counters["bytes"] = static_cast<double>(encoded_size);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body->size()));
}

void Decompress(benchmark::State& state, const std::string* body, Encoding e, int level) {
  const std::string encoded = *hasivu::compress::Encode(e, *body, level);
  for (auto _ : state) {
    auto decoded = hasivu::compress::Decode(e, encoded);
    benchmark::DoNotOptimize(decoded->data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body->size()));
}

void Finish(benchmark::State& state, const std::string* body, Encoding e, int level) {
  const size_t split = body->rfind(",\"meta\":");
  if (split == std::string::npos) {
    state.SkipWithError("body has no \",\"meta\":\" tail");
    return;
  }
  const std::string tail = body->substr(split);
  auto open = hasivu::compress::EncodeOpen(e, std::string_view(*body).substr(0, split), level);
  auto full = hasivu::compress::Encode(e, *body, level);
  if (!open.ok() || !full.ok()) {
    state.SkipWithError("encoding failed");
    return;
  }
  size_t finished_size = 0;
  for (auto _ : state) {
    std::string finished = hasivu::compress::FinishEncoded(*open, tail);
    finished_size = finished.size();
    benchmark::DoNotOptimize(finished.data());
  }
  state.counters["bytes"] = static_cast<double>(finished_size);
  state.counters["extra"] = static_cast<double>(finished_size) - static_cast<double>(full->size());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body->size()));
}

}  // namespace

int main(int argc, char** argv) {
  const char* env = std::getenv("HASIVU_BENCH_DATA");
  const std::string dir = env != nullptr ? env : HASIVU_BENCH_DATA_DIR;
  static std::vector<std::pair<std::string, std::string>> bodies;
  for (const char* name : {"orders_list_20", "orders_list_100", "menus_daily"}) {
    bodies.emplace_back(name, ReadFile(dir + "/" + name + ".json"));
  }
  const hasivu::compress::Settings defaults;
  for (const auto& [name, body] : bodies) {
    for (Encoding e : hasivu::compress::kCodecs) {
      const auto& codec = *hasivu::compress::CodecFor(e);
      for (int level = codec.min_level(); level <= codec.max_level(); ++level) {
        // zstd above 9 is far slower for a few percent; keep 12, 15 and 19 as reference points.
        if (e == Encoding::kZstd && level > 9 && level != 12 && level != 15 && level != 19) {
          continue;
        }
        const std::string label = name + "/" + std::string(hasivu::compress::EncodingName(e)) +
                                  "/" + std::to_string(level);
        benchmark::RegisterBenchmark(("compress/" + label).c_str(), Compress, &body, e, level)
            ->Unit(benchmark::kMicrosecond);
      }
      const int level = hasivu::compress::LevelFor(defaults, e);
      benchmark::RegisterBenchmark(
          ("decompress/" + name + "/" + std::string(hasivu::compress::EncodingName(e)) + "/" +
           std::to_string(level))
              .c_str(),
          Decompress, &body, e, level)
          ->Unit(benchmark::kMicrosecond);
      benchmark::RegisterBenchmark(
          ("finish/" + name + "/" + std::string(hasivu::compress::EncodingName(e)) + "/" +
           std::to_string(level))
              .c_str(),
          Finish, &body, e, level)
          ->Unit(benchmark::kNanosecond);
    }
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
