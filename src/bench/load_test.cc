#include "bench/load.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cmath>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bench/stats.h"

namespace hasivu::bench {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using ::testing::HasSubstr;

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

struct ServerBehaviour {
  int status = 200;
  std::string body = R"({"success":true,"data":{}})";
  bool close_each = false;  // answers with Connection: close, then closes
  bool drop = false;        // closes without answering
  bool silent = false;      // reads requests and never answers
  // Every answer is held back while the server is frozen: from `stall_after` after the first
  // request, for `stall_for`.
  milliseconds stall_after{0};
  milliseconds stall_for{0};
};

// A loopback HTTP/1.1 server on one thread, 127.0.0.1 and port 0, that counts what it sees.
class TestServer {
 public:
  explicit TestServer(ServerBehaviour behaviour = {}) : behaviour_(std::move(behaviour)) {
    asio::co_spawn(ioc_, Accept(), asio::detached);
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~TestServer() {
    ioc_.stop();
    thread_.join();
  }
  Endpoint endpoint() const {
    return {.host = "127.0.0.1", .port = acceptor_.local_endpoint().port(), .base_path = ""};
  }
  int accepts() const { return accepts_.load(); }
  int requests() const { return requests_.load(); }
  std::map<std::string, int> targets() const {
    std::lock_guard lock(mu_);
    return targets_;
  }

 private:
  asio::awaitable<void> Accept() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(kAwait);
      if (ec) co_return;
      ++accepts_;
      asio::co_spawn(ioc_, Serve(std::move(socket)), asio::detached);
    }
  }

  std::string Answer() const {
    std::string head = "HTTP/1.1 " + std::to_string(behaviour_.status) + " X\r\n";
    head += "Content-Type: application/json\r\n";
    head += "Content-Length: " + std::to_string(behaviour_.body.size()) + "\r\n";
    if (behaviour_.close_each) head += "Connection: close\r\n";
    return head + "\r\n" + behaviour_.body;
  }

  asio::awaitable<void> Serve(tcp::socket socket) {
    beast::flat_buffer buffer;
    const std::string answer = Answer();
    for (;;) {
      http::request<http::string_body> req;
      auto [ec, n] = co_await http::async_read(socket, buffer, req, kAwait);
      if (ec) co_return;
      ++requests_;
      {
        std::lock_guard lock(mu_);
        ++targets_[std::string(req.target())];
      }
      const Clock::time_point now = Clock::now();
      if (!first_request_) first_request_ = now;
      if (behaviour_.stall_for.count() > 0 && !stalled_ &&
          now >= *first_request_ + behaviour_.stall_after) {
        stalled_ = true;
        frozen_until_ = now + behaviour_.stall_for;
      }
      if (behaviour_.drop) co_return;
      if (behaviour_.silent || now < frozen_until_) {
        asio::steady_timer wait(ioc_);
        if (behaviour_.silent) {
          wait.expires_after(std::chrono::hours(1));
        } else {
          wait.expires_at(frozen_until_);
        }
        co_await wait.async_wait(kAwait);
      }
      auto [wec, wn] = co_await asio::async_write(socket, asio::buffer(answer), kAwait);
      if (wec || behaviour_.close_each) co_return;
    }
  }

  const ServerBehaviour behaviour_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_{ioc_, {asio::ip::make_address("127.0.0.1"), 0}};
  std::atomic<int> accepts_{0};
  std::atomic<int> requests_{0};
  mutable std::mutex mu_;
  std::map<std::string, int> targets_;
  // Touched only by the server's thread.
  std::optional<Clock::time_point> first_request_;
  bool stalled_ = false;
  Clock::time_point frozen_until_{};
  std::thread thread_;
};

Workload Targets(int n, bool each_once = false) {
  Workload w;
  for (int i = 0; i < n; ++i) {
    Request r;
    r.target = "/t/" + std::to_string(i);
    w.requests.push_back(r);
  }
  w.each_once = each_once;
  return w;
}

double P(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return Percentile(v, q);
}

size_t CountAbove(const std::vector<double>& v, double ms) {
  return static_cast<size_t>(std::count_if(v.begin(), v.end(), [ms](double x) { return x > ms; }));
}

uint64_t ErrorCount(const LoadResult& r) {
  uint64_t n = 0;
  for (const auto& [kind, count] : r.errors) n += count;
  return n;
}

