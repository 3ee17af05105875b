#include "payments/razorpay/razorpay_gateway.h"

#include <openssl/evp.h>

#include <spdlog/spdlog.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <utility>

#include "common/retry.h"
#include "common/utf8.h"
#include "metrics/trace.h"

namespace hasivu::payments {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;

namespace {

constexpr size_t kMaxAnswerBytes = 1 << 20;

std::string Base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  out.resize(n);
  return out;
}

bool IsLoopbackHost(std::string_view host) {
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "[::1]" || host == "::1";
}

// Razorpay ids: a prefix, '_' and alphanumerics. Anything else never reaches a URL path.
bool IsGatewayId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) {
      return false;
    }
  }
  return true;
}

std::string StringField(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

// Amounts are integers in Razorpay's answers; anything else is an unreadable answer.
std::optional<int64_t> IntField(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (!v) return std::nullopt;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64() && v->as_uint64() <= INT64_MAX) return static_cast<int64_t>(v->as_uint64());
  return std::nullopt;
}

StatusOr<json::object> ParseObject(const std::string& body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return UnavailableError("razorpay answered with unreadable JSON");
  return std::move(v.as_object());
}

Status RejectedStatus(const RazorpayGateway::HttpAnswer& a) {
  std::string description;
  boost::system::error_code ec;
  json::value v = json::parse(a.body, ec);
  if (!ec && v.is_object()) {
    if (const json::value* e = v.as_object().if_contains("error"); e && e->is_object()) {
      description = Utf8Truncated(StringField(e->as_object(), "description"), 200);
    }
  }
  // Throttling (429), a timeout (408) or our own credentials refused (401, 403) say nothing of
  // the request itself: it may succeed later, or once an operator fixes the keys. Taken as a
  // final refusal, a payment.authorized webhook would be acknowledged and its authorization left
  // to lapse; as unavailable, the webhook is answered 503 and delivered again.
  if (a.status == 401 || a.status == 403 || a.status == 408 || a.status == 429) {
    return UnavailableError("razorpay answered HTTP " + std::to_string(a.status) +
                            (description.empty() ? "" : ": " + description));
  }
  // The reason marks a Status as written for clients, but the description is Razorpay's own
  // text: the context takes the mark off, so it can only ever reach the log.
  return Status(StatusCode::kFailedPrecondition,
                "refused the request (HTTP " + std::to_string(a.status) + ")" +
                    (description.empty() ? "" : ": " + description),
                "GATEWAY_REJECTED")
      .WithContext("razorpay");
}

// A failed attempt: kDeadlineExceeded when its deadline passed (a timeout, counted apart), else
// kUnavailable. Send() answers either as kUnavailable once the attempts are used up.
Status TransportError(std::string_view what, const beast::error_code& ec) {
  std::string message = "razorpay: " + std::string(what) + ": " + ec.message();
  if (ec == beast::error::timeout) return DeadlineExceededError(std::move(message));
  return UnavailableError(std::move(message));
}

// The measured operations, by the calls' method and path (never the ids in it).
constexpr std::string_view kOperations[] = {"create_order", "fetch_payment", "capture_payment",
                                            "refund_payment", "list_refunds"};

size_t OperationOf(std::string_view method, std::string_view path) {
  if (path.starts_with("/v1/orders")) return 0;
  if (path.ends_with("/capture")) return 2;
  if (path.ends_with("/refund")) return 3;
  if (path.find("/refunds") != std::string_view::npos) return 4;
  return method == "GET" ? 1 : 0;
}

// Runs the queued asynchronous operation to completion; the stream's own expiry bounds it.
void RunOne(asio::io_context& ioc) {
  ioc.restart();
  ioc.run();
}

template <class Stream>
Status Exchange(asio::io_context& ioc, Stream& stream,
                std::chrono::steady_clock::time_point deadline,
                bhttp::request<bhttp::string_body>& req, RazorpayGateway::HttpAnswer* answer) {
  beast::error_code ec;
  beast::get_lowest_layer(stream).expires_at(deadline);
  bhttp::async_write(stream, req, [&](beast::error_code e, size_t) { ec = e; });
  RunOne(ioc);
  if (ec) return TransportError("send failed", ec);
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(kMaxAnswerBytes);
  beast::get_lowest_layer(stream).expires_at(deadline);
  bhttp::async_read(stream, buffer, parser, [&](beast::error_code e, size_t) { ec = e; });
  RunOne(ioc);
  if (ec) return TransportError("receive failed", ec);
  answer->status = parser.get().result_int();
  answer->body = std::move(parser.get().body());
  return Status::Ok();
}

}  // namespace

