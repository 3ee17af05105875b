#include "http/server.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <future>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "compress/codec.h"
#include "compress/negotiation.h"
#include "http/peer_address.h"

// Thread model: one io_context per I/O thread, and the acceptor hands each new connection to the
// next context round-robin. A connection then lives on exactly one thread for its whole life, so
// its handlers need no strand and no locks, and the hot path never touches a scheduler shared by
// all threads (a single shared io_context serialises every completion through one mutex-guarded
// queue, which is what limits it at high request rates). The price is that a thread cannot
// steal another's connections; with short requests and many connections that evens out, and
// the slow work (database round trips) runs on the separate blocking pool anyway.

namespace hasivu::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

// After a response that ends the connection, the server stops sending and reads (and discards)
// whatever the client still sends for a short while before closing. Closing with unread data
// makes the kernel send RST, which can destroy the response before the client reads it (think
// of a 413 answered while the client is still uploading).
constexpr std::chrono::milliseconds kLingerTime{2000};
constexpr size_t kMaxLingerBytes = 1 << 20;

// Written to stop() when the server itself runs on this thread, so Stop() from a handler does
// not wait on its own thread.
thread_local const void* tls_server = nullptr;

// ---------------------------------------------------------------------------------------------
// Small text helpers.

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IsSaneRequestId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

void AppendHex(std::string& out, uint64_t v, int digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = digits - 1; i >= 0; --i) out += kHex[(v >> (4 * i)) & 0xf];
}

// A random per-thread prefix and a per-thread counter: unique without a shared atomic or a
// syscall per request (a UUID from the crypto source would cost a CSPRNG call each time).
std::string NewRequestId() {
  thread_local const uint64_t prefix = [] {
    std::random_device rd;
    return (static_cast<uint64_t>(rd()) << 32) ^ rd();
  }();
  thread_local uint64_t counter = 0;
  std::string id;
  id.reserve(29);
  AppendHex(id, prefix, 16);
  id += '-';
  AppendHex(id, ++counter, 12);
  return id;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes a path. Rejects bad escapes and NUL. An encoded '/' is rejected too: the
// router splits the decoded path, so "%2F" would silently turn into a segment boundary.
bool DecodePath(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '\0') return false;
    if (c != '%') {
      out += c;
      continue;
    }
    if (i + 2 >= in.size()) return false;
    const int hi = HexValue(in[i + 1]);
    const int lo = HexValue(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    const char decoded = static_cast<char>(hi * 16 + lo);
    if (decoded == '\0' || decoded == '/') return false;
    out += decoded;
    i += 2;
  }
  return true;
}

bool IsJsonContentType(std::string_view value) {
  const size_t semi = value.find(';');
  return EqualsIgnoreCase(Trim(value.substr(0, semi)), "application/json");
}

bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsValidHeader(std::string_view name, std::string_view value) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!IsTokenChar(c)) return false;
  }
  for (char c : value) {
    if (c == '\r' || c == '\n' || c == '\0') return false;
  }
  return true;
}

// Headers the server writes itself; a handler's copy of them is dropped.
bool IsServerOwnedHeader(std::string_view name) {
  for (std::string_view owned :
       {"content-length", "content-type", "content-encoding", "transfer-encoding", "connection",
        "x-request-id", "server", "date", "keep-alive", "x-content-type-options"}) {
    if (EqualsIgnoreCase(name, owned)) return true;
  }
  return false;
}

constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// IMF-fixdate, rebuilt at most once a second per thread. Built by hand because strftime's %a/%b
// follow the process locale.
std::string_view HttpDate() {
  thread_local std::time_t cached_second = -1;
  thread_local char text[32];
  const std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::snprintf(text, sizeof(text), "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday % 7],
                  tm.tm_mday, kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                  tm.tm_sec);
    cached_second = now;
  }
  return text;
}

std::string Rfc3339Now() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[64];
  std::snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(millis));
  return text;
}

// JSON string escaping for the access log. Bytes outside printable ASCII are escaped one by one,
// so the line is valid JSON whatever a client put in its path.
void AppendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
}

// ---------------------------------------------------------------------------------------------
// Metrics.

enum MethodIndex { kGet, kHead, kPost, kPut, kPatch, kDelete, kOptions, kOtherMethod, kMethods };
constexpr std::array<std::string_view, kMethods> kMethodNames = {
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "OTHER"};

int MethodToIndex(std::string_view method) {
  for (int i = 0; i < kOtherMethod; ++i) {
    if (kMethodNames[i] == method) return i;
  }
  return kOtherMethod;
}

constexpr std::array<std::string_view, 4> kClasses = {"2xx", "3xx", "4xx", "5xx"};

// The series one route records into, resolved once at Start(). A null counter means the route
// cannot answer that method; such requests are counted as unmatched.
struct RouteMetrics {
  std::array<std::array<metrics::Counter*, 4>, kMethods> requests{};
  metrics::Histogram* latency = nullptr;
};

constexpr std::string_view kUnmatchedRoute = "unmatched";

// Compression series, indexed by compress::Encoding (slot 0, identity, stays empty).
struct CompressionMetrics {
  std::array<metrics::Counter*, 4> responses{};
  std::array<metrics::Counter*, 4> bytes_in{};
  std::array<metrics::Counter*, 4> bytes_out{};
  std::array<metrics::Counter*, 4> errors{};
  std::array<metrics::Counter*, 4> precompressed{};
  std::array<metrics::Histogram*, 4> seconds{};
};

