// Internal to src/http (never included outside it): the pieces of the HTTP server that its
// translation units share. server.h states the behaviour; this header only splits it:
//   server.cc           the listener: ServerImpl (acceptor, accept loop, Start/Stop/Wait,
//                       connection admission against max_connections and the per-address cap,
//                       route metrics, error rendering, running handlers)
//   connection.h/.cc    the per-connection state machine (read head and body, dispatch to the
//                       router, keep-alive, pipelining, shutdown and lingering close)
//   request_limits.cc   Server::Create's settings validation and the connection timers
//                       (first-byte, idle, head, body, write)
//   response_writer.cc  serialising responses, compression negotiation and encoding, the
//                       interim "100 Continue", request metrics and the access log line
//
// No Boost.Beast here: server.cc includes this header and only connection.h brings in the
// parser, so the Beast templates are instantiated in the connection's units alone.
//
// Thread-safety: as server.h. A Worker and its connections are touched only on the worker's
// thread; ServerImpl's public methods say where they may be called from.
#ifndef HASIVU_HTTP_SERVER_INTERNAL_H_
#define HASIVU_HTTP_SERVER_INTERNAL_H_

#include <array>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "compress/settings.h"
#include "http/access_log.h"
#include "http/message.h"
#include "http/router.h"
#include "http/server.h"
#include "metrics/metrics.h"
#include "metrics/trace.h"

namespace spdlog {
class logger;
}  // namespace spdlog