StatusOr<std::unique_ptr<RazorpayGateway>> RazorpayGateway::Create(const GatewaySettings& s) {
  if (s.key_id.empty() || s.key_secret.empty()) {
    return InvalidArgumentError("razorpay gateway needs a key id and a key secret");
  }
  auto url = boost::urls::parse_absolute_uri(s.base_url);
  if (!url) return InvalidArgumentError("razorpay base URL is not an absolute URL");
  const std::string scheme(url->scheme());
  const std::string host(url->host());
  bool tls;
  if (scheme == "https") {
    tls = true;
  } else if (scheme == "http" && IsLoopbackHost(host)) {
    tls = false;
  } else {
    return InvalidArgumentError("razorpay base URL must be https:// (http:// only on loopback)");
  }
  if (host.empty()) return InvalidArgumentError("razorpay base URL has no host");
  std::unique_ptr<RazorpayGateway> g(new RazorpayGateway(s, tls));
  g->host_ = host;
  g->port_ = url->has_port() ? std::string(url->port()) : (tls ? "443" : "80");
  g->path_prefix_ = std::string(url->path());
  while (!g->path_prefix_.empty() && g->path_prefix_.back() == '/') g->path_prefix_.pop_back();
  g->authorization_ = "Basic " + Base64(s.key_id + ":" + s.key_secret);
  if (s.monitor != nullptr) {
    g->meters_.reserve(std::size(kOperations));
    for (std::string_view op : kOperations) g->meters_.emplace_back(*s.monitor, "razorpay", op);
  }
  if (tls) {
    g->ssl_ctx_ = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
    boost::system::error_code ec;
    g->ssl_ctx_->set_default_verify_paths(ec);
    if (ec) return InternalError("razorpay: cannot load the system CA store: " + ec.message());
    g->ssl_ctx_->set_verify_mode(asio::ssl::verify_peer, ec);
    if (ec) return InternalError("razorpay: cannot enable peer verification");
  }
  return g;
}

RazorpayGateway::RazorpayGateway(const GatewaySettings& settings, bool tls)
    : settings_(settings), tls_(tls) {}

StatusOr<RazorpayGateway::HttpAnswer> RazorpayGateway::SendOnce(std::string_view method,
                                                                const std::string& target,
                                                                const std::string& body) {
  using Clock = std::chrono::steady_clock;
  // Each attempt adds to the current request's gateway time. Its traceparent names the request's
  // own span as the parent (the span id the access log line carries), so Razorpay's side joins
  // a span that is on record here; outside a request each call starts a trace of its own.
  const metrics::ScopedSpan span(metrics::SpanKind::kGateway);
  const std::optional<metrics::TraceContext> current = metrics::CurrentTrace();
  const metrics::TraceContext outgoing = current ? *current : metrics::NewTrace();
  const Clock::time_point start = Clock::now();
  const Clock::time_point deadline = start + settings_.timeout;
  const Clock::time_point connect_deadline = std::min(deadline, start + settings_.connect_timeout);

  asio::io_context ioc;
  tcp::resolver resolver(ioc);
  beast::error_code ec;
  tcp::resolver::results_type endpoints = resolver.resolve(host_, port_, ec);
  if (ec) return UnavailableError("razorpay: cannot resolve the host: " + ec.message());

  bhttp::request<bhttp::string_body> req;
  req.method(method == "POST" ? bhttp::verb::post : bhttp::verb::get);
  req.target(target);
  req.version(11);
  req.set(bhttp::field::host, host_);
  req.set(bhttp::field::authorization, authorization_);
  req.set(bhttp::field::user_agent, "hasivu");
  req.set(bhttp::field::accept, "application/json");
  req.set(bhttp::field::connection, "close");
  req.set("traceparent", metrics::FormatTraceparent(outgoing));
  if (method == "POST") {
    req.set(bhttp::field::content_type, "application/json");
    req.body() = body;
  }
  req.prepare_payload();

  HttpAnswer answer;
  if (!tls_) {
    beast::tcp_stream stream(ioc);
    stream.expires_at(connect_deadline);
    stream.async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
    RunOne(ioc);
    if (ec) return TransportError("connect failed", ec);
    RETURN_IF_ERROR(Exchange(ioc, stream, deadline, req, &answer));
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    return answer;
  }
  beast::ssl_stream<beast::tcp_stream> stream(ioc, *ssl_ctx_);
  if (!SSL_set_tlsext_host_name(stream.native_handle(), host_.c_str())) {
    return InternalError("razorpay: cannot set SNI");
  }
  stream.set_verify_callback(asio::ssl::host_name_verification(host_));
  beast::get_lowest_layer(stream).expires_at(connect_deadline);
  beast::get_lowest_layer(stream).async_connect(
      endpoints, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
  RunOne(ioc);
  if (ec) return TransportError("connect failed", ec);
  beast::get_lowest_layer(stream).expires_at(deadline);
  stream.async_handshake(asio::ssl::stream_base::client, [&](beast::error_code e) { ec = e; });
  RunOne(ioc);
  if (ec) return TransportError("TLS handshake failed", ec);
  RETURN_IF_ERROR(Exchange(ioc, stream, deadline, req, &answer));
  beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_both, ec);
  return answer;
}