// Whether a comma-separated header value lists `token` (case-insensitive).
bool ListsToken(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    const size_t comma = value.find(',');
    if (EqualsIgnoreCase(Trim(value.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

void AddVaryAcceptEncoding(Response& response) {
  const std::string* vary = response.headers.Find("Vary");
  if (vary == nullptr) {
    response.headers.Add("Vary", "Accept-Encoding");
  } else if (Trim(*vary) != "*" && !ListsToken(*vary, "Accept-Encoding")) {
    response.headers.Set("Vary", *vary + ", Accept-Encoding");
  }
}

// Renames the identity ETag "X" of a response to its encoded variant's "X-br" etc.
void TagEncodedVariant(Response& response, compress::Encoding encoding) {
  if (const std::string* etag = response.headers.Find("ETag")) {
    response.headers.Set("ETag", compress::TagForEncoding(*etag, encoding));
  }
}

// ---------------------------------------------------------------------------------------------

class ServerImpl;
class Connection;

struct Worker {
  // Only touched on this worker's thread. Declared before `context` so it outlives the handlers
  // that the context destroys (and with them, connections) when it goes away.
  std::unordered_set<Connection*> connections;
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
  Response response;
  std::string wire_head;  // status line and headers, built when written
};

class ServerImpl final : public Server {
 public:
  ServerImpl(ServerSettings settings, const Router& router, ErrorRenderer error_renderer,
             metrics::Registry& registry);
  ~ServerImpl() override;

  Status Start() override;
  void Stop() override;
  void Wait() override;
  uint16_t port() const override { return port_.load(); }
  std::optional<SteadyClock::time_point> first_ok_response() const override {
    const int64_t ns = first_ok_ns_.load(std::memory_order_acquire);
    if (ns == 0) return std::nullopt;
    return SteadyClock::time_point(SteadyClock::duration(ns));
  }

  // Used by connections.
  const ServerSettings& settings() const { return settings_; }
  const Router& router() const { return router_; }
  asio::thread_pool* pool() { return pool_ ? &*pool_ : nullptr; }
  bool stopping() const { return stopping_.load(std::memory_order_acquire); }
  Response RenderError(unsigned status, std::string_view code, std::string_view message,
                       const Request& request) const;
  Response RunHandler(const Route& route, Request& request);
  // Negotiates the response encoding and rewrites If-None-Match for the handler (server.h).
  void PrepareEncoding(Pending& pending, Request& request) const;
  // Applies the compression policy to a finished response (server.h, "Compression").
  void EncodeResponse(const Pending& pending, Response& response);
  const RouteMetrics& MetricsFor(const Route* route) const;
  const RouteMetrics& unmatched_metrics() const { return unmatched_; }
  void Record(const Pending& pending, const RouteMetrics& metrics, const std::string& remote,
              size_t body_bytes);
  void NoteOkWritten();
  // `counted`: the connection was admitted (not turned away). `address_group`: the
  // PeerAddressGroup it holds a per-address slot in, or empty.
  void OnConnectionClosed(bool counted, const std::string& address_group);

 private:
  void DoAccept();
  void OnAccept(boost::system::error_code ec, tcp::socket socket, Worker& target);
  void BeginShutdownOnAcceptorThread();
  void MaybeFinish();

  const ServerSettings settings_;
  const Router& router_;
  const ErrorRenderer error_renderer_;
  metrics::Registry& registry_;
  std::shared_ptr<spdlog::logger> access_log_;

  std::unordered_map<const Route*, RouteMetrics> route_metrics_;
  RouteMetrics unmatched_;
  metrics::Gauge& open_gauge_;
  metrics::Counter& rejected_connections_;
  metrics::Counter& rejected_per_address_;
  metrics::Counter& handler_exceptions_;
  CompressionMetrics compression_metrics_;

  std::atomic<uint16_t> port_{0};
  std::atomic<int64_t> first_ok_ns_{0};
  std::atomic<bool> stopping_{false};
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

// ---------------------------------------------------------------------------------------------

// Whether an accepted connection is served, or answered 503 and closed (and why).
enum class Admission { kAdmitted, kOverMaxConnections, kOverPerAddressCap };

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // `address_group`: the per-address slot this connection holds (released on close), or empty.
  Connection(ServerImpl& server, Worker& worker, tcp::socket socket, Admission admission,
             std::string address_group)
      : server_(server),
        worker_(worker),
        settings_(server.settings()),
        socket_(std::move(socket)),
        buffer_(settings_.max_header_bytes + settings_.max_body_bytes + 65536),
        read_timer_(socket_.get_executor()),
        write_timer_(socket_.get_executor()),
        admission_(admission),
        reject_(admission != Admission::kAdmitted),
        address_group_(std::move(address_group)) {}

  ~Connection() {
    // Reached without Close() only when a stopped context drops its queued handlers.
    if (!closed_) {
      closed_ = true;
      worker_.connections.erase(this);
      server_.OnConnectionClosed(!reject_, address_group_);
    }
  }

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void Start() {
    worker_.connections.insert(this);
    boost::system::error_code ec;
    const tcp::endpoint remote = socket_.remote_endpoint(ec);
    if (ec) {
      Close();
      return;
    }
    remote_ = remote.address().to_string();
    socket_.set_option(tcp::no_delay(true), ec);
    if (reject_) {
      Request request;
      request.remote_address = remote_;
      request.request_id = NewRequestId();
      request.received_at = SteadyClock::now();
      auto pending = std::make_shared<Pending>();
      pending->close = true;
      pending->request_id = request.request_id;
      pending->received_at = request.received_at;
      pending->response =
          admission_ == Admission::kOverPerAddressCap
              ? server_.RenderError(503, "UNAVAILABLE",
                                    "Too many connections from this address; retry shortly",
                                    request)
              : server_.RenderError(503, "UNAVAILABLE",
                                    "The server is at its connection limit; retry shortly",
                                    request);
      pending->response.headers.Set("Retry-After", "1");
      pending->ready = true;
      queue_.push_back(std::move(pending));
      read_closed_ = true;
      DoWrite();
      return;
    }
    if (server_.stopping()) {
      Close();
      return;
    }
    DoRead();
  }

  // Server shutdown: no new requests; close now if nothing is in flight, else after the last
  // response. A request whose body is being received still counts as in flight.
  void BeginShutdown() {
    if (closed_ || lingering_) return;
    stopping_ = true;
    if (read_state_ != ReadState::kBody) read_closed_ = true;
    if (queue_.empty() && !writing_ && read_state_ != ReadState::kBody) {
      Close();
      return;
    }
    UpdateIdleTimer();
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ec;
    read_timer_.cancel();
    write_timer_.cancel();
    socket_.close(ec);
    worker_.connections.erase(this);
    server_.OnConnectionClosed(!reject_, address_group_);
  }

 private:
  enum class ReadState { kNone, kWaiting, kHeader, kBody };
  enum class TimerPhase { kNone, kIdle, kHeader, kBody, kLinger };

  void DoRead() {
    if (closed_ || lingering_ || read_closed_ || read_state_ != ReadState::kNone) return;
    if (queue_.size() >= settings_.max_pipelined) return;  // resumed by OnWrite
    if (buffer_.size() > 0) {
      ReadHeader();
      return;
    }
    // Wait for the first byte before starting the header clock, so idle keep-alive time and
    // head-receiving time are bounded separately.
    read_state_ = ReadState::kWaiting;
    UpdateIdleTimer();
    socket_.async_wait(
        tcp::socket::wait_read,
        [self = shared_from_this()](boost::system::error_code ec) { self->OnReadable(ec); });
  }

  void OnReadable(boost::system::error_code ec) {
    if (read_state_ == ReadState::kWaiting) read_state_ = ReadState::kNone;
    if (closed_ || lingering_) return;
    if (read_closed_) {
      MaybeFinish();
      return;
    }
    if (ec) {
      Close();
      return;
    }
    got_first_byte_ = true;
    ReadHeader();
  }

  void ReadHeader() {
    read_state_ = ReadState::kHeader;
    ArmReadTimer(TimerPhase::kHeader, settings_.header_timeout);
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(settings_.max_header_bytes));
    parser_->body_limit(settings_.max_body_bytes);
    bhttp::async_read_header(
        socket_, buffer_, *parser_,
        [self = shared_from_this()](boost::system::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(boost::system::error_code ec) {
    if (closed_ || lingering_) return;
    if (read_closed_) {  // shutdown began while a head was arriving: drop it
      read_state_ = ReadState::kNone;
      MaybeFinish();
      return;
    }
    if (ec) {
      OnReadError(ec);
      return;
    }
    received_at_ = SteadyClock::now();
    if (parser_->is_done()) {
      OnRequest();
      return;
    }
    read_state_ = ReadState::kBody;
    ArmReadTimer(TimerPhase::kBody, settings_.body_timeout);
    MaybeSendContinue();
    bhttp::async_read(
        socket_, buffer_, *parser_,
        [self = shared_from_this()](boost::system::error_code ec, size_t) { self->OnBody(ec); });
  }

  // A client that sent "Expect: 100-continue" waits (curl: up to a second) before sending the
  // body. Only sent when no response is queued, so it cannot interleave with one. It is written
  // like a response batch of zero responses (writing_ set, under the write timer): a client that
  // stops reading must not be able to pin the I/O thread with a blocking write, and a response
  // that becomes ready meanwhile waits for OnWrite.
  void MaybeSendContinue() {
    const auto& header = parser_->get();
    const auto expect = header[bhttp::field::expect];
    if (expect.empty() || !EqualsIgnoreCase(Trim(expect), "100-continue")) return;
    if (!queue_.empty() || writing_ || header.version() < 11) return;
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    write_count_ = 0;
    close_after_write_ = false;
    writing_ = true;
    ArmWriteTimer();
    asio::async_write(
        socket_, asio::buffer(kContinue.data(), kContinue.size()),
        [self = shared_from_this()](boost::system::error_code ec, size_t) { self->OnWrite(ec); });
  }

  void OnBody(boost::system::error_code ec) {
    if (closed_ || lingering_) return;
    if (ec) {
      OnReadError(ec);
      return;
    }
    OnRequest();
  }

  void OnReadError(boost::system::error_code ec) {
    read_state_ = ReadState::kNone;
    read_timer_.cancel();
    timer_phase_ = TimerPhase::kNone;
    if (ec == bhttp::error::end_of_stream || ec == asio::error::eof) {
      // The client finished sending; answer what it already asked for, then close.
      read_closed_ = true;
      MaybeFinish();
      return;
    }
    unsigned status = 0;
    std::string_view code, message;
    if (ec == bhttp::error::body_limit) {
      status = 413;
      code = "PAYLOAD_TOO_LARGE";
      message = "The request body is larger than the server accepts";
    } else if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow) {
      status = 431;
      code = "HEADERS_TOO_LARGE";
      message = "The request header block is larger than the server accepts";
    } else if (ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category()) {
      status = 400;
      code = "BAD_REQUEST";
      message = "The request is not valid HTTP/1.1";
    } else {
      // Reset, aborted by our own timer, and other transport failures: nobody to answer.
      Close();
      return;
    }
    Request request;
    request.remote_address = remote_;
    request.received_at = SteadyClock::now();
    // Fields parsed before the failure are readable even when the head is incomplete (a
    // Content-Length over the limit fails inside the head), so the id can still be echoed.
    if (parser_) {
      const auto& header = parser_->get();
      request.method = std::string(header.method_string());
      request.target = std::string(header.target());
      const auto id = header["X-Request-Id"];
      if (IsSaneRequestId(id)) request.request_id = std::string(id);
    }
    if (request.request_id.empty()) request.request_id = NewRequestId();
    auto pending = std::make_shared<Pending>();
    pending->close = true;
    pending->request_id = request.request_id;
    pending->method = request.method;
    pending->path = request.target.substr(0, request.target.find('?'));
    pending->received_at = request.received_at;
    queue_.push_back(pending);
    read_closed_ = true;
    Complete(pending, server_.RenderError(status, code, message, request),
             server_.unmatched_metrics());
  }

  void OnRequest() {
    read_state_ = ReadState::kNone;
    read_timer_.cancel();
    timer_phase_ = TimerPhase::kNone;
    bhttp::request<bhttp::string_body> message = parser_->release();
    parser_.reset();

    Request request;
    request.method = std::string(message.method_string());
    request.target = std::string(message.target());
    for (const auto& field : message) {
      request.headers.Add(std::string(field.name_string()), std::string(field.value()));
    }
    request.body = std::move(message.body());
    request.remote_address = remote_;
    request.received_at = received_at_;
    const std::string* client_id = request.headers.Find("X-Request-Id");
    request.request_id =
        client_id != nullptr && IsSaneRequestId(*client_id) ? *client_id : NewRequestId();

    auto pending = std::make_shared<Pending>();
    pending->head = request.method == "HEAD";
    pending->request_id = request.request_id;
    pending->method = request.method;
    pending->received_at = received_at_;
    const bool keep_alive = message.keep_alive();
    pending->http10_keep_alive = keep_alive && message.version() < 11;
    pending->authorized = request.headers.Find("Authorization") != nullptr;
    if (!keep_alive || stopping_ || server_.stopping()) {
      pending->close = true;
      read_closed_ = true;
    }
    queue_.push_back(pending);

    Dispatch(pending, std::move(request));
    DoRead();
  }

  void Dispatch(const std::shared_ptr<Pending>& pending, Request request) {
    server_.PrepareEncoding(*pending, request);
    std::string_view target = request.target;
    const size_t question = target.find('?');
    std::string_view raw_path = target.substr(0, question);
    if (question != std::string_view::npos)
      request.query = std::string(target.substr(question + 1));
    if (!raw_path.empty() && raw_path.front() != '/') {
      // absolute-form ("http://host/path"), which HTTP/1.1 servers must accept.
      const size_t scheme_end = raw_path.find("://");
      if (scheme_end != std::string_view::npos) {
        const size_t slash = raw_path.find('/', scheme_end + 3);
        raw_path = slash == std::string_view::npos ? std::string_view("/") : raw_path.substr(slash);
      }
    }
    pending->path = std::string(raw_path);
    if (raw_path.empty() || raw_path.front() != '/' || !DecodePath(raw_path, request.path)) {
      Complete(pending,
               server_.RenderError(400, "BAD_REQUEST", "The request target is malformed", request),
               server_.unmatched_metrics());
      return;
    }
    pending->path = request.path;

    MatchResult match = server_.router().Match(request.method, request.path);
    if (match.kind == MatchResult::Kind::kNotFound) {
      Complete(pending, server_.RenderError(404, "NOT_FOUND", "No resource at this path", request),
               server_.unmatched_metrics());
      return;
    }
    if (match.kind == MatchResult::Kind::kMethodNotAllowed) {
      Response response =
          server_.RenderError(405, "METHOD_NOT_ALLOWED",
                              "This method is not allowed here; see the Allow header", request);
      response.headers.Set("Allow", match.allow);
      Complete(pending, std::move(response), server_.unmatched_metrics());
      return;
    }

    const Route* route = match.route;
    const RouteMetrics& metrics = server_.MetricsFor(route);
    request.path_params = std::move(match.params);
    if (!request.body.empty() && !IsJsonContentType(request.headers.Get("Content-Type"))) {
      Complete(pending,
               server_.RenderError(415, "UNSUPPORTED_MEDIA_TYPE",
                                   "The request body must be sent as application/json", request),
               metrics);
      return;
    }

    asio::thread_pool* pool = server_.pool();
    const bool offload = route->options.offload ||
                         (route->options.blocking && server_.settings().blocking_threads > 0);
    if (offload && pool != nullptr) {
      OffloadQueue* queue = route->options.queue.get();
      if (queue != nullptr && !queue->TryAcquire()) {
        Response busy = server_.RenderError(503, "SERVICE_BUSY",
                                            "The server is busy; try again shortly", request);
        busy.headers.Set("Retry-After", std::to_string(queue->retry_after_seconds()));
        Complete(pending, std::move(busy), metrics);
        return;
      }
      asio::post(*pool, [self = shared_from_this(), executor = socket_.get_executor(), pending,
                         route, &metrics, queue, request = std::move(request)]() mutable {
        Response response = self->server_.RunHandler(*route, request);
        if (queue != nullptr) queue->Release();
        self->server_.EncodeResponse(*pending, response);
        asio::post(executor, [self, pending, &metrics, response = std::move(response)]() mutable {
          self->Complete(pending, std::move(response), metrics, /*encoded=*/true);
        });
      });
      return;
    }
    Complete(pending, server_.RunHandler(*route, request), metrics);
  }

  // `encoded`: EncodeResponse already ran (on the pool thread that ran the handler).
  void Complete(const std::shared_ptr<Pending>& pending, Response response,
                const RouteMetrics& metrics, bool encoded = false) {
    if (!encoded) server_.EncodeResponse(*pending, response);
    // RFC 9111 already bars shared caches from storing answers to requests with Authorization
    // unless told otherwise, but not every proxy or CDN honours that; saying it costs one header.
    if (pending->authorized && response.headers.Find("Cache-Control") == nullptr) {
      response.headers.Set("Cache-Control", "private");
    }
    pending->response = std::move(response);
    pending->ready = true;
    const bool bodiless =
        pending->head || pending->response.status == 204 || pending->response.status == 304;
    server_.Record(*pending, metrics, remote_, bodiless ? 0 : pending->response.body.size());
    DoWrite();
  }

  void BuildHead(Pending& pending, bool close) {
    const Response& response = pending.response;
    std::string& out = pending.wire_head;
    out.clear();
    out.reserve(256);
    out += "HTTP/1.1 ";
    out += std::to_string(response.status);
    out += ' ';
    out += bhttp::obsolete_reason(static_cast<bhttp::status>(response.status));
    out += "\r\nServer: hasivu\r\nDate: ";
    out += HttpDate();
    out += "\r\n";
    if (!response.content_type.empty() && IsValidHeader("Content-Type", response.content_type)) {
      out += "Content-Type: ";
      out += response.content_type;
      out += "\r\n";
    }
    // 204 and 304 carry no body and, by RFC 9110, no (or no meaningful) Content-Length.
    if (response.status != 204 && response.status != 304) {
      out += "Content-Length: ";
      out += std::to_string(response.body.size());
      out += "\r\n";
    }
    if (!response.content_encoding.empty()) {
      out += "Content-Encoding: ";
      out += response.content_encoding;
      out += "\r\n";
    }
    out += "X-Request-Id: ";
    out += pending.request_id;
    out += "\r\nX-Content-Type-Options: nosniff\r\n";
    if (close) {
      out += "Connection: close\r\n";
    } else if (pending.http10_keep_alive) {
      out += "Connection: keep-alive\r\n";
    }
    for (const auto& [name, value] : response.headers.items()) {
      if (IsServerOwnedHeader(name)) continue;
      if (!IsValidHeader(name, value)) {
        spdlog::warn("http: dropped invalid response header '{}' (request {})", name,
                     pending.request_id);
        continue;
      }
      out += name;
      out += ": ";
      out += value;
      out += "\r\n";
    }
    out += "\r\n";
  }

  void DoWrite() {
    if (writing_ || closed_ || lingering_) return;
    write_buffers_.clear();
    write_count_ = 0;
    close_after_write_ = false;
    for (size_t i = 0; i < queue_.size() && queue_[i]->ready; ++i) {
      Pending& pending = *queue_[i];
      const bool last_ever =
          read_closed_ && read_state_ != ReadState::kBody && i + 1 == queue_.size();
      const bool close = pending.close || last_ever;
      BuildHead(pending, close);
      write_buffers_.emplace_back(asio::buffer(pending.wire_head));
      const unsigned status = pending.response.status;
      if (!pending.head && status != 204 && status != 304 && !pending.response.body.empty()) {
        write_buffers_.emplace_back(asio::buffer(pending.response.body));
      }
      ++write_count_;
      if (close) {
        close_after_write_ = true;
        break;
      }
    }
    if (write_count_ == 0) return;
    writing_ = true;
    UpdateIdleTimer();
    ArmWriteTimer();
    asio::async_write(
        socket_, write_buffers_,
        [self = shared_from_this()](boost::system::error_code ec, size_t) { self->OnWrite(ec); });
  }

  void OnWrite(boost::system::error_code ec) {
    writing_ = false;
    write_timer_.cancel();
    if (closed_) return;
    if (ec) {
      Close();
      return;
    }
    bool wrote_ok = false;
    for (size_t i = 0; i < write_count_; ++i) {
      wrote_ok = wrote_ok || queue_.front()->response.status == 200;
      queue_.pop_front();
    }
    if (wrote_ok) server_.NoteOkWritten();
    if (close_after_write_) {
      StartLingeringClose();
      return;
    }
    if (MaybeFinish()) return;
    DoRead();
    UpdateIdleTimer();
    DoWrite();
  }

  // Closes once nothing more will be read and everything queued has been written.
  bool MaybeFinish() {
    if (closed_ || lingering_) return true;
    if (!read_closed_ || read_state_ == ReadState::kBody || !queue_.empty() || writing_) {
      return false;
    }
    if (stopping_ && read_state_ == ReadState::kNone && buffer_.size() == 0) {
      Close();
    } else {
      StartLingeringClose();
    }
    return true;
  }

  void StartLingeringClose() {
    if (closed_ || lingering_) return;
    lingering_ = true;
    boost::system::error_code ec;
    // Completes any outstanding wait or read with operation_aborted; their handlers see
    // lingering_ and return.
    socket_.cancel(ec);
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    if (ec) {
      Close();
      return;
    }
    buffer_.consume(buffer_.size());
    ArmReadTimer(TimerPhase::kLinger, kLingerTime);
    Drain();
  }

  void Drain() {
    socket_.async_read_some(buffer_.prepare(4096),
                            [self = shared_from_this()](boost::system::error_code ec, size_t n) {
                              if (self->closed_) return;
                              self->linger_bytes_ += n;
                              if (ec || self->linger_bytes_ > kMaxLingerBytes) {
                                self->Close();
                                return;
                              }
                              self->Drain();
                            });
  }

  // The idle clock runs only while the connection waits for a request with nothing in flight.
  // Until the first byte ever arrives it is the shorter first_byte_timeout: a connection that
  // never sends anything has no keep-alive to protect, only a slot to take.
  void UpdateIdleTimer() {
    const bool idle = read_state_ == ReadState::kWaiting && queue_.empty() && !writing_;
    if (idle && timer_phase_ != TimerPhase::kIdle) {
      ArmReadTimer(TimerPhase::kIdle,
                   got_first_byte_ ? settings_.idle_timeout : settings_.first_byte_timeout);
    } else if (!idle && timer_phase_ == TimerPhase::kIdle) {
      timer_phase_ = TimerPhase::kNone;
      read_timer_.cancel();
    }
  }

  void ArmReadTimer(TimerPhase phase, std::chrono::milliseconds timeout) {
    timer_phase_ = phase;
    const uint64_t generation = ++timer_generation_;
    read_timer_.expires_after(timeout);
    read_timer_.async_wait([self = shared_from_this(), generation](boost::system::error_code ec) {
      if (ec || self->closed_ || generation != self->timer_generation_) return;
      if (self->timer_phase_ == TimerPhase::kNone) return;
      if (self->timer_phase_ == TimerPhase::kHeader || self->timer_phase_ == TimerPhase::kBody) {
        spdlog::debug("http: {} timed out receiving a request from {}",
                      self->timer_phase_ == TimerPhase::kHeader ? "header" : "body", self->remote_);
      }
      self->Close();
    });
  }

  // A client that does not read its responses cannot pin the connection forever; body_timeout
  // bounds each write as it bounds each body read.
  void ArmWriteTimer() {
    write_timer_.expires_after(settings_.body_timeout);
    write_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec || self->closed_ || !self->writing_) return;
      self->Close();
    });
  }

  ServerImpl& server_;
  Worker& worker_;
  const ServerSettings& settings_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  asio::steady_timer read_timer_;
  asio::steady_timer write_timer_;
  const Admission admission_;
  const bool reject_;
  const std::string address_group_;
  std::string remote_;

  std::deque<std::shared_ptr<Pending>> queue_;
  std::vector<asio::const_buffer> write_buffers_;
  size_t write_count_ = 0;
  bool close_after_write_ = false;

  ReadState read_state_ = ReadState::kNone;
  TimerPhase timer_phase_ = TimerPhase::kNone;
  uint64_t timer_generation_ = 0;
  SteadyClock::time_point received_at_;
  bool read_closed_ = false;  // no further requests will be read
  bool got_first_byte_ = false;
  bool writing_ = false;
  bool stopping_ = false;
  bool lingering_ = false;
  bool closed_ = false;
  size_t linger_bytes_ = 0;
};

// ---------------------------------------------------------------------------------------------

ServerImpl::ServerImpl(ServerSettings settings, const Router& router, ErrorRenderer error_renderer,
                       metrics::Registry& registry)
    : settings_(std::move(settings)),
      router_(router),
      error_renderer_(std::move(error_renderer)),
      registry_(registry),
      open_gauge_(
          registry.GetGauge("hasivu_http_open_connections", "HTTP connections currently open")),
      rejected_connections_(
          registry.GetCounter("hasivu_http_rejected_connections_total",
                              "Connections answered 503 because max_connections was reached")),
      rejected_per_address_(
          registry.GetCounter("hasivu_http_rejected_connections_per_address_total",
                              "Connections answered 503 because their address (IPv6: its /64) had "
                              "max_connections_per_address open")),
      handler_exceptions_(registry.GetCounter("hasivu_http_handler_exceptions_total",
                                              "Route handlers that threw (answered 500)")) {
  for (compress::Encoding e : compress::kCodecs) {
    const size_t i = static_cast<size_t>(e);
    const metrics::Labels labels = {{"encoding", std::string(compress::EncodingName(e))}};
    CompressionMetrics& m = compression_metrics_;
    m.responses[i] = &registry.GetCounter("hasivu_http_compressed_responses_total",
                                          "Responses the server sent compressed", labels);
    m.bytes_in[i] =
        &registry.GetCounter("hasivu_http_compression_bytes_in_total",
                             "Body bytes before compression, of responses sent compressed", labels);
    m.bytes_out[i] =
        &registry.GetCounter("hasivu_http_compression_bytes_out_total",
                             "Body bytes after compression, of responses sent compressed", labels);
    m.errors[i] = &registry.GetCounter("hasivu_http_compression_errors_total",
                                       "Codec failures (the identity body was sent)", labels);
    m.precompressed[i] =
        &registry.GetCounter("hasivu_http_precompressed_responses_total",
                             "Responses whose handler supplied an already encoded body", labels);
    m.seconds[i] = &registry.GetHistogram("hasivu_http_compression_seconds",
                                          "Time to compress one response body", labels, 1e-6);
  }
  if (settings_.access_log) {
    access_log_ = spdlog::get("access");
    if (!access_log_) {
      try {
        access_log_ = spdlog::stdout_logger_mt("access");
        access_log_->set_pattern("%v");
      } catch (const spdlog::spdlog_ex&) {
        access_log_ = spdlog::get("access");  // another thread registered it first
      }
    }
  }
}

ServerImpl::~ServerImpl() {
  Stop();
  Wait();
  pool_.reset();
  grace_timer_.reset();
  accept_backoff_.reset();
  acceptor_.reset();
  workers_.clear();
}

Status ServerImpl::Start() {
  {
    std::lock_guard lock(state_mu_);
    if (state_ != State::kCreated) return FailedPreconditionError("server already started");
  }

  const std::string help_requests = "HTTP requests by route, method and status class";
  const std::string help_latency = "HTTP request latency from complete head to response ready";
  auto make_route_metrics = [&](std::string_view name, const std::vector<int>& methods,
                                const std::vector<std::string>& labels) {
    RouteMetrics m;
    for (size_t i = 0; i < methods.size(); ++i) {
      for (size_t c = 0; c < kClasses.size(); ++c) {
        m.requests[methods[i]][c] =
            &registry_.GetCounter("hasivu_http_requests_total", help_requests,
                                  {{"route", std::string(name)},
                                   {"method", labels[i]},
                                   {"class", std::string(kClasses[c])}});
      }
    }
    m.latency = &registry_.GetHistogram("hasivu_http_request_duration_seconds", help_latency,
                                        {{"route", std::string(name)}}, 1e-6);
    return m;
  };
  for (const Route* route : router_.Routes()) {
    std::vector<int> methods = {MethodToIndex(route->method)};
    std::vector<std::string> labels = {route->method};
    if (route->method == "GET") {
      methods.push_back(kHead);
      labels.push_back("HEAD");
    }
    route_metrics_.emplace(route, make_route_metrics(route->options.name, methods, labels));
  }
  {
    std::vector<int> methods;
    std::vector<std::string> labels;
    for (int i = 0; i < kMethods; ++i) {
      methods.push_back(i);
      labels.emplace_back(kMethodNames[i]);
    }
    unmatched_ = make_route_metrics(kUnmatchedRoute, methods, labels);
  }

  const int threads = settings_.io_threads > 0
                          ? settings_.io_threads
                          : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  for (int i = 0; i < threads; ++i) {
    workers_.push_back(std::make_unique<Worker>());
    workers_.back()->guard.emplace(workers_.back()->context.get_executor());
  }

  boost::system::error_code ec;
  asio::ip::address address = asio::ip::make_address(settings_.host, ec);
  if (ec) {
    tcp::resolver resolver(workers_[0]->context);
    auto results = resolver.resolve(settings_.host, std::to_string(settings_.port), ec);
    if (ec || results.empty()) {
      workers_.clear();
      return UnavailableError("cannot resolve listen host '" + settings_.host +
                              "': " + ec.message());
    }
    address = results.begin()->endpoint().address();
  }
  const tcp::endpoint endpoint(address, settings_.port);
  acceptor_.emplace(workers_[0]->context);
  auto fail = [&](std::string_view what) {
    const std::string text = "cannot " + std::string(what) + " " + settings_.host + ":" +
                             std::to_string(settings_.port) + ": " + ec.message();
    acceptor_.reset();
    workers_.clear();
    return UnavailableError(text);
  };
  acceptor_->open(endpoint.protocol(), ec);
  if (ec) return fail("open a socket for");
  acceptor_->set_option(asio::socket_base::reuse_address(true), ec);
  if (ec) return fail("set SO_REUSEADDR for");
  acceptor_->bind(endpoint, ec);
  if (ec) return fail("bind");
  acceptor_->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen on");
  port_.store(acceptor_->local_endpoint(ec).port());
  accept_backoff_.emplace(workers_[0]->context);
  grace_timer_.emplace(workers_[0]->context);

  bool any_offload = false;
  for (const Route* route : router_.Routes()) any_offload = any_offload || route->options.offload;
  if (settings_.blocking_threads > 0) {
    pool_.emplace(settings_.blocking_threads);
  } else if (any_offload && settings_.cpu_threads > 0) {
    pool_.emplace(settings_.cpu_threads);
  }

  {
    std::lock_guard lock(state_mu_);
    state_ = State::kRunning;
  }
  asio::post(workers_[0]->context, [this] { DoAccept(); });
  for (auto& worker : workers_) {
    Worker* w = worker.get();
    w->thread = std::thread([this, w] {
      tls_server = this;
      while (true) {
        try {
          w->context.run();
          break;
        } catch (const std::exception& e) {
          // Handlers catch what they can; this is the last line so a thread never dies quietly.
          spdlog::critical("http: I/O thread caught an exception: {}", e.what());
        }
      }
    });
  }
  spdlog::info("http: listening on {}:{} with {} I/O threads, {} blocking threads", settings_.host,
               port_.load(), threads, settings_.blocking_threads);
  return Status::Ok();
}

void ServerImpl::DoAccept() {
  Worker& target = *workers_[next_worker_];
  next_worker_ = (next_worker_ + 1) % workers_.size();
  acceptor_->async_accept(target.context,
                          [this, &target](boost::system::error_code ec, tcp::socket socket) {
                            OnAccept(ec, std::move(socket), target);
                          });
}

void ServerImpl::OnAccept(boost::system::error_code ec, tcp::socket socket, Worker& target) {
  if (ec == asio::error::operation_aborted || stopping() || !acceptor_->is_open()) return;
  if (ec) {
    // Out of descriptors or memory: retrying at once would spin; back off briefly.
    spdlog::warn("http: accept failed: {}", ec.message());
    accept_backoff_->expires_after(std::chrono::milliseconds(50));
    accept_backoff_->async_wait([this](boost::system::error_code wait_ec) {
      if (!wait_ec && !stopping()) DoAccept();
    });
    return;
  }
  Admission admission = Admission::kAdmitted;
  std::string group;
  if (open_connections_.load() >= settings_.max_connections) {
    admission = Admission::kOverMaxConnections;
    rejected_connections_.Add();
  } else if (settings_.max_connections_per_address > 0) {
    boost::system::error_code endpoint_ec;
    const tcp::endpoint remote = socket.remote_endpoint(endpoint_ec);
    // Without an endpoint the peer is already gone; Connection::Start() closes it.
    if (!endpoint_ec) {
      const std::string text = remote.address().to_string();
      const std::optional<IpAddress> ip = ParseIpAddress(text);
      const bool exempt = ip && InAnyRange(settings_.per_address_exempt, *ip);
      if (!exempt) group = PeerAddressGroup(text).value_or("");
    }
    if (!group.empty()) {
      std::lock_guard lock(per_address_mu_);
      int& open = per_address_[group];  // a new entry holds 0 and is taken at once (cap > 0)
      if (open >= settings_.max_connections_per_address) {
        admission = Admission::kOverPerAddressCap;
        group.clear();  // holds no slot, so releases none
      } else {
        ++open;
      }
    }
    if (admission == Admission::kOverPerAddressCap) rejected_per_address_.Add();
  }
  if (admission == Admission::kAdmitted) {
    open_connections_.fetch_add(1);
    open_gauge_.Add(1);
  }
  live_sockets_.fetch_add(1);
  auto connection =
      std::make_shared<Connection>(*this, target, std::move(socket), admission, std::move(group));
  asio::post(target.context, [connection] { connection->Start(); });
  DoAccept();
}

void ServerImpl::OnConnectionClosed(bool counted, const std::string& address_group) {
  if (counted) {
    open_connections_.fetch_sub(1);
    open_gauge_.Add(-1);
  }
  if (!address_group.empty()) {
    std::lock_guard lock(per_address_mu_);
    auto it = per_address_.find(address_group);
    if (it != per_address_.end() && --it->second <= 0) per_address_.erase(it);
  }
  if (live_sockets_.fetch_sub(1) == 1) MaybeFinish();
}

void ServerImpl::MaybeFinish() {
  if (!stopping() || !acceptor_closed_.load() || live_sockets_.load() != 0) return;
  if (finished_.exchange(true)) return;
  for (auto& worker : workers_) worker->context.stop();
}

void ServerImpl::Stop() {
  {
    std::lock_guard lock(state_mu_);
    if (state_ == State::kCreated) {
      state_ = State::kStopped;
      return;
    }
    if (state_ != State::kRunning) return;
    state_ = State::kStopping;
  }
  stopping_.store(true, std::memory_order_release);
  auto closed = std::make_shared<std::promise<void>>();
  std::future<void> acceptor_closed = closed->get_future();
  asio::post(workers_[0]->context, [this, closed] {
    BeginShutdownOnAcceptorThread();
    closed->set_value();
  });
  // Returning only once the listening socket is closed makes "after Stop(), new connections are
  // refused" hold for the caller. Not when called from one of our own threads, which would wait
  // on itself.
  if (tls_server != this) acceptor_closed.wait();
}

void ServerImpl::BeginShutdownOnAcceptorThread() {
  boost::system::error_code ec;
  acceptor_->close(ec);
  accept_backoff_->cancel();
  acceptor_closed_.store(true);
  grace_timer_->expires_after(settings_.shutdown_grace);
  grace_timer_->async_wait([this](boost::system::error_code wait_ec) {
    if (wait_ec) return;
    spdlog::warn("http: shutdown grace of {} ms ran out; closing remaining connections",
                 settings_.shutdown_grace.count());
    for (auto& worker : workers_) {
      Worker* w = worker.get();
      asio::post(w->context, [w] {
        const std::vector<Connection*> open(w->connections.begin(), w->connections.end());
        for (Connection* c : open) c->Close();
      });
    }
  });
  for (auto& worker : workers_) {
    Worker* w = worker.get();
    asio::post(w->context, [w] {
      const std::vector<Connection*> open(w->connections.begin(), w->connections.end());
      for (Connection* c : open) c->BeginShutdown();
    });
  }
  MaybeFinish();
}

void ServerImpl::Wait() {
  std::lock_guard wait_lock(wait_mu_);
  {
    std::lock_guard lock(state_mu_);
    if (state_ == State::kCreated || state_ == State::kStopped) return;
  }
  for (auto& worker : workers_) {
    if (worker->thread.joinable()) worker->thread.join();
  }
  // Whatever is still queued on the pool belongs to connections already closed.
  if (pool_) {
    pool_->stop();
    pool_->join();
  }
  std::lock_guard lock(state_mu_);
  state_ = State::kStopped;
}

Response ServerImpl::RenderError(unsigned status, std::string_view code, std::string_view message,
                                 const Request& request) const {
  if (error_renderer_) {
    try {
      Response response = error_renderer_(status, code, message, request);
      if (response.status >= 200 && response.status <= 599) return response;
      spdlog::error("http: error renderer returned status {} for {}", response.status, code);
    } catch (const std::exception& e) {
      spdlog::error("http: error renderer threw for {}: {}", code, e.what());
    } catch (...) {
      spdlog::error("http: error renderer threw for {}", code);
    }
  }
  // No renderer, or it failed: the bare envelope, so the client still gets a well-formed answer.
  Response response;
  response.status = status;
  response.body = R"({"success":false,"error":{"code":")" + std::string(code) + R"(","message":")" +
                  std::string(message) + R"("}})";
  return response;
}

