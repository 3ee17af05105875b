// FaultRelay with real loopback sockets: a target the test listens on, clients the test connects
// through the relay, and each mode seen from both ends.
#include "tests/reliability/fault_relay.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <thread>

namespace hasivu::reliability {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// A socket closed when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  Fd& operator=(Fd&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

Fd Listen(int* port) {
  Fd fd(socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      listen(fd.get(), 16) != 0 ||
      getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return Fd();
  }
  *port = ntohs(addr.sin_port);
  return fd;
}

Fd Connect(int port) {
  Fd fd(socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return Fd();
  return fd;
}

bool Readable(int fd, milliseconds within) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, static_cast<int>(within.count())) > 0;
}

// The next connection the target is offered, or an invalid Fd if none comes `within`.
Fd AcceptWithin(int listen_fd, milliseconds within) {
  if (!Readable(listen_fd, within)) return Fd();
  return Fd(accept(listen_fd, nullptr, nullptr));
}

void Send(int fd, const std::string& data) {
  ASSERT_EQ(send(fd, data.data(), data.size(), MSG_NOSIGNAL), static_cast<ssize_t>(data.size()));
}

// Reads until `size` bytes came, the stream ended or failed, or `within` passed.
std::string ReadUpTo(int fd, size_t size, milliseconds within) {
  std::string out;
  const Clock::time_point deadline = Clock::now() + within;
  char buf[4096];
  while (out.size() < size) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    if (left.count() <= 0 || !Readable(fd, left)) break;
    const ssize_t n = read(fd, buf, std::min(sizeof buf, size - out.size()));
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

// What a read on `fd` ends with once the peer went away: 0 (FIN) or -errno (e.g. ECONNRESET).
int EndOfStream(int fd, milliseconds within) {
  if (!Readable(fd, within)) return 1;  // still open
  char buf[64];
  const ssize_t n = read(fd, buf, sizeof buf);
  return n < 0 ? -errno : static_cast<int>(n);
}

// Polls `condition` until it holds or 5 s pass (the relay works on its own thread).
template <typename F>
bool Eventually(F condition) {
  const Clock::time_point deadline = Clock::now() + std::chrono::seconds(5);
  while (!condition()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return true;
}

// Settles how long a test waits to conclude that nothing arrives: generous, since a relay that
// forwarded would deliver on loopback within microseconds.
constexpr milliseconds kQuiet(300);
constexpr milliseconds kSoon(5000);

class FaultRelayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    target_ = Listen(&target_port_);
    ASSERT_GE(target_.get(), 0);
    std::string error;
    relay_ = FaultRelay::Start(target_port_, &error);
    ASSERT_NE(relay_, nullptr) << error;
  }
  // A client through the relay and the target's side of the same connection.
  void Pair(Fd* client, Fd* upstream) {
    *client = Connect(relay_->port());
    ASSERT_GE(client->get(), 0);
    *upstream = AcceptWithin(target_.get(), kSoon);
    ASSERT_GE(upstream->get(), 0) << "the relay did not connect to the target";
  }

  Fd target_;
  int target_port_ = 0;
  std::unique_ptr<FaultRelay> relay_;
};

TEST_F(FaultRelayTest, ForwardsBothWaysAndPassesTheEndOn) {
  Fd client, upstream;
  Pair(&client, &upstream);
  EXPECT_EQ(relay_->open_connections(), 1);
  Send(client.get(), "PING\r\n");
  EXPECT_EQ(ReadUpTo(upstream.get(), 6, kSoon), "PING\r\n");
  const std::string big(1 << 20, 'x');  // larger than one read: arrives whole and in order
  std::thread writer([&] { Send(upstream.get(), big); });
  EXPECT_EQ(ReadUpTo(client.get(), big.size(), kSoon), big);
  writer.join();
  // The target's end is passed on as an end, and the relay lets the connection go once both
  // sides have ended.
  upstream = Fd();
  EXPECT_EQ(EndOfStream(client.get(), kSoon), 0);
  client = Fd();
  EXPECT_TRUE(Eventually([&] { return relay_->open_connections() == 0; }));
  EXPECT_EQ(relay_->accepted_connections(), 1);
}

