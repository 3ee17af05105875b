// Server: HTTP/1.1 on Boost.Beast/Asio. Keep-alive and pipelining (answers in request order),
// bounded headers and bodies, first-byte, header-read and idle timeouts, caps on open connections
// (in all and per peer address), X-Request-Id, per-route metrics, a JSON access log, and graceful
// shutdown.
//
// Error answers the server produces itself (404, 405 + Allow, 408, 413, 415, 431, 400 for
// unparsable requests, 503 over the connection cap, 500 from a throwing handler) are rendered by
// the ErrorRenderer the owner supplies, so the wire envelope is defined in one place (api/).
//
// Thread-safety: Start(), Stop() and Wait() from one controlling thread (Stop() may also come
// from a signal-handling thread). Handlers run on the server's I/O threads (or its blocking
// pool) concurrently.
//
// Threads: one io_context per I/O thread; each connection is pinned to one of them
// (round-robin at accept), so a connection's work is never concurrent with itself. Routes with
// RouteOptions::blocking run on a separate pool of `blocking_threads` when that is > 0 and
// their response is posted back to the connection's thread; other handlers run inline on the
// I/O thread and must not block. hasivu_http_offload_wait_seconds is the time such a request
// waited for a pool thread (with PostgreSQL, one thread per pooled connection: its wait for a
// connection), hasivu_http_offload_queued (a gauge) how many wait now.
//
// Request handling, in order:
//   1. Parse (Beast). Head over max_header_bytes -> 431 HEADERS_TOO_LARGE; Content-Length or
//      chunked body over max_body_bytes -> 413 PAYLOAD_TOO_LARGE; unparsable -> 400
//      BAD_REQUEST. All three end the connection after the answer.
//   2. X-Request-Id: the client's if it is 1..64 chars of [A-Za-z0-9._-], else a generated one
//      ("<16 hex>-<12 hex>", unique per process). Set on Request::request_id, sent back on
//      every response, error answers included.
//   3. Target: origin-form or absolute-form. The path is percent-decoded; a bad escape, NUL or
//      an encoded '/' ("%2F") -> 400 BAD_REQUEST (the connection stays open). Query kept raw.
//   4. Router: 404 NOT_FOUND, or 405 METHOD_NOT_ALLOWED with Allow.
//   5. A non-empty body whose Content-Type is not application/json (parameters allowed,
//      case-insensitive) -> 415 UNSUPPORTED_MEDIA_TYPE (the connection stays open).
//   6. Handler. A throw, or a status outside 200..599, -> 500 INTERNAL (the exception text is
//      logged, never sent) and hasivu_http_handler_exceptions_total counts throws.
// The ErrorRenderer gets the Request as far as it was parsed: for a 400/413/431 method and
// target may be empty, and for a 503 only remote_address and request_id are set. A renderer
// that throws or returns an invalid status is replaced by a bare
// {"success":false,"error":{"code","message"}} body.
//
// Responses: the server writes Server, Date, Content-Type (Response::content_type, omitted when
// empty), Content-Length (not for 204/304, which never carry a body), Content-Encoding (from
// Response::content_encoding), X-Request-Id, X-Content-Type-Options: nosniff (on every
// response, error answers included), and "Connection: close" on the last response of a
// connection. Handler headers with those names are dropped, as are headers with invalid names
// or CR/LF in values. A response to a request that carried Authorization gets
// "Cache-Control: private" unless the handler set a Cache-Control (304s and error answers too).
// HEAD answers carry the GET's Content-Length and no body. After a final response the server
// half-closes and drains input for up to 2 s before closing, so a client still uploading sees the
// answer, not a reset.
//
// Compression (ServerSettings::compression, policy in compress/settings.h): before routing, the
// encoding is negotiated from Accept-Encoding among the offered codecs (compress/negotiation.h;
// never 406). After the handler (on the thread that ran it, so blocking and offloaded routes
// compress off the I/O threads), a response whose Content-Type is compressible, whose status
// carries a body, that is not for HEAD and whose body has at least min_bytes is encoded; the
// encoded body is sent only when smaller, with Content-Encoding and the matching Content-Length.
// Every response with a compressible Content-Type (and every 304) gets Vary: Accept-Encoding
// (merged into a handler's Vary) while compression is enabled. A codec failure sends identity
// and counts an error. A body a handler hands over already encoded (Response::content_encoding)
// is never compressed again.
// ETags per encoding: an encoded response's strong ETag "X" becomes "X-br" / "X-zstd" / "X-gzip"
// (W/"X" likewise). So that handlers that only know identity tags still answer 304, the server
// appends to If-None-Match, before the handler runs, each listed tag ending in the negotiated
// encoding's suffix without that suffix ("X-br" -> "X-br", "X"); when the handler then answers
// 304 with ETag "X" and the client had listed "X-br", the 304 carries "X-br". Handler ETags must
// therefore not themselves end in -br, -zstd or -gzip.
//
// Timeouts: first_byte_timeout runs from accept until a new connection's first byte arrives;
// idle_timeout while a keep-alive connection waits for the first byte of its next request with
// nothing in flight; header_timeout from that byte to the end of the head;
// body_timeout for the body, and also for writing each batch of responses and each interim
// "100 Continue" (a client that stops reading is cut; no write ever blocks an I/O thread). A
// request under way when its header_timeout or body_timeout runs out is answered "408
// REQUEST_TIMEOUT" with Connection: close (then the lingering close below); a write in flight at
// that moment means a client that is not reading, and it is cut without an answer instead. The
// first-byte, idle and write timeouts close without an answer: no request has begun (a 408 on
// an idle keep-alive connection could cross the client's next request), or the client is not
// reading. Each I/O thread acts on at most one expired timeout every 200 us, so that
// connections opened together (a slowloris burst) and timing out together do not hold the
// thread's other connections back: in such a wave a timeout is acted on up to (its place in
// the wave) x 200 us late, 1 s for 5 000 on one thread.
//
// Limit hits: hasivu_http_limit_hits_total{reason} counts each client that ran into a limit, by
// what it did; each answer ends the connection (with the lingering close below):
//   first_byte_timeout  closed  sent nothing within first_byte_timeout
//   idle_timeout        closed  left a keep-alive connection idle past idle_timeout
//   header_timeout      408     did not complete a head within header_timeout (slowloris)
//   body_timeout        408     did not complete a body within body_timeout
//   write_timeout       closed  did not take a batch of responses within body_timeout (a slow
//                               reader)
//   header_too_large    431     sent a head over max_header_bytes
//   body_too_large      413     announced or sent (chunked) a body over max_body_bytes
//   bad_request         400     sent something unparsable: request line, header, chunked framing
//   half_closed         400     ended its sending half (FIN) inside a head or body
//   pipeline_full       -       had max_pipelined requests waiting for their answers: reading
//                               pauses until one is written, so a pipelined flood is served in
//                               order at the pace its client reads (counted once per pause)
// A half-close between requests is not a limit: what was asked is answered, then the
// connection closes. Connections turned away at the caps are counted apart (below). A 408 is
// counted with the requests (route "unmatched", class 4xx) like the 400/413/431 answers, but is
// never the server's first request.
//
// Connection caps: a connection accepted while max_connections are open, or while its peer's
// address group (http/peer_address.h: IPv4 address, IPv6 /64) already has
// max_connections_per_address open (peers in per_address_exempt never are), is answered
// "503 UNAVAILABLE" with Retry-After: 1 and
// Connection: close, without reading its request, and closed. Turned-away connections count
// against neither cap. hasivu_http_rejected_connections_total counts those over
// max_connections, hasivu_http_rejected_connections_per_address_total those over the
// per-address cap.
//
// Metrics (resolved at Start(); defined in metrics/http_series.h):
// hasivu_http_requests_total{route,method,class} where route is RouteOptions::name (default the
// pattern) or "unmatched" for anything answered before a route was found (400, 404, 405, 413, 431);
// class is 2xx..5xx; method for unmatched requests is one of GET HEAD POST PUT PATCH DELETE OPTIONS
// OTHER. hasivu_http_request_duration_seconds{route}: from the complete request head to the
// response being ready (recorded in microseconds), every request but the first (see "First
// request"). hasivu_http_open_connections (gauge).
// Compression, each with label encoding = br|zstd|gzip: hasivu_http_compressed_responses_total
// (bodies the server encoded and sent encoded), hasivu_http_compression_bytes_in_total / _out_total
// (their sizes before and after), hasivu_http_compression_seconds (histogram of every encoding
// attempt, microseconds recorded), hasivu_http_compression_errors_total (codec failures, answered
// identity), hasivu_http_precompressed_responses_total (bodies handlers handed over already
// encoded).
//
// Tracing (W3C Trace Context, metrics/trace.h): a request with one valid `traceparent` header
// continues that trace: the server's span is a child of the client's (same trace id and flags, a
// new span id). Without one (absent, invalid, or sent more than once) the server starts a new
// trace. Every response carries `traceparent` with the server's span, error answers the server
// produces itself (400, 404, 413, 431, 503...) included; a handler's own traceparent header is
// dropped. While the handler runs, its thread has the request current (metrics::CurrentTrace,
// AddSpanTime), so database, cache and gateway time add up per request.
//
// First request: the first request this server object reads (per Server, not per process; one
// that could be parsed or answered 400/413/431, never a connection turned away with a 503) is the
// cold one. It is left out of hasivu_http_request_duration_seconds (warm latency is reported apart
// from cold start), marked "cold":true in the access log, and once its response is fully written
// ServerSettings::on_first_request is called with its instants. If its response cannot be written
// (the client left) the hook is not called for it, and the next request read becomes the first.
//
// Access log: when access_log is set, one JSON line per request:
// {"ts","request_id","trace_id","span_id","parent_span_id" (only when the client sent a valid
// traceparent),"method","path","status","bytes","duration_us","db_ms","db_calls","cache_ms",
// "cache_calls","gateway_ms","gateway_calls","remote","cold" (only true, on the first request)}.
// Never bodies, query strings or headers. *_ms is the request's span time of that kind (three
// decimals), *_calls the number of calls. Lines are written off the I/O threads: the I/O thread
// queues the line (http/access_log.h, at most access_log_queue_lines waiting) and a writer thread
// hands batches to access_log_sink, by default stdout (NewStdioAccessLogSink: one write and one
// flush per batch, and no lock a request thread takes). A line that finds the queue
// full is dropped, never waited for: hasivu_access_log_dropped_total counts those, and
// hasivu_access_log_lines_total the lines handed to the sink, hasivu_access_log_queued_lines (a
// gauge) those waiting. Wait() (and the destructor) hands
// every queued line to the sink before returning, so a clean shutdown loses none.
#ifndef HASIVU_HTTP_SERVER_H_
#define HASIVU_HTTP_SERVER_H_

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/ip_address.h"
#include "common/status.h"
#include "compress/settings.h"
#include "http/access_log.h"
#include "http/message.h"
#include "http/router.h"
#include "metrics/metrics.h"

