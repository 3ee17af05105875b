#include "bench/http_client.h"

#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <optional>
#include <string>
#include <utility>

namespace hasivu::bench {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// /metrics of a busy server and a long order history are large; the limit only guards against a
// runaway answer.
constexpr uint64_t kBodyLimit = 64u << 20;
constexpr uint32_t kHeaderLimit = 64u << 10;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// A kept-alive connection the server has dropped fails the first write or read like this, with
// nothing of an answer received: the request may be sent again on a fresh connection.
bool IsStaleConnection(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::error::connection_aborted;
}

struct Attempt {
  Status status;
  bool stale = false;  // failed as a dropped keep-alive connection does
  Response response;
};

class BeastHttpClient final : public HttpClient {
 public:
  BeastHttpClient(Endpoint endpoint, std::chrono::milliseconds timeout)
      : endpoint_(std::move(endpoint)), timeout_(timeout), stream_(ioc_) {}

  StatusOr<Response> Send(const Request& request) override {
    const std::string wire = SerializeRequest(endpoint_, request);
    const Clock::time_point deadline = Clock::now() + timeout_;
    const bool reused = stream_.socket().is_open();
    if (!reused) RETURN_IF_ERROR(Connect(deadline));
    Attempt attempt = Exchange(wire, deadline);
    if (!attempt.status.ok() && attempt.stale && reused) {
      Close();
      RETURN_IF_ERROR(Connect(deadline));
      attempt = Exchange(wire, deadline);
    }
    if (!attempt.status.ok()) {
      Close();
      return attempt.status;
    }
    return std::move(attempt.response);
  }

 private:
  // Runs the one asynchronous operation just started: the stream's timeouts work only for
  // asynchronous operations, which is why a blocking client is written with them.
  void RunOne() {
    ioc_.restart();
    ioc_.run();
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  Status Connect(Clock::time_point deadline) {
    if (!resolved_) {
      tcp::resolver resolver(ioc_);
      beast::error_code ec;
      auto results = resolver.resolve(endpoint_.host, std::to_string(endpoint_.port), ec);
      if (ec) {
        return UnavailableError("resolve " + endpoint_.ToString() + ": " + ec.message());
      }
      resolved_ = std::move(results);
    }
    beast::error_code ec;
    stream_.expires_at(deadline);
    stream_.async_connect(*resolved_,
                          [&](const beast::error_code& e, const tcp::endpoint&) { ec = e; });
    RunOne();
    if (ec) {
      Close();
      const std::string why = ec == beast::error::timeout ? "timed out" : ec.message();
      return UnavailableError("connect " + endpoint_.ToString() + ": " + why);
    }
    stream_.socket().set_option(tcp::no_delay(true), ec);
    return Status::Ok();
  }

  Attempt Exchange(const std::string& wire, Clock::time_point deadline) {
    Attempt attempt;
    beast::error_code ec;
    stream_.expires_at(deadline);
    asio::async_write(stream_, asio::buffer(wire),
                      [&](const beast::error_code& e, size_t) { ec = e; });
    RunOne();
    if (ec) return Failed(ec, /*got_some=*/false, "write");

    http::response_parser<http::string_body> parser;
    parser.body_limit(kBodyLimit);
    parser.header_limit(kHeaderLimit);
    buffer_.clear();
    stream_.expires_at(deadline);
    http::async_read(stream_, buffer_, parser, [&](const beast::error_code& e, size_t) { ec = e; });
    RunOne();
    if (ec) return Failed(ec, parser.got_some(), "read");

    auto& message = parser.get();
    attempt.response.status = message.result_int();
    for (const auto& field : message) {
      attempt.response.headers.push_back({Lower(field.name_string()), std::string(field.value())});
    }
    attempt.response.body = std::move(message.body());
    if (!message.keep_alive()) Close();
    return attempt;
  }

  Attempt Failed(const beast::error_code& ec, bool got_some, std::string_view what) {
    Attempt attempt;
    if (ec == beast::error::timeout) {
      attempt.status = DeadlineExceededError("no answer from " + endpoint_.ToString() + " within " +
                                             std::to_string(timeout_.count()) + " ms");
    } else if (!got_some && IsStaleConnection(ec)) {
      attempt.stale = true;
      attempt.status =
          UnavailableError(endpoint_.ToString() + " closed the connection without answering");
    } else {
      attempt.status =
          UnavailableError(std::string(what) + " " + endpoint_.ToString() + ": " + ec.message());
    }
    return attempt;
  }

  const Endpoint endpoint_;
  const std::chrono::milliseconds timeout_;
  asio::io_context ioc_{1};
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<tcp::resolver::results_type> resolved_;
};

}  // namespace

std::unique_ptr<HttpClient> NewHttpClient(const Endpoint& endpoint,
                                          std::chrono::milliseconds timeout) {
  return std::make_unique<BeastHttpClient>(endpoint, timeout);
}

}  // namespace hasivu::bench
