// A local stand-in for Razorpay's REST API, for tests: a small HTTP/1.1 server on
// 127.0.0.1:<ephemeral port> speaking the documented request and response JSON of
//   POST /v1/orders          {amount, currency, receipt?, notes?} -> order entity
//   GET  /v1/payments/{id}   -> payment entity (400 BAD_REQUEST_ERROR for an unknown id)
//   POST /v1/payments/{id}/capture {amount, currency} -> the captured payment; 400 unless the
//        payment is authorized and the amount and currency are the payment's (so capturing a
//        captured payment is a 400, as at Razorpay)
//   POST /v1/payments/{id}/refund {amount?, receipt?, notes?, speed?} -> refund entity
//        ("processed"); 400 unless captured and the amount is at most what is left
//   GET  /v1/payments/{id}/refunds -> {entity: collection, count, items: [refund...]}
// with HTTP Basic auth checked against one key pair (401 otherwise). Tests can make the next N
// requests fail with a status, answer late, answer unreadable JSON, or take effect and then
// answer 500 (a lost answer); every request is recorded. Pay() plays the customer's checkout for
// an order it created.
//
// Lifetime: listening from construction; the destructor stops accepting, wakes every open
// connection and joins all threads. Thread-safety: all methods are safe from any thread.
#ifndef HASIVU_PAYMENTS_TESTING_RAZORPAY_STANDIN_H_
#define HASIVU_PAYMENTS_TESTING_RAZORPAY_STANDIN_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace hasivu::payments::testing {

class RazorpayStandin {
 public:
  struct RecordedRequest {
    std::string method;
    std::string target;
    std::string authorization;
    std::string body;
    std::string traceparent;  // empty when the request had none
  };

  // Aborts the test process if it cannot listen (tests cannot continue without it).
  RazorpayStandin(std::string key_id, std::string key_secret);
  ~RazorpayStandin();
  RazorpayStandin(const RazorpayStandin&) = delete;
  RazorpayStandin& operator=(const RazorpayStandin&) = delete;

  int port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // The next `n` requests answer `status` with a Razorpay error body.
  // With `method`, only requests of that method count (and fail).
  void FailNext(int n, unsigned status = 500, std::string method = "");
  // The next `n` requests wait `delay` before answering.
  void DelayNext(int n, std::chrono::milliseconds delay);
  // The next `n` requests answer 200 with a body that is not JSON.
  void BadJsonNext(int n);
  // The next `n` requests (only those with `method`, if given) take effect as usual, but answer
  // 500 instead of their result.
  void LoseNextAnswers(int n, std::string method = "");

  // Checkout for an order this stand-in created: records a payment with `status` ("captured",
  // "authorized", "failed") of the order's amount (or `amount` if given) and returns its id;
  // "" for an unknown order.
  std::string Pay(const std::string& order_id, const std::string& status = "captured",
                  std::optional<int64_t> amount = std::nullopt);

  std::vector<RecordedRequest> requests() const;
  size_t order_count() const;
  // A payment's status and refunded amount ("" and 0 for an unknown id).
  std::string payment_status(const std::string& payment_id) const;
  int64_t amount_refunded(const std::string& payment_id) const;
  // Refunds made, over all payments.
  size_t refund_count() const;

 private:
  struct Order {
    int64_t amount = 0;
    std::string currency;
    std::string receipt;
    std::string status;
  };
  struct Refund {
    std::string id;
    int64_t amount = 0;
    std::string receipt;
  };
  struct Payment {
    std::string order_id;
    int64_t amount = 0;
    std::string currency;
    std::string status;
    int64_t amount_refunded = 0;
    std::vector<Refund> refunds{};
  };
  struct Answer {
    unsigned status = 200;
    std::string body;
  };

  void AcceptLoop();
  void Serve(int fd);
  Answer Handle(const RecordedRequest& request);
  // REQUIRES: mu_ held.
  Answer HandlePayment(const RecordedRequest& request, const std::string& id,
                       const std::string& action);
  bool WaitOrStop(std::chrono::milliseconds d);

  const std::string authorization_;
  int port_ = 0;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::thread accept_thread_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  // By connection; a thread lists its id in finished_ as it ends, and the accept loop joins it.
  std::map<uint64_t, std::thread> connection_threads_;
  std::vector<uint64_t> finished_;
  uint64_t next_connection_ = 0;
  std::vector<int> open_fds_;
  std::vector<RecordedRequest> requests_;
  std::map<std::string, Order> orders_;
  std::map<std::string, Payment> payments_;
  int fail_next_ = 0;
  unsigned fail_status_ = 500;
  std::string fail_method_;
  int delay_next_ = 0;
  std::chrono::milliseconds delay_{0};
  int bad_json_next_ = 0;
  int lose_next_ = 0;
  std::string lose_method_;
};

}  // namespace hasivu::payments::testing

#endif  // HASIVU_PAYMENTS_TESTING_RAZORPAY_STANDIN_H_
