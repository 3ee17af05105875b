// A loopback TCP relay a reliability scenario puts between a server and one of its services
// (Redis, PostgreSQL) to inject network faults: it listens on 127.0.0.1 (an ephemeral port) and
// relays each connection to 127.0.0.1:target_port. Its mode can change at any time and applies at
// once to the connections it holds and to new ones:
//
//   kForward    bytes go through as they come.
//   kBlackHole  connections are accepted and kept, and nothing moves in either direction: no byte
//               is read from or written to either side, and a side that closes is not noticed,
//               as when a network path goes dead without a reset. What was sent stays in the
//               kernel's buffers (and what the relay had already read, in its own), and flows
//               once the mode changes back, as TCP delivers after a partition heals.
//   kDelay      each chunk read from either side is written to the other `delay` later, in
//               order (a slow link; not a bandwidth limit).
//
// CutAll() closes every relayed connection, both sides, with a FIN or, on request, an RST; new
// connections are accepted as the mode says. A connection whose target refuses (the service is
// down) is closed at once, except in kBlackHole, which holds the client until the mode changes and
// only then tries the target.
//
// One thread relays every connection (non-blocking sockets, poll); it ends with the relay.
// Thread-safety: every method may be called from any thread.
#ifndef HASIVU_TESTS_RELIABILITY_FAULT_RELAY_H_
#define HASIVU_TESTS_RELIABILITY_FAULT_RELAY_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace hasivu::reliability {

class FaultRelay {
 public:
  enum class Mode { kForward, kBlackHole, kDelay };

  // Listens and starts relaying to 127.0.0.1:target_port in kForward. Null, with the reason in
  // *error, if the listening socket could not be made.
  static std::unique_ptr<FaultRelay> Start(int target_port, std::string* error);
  // Stops the relay's thread and closes every socket it holds.
  ~FaultRelay();
  FaultRelay(const FaultRelay&) = delete;
  FaultRelay& operator=(const FaultRelay&) = delete;

  // The port it listens on (127.0.0.1).
  int port() const { return port_; }
  // `delay` is used in kDelay only. Chunks read before the change keep the time they were due;
  // they still go out before any chunk read after it (order is kept per direction).
  void SetMode(Mode mode, std::chrono::milliseconds delay = std::chrono::milliseconds(0));
  Mode mode() const;
  // Closes every relayed connection (with SO_LINGER 0, i.e. an RST, when `reset`); returns once
  // they are closed.
  void CutAll(bool reset = false);
  // Client connections it holds now (each with its side to the target, or waiting for one).
  int open_connections() const { return open_connections_.load(); }
  // Client connections accepted since Start.
  int64_t accepted_connections() const { return accepted_connections_.load(); }

 private:
  FaultRelay(int listen_fd, int port, int target_port, int wake_read_fd, int wake_write_fd);
  void Wake();
  void Run();

  const int listen_fd_;
  const int port_;
  const int target_port_;
  const int wake_read_fd_;  // a pipe that ends the relay thread's poll early
  const int wake_write_fd_;

  mutable std::mutex mu_;
  std::condition_variable cut_done_;
  Mode mode_ = Mode::kForward;          // GUARDED_BY(mu_)
  std::chrono::milliseconds delay_{0};  // GUARDED_BY(mu_)
  uint64_t cut_requested_ = 0;          // GUARDED_BY(mu_)
  uint64_t cut_done_count_ = 0;         // GUARDED_BY(mu_)
  bool cut_reset_ = false;              // GUARDED_BY(mu_)
  bool stop_ = false;                   // GUARDED_BY(mu_)
  std::atomic<int> open_connections_{0};
  std::atomic<int64_t> accepted_connections_{0};
  std::thread thread_;
};

}  // namespace hasivu::reliability

#endif  // HASIVU_TESTS_RELIABILITY_FAULT_RELAY_H_
