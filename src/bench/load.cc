#include "bench/load.h"

#include <algorithm>
#include <atomic>
#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/wait_traits.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <cmath>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "bench/interrupt.h"

namespace hasivu::bench {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
// The io_context's own executor rather than any_io_executor: no type-erased executor is copied
// and destroyed with every operation.
using Executor = asio::io_context::executor_type;
using Socket = asio::basic_stream_socket<tcp, Executor>;
using Timer = asio::basic_waitable_timer<Clock, asio::wait_traits<Clock>, Executor>;

constexpr uint64_t kBodyLimit = 64u << 20;
constexpr uint32_t kHeaderLimit = 64u << 10;
// Enough of an unexpected answer's body to read its envelope's code; the rest is not needed.
constexpr size_t kErrorBodyLimit = 64u << 10;
// A reconnect that failed is tried again after this long, rather than in a tight loop against a
// server that is down.
constexpr auto kReconnectBackoff = std::chrono::milliseconds(20);
constexpr auto kProgressEvery = std::chrono::milliseconds(250);
// Beast reads as much as the buffer's free capacity (at least 512 bytes), and a flat_buffer never
// grows past what one read asked for: without room reserved up front every answer above 512
// bytes would cost two reads.
constexpr size_t kReadBufferBytes = 16u << 10;

double Milliseconds(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

// Beast's response parser without a message: the load needs the status, the framing (keep-alive,
// body length) and the body only of an unexpected answer, so nothing is stored per field or per
// byte of an expected one, and parsing allocates nothing.
class ResponseParser final : public http::basic_parser<false> {
 public:
  ResponseParser(int expected_status, std::string* error_body)
      : expected_status_(expected_status), error_body_(error_body) {
    body_limit(kBodyLimit);
    header_limit(kHeaderLimit);
  }
  int status() const { return status_; }

 private:
  void on_request_impl(http::verb, beast::string_view, beast::string_view, int,
                       beast::error_code&) override {}
  void on_response_impl(int code, beast::string_view, int, beast::error_code&) override {
    status_ = code;
    keep_body_ = code != expected_status_;
    if (keep_body_) error_body_->clear();
  }
  void on_field_impl(http::field, beast::string_view, beast::string_view,
                     beast::error_code&) override {}
  void on_header_impl(beast::error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>&, beast::error_code&) override {}
  size_t on_body_impl(beast::string_view body, beast::error_code&) override {
    Keep(body);
    return body.size();
  }
  void on_chunk_header_impl(std::uint64_t, beast::string_view, beast::error_code&) override {}
  size_t on_chunk_body_impl(std::uint64_t, beast::string_view body, beast::error_code&) override {
    Keep(body);
    return body.size();
  }
  void on_finish_impl(beast::error_code&) override {}

  void Keep(beast::string_view body) {
    if (!keep_body_ || error_body_->size() >= kErrorBodyLimit) return;
    error_body_->append(body.data(), std::min(body.size(), kErrorBodyLimit - error_body_->size()));
  }

  const int expected_status_;
  std::string* const error_body_;
  int status_ = 0;
  bool keep_body_ = false;
};

// What every connection reads; written before the threads start, except the atomics.
struct Plan {
  std::vector<std::string> wires;  // the requests, serialised
  std::vector<tcp::endpoint> endpoints;
  std::string url;
  bool open_loop = false;
  double ns_per_request = 0;  // open loop: the schedule's spacing
  bool each_once = false;
  int expected_status = 200;
  uint64_t max_requests = 0;
  Clock::duration timeout{};
  Clock::duration warmup{};
  Clock::duration duration{};
  // Set when the measured phase starts.
  Clock::time_point start;          // t_0 of the schedule; the warm-up starts here
  Clock::time_point measure_start;  // start + warm-up
  Clock::time_point end;            // measure_start + duration

  // Shared between the threads only where a global order is the point: the open loop's schedule
  // and each_once's list (one index for both), and the max_requests budget.
  std::atomic<uint64_t> next{0};
  std::atomic<uint64_t> recorded_taken{0};
  std::atomic<bool> stop{false};
  std::atomic<bool> exhausted{false};
};

// One thread's share of the result: written only by its own thread, merged after the join.
struct Tally {
  std::vector<double> latency_ms;
  std::vector<double> service_ms;
  uint64_t sent = 0;
  uint64_t completed = 0;
  uint64_t succeeded = 0;
  uint64_t failed = 0;
  uint64_t response_bytes = 0;
  std::map<std::string, uint64_t> errors;
  double max_send_lag_ms = 0;
  Clock::time_point last_answer{};
};

class Connection;

struct Worker {
  // Exactly one thread runs it, and nothing is posted to it from another thread while it runs
  // (the main thread posts only before the worker thread starts): asio's locks are not needed.
  asio::io_context ioc{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE};
  Timer sweeper{ioc.get_executor()};
  std::vector<std::unique_ptr<Connection>> connections;
  int active = 0;  // connections not done yet
  int connected = 0;
  std::string first_connect_error;
  Tally tally;
  // For the progress line, read by another thread: one writer, so plain stores suffice.
  std::atomic<uint64_t> completed_seen{0};
  std::atomic<uint64_t> failed_seen{0};
};

class Connection {
 public:
  Connection(Plan& plan, Worker& worker, size_t index)
      : plan_(plan),
        worker_(worker),
        socket_(worker.ioc),
        timer_(worker.ioc),
        rotation_(index % plan.wires.size()) {
    buffer_.reserve(kReadBufferBytes);
  }

  // Before the clock starts: one connect, counted in worker.connected when it succeeds.
  void OpenInitially() { Open(/*initial=*/true); }

  // The measured phase starts.
  void Begin() {
    if (state_ == State::kIdle) {
      Next();
    } else {
      Reopen();
    }
  }

  // Called by the worker's sweeper.
  void CheckTimeout(Clock::time_point now) {
    if ((state_ != State::kWriting && state_ != State::kReading) ||
        now - sent_at_ < plan_.timeout) {
      return;
    }
    if (recorded_) Count("timeout");
    // The answer may still come; on this connection it would be taken for the next request's.
    timed_out_ = true;
    Close();
    state_ = State::kClosed;
  }

 private:
  enum class State { kClosed, kConnecting, kBackoff, kIdle, kWaiting, kWriting, kReading, kDone };

  void Open(bool initial) {
    state_ = State::kConnecting;
    const uint64_t generation = ++connect_generation_;
    connect_timed_out_ = false;
    timer_.expires_after(plan_.timeout);
    timer_.async_wait([this, generation](const beast::error_code& ec) {
      if (ec || generation != connect_generation_ || state_ != State::kConnecting) return;
      connect_timed_out_ = true;
      Close();
    });
    asio::async_connect(socket_, plan_.endpoints,
                        [this, initial](const beast::error_code& ec, const tcp::endpoint&) {
                          OnConnect(ec, initial);
                        });
  }

  void OnConnect(const beast::error_code& ec, bool initial) {
    timer_.cancel();
    if (ec) {
      const std::string why = connect_timed_out_ ? "timed out" : ec.message();
      Count("connect: " + why);
      if (worker_.first_connect_error.empty()) {
        worker_.first_connect_error = "connect " + plan_.url + ": " + why;
      }
      Close();
      if (initial) {
        state_ = State::kClosed;
        return;
      }
      state_ = State::kBackoff;
      timer_.expires_after(kReconnectBackoff);
      timer_.async_wait([this](const beast::error_code& e) {
        if (!e) Reopen();
      });
      return;
    }
    beast::error_code ignored;
    socket_.set_option(tcp::no_delay(true), ignored);
    buffer_.clear();
    if (initial) {
      state_ = State::kIdle;
      ++worker_.connected;
      return;
    }
    Next();
  }

  void Reopen() {
    if (plan_.stop.load(std::memory_order_relaxed) || Clock::now() >= plan_.end || Interrupted()) {
      Finish();
      return;
    }
    Open(/*initial=*/false);
  }

  // Picks the next request and its scheduled time; false when the phase is over for this
  // connection.
  bool Take() {
    const Clock::time_point now = Clock::now();
    // In the open loop, requests still due when the time is up are not sent: against a server
    // slower than the rate the backlog would keep the phase going for as long again, and
    // max_send_lag_ms already says the schedule was not kept.
    // An interrupted bench has stopped the server (interrupt.h): the phase ends with it.
    if (now >= plan_.end || plan_.stop.load(std::memory_order_relaxed) || Interrupted()) {
      return false;
    }
    const size_t n = plan_.wires.size();
    if (plan_.open_loop) {
      const uint64_t k = plan_.next.fetch_add(1, std::memory_order_relaxed);
      scheduled_ = plan_.start + std::chrono::nanoseconds(static_cast<int64_t>(
                                     std::llround(static_cast<double>(k) * plan_.ns_per_request)));
      if (scheduled_ >= plan_.end) {
        plan_.stop.store(true, std::memory_order_relaxed);
        return false;
      }
      if (plan_.each_once && k >= n) return Exhausted();
      index_ = plan_.each_once ? k : k % n;
    } else {
      scheduled_ = now;
      if (plan_.each_once) {
        const uint64_t k = plan_.next.fetch_add(1, std::memory_order_relaxed);
        if (k >= n) return Exhausted();
        index_ = k;
      } else {
        // Each connection walks the list from its own offset: every request is sent, with no
        // counter shared between threads.
        index_ = rotation_;
        if (++rotation_ == n) rotation_ = 0;
      }
    }
    recorded_ = scheduled_ >= plan_.measure_start;
    if (recorded_ && plan_.max_requests > 0 &&
        plan_.recorded_taken.fetch_add(1, std::memory_order_relaxed) >= plan_.max_requests) {
      plan_.stop.store(true, std::memory_order_relaxed);
      return false;
    }
    return true;
  }

  bool Exhausted() {
    plan_.exhausted.store(true, std::memory_order_relaxed);
    plan_.stop.store(true, std::memory_order_relaxed);
    return false;
  }

  void Next() {
    if (!Take()) {
      Finish();
      return;
    }
    if (plan_.open_loop && scheduled_ > Clock::now()) {
      state_ = State::kWaiting;
      timer_.expires_at(scheduled_);
      timer_.async_wait([this](const beast::error_code& ec) {
        if (!ec) Send(Clock::now());
      });
      return;
    }
    Send(plan_.open_loop ? Clock::now() : scheduled_);
  }

  void Send(Clock::time_point now) {
    sent_at_ = now;
    if (recorded_) {
      ++worker_.tally.sent;
      if (plan_.open_loop) {
        worker_.tally.max_send_lag_ms =
            std::max(worker_.tally.max_send_lag_ms, Milliseconds(sent_at_ - scheduled_));
      }
    }
    state_ = State::kWriting;
    const std::string& wire = plan_.wires[index_];
    asio::async_write(socket_, asio::buffer(wire),
                      [this](const beast::error_code& ec, size_t) { OnWrite(ec); });
  }

  void OnWrite(const beast::error_code& ec) {
    if (timed_out_) return AfterTimeout();
    if (ec) {
      Fail(IsClosed(ec) ? std::string("closed") : "write: " + ec.message());
      return;
    }
    state_ = State::kReading;
    parser_.emplace(plan_.expected_status, &error_body_);
    http::async_read(socket_, buffer_, *parser_,
                     [this](const beast::error_code& e, size_t bytes) { OnRead(e, bytes); });
  }

  void OnRead(const beast::error_code& ec, size_t bytes) {
    if (timed_out_) return AfterTimeout();
    if (ec) {
      const bool closed =
          ec == http::error::end_of_stream || (!parser_->got_some() && IsClosed(ec));
      Fail(closed ? std::string("closed") : "read: " + ec.message());
      return;
    }
    const Clock::time_point now = Clock::now();
    if (recorded_) {
      Tally& t = worker_.tally;
      ++t.completed;
      t.latency_ms.push_back(Milliseconds(now - scheduled_));
      t.service_ms.push_back(Milliseconds(now - sent_at_));
      t.response_bytes += bytes;
      t.last_answer = now;
      const int status = parser_->status();
      if (status == plan_.expected_status) {
        ++t.succeeded;
      } else {
        const std::string code = ErrorCodeOf(error_body_);
        Count("status " + std::to_string(status) + (code.empty() ? "" : " " + code));
      }
      worker_.completed_seen.store(t.completed, std::memory_order_relaxed);
    }
    if (!parser_->keep_alive()) {
      Close();
      Reopen();
      return;
    }
    Next();
  }

  static bool IsClosed(const beast::error_code& ec) {
    return ec == asio::error::eof || ec == asio::error::connection_reset ||
           ec == asio::error::broken_pipe || ec == asio::error::connection_aborted;
  }

  void AfterTimeout() {
    timed_out_ = false;
    Reopen();
  }

  void Fail(const std::string& kind) {
    if (recorded_) Count(kind);
    Close();
    Reopen();
  }

  void Count(const std::string& kind) {
    Tally& t = worker_.tally;
    ++t.errors[kind];
    ++t.failed;
    worker_.failed_seen.store(t.failed, std::memory_order_relaxed);
  }

  void Close() {
    beast::error_code ignored;
    socket_.close(ignored);
  }

  void Finish() {
    Close();
    state_ = State::kDone;
    if (--worker_.active == 0) worker_.sweeper.cancel();
  }

  Plan& plan_;
  Worker& worker_;
  Socket socket_;
  Timer timer_;  // the connect timeout, the reconnect backoff, the open loop's wait
  beast::flat_buffer buffer_;
  std::optional<ResponseParser> parser_;
  std::string error_body_;
  State state_ = State::kClosed;
  size_t rotation_;
  // The request in flight.
  size_t index_ = 0;
  Clock::time_point scheduled_;
  Clock::time_point sent_at_;
  bool recorded_ = false;
  bool timed_out_ = false;
  uint64_t connect_generation_ = 0;
  bool connect_timed_out_ = false;
};

// Reports progress about every kProgressEvery, from worker 0's sweeper.
class ProgressReporter {
 public:
  ProgressReporter(const ProgressFn& fn, const Plan& plan,
                   const std::vector<std::unique_ptr<Worker>>& workers)
      : fn_(fn), plan_(plan), workers_(workers) {}

  void MaybeReport(Clock::time_point now) {
    if (!fn_ || now < next_) return;
    next_ = now + kProgressEvery;
    LoadProgress p;
    for (const auto& w : workers_) {
      p.completed += w->completed_seen.load(std::memory_order_relaxed);
      p.failed += w->failed_seen.load(std::memory_order_relaxed);
    }
    p.elapsed_seconds = std::max(0.0, Milliseconds(now - plan_.measure_start) / 1000);
    samples_.push_back({now, p.completed});
    while (samples_.size() > 1 && now - samples_[1].first >= std::chrono::seconds(1)) {
      samples_.pop_front();
    }
    const auto& [then, count] = samples_.front();
    if (now > then) {
      p.requests_per_second =
          static_cast<double>(p.completed - count) / (Milliseconds(now - then) / 1000);
    }
    fn_(p);
  }

 private:
  const ProgressFn& fn_;
  const Plan& plan_;
  const std::vector<std::unique_ptr<Worker>>& workers_;
  Clock::time_point next_{};
  std::deque<std::pair<Clock::time_point, uint64_t>> samples_;
};

void Sweep(Worker& worker, Clock::duration every, ProgressReporter* progress) {
  worker.sweeper.expires_after(every);
  worker.sweeper.async_wait([&worker, every, progress](const beast::error_code& ec) {
    if (ec || worker.active == 0) return;
    const Clock::time_point now = Clock::now();
    for (auto& c : worker.connections) c->CheckTimeout(now);
    if (progress != nullptr) progress->MaybeReport(now);
    Sweep(worker, every, progress);
  });
}

Status Validate(const Workload& workload, const LoadOptions& options) {
  if (workload.requests.empty()) return InvalidArgumentError("load: the workload has no requests");
  if (options.connections < 1) return InvalidArgumentError("load: connections must be at least 1");
  if (options.threads < 1) return InvalidArgumentError("load: threads must be at least 1");
  if (!(options.rate >= 0) || !std::isfinite(options.rate)) {
    return InvalidArgumentError("load: the rate must be a finite number >= 0");
  }
  if (options.duration <= std::chrono::milliseconds(0)) {
    return InvalidArgumentError("load: the duration must be positive");
  }
  if (options.warmup < std::chrono::milliseconds(0)) {
    return InvalidArgumentError("load: the warm-up must not be negative");
  }
  if (options.timeout <= std::chrono::milliseconds(0)) {
    return InvalidArgumentError("load: the timeout must be positive");
  }
  return Status::Ok();
}

StatusOr<std::vector<tcp::endpoint>> Resolve(const Endpoint& endpoint) {
  asio::io_context ioc;
  tcp::resolver resolver(ioc);
  beast::error_code ec;
  auto results = resolver.resolve(endpoint.host, std::to_string(endpoint.port), ec);
  if (ec || results.empty()) {
    return UnavailableError("resolve " + endpoint.ToString() + ": " +
                            (ec ? ec.message() : std::string("no address")));
  }
  std::vector<tcp::endpoint> out;
  for (const auto& r : results) out.push_back(r.endpoint());
  return out;
}

// Runs every worker's io_context on a thread of its own until it has no more work.
void RunWorkers(std::vector<std::unique_ptr<Worker>>& workers) {
  std::vector<std::thread> threads;
  threads.reserve(workers.size());
  for (auto& w : workers) {
    threads.emplace_back([&ioc = w->ioc] {
      ioc.restart();
      ioc.run();
    });
  }
  for (auto& t : threads) t.join();
}

}  // namespace

StatusOr<LoadResult> RunLoad(const Endpoint& endpoint, const Workload& workload,
                             const LoadOptions& options, const ProgressFn& progress) {
  RETURN_IF_ERROR(Validate(workload, options));
  Plan plan;
  ASSIGN_OR_RETURN(plan.endpoints, Resolve(endpoint));
  plan.url = endpoint.ToString();
  plan.wires.reserve(workload.requests.size());
  for (const Request& r : workload.requests) plan.wires.push_back(SerializeRequest(endpoint, r));
  plan.open_loop = options.rate > 0;
  plan.ns_per_request = plan.open_loop ? 1e9 / options.rate : 0;
  plan.each_once = workload.each_once;
  plan.expected_status = workload.expected_status;
  plan.max_requests = options.max_requests;
  plan.timeout = options.timeout;
  // A warm-up would use up requests that may be sent only once.
  plan.warmup = workload.each_once ? Clock::duration(0) : Clock::duration(options.warmup);
  plan.duration = options.duration;

  const int thread_count = std::min(options.threads, options.connections);
  std::vector<std::unique_ptr<Worker>> workers;
  for (int i = 0; i < thread_count; ++i) workers.push_back(std::make_unique<Worker>());
  for (int i = 0; i < options.connections; ++i) {
    Worker& w = *workers[i % thread_count];
    w.connections.push_back(std::make_unique<Connection>(plan, w, static_cast<size_t>(i)));
  }
  size_t expected_per_thread = 1u << 14;
  if (plan.open_loop) {
    const double seconds = std::chrono::duration<double>(plan.duration).count();
    expected_per_thread = static_cast<size_t>(options.rate * seconds * 1.1 / thread_count) + 16;
  }
  if (plan.each_once) {
    expected_per_thread =
        std::min(expected_per_thread, workload.requests.size() / thread_count + 16);
  }
  for (auto& w : workers) {
    w->tally.latency_ms.reserve(expected_per_thread);
    w->tally.service_ms.reserve(expected_per_thread);
    for (auto& c : w->connections) asio::post(w->ioc, [&c = *c] { c.OpenInitially(); });
  }
  // The connections are opened before the clock starts: the phase measures requests, and a
  // server that cannot be reached at all is the run's failure, not data.
  RunWorkers(workers);
  int connected = 0;
  for (auto& w : workers) connected += w->connected;
  if (connected == 0) {
    for (auto& w : workers) {
      if (!w->first_connect_error.empty()) return UnavailableError(w->first_connect_error);
    }
    return UnavailableError("connect " + plan.url + ": no connection opened");
  }

  plan.start = Clock::now();
  plan.measure_start = plan.start + plan.warmup;
  plan.end = plan.measure_start + plan.duration;
  // Fine enough for the timeout, and for the progress line of worker 0.
  const Clock::duration sweep_every = std::clamp<Clock::duration>(
      plan.timeout / 10, std::chrono::milliseconds(1), std::chrono::milliseconds(50));
  ProgressReporter reporter(progress, plan, workers);
  for (size_t i = 0; i < workers.size(); ++i) {
    Worker& w = *workers[i];
    w.active = static_cast<int>(w.connections.size());
    ProgressReporter* p = (i == 0 && progress) ? &reporter : nullptr;
    asio::post(w.ioc, [&w, sweep_every, p] {
      Sweep(w, sweep_every, p);
      for (auto& c : w.connections) c->Begin();
    });
  }
  RunWorkers(workers);
  const Clock::time_point finished = Clock::now();

  LoadResult result;
  Clock::time_point last_answer{};
  for (auto& w : workers) {
    Tally& t = w->tally;
    result.latency_ms.insert(result.latency_ms.end(), t.latency_ms.begin(), t.latency_ms.end());
    result.service_ms.insert(result.service_ms.end(), t.service_ms.begin(), t.service_ms.end());
    result.sent += t.sent;
    result.completed += t.completed;
    result.succeeded += t.succeeded;
    result.response_bytes += t.response_bytes;
    for (const auto& [kind, count] : t.errors) result.errors[kind] += count;
    result.max_send_lag_ms = std::max(result.max_send_lag_ms, t.max_send_lag_ms);
    last_answer = std::max(last_answer, t.last_answer);
  }
  const Clock::time_point stop = result.completed > 0 ? last_answer : finished;
  result.elapsed_seconds = std::max(0.0, Milliseconds(stop - plan.measure_start) / 1000);
  if (result.elapsed_seconds > 0) {
    result.requests_per_second = static_cast<double>(result.completed) / result.elapsed_seconds;
  }
  result.exhausted = plan.exhausted.load();
  return result;
}

}  // namespace hasivu::bench
