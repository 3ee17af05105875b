#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>
#include <string>
#include <utility>

#include "compress/settings.h"
#include "http/connection.h"
#include "http/server.h"
#include "http/server_internal.h"

// Request limits and timeouts: what Server::Create accepts, and the clocks a connection runs
// under (server.h, "Timeouts"). One read timer covers the first-byte, idle, head, body and
// linger phases, since a connection is only ever in one of them; a generation number tells a
// re-armed timer's stale completion from a live one. The write timer is separate because a
// write can be in flight while the next request is read.

namespace hasivu::http {

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
  if (settings.access_log_queue_lines == 0) {
    return InvalidArgumentError("access_log_queue_lines must be > 0");
  }
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
      new internal::ServerImpl(std::move(settings), router, std::move(error_renderer), registry));
}

namespace internal {

LimitMetrics RegisterLimitMetrics(metrics::Registry& registry) {
  LimitMetrics m;
  for (size_t i = 0; i < kLimitHitNames.size(); ++i) {
    m.hits[i] = &registry.GetCounter(
        "hasivu_http_limit_hits_total",
        "Clients that ran into a limit of the HTTP server, by reason (timeouts, sizes, "
        "unparsable or truncated requests, the pipelining read-ahead)",
        {{"reason", std::string(kLimitHitNames[i])}});
  }
  return m;
}

// The idle clock runs only while the connection waits for a request with nothing in flight.
// Until the first byte ever arrives it is the shorter first_byte_timeout: a connection that
// never sends anything has no keep-alive to protect, only a slot to take.
void Connection::UpdateIdleTimer() {
  const bool idle = read_state_ == ReadState::kWaiting && queue_.empty() && !writing_;
  if (idle && timer_phase_ != TimerPhase::kIdle) {
    ArmReadTimer(TimerPhase::kIdle,
                 got_first_byte_ ? settings_.idle_timeout : settings_.first_byte_timeout);
  } else if (!idle && timer_phase_ == TimerPhase::kIdle) {
    timer_phase_ = TimerPhase::kNone;
    read_timer_.cancel();
  }
}

// Connections opened together time out together: 1 000 slowloris connections opened in one
// burst expire within a few milliseconds, and Asio queues every expired timer's handler at once,
// so the 408s, writes, lingering closes and closes that follow all ran ahead of the thread's
// other connections (reliability scenario 7 measured a normal client's requests held 40-140 ms
// at each such wave). Each I/O thread therefore acts on at most one timeout per
// kTimeoutSpacing: a timeout that finds the slot taken waits for the next free one. A wave of
// 5 000 on one thread is handled within a second, and the thread's other work waits behind at
// most one timeout's at a time.
constexpr std::chrono::microseconds kTimeoutSpacing{200};

bool Connection::TimeoutSlotReached(asio::steady_timer& timer, bool& deferred) {
  if (deferred) {  // this is the slot it was given
    deferred = false;
    return true;
  }
  const SteadyClock::time_point now = SteadyClock::now();
  SteadyClock::time_point& slot = worker_.next_timeout_slot;
  if (slot <= now) {
    slot = now + kTimeoutSpacing;
    return true;
  }
  timer.expires_at(slot);
  slot += kTimeoutSpacing;
  deferred = true;
  return false;
}

void Connection::ArmReadTimer(TimerPhase phase, std::chrono::milliseconds timeout) {
  timer_phase_ = phase;
  read_timeout_deferred_ = false;
  const uint64_t generation = ++timer_generation_;
  read_timer_.expires_after(timeout);
  read_timer_.async_wait([self = shared_from_this(), generation](boost::system::error_code ec) {
    self->OnReadTimer(ec, generation);
  });
}

void Connection::OnReadTimer(boost::system::error_code ec, uint64_t generation) {
  if (ec || closed_ || generation != timer_generation_) return;
  if (timer_phase_ == TimerPhase::kNone) return;
  if (!TimeoutSlotReached(read_timer_, read_timeout_deferred_)) {
    read_timer_.async_wait([self = shared_from_this(), generation](boost::system::error_code e) {
      self->OnReadTimer(e, generation);
    });
    return;
  }
  if (timer_phase_ == TimerPhase::kHeader || timer_phase_ == TimerPhase::kBody) {
    OnReadTimeout();
    return;
  }
  // At Stop() the idle phase is the short wait for a request (not a client's timeout).
  if (timer_phase_ == TimerPhase::kIdle && !stopping_) {
    server_.limit_hits().Count(got_first_byte_ ? LimitHit::kIdleTimeout
                                               : LimitHit::kFirstByteTimeout);
  }
  Close();
}

// A request under way when its clock ran out gets 408 (RFC 9110, 15.5.9), as nginx
// (client_header_timeout, client_body_timeout), Apache (mod_reqtimeout) and HAProxy (timeout
// http-request) document for theirs: the client learns why, instead of a bare close it may take
// for a network fault and retry at once. The read is cancelled and its completion (OnHeader or
// OnBody, with operation_aborted) answers. A connection whose write is in flight is cut instead: a
// cancel would abort that write too, and a client that is not reading would not see a 408.
void Connection::OnReadTimeout() {
  const bool header = timer_phase_ == TimerPhase::kHeader;
  spdlog::debug("http: {} timed out receiving a request from {}", header ? "header" : "body",
                remote_);
  timer_phase_ = TimerPhase::kNone;
  if (writing_) {
    server_.limit_hits().Count(header ? LimitHit::kHeaderTimeout : LimitHit::kBodyTimeout);
    Close();
    return;
  }
  // Counted where the 408 is made: a read that completed just before the cancel is served.
  read_timed_out_ = true;
  boost::system::error_code ec;
  socket_.cancel(ec);
  if (ec) Close();
}

// A client that does not read its responses cannot pin the connection forever; body_timeout
// bounds each write as it bounds each body read.
void Connection::ArmWriteTimer() {
  write_timeout_deferred_ = false;
  write_timer_.expires_after(settings_.body_timeout);
  write_timer_.async_wait(
      [self = shared_from_this()](boost::system::error_code ec) { self->OnWriteTimer(ec); });
}

void Connection::OnWriteTimer(boost::system::error_code ec) {
  if (ec || closed_ || !writing_) return;
  if (!TimeoutSlotReached(write_timer_, write_timeout_deferred_)) {
    write_timer_.async_wait(
        [self = shared_from_this()](boost::system::error_code e) { self->OnWriteTimer(e); });
    return;
  }
  server_.limit_hits().Count(LimitHit::kWriteTimeout);
  Close();
}

}  // namespace internal
}  // namespace hasivu::http
