// The server's tracing, access log and first request, over real loopback sockets: traceparent in
// and out (error answers included), span totals and trace ids in the access log line, the
// asynchronous log under a stuck sink, and the first-request hook and histogram exclusion (and
// the first request handed on when its answer is never written).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "http/server.h"
#include "http/testing/raw_client.h"
#include "metrics/trace.h"

namespace hasivu::http {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;
using testing::Client;

constexpr std::string_view kClientTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr std::string_view kClientSpan = "00f067aa0ba902b7";
const std::string kClientTraceparent =
    "00-" + std::string(kClientTrace) + "-" + std::string(kClientSpan) + "-01";

std::string Get(std::string_view path, std::string_view extra_headers = "") {
  return "GET " + std::string(path) + " HTTP/1.1\r\nHost: t\r\n" + std::string(extra_headers) +
         "\r\n";
}

std::string TraceparentHeader(std::string_view value) {
  return "traceparent: " + std::string(value) + "\r\n";
}

Response Text(std::string body) {
  Response response;
  response.content_type = "text/plain";
  response.body = std::move(body);
  return response;
}

// The parts of a traceparent the server answered with (empty strings when absent or invalid).
struct Answered {
  std::string trace_id, span_id, flags;
};
Answered Parts(const Client::Response& response) {
  const std::string value = response.Header("traceparent");
  if (!metrics::ParseTraceparent(value) || value.size() != 55 || value.substr(0, 3) != "00-") {
    return {};
  }
  return {value.substr(3, 32), value.substr(36, 16), value.substr(53, 2)};
}

// A sink that keeps every line, and while closed holds the writer thread inside the sink.
class TestSink {
 public:
  AccessLogSink sink() {
    return [this](std::span<const std::string> lines) {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return open_; });
      lines_.insert(lines_.end(), lines.begin(), lines.end());
    };
  }
  void set_open(bool open) {
    {
      std::lock_guard lock(mu_);
      open_ = open;
    }
    cv_.notify_all();
  }
  std::vector<std::string> lines() {
    std::lock_guard lock(mu_);
    return lines_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = true;
  std::vector<std::string> lines_;
};

// The value of "key" in a flat JSON line: a string's contents, or a number or literal as written;
// nullopt when the key is absent.
std::optional<std::string> Field(const std::string& line, const std::string& key) {
  const std::string needle = "\"" + key + "\":";
  const size_t at = line.find(needle);
  if (at == std::string::npos) return std::nullopt;
  size_t start = at + needle.size();
  if (line[start] == '"') {
    ++start;
    return line.substr(start, line.find('"', start) - start);
  }
  const size_t end = line.find_first_of(",}", start);
  return line.substr(start, end - start);
}

class ServerTraceTest : public ::testing::Test {
 protected:
  ServerTraceTest() : registry_(metrics::NewRegistry()) {
    settings_.host = "127.0.0.1";
    settings_.port = 0;
    settings_.io_threads = 2;
    settings_.blocking_threads = 2;
    settings_.max_body_bytes = 1024;
    settings_.access_log = true;
    settings_.access_log_sink = sink_.sink();
    settings_.shutdown_grace = milliseconds(5000);

    Add("GET", "/hello", [](Request&) { return Text("hello"); });
    // The handler's view of the current request, as an outgoing call would send it.
    Add("GET", "/current", [](Request&) {
      const std::optional<metrics::TraceContext> current = metrics::CurrentTrace();
      return Text(current ? metrics::FormatTraceparent(*current) : "none");
    });
    auto spans = [](Request&) {
      metrics::AddSpanTime(metrics::SpanKind::kDb, std::chrono::microseconds(1500));
      metrics::AddSpanTime(metrics::SpanKind::kDb, std::chrono::microseconds(1250));
      metrics::AddSpanTime(metrics::SpanKind::kGateway, std::chrono::nanoseconds(42'000'000));
      return Text("spans");
    };
    Add("GET", "/spans", spans, {.name = "spans"});
    Add("GET", "/spans-blocking", spans, {.blocking = true, .name = "spans-blocking"});
  }