namespace hasivu::http::internal {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

// ---------------------------------------------------------------------------------------------
// Small text helpers shared by the request and response sides.

// `s` without leading and trailing spaces and tabs.
inline std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Whether a client's X-Request-Id may be echoed: 1..64 chars of [A-Za-z0-9._-].
bool IsSaneRequestId(std::string_view id);

// A fresh "<16 hex>-<12 hex>" id, unique per process. Any thread.
std::string NewRequestId();

// ---------------------------------------------------------------------------------------------
// Metrics.

enum MethodIndex { kGet, kHead, kPost, kPut, kPatch, kDelete, kOptions, kOtherMethod, kMethods };
inline constexpr std::array<std::string_view, kMethods> kMethodNames = {
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "OTHER"};

// The index of `method` in kMethodNames; kOtherMethod for anything not listed.
int MethodToIndex(std::string_view method);

inline constexpr std::array<std::string_view, 4> kClasses = {"2xx", "3xx", "4xx", "5xx"};

// The series one route records into, resolved once at Start(). A null counter means the route
// cannot answer that method; such requests are counted as unmatched.
struct RouteMetrics {
  std::array<std::array<metrics::Counter*, 4>, kMethods> requests{};
  metrics::Histogram* latency = nullptr;
  std::string name;  // the route label: RouteOptions::name, or "unmatched"
};

inline constexpr std::string_view kUnmatchedRoute = "unmatched";

// Compression series, indexed by compress::Encoding (slot 0, identity, stays empty).
struct CompressionMetrics {
  std::array<metrics::Counter*, 4> responses{};
  std::array<metrics::Counter*, 4> bytes_in{};
  std::array<metrics::Counter*, 4> bytes_out{};
  std::array<metrics::Counter*, 4> errors{};
  std::array<metrics::Counter*, 4> precompressed{};
  std::array<metrics::Histogram*, 4> seconds{};
};

// Resolves the compression series (server.h, "Metrics") for every codec in `registry`, which
// must outlive the result. Defined in response_writer.cc.
CompressionMetrics RegisterCompressionMetrics(metrics::Registry& registry);

// Why a client ran into one of the server's limits: the label `reason` of
// hasivu_http_limit_hits_total (server.h, "Limit hits" says what each is answered).
enum class LimitHit {
  kFirstByteTimeout,
  kIdleTimeout,
  kHeaderTimeout,
  kBodyTimeout,
  kWriteTimeout,
  kHeaderTooLarge,
  kBodyTooLarge,
  kBadRequest,
  kHalfClosed,
  kPipelineFull,
  kCount
};
inline constexpr std::array<std::string_view, static_cast<size_t>(LimitHit::kCount)>
    kLimitHitNames = {"first_byte_timeout", "idle_timeout",     "header_timeout", "body_timeout",
                      "write_timeout",      "header_too_large", "body_too_large", "bad_request",
                      "half_closed",        "pipeline_full"};

// hasivu_http_limit_hits_total{reason}, every reason resolved up front so that each shows in
// /metrics (at 0) from the start.
struct LimitMetrics {
  std::array<metrics::Counter*, static_cast<size_t>(LimitHit::kCount)> hits{};
  void Count(LimitHit reason) const { hits[static_cast<size_t>(reason)]->Add(); }
};

// Resolves the series in `registry`, which must outlive the result. Defined in
// request_limits.cc.
LimitMetrics RegisterLimitMetrics(metrics::Registry& registry);

// ---------------------------------------------------------------------------------------------

class ServerImpl;
class Connection;

struct Worker {
  // Only touched on this worker's thread. Declared before `context` so it outlives the handlers
  // that the context destroys (and with them, connections) when it goes away.
  std::unordered_set<Connection*> connections;
  // The earliest instant this thread acts on its next connection timeout (request_limits.cc:
  // timeouts are paced so that connections timing out together do not queue ahead of the
  // thread's other work).
  SteadyClock::time_point next_timeout_slot{};
  asio::io_context context{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard;
  std::thread thread;
};

// One response slot per request read, in request order; the writer sends slots from the front
// as soon as they are ready, so a slow first request holds back (but does not reorder) the
// answers to requests pipelined behind it.
struct Pending {
  bool ready = false;
  bool head = false;   // HEAD: send headers only
  bool close = false;  // end the connection after this response
  bool http10_keep_alive = false;
  // The request carried Authorization: the response gets Cache-Control: private unless it has a
  // Cache-Control of its own.
  bool authorized = false;
  // Negotiated from Accept-Encoding before the handler; identity when compression is off.
  compress::Encoding encoding = compress::Encoding::kIdentity;
  // The client's If-None-Match, kept only when the server rewrote it for the handler.
  std::string if_none_match;
  std::string request_id;
  std::string method;  // for the access log
  std::string path;    // decoded path, or the raw target when decoding failed
  SteadyClock::time_point received_at;
  // This server's span and, while the handler runs, its span totals (written by the thread that
  // runs the handler, read by the connection's thread once the response is handed back).
  metrics::RequestTrace trace;
  // The client's span, when it sent a valid traceparent.
  std::optional<std::array<uint8_t, 8>> parent_span_id;
  // The server's first request (server.h, "First request"), and when its head began to be read.
  bool first = false;
  SteadyClock::time_point read_started_at;
  std::string_view route_name;  // RouteMetrics::name, set when the response is complete
  Response response;
  std::string wire_head;  // status line and headers, built when written
};

// Whether an accepted connection is served, or answered 503 and closed (and why).
enum class Admission { kAdmitted, kOverMaxConnections, kOverPerAddressCap };

// The connection entry points the listener uses, so that server.cc needs no Beast (defined in
// connection.cc). All on `worker`'s thread except OpenConnection.
//
// OpenConnection: creates a connection for `socket` (accepted for `worker`) and posts its start
// to the worker's context. Called on the acceptor thread. `address_group`: the per-address slot
// the connection holds (released when it closes), or empty. The connection keeps itself alive.
void OpenConnection(ServerImpl& server, Worker& worker, tcp::socket socket, Admission admission,
                    std::string address_group);
// Server shutdown: no new requests; the connection closes after its last response.
void BeginConnectionShutdown(Connection& connection);
// Closes at once, without an answer.
void CloseConnection(Connection& connection);

class ServerImpl final : public Server {
 public:
  ServerImpl(ServerSettings settings, const Router& router, ErrorRenderer error_renderer,
             metrics::Registry& registry);
  ~ServerImpl() override;

  Status Start() override;
  void BeginDrain() override { draining_.store(true, std::memory_order_release); }
  void Stop() override;
  void Wait() override;
  uint16_t port() const override { return port_.load(); }
  std::optional<SteadyClock::time_point> first_ok_response() const override {
    const int64_t ns = first_ok_ns_.load(std::memory_order_acquire);
    if (ns == 0) return std::nullopt;
    return SteadyClock::time_point(SteadyClock::duration(ns));
  }

