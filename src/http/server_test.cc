// The HTTP server over real loopback sockets: parsing and limits, keep-alive, timeouts, the
// connection caps, the blocking pool and shutdown (compression is in compression_test.cc). One
// file over 600 lines because every case uses the same raw-socket client and server fixture.
#include "http/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <future>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/blocking.h"
#include "common/deadline.h"
#include "http/testing/raw_client.h"

namespace hasivu::http {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

using testing::Client;

std::string Get(std::string_view path, std::string_view extra_headers = "") {
  return "GET " + std::string(path) + " HTTP/1.1\r\nHost: t\r\n" + std::string(extra_headers) +
         "\r\n";
}

std::string Post(std::string_view path, std::string_view body,
                 std::string_view content_type = "application/json") {
  std::string request = "POST " + std::string(path) + " HTTP/1.1\r\nHost: t\r\n";
  if (!content_type.empty()) request += "Content-Type: " + std::string(content_type) + "\r\n";
  request += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  request += body;
  return request;
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

class ServerTest : public ::testing::Test {
 protected:
  ServerTest() : registry_(metrics::NewRegistry()) {
    settings_.host = "127.0.0.1";
    settings_.port = 0;
    settings_.io_threads = 2;
    settings_.blocking_threads = 2;
    settings_.access_log = false;
    settings_.shutdown_grace = milliseconds(5000);

    Add("GET", "/hello", [](Request&) { return Text("hello"); });
    Add("GET", "/fast", [](Request&) { return Text("fast"); });
    Add("GET", "/slow",
        [](Request&) {
          std::this_thread::sleep_for(milliseconds(50));
          return Text("slow");
        },
        {.blocking = true, .name = "slow"});
    Add("GET", "/sleep",
        [this](Request&) {
          sleep_started_.store(true);
          std::this_thread::sleep_for(milliseconds(300));
          return Text("slept");
        },
        {.blocking = true, .name = ""});
    Add("GET", "/echo/{name}", [](Request& request) {
      return Text(std::string(request.PathParam("name")) + "|" + request.query + "|" +
                  request.path);
    });
    Add("POST", "/echo", [](Request& request) { return Text(request.body); });
    Add("DELETE", "/echo", [](Request&) { return Text("deleted"); });
    Add("GET", "/rid", [](Request& request) { return Text(request.request_id); });
    Add("GET", "/throw",
        [](Request&) -> Response { throw std::runtime_error("secret detail from the handler"); });
    Add("GET", "/headers", [](Request&) {
      Response response = Text("h");
      response.headers.Add("X-Custom", "yes");
      response.headers.Add("X-Bad", "evil\r\nInjected: 1");
      response.headers.Add("Content-Length", "999");
      return response;
    });
  }

  ~ServerTest() override {
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
    auto server = Server::Create(settings_, router_, &ServerTest::RenderError, *registry_);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    ASSERT_TRUE(server_->Start().ok());
    ASSERT_NE(server_->port(), 0);
  }

  uint16_t port() const { return server_->port(); }

  metrics::Counter& RequestCounter(const std::string& route, const std::string& method,
                                   const std::string& status_class) {
    return registry_->GetCounter("hasivu_http_requests_total", "",
                                 {{"route", route}, {"method", method}, {"class", status_class}});
  }

  ServerSettings settings_;
  Router router_;
  metrics::RegistryPtr registry_;
  std::unique_ptr<Server> server_;
  std::atomic<bool> sleep_started_{false};
};

TEST_F(ServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  StartServer();
  Client client(port());
  ASSERT_TRUE(client.connected());
  for (int i = 0; i < 5; ++i) {
    Client::Response response = client.Request(Get("/hello"));
    ASSERT_EQ(response.status, 200) << i;
    EXPECT_EQ(response.body, "hello");
    EXPECT_EQ(response.Header("content-type"), "text/plain");
    EXPECT_EQ(response.Header("content-length"), "5");
    EXPECT_EQ(response.Header("server"), "hasivu");
    EXPECT_FALSE(response.Header("date").empty());
    EXPECT_EQ(response.Header("connection"), "");
  }
  Client::Response echo = client.Request(Post("/echo", R"({"a":1})"));
  EXPECT_EQ(echo.status, 200);
  EXPECT_EQ(echo.body, R"({"a":1})");
}

TEST_F(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
  StartServer();
  Client client(port());
  // The first runs 50 ms on the blocking pool; the others are instant and must wait their turn.
  ASSERT_TRUE(client.Send(Get("/slow") + Get("/fast") + Get("/echo/third")));
  EXPECT_EQ(client.Read().body, "slow");
  EXPECT_EQ(client.Read().body, "fast");
  EXPECT_EQ(client.Read().body, "third||/echo/third");
  // And the connection is still usable.
  EXPECT_EQ(client.Request(Get("/hello")).body, "hello");
}

TEST_F(ServerTest, AHalfClosedClientStillGetsWhatItAskedForThenTheConnectionCloses) {
  StartServer();
  // Two requests in flight (the first slow) when the client finishes sending.
  Client pipelined(port());
  ASSERT_TRUE(pipelined.Send(Get("/slow") + Get("/echo/second")));
  ASSERT_TRUE(pipelined.ShutdownWrite());
  EXPECT_EQ(pipelined.Read().body, "slow");
  EXPECT_EQ(pipelined.Read().body, "second||/echo/second");
  EXPECT_TRUE(pipelined.ClosedByPeer());
  // A keep-alive connection with nothing in flight, half-closed while the server waits for its
  // next request: closed at once, not at the idle timeout.
  Client idle(port());
  EXPECT_EQ(idle.Request(Get("/hello")).body, "hello");
  ASSERT_TRUE(idle.ShutdownWrite());
  const auto start = steady_clock::now();
  EXPECT_TRUE(idle.ClosedByPeer());
  EXPECT_LT(steady_clock::now() - start, milliseconds(4000));
}

TEST_F(ServerTest, ManyPipelinedRequestsBeyondTheReadAheadLimit) {
  settings_.max_pipelined = 2;
  StartServer();
  Client client(port());
  std::string batch;
  for (int i = 0; i < 20; ++i) batch += Get(i % 3 == 0 ? "/slow" : "/echo/" + std::to_string(i));
  ASSERT_TRUE(client.Send(batch));
  for (int i = 0; i < 20; ++i) {
    Client::Response response = client.Read();
    ASSERT_EQ(response.status, 200) << i;
    EXPECT_EQ(response.body,
              i % 3 == 0 ? "slow" : std::to_string(i) + "||/echo/" + std::to_string(i));
  }
}

TEST_F(ServerTest, NotFoundAndMethodNotAllowed) {
  StartServer();
  Client client(port());
  Client::Response missing = client.Request(Get("/nope"));
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(ErrorCode(missing), "NOT_FOUND");
  EXPECT_EQ(missing.Header("content-type"), "application/json");

  Client::Response wrong = client.Request("PUT /echo HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(ErrorCode(wrong), "METHOD_NOT_ALLOWED");
  EXPECT_EQ(wrong.Header("allow"), "DELETE, POST");

  Client::Response wrong_get = client.Request(Post("/hello", "{}"));
  EXPECT_EQ(wrong_get.status, 405);
  EXPECT_EQ(wrong_get.Header("allow"), "GET, HEAD");
  // Still the same connection.
  EXPECT_EQ(client.Request(Get("/hello")).status, 200);
}

TEST_F(ServerTest, HeadHasGetsContentLengthButNoBody) {
  StartServer();
  Client client(port());
  Client::Response head = client.Request("HEAD /hello HTTP/1.1\r\nHost: t\r\n\r\n", true);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.Header("content-length"), "5");
  EXPECT_TRUE(head.body.empty());
  // Had a body been sent, it would now be read as the next status line.
  Client::Response next = client.Request(Get("/fast"));
  EXPECT_EQ(next.status, 200);
  EXPECT_EQ(next.body, "fast");
}

TEST_F(ServerTest, PathIsDecodedAndQueryKeptRaw) {
  StartServer();
  Client client(port());
  EXPECT_EQ(client.Request(Get("/echo/a%20b?x=%20y&z")).body, "a b|x=%20y&z|/echo/a b");
  EXPECT_EQ(client.Request(Get("http://example.com/echo/abs")).body, "abs||/echo/abs");
  for (const char* bad : {"/echo/%zz", "/echo/%2", "/echo/a%00b", "/echo/a%2Fb", "*"}) {
    Client::Response response = client.Request(Get(bad));
    EXPECT_EQ(response.status, 400) << bad;
    EXPECT_EQ(ErrorCode(response), "BAD_REQUEST") << bad;
  }
  EXPECT_EQ(client.Request(Get("/hello")).status, 200);
}

TEST_F(ServerTest, BodyOverTheLimitByContentLength) {
  StartServer();
  Client client(port());
  std::string request =
      "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
      "X-Request-Id: big-1\r\nContent-Length: 70000\r\n\r\n";
  request += std::string(70000, 'x');
  ASSERT_TRUE(client.Send(request));
  Client::Response response = client.Read();
  EXPECT_EQ(response.status, 413);
  EXPECT_EQ(ErrorCode(response), "PAYLOAD_TOO_LARGE");
  EXPECT_EQ(response.Header("connection"), "close");
  EXPECT_EQ(response.Header("x-request-id"), "big-1");
  EXPECT_TRUE(client.ClosedByPeer());
}

TEST_F(ServerTest, BodyExactlyAtTheLimitIsAccepted) {
  StartServer();
  Client client(port());
  const std::string body = "\"" + std::string(65534, 'x') + "\"";
  Client::Response response = client.Request(Post("/echo", body));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body.size(), 65536u);
}

TEST_F(ServerTest, ChunkedBodyOverTheLimit) {
  StartServer();
  Client client(port());
  ASSERT_TRUE(
      client.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n"));
  const std::string chunk(8192, 'y');
  bool sent = true;
  for (int i = 0; i < 9 && sent; ++i) sent = client.Send("2000\r\n" + chunk + "\r\n");
  Client::Response response = client.Read();
  EXPECT_EQ(response.status, 413);
  EXPECT_EQ(ErrorCode(response), "PAYLOAD_TOO_LARGE");
  EXPECT_TRUE(client.ClosedByPeer());
}

TEST_F(ServerTest, ChunkedBodyUnderTheLimitWorks) {
  StartServer();
  Client client(port());
  Client::Response response = client.Request(
      "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: chunked\r\n\r\n3\r\n{\"a\r\n4\r\n\":1}\r\n0\r\n\r\n");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, R"({"a":1})");
}

TEST_F(ServerTest, BodyMustBeJson) {
  StartServer();
  Client client(port());
  Client::Response text = client.Request(Post("/echo", "hi", "text/plain"));
  EXPECT_EQ(text.status, 415);
  EXPECT_EQ(ErrorCode(text), "UNSUPPORTED_MEDIA_TYPE");
  Client::Response missing = client.Request(Post("/echo", "{}", ""));
  EXPECT_EQ(missing.status, 415);
  Client::Response lookalike = client.Request(Post("/echo", "{}", "application/jsonx"));
  EXPECT_EQ(lookalike.status, 415);
  // The connection survives a 415, and parameters and case are fine.
  Client::Response ok = client.Request(Post("/echo", "{}", " Application/JSON ; charset=utf-8"));
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "{}");
  // No body, no Content-Type needed.
  EXPECT_EQ(client.Request("DELETE /echo HTTP/1.1\r\nHost: t\r\n\r\n").body, "deleted");
}

