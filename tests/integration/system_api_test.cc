// The operational endpoints and the envelope through a seeded server, on both backends.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <cstdlib>
#include <mutex>
#include <set>
#include <thread>

#include "tests/integration/api_fixture.h"

namespace hasivu::testing {
namespace {

class SystemApiTest : public ApiSuite {};

TEST_F(SystemApiTest, HealthReadinessAndMetrics) {
  ApiResponse health = Call("GET", "/healthz");
  ASSERT_EQ(health.status, 200) << health.body;
  EXPECT_EQ(health.Data().at("status").as_string(), "ok");
  ApiResponse ready = Call("GET", "/readyz");
  ASSERT_EQ(ready.status, 200) << ready.body;
  EXPECT_EQ(ready.Data().at("status").as_string(), "ready");
  ApiResponse metrics = Call("GET", "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("hasivu_http_request_duration_seconds_bucket{route=\"readyz\""),
            std::string::npos);
}

TEST_F(SystemApiTest, FixturesDescribeTheSeededData) {
  const auto& schools = Fixtures().at("schools").as_array();
  ASSERT_EQ(schools.size(), 2u);
  for (const auto& school : schools) {
    EXPECT_EQ(school.at("timezone").as_string(), "Asia/Kolkata");
    EXPECT_EQ(school.at("kitchenStaff").as_array().size(), 2u);
    EXPECT_EQ(school.at("readers").as_array().size(), 2u);
    EXPECT_EQ(school.at("menuItemIds").as_array().size(), 25u);
    EXPECT_FALSE(school.at("parents").as_array().empty());
  }
}

TEST_F(SystemApiTest, ErrorsUseTheEnvelope) {
  ApiResponse missing = Call("GET", "/api/v1/does-not-exist", "", "", {"X-Request-Id: sys-1"});
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.ErrorCode(), "NOT_FOUND");
  EXPECT_EQ(missing.Header("x-request-id"), "sys-1");
}

TEST_F(SystemApiTest, TransportErrorsUseTheEnvelopeOnEveryBackend) {
  // 405 names the methods the path does take.
  ApiResponse wrong_method = Call("DELETE", "/api/v1/orders");
  EXPECT_EQ(wrong_method.status, 405) << wrong_method.body;
  EXPECT_EQ(wrong_method.ErrorCode(), "METHOD_NOT_ALLOWED");
  const std::string allow = wrong_method.Header("allow");
  EXPECT_NE(allow.find("GET"), std::string::npos) << allow;
  EXPECT_NE(allow.find("POST"), std::string::npos) << allow;
  EXPECT_EQ(allow.find("DELETE"), std::string::npos) << allow;

  // One byte over 64 KiB is refused before any handler runs; exactly 64 KiB is read (and then
  // judged on its content: not an account).
  const std::string pad_key = R"({"email":"a@b.test","password":"x","pad":")";
  const std::string at_limit = pad_key + std::string(65536 - pad_key.size() - 2, 'p') + "\"}";
  ASSERT_EQ(at_limit.size(), 65536u);
  ApiResponse read = Call("POST", "/api/v1/auth/login", "", at_limit);
  EXPECT_EQ(read.status, 401) << read.body;
  const std::string over = pad_key + std::string(65537 - pad_key.size() - 2, 'p') + "\"}";
  ApiResponse too_big = Call("POST", "/api/v1/auth/login", "", over);
  EXPECT_EQ(too_big.status, 413) << too_big.body;
  EXPECT_FALSE(too_big.ErrorCode().empty()) << too_big.body;
  EXPECT_EQ(too_big.json.at("success").as_bool(), false);

  HttpResponse text =
      HttpRequest(Server().port(), "POST", "/api/v1/orders", {"Content-Type: text/plain"}, "{}");
  EXPECT_EQ(text.status, 415);
  EXPECT_NE(text.body.find("\"success\":false"), std::string::npos) << text.body;

  // The server is still serving after all of them.
  EXPECT_EQ(Call("GET", "/healthz").status, 200);
}

