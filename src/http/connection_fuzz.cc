// libFuzzer harness: the request parser as the connection runs it (connection.cc, ReadHeader and
// OnReadError) and what the server does with a parsed head before the handler. The input is a
// byte stream from a client, possibly several pipelined requests; its first byte chooses the
// limits (the defaults of ServerSettings, or small ones Server::Create also accepts, so that short
// inputs reach them) and how many bytes each read returns.
//
// Invariants, beyond "no crash, no sanitizer report":
//   - every parse error is one connection.cc answers as documented (server.h, "Request
//     handling"): 413 for body_limit, 431 for header_limit/buffer_overflow, 400 for any other
//     error of Beast's HTTP category; end_of_stream only before a request's first byte;
//   - a parsed request respects the limits: its request line within max_header_bytes, and its
//     header fields too when the head was whole in the buffer before its parse (see below); its
//     body within max_body_bytes, and the head the parser took ends with CR LF CR LF;
//   - header names are tokens and values hold no CR, LF or NUL (the server copies them into
//     Request and echoes X-Request-Id);
//   - IsSaneRequestId accepts exactly 1..64 characters of [A-Za-z0-9._-];
//   - a traceparent the server would continue parses back from its own formatting, and its
//     child keeps the trace id and flags with a new span id;
//   - the router's match of the target's path is a real route: substituting the parameters into
//     the matched pattern gives the path back, and no parameter is empty or holds a '/'.
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/testing/fuzz_check.h"
#include "compress/negotiation.h"
#include "http/message.h"
#include "http/router.h"
#include "http/server.h"
#include "http/server_internal.h"
#include "metrics/trace.h"

namespace {

namespace bhttp = boost::beast::http;
namespace asio = boost::asio;
using hasivu::http::EqualsIgnoreCase;

// A client's bytes, handed out `chunk` at a time, then end of stream: what the socket gives the
// connection's reads.
class ByteStream {
 public:
  ByteStream(std::string_view bytes, size_t chunk) : bytes_(bytes), chunk_(chunk) {}

  template <class MutableBufferSequence>
  size_t read_some(const MutableBufferSequence& buffers, boost::system::error_code& ec) {
    if (bytes_.empty()) {
      ec = asio::error::eof;
      return 0;
    }
    ec = {};
    const size_t want = std::min(chunk_, bytes_.size());
    const size_t n = asio::buffer_copy(buffers, asio::buffer(bytes_.data(), want));
    bytes_.remove_prefix(n);
    given_ += n;
    return n;
  }
  // Bytes handed out so far.
  size_t given() const { return given_; }
  template <class MutableBufferSequence>
  size_t read_some(const MutableBufferSequence& buffers) {
    boost::system::error_code ec;
    const size_t n = read_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }

 private:
  std::string_view bytes_;
  const size_t chunk_;
  size_t given_ = 0;
};

bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool ExpectedSaneRequestId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// Patterns of the shapes the API registers: literals beside parameters at the same depth, nested
// parameters, the root.
const hasivu::http::Router& TestRouter() {
  static const hasivu::http::Router* router = [] {
    auto* r = new hasivu::http::Router();
    const char* patterns[] = {"/",
                              "/healthz",
                              "/api/v1/users/me",
                              "/api/v1/users/{id}",
                              "/api/v1/orders",
                              "/api/v1/orders/{id}",
                              "/api/v1/orders/{id}/status",
                              "/api/v1/schools/{school}/menus/{date}",
                              "/dashboard/assets/{name}"};
    for (const char* p : patterns) {
      FUZZ_CHECK(
          r->Add("GET", p, [](hasivu::http::Request&) { return hasivu::http::Response{}; }).ok());
    }
    FUZZ_CHECK(r->Add("PATCH", "/api/v1/orders/{id}/status", [](hasivu::http::Request&) {
                  return hasivu::http::Response{};
                }).ok());
    return r;
  }();
  return *router;
}

void CheckRouting(std::string_view method, std::string_view path) {
  hasivu::http::MatchResult m = TestRouter().Match(method, path);
  if (m.kind == hasivu::http::MatchResult::Kind::kMethodNotAllowed) {
    FUZZ_CHECK(!m.allow.empty());
    return;
  }
  if (m.kind != hasivu::http::MatchResult::Kind::kFound) return;
  FUZZ_CHECK(m.route != nullptr);
  std::string rebuilt;
  size_t next_param = 0;
  const std::string& pattern = m.route->pattern;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '{') {
      rebuilt += pattern[i];
      continue;
    }
    const size_t close = pattern.find('}', i);
    FUZZ_CHECK(close != std::string::npos && next_param < m.params.size());
    const auto& [name, value] = m.params[next_param++];
    FUZZ_CHECK(name == pattern.substr(i + 1, close - i - 1));
    FUZZ_CHECK(!value.empty() && value.find('/') == std::string::npos);
    rebuilt += value;
    i = close;
  }
  FUZZ_CHECK(next_param == m.params.size());
  FUZZ_CHECK(rebuilt == path);
}