  ~ServerTraceTest() override {
    sink_.set_open(true);
    StopServer();
  }

  void Add(std::string method, std::string pattern, Handler handler, RouteOptions options = {}) {
    ASSERT_TRUE(
        router_.Add(std::move(method), std::move(pattern), std::move(handler), std::move(options))
            .ok());
  }

  void StartServer() {
    auto server = Server::Create(settings_, router_, nullptr, *registry_);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    ASSERT_TRUE(server_->Start().ok());
  }

  // Stops the server; every accepted access log line has reached the sink once this returns.
  void StopServer() {
    if (!server_) return;
    server_->Stop();
    server_->Wait();
  }

  uint16_t port() const { return server_->port(); }

  uint64_t CounterValue(const std::string& name) { return registry_->GetCounter(name, "").Value(); }

  ServerSettings settings_;
  Router router_;
  TestSink sink_;
  metrics::RegistryPtr registry_;
  std::unique_ptr<Server> server_;
};

TEST_F(ServerTraceTest, ContinuesTheClientsTraceWithASpanOfItsOwn) {
  StartServer();
  Client client(port());
  const Client::Response response =
      client.Request(Get("/hello", TraceparentHeader(kClientTraceparent)));
  ASSERT_EQ(response.status, 200);
  const Answered answered = Parts(response);
  EXPECT_EQ(answered.trace_id, kClientTrace);
  EXPECT_FALSE(answered.span_id.empty());
  EXPECT_NE(answered.span_id, kClientSpan);
  EXPECT_EQ(answered.flags, "01");

  // The flags come along as sent; the handler sees the server's span as current.
  const std::string unsampled =
      "00-" + std::string(kClientTrace) + "-" + std::string(kClientSpan) + "-00";
  const Client::Response current = client.Request(Get("/current", TraceparentHeader(unsampled)));
  EXPECT_EQ(current.body, current.Header("traceparent"));
  EXPECT_EQ(Parts(current).trace_id, kClientTrace);
  EXPECT_EQ(Parts(current).flags, "00");

  // A later version is continued and answered as version 00.
  const Client::Response future = client.Request(
      Get("/hello", TraceparentHeader("01-" + std::string(kClientTrace) + "-" +
                                      std::string(kClientSpan) + "-01-future-field")));
  EXPECT_EQ(Parts(future).trace_id, kClientTrace);
}

