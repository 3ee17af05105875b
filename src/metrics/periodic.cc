#include "metrics/periodic.h"

#include <utility>

namespace hasivu::metrics {

PeriodicThread::PeriodicThread(std::chrono::milliseconds interval, std::function<void()> tick)
    : interval_(interval), tick_(std::move(tick)), thread_([this] { Run(); }) {}

PeriodicThread::~PeriodicThread() { Stop(); }

void PeriodicThread::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  // std::thread::join from two threads at once is undefined; the second waits here instead and
  // then finds the thread joined.
  std::lock_guard join(join_mu_);
  if (thread_.joinable()) thread_.join();
}

void PeriodicThread::Run() {
  // The steady clock: a wall-clock step (NTP, DST) must not bunch or starve the ticks.
  auto next = std::chrono::steady_clock::now() + interval_;
  std::unique_lock lock(mu_);
  while (true) {
    if (cv_.wait_until(lock, next, [this] { return stopping_; })) return;
    lock.unlock();
    tick_();
    lock.lock();
    const auto now = std::chrono::steady_clock::now();
    next += interval_;
    if (next <= now) next += ((now - next) / interval_ + 1) * interval_;
  }
}

}  // namespace hasivu::metrics
