// OffloadQueue: a bound on how many requests of a group of offloaded routes (RouteOptions::queue)
// may be waiting for or running on the server's pool at once. The pool's own queue has no bound,
// so without one a flood of expensive requests (argon2 hashes of 64 MiB each) queues up ahead of
// every other offloaded or blocking route (payments, other logins) and stalls them.
//
// The server takes a slot when it is about to post such a request to the pool and gives it back
// when the handler has run. With no slot free it answers 503 SERVICE_BUSY with Retry-After
// (retry_after_seconds) without running the handler, and adds one to `rejected` if given.
//
// `in_use`, when given, is kept at the number of slots taken (a Registry gauge).
//
// Ownership: the queue does not own `rejected` or `in_use` (Registry series, which outlive it).
// Thread-safety: safe to use concurrently.
#ifndef HASIVU_HTTP_OFFLOAD_QUEUE_H_
#define HASIVU_HTTP_OFFLOAD_QUEUE_H_

#include <atomic>

#include "metrics/metrics.h"

namespace hasivu::http {

class OffloadQueue {
 public:
  // REQUIRES: capacity >= 1.
  explicit OffloadQueue(int capacity, metrics::Counter* rejected = nullptr,
                        int retry_after_seconds = 1, metrics::Gauge* in_use = nullptr);
  OffloadQueue(const OffloadQueue&) = delete;
  OffloadQueue& operator=(const OffloadQueue&) = delete;

  // Takes a slot; false (and one more rejection counted) when all `capacity` are taken.
  bool TryAcquire();
  // Gives back a slot taken by TryAcquire().
  void Release();

  int capacity() const { return capacity_; }
  int in_use() const { return in_use_.load(std::memory_order_relaxed); }
  int retry_after_seconds() const { return retry_after_seconds_; }

 private:
  const int capacity_;
  metrics::Counter* rejected_;
  const int retry_after_seconds_;
  metrics::Gauge* const in_use_gauge_;
  std::atomic<int> in_use_{0};
};

}  // namespace hasivu::http

#endif  // HASIVU_HTTP_OFFLOAD_QUEUE_H_
