#include "http/server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/post.hpp>
#include <exception>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/deadline.h"
#include "common/ip_address.h"
#include "http/peer_address.h"
#include "http/server_internal.h"
#include "metrics/http_series.h"

// Thread model: one io_context per I/O thread, and the acceptor hands each new connection to the
// next context round-robin. A connection then lives on exactly one thread for its whole life, so
// its handlers need no strand and no locks, and the hot path never touches a scheduler shared by
// all threads (a single shared io_context serialises every completion through one mutex-guarded
// queue, which is what limits it at high request rates). The price is that a thread cannot
// steal another's connections; with short requests and many connections that evens out, and
// the slow work (database round trips) runs on the separate blocking pool anyway.
//
// This unit is the listener (ServerImpl): the acceptor and its loop, Start/Stop/Wait, admission
// against the connection caps, route metrics, error rendering and running handlers. It never
// sees Beast; connections are reached through server_internal.h.

namespace hasivu::http::internal {
namespace {

// Written to stop() when the server itself runs on this thread, so Stop() from a handler does
// not wait on its own thread.
thread_local const void* tls_server = nullptr;

}  // namespace

int MethodToIndex(std::string_view method) {
  for (int i = 0; i < kOtherMethod; ++i) {
    if (kMethodNames[i] == method) return i;
  }
  return kOtherMethod;
}

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
                                              "Route handlers that threw (answered 500)")),
      offload_wait_(registry.GetHistogram(
          "hasivu_http_offload_wait_seconds",
          "Time a blocking or offloaded handler waited for a thread of the server's pool", {}, 1e-6,
          metrics::FineLatencyBoundsSeconds())),
      offload_queued_(registry.GetGauge(
          "hasivu_http_offload_queued",
          "Blocking or offloaded handlers posted to the server's pool and not started yet")),
      limit_metrics_(RegisterLimitMetrics(registry)),
      access_log_written_(registry.GetCounter("hasivu_access_log_lines_total",
                                              "Access log lines handed to the log's sink")),
      access_log_dropped_(registry.GetCounter(
          "hasivu_access_log_dropped_total",
          "Access log lines dropped because the log's queue was full (a slow sink)")),
      access_log_queued_(
          registry.GetGauge("hasivu_access_log_queued_lines",
                            "Access log lines queued and not yet handed to the log's sink")) {
  compression_metrics_ = RegisterCompressionMetrics(registry);
  if (!settings_.access_log) return;
  AccessLogSink sink = settings_.access_log_sink;
  if (!sink) sink = NewStdioAccessLogSink(stdout);
  if (sink) {
    access_log_ = std::make_unique<AccessLogQueue>(settings_.access_log_queue_lines,
                                                   std::move(sink), access_log_written_,
                                                   access_log_dropped_, &access_log_queued_);
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

  auto make_route_metrics = [&](std::string_view name, const std::vector<int>& methods,
                                const std::vector<std::string>& labels) {
    RouteMetrics m;
    m.name = std::string(name);
    for (size_t i = 0; i < methods.size(); ++i) {
      for (size_t c = 0; c < kClasses.size(); ++c) {
        m.requests[methods[i]][c] = &metrics::HttpRequests(registry_, name, labels[i], kClasses[c]);
      }
    }
    m.latency = &metrics::HttpRequestLatency(registry_, name);
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
  if (ec == asio::error::operation_aborted) return;
  if (!ec && stopping()) {
    // Accepted in the instant before the acceptor closed: the client has a connection and may
    // have sent its request, so it is served like the rest of the backlog.
    Admit(std::move(socket), target);
    return;
  }
  if (stopping() || !acceptor_->is_open()) return;
  if (ec) {
    // Out of descriptors or memory: retrying at once would spin; back off briefly.
    spdlog::warn("http: accept failed: {}", ec.message());
    accept_backoff_->expires_after(std::chrono::milliseconds(50));
    accept_backoff_->async_wait([this](boost::system::error_code wait_ec) {
      if (!wait_ec && !stopping()) DoAccept();
    });
    return;
  }
  Admit(std::move(socket), target);
  DoAccept();
}

void ServerImpl::Admit(tcp::socket socket, Worker& target) {
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
      // Parsed once: the exemption and the group come from the same address.
      const std::optional<IpAddress> ip = ParsePeerAddress(remote.address().to_string());
      if (ip && !InAnyRange(settings_.per_address_exempt, *ip)) group = ClientKeyOf(*ip);
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
  OpenConnection(*this, target, std::move(socket), admission, std::move(group));
}

void ServerImpl::AcceptBacklog() {
  // Closing a listening socket resets every connection still in its backlog, connections whose
  // clients already count as connected and may have sent a request. Taking them first leaves only
  // the instant between the last accept and the close.
  boost::system::error_code ec;
  acceptor_->non_blocking(true, ec);
  if (ec) return;
  for (;;) {
    Worker& target = *workers_[next_worker_];
    tcp::socket socket(target.context);
    acceptor_->accept(socket, ec);
    if (ec) return;  // would_block: the backlog is empty
    next_worker_ = (next_worker_ + 1) % workers_.size();
    Admit(std::move(socket), target);
  }
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
  AcceptBacklog();
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
        for (Connection* c : open) CloseConnection(*c);
      });
    }
  });
  for (auto& worker : workers_) {
    Worker* w = worker.get();
    asio::post(w->context, [w] {
      const std::vector<Connection*> open(w->connections.begin(), w->connections.end());
      for (Connection* c : open) BeginConnectionShutdown(*c);
    });
  }
  // Posted, so that an accept completed just before the close (its handler already queued) is
  // counted before the last socket can end the server.
  asio::post(workers_[0]->context, [this] { MaybeFinish(); });
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
  // Nothing logs any more: hand the last lines to the sink.
  if (access_log_) access_log_->Close();
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

Response ServerImpl::RunHandler(const Route& route, Request& request,
                                metrics::RequestTrace& trace) {
  std::optional<ScopedDeadline> deadline;
  if (settings_.request_deadline.count() > 0) {
    const SteadyClock::time_point at = request.received_at + settings_.request_deadline;
    // Its client is about to give up, and running it would only add to what held it up.
    if (SteadyClock::now() >= at) {
      Response late =
          RenderError(503, "UNAVAILABLE",
                      "The server could not start this request in time; retry shortly", request);
      late.headers.Set("Retry-After", "1");
      return late;
    }
    deadline.emplace(at);
  }
  const metrics::ScopedRequestTrace current(trace);
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

const RouteMetrics& ServerImpl::MetricsFor(const Route* route) const {
  auto it = route_metrics_.find(route);
  return it != route_metrics_.end() ? it->second : unmatched_;
}

void ServerImpl::OnFirstRequestWritten(const Pending& pending,
                                       SteadyClock::time_point written_at) const {
  if (!settings_.on_first_request) return;
  const FirstRequest first{.first_byte = pending.read_started_at,
                           .last_byte_written = written_at,
                           .route = std::string(pending.route_name),
                           .status = pending.response.status};
  try {
    settings_.on_first_request(first);
  } catch (const std::exception& e) {
    spdlog::error("http: on_first_request threw: {}", e.what());
  } catch (...) {
    spdlog::error("http: on_first_request threw");
  }
}

void ServerImpl::NoteOkWritten() {
  if (first_ok_ns_.load(std::memory_order_relaxed) != 0) return;
  int64_t expected = 0;
  const int64_t now = SteadyClock::now().time_since_epoch().count();
  first_ok_ns_.compare_exchange_strong(expected, now == 0 ? 1 : now, std::memory_order_acq_rel);
}

}  // namespace hasivu::http::internal
