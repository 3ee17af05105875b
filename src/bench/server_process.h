// A server process that `hasivu bench` starts, times and stops: the local server under test (each
// repetition and each cold start is a fresh process) and a local peer for --compare.
//
// Start() spawns the command and returns once the process has printed its listening line
// ("... listening on http://HOST:PORT ...", as `hasivu serve` prints it), or, for a command that
// prints nothing of the kind, once `ready_port` accepts a connection. The clock of the cold start
// is read just before the spawn. The process's standard output is drained by a thread of its own
// into `log_path` (so a chatty server never blocks on a full pipe); standard error goes there too.
//
// Thread-safety: thread-compatible. The destructor stops a process still running (SIGTERM, then
// SIGKILL after the stop timeout): every process started is stopped by its PID.
#ifndef HASIVU_BENCH_SERVER_PROCESS_H_
#define HASIVU_BENCH_SERVER_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"

namespace hasivu::bench {

struct ProcessOptions {
  std::vector<std::string> argv;  // argv[0] is the program's path; REQUIRES: not empty
  std::vector<std::string> env;   // "NAME=value" added to (or replacing in) the bench's environment
  std::string log_path = "/dev/null";
  std::chrono::milliseconds ready_timeout{60000};
  // 0: wait for the listening line. Otherwise: ready when 127.0.0.1:ready_port accepts (for peers
  // that print no such line); port() is then ready_port.
  uint16_t ready_port = 0;
  std::chrono::milliseconds stop_timeout{15000};
};

class ServerProcess {
 public:
  using Clock = std::chrono::steady_clock;

  // Unavailable (with the log's last lines) when the process exits or stays silent past the
  // timeout; it is then stopped.
  static StatusOr<std::unique_ptr<ServerProcess>> Start(const ProcessOptions& options);
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  pid_t pid() const { return pid_; }
  uint16_t port() const { return port_; }
  Clock::time_point spawned_at() const { return spawned_at_; }
  Clock::time_point ready_at() const { return ready_at_; }
  // SIGTERM, wait up to the stop timeout, then SIGKILL. The exit code (128 + signal when killed by
  // one); Internal when it had to be killed.
  StatusOr<int> Stop();
  bool running() const { return pid_ > 0; }

 private:
  explicit ServerProcess(const ProcessOptions& options) : options_(options) {}

  ProcessOptions options_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
  int out_fd_ = -1;
  std::thread drain_;
  Clock::time_point spawned_at_;
  Clock::time_point ready_at_;
};

// The last `lines` lines of the file at `path` ("" when it cannot be read), for error messages.
std::string TailOfFile(const std::string& path, int lines);

}  // namespace hasivu::bench

#endif  // HASIVU_BENCH_SERVER_PROCESS_H_
