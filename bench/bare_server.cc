// hasivu-bare-server: the ceiling for "returning the same bytes" (issue 5, Measured). A minimal
// Boost.Beast HTTP/1.1 keep-alive server on ONE thread that answers every request, whatever its
// method or target, with 200 and the exact bytes of a body file: no routing, no auth, no cache,
// no JSON, no logging. bench/cache.sh runs it with the bodies hasivu served, so hasivu's cached
// reads can be compared with a server that only parses the request and writes fixed bytes.
//
//   hasivu-bare-server --listen 127.0.0.1:PORT --body FILE [--content-type TYPE]
//                      [--content-encoding ENC] [--header 'Name: value']...
//
// Default content type `application/json; charset=utf-8`. `--header` adds a fixed response header
// (repeatable), e.g. the ETag, Vary and Cache-Control hasivu sent, so both answers carry about
// the same header bytes. PORT 0 picks a free port. Only loopback addresses are accepted. Prints
// `listening on 127.0.0.1:PORT` on stdout once accepting; stops on SIGTERM or SIGINT (exit 0).
// Requests are read one at a time per connection (no pipelining); request bodies up to 1 MiB are
// read and discarded; a connection idle for 60 s is closed; bad requests close the connection.
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace hasivu::bench {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr std::size_t kMaxBodyFileBytes = 64u << 20;
constexpr std::size_t kMaxRequestBodyBytes = 1u << 20;
constexpr auto kIdleTimeout = std::chrono::seconds(60);

using Response = http::response<http::string_body>;

struct Options {
  std::string listen;
  std::string body_file;
  std::string content_type = "application/json; charset=utf-8";
  std::string content_encoding;
  std::vector<std::pair<std::string, std::string>> headers;
};

// Both answers are built once: every request is served one of these two shared messages, so the
// per-request cost is the parse and the write, which is what the ceiling is meant to measure.
struct Answers {
  Response keep_alive;
  Response close;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const Answers& answers)
      : stream_(std::move(socket)), answers_(answers) {}

  void Start() { ReadRequest(); }

 private:
  void ReadRequest() {
    parser_.emplace();
    parser_->body_limit(kMaxRequestBodyBytes);
    stream_.expires_after(kIdleTimeout);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    // End of stream, timeout and malformed requests all end the connection: wrk reconnects, and a
    // bad client gets no say in how long the server holds its socket.
    if (ec) return Close();
    const bool keep_alive = parser_->get().keep_alive();
    const Response& answer = keep_alive ? answers_.keep_alive : answers_.close;
    stream_.expires_never();
    http::async_write(stream_, answer,
                      [self = shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
                        if (ec || !keep_alive) return self->Close();
                        self->ReadRequest();
                      });
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.socket().close(ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  const Answers& answers_;
};

class Listener {
 public:
  Listener(asio::io_context& ioc, tcp::acceptor acceptor, const Answers& answers)
      : ioc_(ioc), acceptor_(std::move(acceptor)), answers_(answers) {}

  void Accept() {
    acceptor_.async_accept(ioc_, [this](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) {
        beast::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        std::make_shared<Session>(std::move(socket), answers_)->Start();
      }
      // A failed accept (EMFILE and the like) must not stop the server: keep accepting.
      Accept();
    });
  }

  void Stop() {
    beast::error_code ignored;
    acceptor_.close(ignored);
  }

 private:
  asio::io_context& ioc_;
  tcp::acceptor acceptor_;
  const Answers& answers_;
};

int Usage(const std::string& error) {
  std::cerr << "hasivu-bare-server: " << error << "\n"
            << "usage: hasivu-bare-server --listen 127.0.0.1:PORT --body FILE"
               " [--content-type TYPE] [--content-encoding ENC] [--header 'Name: value']...\n";
  return 2;
}

// Field values become header bytes verbatim, so CR, LF and other controls are refused.
bool IsSafeFieldText(const std::string& s) {
  for (unsigned char c : s) {
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  }
  return true;
}

bool IsToken(const std::string& s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (c <= 0x20 || c >= 0x7f ||
        std::string_view("\"(),/:;<=>?@[\\]{}").find(c) != std::string_view::npos) {
      return false;
    }
  }
  return true;
}

