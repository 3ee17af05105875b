// wrk (Debian's package) run on the same request as the bench's own load generator, so that the
// generator's figures can be checked against a tool people trust (issue 14: throughput and p50
// within 10 % in the same run).
//
// Thread-safety: thread-compatible; RunWrk waits for the wrk process it starts (stopped by its PID
// when it overruns).
#ifndef HASIVU_BENCH_WRK_H_
#define HASIVU_BENCH_WRK_H_

#include <string>
#include <string_view>

#include "bench/request.h"
#include "common/status.h"

namespace hasivu::bench {

struct WrkOptions {
  std::string program = "/usr/bin/wrk";
  int connections = 32;
  int threads = 1;
  double duration_seconds = 10;
};

struct WrkResult {
  double requests_per_second = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  uint64_t requests = 0;
  uint64_t non_2xx = 0;  // "Non-2xx or 3xx responses"
};

// Parses wrk's report as printed with --latency. InvalidArgument when a figure is missing.
StatusOr<WrkResult> ParseWrkOutput(std::string_view text);

// Runs wrk against `endpoint` with `request`'s headers. Only GET requests (wrk's command line
// carries no body without a script). FailedPrecondition when wrk is not installed.
StatusOr<WrkResult> RunWrk(const Endpoint& endpoint, const Request& request,
                           const WrkOptions& options);

}  // namespace hasivu::bench

#endif  // HASIVU_BENCH_WRK_H_