namespace {

// Attempts = retries + 1, waits from settings.backoff doubling, with a little jitter so that
// requests failing together do not hit the gateway together again.
RetryPolicy RetryPolicyOf(const GatewaySettings& settings, int retries) {
  return RetryPolicy{.max_attempts = std::max(0, retries) + 1,
                     .initial_backoff = settings.backoff,
                     .max_backoff = std::chrono::seconds(30),
                     .jitter = 0.2};
}

}  // namespace

StatusOr<RazorpayGateway::HttpAnswer> RazorpayGateway::Send(std::string_view method,
                                                            std::string_view path, std::string body,
                                                            int retries) {
  const std::string target = path_prefix_ + std::string(path);
  const RetryPolicy policy = RetryPolicyOf(settings_, retries);
  const auto started = std::chrono::steady_clock::now();
  int attempts = 0;
  int timeouts = 0;
  std::string_view outcome =
      "error";  // of the last attempt, as metrics::ExternalCallMeter names it
  // Transport failures and 5xx are retried; any other answer is the gateway's word.
  StatusOr<HttpAnswer> answer = Retry<HttpAnswer>(
      policy,
      [&](int attempt) -> StatusOr<HttpAnswer> {
        StatusOr<HttpAnswer> a = SendOnce(method, target, body);
        ++attempts;
        const bool timed_out = !a.ok() && a.status().code() == StatusCode::kDeadlineExceeded;
        if (timed_out) ++timeouts;
        outcome = a.ok() ? metrics::StatusClass(static_cast<int>(a->status))
                         : (timed_out ? "timeout" : "error");
        Status failed = a.ok() ? Status::Ok() : a.status();
        if (a.ok() && a->status >= 500) {
          failed = UnavailableError("razorpay answered HTTP " + std::to_string(a->status));
        }
        if (failed.ok()) return a;
        spdlog::warn("razorpay {} {}: attempt {} failed: {}", method, path, attempt + 1,
                     failed.message());
        return failed;
      },
      [](const Status&) { return true; });
  if (!meters_.empty()) {
    meters_[OperationOf(method, path)].Observe(std::chrono::steady_clock::now() - started, outcome,
                                               attempts - 1, timeouts);
  }
  if (answer.ok()) return answer;
  return UnavailableError("razorpay unavailable after " + std::to_string(policy.max_attempts) +
                          " attempts: " + answer.status().message());
}