std::optional<std::string> ParseArgs(int argc, char** argv, Options& options) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") return std::string("help");
    if (i + 1 >= argc) return "missing value after " + arg;
    const std::string value = argv[++i];
    if (arg == "--listen") {
      options.listen = value;
    } else if (arg == "--body") {
      options.body_file = value;
    } else if (arg == "--content-type") {
      if (value.empty() || !IsSafeFieldText(value)) return "bad --content-type";
      options.content_type = value;
    } else if (arg == "--content-encoding") {
      if (!IsToken(value)) return "bad --content-encoding '" + value + "'";
      options.content_encoding = value;
    } else if (arg == "--header") {
      const auto colon = value.find(':');
      if (colon == std::string::npos) return "--header expects 'Name: value', got '" + value + "'";
      std::string name = value.substr(0, colon);
      std::string field = value.substr(colon + 1);
      while (!field.empty() && (field.front() == ' ' || field.front() == '\t')) field.erase(0, 1);
      if (!IsToken(name) || !IsSafeFieldText(field)) return "bad --header '" + value + "'";
      options.headers.emplace_back(std::move(name), std::move(field));
    } else {
      return "unknown option " + arg;
    }
  }
  if (options.listen.empty()) return std::string("--listen is required");
  if (options.body_file.empty()) return std::string("--body is required");
  return std::nullopt;
}

std::optional<tcp::endpoint> ParseLoopbackEndpoint(const std::string& text, std::string& error) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    error = "--listen expects HOST:PORT, got '" + text + "'";
    return std::nullopt;
  }
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  beast::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) {
    error = "--listen: not an IP address: '" + host + "'";
    return std::nullopt;
  }
  if (!address.is_loopback()) {
    error = "--listen: only loopback addresses are allowed, got '" + host + "'";
    return std::nullopt;
  }
  const std::string port_text = text.substr(colon + 1);
  char* end = nullptr;
  const long port = std::strtol(port_text.c_str(), &end, 10);
  if (end == port_text.c_str() || *end != '\0' || port < 0 || port > 65535) {
    error = "--listen: bad port '" + port_text + "'";
    return std::nullopt;
  }
  return tcp::endpoint(address, static_cast<unsigned short>(port));
}

std::optional<std::string> ReadBody(const std::string& path, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot read --body file '" + path + "'";
    return std::nullopt;
  }
  std::string body;
  char chunk[65536];
  while (in.read(chunk, sizeof chunk) || in.gcount() > 0) {
    body.append(chunk, static_cast<std::size_t>(in.gcount()));
    if (body.size() > kMaxBodyFileBytes) {
      error = "--body file '" + path + "' is larger than 64 MiB";
      return std::nullopt;
    }
  }
  if (in.bad()) {
    error = "error reading --body file '" + path + "'";
    return std::nullopt;
  }
  return body;
}

Response MakeAnswer(const Options& options, const std::string& body, bool keep_alive) {
  Response res(http::status::ok, 11);
  res.set(http::field::content_type, options.content_type);
  if (!options.content_encoding.empty()) {
    res.set(http::field::content_encoding, options.content_encoding);
  }
  for (const auto& [name, value] : options.headers) res.insert(name, value);
  res.body() = body;
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

int Run(int argc, char** argv) {
  Options options;
  if (auto error = ParseArgs(argc, argv, options)) {
    if (*error == "help") {
      Usage("serves one fixed response (the ceiling for bench/cache.sh)");
      return 0;
    }
    return Usage(*error);
  }
  std::string error;
  const auto endpoint = ParseLoopbackEndpoint(options.listen, error);
  if (!endpoint) return Usage(error);
  const auto body = ReadBody(options.body_file, error);
  if (!body) return Usage(error);

  const Answers answers{MakeAnswer(options, *body, true), MakeAnswer(options, *body, false)};

  asio::io_context ioc(1);
  tcp::acceptor acceptor(ioc);
  beast::error_code ec;
  acceptor.open(endpoint->protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(*endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    std::cerr << "hasivu-bare-server: cannot listen on " << options.listen << ": " << ec.message()
              << "\n";
    return 1;
  }
  const tcp::endpoint bound = acceptor.local_endpoint();
  Listener listener(ioc, std::move(acceptor), answers);
  listener.Accept();

  asio::signal_set signals(ioc, SIGTERM, SIGINT);
  signals.async_wait([&](beast::error_code, int) {
    listener.Stop();
    ioc.stop();
  });

  const std::string host = bound.address().is_v6() ? "[" + bound.address().to_string() + "]"
                                                   : bound.address().to_string();
  std::cout << "listening on " << host << ":" << bound.port() << " (" << body->size()
            << " body bytes" << (options.content_encoding.empty() ? "" : ", ")
            << options.content_encoding << ")" << std::endl;
  ioc.run();
  return 0;
}

}  // namespace
}  // namespace hasivu::bench

int main(int argc, char** argv) {
  try {
    return hasivu::bench::Run(argc, argv);
  } catch (const std::exception& e) {
    // Startup only (Asio throws on resource exhaustion before the loop runs).
    std::cerr << "hasivu-bare-server: " << e.what() << "\n";
    return 1;
  }
}
