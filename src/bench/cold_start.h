// Cold start as `hasivu bench` measures it: for each function, N fresh server processes, each
// timed from just before its exec to (a) its listening line and (b) the first answer with the
// function's expected status to that function's request, sent at once on a new connection. The
// first request is the process's first, so (b) includes everything a first caller waits for.
//
// Thread-safety: thread-compatible; starts one process at a time and stops each by its PID.
#ifndef HASIVU_BENCH_COLD_START_H_
#define HASIVU_BENCH_COLD_START_H_

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "bench/http_client.h"
#include "bench/result.h"
#include "bench/scenarios.h"
#include "bench/server_process.h"
#include "common/status.h"

namespace hasivu::bench {

struct ColdStartOptions {
  int starts = 10;
  // How the server is started (its listening line gives the port: use --listen 127.0.0.1:0).
  ProcessOptions server;
  // A start whose function never answers as expected within this long is recorded as a failure.
  std::chrono::milliseconds first_success_timeout{10000};
  // The request start `start` times for `scenario`; default scenario.requests[start % size]. It
  // may first send requests of its own on `client`, the fresh process's first connection; they
  // count in exec -> first success (a payment verified on a fresh process needs that process's
  // own checkout: the simulated gateway keeps checkouts in memory).
  std::function<StatusOr<Request>(const Scenario& scenario, int start, HttpClient& client)>
      first_request;
  // Called after each start (for a progress line): function, start index, starts.
  std::function<void(const std::string&, int, int)> on_start;
};

// One result per scenario, in order. Start i sends scenario.requests[i % size] (so a write
// scenario needs `starts` requests of its own to stay fresh), retrying it every millisecond while
// the answer is not the expected one (e.g. 503 before the store is ready); the first unexpected
// answer is kept in `failures` only when no expected one follows. An error only when a process
// cannot be started at all.
StatusOr<std::vector<ColdStartResult>> MeasureColdStarts(const std::vector<Scenario>& scenarios,
                                                         const ColdStartOptions& options);

}  // namespace hasivu::bench

#endif  // HASIVU_BENCH_COLD_START_H_