void CheckTraceparent(std::string_view value) {
  const std::optional<hasivu::metrics::TraceContext> parent =
      hasivu::metrics::ParseTraceparent(value);
  if (!parent) return;
  FUZZ_CHECK(parent->valid());
  FUZZ_CHECK(value.size() >= hasivu::metrics::kTraceparentLength);
  const std::string formatted = hasivu::metrics::FormatTraceparent(*parent);
  FUZZ_CHECK(formatted.size() == hasivu::metrics::kTraceparentLength);
  const std::optional<hasivu::metrics::TraceContext> again =
      hasivu::metrics::ParseTraceparent(formatted);
  FUZZ_CHECK(again && *again == *parent);
  // Version 00 is exactly the formatted text (lowercase hex only).
  if (value.substr(0, 3) == "00-") FUZZ_CHECK(formatted == value);
  const hasivu::metrics::TraceContext child = hasivu::metrics::ChildOf(*parent);
  FUZZ_CHECK(child.valid() && child.trace_id == parent->trace_id && child.flags == parent->flags);
}

// What connection.cc does with a parsed head before routing (OnRequest, Dispatch).
void CheckHead(const bhttp::request<bhttp::string_body>& message) {
  hasivu::http::Request request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  FUZZ_CHECK(!request.method.empty());
  for (char c : request.method) FUZZ_CHECK(IsTokenChar(c));
  FUZZ_CHECK(!request.target.empty());
  // Beast takes obs-text (bytes >= 0x80) in a target; never a control byte or a space.
  for (unsigned char c : request.target) FUZZ_CHECK(c > 0x20 && c != 0x7f);
  size_t traceparents = 0;
  std::string_view traceparent;
  for (const auto& field : message) {
    const std::string_view name = field.name_string();
    const std::string_view value = field.value();
    FUZZ_CHECK(!name.empty());
    for (char c : name) FUZZ_CHECK(IsTokenChar(c));
    for (char c : value) FUZZ_CHECK(c != '\r' && c != '\n' && c != '\0');
    request.headers.Add(std::string(name), std::string(value));
    if (EqualsIgnoreCase(name, "traceparent") && traceparents++ == 0) traceparent = value;
  }
  // Headers::Find is the server's lookup: case-insensitive, first of the name.
  for (const auto& [name, value] : request.headers.items()) {
    const std::string* found = request.headers.Find(name);
    FUZZ_CHECK(found != nullptr);
    for (const auto& [other_name, other_value] : request.headers.items()) {
      if (EqualsIgnoreCase(other_name, name)) {
        FUZZ_CHECK(&other_value == found);
        break;
      }
    }
  }
  const std::string* id = request.headers.Find("X-Request-Id");
  if (id != nullptr) {
    FUZZ_CHECK(hasivu::http::internal::IsSaneRequestId(*id) == ExpectedSaneRequestId(*id));
  }
  if (traceparents == 1) CheckTraceparent(traceparent);
  if (const std::string* ae = request.headers.Find("Accept-Encoding")) {
    const hasivu::compress::Encoding e =
        hasivu::compress::Negotiate(*ae, hasivu::compress::EncodingSet::All());
    FUZZ_CHECK(e == hasivu::compress::Encoding::kIdentity ||
               hasivu::compress::EncodingSet::All().Has(e));
  }
  std::string_view target = request.target;
  const size_t question = target.find('?');
  const std::string_view path = target.substr(0, question);
  if (!path.empty() && path.front() == '/') CheckRouting(request.method, path);
}