TEST_F(ServerTraceTest, StartsANewTraceWhenTheClientSentNoneOrAnInvalidOne) {
  StartServer();
  Client client(port());
  const Answered first = Parts(client.Request(Get("/hello")));
  const Answered second = Parts(client.Request(Get("/hello")));
  ASSERT_FALSE(first.trace_id.empty());
  ASSERT_FALSE(second.trace_id.empty());
  EXPECT_NE(first.trace_id, second.trace_id);
  EXPECT_EQ(first.flags, "01");

  const std::vector<std::string> invalid = {
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  // uppercase
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  // zero trace id
      "ff-" + std::string(kClientTrace) + "-" + std::string(kClientSpan) + "-01",
      kClientTraceparent + "-extra",  // version 00 with more after the flags
  };
  for (const std::string& value : invalid) {
    SCOPED_TRACE(value);
    const Client::Response response = client.Request(Get("/hello", TraceparentHeader(value)));
    ASSERT_EQ(response.status, 200);
    const Answered answered = Parts(response);
    ASSERT_FALSE(answered.trace_id.empty());
    EXPECT_NE(answered.trace_id, kClientTrace);
    EXPECT_NE(answered.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  }
  // Two traceparent headers: which one to believe is unknown, so neither is.
  const Client::Response doubled = client.Request(
      Get("/hello", TraceparentHeader(kClientTraceparent) + TraceparentHeader(kClientTraceparent)));
  ASSERT_FALSE(Parts(doubled).trace_id.empty());
  EXPECT_NE(Parts(doubled).trace_id, kClientTrace);
}

TEST_F(ServerTraceTest, ErrorAnswersOfTheServerCarryTraceparentToo) {
  StartServer();
  Client client(port());
  const Client::Response not_found =
      client.Request(Get("/nope", TraceparentHeader(kClientTraceparent)));
  EXPECT_EQ(not_found.status, 404);
  EXPECT_EQ(Parts(not_found).trace_id, kClientTrace);
  const Client::Response not_allowed = client.Request(
      "DELETE /hello HTTP/1.1\r\nHost: t\r\n" + TraceparentHeader(kClientTraceparent) + "\r\n");
  EXPECT_EQ(not_allowed.status, 405);
  EXPECT_EQ(Parts(not_allowed).trace_id, kClientTrace);

  // The head is read before the body is refused, so the client's trace is still continued.
  const Client::Response too_large =
      client.Request("POST /hello HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n" +
                     TraceparentHeader(kClientTraceparent) + "Content-Length: 5000\r\n\r\n");
  EXPECT_EQ(too_large.status, 413);
  EXPECT_EQ(Parts(too_large).trace_id, kClientTrace);

  Client garbage(port());
  const Client::Response bad = garbage.Request("NOT HTTP AT ALL\r\n\r\n");
  EXPECT_EQ(bad.status, 400);
  EXPECT_FALSE(Parts(bad).trace_id.empty());
}

TEST_F(ServerTraceTest, AConnectionTurnedAwayGetsATraceparentToo) {
  settings_.max_connections = 1;
  StartServer();
  Client client(port());
  ASSERT_EQ(client.Request(Get("/hello")).status, 200);
  // Over the connection cap: answered 503 before any request is read, on a new trace.
  Client turned_away(port());
  const Client::Response busy = turned_away.Read();
  EXPECT_EQ(busy.status, 503);
  EXPECT_FALSE(Parts(busy).trace_id.empty());
}

TEST_F(ServerTraceTest, AccessLogLinesCarryTheTraceAndTheSpanTotals) {
  StartServer();
  Client client(port());
  const Client::Response inline_spans =
      client.Request(Get("/spans", TraceparentHeader(kClientTraceparent)));
  const Client::Response pool_spans = client.Request(Get("/spans-blocking"));
  const Client::Response plain = client.Request(Get("/hello"));
  ASSERT_EQ(inline_spans.status, 200);
  ASSERT_EQ(pool_spans.status, 200);
  ASSERT_EQ(plain.status, 200);
  StopServer();

  const std::vector<std::string> lines = sink_.lines();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(CounterValue("hasivu_access_log_lines_total"), 3u);
  EXPECT_EQ(CounterValue("hasivu_access_log_dropped_total"), 0u);

  // The handler's spans, whether it ran on the I/O thread or on the blocking pool.
  for (size_t i : {0u, 1u}) {
    SCOPED_TRACE(lines[i]);
    EXPECT_EQ(Field(lines[i], "db_ms"), "2.750");
    EXPECT_EQ(Field(lines[i], "db_calls"), "2");
    EXPECT_EQ(Field(lines[i], "cache_ms"), "0.000");
    EXPECT_EQ(Field(lines[i], "cache_calls"), "0");
    EXPECT_EQ(Field(lines[i], "gateway_ms"), "42.000");
    EXPECT_EQ(Field(lines[i], "gateway_calls"), "1");
  }
  EXPECT_EQ(Field(lines[0], "trace_id"), kClientTrace);
  EXPECT_EQ(Field(lines[0], "span_id"), Parts(inline_spans).span_id);
  EXPECT_EQ(Field(lines[0], "parent_span_id"), kClientSpan);
  EXPECT_EQ(Field(lines[0], "cold"), "true");
  EXPECT_EQ(Field(lines[0], "path"), "/spans");

  EXPECT_EQ(Field(lines[1], "trace_id"), Parts(pool_spans).trace_id);
  EXPECT_EQ(Field(lines[1], "span_id"), Parts(pool_spans).span_id);
  EXPECT_FALSE(Field(lines[1], "parent_span_id").has_value());  // the client sent none
  EXPECT_FALSE(Field(lines[1], "cold").has_value());

  EXPECT_EQ(Field(lines[2], "db_calls"), "0");
  EXPECT_EQ(Field(lines[2], "db_ms"), "0.000");
  EXPECT_EQ(Field(lines[2], "gateway_calls"), "0");
  EXPECT_EQ(Field(lines[2], "status"), "200");
  EXPECT_FALSE(Field(lines[2], "cold").has_value());
}

// A path is the client's bytes: quotes, backslashes and bytes outside ASCII are escaped, so the
// line stays one valid JSON object, and the text around them is kept whole.
TEST_F(ServerTraceTest, AccessLogLinesEscapeWhatThePathCarries) {
  StartServer();
  Client client(port());
  const Client::Response odd = client.Request(Get("/a\"b\\c/\xc3\xa9/end"));
  const Client::Response plain = client.Request(Get("/hello"));
  ASSERT_EQ(odd.status, 404);
  ASSERT_EQ(plain.status, 200);
  StopServer();

  const std::vector<std::string> lines = sink_.lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find(R"("path":"/a\"b\\c/\u00c3\u00a9/end","status":404,)"), std::string::npos)
      << lines[0];
  EXPECT_NE(lines[1].find(R"("method":"GET","path":"/hello","status":200,)"), std::string::npos)
      << lines[1];
  for (const std::string& line : lines) {
    EXPECT_EQ(line.front(), '{') << line;
    EXPECT_EQ(line.back(), '}') << line;
    EXPECT_EQ(line.find('\n'), std::string::npos) << line;
  }
}

TEST_F(ServerTraceTest, AStuckLogSinkStallsNoRequestAndLosesOnlyWhatItCounts) {
  settings_.access_log_queue_lines = 4;
  settings_.io_threads = 1;
  StartServer();
  sink_.set_open(false);  // the writer thread blocks inside the sink on the first batch
  constexpr int kRequests = 40;
  Client client(port());
  int ok = 0;
  for (int i = 0; i < kRequests; ++i) ok += client.Request(Get("/hello")).status == 200;
  EXPECT_EQ(ok, kRequests);
  // At most one batch (<= 4 lines) is stuck in the sink and 4 more wait in the queue.
  EXPECT_GE(CounterValue("hasivu_access_log_dropped_total"), uint64_t{kRequests - 8});
  EXPECT_EQ(CounterValue("hasivu_access_log_lines_total"), 0u);

  sink_.set_open(true);
  StopServer();
  const uint64_t written = sink_.lines().size();
  EXPECT_GE(written, 1u);
  EXPECT_EQ(CounterValue("hasivu_access_log_lines_total"), written);
  EXPECT_EQ(written + CounterValue("hasivu_access_log_dropped_total"), uint64_t{kRequests});
}

TEST_F(ServerTraceTest, AnEmptyLogQueueIsRefused) {
  ServerSettings bad = settings_;
  bad.access_log_queue_lines = 0;
  EXPECT_EQ(Server::Create(bad, router_, nullptr, *registry_).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(ServerTraceTest, FirstRequestHookFiresOnceAndThatRequestIsNotWarmLatency) {
  std::mutex mu;
  std::vector<FirstRequest> calls;
  settings_.on_first_request = [&](const FirstRequest& first) {
    std::lock_guard lock(mu);
    calls.push_back(first);
  };
  StartServer();
  const steady_clock::time_point before = steady_clock::now();
  {
    Client client(port());
    ASSERT_EQ(client.Request(Get("/hello")).status, 200);
    ASSERT_EQ(client.Request(Get("/hello")).status, 200);
  }
  Client other(port());
  ASSERT_EQ(other.Request(Get("/nope")).status, 404);
  ASSERT_EQ(other.Request(Get("/hello")).status, 200);
  StopServer();
  const steady_clock::time_point after = steady_clock::now();

  std::lock_guard lock(mu);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].route, "/hello");
  EXPECT_EQ(calls[0].status, 200u);
  EXPECT_LE(before, calls[0].first_byte);
  EXPECT_LE(calls[0].first_byte, calls[0].last_byte_written);
  EXPECT_LE(calls[0].last_byte_written, after);

  auto& latency = registry_->GetHistogram("hasivu_http_request_duration_seconds", "",
                                          {{"route", "/hello"}}, 1e-6);
  EXPECT_EQ(latency.Snapshot().count, 2u);  // three /hello requests, the first one cold
  EXPECT_EQ(registry_
                ->GetCounter("hasivu_http_requests_total", "",
                             {{"route", "/hello"}, {"method", "GET"}, {"class", "2xx"}})
                .Value(),
            3u);  // but every request is counted

  const std::vector<std::string> lines = sink_.lines();
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(std::count_if(lines.begin(), lines.end(),
                          [](const std::string& line) { return Field(line, "cold") == "true"; }),
            1);
  EXPECT_EQ(Field(lines[0], "cold"), "true");
}

TEST_F(ServerTraceTest, TheFirstRequestMayBeAnErrorAnswer) {
  std::optional<FirstRequest> seen;
  std::mutex mu;
  settings_.on_first_request = [&](const FirstRequest& first) {
    std::lock_guard lock(mu);
    seen = first;
  };
  StartServer();
  Client client(port());
  ASSERT_EQ(client.Request(Get("/nope")).status, 404);
  ASSERT_EQ(client.Request(Get("/hello")).status, 200);
  StopServer();
  std::lock_guard lock(mu);
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->route, "unmatched");
  EXPECT_EQ(seen->status, 404u);
  auto& latency = registry_->GetHistogram("hasivu_http_request_duration_seconds", "",
                                          {{"route", "/hello"}}, 1e-6);
  EXPECT_EQ(latency.Snapshot().count, 1u);
}

