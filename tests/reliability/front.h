// A round-robin front for a pair (or more) of servers, as a load balancer with an active health
// check is: it asks each server's /readyz every `probe_interval` on a connection of its own and
// sends requests only to the servers whose last answer was 200. Plugged into a campaign with
// Campaign::SetPortChooser([&front] { return front.Choose(); }).
//
// Thread-safety: Choose() and the accessors from any thread; Start/Stop from one thread.
#ifndef HASIVU_TESTS_RELIABILITY_FRONT_H_
#define HASIVU_TESTS_RELIABILITY_FRONT_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

namespace hasivu::reliability {

class ReadinessFront {
 public:
  // `ports`: the servers on 127.0.0.1, all taken as ready until the first probe says otherwise.
  explicit ReadinessFront(std::vector<int> ports,
                          std::chrono::milliseconds probe_interval = std::chrono::milliseconds(50));
  ~ReadinessFront();  // stops the prober
  ReadinessFront(const ReadinessFront&) = delete;
  ReadinessFront& operator=(const ReadinessFront&) = delete;

  void Start();
  void Stop();

  // The next ready server in turn; when none is ready, the next one in turn regardless (its
  // requests then fail and are counted, as a front with no healthy backend would fail them).
  int Choose();
  bool Ready(int port) const;
  // Requests sent to `port` so far (by Choose()).
  uint64_t Chosen(int port) const;
  // Choose() calls that found no server ready.
  uint64_t ChosenWithoutReady() const { return without_ready_.load(); }

 private:
  void Probe();
  int IndexOf(int port) const;

  const std::vector<int> ports_;
  const std::chrono::milliseconds probe_interval_;
  std::unique_ptr<std::atomic<bool>[]> ready_;
  std::unique_ptr<std::atomic<uint64_t>[]> chosen_;
  std::atomic<uint64_t> next_{0};
  std::atomic<uint64_t> without_ready_{0};
  std::atomic<bool> stop_{false};
  std::thread prober_;
};

}  // namespace hasivu::reliability

#endif  // HASIVU_TESTS_RELIABILITY_FRONT_H_