namespace hasivu::http {

// The first request a server read, for cold start (architecture.md, "Cold start, defined":
// its own service time is first byte in -> last byte out).
struct FirstRequest {
  // When the server began reading its head with data at hand: the wakeup on a readable socket,
  // or, behind a pipelined request, the start of parsing what was already buffered. The closest
  // the server knows to its first byte's arrival.
  std::chrono::steady_clock::time_point first_byte;
  // When the write that carried the last byte of its response completed.
  std::chrono::steady_clock::time_point last_byte_written;
  std::string route;  // RouteOptions::name, or "unmatched"
  unsigned status = 0;
};

struct ServerSettings {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0 picks a free port (see Server::port())
  int io_threads = 0;    // 0 = one per core
  // Threads for RouteOptions::blocking handlers. 0 = run them inline on the I/O thread.
  int blocking_threads = 0;
  // Whether RouteOptions::try_inline routes are first tried on the I/O thread (router.h). Off
  // where nothing could be answered without blocking (no cache): a refused attempt costs a pass
  // through the handler's first steps (the token check, an error answer dropped), ~25 us.
  bool try_inline = true;
  // Threads for RouteOptions::offload handlers when blocking_threads is 0 (SQLite), so a
  // password hash or a gateway call never stalls an event loop. Default: 2.
  int cpu_threads = 2;
  size_t max_body_bytes = 65536;    // larger -> 413
  size_t max_header_bytes = 16384;  // larger -> 431 HEADERS_TOO_LARGE (256 .. 16 MiB)
  int max_connections = 10000;      // further connections are closed after a 503
  // Open connections one peer address may hold (IPv6: one /64, see http/peer_address.h); further
  // ones from it are closed after a 503. 0 = no per-address cap. Behind a load balancer or proxy
  // every connection comes from its few addresses: list them in per_address_exempt (or set 0).
  // Default: 256.
  int max_connections_per_address = 256;
  // Peers in these ranges (trusted reverse proxies) are held to max_connections only.
  std::vector<IpRange> per_address_exempt;
  std::chrono::milliseconds header_timeout{10000};  // to receive a complete request head
  std::chrono::milliseconds body_timeout{30000};    // to receive the body; also per write
  std::chrono::milliseconds idle_timeout{60000};    // keep-alive wait for the next request
  // Wait for the first byte of a new connection (idle_timeout applies once one has arrived).
  std::chrono::milliseconds first_byte_timeout{10000};
  std::chrono::milliseconds shutdown_grace{8000};  // in-flight requests may finish within this
  // A request's deadline, counted from its complete head (Request::received_at). Its handler runs
  // inside a ScopedDeadline (common/deadline.h) that ends then, so that what it waits on (a
  // database round trip, a pooled connection) gives up and the request is answered, 503 at
  // worst, instead of held; a request whose deadline passed before its handler could start
  // (queued for a pool thread behind stuck ones) is answered 503 UNAVAILABLE with Retry-After: 1
  // without running it. 0 = none. Default: 0.
  std::chrono::milliseconds request_deadline{0};
  size_t max_pipelined = 16;       // requests read ahead of the one being answered
  bool access_log = true;          // one JSON line per request (see "Access log" above)
  compress::Settings compression;  // response compression; validated by Create()
  // Access log lines that may wait for the writer thread; more are dropped and counted. The
  // queue keeps storage for twice this many lines (about 6 MB at 400 bytes a line). Default:
  // 8192. Must be >= 1.
  size_t access_log_queue_lines = 8192;
  // Where the writer thread sends access log lines. Default (empty): stdout
  // (NewStdioAccessLogSink).
  AccessLogSink access_log_sink;
  // Called once, on an I/O thread, after the first request's response is fully written (see
  // "First request" above). Keep it short: it runs on the event loop. Default: none.
  std::function<void(const FirstRequest&)> on_first_request;
};

// Renders an error response in the API's envelope. `code` is UPPER_SNAKE ("NOT_FOUND").
using ErrorRenderer = std::function<Response(unsigned status, std::string_view code,
                                             std::string_view message, const Request& request)>;

class Server {
 public:
  // `router` and `registry` must outlive the server. `error_renderer` may be empty (a bare
  // JSON envelope is used). kInvalidArgument for settings out of range. The destructor stops
  // and waits if needed.
  static StatusOr<std::unique_ptr<Server>> Create(ServerSettings settings, const Router& router,
                                                  ErrorRenderer error_renderer,
                                                  metrics::Registry& registry);
  virtual ~Server() = default;