TEST_F(ServerTest, GarbageGets400AndClose) {
  StartServer();
  for (const char* garbage :
       {"\x01\x02\x03 nonsense\r\n\r\n", "GET /hello HTTP/9.9\r\n\r\n",
        "GET /hello HTTP/1.1\r\nBad Header\r\n\r\n",
        "POST /echo HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"}) {
    Client client(port());
    Client::Response response = client.Request(garbage);
    EXPECT_EQ(response.status, 400) << garbage;
    EXPECT_EQ(ErrorCode(response), "BAD_REQUEST") << garbage;
    EXPECT_EQ(response.Header("connection"), "close");
    EXPECT_TRUE(client.ClosedByPeer());
  }
}

TEST_F(ServerTest, RequestIdEchoedWhenSaneElseGenerated) {
  StartServer();
  Client client(port());
  Client::Response sane = client.Request(Get("/rid", "X-Request-Id: abc.DEF_123-x\r\n"));
  EXPECT_EQ(sane.body, "abc.DEF_123-x");
  EXPECT_EQ(sane.Header("x-request-id"), "abc.DEF_123-x");

  const std::string too_long(100, 'a');
  for (const std::string& insane : {too_long, std::string("has spaces"), std::string("a/b")}) {
    Client::Response response = client.Request(Get("/rid", "X-Request-Id: " + insane + "\r\n"));
    EXPECT_NE(response.body, insane);
    EXPECT_FALSE(response.body.empty());
    EXPECT_EQ(response.Header("x-request-id"), response.body);
  }
  const std::string first = client.Request(Get("/rid")).body;
  const std::string second = client.Request(Get("/rid")).body;
  EXPECT_NE(first, second);
  EXPECT_LE(first.size(), 64u);
  // Error answers carry one too.
  Client::Response missing = client.Request(Get("/nope", "X-Request-Id: err-1\r\n"));
  EXPECT_EQ(missing.Header("x-request-id"), "err-1");
}