  // Used by connections, from their I/O threads (RunHandler and EncodeResponse also from the
  // blocking pool).
  const ServerSettings& settings() const { return settings_; }
  const Router& router() const { return router_; }
  asio::thread_pool* pool() { return pool_ ? &*pool_ : nullptr; }
  // Microseconds from posting a handler to the pool to its start there.
  metrics::Histogram& offload_wait() const { return offload_wait_; }
  // Handlers posted to the pool and not started there yet.
  metrics::Gauge& offload_queued() const { return offload_queued_; }
  bool stopping() const { return stopping_.load(std::memory_order_acquire); }
  bool draining() const { return draining_.load(std::memory_order_acquire); }
  Response RenderError(unsigned status, std::string_view code, std::string_view message,
                       const Request& request) const;
  // Runs the handler with `trace` current on this thread (metrics/trace.h).
  Response RunHandler(const Route& route, Request& request, metrics::RequestTrace& trace);
  // True for the first request read, and again after a claimant gave it back (its answer was
  // never written). Any I/O thread.
  bool ClaimFirstRequest() {
    return !first_request_claimed_.load(std::memory_order_relaxed) &&
           !first_request_claimed_.exchange(true, std::memory_order_relaxed);
  }
  void ReleaseFirstRequest() { first_request_claimed_.store(false, std::memory_order_relaxed); }
  // The first request's response was fully written at `written_at`: calls on_first_request.
  void OnFirstRequestWritten(const Pending& pending, SteadyClock::time_point written_at) const;
  // Negotiates the response encoding and rewrites If-None-Match for the handler (server.h).
  // Defined in response_writer.cc.
  void PrepareEncoding(Pending& pending, Request& request) const;
  // Applies the compression policy to a finished response (server.h, "Compression").
  // Defined in response_writer.cc.
  void EncodeResponse(const Pending& pending, Response& response);
  const RouteMetrics& MetricsFor(const Route* route) const;
  const RouteMetrics& unmatched_metrics() const { return unmatched_; }
  const LimitMetrics& limit_hits() const { return limit_metrics_; }
  // Counts the request and writes its access log line. Defined in response_writer.cc.
  void Record(const Pending& pending, const RouteMetrics& metrics, const std::string& remote,
              size_t body_bytes);
  void NoteOkWritten();
  // `counted`: the connection was admitted (not turned away). `address_group`: the
  // PeerAddressGroup it holds a per-address slot in, or empty. Any I/O thread.
  void OnConnectionClosed(bool counted, const std::string& address_group);

 private:
  void DoAccept();
  void OnAccept(boost::system::error_code ec, tcp::socket socket, Worker& target);
  // Applies the connection caps to an accepted socket and hands it to `target`.
  void Admit(tcp::socket socket, Worker& target);
  // Accepts, without blocking, what the listen backlog already holds (at shutdown).
  void AcceptBacklog();
  void BeginShutdownOnAcceptorThread();
  void MaybeFinish();

  const ServerSettings settings_;
  const Router& router_;
  const ErrorRenderer error_renderer_;
  metrics::Registry& registry_;

  std::unordered_map<const Route*, RouteMetrics> route_metrics_;
  RouteMetrics unmatched_;
  metrics::Gauge& open_gauge_;
  metrics::Counter& rejected_connections_;
  metrics::Counter& rejected_per_address_;
  metrics::Counter& handler_exceptions_;
  metrics::Histogram& offload_wait_;
  metrics::Gauge& offload_queued_;
  CompressionMetrics compression_metrics_;
  const LimitMetrics limit_metrics_;
  // The default sink's logger (also consulted for its level), when access_log is set and no
  // access_log_sink was given.
  metrics::Counter& access_log_written_;
  metrics::Counter& access_log_dropped_;
  metrics::Gauge& access_log_queued_;
  // Set when access_log is; closed (drained) in Wait() once no thread can log any more.
  std::unique_ptr<AccessLogQueue> access_log_;

  std::atomic<uint16_t> port_{0};
  std::atomic<int64_t> first_ok_ns_{0};
  std::atomic<bool> first_request_claimed_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> draining_{false};
  std::atomic<bool> acceptor_closed_{false};
  std::atomic<bool> finished_{false};
  // Connections counted against max_connections (not the ones being turned away).
  std::atomic<int> open_connections_{0};
  // Every socket the server still owns, including those being turned away or lingering.
  std::atomic<int> live_sockets_{0};
  // Admitted connections per PeerAddressGroup (only when max_connections_per_address > 0).
  // Incremented on the acceptor thread, decremented on whichever thread closes the connection.
  std::mutex per_address_mu_;
  std::unordered_map<std::string, int> per_address_;  // GUARDED_BY(per_address_mu_)

  enum class State { kCreated, kRunning, kStopping, kStopped };
  std::mutex state_mu_;
  State state_ = State::kCreated;  // guarded by state_mu_
  std::mutex wait_mu_;             // serialises the joins in Wait()

  // Destroyed explicitly, in order, in the destructor: things bound to a context go before it.
  std::vector<std::unique_ptr<Worker>> workers_;
  size_t next_worker_ = 0;  // acceptor thread only
  std::optional<asio::thread_pool> pool_;
  std::optional<tcp::acceptor> acceptor_;
  std::optional<asio::steady_timer> accept_backoff_;
  std::optional<asio::steady_timer> grace_timer_;
};

}  // namespace hasivu::http::internal

#endif  // HASIVU_HTTP_SERVER_INTERNAL_H_
