// Hostile and broken clients against the HTTP server over real loopback sockets: each case of
// server.h's "Limit hits" table gets its documented answer (408, 413, 431, 400 or a closed
// socket) and moves its hasivu_http_limit_hits_total{reason} by one. server_test.cc covers the
// ordinary behaviour; reliability scenario 7 (tests/reliability/hostile_test.cc) runs these cases
// at once against `hasivu serve` while a normal client measures its latency.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "http/server.h"
#include "http/testing/raw_client.h"

namespace hasivu::http {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

using testing::Client;

// Larger than what the socket buffers of a client that reads nothing can take in.
constexpr size_t kBigBody = size_t{16} << 20;

std::string Get(std::string_view path, std::string_view extra_headers = "") {
  return "GET " + std::string(path) + " HTTP/1.1\r\nHost: t\r\n" + std::string(extra_headers) +
         "\r\n";
}

std::string ErrorCode(const Client::Response& response) {
  const std::string key = R"("code":")";
  const size_t at = response.body.find(key);
  if (at == std::string::npos) return "";
  const size_t start = at + key.size();
  return response.body.substr(start, response.body.find('"', start) - start);
}

Response Text(std::string body) {
  Response response;
  response.content_type = "text/plain";
  response.body = std::move(body);
  return response;
}