TEST_F(ServerTraceTest, AFirstRequestWhoseAnswerIsNeverWrittenGivesWayToTheNext) {
  std::vector<FirstRequest> calls;
  std::mutex mu;
  settings_.on_first_request = [&](const FirstRequest& first) {
    std::lock_guard lock(mu);
    calls.push_back(first);
  };
  std::promise<void> entered;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  Add("GET", "/gated",
      [&entered, released](Request&) {
        entered.set_value();
        released.wait();
        return Text("late");
      },
      {.blocking = true, .name = "gated"});
  StartServer();

  // The first client asks, then resets its connection while the handler runs.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  const std::string request = "GET /gated HTTP/1.1\r\nHost: t\r\n\r\n";
  ASSERT_EQ(::send(fd, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
  entered.get_future().wait();
  const linger reset{1, 0};
  ASSERT_EQ(::setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset)), 0);
  ::close(fd);
  release.set_value();

  // Once that connection is gone, the next request is the cold one.
  for (int attempt = 0; attempt < 200; ++attempt) {
    Client client(port());
    ASSERT_EQ(client.Request(Get("/hello")).status, 200);
    std::lock_guard lock(mu);
    if (!calls.empty()) break;
  }
  StopServer();
  std::lock_guard lock(mu);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].status, 200u);
  EXPECT_NE(calls[0].route, "gated");
  EXPECT_LE(calls[0].first_byte, calls[0].last_byte_written);
}

}  // namespace
}  // namespace hasivu::http
