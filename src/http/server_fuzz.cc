// libFuzzer harness: the whole server, as a client on loopback meets it. The input (after its
// first byte) is sent as it is on a new connection to a real http::Server, the client half-closes
// and reads every answer until the server closes. So connection.cc's reading, target decoding,
// routing, 415, pipelining, 100-continue, compression negotiation and error answers all run, in
// the server's own threads. The first byte picks the server: the ServerSettings defaults, or the
// smallest limits Server::Create accepts (max_header_bytes 256, max_body_bytes 1024).
//
// Routes: an echo of what the handler received, under literal and `{param}` patterns, and /big,
// a compressible body with an ETag (304 on a matching If-None-Match).
//
// Invariants, beyond "no crash, no sanitizer report" (in the harness or in the server):
//   - every connection ends: the answers arrive and the server closes within 5 s of the
//     client's half-close;
//   - what comes back is a sequence of well-formed HTTP/1.1 responses, each with a status the
//     server documents (100, 200, 304, 400, 404, 405, 413, 415, 431), Content-Length matching the
//     body, a sane X-Request-Id, a valid traceparent and X-Content-Type-Options: nosniff;
//   - nothing follows a 413 or a 431, nor a response with Connection: close;
//   - what the handler saw respects the contract: a decoded path starting with '/' without NUL,
//     parameters that are non-empty and hold no '/', a body within max_body_bytes and, when not
//     empty, sent as application/json; the request id is the client's when sane (1..64 of
//     [A-Za-z0-9._-]), else a generated "<16 hex>-<12 hex>", and the response carries that id.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "common/testing/fuzz_check.h"
#include "http/message.h"
#include "http/router.h"
#include "http/server.h"
#include "metrics/metrics.h"
#include "metrics/trace.h"

namespace {

namespace bhttp = boost::beast::http;
using hasivu::http::EqualsIgnoreCase;
using hasivu::http::Request;
using hasivu::http::Response;

std::string Hex(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

std::string Unhex(std::string_view s) {
  auto v = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  std::string out;
  for (size_t i = 0; i + 1 < s.size(); i += 2) out += static_cast<char>(v(s[i]) * 16 + v(s[i + 1]));
  return out;
}

bool IsSane(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
          c == '_' || c == '-')) {
      return false;
    }
  }
  return true;
}

bool IsGeneratedId(std::string_view id) {
  if (id.size() != 29 || id[16] != '-') return false;
  for (size_t i = 0; i < id.size(); ++i) {
    if (i == 16) continue;
    if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f'))) return false;
  }
  return true;
}

// One line per fact the handler saw, values hex-encoded: "key=hex\n".
Response Echo(Request& request) {
  Response r;
  r.content_type = "text/plain";
  auto line = [&](std::string_view key, std::string_view value) {
    r.body.append(key).append("=").append(Hex(value)).append("\n");
  };
  line("path", request.path);
  line("request_id", request.request_id);
  line("client_id", request.headers.Get("X-Request-Id"));
  line("has_client_id", request.headers.Find("X-Request-Id") ? "1" : "0");
  line("content_type", request.headers.Get("Content-Type"));
  line("body_size", std::to_string(request.body.size()));
  for (const auto& [name, value] : request.path_params) line("param", value);
  return r;
}

Response Big(Request& request) {
  Response r;
  r.headers.Set("ETag", "\"big\"");
  const std::string_view inm = request.headers.Get("If-None-Match");
  if (inm.find("\"big\"") != std::string_view::npos || inm == "*") {
    r.status = 304;
    r.content_type.clear();
    return r;
  }
  r.body = "[";
  for (int i = 0; i < 400; ++i) r.body += (i ? ",\"item\"" : "\"item\"");
  r.body += "]";
  return r;
}

struct Instance {
  hasivu::http::ServerSettings settings;
  std::unique_ptr<hasivu::http::Server> server;
};

const hasivu::http::Router& TheRouter() {
  static hasivu::http::Router* router = [] {
    auto* r = new hasivu::http::Router();
    for (const char* method : {"GET", "POST", "PUT", "PATCH", "DELETE"}) {
      for (const char* pattern : {"/echo", "/echo/{a}", "/echo/{a}/{b}", "/api/v1/users/me",
                                  "/api/v1/users/{id}", "/api/v1/orders/{id}/status"}) {
        FUZZ_CHECK(r->Add(method, pattern, Echo).ok());
      }
    }
    FUZZ_CHECK(r->Add("GET", "/big", Big).ok());
    FUZZ_CHECK(r->Add("POST", "/blocking", Echo, {.blocking = true, .name = "blocking"}).ok());
    return r;
  }();
  return *router;
}

Instance& Server(bool small) {
  static Instance* instances = [] {
    // Never destroyed, like the servers that count into it until the process ends.
    static hasivu::metrics::Registry* registry = hasivu::metrics::NewRegistry().release();
    auto* out = new Instance[2];
    for (int i = 0; i < 2; ++i) {
      hasivu::http::ServerSettings& s = out[i].settings;
      s.port = 0;
      s.io_threads = 1;
      s.blocking_threads = 1;
      s.access_log = false;
      if (i == 1) {
        s.max_header_bytes = 256;
        s.max_body_bytes = 1024;
      }
      auto server = hasivu::http::Server::Create(s, TheRouter(), {}, *registry);
      FUZZ_CHECK(server.ok());
      out[i].server = std::move(*server);
      FUZZ_CHECK(out[i].server->Start().ok());
    }
    return out;
  }();
  return instances[small ? 1 : 0];
}