namespace {

GatewayPayment PaymentOf(const json::object& o) {
  return GatewayPayment{.id = StringField(o, "id"),
                        .order_id = StringField(o, "order_id"),
                        .amount_paise = IntField(o, "amount").value_or(-1),
                        .currency = StringField(o, "currency"),
                        .status = StringField(o, "status"),
                        .method = StringField(o, "method"),
                        .error_code = StringField(o, "error_code"),
                        .error_description = StringField(o, "error_description")};
}

GatewayRefund RefundOf(const json::object& o) {
  return GatewayRefund{.id = StringField(o, "id"),
                       .payment_id = StringField(o, "payment_id"),
                       .amount_paise = IntField(o, "amount").value_or(-1),
                       .currency = StringField(o, "currency"),
                       .status = StringField(o, "status")};
}

bool UsableRefund(const GatewayRefund& r, std::string_view payment_id) {
  return IsGatewayId(r.id) && r.id.rfind("rfnd_", 0) == 0 && r.payment_id == payment_id &&
         r.amount_paise > 0 && !r.status.empty();
}

}  // namespace

StatusOr<GatewayOrder> RazorpayGateway::CreateOrder(const CreateOrderRequest& request) {
  if (request.amount_paise <= 0) return InvalidArgumentError("amount must be positive");
  if (request.currency.size() != 3) return InvalidArgumentError("currency must be ISO 4217");
  json::object body{{"amount", request.amount_paise},
                    {"currency", request.currency},
                    {"receipt", request.receipt.substr(0, 40)}};
  json::object notes;
  for (const auto& [k, v] : request.notes) notes[k] = v;
  body["notes"] = std::move(notes);
  ASSIGN_OR_RETURN(HttpAnswer a, Send("POST", "/v1/orders", json::serialize(body)));
  if (a.status < 200 || a.status >= 300) return RejectedStatus(a);
  ASSIGN_OR_RETURN(json::object o, ParseObject(a.body));
  GatewayOrder order{.id = StringField(o, "id"),
                     .status = StringField(o, "status"),
                     .amount_paise = IntField(o, "amount").value_or(-1),
                     .currency = StringField(o, "currency")};
  if (!IsGatewayId(order.id) || order.id.rfind("order_", 0) != 0 || order.amount_paise < 0) {
    return UnavailableError("razorpay answered an order without a usable id or amount");
  }
  if (order.amount_paise != request.amount_paise || order.currency != request.currency) {
    return UnavailableError("razorpay answered an order with a different amount or currency");
  }
  return order;
}

StatusOr<GatewayPayment> RazorpayGateway::FetchPayment(std::string_view payment_id) {
  if (!IsGatewayId(payment_id)) return NotFoundError("no such payment");
  ASSIGN_OR_RETURN(HttpAnswer a, Send("GET", "/v1/payments/" + std::string(payment_id), ""));
  if (a.status == 404 || a.status == 400) {
    // Razorpay answers an unknown id with 400 BAD_REQUEST_ERROR "The id provided does not exist".
    return NotFoundError("razorpay does not know the payment");
  }
  if (a.status < 200 || a.status >= 300) return RejectedStatus(a);
  ASSIGN_OR_RETURN(json::object o, ParseObject(a.body));
  GatewayPayment p = PaymentOf(o);
  if (p.id != payment_id || p.amount_paise < 0 || p.status.empty()) {
    return UnavailableError("razorpay answered a payment without a usable id, amount or status");
  }
  return p;
}

StatusOr<GatewayPayment> RazorpayGateway::CapturePayment(std::string_view payment_id,
                                                         int64_t amount_paise,
                                                         std::string_view currency) {
  if (!IsGatewayId(payment_id)) return NotFoundError("no such payment");
  if (amount_paise <= 0) return InvalidArgumentError("amount must be positive");
  json::object body{{"amount", amount_paise}, {"currency", currency}};
  ASSIGN_OR_RETURN(
      HttpAnswer a,
      Send("POST", "/v1/payments/" + std::string(payment_id) + "/capture", json::serialize(body)));
  if (a.status >= 400) {
    // Razorpay refuses to capture a captured payment (400). That is also what a retry sees when
    // the first attempt captured but its answer was lost, so the payment itself decides.
    StatusOr<GatewayPayment> current = FetchPayment(payment_id);
    if (!current.ok()) return current.status();
    if (current->status == "captured" && current->amount_paise == amount_paise &&
        current->currency == currency) {
      return current;
    }
    return RejectedStatus(a);
  }
  if (a.status < 200 || a.status >= 300) return RejectedStatus(a);
  ASSIGN_OR_RETURN(json::object o, ParseObject(a.body));
  GatewayPayment p = PaymentOf(o);
  if (p.id != payment_id || p.status != "captured" || p.amount_paise != amount_paise) {
    return UnavailableError("razorpay answered a capture without the captured payment");
  }
  return p;
}

