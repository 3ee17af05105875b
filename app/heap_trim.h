// Giving the heap's free memory back to the kernel. glibc's allocator keeps what the server frees
// in its arenas (one per thread that allocates at once, up to 8 per core) and returns it to the
// kernel only when the free space sits at an arena's top: a chunk freed between two live ones
// stays resident. Under steady load the live heap is flat while the resident set creeps up for
// many minutes as the arenas' holes settle (docs/reliability.md, "6. Soak", measured with
// heaptrack), which an operator cannot tell from a leak. HeapTrimmer calls malloc_trim(0) every
// interval, which releases the whole free pages inside every arena (madvise), and publishes
//
//   hasivu_process_heap_in_use_bytes         the allocator's live bytes (mallinfo2: uordblks +
//                                            hblkhd), the figure to watch for a leak;
//   hasivu_process_heap_released_bytes_total what the trims took off the resident set.
//
// Only app/ touches the process's allocator.
//
// Thread-safety: HeapUsage and TrimHeap may be called from any thread (malloc_trim takes each
// arena's lock in turn: allocations wait for the moment it walks their arena). HeapTrimmer's
// constructor and destructor from one thread; the gauges are written by its own thread.
#ifndef HASIVU_APP_HEAP_TRIM_H_
#define HASIVU_APP_HEAP_TRIM_H_

#include <chrono>
#include <cstdint>
#include <memory>

#include "metrics/metrics.h"
#include "metrics/periodic.h"

namespace hasivu::app {

// Live heap bytes: what the program holds of malloc's arenas and of its mmapped large blocks.
uint64_t HeapInUseBytes();

// malloc_trim(0): returns the free pages of every arena to the kernel. Returns the resident
// bytes it gave back (metrics::ProcessResidentBytes() before less after, 0 if it did not shrink
// or /proc cannot be read).
uint64_t TrimHeap();

class HeapTrimmer {
 public:
  // Trims every `interval` on a thread of its own, the first one interval from now, and updates
  // the gauges above in `registry` (which must outlive this). REQUIRES: interval > 0.
  HeapTrimmer(std::chrono::milliseconds interval, metrics::Registry& registry);
  ~HeapTrimmer();  // stops the thread; a trim in progress completes
  HeapTrimmer(const HeapTrimmer&) = delete;
  HeapTrimmer& operator=(const HeapTrimmer&) = delete;

 private:
  void Tick();

  metrics::Gauge& in_use_;
  metrics::Counter& released_;
  std::unique_ptr<metrics::PeriodicThread> timer_;  // last: stops before the members it uses go
};

}  // namespace hasivu::app

#endif  // HASIVU_APP_HEAP_TRIM_H_