TEST_F(FaultRelayTest, BlackHoleHoldsConnectionsAndMovesNothingUntilForwardAgain) {
  Fd client, upstream;
  Pair(&client, &upstream);
  relay_->SetMode(FaultRelay::Mode::kBlackHole);
  EXPECT_EQ(relay_->mode(), FaultRelay::Mode::kBlackHole);
  Send(client.get(), "GET k\r\n");
  Send(upstream.get(), "VALUE\r\n");
  EXPECT_FALSE(Readable(upstream.get(), kQuiet)) << "a request went through the black hole";
  EXPECT_FALSE(Readable(client.get(), kQuiet)) << "an answer went through the black hole";

  // A new connection is accepted and held, and the target is not offered it.
  Fd late = Connect(relay_->port());
  ASSERT_GE(late.get(), 0);
  EXPECT_TRUE(Eventually([&] { return relay_->open_connections() == 2; }));
  EXPECT_FALSE(AcceptWithin(target_.get(), kQuiet).get() >= 0);
  Send(late.get(), "LATE");
  // Closing a side is not noticed either.
  upstream = Fd();
  EXPECT_FALSE(Readable(client.get(), kQuiet));

  relay_->SetMode(FaultRelay::Mode::kForward);
  // What waited flows in order: the target's answer, then its end.
  EXPECT_EQ(ReadUpTo(client.get(), 7, kSoon), "VALUE\r\n");
  EXPECT_EQ(EndOfStream(client.get(), kSoon), 0);
  Fd late_upstream = AcceptWithin(target_.get(), kSoon);
  ASSERT_GE(late_upstream.get(), 0) << "the held connection was not connected to the target";
  EXPECT_EQ(ReadUpTo(late_upstream.get(), 4, kSoon), "LATE");
}

TEST_F(FaultRelayTest, DelayAddsItsLatencyEachWayAndKeepsOrder) {
  Fd client, upstream;
  Pair(&client, &upstream);
  constexpr milliseconds kDelay(200);
  relay_->SetMode(FaultRelay::Mode::kDelay, kDelay);

  // A round trip crosses the relay twice.
  const Clock::time_point sent = Clock::now();
  Send(client.get(), "Q");
  ASSERT_EQ(ReadUpTo(upstream.get(), 1, kSoon), "Q");
  EXPECT_GE(Clock::now() - sent, kDelay);
  Send(upstream.get(), "A");
  ASSERT_EQ(ReadUpTo(client.get(), 1, kSoon), "A");
  EXPECT_GE(Clock::now() - sent, 2 * kDelay);

  // Many chunks sent apart arrive in the order sent.
  std::string expected;
  for (int i = 0; i < 50; ++i) {
    const std::string chunk = std::to_string(i) + ",";
    expected += chunk;
    Send(client.get(), chunk);
    std::this_thread::sleep_for(milliseconds(2));
  }
  EXPECT_EQ(ReadUpTo(upstream.get(), expected.size(), kSoon), expected);

  // Back to forward: what was read under the delay still goes first.
  Send(client.get(), "first;");
  std::this_thread::sleep_for(milliseconds(50));  // read by the relay under the delay
  relay_->SetMode(FaultRelay::Mode::kForward);
  Send(client.get(), "second;");
  EXPECT_EQ(ReadUpTo(upstream.get(), 13, kSoon), "first;second;");
}

TEST_F(FaultRelayTest, CutAllClosesEveryConnectionWithAFinOrAReset) {
  Fd client_a, upstream_a, client_b, upstream_b;
  Pair(&client_a, &upstream_a);
  Pair(&client_b, &upstream_b);
  ASSERT_TRUE(Eventually([&] { return relay_->open_connections() == 2; }));
  relay_->CutAll();
  EXPECT_EQ(relay_->open_connections(), 0);
  EXPECT_EQ(EndOfStream(client_a.get(), kSoon), 0);
  EXPECT_EQ(EndOfStream(client_b.get(), kSoon), 0);
  EXPECT_EQ(EndOfStream(upstream_a.get(), kSoon), 0);
  EXPECT_EQ(EndOfStream(upstream_b.get(), kSoon), 0);

  // New connections are relayed again; a cut with reset is seen as one, also on a black-holed
  // connection.
  Fd client_c, upstream_c;
  Pair(&client_c, &upstream_c);
  relay_->SetMode(FaultRelay::Mode::kBlackHole);
  relay_->CutAll(/*reset=*/true);
  EXPECT_EQ(relay_->open_connections(), 0);
  EXPECT_EQ(EndOfStream(client_c.get(), kSoon), -ECONNRESET);
  EXPECT_EQ(EndOfStream(upstream_c.get(), kSoon), -ECONNRESET);
}

TEST_F(FaultRelayTest, ATargetThatRefusesClosesTheClient) {
  target_ = Fd();  // nothing listens on the target port now
  Fd client = Connect(relay_->port());
  ASSERT_GE(client.get(), 0);
  EXPECT_EQ(EndOfStream(client.get(), kSoon), 0);
  EXPECT_TRUE(Eventually([&] { return relay_->open_connections() == 0; }));
  EXPECT_EQ(relay_->accepted_connections(), 1);
}

}  // namespace
}  // namespace hasivu::reliability
