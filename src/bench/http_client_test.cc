#include "bench/http_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>
#include <string>
#include <thread>

namespace hasivu::bench {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using ::testing::HasSubstr;

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

// What the loopback server does with each request it reads.
enum class Mode {
  kAnswer,             // answers and keeps the connection
  kAnswerThenDrop,     // answers as if keeping the connection, then closes it
  kDropWithoutAnswer,  // closes without answering
  kNeverAnswer,        // reads the request and holds the connection silently
};

// One io_context thread on 127.0.0.1, port 0. The answer's body is "METHOD TARGET|CONTENT-TYPE|
// BODY"; X-Connection-Id is the number of the accepted connection (from 1); a target
// "/status/N" is answered with status N.
class TestServer {
 public:
  explicit TestServer(Mode mode) : mode_(mode) {
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

 private:
  asio::awaitable<void> Accept() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(kAwait);
      if (ec) co_return;
      const int id = ++accepts_;
      asio::co_spawn(ioc_, Serve(std::move(socket), id), asio::detached);
    }
  }

  asio::awaitable<void> Serve(tcp::socket socket, int id) {
    beast::flat_buffer buffer;
    for (;;) {
      http::request<http::string_body> req;
      auto [ec, n] = co_await http::async_read(socket, buffer, req, kAwait);
      if (ec) co_return;
      ++requests_;
      if (mode_ == Mode::kDropWithoutAnswer) co_return;
      if (mode_ == Mode::kNeverAnswer) {
        asio::steady_timer forever(ioc_, std::chrono::hours(1));
        co_await forever.async_wait(kAwait);
        co_return;
      }
      http::response<http::string_body> res{http::status::ok, 11};
      const std::string target(req.target());
      if (target.starts_with("/status/")) {
        res.result(static_cast<unsigned>(std::stoi(target.substr(8))));
      }
      res.set("X-Connection-Id", std::to_string(id));
      res.set(http::field::content_type, "text/plain");
      res.body() = std::string(req.method_string()) + " " + target + "|" +
                   std::string(req[http::field::content_type]) + "|" + req.body();
      res.keep_alive(true);
      res.prepare_payload();
      auto [wec, wn] = co_await http::async_write(socket, res, kAwait);
      if (wec || mode_ == Mode::kAnswerThenDrop) co_return;
    }
  }

  const Mode mode_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_{ioc_, {asio::ip::make_address("127.0.0.1"), 0}};
  std::atomic<int> accepts_{0};
  std::atomic<int> requests_{0};
  std::thread thread_;
};

Request Get(std::string target) {
  Request r;
  r.target = std::move(target);
  return r;
}

TEST(HttpClientTest, ReusesOneKeepAliveConnection) {
  TestServer server(Mode::kAnswer);
  auto client = NewHttpClient(server.endpoint(), std::chrono::seconds(5));
  for (int i = 0; i < 3; ++i) {
    auto r = client->Send(Get("/a" + std::to_string(i)));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "GET /a" + std::to_string(i) + "||");
    EXPECT_EQ(r->HeaderValue("x-connection-id"), "1");
  }
  EXPECT_EQ(server.accepts(), 1);
  EXPECT_EQ(server.requests(), 3);
}

TEST(HttpClientTest, SendsTheBodyAndLowerCasesHeaderNames) {
  TestServer server(Mode::kAnswer);
  auto client = NewHttpClient(server.endpoint(), std::chrono::seconds(5));
  Request req;
  req.method = "POST";
  req.target = "/api/v1/auth/login";
  req.body = R"({"a":1})";
  auto r = client->Send(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, R"(POST /api/v1/auth/login|application/json|{"a":1})");
  ASSERT_FALSE(r->headers.empty());
  bool saw_connection_id = false;
  for (const Header& h : r->headers) {
    for (char c : h.name) EXPECT_FALSE(c >= 'A' && c <= 'Z') << h.name;
    saw_connection_id |= h.name == "x-connection-id";
  }
  EXPECT_TRUE(saw_connection_id);
}

TEST(HttpClientTest, ReturnsAnyStatusAsAnAnswer) {
  TestServer server(Mode::kAnswer);
  auto client = NewHttpClient(server.endpoint(), std::chrono::seconds(5));
  auto r = client->Send(Get("/status/409"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 409);
}

TEST(HttpClientTest, PrefixesTheBasePath) {
  TestServer server(Mode::kAnswer);
  Endpoint e = server.endpoint();
  e.base_path = "/stage";
  auto client = NewHttpClient(e, std::chrono::seconds(5));
  auto r = client->Send(Get("/x"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "GET /stage/x||");
}

TEST(HttpClientTest, ReconnectsWhenTheServerDroppedTheKeptAliveConnection) {
  TestServer server(Mode::kAnswerThenDrop);
  auto client = NewHttpClient(server.endpoint(), std::chrono::seconds(5));
  for (int i = 1; i <= 3; ++i) {
    auto r = client->Send(Get("/r"));
    ASSERT_TRUE(r.ok()) << i << ": " << r.status().ToString();
    EXPECT_EQ(r->HeaderValue("x-connection-id"), std::to_string(i));
    // Gives the server's close time to arrive, so the next send finds the connection dead.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(server.accepts(), 3);
  EXPECT_EQ(server.requests(), 3);  // nothing sent twice: the dead connection never got one
}

TEST(HttpClientTest, UnavailableWhenAFreshConnectionClosesWithoutAnswer) {
  TestServer server(Mode::kDropWithoutAnswer);
  auto client = NewHttpClient(server.endpoint(), std::chrono::seconds(5));
  auto r = client->Send(Get("/x"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
  EXPECT_EQ(server.accepts(), 1);  // a fresh connection is not retried
}

TEST(HttpClientTest, DeadlineExceededWhenTheServerNeverAnswers) {
  TestServer server(Mode::kNeverAnswer);
  auto client = NewHttpClient(server.endpoint(), std::chrono::milliseconds(200));
  const auto start = std::chrono::steady_clock::now();
  auto r = client->Send(Get("/x"));
  const auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded) << r.status().ToString();
  EXPECT_GE(waited, std::chrono::milliseconds(190));
  EXPECT_LT(waited, std::chrono::seconds(4));
  EXPECT_EQ(server.requests(), 1);
}

TEST(HttpClientTest, UnavailableWhenNothingListens) {
  uint16_t port = 0;
  {
    asio::io_context ioc;
    tcp::acceptor probe(ioc, {asio::ip::make_address("127.0.0.1"), 0});
    port = probe.local_endpoint().port();
  }
  auto client =
      NewHttpClient({.host = "127.0.0.1", .port = port, .base_path = ""}, std::chrono::seconds(2));
  auto r = client->Send(Get("/x"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
  EXPECT_THAT(r.status().message(), HasSubstr("connect"));
}

}  // namespace
}  // namespace hasivu::bench