  // Binds and starts the I/O threads. kUnavailable if the address cannot be bound.
  virtual Status Start() = 0;
  // The prelude to a graceful Stop(): the server goes on accepting and serving, but every
  // response from now on carries "Connection: close", so keep-alive clients open a new connection
  // (which a load balancer can send elsewhere) instead of reusing one that Stop() will close.
  // Idempotent; any thread.
  virtual void BeginDrain() = 0;
  // Stops accepting, lets in-flight requests finish (up to shutdown_grace), closes idle
  // connections, then stops the threads. Safe to call from a signal-handling thread.
  // Returns once the listening socket is closed (new connections are refused from then on);
  // the rest happens in the background and Wait() returns when it is done. Nothing a client
  // could count as sent is dropped: connections already queued in the listen backlog are
  // accepted; a request whose head is arriving, or whose bytes wait unread, is read; a connection
  // accepted but yet to send its first request gets up to 250 ms to send it. Each
  // of those is answered (the last with "Connection: close"); connections still open when the
  // grace runs out are cut. Idempotent; before Start() it just marks the server stopped.
  virtual void Stop() = 0;
  // Blocks until the server has stopped (after Stop(), from any thread). Returns at once if the
  // server never started. Also waits for blocking-pool handlers that are still running.
  virtual void Wait() = 0;
  // The bound port (after Start()).
  virtual uint16_t port() const = 0;
  // Steady-clock instant the first response with status 200 was written (for cold start), or
  // nullopt before.
  virtual std::optional<std::chrono::steady_clock::time_point> first_ok_response() const = 0;
};

}  // namespace hasivu::http

#endif  // HASIVU_HTTP_SERVER_H_
