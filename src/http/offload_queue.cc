#include "http/offload_queue.h"

#include <algorithm>

namespace hasivu::http {

OffloadQueue::OffloadQueue(int capacity, metrics::Counter* rejected, int retry_after_seconds,
                           metrics::Gauge* in_use)
    : capacity_(std::max(capacity, 1)),
      rejected_(rejected),
      retry_after_seconds_(std::max(retry_after_seconds, 1)),
      in_use_gauge_(in_use) {}

bool OffloadQueue::TryAcquire() {
  int current = in_use_.load(std::memory_order_relaxed);
  while (current < capacity_) {
    if (in_use_.compare_exchange_weak(current, current + 1, std::memory_order_acq_rel)) {
      if (in_use_gauge_ != nullptr) in_use_gauge_->Add(1);
      return true;
    }
  }
  if (rejected_ != nullptr) rejected_->Add();
  return false;
}

void OffloadQueue::Release() {
  in_use_.fetch_sub(1, std::memory_order_acq_rel);
  if (in_use_gauge_ != nullptr) in_use_gauge_->Add(-1);
}

}  // namespace hasivu::http
