#include "app/heap_trim.h"

#include <malloc.h>
#include <unistd.h>

#include <cstdio>

namespace hasivu::app {

uint64_t HeapInUseBytes() {
  const struct mallinfo2 info = mallinfo2();
  return uint64_t{info.uordblks} + uint64_t{info.hblkhd};
}

uint64_t ResidentBytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long long size = 0;
  unsigned long long resident = 0;
  const int read = std::fscanf(f, "%llu %llu", &size, &resident);
  std::fclose(f);
  if (read != 2) return 0;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

uint64_t TrimHeap() {
  const uint64_t before = ResidentBytes();
  malloc_trim(0);
  const uint64_t after = ResidentBytes();
  // Other threads allocate meanwhile: only a shrink is counted as given back.
  return before > after ? before - after : 0;
}

HeapTrimmer::HeapTrimmer(std::chrono::milliseconds interval, metrics::Registry& registry)
    : in_use_(registry.GetGauge("hasivu_process_heap_in_use_bytes",
                                "Bytes the allocator has handed out and not had back (mallinfo2), "
                                "refreshed at each heap trim")),
      released_(registry.GetCounter("hasivu_process_heap_released_bytes_total",
                                    "Resident bytes the periodic heap trims gave back to the "
                                    "kernel (free pages inside the allocator's arenas)")) {
  in_use_.Set(static_cast<int64_t>(HeapInUseBytes()));
  timer_ = std::make_unique<metrics::PeriodicThread>(interval, [this] { Tick(); });
}

HeapTrimmer::~HeapTrimmer() { timer_->Stop(); }

void HeapTrimmer::Tick() {
  released_.Add(TrimHeap());
  in_use_.Set(static_cast<int64_t>(HeapInUseBytes()));
}

}  // namespace hasivu::app