#ifdef HASIVU_TEST_BACKEND_POSTGRES
// A loopback TCP relay between the server and PostgreSQL that the test can cut: while cut, every
// relayed connection is closed and new ones are closed on accept, as when the database host goes
// away. Loopback only; its threads end with it.
class PostgresRelay {
 public:
  explicit PostgresRelay(int target_port) : target_port_(target_port) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        listen(listen_fd_, 64) != 0) {
      return;
    }
    socklen_t len = sizeof addr;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }
  ~PostgresRelay() {
    stop_ = true;
    Cut();
    shutdown(listen_fd_, SHUT_RDWR);
    close(listen_fd_);
    if (acceptor_.joinable()) acceptor_.join();
    for (std::thread& t : pipes_) t.join();
  }
  int port() const { return port_; }
  // Closes every relayed connection and refuses new ones until Restore().
  void Cut() {
    cut_ = true;
    std::lock_guard lock(mu_);
    for (int fd : open_fds_) shutdown(fd, SHUT_RDWR);
  }
  void Restore() { cut_ = false; }

 private:
  void AcceptLoop() {
    while (!stop_) {
      const int client = accept(listen_fd_, nullptr, nullptr);
      if (client < 0) return;
      if (cut_) {
        close(client);
        continue;
      }
      const int upstream = socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      addr.sin_port = htons(static_cast<uint16_t>(target_port_));
      if (connect(upstream, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        close(upstream);
        close(client);
        continue;
      }
      {
        std::lock_guard lock(mu_);
        open_fds_.insert(client);
        open_fds_.insert(upstream);
      }
      pipes_.emplace_back([this, client, upstream] { Pipe(client, upstream); });
    }
  }
  void Pipe(int a, int b) {
    pollfd fds[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
    char buf[16384];
    while (!stop_ && !cut_) {
      if (poll(fds, 2, 100) <= 0) continue;
      bool done = false;
      for (int i = 0; i < 2 && !done; ++i) {
        if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
        const ssize_t n = read(fds[i].fd, buf, sizeof buf);
        // MSG_NOSIGNAL: a peer that closed first must end the pipe, not the test (SIGPIPE).
        if (n <= 0 || send(fds[1 - i].fd, buf, static_cast<size_t>(n), MSG_NOSIGNAL) != n) {
          done = true;
        }
      }
      if (done) break;
    }
    std::lock_guard lock(mu_);
    open_fds_.erase(a);
    open_fds_.erase(b);
    close(a);
    close(b);
  }

  const int target_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> cut_{false};
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::set<int> open_fds_;  // GUARDED_BY(mu_)
  std::thread acceptor_;
  std::vector<std::thread> pipes_;  // touched by the acceptor thread and the destructor only
};

// api.md: 503 UNAVAILABLE with Retry-After when the database cannot be reached; and the server
// serves again once it can.
class DatabaseOutageApiTest : public ApiSuite {
 public:
  static void SetUpTestSuite() {
    const std::string url = std::getenv("HASIVU_TEST_POSTGRES_URL");
    const size_t host = url.find("@127.0.0.1:");
    ASSERT_NE(host, std::string::npos) << "expected a 127.0.0.1 URL: " << url;
    const size_t port_at = host + std::string("@127.0.0.1:").size();
    const size_t port_end = url.find('/', port_at);
    relay_ = new PostgresRelay(std::stoi(url.substr(port_at, port_end - port_at)));
    ASSERT_NE(relay_->port(), 0);
    // The suite's server (and its schema) reach PostgreSQL only through the relay.
    setenv("HASIVU_TEST_POSTGRES_URL",
           (url.substr(0, port_at) + std::to_string(relay_->port()) + url.substr(port_end)).c_str(),
           1);
    ApiSuite::SetUpTestSuite();
    setenv("HASIVU_TEST_POSTGRES_URL", url.c_str(), 1);
  }
  static void TearDownTestSuite() {
    relay_->Restore();
    ApiSuite::TearDownTestSuite();
    delete relay_;
    relay_ = nullptr;
  }

 protected:
  static inline PostgresRelay* relay_ = nullptr;
};

TEST_F(DatabaseOutageApiTest, AnswersUnavailableWithRetryAfterAndRecovers) {
  const auto& admin = Fixtures().at("admin");
  const std::string login_body =
      Json(boost::json::object{{"email", admin.at("email")}, {"password", admin.at("password")}});
  ASSERT_EQ(Call("POST", "/api/v1/auth/login", "", login_body).status, 200);
  ASSERT_EQ(Call("GET", "/readyz").status, 200);

  relay_->Cut();
  ApiResponse ready = Call("GET", "/readyz");
  EXPECT_EQ(ready.status, 503) << ready.body;
  EXPECT_EQ(ready.ErrorCode(), "UNAVAILABLE");
  EXPECT_FALSE(ready.Header("retry-after").empty());
  ApiResponse login = Call("POST", "/api/v1/auth/login", "", login_body);
  EXPECT_EQ(login.status, 503) << login.body;
  EXPECT_EQ(login.ErrorCode(), "UNAVAILABLE");
  EXPECT_FALSE(login.Header("retry-after").empty());
  ExpectCleanError(login);
  // The process itself is alive and says so.
  EXPECT_EQ(Call("GET", "/healthz").status, 200);

  relay_->Restore();
  int status = 0;
  for (int i = 0; i < 50 && status != 200; ++i) {
    status = Call("POST", "/api/v1/auth/login", "", login_body).status;
    if (status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(status, 200) << "the server did not recover once PostgreSQL was back";
  EXPECT_EQ(Call("GET", "/readyz").status, 200);
}
#endif  // HASIVU_TEST_BACKEND_POSTGRES

}  // namespace
}  // namespace hasivu::testing
