#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <boost/asio/write.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "common/time_util.h"
#include "compress/codec.h"
#include "compress/negotiation.h"
#include "http/connection.h"
#include "http/server_internal.h"
#include "metrics/http_series.h"
#include "metrics/trace.h"

// The response side: a finished Response is encoded (server.h, "Compression"), counted and
// logged, then serialised by hand (status line and headers into one string, the body sent from
// where it lies) and written in batches of every ready response at the front of the queue, so
// pipelined answers go out in one write. Beast is used here only for reason phrases and the
// Expect field name; the parser stays in connection.cc.

namespace hasivu::http::internal {
namespace {

namespace bhttp = boost::beast::http;

bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsValidHeader(std::string_view name, std::string_view value) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!IsTokenChar(c)) return false;
  }
  for (char c : value) {
    if (c == '\r' || c == '\n' || c == '\0') return false;
  }
  return true;
}

// Headers the server writes itself; a handler's copy of them is dropped.
bool IsServerOwnedHeader(std::string_view name) {
  for (std::string_view owned :
       {"content-length", "content-type", "content-encoding", "transfer-encoding", "connection",
        "x-request-id", "server", "date", "keep-alive", "x-content-type-options", "traceparent"}) {
    if (EqualsIgnoreCase(name, owned)) return true;
  }
  return false;
}

constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// IMF-fixdate, rebuilt at most once a second per thread. Built by hand because strftime's %a/%b
// follow the process locale.
std::string_view HttpDate() {
  thread_local std::time_t cached_second = -1;
  thread_local char text[32];
  const std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::snprintf(text, sizeof(text), "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday % 7],
                  tm.tm_mday, kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                  tm.tm_sec);
    cached_second = now;
  }
  return text;
}

// JSON string escaping for the access log. Bytes outside printable ASCII are escaped one by one,
// so the line is valid JSON whatever a client put in its path.
void AppendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  // Runs that need no escape (nearly every id and path) are appended whole.
  size_t run = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c != '"' && c != '\\' && c >= 0x20 && c < 0x7f) continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else {
      const char escaped[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xf]};
      out.append(escaped, sizeof(escaped));
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

void AppendUnsigned(std::string& out, uint64_t value) {
  char text[20];
  const std::to_chars_result end = std::to_chars(text, text + sizeof(text), value);
  out.append(text, static_cast<size_t>(end.ptr - text));
}

