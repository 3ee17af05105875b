// The load generator of `hasivu bench`: many keep-alive connections on Boost.Asio/Beast sending one
// workload, in a closed loop (each connection sends its next request as soon as the last answer
// arrived: the maximum throughput) or an open loop (requests scheduled at a fixed rate whatever
// the server does; each latency is measured from the request's scheduled send time, so a server
// that stalls is charged for every request it kept waiting: coordinated omission corrected, as
// wrk2 does).
//
// Thread-safety: RunLoad may be called from any thread; it runs its own I/O threads and returns
// when the load is over. The progress callback is called from one of them.
#ifndef HASIVU_BENCH_LOAD_H_
#define HASIVU_BENCH_LOAD_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "bench/request.h"
#include "common/status.h"

namespace hasivu::bench {

// What one phase sends. Requests are serialised once, before the clock starts.
struct Workload {
  std::vector<Request> requests;  // REQUIRES: not empty
  // false: the requests are sent in rotation for as long as the phase lasts (reads); true: each is
  // sent at most once, in order, and the phase ends when they are used up (writes that must not
  // repeat: a fresh order to pay, an unscanned card).
  bool each_once = false;
  int expected_status = 200;  // any other status is a failure
};

struct LoadOptions {
  int connections = 32;
  int threads = 1;  // client I/O threads; connections are spread over them
  std::chrono::milliseconds duration{10000};  // measured time, after the warm-up
  std::chrono::milliseconds warmup{0};        // sent but not recorded (not with each_once)
  // Requests per second for the open loop; 0 for the closed loop.
  double rate = 0;
  // A request without an answer after this long is an error of kind "timeout"; its connection is
  // closed and reopened.
  std::chrono::milliseconds timeout{5000};
  // Stops after this many recorded requests (0: no limit besides the duration and each_once).
  uint64_t max_requests = 0;
};

struct LoadProgress {
  double elapsed_seconds = 0;
  uint64_t completed = 0;
  uint64_t failed = 0;
  double requests_per_second = 0;  // over the last second
};

struct LoadResult {
  // Per recorded request that got an answer (any status): milliseconds from the scheduled send
  // time (open loop) or from the actual send (closed loop, where the two are the same).
  std::vector<double> latency_ms;
  // Per recorded request that got an answer: milliseconds from the actual send. In the open loop
  // the difference from latency_ms is the time the request waited for the server (the part
  // coordinated omission hides).
  std::vector<double> service_ms;
  uint64_t sent = 0;       // recorded requests written
  uint64_t completed = 0;  // recorded requests answered (any status)
  uint64_t succeeded = 0;  // answered with the expected status
  // Failures by kind: "status 409 SOLD_OUT" (status and the envelope's code, when there is one),
  // "timeout", "connect: <reason>", "closed" (the server closed before answering), "read:
  // <reason>".
  std::map<std::string, uint64_t> errors;
  double elapsed_seconds = 0;  // measured time (from the first scheduled send to the last answer)
  double requests_per_second = 0;  // completed / elapsed_seconds
  bool exhausted = false;          // an each_once workload ran out before the duration
  // Open loop: the most a request's actual send lagged behind its schedule (ms); large values mean
  // the client or the connections could not keep the rate.
  double max_send_lag_ms = 0;
  uint64_t response_bytes = 0;  // bytes read (headers and bodies) of recorded requests
};

using ProgressFn = std::function<void(const LoadProgress&)>;

// Runs `workload` against `endpoint`. InvalidArgument for bad options (no requests, connections
// or threads < 1, a negative rate); Unavailable when no connection at all could be opened.
// Failures of single requests are data (LoadResult::errors), not an error of the run.
StatusOr<LoadResult> RunLoad(const Endpoint& endpoint, const Workload& workload,
                             const LoadOptions& options, const ProgressFn& progress = {});

}  // namespace hasivu::bench

#endif  // HASIVU_BENCH_LOAD_H_
