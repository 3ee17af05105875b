#include "http/connection.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <optional>
#include <random>
#include <utility>

#include "common/blocking.h"
#include "metrics/trace.h"

// The connection's reading half: wait for a first byte, read the head and the body under the
// limits, turn the message into a Request and dispatch it, and decide after each response
// whether to read on, close, or half-close and drain. Writing is in response_writer.cc, the
// timers in request_limits.cc.

namespace hasivu::http::internal {
namespace {

namespace bhttp = boost::beast::http;

// After a response that ends the connection, the server stops sending and reads (and discards)
// whatever the client still sends for a short while before closing. Closing with unread data
// makes the kernel send RST, which can destroy the response before the client reads it (think
// of a 413 answered while the client is still uploading).
constexpr std::chrono::milliseconds kLingerTime{2000};
// At Stop(), how long a connection that has not sent its first request yet is given to send it:
// its client is connected and may have written the request already, and on loopback or a LAN
// the bytes follow the handshake within a round trip. One that sends nothing in that time is
// closed.
constexpr std::chrono::milliseconds kStopFirstRequestWait{250};
constexpr size_t kMaxLingerBytes = 1 << 20;
// The first read of a request: a head with a bearer token and a browser's usual headers fits
// (a longer one takes a second read). An idle keep-alive connection holds this much while it
// waits: at 4 096 bytes 10 000 idle connections took 61 MiB, at 1 024 about 32 MiB
// (bench/idle_connections.sh, docs/performance.md).
constexpr size_t kFirstReadBytes = 1024;

void AppendHex(std::string& out, uint64_t v, int digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = digits - 1; i >= 0; --i) out += kHex[(v >> (4 * i)) & 0xf];
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

// The server's span of a request: a child of the client's when it sent exactly one valid
// traceparent (server.h, "Tracing"), else the root of a new trace.
void StartTrace(Pending& pending, std::string_view traceparent, size_t traceparents) {
  std::optional<metrics::TraceContext> parent;
  if (traceparents == 1) parent = metrics::ParseTraceparent(traceparent);
  if (parent) {
    pending.parent_span_id = parent->span_id;
    pending.trace.context = metrics::ChildOf(*parent);
  } else {
    pending.trace.context = metrics::NewTrace();
  }
}

bool IsJsonContentType(std::string_view value) {
  const size_t semi = value.find(';');
  return EqualsIgnoreCase(Trim(value.substr(0, semi)), "application/json");
}

}  // namespace

bool IsSaneRequestId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
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

void OpenConnection(ServerImpl& server, Worker& worker, tcp::socket socket, Admission admission,
                    std::string address_group) {
  auto connection = std::make_shared<Connection>(server, worker, std::move(socket), admission,
                                                 std::move(address_group));
  asio::post(worker.context, [connection] { connection->Start(); });
}

void BeginConnectionShutdown(Connection& connection) { connection.BeginShutdown(); }

void CloseConnection(Connection& connection) { connection.Close(); }

Connection::Connection(ServerImpl& server, Worker& worker, tcp::socket socket, Admission admission,
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

Connection::~Connection() {
  // A first request whose answer never reached its client (it left, or the write failed) does
  // not make a cold start: the next request read takes its place.
  if (holds_first_request_) server_.ReleaseFirstRequest();
  // Reached without Close() only when a stopped context drops its queued handlers.
  if (!closed_) {
    closed_ = true;
    worker_.connections.erase(this);
    server_.OnConnectionClosed(!reject_, address_group_);
  }
}

void Connection::Start() {
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
    pending->trace.context = metrics::NewTrace();
    pending->response =
        admission_ == Admission::kOverPerAddressCap
            ? server_.RenderError(503, "UNAVAILABLE",
                                  "Too many connections from this address; retry shortly", request)
            : server_.RenderError(503, "UNAVAILABLE",
                                  "The server is at its connection limit; retry shortly", request);
    pending->response.headers.Set("Retry-After", "1");
    pending->ready = true;
    queue_.push_back(std::move(pending));
    read_closed_ = true;
    DoWrite();
    return;
  }
  DoRead();
  // Accepted from the backlog at Stop(), or started after the shutdown pass over connections.
  if (server_.stopping()) BeginShutdown();
}

void Connection::BeginShutdown() {
  if (closed_ || lingering_) return;
  stopping_ = true;
  // A head or body on its way is a request the client has sent: read it (OnRequest answers it
  // with "Connection: close" and reads no further).
  if (read_state_ == ReadState::kHeader || read_state_ == ReadState::kBody) return;
  const bool idle = read_state_ == ReadState::kWaiting && queue_.empty() && !writing_;
  if (idle) {
    boost::system::error_code ec;
    const bool bytes_waiting = socket_.available(ec) > 0 && !ec;
    if (bytes_waiting || !got_first_byte_) {
      // Unread bytes are a request already sent; a connection that has sent nothing yet may be
      // about to. The idle timer (which closes) bounds the wait for the latter.
      if (!bytes_waiting) ArmReadTimer(TimerPhase::kIdle, kStopFirstRequestWait);
      return;
    }
  }
  read_closed_ = true;
  if (queue_.empty() && !writing_) {
    Close();
    return;
  }
  UpdateIdleTimer();
}

void Connection::Close() {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ec;
  read_timer_.cancel();
  write_timer_.cancel();
  socket_.close(ec);
  worker_.connections.erase(this);
  server_.OnConnectionClosed(!reject_, address_group_);
}

void Connection::DoRead() {
  if (closed_ || lingering_ || read_closed_ || read_state_ != ReadState::kNone) return;
  if (queue_.size() >= settings_.max_pipelined) {  // resumed by OnWrite
    if (!read_paused_) server_.limit_hits().Count(LimitHit::kPipelineFull);
    read_paused_ = true;
    return;
  }
  read_paused_ = false;
  if (buffer_.size() > 0) {
    ReadHeader();
    return;
  }
  // Wait for the first bytes before starting the header clock, so idle keep-alive time and
  // head-receiving time are bounded separately. A read rather than a wait for readable: Asio
  // re-arms the descriptor (epoll_ctl) for every wait, but not for a read it queues behind one
  // that emptied the socket, so each keep-alive request costs one system call less.
  read_state_ = ReadState::kWaiting;
  UpdateIdleTimer();
  socket_.async_read_some(buffer_.prepare(kFirstReadBytes),
                          [self = shared_from_this()](boost::system::error_code ec, size_t n) {
                            self->buffer_.commit(n);
                            self->OnReadable(ec);
                          });
}

void Connection::OnReadable(boost::system::error_code ec) {
  if (read_state_ == ReadState::kWaiting) read_state_ = ReadState::kNone;
  if (closed_ || lingering_) return;
  if (read_closed_) {
    MaybeFinish();
    return;
  }
  if (ec == asio::error::eof) {
    // The client finished sending (a half-close): what it already asked for is still answered.
    OnReadError(ec);
    return;
  }
  if (ec) {
    Close();
    return;
  }
  got_first_byte_ = true;
  ReadHeader();
}

void Connection::ReadHeader() {
  read_state_ = ReadState::kHeader;
  // Called only with data at hand (a readable socket, or bytes already buffered).
  read_started_at_ = SteadyClock::now();
  ArmReadTimer(TimerPhase::kHeader, settings_.header_timeout);
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(settings_.max_header_bytes));
  parser_->body_limit(settings_.max_body_bytes);
  bhttp::async_read_header(
      socket_, buffer_, *parser_,
      [self = shared_from_this()](boost::system::error_code ec, size_t) { self->OnHeader(ec); });
}

