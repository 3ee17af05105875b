#include "payments/testing/razorpay_standin.h"

#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "common/ids.h"
#include "payments/signature.h"

namespace hasivu::payments::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;

namespace {

std::string Base64(std::string_view in) {
  static constexpr char kTable[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                       (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    out += kTable[(v >> 18) & 63];
    out += kTable[(v >> 12) & 63];
    out += kTable[(v >> 6) & 63];
    out += kTable[v & 63];
  }
  if (i + 1 == in.size()) {
    const unsigned v = static_cast<unsigned char>(in[i]) << 16;
    out += kTable[(v >> 18) & 63];
    out += kTable[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    const unsigned v =
        (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += kTable[(v >> 18) & 63];
    out += kTable[(v >> 12) & 63];
    out += kTable[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string ErrorBody(std::string_view description) {
  return json::serialize(json::object{{"error", json::object{{"code", "BAD_REQUEST_ERROR"},
                                                             {"description", description},
                                                             {"source", "NA"},
                                                             {"step", "NA"},
                                                             {"reason", "NA"}}}});
}

}  // namespace

struct RazorpayStandin::Impl {
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
};

RazorpayStandin::RazorpayStandin(std::string key_id, std::string key_secret)
    : authorization_("Basic " + Base64(key_id + ":" + key_secret)), impl_(new Impl) {
  if (!InitCrypto().ok()) std::abort();
  beast::error_code ec;
  const tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(ep.protocol(), ec);
  if (!ec) impl_->acceptor.bind(ep, ec);
  if (!ec) impl_->acceptor.listen(64, ec);
  if (ec) {
    std::fprintf(stderr, "razorpay stand-in cannot listen: %s\n", ec.message().c_str());
    std::abort();
  }
  port_ = impl_->acceptor.local_endpoint().port();
  accept_thread_ = std::thread([this] { AcceptLoop(); });
}

RazorpayStandin::~RazorpayStandin() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    // shutdown() wakes a thread blocked in accept() or read() on Linux.
    ::shutdown(impl_->acceptor.native_handle(), SHUT_RDWR);
    for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
  }
  cv_.notify_all();
  accept_thread_.join();
  std::map<uint64_t, std::thread> threads;
  {
    std::lock_guard lock(mu_);
    threads.swap(connection_threads_);
  }
  for (auto& [id, t] : threads) t.join();
}

void RazorpayStandin::AcceptLoop() {
  for (;;) {
    beast::error_code ec;
    tcp::socket socket(impl_->ioc);
    impl_->acceptor.accept(socket, ec);
    std::vector<std::thread> done;
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      // A thread that ended keeps its stack mapped until it is joined: unjoined, a long run (the
      // soak: a connection per payment call) ran out of mappings and could create no thread.
      for (uint64_t id : finished_) {
        auto it = connection_threads_.find(id);
        if (it == connection_threads_.end()) continue;
        done.push_back(std::move(it->second));
        connection_threads_.erase(it);
      }
      finished_.clear();
      int fd = -1;
      if (!ec) fd = socket.release(ec);
      if (!ec && fd >= 0) {
        open_fds_.push_back(fd);
        const uint64_t id = next_connection_++;
        connection_threads_.emplace(id, std::thread([this, fd, id] {
                                      Serve(fd);
                                      std::lock_guard done_lock(mu_);
                                      finished_.push_back(id);
                                    }));
      }
    }
    // Their last act was to list themselves: each join returns at once.
    for (std::thread& t : done) t.join();
  }
}

bool RazorpayStandin::WaitOrStop(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  return !cv_.wait_for(lock, d, [this] { return stopping_; });
}

void RazorpayStandin::Serve(int fd) {
  asio::io_context ioc;
  beast::error_code ec;
  tcp::socket socket(ioc);
  socket.assign(tcp::v4(), fd, ec);
  if (ec) {
    std::lock_guard lock(mu_);
    std::erase(open_fds_, fd);
    ::close(fd);
    return;
  }
  beast::flat_buffer buffer;
  bhttp::request<bhttp::string_body> req;
  bhttp::read(socket, buffer, req, ec);
  if (!ec) {
    RecordedRequest recorded{.method = std::string(req.method_string()),
                             .target = std::string(req.target()),
                             .authorization = std::string(req[bhttp::field::authorization]),
                             .body = req.body(),
                             .traceparent = std::string(req["traceparent"])};
    std::chrono::milliseconds delay{0};
    {
      std::lock_guard lock(mu_);
      requests_.push_back(recorded);
      if (delay_next_ > 0) {
        --delay_next_;
        delay = delay_;
      }
    }
    bool go_on = delay.count() == 0 || WaitOrStop(delay);
    if (go_on) {
      Answer a = Handle(recorded);
      bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(a.status), 11};
      res.set(bhttp::field::content_type, "application/json; charset=utf-8");
      res.set(bhttp::field::connection, "close");
      res.body() = std::move(a.body);
      res.prepare_payload();
      bhttp::write(socket, res, ec);
      socket.shutdown(tcp::socket::shutdown_send, ec);
    }
  }
  std::lock_guard lock(mu_);
  std::erase(open_fds_, fd);
  socket.close(ec);
}

RazorpayStandin::Answer RazorpayStandin::Handle(const RecordedRequest& r) {
  std::lock_guard lock(mu_);
  if (fail_next_ > 0 && (fail_method_.empty() || fail_method_ == r.method)) {
    --fail_next_;
    return {fail_status_, ErrorBody("stand-in told to fail")};
  }
  if (bad_json_next_ > 0) {
    --bad_json_next_;
    return {200, "{\"id\": \"order_"};
  }
  if (!ConstantTimeEquals(r.authorization, authorization_)) {
    return {401, ErrorBody("Authentication failed")};
  }
  const std::string kPayments = "/v1/payments/";
  if (r.method == "POST" && r.target == "/v1/orders") {
    boost::system::error_code ec;
    json::value v = json::parse(r.body, ec);
    if (ec || !v.is_object()) return {400, ErrorBody("The request body is not valid JSON")};
    const json::object& o = v.as_object();
    const json::value* amount = o.if_contains("amount");
    const json::value* currency = o.if_contains("currency");
    if (!amount || !amount->is_int64() || amount->as_int64() < 100) {
      return {400, ErrorBody("The amount must be atleast INR 1.00")};
    }
    if (!currency || !currency->is_string() || currency->as_string().size() != 3) {
      return {400, ErrorBody("The currency field is invalid")};
    }
    Order order;
    order.amount = amount->as_int64();
    order.currency = std::string(currency->as_string());
    order.status = "created";
    if (const json::value* receipt = o.if_contains("receipt"); receipt && receipt->is_string()) {
      order.receipt = std::string(receipt->as_string());
    }
    const std::string id = "order_" + RandomString(14, kAlphanumeric);
    orders_[id] = order;
    json::object out{{"id", id},
                     {"entity", "order"},
                     {"amount", order.amount},
                     {"amount_paid", 0},
                     {"amount_due", order.amount},
                     {"currency", order.currency},
                     {"receipt", order.receipt},
                     {"offer_id", nullptr},
                     {"status", "created"},
                     {"attempts", 0},
                     {"notes", o.contains("notes") ? o.at("notes") : json::value(json::array())},
                     {"created_at", static_cast<int64_t>(std::time(nullptr))}};
    return {200, json::serialize(out)};
  }
  if (r.target.rfind(kPayments, 0) == 0) {
    std::string rest = r.target.substr(kPayments.size());
    if (const size_t q = rest.find('?'); q != std::string::npos) rest.resize(q);
    const size_t slash = rest.find('/');
    const std::string id = rest.substr(0, slash);
    const std::string action = slash == std::string::npos ? "" : rest.substr(slash + 1);
    Answer a = HandlePayment(r, id, action);
    if (lose_next_ > 0 && a.status < 300 && (lose_method_.empty() || lose_method_ == r.method)) {
      --lose_next_;
      return {500, ErrorBody("stand-in lost the answer")};
    }
    return a;
  }
  return {404, ErrorBody("The requested URL was not found on the server.")};
}

RazorpayStandin::Answer RazorpayStandin::HandlePayment(const RecordedRequest& r,
                                                       const std::string& id,
                                                       const std::string& action) {
  auto it = payments_.find(id);
  if (it == payments_.end()) return {400, ErrorBody("The id provided does not exist")};
  Payment& p = it->second;
  auto refund_json = [&](const Refund& f) {
    return json::object{
        {"id", f.id},
        {"entity", "refund"},
        {"amount", f.amount},
        {"currency", p.currency},
        {"payment_id", id},
        {"notes", json::array()},
        {"receipt", f.receipt.empty() ? json::value(nullptr) : json::value(f.receipt)},
        {"acquirer_data", json::object{{"arn", nullptr}}},
        {"created_at", static_cast<int64_t>(std::time(nullptr))},
        {"batch_id", nullptr},
        {"status", "processed"},
        {"speed_processed", "normal"},
        {"speed_requested", "normal"}};
  };
  json::object body;
  if (r.method == "POST") {
    boost::system::error_code ec;
    json::value v = json::parse(r.body, ec);
    if (ec || !v.is_object()) return {400, ErrorBody("The request body is not valid JSON")};
    body = std::move(v.as_object());
  }
  if (r.method == "POST" && action == "capture") {
    const json::value* amount = body.if_contains("amount");
    const json::value* currency = body.if_contains("currency");
    if (!amount || !amount->is_int64()) return {400, ErrorBody("The amount must be an integer.")};
    if (p.status == "captured" || p.status == "refunded") {
      return {400, ErrorBody("This payment has already been captured")};
    }
    if (p.status != "authorized") {
      return {400, ErrorBody("Only payments which have been authorized and not yet captured can "
                             "be captured")};
    }
    if (amount->as_int64() != p.amount) {
      return {400, ErrorBody("Capture amount must be equal to the amount authorized")};
    }
    if (!currency || !currency->is_string() || currency->as_string() != p.currency) {
      return {400, ErrorBody("The currency should be the same as the payment currency")};
    }
    p.status = "captured";
    if (auto o = orders_.find(p.order_id); o != orders_.end()) o->second.status = "paid";
  } else if (r.method == "POST" && action == "refund") {
    if (p.status != "captured") {
      return {400, ErrorBody(p.status == "refunded" ? "The payment has been fully refunded already"
                                                    : "Payment should be captured before refund")};
    }
    int64_t amount = p.amount - p.amount_refunded;
    if (const json::value* a = body.if_contains("amount")) {
      if (!a->is_int64() || a->as_int64() <= 0) {
        return {400, ErrorBody("The amount must be an integer.")};
      }
      amount = a->as_int64();
    }
    if (amount > p.amount - p.amount_refunded) {
      return {400, ErrorBody("The refund amount provided is greater than amount captured")};
    }
    Refund f{.id = "rfnd_" + RandomString(14, kAlphanumeric), .amount = amount, .receipt = ""};
    if (const json::value* receipt = body.if_contains("receipt"); receipt && receipt->is_string()) {
      f.receipt = std::string(receipt->as_string());
    }
    p.refunds.push_back(f);
    p.amount_refunded += amount;
    if (p.amount_refunded == p.amount) p.status = "refunded";
    return {200, json::serialize(refund_json(f))};
  } else if (r.method == "GET" && action == "refunds") {
    json::array items;
    for (const Refund& f : p.refunds) items.push_back(refund_json(f));
    return {200, json::serialize(json::object{{"entity", "collection"},
                                              {"count", static_cast<int64_t>(items.size())},
                                              {"items", std::move(items)}})};
  } else if (r.method != "GET" || !action.empty()) {
    return {404, ErrorBody("The requested URL was not found on the server.")};
  }
  const bool failed = p.status == "failed";
  json::object out{
      {"id", id},
      {"entity", "payment"},
      {"amount", p.amount},
      {"currency", p.currency},
      {"status", p.status},
      {"order_id", p.order_id},
      {"invoice_id", nullptr},
      {"international", false},
      {"method", "upi"},
      {"amount_refunded", p.amount_refunded},
      {"refund_status", p.amount_refunded == 0          ? json::value(nullptr)
                        : p.amount_refunded == p.amount ? json::value("full")
                                                        : json::value("partial")},
      {"captured", p.status == "captured" || p.status == "refunded"},
      {"description", nullptr},
      {"email", "parent@example.test"},
      {"contact", "+919000000000"},
      {"error_code", failed ? json::value("BAD_REQUEST_ERROR") : nullptr},
      {"error_description", failed ? json::value("Payment failed") : json::value(nullptr)},
      {"created_at", static_cast<int64_t>(std::time(nullptr))}};
  return {200, json::serialize(out)};
}

void RazorpayStandin::FailNext(int n, unsigned status, std::string method) {
  std::lock_guard lock(mu_);
  fail_next_ = n;
  fail_status_ = status;
  fail_method_ = std::move(method);
}

void RazorpayStandin::DelayNext(int n, std::chrono::milliseconds delay) {
  std::lock_guard lock(mu_);
  delay_next_ = n;
  delay_ = delay;
}

void RazorpayStandin::BadJsonNext(int n) {
  std::lock_guard lock(mu_);
  bad_json_next_ = n;
}

void RazorpayStandin::LoseNextAnswers(int n, std::string method) {
  std::lock_guard lock(mu_);
  lose_next_ = n;
  lose_method_ = std::move(method);
}

std::string RazorpayStandin::Pay(const std::string& order_id, const std::string& status,
                                 std::optional<int64_t> amount) {
  std::lock_guard lock(mu_);
  auto it = orders_.find(order_id);
  if (it == orders_.end()) return "";
  const std::string id = "pay_" + RandomString(14, kAlphanumeric);
  payments_[id] = Payment{.order_id = order_id,
                          .amount = amount.value_or(it->second.amount),
                          .currency = it->second.currency,
                          .status = status};
  if (status == "captured") it->second.status = "paid";
  return id;
}

std::vector<RazorpayStandin::RecordedRequest> RazorpayStandin::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

size_t RazorpayStandin::order_count() const {
  std::lock_guard lock(mu_);
  return orders_.size();
}

std::string RazorpayStandin::payment_status(const std::string& payment_id) const {
  std::lock_guard lock(mu_);
  auto it = payments_.find(payment_id);
  return it == payments_.end() ? "" : it->second.status;
}

int64_t RazorpayStandin::amount_refunded(const std::string& payment_id) const {
  std::lock_guard lock(mu_);
  auto it = payments_.find(payment_id);
  return it == payments_.end() ? 0 : it->second.amount_refunded;
}

size_t RazorpayStandin::refund_count() const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& [id, p] : payments_) n += p.refunds.size();
  return n;
}

}  // namespace hasivu::payments::testing