Response ServerImpl::RunHandler(const Route& route, Request& request) {
  try {
    Response response = route.handler(request);
    if (response.status >= 200 && response.status <= 599) return response;
    spdlog::error("http: route {} returned invalid status {} (request {})", route.options.name,
                  response.status, request.request_id);
  } catch (const std::exception& e) {
    handler_exceptions_.Add();
    spdlog::error("http: route {} threw (request {}): {}", route.options.name, request.request_id,
                  e.what());
  } catch (...) {
    handler_exceptions_.Add();
    spdlog::error("http: route {} threw a non-exception (request {})", route.options.name,
                  request.request_id);
  }
  return RenderError(500, "INTERNAL", "An internal error occurred", request);
}

void ServerImpl::PrepareEncoding(Pending& pending, Request& request) const {
  const compress::Settings& cs = settings_.compression;
  if (!cs.enabled) return;
  const std::string* accept = request.headers.Find("Accept-Encoding");
  if (accept == nullptr) return;
  pending.encoding = compress::Negotiate(*accept, cs.codecs);
  if (pending.encoding == compress::Encoding::kIdentity) return;
  const std::string* if_none_match = request.headers.Find("If-None-Match");
  if (if_none_match == nullptr) return;
  std::optional<std::string> rewritten =
      compress::IfNoneMatchForHandler(*if_none_match, pending.encoding);
  if (!rewritten) return;
  pending.if_none_match = *if_none_match;
  request.headers.Set("If-None-Match", std::move(*rewritten));
}