void Connection::OnHeader(boost::system::error_code ec) {
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
  read_timed_out_ = false;  // the head was complete before the timeout's cancel took effect
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

void Connection::OnBody(boost::system::error_code ec) {
  if (closed_ || lingering_) return;
  if (ec) {
    OnReadError(ec);
    return;
  }
  read_timed_out_ = false;
  OnRequest();
}

void Connection::OnReadError(boost::system::error_code ec) {
  // OnReadTimeout cancelled this read (ec is operation_aborted, or whatever beat the cancel).
  const bool timed_out = read_timed_out_;
  const bool in_body = read_state_ == ReadState::kBody;
  read_timed_out_ = false;
  read_state_ = ReadState::kNone;
  read_timer_.cancel();
  timer_phase_ = TimerPhase::kNone;
  if (!timed_out && (ec == bhttp::error::end_of_stream || ec == asio::error::eof)) {
    // The client finished sending; answer what it already asked for, then close.
    read_closed_ = true;
    MaybeFinish();
    return;
  }
  unsigned status = 0;
  std::string_view code, message;
  LimitHit hit = LimitHit::kBadRequest;
  if (timed_out) {
    status = 408;
    code = "REQUEST_TIMEOUT";
    message = "The request was not received in time";
    hit = in_body ? LimitHit::kBodyTimeout : LimitHit::kHeaderTimeout;
  } else if (ec == bhttp::error::body_limit) {
    status = 413;
    code = "PAYLOAD_TOO_LARGE";
    message = "The request body is larger than the server accepts";
    hit = LimitHit::kBodyTooLarge;
  } else if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow) {
    status = 431;
    code = "HEADERS_TOO_LARGE";
    message = "The request header block is larger than the server accepts";
    hit = LimitHit::kHeaderTooLarge;
  } else if (ec == bhttp::error::partial_message) {
    // The client ended its sending half inside a head or body: it can still read why.
    status = 400;
    code = "BAD_REQUEST";
    message = "The request ended before it was complete";
    hit = LimitHit::kHalfClosed;
  } else if (ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category()) {
    status = 400;
    code = "BAD_REQUEST";
    message = "The request is not valid HTTP/1.1";
  } else {
    // Reset, and other transport failures: nobody to answer.
    Close();
    return;
  }
  server_.limit_hits().Count(hit);
  Request request;
  request.remote_address = remote_;
  request.received_at = SteadyClock::now();
  auto pending = std::make_shared<Pending>();
  // Fields parsed before the failure are readable even when the head is incomplete (a
  // Content-Length over the limit fails inside the head), so the id can still be echoed and the
  // trace continued.
  if (parser_) {
    const auto& header = parser_->get();
    request.method = std::string(header.method_string());
    request.target = std::string(header.target());
    const auto id = header["X-Request-Id"];
    if (IsSaneRequestId(id)) request.request_id = std::string(id);
    StartTrace(*pending, header["traceparent"], header.count("traceparent"));
  } else {
    StartTrace(*pending, {}, 0);
  }
  if (request.request_id.empty()) request.request_id = NewRequestId();
  // A 408's "service time" is the client's delay: no cold start to report.
  pending->first = !timed_out && server_.ClaimFirstRequest();
  holds_first_request_ = holds_first_request_ || pending->first;
  pending->read_started_at = read_started_at_;
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

void Connection::OnRequest() {
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
  pending->read_started_at = read_started_at_;
  pending->first = server_.ClaimFirstRequest();
  holds_first_request_ = holds_first_request_ || pending->first;
  {
    std::string_view traceparent;
    size_t traceparents = 0;
    for (const auto& [name, value] : request.headers.items()) {
      if (name.size() == 11 && EqualsIgnoreCase(name, "traceparent") && traceparents++ == 0) {
        traceparent = value;
      }
    }
    StartTrace(*pending, traceparent, traceparents);
  }
  const bool keep_alive = message.keep_alive();
  pending->http10_keep_alive = keep_alive && message.version() < 11;
  pending->authorized = request.headers.Find("Authorization") != nullptr;
  if (!keep_alive || stopping_ || server_.stopping() || server_.draining()) {
    pending->close = true;
    read_closed_ = true;
  }
  queue_.push_back(pending);

  Dispatch(pending, std::move(request));
  DoRead();
}

void Connection::Dispatch(const std::shared_ptr<Pending>& pending, Request request) {
  server_.PrepareEncoding(*pending, request);
  std::string_view target = request.target;
  const size_t question = target.find('?');
  std::string_view raw_path = target.substr(0, question);
  if (question != std::string_view::npos) request.query = std::string(target.substr(question + 1));
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
  const char* refused_by = nullptr;
  std::string refused_detail;
  if (offload && pool != nullptr && route->options.try_inline && !route->options.offload &&
      server_.settings().try_inline) {
    NonBlockingAttempt attempt;
    Response response = server_.RunHandler(*route, request, pending->trace);
    if (!attempt.refused()) {
      Complete(pending, std::move(response), metrics);
      return;
    }
    refused_by = attempt.refused_by();
    refused_detail = attempt.refused_detail();
  }
  if (offload && pool != nullptr) {
    OffloadQueue* queue = route->options.queue.get();
    if (queue != nullptr && !queue->TryAcquire()) {
      Response busy = server_.RenderError(503, "SERVICE_BUSY",
                                          "The server is busy; try again shortly", request);
      busy.headers.Set("Retry-After", std::to_string(queue->retry_after_seconds()));
      Complete(pending, std::move(busy), metrics);
      return;
    }
    server_.offload_queued().Add(1);
    asio::post(*pool, [self = shared_from_this(), executor = socket_.get_executor(), pending, route,
                       &metrics, queue, posted = SteadyClock::now(), refused_by,
                       refused_detail = std::move(refused_detail),
                       request = std::move(request)]() mutable {
      self->server_.offload_queued().Add(-1);
      self->server_.offload_wait().Record(
          std::chrono::duration<double, std::micro>(SteadyClock::now() - posted).count());
      std::optional<RetryAfterRefusal> retry;
      if (refused_by != nullptr) retry.emplace(refused_by, std::move(refused_detail));
      Response response = self->server_.RunHandler(*route, request, pending->trace);
      if (queue != nullptr) queue->Release();
      self->server_.EncodeResponse(*pending, response);
      asio::post(executor, [self, pending, &metrics, response = std::move(response)]() mutable {
        self->Complete(pending, std::move(response), metrics, /*encoded=*/true);
      });
    });
    return;
  }
  Complete(pending, server_.RunHandler(*route, request, pending->trace), metrics);
}

// Closes once nothing more will be read and everything queued has been written.
bool Connection::MaybeFinish() {
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

void Connection::StartLingeringClose() {
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

void Connection::Drain() {
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

}  // namespace hasivu::http::internal
