// Clock: the one source of "now" (architecture decision 8), injectable so tests can fix today.
//
// SystemClock() is a process-wide instance of the real clock; FixedClock is for tests.
// Thread-safety: implementations must be safe to call from any thread.
#ifndef HASIVU_COMMON_CLOCK_H_
#define HASIVU_COMMON_CLOCK_H_

#include <atomic>
#include <chrono>

namespace hasivu {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::system_clock::time_point Now() const = 0;
};

// The real clock. Never null; lives for the whole process.
Clock& SystemClock();

// A clock that answers the instant it was given until Set() or Advance() moves it.
class FixedClock : public Clock {
 public:
  explicit FixedClock(std::chrono::system_clock::time_point now)
      : now_(now.time_since_epoch().count()) {}
  std::chrono::system_clock::time_point Now() const override {
    return std::chrono::system_clock::time_point(std::chrono::system_clock::duration(now_.load()));
  }
  void Set(std::chrono::system_clock::time_point t) { now_ = t.time_since_epoch().count(); }
  void Advance(std::chrono::system_clock::duration d) { now_ += d.count(); }

 private:
  std::atomic<std::chrono::system_clock::rep> now_;
};

}  // namespace hasivu

#endif  // HASIVU_COMMON_CLOCK_H_
