// Server: HTTP/1.1 on Boost.Beast/Asio. Keep-alive and pipelining (answers in request order),
// bounded headers and bodies, header-read and idle timeouts, a cap on open connections,
// X-Request-Id, per-route metrics, a JSON access log, and graceful shutdown.
//
// Error answers the server produces itself (404, 405 + Allow, 413, 415, 400 for unparsable
// requests, 503 over the connection cap, 500 from a throwing handler) are rendered by the
// ErrorRenderer the owner supplies, so the wire envelope is defined in one place (api/).
//
// Thread-safety: Start(), Stop() and Wait() from one controlling thread. Handlers run on the
// server's I/O threads (or its blocking pool) concurrently.
#ifndef HASIVU_HTTP_SERVER_H_
#define HASIVU_HTTP_SERVER_H_

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/status.h"
#include "http/message.h"
#include "http/router.h"
#include "metrics/metrics.h"

namespace hasivu::http {

struct ServerSettings {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0 picks a free port (see Server::port())
  int io_threads = 0;    // 0 = one per core
  // Threads for RouteOptions::blocking handlers. 0 = run them inline on the I/O thread.
  int blocking_threads = 0;
  size_t max_body_bytes = 65536;    // larger -> 413
  size_t max_header_bytes = 16384;  // larger -> 431 (rendered as 400 by ErrorRenderer)
  int max_connections = 10000;      // further connections are closed after a 503
  std::chrono::milliseconds header_timeout{10000};  // to receive a complete request head
  std::chrono::milliseconds body_timeout{30000};    // to receive the body after the head
  std::chrono::milliseconds idle_timeout{60000};    // keep-alive wait for the next request
  std::chrono::milliseconds shutdown_grace{8000};   // in-flight requests may finish within this
  size_t max_pipelined = 16;                        // requests read ahead of the one being answered
  bool access_log = true;  // one JSON line per request to the "access" spdlog logger
};

// Renders an error response in the API's envelope. `code` is UPPER_SNAKE ("NOT_FOUND").
using ErrorRenderer = std::function<Response(unsigned status, std::string_view code,
                                             std::string_view message, const Request& request)>;

class Server {
 public:
  // `router` and `registry` must outlive the server.
  static StatusOr<std::unique_ptr<Server>> Create(ServerSettings settings, const Router& router,
                                                  ErrorRenderer error_renderer,
                                                  metrics::Registry& registry);
  virtual ~Server() = default;

  // Binds and starts the I/O threads. kUnavailable if the address cannot be bound.
  virtual Status Start() = 0;
  // Stops accepting, lets in-flight requests finish (up to shutdown_grace), closes idle
  // connections, then stops the threads. Safe to call from a signal-handling thread.
  virtual void Stop() = 0;
  // Blocks until the server has stopped.
  virtual void Wait() = 0;
  // The bound port (after Start()).
  virtual uint16_t port() const = 0;
  // Steady-clock instant the first response with status 200 was written (for cold start), or
  // nullopt before.
  virtual std::optional<std::chrono::steady_clock::time_point> first_ok_response() const = 0;
};

}  // namespace hasivu::http

#endif  // HASIVU_HTTP_SERVER_H_