// A client that sends and never reads, with small socket buffers so that the server's writes to
// it stall early.
class NonReadingClient {
 public:
  explicit NonReadingClient(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    const int small = 4096;  // before connect, so the advertised window is small too
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~NonReadingClient() { ::close(fd_); }
  NonReadingClient(const NonReadingClient&) = delete;
  NonReadingClient& operator=(const NonReadingClient&) = delete;

  bool Send(std::string_view data) {
    if (!connected_) return false;
    return ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size());
  }
  // Reads (and discards) until the connection ends: true when it ended (EOF or reset) before
  // `limit` passed without data, and the bytes read in *received.
  bool DrainsToTheEnd(milliseconds limit, size_t* received) {
    *received = 0;
    char chunk[65536];
    while (true) {
      pollfd pfd{fd_, POLLIN, 0};
      if (::poll(&pfd, 1, static_cast<int>(limit.count())) <= 0) return false;
      const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
      if (n == 0) return true;
      if (n < 0) return errno == ECONNRESET;
      *received += static_cast<size_t>(n);
    }
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

class HostileTest : public ::testing::Test {
 protected:
  HostileTest() : registry_(metrics::NewRegistry()) {
    settings_.host = "127.0.0.1";
    settings_.port = 0;
    settings_.io_threads = 2;
    settings_.blocking_threads = 2;
    settings_.access_log = false;
    settings_.shutdown_grace = milliseconds(5000);
    settings_.max_body_bytes = 1024;
    settings_.max_header_bytes = 1024;
    settings_.on_first_request = [this](const FirstRequest& first) {
      first_status_.store(static_cast<int>(first.status));
    };
    Add("GET", "/hello", [](Request&) { return Text("hello"); });
    Add("POST", "/echo", [](Request& request) { return Text(request.body); });
    Add("GET", "/big", [](Request&) { return Text(std::string(kBigBody, 'b')); });
    Add("GET", "/slow",
        [](Request&) {
          std::this_thread::sleep_for(milliseconds(50));
          return Text("slow");
        },
        {.blocking = true, .name = "slow"});
  }

  ~HostileTest() override {
    if (server_) {
      server_->Stop();
      server_->Wait();
    }
  }

  void Add(std::string method, std::string pattern, Handler handler, RouteOptions options = {}) {
    ASSERT_TRUE(
        router_.Add(std::move(method), std::move(pattern), std::move(handler), std::move(options))
            .ok());
  }

  static Response RenderError(unsigned status, std::string_view code, std::string_view,
                              const Request&) {
    Response response;
    response.status = status;
    response.body = R"({"success":false,"error":{"code":")" + std::string(code) + R"("}})";
    return response;
  }

  void StartServer() {
    auto server = Server::Create(settings_, router_, &HostileTest::RenderError, *registry_);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    ASSERT_TRUE(server_->Start().ok());
  }

  uint16_t port() const { return server_->port(); }

  uint64_t Hits(const std::string& reason) {
    return registry_->GetCounter("hasivu_http_limit_hits_total", "", {{"reason", reason}}).Value();
  }
  // Every reason but `except` still at 0.
  void ExpectNoOtherHits(const std::string& except) {
    for (const char* reason :
         {"first_byte_timeout", "idle_timeout", "header_timeout", "body_timeout", "write_timeout",
          "header_too_large", "body_too_large", "bad_request", "half_closed", "pipeline_full"}) {
      if (reason != except) {
        EXPECT_EQ(Hits(reason), 0u) << reason;
      }
    }
  }
  // Waits (up to 10 s) for a counter that moves when a timer fires on the server.
  bool WaitForHits(const std::string& reason, uint64_t at_least) {
    const auto deadline = steady_clock::now() + milliseconds(10000);
    while (Hits(reason) < at_least) {
      if (steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(milliseconds(5));
    }
    return true;
  }
  uint64_t Unmatched4xx(const std::string& method) {
    return registry_
        ->GetCounter("hasivu_http_requests_total", "",
                     {{"route", "unmatched"}, {"method", method}, {"class", "4xx"}})
        .Value();
  }

  ServerSettings settings_;
  Router router_;
  metrics::RegistryPtr registry_;
  std::unique_ptr<Server> server_;
  std::atomic<int> first_status_{0};
};

TEST_F(HostileTest, EveryReasonIsInTheMetricsFromTheStart) {
  StartServer();
  const std::string text = registry_->RenderPrometheus();
  for (const char* reason :
       {"first_byte_timeout", "idle_timeout", "header_timeout", "body_timeout", "write_timeout",
        "header_too_large", "body_too_large", "bad_request", "half_closed", "pipeline_full"}) {
    EXPECT_NE(text.find("hasivu_http_limit_hits_total{reason=\"" + std::string(reason) + "\"} 0"),
              std::string::npos)
        << reason;
  }
}

// Slowloris: a head that keeps trickling in is still answered 408 once header_timeout has passed
// since its first byte (the clock is for the whole head, not between reads).
TEST_F(HostileTest, AHeadStillArrivingAtTheHeaderTimeoutIsAnswered408ThenClosed) {
  settings_.header_timeout = milliseconds(300);
  StartServer();
  Client client(port());
  ASSERT_TRUE(client.Send("GET /hello HTTP/1.1\r\nHost: t\r\n"));
  std::atomic<bool> stop{false};
  std::thread trickle([&] {
    for (int i = 0; i < 200 && !stop; ++i) {
      if (!client.Send("X-Slow-" + std::to_string(i) + ": 1\r\n")) return;
      std::this_thread::sleep_for(milliseconds(50));
    }
  });
  Client::Response response = client.Read();
  stop = true;
  trickle.join();
  EXPECT_EQ(response.status, 408);
  EXPECT_EQ(ErrorCode(response), "REQUEST_TIMEOUT");
  EXPECT_EQ(response.Header("connection"), "close");
  EXPECT_TRUE(client.ClosedByPeer());
  EXPECT_EQ(Hits("header_timeout"), 1u);
  ExpectNoOtherHits("header_timeout");
  EXPECT_EQ(Unmatched4xx("GET"), 1u);
}

// Heads that time out in the same instant (a slowloris burst) are paced, one per slot of the
// I/O thread: each still gets its 408, and the thread goes on serving in between.
TEST_F(HostileTest, HeadsTimingOutTogetherAreEachAnswered408WhileOthersAreServed) {
  settings_.io_threads = 1;
  settings_.header_timeout = milliseconds(300);
  StartServer();
  constexpr int kSlow = 200;
  std::vector<std::unique_ptr<Client>> slow;
  for (int i = 0; i < kSlow; ++i) {
    slow.push_back(std::make_unique<Client>(port()));
    ASSERT_TRUE(slow.back()->Send("GET /hello HTTP/1.1\r\nHost: t\r\n"));
  }
  Client probe(port());
  int served = 0;
  while (Hits("header_timeout") < kSlow) {
    ASSERT_EQ(probe.Request(Get("/hello")).status, 200);
    ++served;
    ASSERT_LT(served, 1000000);
  }
  for (auto& client : slow) {
    Client::Response response = client->Read();
    EXPECT_EQ(response.status, 408);
    EXPECT_TRUE(client->ClosedByPeer());
  }
  EXPECT_EQ(Hits("header_timeout"), static_cast<uint64_t>(kSlow));
  ExpectNoOtherHits("header_timeout");
}

TEST_F(HostileTest, ABodyNotCompleteAtTheBodyTimeoutIsAnswered408) {
  settings_.body_timeout = milliseconds(300);
  StartServer();
  Client client(port());
  ASSERT_TRUE(
      client.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                  "Content-Length: 100\r\n\r\n{\"only\":\"part"));
  Client::Response response = client.Read();
  EXPECT_EQ(response.status, 408);
  EXPECT_EQ(ErrorCode(response), "REQUEST_TIMEOUT");
  EXPECT_EQ(response.Header("connection"), "close");
  EXPECT_TRUE(client.ClosedByPeer());
  EXPECT_EQ(Hits("body_timeout"), 1u);
  ExpectNoOtherHits("body_timeout");
}

// The 408 keeps its place behind the answers already owed on the connection.
TEST_F(HostileTest, A408ComesAfterTheAnswersToRequestsPipelinedBeforeIt) {
  settings_.header_timeout = milliseconds(300);
  StartServer();
  Client client(port());
  ASSERT_TRUE(client.Send(Get("/slow") + Get("/hello") + "GET /hel"));
  EXPECT_EQ(client.Read().body, "slow");
  EXPECT_EQ(client.Read().body, "hello");
  EXPECT_EQ(client.Read().status, 408);
  EXPECT_TRUE(client.ClosedByPeer());
  EXPECT_EQ(Hits("header_timeout"), 1u);
}

TEST_F(HostileTest, A408IsNeverTheServersFirstRequest) {
  settings_.header_timeout = milliseconds(300);
  StartServer();
  {
    Client slow(port());
    ASSERT_TRUE(slow.Send("GET /hel"));
    EXPECT_EQ(slow.Read().status, 408);
  }
  EXPECT_EQ(first_status_.load(), 0);
  Client client(port());
  EXPECT_EQ(client.Request(Get("/hello")).status, 200);
  // The hook runs once the server's write completed, which the client cannot see.
  const auto deadline = steady_clock::now() + milliseconds(5000);
  while (first_status_.load() == 0 && steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  EXPECT_EQ(first_status_.load(), 200);
}

// A slow reader: the response does not fit in the socket buffers of a client that reads
// nothing, so the write stalls and body_timeout (which bounds each write) cuts the connection.
TEST_F(HostileTest, AClientThatDoesNotReadALargeResponseIsCutAtTheWriteTimeout) {
  settings_.body_timeout = milliseconds(300);
  StartServer();
  NonReadingClient reader(port());
  ASSERT_TRUE(reader.Send(Get("/big")));
  ASSERT_TRUE(WaitForHits("write_timeout", 1));
  size_t received = 0;
  EXPECT_TRUE(reader.DrainsToTheEnd(milliseconds(5000), &received));
  EXPECT_LT(received, kBigBody);
  ExpectNoOtherHits("write_timeout");
  // The server is not held up by it.
  Client other(port());
  EXPECT_EQ(other.Request(Get("/hello")).status, 200);
}

// A head times out while the connection's write is stalled: the client is not reading, so no 408
// could reach it; the connection is cut.
TEST_F(HostileTest, AHeaderTimeoutDuringAStalledWriteClosesWithoutAnAnswer) {
  settings_.header_timeout = milliseconds(300);
  settings_.body_timeout = milliseconds(20000);
  StartServer();
  NonReadingClient reader(port());
  ASSERT_TRUE(reader.Send(Get("/big") + "GET /hel"));
  ASSERT_TRUE(WaitForHits("header_timeout", 1));
  size_t received = 0;
  EXPECT_TRUE(reader.DrainsToTheEnd(milliseconds(5000), &received));
  EXPECT_LT(received, kBigBody);
  ExpectNoOtherHits("header_timeout");
  EXPECT_EQ(Unmatched4xx("GET"), 0u);
}

TEST_F(HostileTest, AnOversizedHeadIsAnswered431) {
  StartServer();
  Client client(port());
  Client::Response response =
      client.Request(Get("/hello", "X-Big: " + std::string(2048, 'h') + "\r\n"));
  EXPECT_EQ(response.status, 431);
  EXPECT_EQ(ErrorCode(response), "HEADERS_TOO_LARGE");
  EXPECT_EQ(response.Header("connection"), "close");
  EXPECT_TRUE(client.ClosedByPeer());
  EXPECT_EQ(Hits("header_too_large"), 1u);
  ExpectNoOtherHits("header_too_large");
}

TEST_F(HostileTest, AnOversizedBodyIsAnswered413WhetherAnnouncedOrChunked) {
  StartServer();
  {
    Client client(port());
    Client::Response response = client.Request(
        "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        "Content-Length: 1000000\r\n\r\n{");
    EXPECT_EQ(response.status, 413);
    EXPECT_EQ(ErrorCode(response), "PAYLOAD_TOO_LARGE");
    EXPECT_TRUE(client.ClosedByPeer());
  }
  {
    Client client(port());
    std::string chunked =
        "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 4; ++i) chunked += "200\r\n" + std::string(512, 'x') + "\r\n";
    Client::Response response = client.Request(chunked);
    EXPECT_EQ(response.status, 413);
    EXPECT_TRUE(client.ClosedByPeer());
  }
  EXPECT_EQ(Hits("body_too_large"), 2u);
  ExpectNoOtherHits("body_too_large");
}

TEST_F(HostileTest, MalformedChunkedFramingAndGarbageAreAnswered400) {
  StartServer();
  const std::string head =
      "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: chunked\r\n\r\n";
  for (const std::string& bad : {
           head + "zz\r\n{}\r\n0\r\n\r\n",      // a chunk size that is not hex
           head + "2\r\n{}XX0\r\n\r\n",         // no CRLF after the chunk's data
           head + "2;\x01\r\n{}\r\n0\r\n\r\n",  // a control character in an extension
           std::string("NOT HTTP AT ALL\r\n\r\n"),
       }) {
    Client client(port());
    Client::Response response = client.Request(bad);
    EXPECT_EQ(response.status, 400) << bad;
    EXPECT_EQ(ErrorCode(response), "BAD_REQUEST") << bad;
    EXPECT_TRUE(client.ClosedByPeer()) << bad;
  }
  EXPECT_EQ(Hits("bad_request"), 4u);
  ExpectNoOtherHits("bad_request");
}

TEST_F(HostileTest, AHalfCloseInsideAHeadOrABodyIsAnswered400) {
  StartServer();
  for (const std::string& partial :
       {std::string("GET /hello HTTP/1.1\r\nHost: t\r\n"),
        std::string("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                    "Content-Length: 10\r\n\r\n{\"a\"")}) {
    Client client(port());
    ASSERT_TRUE(client.Send(partial));
    ASSERT_TRUE(client.ShutdownWrite());
    Client::Response response = client.Read();
    EXPECT_EQ(response.status, 400) << partial;
    EXPECT_EQ(ErrorCode(response), "BAD_REQUEST") << partial;
    EXPECT_TRUE(client.ClosedByPeer()) << partial;
  }
  EXPECT_EQ(Hits("half_closed"), 2u);
  ExpectNoOtherHits("half_closed");
}

// A half-close after whole requests is ordinary HTTP: answered, closed, not counted.
TEST_F(HostileTest, AHalfCloseBetweenRequestsIsAnsweredAndNotCounted) {
  StartServer();
  Client client(port());
  ASSERT_TRUE(client.Send(Get("/slow") + Get("/hello")));
  ASSERT_TRUE(client.ShutdownWrite());
  EXPECT_EQ(client.Read().body, "slow");
  EXPECT_EQ(client.Read().body, "hello");
  EXPECT_TRUE(client.ClosedByPeer());
  ExpectNoOtherHits("");
}

TEST_F(HostileTest, SilentAndIdleConnectionsAreClosedWithoutAnAnswer) {
  settings_.first_byte_timeout = milliseconds(200);
  settings_.idle_timeout = milliseconds(200);
  StartServer();
  Client silent(port());
  ASSERT_TRUE(silent.connected());
  EXPECT_EQ(silent.Read().status, 0);  // nothing came, and the connection ended
  EXPECT_TRUE(silent.ClosedByPeer());
  EXPECT_TRUE(WaitForHits("first_byte_timeout", 1));

  Client idle(port());
  EXPECT_EQ(idle.Request(Get("/hello")).status, 200);
  EXPECT_EQ(idle.Read().status, 0);
  EXPECT_TRUE(WaitForHits("idle_timeout", 1));
  EXPECT_EQ(Hits("first_byte_timeout"), 1u);
  EXPECT_EQ(Hits("header_timeout"), 0u);
}

// A pipelined flood: reading pauses while max_pipelined requests wait, and every request is
// still answered, in order.
TEST_F(HostileTest, APipelinedFloodIsServedInOrderWithReadingPausedAtTheCap) {
  settings_.max_pipelined = 4;
  StartServer();
  Client client(port());
  std::string flood;
  constexpr int kRequests = 200;
  for (int i = 0; i < kRequests; ++i) flood += Get(i % 10 == 0 ? "/slow" : "/hello");
  ASSERT_TRUE(client.Send(flood));
  for (int i = 0; i < kRequests; ++i) {
    Client::Response response = client.Read();
    ASSERT_EQ(response.status, 200) << i;
    ASSERT_EQ(response.body, i % 10 == 0 ? "slow" : "hello") << i;
  }
  // Each /slow holds the queue at the cap until it is answered: at least one pause, at most one
  // per request.
  EXPECT_GE(Hits("pipeline_full"), 1u);
  EXPECT_LE(Hits("pipeline_full"), static_cast<uint64_t>(kRequests));
  ExpectNoOtherHits("pipeline_full");
}

TEST_F(HostileTest, PipeliningBelowTheCapIsNotCounted) {
  StartServer();  // max_pipelined 16
  Client client(port());
  ASSERT_TRUE(client.Send(Get("/slow") + Get("/hello") + Get("/hello")));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(client.Read().status, 200);
  ExpectNoOtherHits("");
}

}  // namespace
}  // namespace hasivu::http