StatusOr<std::optional<GatewayRefund>> RazorpayGateway::FindRefund(const std::string& payment_id,
                                                                   const std::string& receipt) {
  ASSIGN_OR_RETURN(HttpAnswer a,
                   Send("GET", "/v1/payments/" + payment_id + "/refunds?count=100", ""));
  if (a.status == 404 || a.status == 400)
    return NotFoundError("razorpay does not know the payment");
  if (a.status < 200 || a.status >= 300) return RejectedStatus(a);
  ASSIGN_OR_RETURN(json::object o, ParseObject(a.body));
  const json::value* items = o.if_contains("items");
  if (!items || !items->is_array()) {
    return UnavailableError("razorpay answered a refund list without items");
  }
  for (const json::value& item : items->as_array()) {
    if (!item.is_object() || StringField(item.as_object(), "receipt") != receipt) continue;
    GatewayRefund r = RefundOf(item.as_object());
    if (!UsableRefund(r, payment_id)) {
      return UnavailableError("razorpay listed a refund without a usable id or amount");
    }
    return std::optional<GatewayRefund>(std::move(r));
  }
  return std::optional<GatewayRefund>();
}

StatusOr<GatewayRefund> RazorpayGateway::RefundPayment(const RefundRequest& request) {
  if (request.amount_paise <= 0) return InvalidArgumentError("refund amount must be positive");
  if (request.receipt.empty()) return InvalidArgumentError("a refund needs a receipt");
  if (!IsGatewayId(request.payment_id)) return NotFoundError("no such payment");
  json::object body{{"amount", request.amount_paise},
                    {"speed", "normal"},
                    {"receipt", request.receipt.substr(0, 40)}};
  json::object notes;
  for (const auto& [k, v] : request.notes) notes[k] = v;
  body["notes"] = std::move(notes);
  const std::string receipt = request.receipt.substr(0, 40);
  const std::string path = "/v1/payments/" + request.payment_id + "/refund";
  const RetryPolicy policy = RetryPolicyOf(settings_, settings_.retries);
  // Only a list or a POST that did not get through is tried again; every answer is final.
  bool transient = false;
  StatusOr<GatewayRefund> refund = Retry<GatewayRefund>(
      policy,
      [&](int) -> StatusOr<GatewayRefund> {
        transient = false;
        // A refund with this receipt may exist already (an earlier call or attempt whose answer
        // was lost), and a second POST would refund again while money is left: the list decides
        // first, and when it cannot be read nothing is sent.
        StatusOr<std::optional<GatewayRefund>> earlier = FindRefund(request.payment_id, receipt);
        if (!earlier.ok()) {
          transient = earlier.status().code() != StatusCode::kNotFound;
          return earlier.status();
        }
        if (*earlier) return std::move(**earlier);
        StatusOr<HttpAnswer> a = Send("POST", path, json::serialize(body), /*retries=*/0);
        if (!a.ok()) {
          transient = true;
          return a.status();
        }
        if (a->status == 404) return NotFoundError("razorpay does not know the payment");
        if (a->status < 200 || a->status >= 300) return RejectedStatus(*a);
        ASSIGN_OR_RETURN(json::object o, ParseObject(a->body));
        GatewayRefund r = RefundOf(o);
        if (!UsableRefund(r, request.payment_id)) {
          return UnavailableError("razorpay answered a refund without a usable id or amount");
        }
        return r;
      },
      [&](const Status&) { return transient; });
  if (refund.ok() || !transient) return refund;
  return UnavailableError("razorpay unavailable after " + std::to_string(policy.max_attempts) +
                          " refund attempts: " + refund.status().message());
}

}  // namespace hasivu::payments
