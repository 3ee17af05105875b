// PeriodicThread: a background thread that calls a function every `interval` (on a fixed grid
// from its start, so a slow call does not shift later ones; a call that overruns skips the ticks
// it missed) until stopped. The EMF flusher and the alarm scheduler run on one each.
//
// Thread-safety: Stop() may be called from any thread but the tick's own, by several threads at
// once (one joins; the others wait for that join); the destructor too, once no other call is
// in progress.
#ifndef HASIVU_METRICS_PERIODIC_H_
#define HASIVU_METRICS_PERIODIC_H_

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace hasivu::metrics {

class PeriodicThread {
 public:
  // Starts the thread; the first call comes one interval after construction.
  // REQUIRES: interval > 0.
  PeriodicThread(std::chrono::milliseconds interval, std::function<void()> tick);
  ~PeriodicThread();  // Stop()
  PeriodicThread(const PeriodicThread&) = delete;
  PeriodicThread& operator=(const PeriodicThread&) = delete;

  // No call starts after Stop() begins; a call in progress completes; joins. Returns once the
  // thread has ended, in every caller. Idempotent.
  void Stop();

 private:
  void Run();

  const std::chrono::milliseconds interval_;
  const std::function<void()> tick_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // GUARDED_BY(mu_)
  std::mutex join_mu_;     // one Stop() joins
  std::thread thread_;     // joined under join_mu_
};

}  // namespace hasivu::metrics

#endif  // HASIVU_METRICS_PERIODIC_H_