void ServerImpl::EncodeResponse(const Pending& pending, Response& response) {
  const compress::Settings& cs = settings_.compression;
  const bool bodiless = response.status == 204 || response.status == 304;
  if (!response.content_encoding.empty()) {
    const std::optional<compress::Encoding> given =
        compress::EncodingFromName(response.content_encoding);
    if (!given || *given == compress::Encoding::kIdentity) {
      spdlog::error("http: handler set content_encoding '{}' (request {}); answering 500",
                    response.content_encoding.substr(0, 32), pending.request_id);
      Request request;
      request.method = pending.method;
      request.path = pending.path;
      request.request_id = pending.request_id;
      response = RenderError(500, "INTERNAL", "An internal error occurred", request);
      response.content_encoding.clear();
      return;
    }
    response.content_encoding = std::string(compress::EncodingName(*given));
    AddVaryAcceptEncoding(response);
    TagEncodedVariant(response, *given);
    compression_metrics_.precompressed[static_cast<size_t>(*given)]->Add();
    if (bodiless) response.content_encoding.clear();
    return;
  }
  if (!cs.enabled) return;
  if (!(response.status == 304 || compress::IsCompressibleContentType(response.content_type)))
    return;
  AddVaryAcceptEncoding(response);
  const compress::Encoding encoding = pending.encoding;
  if (encoding == compress::Encoding::kIdentity) return;
  if (response.status == 304) {
    // The handler matched the identity tag; answer with the variant tag the client listed.
    if (pending.if_none_match.empty()) return;
    if (const std::string* etag = response.headers.Find("ETag")) {
      std::string variant = compress::TagForEncoding(*etag, encoding);
      if (compress::IfNoneMatchLists(pending.if_none_match, variant)) {
        response.headers.Set("ETag", std::move(variant));
      }
    }
    return;
  }
  if (pending.head || bodiless || response.body.size() < cs.min_bytes) return;

  const size_t slot = static_cast<size_t>(encoding);
  const auto start = SteadyClock::now();
  StatusOr<std::string> encoded = InternalError("not run");
  try {
    encoded = compress::Encode(encoding, response.body, compress::LevelFor(cs, encoding));
  } catch (const std::exception& e) {
    encoded = InternalError(e.what());
  }
  compression_metrics_.seconds[slot]->Record(
      std::chrono::duration<double, std::micro>(SteadyClock::now() - start).count());
  if (!encoded.ok()) {
    compression_metrics_.errors[slot]->Add();
    spdlog::warn("http: {} compression failed, sending identity (request {}): {}",
                 compress::EncodingName(encoding), pending.request_id, encoded.status().ToString());
    return;
  }
  if (!compress::IsWorthSending(response.body.size(), encoded->size())) return;
  compression_metrics_.responses[slot]->Add();
  compression_metrics_.bytes_in[slot]->Add(response.body.size());
  compression_metrics_.bytes_out[slot]->Add(encoded->size());
  response.body = std::move(*encoded);
  response.content_encoding = std::string(compress::EncodingName(encoding));
  TagEncodedVariant(response, encoding);
}

