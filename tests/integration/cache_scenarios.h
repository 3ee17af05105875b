// Staleness scenarios of the cache layer (issue 5), driven through the HTTP API of running
// `hasivu serve` processes: each fills the caches with reads, makes one write, and asserts that
// the next reads show the write (new body, new ETag, and 200 rather than 304 for the old ETag).
//
// A scenario reads through `read_port` and writes through `write_port`: the same server in one
// process, two servers sharing one Redis (and one database) otherwise. Cross-process invalidation
// travels over Redis pub/sub, so `settle` bounds how long a read may keep showing the old state
// after the write answered; 0 means the very first read must be fresh (one process).
//
// Scenarios assume a server seeded with the demo set (fixtures.json) and started with the
// webhook secret kCacheWebhookSecret and argon2id parameters other than the seed's
// (kCacheServerArgs), so that a login re-hashes the password and changes the user's updatedAt.
// Each scenario uses its own students, orders and dates, so they may run in any order on one
// server; none may run twice on the same server.
//
// Thread-safety: the functions use gtest assertions; call them from the test's thread.
#ifndef HASIVU_TESTS_INTEGRATION_CACHE_SCENARIOS_H_
#define HASIVU_TESTS_INTEGRATION_CACHE_SCENARIOS_H_

#include <sys/types.h>

#include <boost/json.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "tests/integration/api_fixture.h"

namespace hasivu::testing {

inline constexpr const char* kCacheWebhookSecret = "cache-webhook-secret-0123456789abcdef";
inline constexpr const char* kCacheJwtSecret = "cache-tests-jwt-secret-0123456789abcdef";

// `hasivu serve` flags every scenario relies on (argon2id opslimit 2: the seed hashes with 1).
std::vector<std::string> CacheServerArgs();
// Environment every scenario relies on (the webhook secret).
std::map<std::string, std::string> CacheServerEnv();

// One request to the server on `port`; `body` is sent as application/json when not empty.
ApiResponse CallAt(int port, const std::string& method, const std::string& target,
                   const std::string& token = "", const std::string& body = "",
                   const std::vector<std::string>& extra_headers = {});
// Logs in a fixtures account at `port`; "" (with a test failure) unless 200.
std::string LoginAt(int port, const boost::json::value& account);

// Reads `target` until `fresh` accepts the answer or `settle` has passed (at least one read).
ApiResponse ReadUntil(int port, const std::string& target, const std::string& token,
                      const std::function<bool(const ApiResponse&)>& fresh,
                      std::chrono::milliseconds settle);

// Lower-case hex HMAC-SHA256 of `body` under `secret` (Razorpay's webhook signature).
std::string HmacSha256Hex(const std::string& secret, const std::string& body);

// The parent account of a student in the fixtures, or null.
const boost::json::value* ParentOfStudent(const boost::json::object& fixtures,
                                          const std::string& student_id);

struct CacheScenario {
  const boost::json::object& fixtures;
  int read_port = 0;
  int write_port = 0;
  std::chrono::milliseconds settle{0};

  // orders-create: the parent's, the student's, the kitchen's and the admin's lists show the
  // new order first, with includeTotal one higher.
  void OrderCreate() const;
  // orders-create of a limited slot: menus-daily shows the lower availableQuantity.
  void OrderCreateDecrementsMenu() const;
  // PATCH /orders/{id}/status: the detail (parent, kitchen) and the status-filtered lists.
  void KitchenStatus() const;
  // payments-create-order + simulate + verify: the order is paid and confirmed everywhere.
  void PaymentVerify() const;
  // The same through POST /payments/webhook (payment.captured).
  void PaymentWebhook() const;
  // rfid-verify-card: the order is delivered in the detail and the lists.
  void RfidDelivery() const;
  // PUT /menus/daily: publish (after a cached 404), replace the items, withdraw to a draft.
  void MenuPut() const;
  // A login that re-hashes the password changes updatedAt in users-get (seen by the parent).
  void UserRehash() const;
};

// A redis-server child process on a free loopback port, without persistence; stopped by PID in
// the destructor (and killed with the test process: PR_SET_PDEATHSIG).
class RedisProcess {
 public:
  // Starts redis-server (HASIVU_REDIS_SERVER or /usr/bin/redis-server) on `port` (0: a free one)
  // and waits up to 5 s for PONG. Check started().
  explicit RedisProcess(int port = 0);
  ~RedisProcess();
  RedisProcess(const RedisProcess&) = delete;
  RedisProcess& operator=(const RedisProcess&) = delete;

  bool started() const { return started_; }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  // Sends `signal` to the process (SIGSTOP, SIGCONT, ...).
  void Signal(int signal) const;
  // Kills it (SIGKILL) and reaps it.
  void Kill();

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  bool started_ = false;
};

// Sends inline Redis commands (e.g. "SELECT 3", "FLUSHDB") to 127.0.0.1:`port`, then QUIT;
// returns the raw replies ("" if the connection failed).
std::string RedisCommands(int port, const std::vector<std::string>& commands);

// The value of a Prometheus counter/gauge series in /metrics text (summed over its labels);
// -1 if absent.
double MetricValue(const std::string& metrics_text, const std::string& name);

}  // namespace hasivu::testing

#endif  // HASIVU_TESTS_INTEGRATION_CACHE_SCENARIOS_H_