bool ContainsIgnoreCase(std::string_view text, std::string_view word) {
  for (size_t i = 0; i + word.size() <= text.size(); ++i) {
    if (EqualsIgnoreCase(text.substr(i, word.size()), word)) return true;
  }
  return false;
}

bool InHttpCategory(const boost::system::error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t control = data[0];
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);

  hasivu::http::ServerSettings settings;
  if (control & 1) {
    // The smallest head limit Server::Create accepts, and a small body limit.
    settings.max_header_bytes = 256;
    settings.max_body_bytes = 1 + ((control >> 1) & 0x3f) * 16;
  }
  const size_t chunk = (control & 0x80) ? 1 + ((control >> 1) & 0x3f) : 1 << 20;
  ByteStream stream(input, chunk);
  // As the connection's: room for the largest head and body it accepts, and a read's slack.
  boost::beast::flat_buffer buffer(settings.max_header_bytes + settings.max_body_bytes + 65536);

  for (size_t n = 0; n < settings.max_pipelined; ++n) {
    std::optional<bhttp::request_parser<bhttp::string_body>> parser;
    parser.emplace();
    parser->header_limit(static_cast<std::uint32_t>(settings.max_header_bytes));
    parser->body_limit(settings.max_body_bytes);
    boost::system::error_code ec;
    const size_t buffered_before = buffer.size();
    const size_t head_start = stream.given() - buffer.size();
    const size_t given_before = stream.given();
    const size_t head_bytes = bhttp::read_header(stream, buffer, *parser, ec);
    if (!ec) {
      FUZZ_CHECK(parser->is_header_done());
      const std::string_view head = input.substr(head_start, head_bytes);
      FUZZ_CHECK(stream.given() - buffer.size() == head_start + head_bytes);
      FUZZ_CHECK(head.size() >= 4 && head.substr(head.size() - 4) == "\r\n\r\n");
      // Beast 1.81 holds the request line and the header fields EACH to header_limit (the start
      // line is not counted against the fields), and only a head already whole in the buffer
      // when its parse starts (one put) has its fields held to it exactly: one that arrives over
      // several reads may pass the limit several times over (docs/reliability.md, "8. Fuzzing",
      // findings; the connection's reads are 1 KiB, then from 512 bytes up). What always holds:
      // the request line is within the limit and the head within the connection's buffer.
      const size_t start_line = head.find("\r\n") + 2;
      FUZZ_CHECK(start_line <= settings.max_header_bytes);
      FUZZ_CHECK(head_bytes <= buffer.max_size());
      if (head_start + head_bytes <= given_before) {
        FUZZ_CHECK(head_bytes - start_line <= settings.max_header_bytes);
      }
      if (!parser->is_done()) bhttp::read(stream, buffer, *parser, ec);
    }
    if (ec) {
      if (ec == bhttp::error::end_of_stream) {
        // Only a clean end between requests, never inside one.
        FUZZ_CHECK(buffered_before == 0 && buffer.size() == 0);
        return 0;
      }
      // connection.cc's mapping: each of these is answered (413, 431, 400) and closes.
      const bool answered = ec == bhttp::error::body_limit || ec == bhttp::error::header_limit ||
                            ec == bhttp::error::buffer_overflow || InHttpCategory(ec);
      FUZZ_CHECK(answered);
      if (ec == bhttp::error::body_limit) {
        // Only a declared length (checked while the head is read) or a chunk over the limit.
        FUZZ_CHECK(ContainsIgnoreCase(input, "content-length") ||
                   ContainsIgnoreCase(input, "transfer-encoding"));
      }
      return 0;
    }
    FUZZ_CHECK(parser->is_done());
    bhttp::request<bhttp::string_body> message = parser->release();
    FUZZ_CHECK(message.body().size() <= settings.max_body_bytes);
    CheckHead(message);
    if (!message.keep_alive()) return 0;  // the connection reads no further
  }
  return 0;
}