TEST_F(ServerTest, HeaderBlockTooLarge) {
  settings_.max_header_bytes = 4096;
  StartServer();
  Client client(port());
  Client::Response response =
      client.Request(Get("/hello", "X-Big: " + std::string(8000, 'b') + "\r\n"));
  EXPECT_EQ(response.status, 431);
  EXPECT_EQ(ErrorCode(response), "HEADERS_TOO_LARGE");
  EXPECT_FALSE(response.Header("x-request-id").empty());
  EXPECT_TRUE(client.ClosedByPeer());
}

TEST_F(ServerTest, ResponseHeadersAreSanitised) {
  StartServer();
  Client client(port());
  Client::Response response = client.Request(Get("/headers"));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.Header("x-custom"), "yes");
  EXPECT_EQ(response.Header("x-bad"), "");
  EXPECT_EQ(response.Header("injected"), "");
  EXPECT_EQ(response.Header("content-length"), "1");
}

TEST_F(ServerTest, EveryResponseSaysNosniff) {
  settings_.max_connections = 1;
  Add("GET", "/sniffy", [](Request&) {
    Response response = Text("x");
    response.headers.Add("X-Content-Type-Options", "sniff-away");
    return response;
  });
  StartServer();
  Client client(port());
  Client::Response ok = client.Request(Get("/hello"));
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.Header("x-content-type-options"), "nosniff");
  Client::Response missing = client.Request(Get("/nope"));
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.Header("x-content-type-options"), "nosniff");
  Client::Response own = client.Request(Get("/sniffy"));
  EXPECT_EQ(own.Header("x-content-type-options"), "nosniff");  // the handler's copy is dropped
  Client over_cap(port());
  Client::Response rejected = over_cap.Request(Get("/hello"));
  EXPECT_EQ(rejected.status, 503);
  EXPECT_EQ(rejected.Header("x-content-type-options"), "nosniff");
  Client::Response garbage = client.Request("NOT HTTP\r\n\r\n");
  EXPECT_EQ(garbage.status, 400);
  EXPECT_EQ(garbage.Header("x-content-type-options"), "nosniff");
}

TEST_F(ServerTest, AnswersToAuthorizedRequestsArePrivateUnlessTheySayOtherwise) {
  Add("GET", "/no-store", [](Request&) {
    Response response = Text("secret");
    response.headers.Set("Cache-Control", "no-store");
    return response;
  });
  Add("GET", "/unchanged", [](Request&) {
    Response response;
    response.status = 304;
    response.headers.Set("ETag", "\"v1\"");
    return response;
  });
  StartServer();
  Client client(port());
  const std::string auth = "Authorization: Bearer abc\r\n";
  EXPECT_EQ(client.Request(Get("/hello", auth)).Header("cache-control"), "private");
  Client::Response not_modified = client.Request(Get("/unchanged", auth));
  EXPECT_EQ(not_modified.status, 304);
  EXPECT_EQ(not_modified.Header("cache-control"), "private");
  EXPECT_EQ(client.Request(Get("/nope", auth)).Header("cache-control"), "private");
  EXPECT_EQ(client.Request(Get("/no-store", auth)).Header("cache-control"), "no-store");
  EXPECT_EQ(client.Request(Get("/hello")).Header("cache-control"), "");
}

TEST_F(ServerTest, SlowClientIsDisconnectedAfterHeaderTimeout) {
  settings_.header_timeout = milliseconds(300);
  StartServer();
  Client client(port());
  ASSERT_TRUE(client.Send("GET /hel"));
  const auto start = steady_clock::now();
  EXPECT_TRUE(client.ClosedByPeer());
  EXPECT_LT(steady_clock::now() - start, milliseconds(4000));
}

TEST_F(ServerTest, IdleKeepAliveConnectionIsClosed) {
  settings_.idle_timeout = milliseconds(300);
  StartServer();
  Client client(port());
  EXPECT_EQ(client.Request(Get("/hello")).status, 200);
  const auto start = steady_clock::now();
  EXPECT_TRUE(client.ClosedByPeer());
  EXPECT_LT(steady_clock::now() - start, milliseconds(4000));
}

TEST_F(ServerTest, IdleTimeoutDoesNotCutARequestInFlight) {
  settings_.idle_timeout = milliseconds(100);
  StartServer();
  Client client(port());
  // /sleep takes 300 ms, longer than the idle timeout; the connection is busy, not idle.
  Client::Response response = client.Request(Get("/sleep"));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "slept");
}

