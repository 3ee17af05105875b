#include "app/heap_trim.h"

#include <gtest/gtest.h>

#include "metrics/monitor.h"

#include <chrono>
#include <thread>
#include <vector>

namespace hasivu::app {
namespace {

// A sanitizer's allocator replaces glibc's: malloc_trim and mallinfo2 then see arenas nobody uses.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kGlibcAllocator = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool kGlibcAllocator = false;
#else
constexpr bool kGlibcAllocator = true;
#endif
#else
constexpr bool kGlibcAllocator = true;
#endif
#define SKIP_WITHOUT_GLIBC_ALLOCATOR() \
  if (!kGlibcAllocator) GTEST_SKIP() << "a sanitizer's allocator replaces glibc's"

// Frees all but every 64th of many 1 KiB blocks: the free space lies between live chunks, where
// the allocator never returns it by itself (not at an arena's top), so only a trim can.
std::vector<void*> FragmentTheHeap(size_t blocks) {
  std::vector<void*> all;
  all.reserve(blocks);
  for (size_t i = 0; i < blocks; ++i) {
    char* p = static_cast<char*>(malloc(1024));
    for (size_t j = 0; j < 1024; j += 256) p[j] = 1;  // touched: resident
    all.push_back(p);
  }
  std::vector<void*> kept;
  for (size_t i = 0; i < blocks; ++i) {
    if (i % 64 == 63) {
      kept.push_back(all[i]);
    } else {
      free(all[i]);
    }
  }
  return kept;
}

TEST(HeapTrimTest, GivesFreePagesBetweenLiveChunksBackToTheKernel) {
  SKIP_WITHOUT_GLIBC_ALLOCATOR();
  constexpr size_t kBlocks = 64 * 1024;  // 64 MiB touched, 63 MiB of it freed
  std::vector<void*> kept = FragmentTheHeap(kBlocks);
  const uint64_t in_use = HeapInUseBytes();
  const uint64_t before = static_cast<uint64_t>(metrics::ProcessResidentBytes().value_or(0));
  ASSERT_GT(before, uint64_t{60} << 20) << "the blocks were not resident";

  const uint64_t released = TrimHeap();
  const uint64_t after = static_cast<uint64_t>(metrics::ProcessResidentBytes().value_or(0));
  // Most of the 63 MiB freed comes back; what stays resident is the kept blocks' pages.
  EXPECT_GT(released, uint64_t{32} << 20);
  EXPECT_LT(after, before - (uint64_t{32} << 20));
  // The trim gives back pages, never live memory (reading statm may allocate a buffer or two).
  EXPECT_NEAR(static_cast<double>(HeapInUseBytes()), static_cast<double>(in_use), 65536.0);
  for (void* p : kept) free(p);
}

TEST(HeapTrimTest, HeapInUseFollowsAllocations) {
  SKIP_WITHOUT_GLIBC_ALLOCATOR();
  const uint64_t before = HeapInUseBytes();
  std::vector<void*> blocks;
  for (int i = 0; i < 1000; ++i) blocks.push_back(malloc(4096));
  EXPECT_GE(HeapInUseBytes(), before + 1000 * 4096);
  for (void* p : blocks) free(p);
  EXPECT_LT(HeapInUseBytes(), before + 1000 * 4096);
}

TEST(HeapTrimmerTest, TrimsOnItsIntervalAndPublishesTheHeap) {
  SKIP_WITHOUT_GLIBC_ALLOCATOR();
  metrics::RegistryPtr registry = metrics::NewRegistry();
  std::vector<void*> kept = FragmentTheHeap(32 * 1024);
  {
    HeapTrimmer trimmer(std::chrono::milliseconds(20), *registry);
    metrics::Counter& released =
        registry->GetCounter("hasivu_process_heap_released_bytes_total", "");
    // Waits for the first trim (no timing asserted: it only has to come).
    for (int i = 0; i < 500 && released.Value() == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_GT(released.Value(), uint64_t{16} << 20);
    EXPECT_GT(registry->GetGauge("hasivu_process_heap_in_use_bytes", "").Value(), 0);
  }
  const std::string text = registry->RenderPrometheus();
  EXPECT_NE(text.find("hasivu_process_heap_in_use_bytes "), std::string::npos) << text;
  EXPECT_NE(text.find("hasivu_process_heap_released_bytes_total "), std::string::npos) << text;
  for (void* p : kept) free(p);
}

}  // namespace
}  // namespace hasivu::app