const RouteMetrics& ServerImpl::MetricsFor(const Route* route) const {
  auto it = route_metrics_.find(route);
  return it != route_metrics_.end() ? it->second : unmatched_;
}

void ServerImpl::Record(const Pending& pending, const RouteMetrics& metrics,
                        const std::string& remote, size_t body_bytes) {
  const unsigned status = pending.response.status;
  const auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() -
                                                                             pending.received_at)
                           .count();
  const int method = MethodToIndex(pending.method);
  const size_t status_class = std::min<size_t>(3, status < 200 ? 3 : status / 100 - 2);
  metrics::Counter* counter = metrics.requests[method][status_class];
  if (counter == nullptr) counter = unmatched_.requests[method][status_class];
  counter->Add();
  metrics.latency->Record(static_cast<double>(elapsed));

  if (!access_log_ || !access_log_->should_log(spdlog::level::info)) return;
  std::string line;
  line.reserve(256);
  line += R"({"ts":")";
  line += Rfc3339Now();
  line += R"(","request_id":)";
  AppendJsonString(line, pending.request_id);
  line += R"(,"method":)";
  AppendJsonString(line, pending.method);
  line += R"(,"path":)";
  AppendJsonString(line, pending.path);
  line += R"(,"status":)";
  line += std::to_string(status);
  line += R"(,"bytes":)";
  line += std::to_string(body_bytes);
  line += R"(,"duration_us":)";
  line += std::to_string(elapsed);
  line += R"(,"remote":)";
  AppendJsonString(line, remote);
  line += '}';
  access_log_->info(line);
}

