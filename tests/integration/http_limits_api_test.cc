// HTTP connection limits and response headers of issue 19 through a seeded server, on both
// backends: the per-address connection cap and its /metrics counter, the first-byte timeout,
// the metrics token (and /metrics off in production without one), nosniff everywhere and
// Cache-Control: private on the answers to authenticated reads, 304s included.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/api_fixture.h"

namespace hasivu::testing {
namespace {

using std::chrono::milliseconds;

constexpr char kMetricsToken[] = "issue-19-metrics-token-0123456789";
constexpr int kPerAddressCap = 3;

// A keep-alive connection held open by the test.
class Connection {
 public:
  explicit Connection(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~Connection() { ::close(fd_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Sends GET /healthz and returns the status of the answer (0 if none within 5 s).
  int Healthz() {
    const std::string request = "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n";
    if (!connected_ || ::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) <= 0) return 0;
    std::string head;
    while (head.find("\r\n\r\n") == std::string::npos) {
      if (!Readable(milliseconds(5000))) return 0;
      char chunk[4096];
      const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
      if (n <= 0) return 0;
      head.append(chunk, static_cast<size_t>(n));
    }
    return head.rfind("HTTP/1.1 ", 0) == 0 ? std::stoi(head.substr(9, 3)) : 0;
  }

  // True when the server closes the connection (EOF or reset) within `limit`.
  bool ClosedByPeerWithin(milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (!Readable(milliseconds(100))) continue;
      char byte;
      const ssize_t n = ::recv(fd_, &byte, 1, 0);
      if (n <= 0) return true;
    }
    return false;
  }

 private:
  bool Readable(milliseconds timeout) {
    pollfd pfd{fd_, POLLIN, 0};
    return ::poll(&pfd, 1, static_cast<int>(timeout.count())) > 0;
  }

  int fd_ = -1;
  bool connected_ = false;
};

class HttpLimitsApiTest : public ApiSuite {
 public:
  static void SetUpTestSuite() {
    SetServerOptions({"--max-connections-per-address", std::to_string(kPerAddressCap),
                      "--first-byte-timeout-ms", "500", "--metrics-token", kMetricsToken},
                     {});
    ApiSuite::SetUpTestSuite();
  }