// Sends `bytes`, half-closes, and returns everything the server sent until it closed; false if
// it did not close within the timeout.
bool Exchange(uint16_t port, std::string_view bytes, std::string& received) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  FUZZ_CHECK(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int connected = -1;
  do {
    connected = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  } while (connected != 0 && errno == EINTR);
  if (connected != 0) std::fprintf(stderr, "server_fuzz: connect: %s\n", strerror(errno));
  FUZZ_CHECK(connected == 0);
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  // Closed with a reset once the server has closed (everything read): the client side keeps no
  // TIME_WAIT, which at hundreds of connections a second would use up the ephemeral ports.
  const linger reset{.l_onoff = 1, .l_linger = 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
  timeval tv{.tv_sec = 5, .tv_usec = 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  // libFuzzer's timeout alarm (SIGALRM, no SA_RESTART) interrupts a blocked call: EINTR is
  // retried, within the same 5 s.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR && std::chrono::steady_clock::now() < deadline) continue;
    if (n <= 0) break;  // the server answered and closed before reading everything
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  ::shutdown(fd, SHUT_WR);
  bool closed = false;
  char buf[65536];
  while (true) {
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n > 0) {
      received.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR && std::chrono::steady_clock::now() < deadline) continue;
    // 0: the server closed; a reset after its answers (it stopped reading) ends it too.
    closed = n == 0 || errno == ECONNRESET;
    if (!closed) std::fprintf(stderr, "server_fuzz: no end of the exchange: %s\n", strerror(errno));
    break;
  }
  ::close(fd);
  return closed;
}

// The echo's "key=hex" lines.
std::string EchoValue(std::string_view body, std::string_view key) {
  const std::string prefix = std::string(key) + "=";
  size_t at = 0;
  while (at < body.size()) {
    const size_t end = body.find('\n', at);
    const std::string_view line = body.substr(at, end - at);
    if (line.substr(0, prefix.size()) == prefix) return Unhex(line.substr(prefix.size()));
    if (end == std::string_view::npos) break;
    at = end + 1;
  }
  return {};
}

void CheckEcho(const bhttp::response<bhttp::string_body>& response,
               const hasivu::http::ServerSettings& settings) {
  const std::string& body = response.body();
  const std::string path = EchoValue(body, "path");
  FUZZ_CHECK(!path.empty() && path.front() == '/');
  FUZZ_CHECK(path.find('\0') == std::string::npos);
  size_t at = 0;
  while ((at = body.find("param=", at)) != std::string::npos) {
    const size_t end = body.find('\n', at);
    const std::string value = Unhex(std::string_view(body).substr(at + 6, end - at - 6));
    FUZZ_CHECK(!value.empty() && value.find('/') == std::string::npos);
    at = end;
  }
  const std::string request_id = EchoValue(body, "request_id");
  const std::string client_id = EchoValue(body, "client_id");
  if (EchoValue(body, "has_client_id") == "1" && IsSane(client_id)) {
    FUZZ_CHECK(request_id == client_id);
  } else {
    FUZZ_CHECK(IsGeneratedId(request_id));
  }
  FUZZ_CHECK(response["X-Request-Id"] == request_id);
  const size_t body_size = std::stoul(EchoValue(body, "body_size"));
  FUZZ_CHECK(body_size <= settings.max_body_bytes);
  if (body_size > 0) {
    const std::string content_type = EchoValue(body, "content_type");
    std::string_view type = content_type;
    type = type.substr(0, type.find(';'));
    while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
    while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
    FUZZ_CHECK(EqualsIgnoreCase(type, "application/json"));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const bool small = (data[0] & 1) != 0;
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  Instance& instance = Server(small);
  std::string received;
  FUZZ_CHECK(Exchange(instance.server->port(), input, received));

  // HEAD answers carry the GET's Content-Length and no body: a parser that does not know which
  // answers those are cannot split the stream, so only the first answer is read then.
  const bool has_head = input.find("HEAD") != std::string_view::npos;
  std::string_view rest = received;
  bool ended = false;  // a response after which nothing may follow
  while (!rest.empty()) {
    FUZZ_CHECK(!ended);
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(1 << 24);
    parser.header_limit(1 << 16);
    boost::system::error_code ec;
    size_t used = parser.put(boost::asio::buffer(rest.data(), rest.size()), ec);
    if (!ec && parser.is_header_done() && !parser.is_done()) {
      used += parser.put(boost::asio::buffer(rest.data() + used, rest.size() - used), ec);
    }
    if (has_head && (ec || !parser.is_done())) return 0;
    FUZZ_CHECK(!ec && parser.is_done());
    rest.remove_prefix(used);
    const auto& response = parser.get();
    const unsigned status = response.result_int();
    if (status == 100) continue;  // the interim answer to Expect: 100-continue
    FUZZ_CHECK(status == 200 || status == 304 || status == 400 || status == 404 || status == 405 ||
               status == 413 || status == 415 || status == 431);
    FUZZ_CHECK(response.version() == 11);
    FUZZ_CHECK(IsSane(response["X-Request-Id"]));
    FUZZ_CHECK(hasivu::metrics::ParseTraceparent(response["traceparent"]).has_value());
    FUZZ_CHECK(response["X-Content-Type-Options"] == "nosniff");
    if (status != 304) {
      FUZZ_CHECK(response.count("Content-Length") == 1);
      FUZZ_CHECK(response["Content-Length"] == std::to_string(response.body().size()));
    }
    if (status == 413 || status == 431 || !response.keep_alive()) ended = true;
    if (status == 200 && response.count("Content-Encoding") == 0 &&
        response.body().starts_with("path=")) {
      CheckEcho(response, instance.settings);
    }
    if (has_head) return 0;
  }
  return 0;
}