void ServerImpl::NoteOkWritten() {
  if (first_ok_ns_.load(std::memory_order_relaxed) != 0) return;
  int64_t expected = 0;
  const int64_t now = SteadyClock::now().time_since_epoch().count();
  first_ok_ns_.compare_exchange_strong(expected, now == 0 ? 1 : now, std::memory_order_acq_rel);
}

}  // namespace

StatusOr<std::unique_ptr<Server>> Server::Create(ServerSettings settings, const Router& router,
                                                 ErrorRenderer error_renderer,
                                                 metrics::Registry& registry) {
  if (settings.io_threads < 0) return InvalidArgumentError("io_threads must be >= 0");
  if (settings.blocking_threads < 0) return InvalidArgumentError("blocking_threads must be >= 0");
  if (settings.cpu_threads < 0) return InvalidArgumentError("cpu_threads must be >= 0");
  if (settings.max_body_bytes == 0) return InvalidArgumentError("max_body_bytes must be > 0");
  if (settings.max_header_bytes < 256 || settings.max_header_bytes > (1u << 24)) {
    return InvalidArgumentError("max_header_bytes must be between 256 and 16 MiB");
  }
  if (settings.max_connections <= 0) return InvalidArgumentError("max_connections must be > 0");
  if (settings.max_connections_per_address < 0) {
    return InvalidArgumentError("max_connections_per_address must be >= 0");
  }
  if (settings.max_pipelined == 0) return InvalidArgumentError("max_pipelined must be > 0");
  using std::chrono::milliseconds;
  for (milliseconds timeout : {settings.header_timeout, settings.body_timeout,
                               settings.idle_timeout, settings.first_byte_timeout}) {
    if (timeout <= milliseconds::zero()) return InvalidArgumentError("timeouts must be > 0");
  }
  if (settings.shutdown_grace < milliseconds::zero()) {
    return InvalidArgumentError("shutdown_grace must be >= 0");
  }
  RETURN_IF_ERROR(compress::ValidateSettings(settings.compression).WithContext("compression"));
  return std::unique_ptr<Server>(
      new ServerImpl(std::move(settings), router, std::move(error_renderer), registry));
}

}  // namespace hasivu::http