 protected:
  static int MetricValue(const std::string& text, const std::string& name) {
    const size_t at = text.find("\n" + name + " ");
    if (at == std::string::npos) return -1;
    return std::stoi(text.substr(at + name.size() + 2));
  }
};

TEST_F(HttpLimitsApiTest, OneAddressGetsAtMostItsCapOfConnections) {
  // Connections of earlier requests may still be closing on the server, so admitted ones are
  // collected until the cap is reached; after that every further one is turned away.
  std::vector<std::unique_ptr<Connection>> held;
  for (int attempt = 0; attempt < 100 && held.size() < kPerAddressCap; ++attempt) {
    auto connection = std::make_unique<Connection>(Server().port());
    if (connection->Healthz() == 200) {
      held.push_back(std::move(connection));
    } else {
      std::this_thread::sleep_for(milliseconds(50));
    }
  }
  ASSERT_EQ(held.size(), static_cast<size_t>(kPerAddressCap));
  Connection over(Server().port());
  EXPECT_EQ(over.Healthz(), 503);
  HttpResponse refused = HttpRequest(Server().port(), "GET", "/healthz");
  EXPECT_EQ(refused.status, 503);
  EXPECT_EQ(refused.headers["retry-after"], "1");
  EXPECT_NE(refused.body.find("UNAVAILABLE"), std::string::npos) << refused.body;

  held.clear();  // the slots free up as the server notices the closes
  ApiResponse metrics;
  for (int attempt = 0; attempt < 100 && metrics.status != 200; ++attempt) {
    metrics = Call("GET", "/metrics", kMetricsToken);
    if (metrics.status != 200) std::this_thread::sleep_for(milliseconds(50));
  }
  ASSERT_EQ(metrics.status, 200) << metrics.body;
  EXPECT_GE(MetricValue(metrics.body, "hasivu_http_rejected_connections_per_address_total"), 2)
      << metrics.body.substr(0, 2000);
}

TEST_F(HttpLimitsApiTest, SilentConnectionIsClosedAfterTheFirstByteTimeout) {
  Connection silent(Server().port());
  EXPECT_TRUE(silent.ClosedByPeerWithin(milliseconds(5000)));
}

TEST_F(HttpLimitsApiTest, MetricsNeedTheToken) {
  ApiResponse anonymous = Call("GET", "/metrics");
  EXPECT_EQ(anonymous.status, 401) << anonymous.body;
  EXPECT_EQ(anonymous.ErrorCode(), "UNAUTHENTICATED");
  EXPECT_EQ(anonymous.Header("www-authenticate"), "Bearer");
  EXPECT_EQ(anonymous.body.find("hasivu_http"), std::string::npos);
  ApiResponse wrong = Call("GET", "/metrics", std::string(kMetricsToken) + "x");
  EXPECT_EQ(wrong.status, 401) << wrong.body;
  ApiResponse admin = Call("GET", "/metrics", Login(Fixtures().at("admin")));
  EXPECT_EQ(admin.status, 401) << "an access token is not the metrics token";
  ApiResponse scraper = Call("GET", "/metrics", kMetricsToken);
  EXPECT_EQ(scraper.status, 200) << scraper.body;
  EXPECT_NE(scraper.body.find("hasivu_http_requests_total"), std::string::npos);
}

TEST_F(HttpLimitsApiTest, AuthenticatedReadsArePrivateAndEveryAnswerSaysNosniff) {
  const auto& school = Fixtures().at("schools").at(0);
  const std::string token = Login(school.at("parents").at(0));
  const std::vector<std::string> targets = {"/api/v1/orders?limit=5",
                                            "/api/v1/menus/daily?schoolId=" + Str(school, "id"),
                                            "/api/v1/users/me"};
  for (const std::string& target : targets) {
    for (const std::vector<std::string>& headers :
         {std::vector<std::string>{}, std::vector<std::string>{"Accept-Encoding: gzip"}}) {
      ApiResponse first = Call("GET", target, token, "", headers);
      ASSERT_EQ(first.status, 200) << target << " " << first.body;
      EXPECT_NE(first.Header("cache-control").find("private"), std::string::npos) << target;
      EXPECT_EQ(first.Header("x-content-type-options"), "nosniff") << target;
      const std::string etag = first.Header("etag");
      ASSERT_FALSE(etag.empty()) << target;
      std::vector<std::string> conditional = headers;
      conditional.push_back("If-None-Match: " + etag);
      ApiResponse again = Call("GET", target, token, "", conditional);
      EXPECT_EQ(again.status, 304) << target;
      EXPECT_NE(again.Header("cache-control").find("private"), std::string::npos) << target;
      EXPECT_EQ(again.Header("x-content-type-options"), "nosniff") << target;
    }
  }
  // Answers that say something else keep it: login's tokens are never stored at all.
  ApiResponse login = Call(
      "POST", "/api/v1/auth/login", "",
      Json(boost::json::object{{"email", "nobody@example.test"}, {"password", "wrong-password"}}));
  EXPECT_EQ(login.Header("x-content-type-options"), "nosniff");
  ApiResponse missing = Call("GET", "/api/v1/nothing-here");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.Header("x-content-type-options"), "nosniff");
  EXPECT_EQ(missing.Header("cache-control"), "");  // no Authorization, no user data
}

TEST(HttpLimitsProductionTest, MetricsAreOffInProductionWithoutAToken) {
  // A production start needs a first admin and a real (or explicitly allowed) gateway.
  std::string error;
  std::unique_ptr<EmptyStore> store = EmptyStore::Create(&error);
  ASSERT_NE(store, nullptr) << error;
  const std::string password_file = store->data_dir() + "/admin-password";
  std::ofstream(password_file) << "Str0ng-Operator-Pass!\n";
  const CommandResult admin = RunCommand(
      {HasivuBinary(), "admin", "create", "--store", store->url(), "--email", "ops@school.example",
       "--password-file", password_file, "--argon2-opslimit", "1", "--argon2-memlimit-kib", "8"});
  ASSERT_EQ(admin.exit_code, 0) << admin.err;
  {
    ServerProcess server({"--mode", "production", "--store", store->url(), "--data-dir",
                          store->data_dir(), "--log-level", "warn", "--allow-simulated-payments"},
                         {{"HASIVU_JWT_SECRET", std::string(40, 's')}});
    ASSERT_TRUE(server.started()) << server.Stderr();
    HttpResponse metrics = HttpRequest(server.port(), "GET", "/metrics");
    EXPECT_EQ(metrics.status, 403) << metrics.body;
    EXPECT_EQ(metrics.body.find("hasivu_http"), std::string::npos);
    EXPECT_NE(server.Stderr().find("/metrics is off"), std::string::npos) << server.Stderr();
    EXPECT_EQ(server.StopWith(SIGTERM), 0);
  }
}

}  // namespace
}  // namespace hasivu::testing