TEST_F(ServerTest, Http10ClosesUnlessKeepAliveAsked) {
  StartServer();
  {
    Client client(port());
    Client::Response response = client.Request("GET /hello HTTP/1.0\r\n\r\n");
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.Header("connection"), "close");
    EXPECT_TRUE(client.ClosedByPeer());
  }
  {
    Client client(port());
    Client::Response response =
        client.Request("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    EXPECT_EQ(response.Header("connection"), "keep-alive");
    EXPECT_EQ(client.Request("GET /fast HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").body, "fast");
  }
}

TEST_F(ServerTest, ConnectionCloseRequestIsHonoured) {
  StartServer();
  Client client(port());
  Client::Response response = client.Request(Get("/hello", "Connection: close\r\n"));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.Header("connection"), "close");
  EXPECT_TRUE(client.ClosedByPeer());
}

TEST_F(ServerTest, NothingIsAnsweredAfterARequestThatAskedToClose) {
  StartServer();
  Client client(port());
  ASSERT_TRUE(client.Send(Get("/hello", "Connection: close\r\n") + Get("/fast")));
  Client::Response first = client.Read();
  EXPECT_EQ(first.body, "hello");
  EXPECT_EQ(first.Header("connection"), "close");
  EXPECT_EQ(client.Read().status, 0);
}

TEST_F(ServerTest, ExpectContinueGetsAnInterimResponse) {
  StartServer();
  Client client(port());
  ASSERT_TRUE(
      client.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                  "Expect: 100-continue\r\nContent-Length: 2\r\n\r\n"));
  Client::Response interim = client.Read();
  EXPECT_EQ(interim.status, 100);
  ASSERT_TRUE(client.Send("{}"));
  Client::Response response = client.Read();
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "{}");
}

