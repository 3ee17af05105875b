// A blocking HTTP/1.1 client for what `hasivu bench` does outside the measured load: logging in,
// preparing writes, scraping /metrics, probing readiness. One keep-alive connection, reopened when
// the server closes it.
//
// Thread-safety: thread-compatible (one caller at a time).
#ifndef HASIVU_BENCH_HTTP_CLIENT_H_
#define HASIVU_BENCH_HTTP_CLIENT_H_

#include <chrono>
#include <memory>

#include "bench/request.h"
#include "common/status.h"

namespace hasivu::bench {

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // Sends `request` and returns the server's answer, whatever its status. Unavailable when the
  // server cannot be reached or closes without answering (after one retry on a fresh connection
  // when a kept-alive one turned out closed), DeadlineExceeded when the answer takes longer than
  // the client's timeout.
  virtual StatusOr<Response> Send(const Request& request) = 0;
};

std::unique_ptr<HttpClient> NewHttpClient(const Endpoint& endpoint,
                                          std::chrono::milliseconds timeout);

}  // namespace hasivu::bench

#endif  // HASIVU_BENCH_HTTP_CLIENT_H_