TEST(RunLoadTest, ClosedLoopCountsAddUpOverKeptAliveConnections) {
  TestServer server;
  LoadOptions o;
  o.connections = 4;
  o.threads = 2;
  o.duration = milliseconds(600);
  std::vector<LoadProgress> reports;
  auto r = RunLoad(server.endpoint(), Targets(5), o,
                   [&](const LoadProgress& p) { reports.push_back(p); });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GT(r->completed, 20u);
  EXPECT_EQ(r->latency_ms.size(), r->completed);
  EXPECT_EQ(r->service_ms.size(), r->completed);
  EXPECT_EQ(r->latency_ms, r->service_ms);  // closed loop: scheduled when sent
  EXPECT_EQ(r->sent, r->completed);         // every request sent was waited for
  EXPECT_EQ(r->succeeded, r->completed);
  EXPECT_TRUE(r->errors.empty());
  EXPECT_EQ(r->succeeded + ErrorCount(*r), r->completed);
  EXPECT_EQ(static_cast<uint64_t>(server.requests()), r->completed);
  EXPECT_EQ(server.accepts(), 4);  // keep-alive: one connection each, never reopened
  const auto targets = server.targets();
  EXPECT_EQ(targets.size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_GT(targets.count("/t/" + std::to_string(i)), 0u) << i;
  EXPECT_GT(r->elapsed_seconds, 0.55);
  EXPECT_LT(r->elapsed_seconds, 3.0);
  EXPECT_NEAR(r->requests_per_second, r->completed / r->elapsed_seconds, 1e-6);
  EXPECT_GT(r->response_bytes, r->completed * 26);  // at least the bodies
  EXPECT_FALSE(r->exhausted);
  EXPECT_EQ(r->max_send_lag_ms, 0);
  ASSERT_GE(reports.size(), 1u);
  EXPECT_LE(reports.back().completed, r->completed);
  for (size_t i = 1; i < reports.size(); ++i) {
    EXPECT_GE(reports[i].elapsed_seconds, reports[i - 1].elapsed_seconds);
  }
}

TEST(RunLoadTest, WarmupIsSentButNotRecorded) {
  TestServer server;
  LoadOptions o;
  o.connections = 2;
  o.warmup = milliseconds(300);
  o.duration = milliseconds(300);
  auto r = RunLoad(server.endpoint(), Targets(3), o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GT(r->completed, 0u);
  // Roughly half what the server answered was the warm-up's.
  EXPECT_GT(static_cast<uint64_t>(server.requests()), r->completed + r->completed / 4);
  EXPECT_LT(r->elapsed_seconds, 2.0);
}

TEST(RunLoadTest, MaxRequestsStopsTheRecordedCount) {
  TestServer server;
  LoadOptions o;
  o.connections = 3;
  o.duration = milliseconds(5000);
  o.max_requests = 50;
  auto r = RunLoad(server.endpoint(), Targets(2), o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->completed, 50u);
  EXPECT_EQ(server.requests(), 50);
  EXPECT_LT(r->elapsed_seconds, 4.0);
}

TEST(RunLoadTest, EachOnceSendsEveryRequestOnceAndEnds) {
  TestServer server;
  LoadOptions o;
  o.connections = 4;
  o.threads = 2;
  o.duration = milliseconds(5000);
  o.warmup = milliseconds(500);  // ignored: it would use up requests
  auto r = RunLoad(server.endpoint(), Targets(37, /*each_once=*/true), o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->sent, 37u);
  EXPECT_EQ(r->completed, 37u);
  EXPECT_EQ(r->succeeded, 37u);
  EXPECT_TRUE(r->exhausted);
  EXPECT_LT(r->elapsed_seconds, 4.0);
  const auto targets = server.targets();
  EXPECT_EQ(targets.size(), 37u);
  for (const auto& [target, count] : targets) EXPECT_EQ(count, 1) << target;
}

TEST(RunLoadTest, EachOnceInTheOpenLoopKeepsTheRate) {
  TestServer server;
  LoadOptions o;
  o.connections = 2;
  o.rate = 100;
  o.duration = milliseconds(5000);
  auto r = RunLoad(server.endpoint(), Targets(20, /*each_once=*/true), o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->completed, 20u);
  EXPECT_TRUE(r->exhausted);
  // 20 requests 10 ms apart: the last is scheduled at 190 ms.
  EXPECT_GT(r->elapsed_seconds, 0.18);
  EXPECT_LT(r->elapsed_seconds, 3.0);
  EXPECT_EQ(server.targets().size(), 20u);
}

TEST(RunLoadTest, EachOnceStopsAtTheDurationWithoutExhausting) {
  TestServer server;
  LoadOptions o;
  o.connections = 1;
  o.rate = 50;  // 20 ms apart: about 10 of the 100 fit in 200 ms
  o.duration = milliseconds(200);
  auto r = RunLoad(server.endpoint(), Targets(100, /*each_once=*/true), o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->exhausted);
  EXPECT_GE(r->completed, 5u);
  EXPECT_LE(r->completed, 11u);
}

// The point of the open loop: a server that stalls is charged for every request it kept waiting,
// not only for the few that were in flight.
TEST(RunLoadTest, OpenLoopChargesAStallToEveryRequestItDelayed) {
  ServerBehaviour b;
  b.stall_after = milliseconds(1000);
  b.stall_for = milliseconds(400);
  TestServer server(b);
  LoadOptions o;
  o.connections = 10;
  o.rate = 1000;
  o.duration = milliseconds(2500);
  auto r = RunLoad(server.endpoint(), Targets(4), o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->errors.empty());
  EXPECT_GT(r->completed, 2000u);  // the schedule holds 2500
  EXPECT_LE(r->completed, 2501u);
  EXPECT_EQ(r->latency_ms.size(), r->service_ms.size());
  // Hundreds of requests were scheduled during the 400 ms: they waited, and that is latency.
  const double late = static_cast<double>(CountAbove(r->latency_ms, 100)) /
                      static_cast<double>(r->latency_ms.size());
  EXPECT_GT(late, 0.05) << "fraction of requests above 100 ms";
  EXPECT_GT(P(r->latency_ms, 0.99), 200);
  EXPECT_GT(*std::max_element(r->latency_ms.begin(), r->latency_ms.end()), 300);
  // Once sent, most were answered at once: the server's own time hides the stall.
  EXPECT_LT(P(r->service_ms, 0.50), 50);
  EXPECT_LT(P(r->service_ms, 0.99), P(r->latency_ms, 0.99) / 2);
  EXPECT_GT(r->max_send_lag_ms, 200);
  for (size_t i = 0; i < r->latency_ms.size(); ++i) {
    ASSERT_GE(r->latency_ms[i], r->service_ms[i] - 1e-9) << i;
  }
}

TEST(RunLoadTest, ClosedLoopShowsTheSameStallInOnlyAFewRequests) {
  ServerBehaviour b;
  b.stall_after = milliseconds(700);
  b.stall_for = milliseconds(400);
  TestServer server(b);
  LoadOptions o;
  o.connections = 10;
  o.duration = milliseconds(1800);
  auto r = RunLoad(server.endpoint(), Targets(4), o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->errors.empty());
  ASSERT_GT(r->completed, 1000u);
  const size_t slow = CountAbove(r->latency_ms, 100);
  // The connections that were in flight waited; nothing was sent while they did.
  EXPECT_GE(slow, 5u);
  EXPECT_LE(slow, 50u);
  EXPECT_LT(static_cast<double>(slow) / static_cast<double>(r->completed), 0.02);
  EXPECT_GT(*std::max_element(r->latency_ms.begin(), r->latency_ms.end()), 300);
}

TEST(RunLoadTest, AnUnexpectedStatusIsRecordedWithTheEnvelopesCode) {
  ServerBehaviour b;
  b.status = 409;
  b.body = R"({"success":false,"error":{"code":"SOLD_OUT","message":"gone"}})";
  TestServer server(b);
  LoadOptions o;
  o.connections = 2;
  o.duration = milliseconds(300);
  auto r = RunLoad(server.endpoint(), Targets(1), o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GT(r->completed, 0u);
  EXPECT_EQ(r->succeeded, 0u);
  ASSERT_EQ(r->errors.size(), 1u);
  EXPECT_EQ(r->errors.at("status 409 SOLD_OUT"), r->completed);
  EXPECT_EQ(r->latency_ms.size(), r->completed);  // answered, so measured
  EXPECT_EQ(server.accepts(), 2);
}

TEST(RunLoadTest, AStatusWithoutAnEnvelopeIsRecordedByStatus) {
  ServerBehaviour b;
  b.status = 500;
  b.body = "oops";
  TestServer server(b);
  LoadOptions o;
  o.connections = 1;
  o.duration = milliseconds(200);
  auto r = RunLoad(server.endpoint(), Targets(1), o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->errors.size(), 1u);
  EXPECT_EQ(r->errors.at("status 500"), r->completed);
  EXPECT_EQ(r->succeeded, 0u);
}

TEST(RunLoadTest, TheExpectedStatusIsASuccess) {
  ServerBehaviour b;
  b.status = 201;
  TestServer server(b);
  LoadOptions o;
  o.connections = 1;
  o.duration = milliseconds(200);
  Workload w = Targets(1);
  w.expected_status = 201;
  auto r = RunLoad(server.endpoint(), w, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GT(r->succeeded, 0u);
  EXPECT_EQ(r->succeeded, r->completed);
  EXPECT_TRUE(r->errors.empty());
}

TEST(RunLoadTest, ASilentServerTimesOutAndConnectionsAreReopened) {
  ServerBehaviour b;
  b.silent = true;
  TestServer server(b);
  LoadOptions o;
  o.connections = 2;
  o.duration = milliseconds(500);
  o.timeout = milliseconds(150);
  auto r = RunLoad(server.endpoint(), Targets(1), o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->completed, 0u);
  EXPECT_TRUE(r->latency_ms.empty());
  ASSERT_EQ(r->errors.count("timeout"), 1u);
  EXPECT_GE(r->errors.at("timeout"), 4u);  // two connections, at least two rounds each
  EXPECT_EQ(r->errors.at("timeout"), r->sent);
  EXPECT_EQ(r->errors.size(), 1u);
  EXPECT_GE(server.accepts(), 4);
  EXPECT_EQ(static_cast<uint64_t>(server.requests()), r->sent);
}

TEST(RunLoadTest, ServerClosingAfterEachAnswerIsReconnectedTo) {
  ServerBehaviour b;
  b.close_each = true;
  TestServer server(b);
  LoadOptions o;
  o.connections = 3;
  o.duration = milliseconds(400);
  auto r = RunLoad(server.endpoint(), Targets(2), o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GT(r->completed, 10u);
  EXPECT_EQ(r->succeeded, r->completed);
  EXPECT_TRUE(r->errors.empty()) << r->errors.begin()->first;
  // One connection per request (and the three opened before the clock).
  EXPECT_GE(static_cast<uint64_t>(server.accepts()), r->completed);
  EXPECT_LE(static_cast<uint64_t>(server.accepts()), r->completed + 3);
}

TEST(RunLoadTest, ServerClosingWithoutAnswerIsClosed) {
  ServerBehaviour b;
  b.drop = true;
  TestServer server(b);
  LoadOptions o;
  o.connections = 2;
  o.duration = milliseconds(200);
  auto r = RunLoad(server.endpoint(), Targets(1), o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->completed, 0u);
  ASSERT_GT(r->errors.count("closed"), 0u);
  EXPECT_EQ(r->errors.at("closed"), r->sent);
}

TEST(RunLoadTest, UnavailableWhenNothingListens) {
  uint16_t port = 0;
  {
    asio::io_context ioc;
    tcp::acceptor probe(ioc, {asio::ip::make_address("127.0.0.1"), 0});
    port = probe.local_endpoint().port();
  }
  LoadOptions o;
  o.connections = 3;
  o.duration = milliseconds(200);
  auto r = RunLoad({.host = "127.0.0.1", .port = port, .base_path = ""}, Targets(1), o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(), HasSubstr("connect"));
}

TEST(RunLoadTest, BadOptionsAreInvalidArguments) {
  TestServer server;
  const Endpoint e = server.endpoint();
  auto invalid = [&](const Workload& w, const LoadOptions& o) {
    auto r = RunLoad(e, w, o);
    return !r.ok() && r.status().code() == StatusCode::kInvalidArgument;
  };
  LoadOptions ok;
  ok.duration = milliseconds(100);
  EXPECT_TRUE(invalid(Workload{}, ok));
  LoadOptions o = ok;
  o.connections = 0;
  EXPECT_TRUE(invalid(Targets(1), o));
  o = ok;
  o.threads = 0;
  EXPECT_TRUE(invalid(Targets(1), o));
  o = ok;
  o.rate = -1;
  EXPECT_TRUE(invalid(Targets(1), o));
  o = ok;
  o.rate = std::nan("");
  EXPECT_TRUE(invalid(Targets(1), o));
  o = ok;
  o.duration = milliseconds(0);
  EXPECT_TRUE(invalid(Targets(1), o));
  o = ok;
  o.timeout = milliseconds(0);
  EXPECT_TRUE(invalid(Targets(1), o));
  EXPECT_EQ(server.accepts(), 0);  // rejected before connecting
}

}  // namespace
}  // namespace hasivu::bench
