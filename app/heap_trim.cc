#include "app/heap_trim.h"

#include <malloc.h>

#include <optional>

#include "metrics/monitor.h"

namespace hasivu::app {

uint64_t HeapInUseBytes() {
  const struct mallinfo2 info = mallinfo2();
  return uint64_t{info.uordblks} + uint64_t{info.hblkhd};
}

uint64_t TrimHeap() {
  const std::optional<int64_t> before = metrics::ProcessResidentBytes();
  malloc_trim(0);
  const std::optional<int64_t> after = metrics::ProcessResidentBytes();
  if (!before || !after) return 0;
  // Other threads allocate meanwhile: only a shrink is counted as given back.
  return *before > *after ? static_cast<uint64_t>(*before - *after) : 0;
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