// Whether a comma-separated header value lists `token` (case-insensitive).
bool ListsToken(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    const size_t comma = value.find(',');
    if (EqualsIgnoreCase(Trim(value.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

// `nanos` as milliseconds with three decimals ("12.345"), without floating point.
void AppendMillis(std::string& out, int64_t nanos) {
  if (nanos < 0) nanos = 0;
  const int64_t micros = nanos / 1000;
  AppendUnsigned(out, static_cast<uint64_t>(micros / 1000));
  const int frac = static_cast<int>(micros % 1000);
  const char tail[] = {'.', static_cast<char>('0' + frac / 100),
                       static_cast<char>('0' + frac / 10 % 10), static_cast<char>('0' + frac % 10)};
  out.append(tail, sizeof(tail));
}

void AddVaryAcceptEncoding(Response& response) {
  const std::string* vary = response.headers.Find("Vary");
  if (vary == nullptr) {
    response.headers.Add("Vary", "Accept-Encoding");
  } else if (Trim(*vary) != "*" && !ListsToken(*vary, "Accept-Encoding")) {
    response.headers.Set("Vary", *vary + ", Accept-Encoding");
  }
}

// Renames the identity ETag "X" of a response to its encoded variant's "X-br" etc.
void TagEncodedVariant(Response& response, compress::Encoding encoding) {
  if (const std::string* etag = response.headers.Find("ETag")) {
    response.headers.Set("ETag", compress::TagForEncoding(*etag, encoding));
  }
}

}  // namespace

CompressionMetrics RegisterCompressionMetrics(metrics::Registry& registry) {
  CompressionMetrics m;
  for (compress::Encoding e : compress::kCodecs) {
    const size_t i = static_cast<size_t>(e);
    const metrics::HttpCompressionSeries series =
        metrics::HttpCompression(registry, compress::EncodingName(e));
    m.responses[i] = series.responses;
    m.bytes_in[i] = series.bytes_in;
    m.bytes_out[i] = series.bytes_out;
    m.errors[i] = series.errors;
    m.precompressed[i] = series.precompressed;
    m.seconds[i] = series.seconds;
  }
  return m;
}

// A client that sent "Expect: 100-continue" waits (curl: up to a second) before sending the
// body. Only sent when no response is queued, so it cannot interleave with one. It is written
// like a response batch of zero responses (writing_ set, under the write timer): a client that
// stops reading must not be able to pin the I/O thread with a blocking write, and a response
// that becomes ready meanwhile waits for OnWrite.
void Connection::MaybeSendContinue() {
  const auto& header = parser_->get();
  const auto expect = header[bhttp::field::expect];
  if (expect.empty() || !EqualsIgnoreCase(Trim(expect), "100-continue")) return;
  if (!queue_.empty() || writing_ || header.version() < 11) return;
  static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
  write_count_ = 0;
  close_after_write_ = false;
  writing_ = true;
  ArmWriteTimer();
  asio::async_write(
      socket_, asio::buffer(kContinue.data(), kContinue.size()),
      [self = shared_from_this()](boost::system::error_code ec, size_t) { self->OnWrite(ec); });
}

void Connection::Complete(const std::shared_ptr<Pending>& pending, Response response,
                          const RouteMetrics& metrics, bool encoded) {
  if (!encoded) server_.EncodeResponse(*pending, response);
  // RFC 9111 already bars shared caches from storing answers to requests with Authorization
  // unless told otherwise, but not every proxy or CDN honours that; saying it costs one header.
  if (pending->authorized && response.headers.Find("Cache-Control") == nullptr) {
    response.headers.Set("Cache-Control", "private");
  }
  pending->response = std::move(response);
  pending->ready = true;
  pending->route_name = metrics.name;
  const bool bodiless =
      pending->head || pending->response.status == 204 || pending->response.status == 304;
  server_.Record(*pending, metrics, remote_, bodiless ? 0 : pending->response.body.size());
  DoWrite();
}

void Connection::BuildHead(Pending& pending, bool close) {
  const Response& response = pending.response;
  std::string& out = pending.wire_head;
  out.clear();
  out.reserve(256);
  out += "HTTP/1.1 ";
  out += std::to_string(response.status);
  out += ' ';
  out += bhttp::obsolete_reason(static_cast<bhttp::status>(response.status));
  out += "\r\nServer: hasivu\r\nDate: ";
  out += HttpDate();
  out += "\r\n";
  if (!response.content_type.empty() && IsValidHeader("Content-Type", response.content_type)) {
    out += "Content-Type: ";
    out += response.content_type;
    out += "\r\n";
  }
  // 204 and 304 carry no body and, by RFC 9110, no (or no meaningful) Content-Length.
  if (response.status != 204 && response.status != 304) {
    out += "Content-Length: ";
    out += std::to_string(response.body.size());
    out += "\r\n";
  }
  if (!response.content_encoding.empty()) {
    out += "Content-Encoding: ";
    out += response.content_encoding;
    out += "\r\n";
  }
  out += "X-Request-Id: ";
  out += pending.request_id;
  out += "\r\ntraceparent: ";
  metrics::AppendTraceparent(out, pending.trace.context);
  out += "\r\nX-Content-Type-Options: nosniff\r\n";
  if (close) {
    out += "Connection: close\r\n";
  } else if (pending.http10_keep_alive) {
    out += "Connection: keep-alive\r\n";
  }
  for (const auto& [name, value] : response.headers.items()) {
    if (IsServerOwnedHeader(name)) continue;
    if (!IsValidHeader(name, value)) {
      spdlog::warn("http: dropped invalid response header '{}' (request {})", name,
                   pending.request_id);
      continue;
    }
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  out += "\r\n";
}

void Connection::DoWrite() {
  if (writing_ || closed_ || lingering_) return;
  write_buffers_.clear();
  write_count_ = 0;
  close_after_write_ = false;
  for (size_t i = 0; i < queue_.size() && queue_[i]->ready; ++i) {
    Pending& pending = *queue_[i];
    const bool last_ever =
        read_closed_ && read_state_ != ReadState::kBody && i + 1 == queue_.size();
    const bool close = pending.close || last_ever;
    BuildHead(pending, close);
    write_buffers_.emplace_back(asio::buffer(pending.wire_head));
    const unsigned status = pending.response.status;
    if (!pending.head && status != 204 && status != 304 && !pending.response.body.empty()) {
      write_buffers_.emplace_back(asio::buffer(pending.response.body));
    }
    ++write_count_;
    if (close) {
      close_after_write_ = true;
      break;
    }
  }
  if (write_count_ == 0) return;
  writing_ = true;
  UpdateIdleTimer();
  ArmWriteTimer();
  asio::async_write(
      socket_, write_buffers_,
      [self = shared_from_this()](boost::system::error_code ec, size_t) { self->OnWrite(ec); });
}

void Connection::OnWrite(boost::system::error_code ec) {
  writing_ = false;
  write_timer_.cancel();
  if (closed_) return;
  if (ec) {
    Close();
    return;
  }
  bool wrote_ok = false;
  for (size_t i = 0; i < write_count_; ++i) {
    const Pending& written = *queue_.front();
    wrote_ok = wrote_ok || written.response.status == 200;
    if (written.first) {
      server_.OnFirstRequestWritten(written, SteadyClock::now());
      holds_first_request_ = false;
    }
    queue_.pop_front();
  }
  if (wrote_ok) server_.NoteOkWritten();
  if (close_after_write_) {
    StartLingeringClose();
    return;
  }
  if (MaybeFinish()) return;
  DoRead();
  UpdateIdleTimer();
  DoWrite();
}

void ServerImpl::PrepareEncoding(Pending& pending, Request& request) const {
  const compress::Settings& cs = settings_.compression;
  if (!cs.enabled) return;
  const std::string* accept = request.headers.Find("Accept-Encoding");
  if (accept == nullptr) return;
  pending.encoding = compress::Negotiate(*accept, cs.codecs);
  if (pending.encoding == compress::Encoding::kIdentity) return;
  const std::string* if_none_match = request.headers.Find("If-None-Match");
  if (if_none_match == nullptr) return;
  std::optional<std::string> rewritten =
      compress::IfNoneMatchForHandler(*if_none_match, pending.encoding);
  if (!rewritten) return;
  pending.if_none_match = *if_none_match;
  request.headers.Set("If-None-Match", std::move(*rewritten));
}

void ServerImpl::EncodeResponse(const Pending& pending, Response& response) {
  const compress::Settings& cs = settings_.compression;
  const bool bodiless = response.status == 204 || response.status == 304;
  if (!response.content_encoding.empty()) {
    const std::optional<compress::Encoding> given =
        compress::EncodingFromName(response.content_encoding);
    if (!given || *given == compress::Encoding::kIdentity) {
      spdlog::error("http: handler set content_encoding '{}' (request {}); answering 500",
                    response.content_encoding.substr(0, 32), pending.request_id);
      Request request;
      request.method = pending.method;
      request.path = pending.path;
      request.request_id = pending.request_id;
      response = RenderError(500, "INTERNAL", "An internal error occurred", request);
      response.content_encoding.clear();
      return;
    }
    response.content_encoding = std::string(compress::EncodingName(*given));
    AddVaryAcceptEncoding(response);
    TagEncodedVariant(response, *given);
    compression_metrics_.precompressed[static_cast<size_t>(*given)]->Add();
    if (bodiless) response.content_encoding.clear();
    return;
  }
  if (!cs.enabled) return;
  if (!(response.status == 304 || compress::IsCompressibleContentType(response.content_type)))
    return;
  AddVaryAcceptEncoding(response);
  const compress::Encoding encoding = pending.encoding;
  if (encoding == compress::Encoding::kIdentity) return;
  if (response.status == 304) {
    // The handler matched the identity tag; answer with the variant tag the client listed.
    if (pending.if_none_match.empty()) return;
    if (const std::string* etag = response.headers.Find("ETag")) {
      std::string variant = compress::TagForEncoding(*etag, encoding);
      if (compress::IfNoneMatchLists(pending.if_none_match, variant)) {
        response.headers.Set("ETag", std::move(variant));
      }
    }
    return;
  }
  if (pending.head || bodiless || response.body.size() < cs.min_bytes) return;

  const size_t slot = static_cast<size_t>(encoding);
  const auto start = SteadyClock::now();
  StatusOr<std::string> encoded = InternalError("not run");
  try {
    // Compressed for this response only (a cached body comes with its encoding already).
    encoded = compress::Encode(encoding, response.body, compress::PerRequestLevelFor(cs, encoding));
  } catch (const std::exception& e) {
    encoded = InternalError(e.what());
  }
  compression_metrics_.seconds[slot]->Record(
      std::chrono::duration<double, std::micro>(SteadyClock::now() - start).count());
  if (!encoded.ok()) {
    compression_metrics_.errors[slot]->Add();
    spdlog::warn("http: {} compression failed, sending identity (request {}): {}",
                 compress::EncodingName(encoding), pending.request_id, encoded.status().ToString());
    return;
  }
  if (!compress::IsWorthSending(response.body.size(), encoded->size())) return;
  compression_metrics_.responses[slot]->Add();
  compression_metrics_.bytes_in[slot]->Add(response.body.size());
  compression_metrics_.bytes_out[slot]->Add(encoded->size());
  response.body = std::move(*encoded);
  response.content_encoding = std::string(compress::EncodingName(encoding));
  TagEncodedVariant(response, encoding);
}

void ServerImpl::Record(const Pending& pending, const RouteMetrics& metrics,
                        const std::string& remote, size_t body_bytes) {
  const unsigned status = pending.response.status;
  const auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() -
                                                                             pending.received_at)
                           .count();
  const int method = MethodToIndex(pending.method);
  const size_t status_class = std::min<size_t>(3, status < 200 ? 3 : status / 100 - 2);
  metrics::Counter* counter = metrics.requests[method][status_class];
  if (counter == nullptr) counter = unmatched_.requests[method][status_class];
  counter->Add();
  // The first request's time is cold start's, reported apart (server.h, "First request").
  if (!pending.first) metrics.latency->Record(static_cast<double>(elapsed));

  if (!access_log_) return;
  // Built in a buffer this thread keeps, and copied into the queue's slot: no allocation per line.
  // Keys are string_views (no strlen) and numbers go through to_chars (no temporary string):
  // built on every request, it was the largest part of what monitoring first added to a cached
  // one (docs/performance.md, "Monitoring").
  using namespace std::string_view_literals;
  thread_local std::string line;
  line.clear();
  line += R"({"ts":")"sv;
  line += FormatRfc3339Millis(std::chrono::system_clock::now());
  line += R"(","request_id":)"sv;
  AppendJsonString(line, pending.request_id);
  line += R"(,"trace_id":")"sv;
  metrics::AppendTraceIdHex(line, pending.trace.context);
  line += R"(","span_id":")"sv;
  metrics::AppendSpanIdHex(line, pending.trace.context);
  if (pending.parent_span_id) {
    metrics::TraceContext parent;
    parent.span_id = *pending.parent_span_id;
    line += R"(","parent_span_id":")"sv;
    metrics::AppendSpanIdHex(line, parent);
  }
  line += R"(","method":)"sv;
  AppendJsonString(line, pending.method);
  line += R"(,"path":)"sv;
  AppendJsonString(line, pending.path);
  line += R"(,"status":)"sv;
  AppendUnsigned(line, status);
  line += R"(,"bytes":)"sv;
  AppendUnsigned(line, body_bytes);
  line += R"(,"duration_us":)"sv;
  AppendUnsigned(line, static_cast<uint64_t>(std::max<int64_t>(0, elapsed)));
  // In SpanKind order (the server trace test tells the three apart by their values).
  static constexpr std::array<std::string_view, metrics::kSpanKinds> kMsKeys = {
      R"(,"db_ms":)"sv, R"(,"cache_ms":)"sv, R"(,"gateway_ms":)"sv};
  static constexpr std::array<std::string_view, metrics::kSpanKinds> kCallsKeys = {
      R"(,"db_calls":)"sv, R"(,"cache_calls":)"sv, R"(,"gateway_calls":)"sv};
  const metrics::SpanTotals& spans = pending.trace.spans;
  for (size_t kind = 0; kind < metrics::kSpanKinds; ++kind) {
    line += kMsKeys[kind];
    AppendMillis(line, spans.nanos[kind]);
    line += kCallsKeys[kind];
    AppendUnsigned(line, spans.count[kind]);
  }
  line += R"(,"remote":)"sv;
  AppendJsonString(line, remote);
  if (pending.first) line += R"(,"cold":true)"sv;
  line += '}';
  access_log_->Write(line);
}

}  // namespace hasivu::http::internal
