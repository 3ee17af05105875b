#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>
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

void Connection::ArmReadTimer(TimerPhase phase, std::chrono::milliseconds timeout) {
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
void Connection::ArmWriteTimer() {
  write_timer_.expires_after(settings_.body_timeout);
  write_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (ec || self->closed_ || !self->writing_) return;
    self->Close();
  });
}

}  // namespace internal
}  // namespace hasivu::http
