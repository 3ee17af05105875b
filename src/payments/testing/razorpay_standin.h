// A local stand-in for Razorpay's REST API, for tests: a small HTTP/1.1 server on
// 127.0.0.1:<ephemeral port> speaking the documented request and response JSON of
//   POST /v1/orders          {amount, currency, receipt?, notes?} -> order entity
//   GET  /v1/payments/{id}   -> payment entity (400 BAD_REQUEST_ERROR for an unknown id)
// with HTTP Basic auth checked against one key pair (401 otherwise). Tests can make the next N
// requests fail with a status, answer late, or answer unreadable JSON; every request is
// recorded. Pay() plays the customer's checkout for an order it created.
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
  };

  // Aborts the test process if it cannot listen (tests cannot continue without it).
  RazorpayStandin(std::string key_id, std::string key_secret);
  ~RazorpayStandin();
  RazorpayStandin(const RazorpayStandin&) = delete;
  RazorpayStandin& operator=(const RazorpayStandin&) = delete;

  int port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // The next `n` requests answer `status` with a Razorpay error body.
  void FailNext(int n, unsigned status = 500);
  // The next `n` requests wait `delay` before answering.
  void DelayNext(int n, std::chrono::milliseconds delay);
  // The next `n` requests answer 200 with a body that is not JSON.
  void BadJsonNext(int n);

  // Checkout for an order this stand-in created: records a payment with `status` ("captured",
  // "authorized", "failed") of the order's amount (or `amount` if given) and returns its id;
  // "" for an unknown order.
  std::string Pay(const std::string& order_id, const std::string& status = "captured",
                  std::optional<int64_t> amount = std::nullopt);

  std::vector<RecordedRequest> requests() const;
  size_t order_count() const;

 private:
  struct Order {
    int64_t amount = 0;
    std::string currency;
    std::string receipt;
    std::string status;
  };
  struct Payment {
    std::string order_id;
    int64_t amount = 0;
    std::string currency;
    std::string status;
  };
  struct Answer {
    unsigned status = 200;
    std::string body;
  };

  void AcceptLoop();
  void Serve(int fd);
  Answer Handle(const RecordedRequest& request);
  bool WaitOrStop(std::chrono::milliseconds d);

  const std::string authorization_;
  int port_ = 0;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::thread accept_thread_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::vector<std::thread> connection_threads_;
  std::vector<int> open_fds_;
  std::vector<RecordedRequest> requests_;
  std::map<std::string, Order> orders_;
  std::map<std::string, Payment> payments_;
  int fail_next_ = 0;
  unsigned fail_status_ = 500;
  int delay_next_ = 0;
  std::chrono::milliseconds delay_{0};
  int bad_json_next_ = 0;
};

}  // namespace hasivu::payments::testing

#endif  // HASIVU_PAYMENTS_TESTING_RAZORPAY_STANDIN_H_