// A client that pipelines "Expect: 100-continue" requests (bodies included) and never reads the
// answers. Small socket buffers on its side make the server's send side fill within a few hundred
// requests. Each trial ends when the server stops reading from it, which happens when one of its
// writes finds the buffers full; when that write is an interim 100 Continue, a blocking write
// would pin the server's only I/O thread. Which write meets the full buffer depends on byte
// counts, so the body length varies per trial (on a blocking write, a trial hangs the server
// about one time in five).
class NonReadingContinueClient {
 public:
  NonReadingContinueClient(uint16_t port, size_t body_bytes) : body_(body_bytes, '7') {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    const int small = 2048;  // before connect, so the advertised window is small too
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~NonReadingContinueClient() { ::close(fd_); }

  // Sends requests until the server has not taken a byte for `quiet`; false if it never stalls.
  bool SendUntilTheServerStopsReading(milliseconds quiet, milliseconds limit) {
    if (!connected_) return false;
    const std::string request =
        "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        "Expect: 100-continue\r\nContent-Length: " +
        std::to_string(body_.size()) + "\r\n\r\n" + body_;
    const auto deadline = steady_clock::now() + limit;
    std::string_view rest = request;
    while (steady_clock::now() < deadline) {
      const ssize_t n = ::send(fd_, rest.data(), rest.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        rest.remove_prefix(static_cast<size_t>(n));
        if (rest.empty()) rest = request;
        continue;
      }
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return false;
      pollfd pfd{fd_, POLLOUT, 0};
      if (::poll(&pfd, 1, static_cast<int>(quiet.count())) == 0) return true;
    }
    return false;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  std::string body_;
};

TEST_F(ServerTest, ContinueToAClientThatStopsReadingDoesNotBlockTheIoThread) {
  settings_.io_threads = 1;
  settings_.blocking_threads = 0;
  settings_.max_pipelined = 1;  // one request at a time, so every one gets its own 100 Continue
  StartServer();
  for (size_t trial = 0; trial < 32; ++trial) {
    NonReadingContinueClient stuck(port(), 1 + trial * 7);
    ASSERT_TRUE(stuck.SendUntilTheServerStopsReading(milliseconds(50), milliseconds(10000)))
        << "trial " << trial;
    Client other(port(), milliseconds(3000));
    ASSERT_EQ(other.Request(Get("/hello")).status, 200) << "trial " << trial;
    // Closing `stuck` with unread data resets it, which would also free a blocked thread.
  }
}

TEST_F(ServerTest, ConnectionsOverTheCapGet503) {
  settings_.max_connections = 2;
  StartServer();
  auto first = std::make_unique<Client>(port());
  Client second(port());
  ASSERT_EQ(first->Request(Get("/hello")).status, 200);
  ASSERT_EQ(second.Request(Get("/hello")).status, 200);

  Client third(port());
  Client::Response rejected = third.Request(Get("/hello"));
  EXPECT_EQ(rejected.status, 503);
  EXPECT_EQ(ErrorCode(rejected), "UNAVAILABLE");
  EXPECT_EQ(rejected.Header("connection"), "close");
  EXPECT_EQ(rejected.Header("retry-after"), "1");
  EXPECT_TRUE(third.ClosedByPeer());

  // A slot frees up once a connection goes away (the close is noticed asynchronously).
  first.reset();
  int status = 0;
  for (int attempt = 0; attempt < 50 && status != 200; ++attempt) {
    Client again(port());
    status = again.Request(Get("/hello")).status;
    if (status != 200) std::this_thread::sleep_for(milliseconds(50));
  }
  EXPECT_EQ(status, 200);
  EXPECT_EQ(registry_->GetCounter("hasivu_http_rejected_connections_total", "").Value() >= 1, true);
}

TEST_F(ServerTest, ConnectionsOverThePerAddressCapGet503) {
  settings_.max_connections_per_address = 2;
  StartServer();
  auto first = std::make_unique<Client>(port());
  Client second(port());
  ASSERT_EQ(first->Request(Get("/hello")).status, 200);
  ASSERT_EQ(second.Request(Get("/hello")).status, 200);

  Client third(port());
  Client::Response rejected = third.Request(Get("/hello"));
  EXPECT_EQ(rejected.status, 503);
  EXPECT_EQ(ErrorCode(rejected), "UNAVAILABLE");
  EXPECT_EQ(rejected.Header("connection"), "close");
  EXPECT_EQ(rejected.Header("retry-after"), "1");
  EXPECT_TRUE(third.ClosedByPeer());
  EXPECT_EQ(registry_->GetCounter("hasivu_http_rejected_connections_per_address_total", "").Value(),
            1u);
  EXPECT_EQ(registry_->GetCounter("hasivu_http_rejected_connections_total", "").Value(), 0u);

  // Another address has slots of its own.
  Client elsewhere(port(), milliseconds(5000), "127.0.0.2");
  ASSERT_TRUE(elsewhere.connected());
  EXPECT_EQ(elsewhere.Request(Get("/hello")).status, 200);

  // A slot frees up once a connection goes away (the close is noticed asynchronously).
  first.reset();
  int status = 0;
  for (int attempt = 0; attempt < 50 && status != 200; ++attempt) {
    Client again(port());
    status = again.Request(Get("/hello")).status;
    if (status != 200) std::this_thread::sleep_for(milliseconds(50));
  }
  EXPECT_EQ(status, 200);
}

TEST_F(ServerTest, ExemptPeersAreHeldToTheGlobalCapOnly) {
  settings_.max_connections_per_address = 1;
  settings_.per_address_exempt = {*ParseIpRange("127.0.0.1/32")};
  StartServer();
  Client proxy_a(port()), proxy_b(port());
  EXPECT_EQ(proxy_a.Request(Get("/hello")).status, 200);
  EXPECT_EQ(proxy_b.Request(Get("/hello")).status, 200);
  Client other(port(), milliseconds(5000), "127.0.0.2");
  Client other_again(port(), milliseconds(5000), "127.0.0.2");
  EXPECT_EQ(other.Request(Get("/hello")).status, 200);
  EXPECT_EQ(other_again.Request(Get("/hello")).status, 503);
}

TEST_F(ServerTest, PerAddressCapOfZeroMeansNoCap) {
  settings_.max_connections_per_address = 0;
  settings_.max_connections = 3;
  StartServer();
  Client a(port()), b(port()), c(port());
  EXPECT_EQ(a.Request(Get("/hello")).status, 200);
  EXPECT_EQ(b.Request(Get("/hello")).status, 200);
  EXPECT_EQ(c.Request(Get("/hello")).status, 200);
}

TEST_F(ServerTest, SilentNewConnectionIsClosedAfterTheFirstByteTimeout) {
  settings_.first_byte_timeout = milliseconds(300);
  StartServer();
  Client silent(port());
  const auto start = steady_clock::now();
  EXPECT_TRUE(silent.ClosedByPeer());
  EXPECT_LT(steady_clock::now() - start, milliseconds(4000));

  // Once a request has been served, the keep-alive wait is idle_timeout again.
  Client served(port());
  ASSERT_EQ(served.Request(Get("/hello")).status, 200);
  std::this_thread::sleep_for(milliseconds(900));
  EXPECT_EQ(served.Request(Get("/fast")).body, "fast");
}

TEST_F(ServerTest, ThrowingHandlerGives500WithoutLeakingTheMessage) {
  StartServer();
  Client client(port());
  Client::Response response = client.Request(Get("/throw"));
  EXPECT_EQ(response.status, 500);
  EXPECT_EQ(ErrorCode(response), "INTERNAL");
  EXPECT_EQ(response.body.find("secret"), std::string::npos);
  EXPECT_EQ(registry_->GetCounter("hasivu_http_handler_exceptions_total", "").Value(), 1u);
  EXPECT_EQ(RequestCounter("/throw", "GET", "5xx").Value(), 1u);
  // The connection survives.
  EXPECT_EQ(client.Request(Get("/hello")).status, 200);
}

TEST_F(ServerTest, GracefulShutdownFinishesTheRequestInFlight) {
  settings_.blocking_threads = 1;
  StartServer();
  const uint16_t bound_port = port();
  Client busy(bound_port);
  Client idle(bound_port);
  ASSERT_EQ(idle.Request(Get("/hello")).status, 200);
  ASSERT_TRUE(busy.Send(Get("/sleep")));
  const auto deadline = steady_clock::now() + milliseconds(5000);
  while (!sleep_started_.load() && steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  ASSERT_TRUE(sleep_started_.load());

  std::thread stopper([this] { server_->Stop(); });
  stopper.join();  // Stop() returns once the listener is closed, not when everything is done.

  Client::Response response = busy.Read();
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "slept");
  EXPECT_EQ(response.Header("connection"), "close");
  EXPECT_TRUE(busy.ClosedByPeer());
  EXPECT_TRUE(idle.ClosedByPeer());

  server_->Wait();
  Client late(bound_port);
  EXPECT_FALSE(late.connected());
  server_.reset();
}

TEST_F(ServerTest, OffloadWaitRecordsTheTimeARequestQueuedForAPoolThread) {
  settings_.blocking_threads = 1;
  StartServer();
  metrics::Histogram& wait = registry_->GetHistogram("hasivu_http_offload_wait_seconds", "");
  Client busy(port());
  Client queued(port());
  ASSERT_TRUE(busy.Send(Get("/sleep")));
  const auto deadline = steady_clock::now() + milliseconds(5000);
  while (!sleep_started_.load() && steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  ASSERT_TRUE(sleep_started_.load());
  // The one pool thread sleeps 300 ms: /slow queues behind it for most of that.
  const auto sent = steady_clock::now();
  Client::Response slow = queued.Request(Get("/slow"));
  const auto answered = steady_clock::now();
  EXPECT_EQ(slow.status, 200);
  EXPECT_EQ(busy.Read().status, 200);
  // An inline route does not pass the pool.
  EXPECT_EQ(queued.Request(Get("/hello")).status, 200);

  const metrics::HistogramSnapshot w = wait.Snapshot();
  EXPECT_EQ(w.count, 2u);
  // In microseconds: /slow waited for the sleeper, less its own 50 ms of the time it took.
  const double waited_at_most =
      std::chrono::duration<double, std::micro>(answered - sent).count() - 50'000;
  // Sent just after the sleeper began its 300 ms: the wait is most of them.
  EXPECT_GT(w.max, 100'000);
  EXPECT_LE(w.max, waited_at_most);
  EXPECT_LT(w.min, w.max);
}

// With request_deadline a handler runs inside the request's deadline (its head's arrival plus
// the setting), and a request whose deadline passed while it queued for the pool is answered
// 503 UNAVAILABLE with Retry-After without running.
TEST_F(ServerTest, RequestDeadlineBoundsTheHandlerAndAnswersALateRequest503) {
  std::atomic<int> runs{0};
  Add("GET", "/deadline",
      [&](Request& request) {
        ++runs;
        const std::optional<steady_clock::time_point> d = CurrentDeadline();
        return Text(d && *d == request.received_at + milliseconds(100) ? "in" : "out");
      },
      {.blocking = true, .name = "deadline"});
  settings_.blocking_threads = 1;
  settings_.request_deadline = milliseconds(100);
  StartServer();
  Client client(port());
  Client::Response on_time = client.Request(Get("/deadline"));
  EXPECT_EQ(on_time.status, 200);
  EXPECT_EQ(on_time.body, "in");
  EXPECT_EQ(runs.load(), 1);

  // The one pool thread sleeps 300 ms: /deadline queued behind it is past its 100 ms.
  Client busy(port());
  ASSERT_TRUE(busy.Send(Get("/sleep")));
  const auto wait_until = steady_clock::now() + milliseconds(5000);
  while (!sleep_started_.load() && steady_clock::now() < wait_until) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  ASSERT_TRUE(sleep_started_.load());
  Client::Response late = client.Request(Get("/deadline"));
  EXPECT_EQ(late.status, 503);
  EXPECT_EQ(ErrorCode(late), "UNAVAILABLE");
  EXPECT_EQ(late.Header("retry-after"), "1");
  EXPECT_EQ(runs.load(), 1);
  EXPECT_EQ(busy.Read().status, 200);
  // The connection goes on.
  EXPECT_EQ(client.Request(Get("/deadline")).body, "in");
}

TEST_F(ServerTest, WithoutRequestDeadlineAHandlerHasNone) {
  Add("GET", "/deadline",
      [](Request&) { return Text(CurrentDeadline().has_value() ? "some" : "none"); },
      {.blocking = true, .name = "deadline"});
  StartServer();
  Client client(port());
  EXPECT_EQ(client.Request(Get("/deadline")).body, "none");
}

// A try_inline route runs on the I/O thread unless something in it refuses to block; then it
// runs again on the pool, told who refused, and only that second answer is sent.
TEST_F(ServerTest, TryInlineAnswersFromTheIoThreadOrRetriesOnThePoolWhenRefused) {
  static constexpr char kRefuser[] = "test refuser";
  std::atomic<int> runs{0};
  std::mutex mu;
  std::vector<std::thread::id> threads;
  std::vector<bool> retrying;
  Add("GET", "/maybe",
      [&](Request& request) {
        ++runs;
        {
          std::lock_guard lock(mu);
          threads.push_back(std::this_thread::get_id());
          retrying.push_back(RetryingAfter(kRefuser, "what"));
        }
        if (request.query == "block" && RefuseToBlock(kRefuser, "what")) return Text("dropped");
        return Text("answered");
      },
      {.blocking = true, .try_inline = true, .name = "maybe"});
  settings_.blocking_threads = 1;
  StartServer();
  metrics::Histogram& wait = registry_->GetHistogram("hasivu_http_offload_wait_seconds", "");
  Client client(port());

  Client::Response inline_answer = client.Request(Get("/maybe"));
  EXPECT_EQ(inline_answer.status, 200);
  EXPECT_EQ(inline_answer.body, "answered");
  EXPECT_EQ(runs.load(), 1);
  EXPECT_EQ(wait.Snapshot().count, 0u);  // never queued for the pool

  Client::Response retried = client.Request(Get("/maybe?block"));
  EXPECT_EQ(retried.status, 200);
  EXPECT_EQ(retried.body, "answered");
  EXPECT_EQ(runs.load(), 3);
  EXPECT_EQ(wait.Snapshot().count, 1u);
  std::lock_guard lock(mu);
  ASSERT_EQ(threads.size(), 3u);
  EXPECT_EQ(threads[0], threads[1]);  // one connection, one I/O thread
  EXPECT_NE(threads[2], threads[1]);  // the retry ran on the pool
  EXPECT_FALSE(retrying[1]);
  EXPECT_TRUE(retrying[2]);
}

TEST_F(ServerTest, TryInlineOffInTheSettingsSendsTheRouteStraightToThePool) {
  std::atomic<int> runs{0};
  Add("GET", "/maybe",
      [&](Request&) {
        ++runs;
        return Text("answered");
      },
      {.blocking = true, .try_inline = true, .name = "maybe"});
  settings_.blocking_threads = 1;
  settings_.try_inline = false;
  StartServer();
  metrics::Histogram& wait = registry_->GetHistogram("hasivu_http_offload_wait_seconds", "");
  Client client(port());
  EXPECT_EQ(client.Request(Get("/maybe")).body, "answered");
  EXPECT_EQ(runs.load(), 1);
  EXPECT_EQ(wait.Snapshot().count, 1u);  // it went through the pool
}

TEST_F(ServerTest, StopWithNothingInFlightIsQuickAndIdempotent) {
  StartServer();
  {
    Client client(port());
    ASSERT_EQ(client.Request(Get("/hello")).status, 200);
  }
  const auto start = steady_clock::now();
  server_->Stop();
  server_->Stop();
  server_->Wait();
  server_->Wait();
  EXPECT_LT(steady_clock::now() - start, settings_.shutdown_grace);
}

TEST_F(ServerTest, ShutdownGraceBoundsASlowHandler) {
  settings_.shutdown_grace = milliseconds(50);
  StartServer();
  Client busy(port());
  ASSERT_TRUE(busy.Send(Get("/sleep")));
  const auto deadline = steady_clock::now() + milliseconds(5000);
  while (!sleep_started_.load() && steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  server_->Stop();
  server_->Wait();
  // The connection was cut when the grace ran out, before the handler finished.
  EXPECT_EQ(busy.Read().status, 0);
}

TEST_F(ServerTest, DrainAnswersWithConnectionCloseAndKeepsAccepting) {
  StartServer();
  Client kept(port());
  const Client::Response before = kept.Request(Get("/hello"));
  ASSERT_EQ(before.status, 200);
  EXPECT_NE(before.Header("connection"), "close");

  server_->BeginDrain();
  server_->BeginDrain();
  const Client::Response during = kept.Request(Get("/hello"));
  EXPECT_EQ(during.status, 200);
  EXPECT_EQ(during.Header("connection"), "close");
  EXPECT_TRUE(kept.ClosedByPeer());
  Client fresh(port());
  ASSERT_TRUE(fresh.connected());
  const Client::Response answered = fresh.Request(Get("/hello"));
  EXPECT_EQ(answered.status, 200);
  EXPECT_EQ(answered.Header("connection"), "close");
}

// The races at the end of a drain: whatever a client could count as sent when Stop() comes is
// answered, not dropped.
TEST_F(ServerTest, StopAnswersARequestWhoseHeadIsArriving) {
  StartServer();
  Client client(port());
  ASSERT_TRUE(client.Send("GET /hello HTTP/1.1\r\nHost: t\r\n"));
  std::this_thread::sleep_for(milliseconds(100));  // let the server start reading the head
  server_->Stop();
  ASSERT_TRUE(client.Send("\r\n"));
  const Client::Response response = client.Read();
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "hello");
  EXPECT_EQ(response.Header("connection"), "close");
  EXPECT_TRUE(client.ClosedByPeer());
  server_->Wait();
}

TEST_F(ServerTest, StopAnswersAConnectionThatHadNotSentItsRequestYet) {
  StartServer();
  Client warm(port());
  ASSERT_EQ(warm.Request(Get("/hello")).status, 200);
  Client client(port());
  ASSERT_TRUE(client.connected());
  server_->Stop();
  ASSERT_TRUE(client.Send(Get("/hello")));
  const Client::Response response = client.Read();
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.Header("connection"), "close");
  // The kept-alive connection with nothing sent is closed at once.
  EXPECT_TRUE(warm.ClosedByPeer());
  server_->Wait();
}

TEST_F(ServerTest, StopAnswersAConnectionThatWaitedInTheListenBacklog) {
  std::atomic<bool> holding{false};
  // Inline (not blocking): it holds the only I/O thread, so the next connection waits in the
  // kernel's backlog, unaccepted, while Stop() is called.
  Add("GET", "/hold", [&holding](Request&) {
    holding.store(true);
    std::this_thread::sleep_for(milliseconds(300));
    return Text("held");
  });
  settings_.io_threads = 1;
  StartServer();
  Client holder(port());
  ASSERT_TRUE(holder.Send(Get("/hold")));
  const auto deadline = steady_clock::now() + milliseconds(5000);
  while (!holding.load() && steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  ASSERT_TRUE(holding.load());
  Client queued(port());
  ASSERT_TRUE(queued.connected());
  ASSERT_TRUE(queued.Send(Get("/hello")));
  std::thread stopper([this] { server_->Stop(); });
  EXPECT_EQ(holder.Read().body, "held");
  const Client::Response response = queued.Read();
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "hello");
  EXPECT_EQ(response.Header("connection"), "close");
  stopper.join();
  server_->Wait();
}

TEST_F(ServerTest, MetricsCountRequestsPerRouteAndClass) {
  StartServer();
  EXPECT_FALSE(server_->first_ok_response().has_value());
  Client client(port());
  ASSERT_EQ(client.Request(Get("/hello")).status, 200);
  ASSERT_EQ(client.Request(Get("/hello")).status, 200);
  ASSERT_EQ(client.Request("HEAD /hello HTTP/1.1\r\nHost: t\r\n\r\n", true).status, 200);
  ASSERT_EQ(client.Request(Get("/nope")).status, 404);
  ASSERT_EQ(client.Request(Get("/slow")).status, 200);
  ASSERT_EQ(client.Request(Post("/echo", "x", "text/plain")).status, 415);

  EXPECT_EQ(RequestCounter("/hello", "GET", "2xx").Value(), 2u);
  EXPECT_EQ(RequestCounter("/hello", "HEAD", "2xx").Value(), 1u);
  EXPECT_EQ(RequestCounter("/hello", "GET", "4xx").Value(), 0u);
  EXPECT_EQ(RequestCounter("unmatched", "GET", "4xx").Value(), 1u);
  EXPECT_EQ(RequestCounter("slow", "GET", "2xx").Value(), 1u);  // RouteOptions::name
  EXPECT_EQ(RequestCounter("/echo", "POST", "4xx").Value(), 1u);
  auto& latency = registry_->GetHistogram("hasivu_http_request_duration_seconds", "",
                                          {{"route", "/hello"}}, 1e-6);
  // The first of the three is the server's first request, reported as cold start instead.
  EXPECT_EQ(latency.Snapshot().count, 2u);
  auto& slow_latency = registry_->GetHistogram("hasivu_http_request_duration_seconds", "",
                                               {{"route", "slow"}}, 1e-6);
  EXPECT_GE(slow_latency.Snapshot().min, 50000.0);  // recorded in microseconds
  EXPECT_EQ(registry_->GetGauge("hasivu_http_open_connections", "").Value(), 1);
  ASSERT_TRUE(server_->first_ok_response().has_value());
  EXPECT_LE(*server_->first_ok_response(), steady_clock::now());
  const std::string text = registry_->RenderPrometheus();
  EXPECT_NE(text.find("hasivu_http_requests_total"), std::string::npos);
}

TEST_F(ServerTest, AccessLogDoesNotDisturbServing) {
  settings_.access_log = true;
  StartServer();
  Client client(port());
  EXPECT_EQ(client.Request(Get("/echo/%22quoted%5C?token=secret")).status, 200);
  EXPECT_EQ(client.Request(Get("/nope")).status, 404);
}

TEST_F(ServerTest, InvalidSettingsAndBindFailures) {
  ServerSettings bad = settings_;
  bad.max_connections = 0;
  EXPECT_EQ(Server::Create(bad, router_, nullptr, *registry_).status().code(),
            StatusCode::kInvalidArgument);
  bad = settings_;
  bad.max_connections_per_address = -1;
  EXPECT_EQ(Server::Create(bad, router_, nullptr, *registry_).status().code(),
            StatusCode::kInvalidArgument);
  bad = settings_;
  bad.first_byte_timeout = milliseconds(0);
  EXPECT_EQ(Server::Create(bad, router_, nullptr, *registry_).status().code(),
            StatusCode::kInvalidArgument);
  bad = settings_;
  bad.header_timeout = milliseconds(0);
  EXPECT_EQ(Server::Create(bad, router_, nullptr, *registry_).status().code(),
            StatusCode::kInvalidArgument);

  StartServer();
  ServerSettings same_port = settings_;
  same_port.port = port();
  auto second = Server::Create(same_port, router_, nullptr, *registry_);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ((*second)->Start().code(), StatusCode::kUnavailable);
  EXPECT_EQ(server_->Start().code(), StatusCode::kFailedPrecondition);
}

TEST_F(ServerTest, WithoutBlockingPoolBlockingRoutesRunInline) {
  settings_.blocking_threads = 0;
  settings_.io_threads = 1;
  StartServer();
  Client client(port());
  EXPECT_EQ(client.Request(Get("/slow")).body, "slow");
}

TEST_F(ServerTest, ManyConcurrentClients) {
  StartServer();
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      Client client(port());
      for (int i = 0; i < 25; ++i) {
        const std::string name = std::to_string(t) + "-" + std::to_string(i);
        if (client.Request(Get("/echo/" + name)).body == name + "||/echo/" + name) ++ok;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ok.load(), 200);
}

}  // namespace
}  // namespace hasivu::http

namespace hasivu::http {
namespace {

std::string ThisThread() {
  std::ostringstream id;
  id << std::this_thread::get_id();
  return id.str();
}

// Without a blocking pool (SQLite), blocking routes run inline on the I/O thread, but a
// offload route (password hashing) still runs on a pool of its own.
TEST_F(ServerTest, OffloadedRoutesLeaveTheIoThreadEvenWithoutABlockingPool) {
  settings_.io_threads = 1;
  settings_.blocking_threads = 0;
  settings_.cpu_threads = 1;
  Add("GET", "/inline-thread", [](Request&) { return Text(ThisThread()); },
      {.blocking = true, .name = "inline-thread"});
  Add("GET", "/heavy-thread", [](Request&) { return Text(ThisThread()); },
      {.blocking = true, .name = "heavy-thread", .offload = true});
  StartServer();
  Client client(port());
  ASSERT_TRUE(client.connected());
  const std::string io_thread = client.Request(Get("/inline-thread")).body;
  const std::string heavy_thread = client.Request(Get("/heavy-thread")).body;
  ASSERT_FALSE(io_thread.empty());
  ASSERT_FALSE(heavy_thread.empty());
  EXPECT_NE(io_thread, heavy_thread);
  EXPECT_EQ(client.Request(Get("/inline-thread")).body, io_thread);  // one I/O thread
}

// A full offload queue answers at once instead of letting requests pile up behind the pool
// (password hashes ahead of payments), and a slot comes back when its handler has run.
TEST_F(ServerTest, AFullOffloadQueueAnswers503WithRetryAfterAndCountsIt) {
  settings_.io_threads = 1;
  settings_.blocking_threads = 0;
  settings_.cpu_threads = 1;
  metrics::Counter& rejected = registry_->GetCounter("test_offload_rejected_total", "", {});
  auto queue = std::make_shared<OffloadQueue>(2, &rejected, 3);
  std::promise<void> open;
  std::shared_future<void> gate = open.get_future().share();
  Add("GET", "/held",
      [gate](Request&) {
        gate.wait();
        return Text("done");
      },
      {.blocking = true, .name = "held", .offload = true, .queue = queue});
  StartServer();
  Client first(port());
  Client second(port());
  ASSERT_TRUE(first.Send(Get("/held")));
  ASSERT_TRUE(second.Send(Get("/held")));
  // One request runs, one waits on the pool: the queue is full once both have arrived.
  const auto deadline = steady_clock::now() + std::chrono::seconds(5);
  while (queue->in_use() < 2 && steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(1));
  }
  ASSERT_EQ(queue->in_use(), 2);
  Client third(port());
  Client::Response busy = third.Request(Get("/held"));
  EXPECT_EQ(busy.status, 503);
  EXPECT_EQ(ErrorCode(busy), "SERVICE_BUSY");
  EXPECT_EQ(busy.headers["retry-after"], "3");
  EXPECT_EQ(rejected.Value(), 1u);
  open.set_value();
  EXPECT_EQ(first.Read().body, "done");
  EXPECT_EQ(second.Read().body, "done");
  while (queue->in_use() > 0 && steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(1));
  }
  EXPECT_EQ(third.Request(Get("/held")).body, "done");
  EXPECT_EQ(rejected.Value(), 1u);
  EXPECT_EQ(queue->in_use(), 0);
}

}  // namespace
}  // namespace hasivu::http
