#include "tests/reliability/fault_relay.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <vector>

namespace hasivu::reliability {
namespace {

using Clock = std::chrono::steady_clock;

// A direction stops reading its source while this much waits to be written, so that a stalled
// reader holds the writer back through TCP as it would without the relay.
constexpr size_t kMaxQueuedBytes = 4 << 20;
constexpr size_t kReadSize = 64 << 10;

struct Chunk {
  Clock::time_point due;
  std::string data;  // empty: the source's end of stream, to pass on as a FIN
  size_t sent = 0;
};

// One way of a relayed connection.
struct Direction {
  std::deque<Chunk> queue;
  size_t queued_bytes = 0;
  bool source_ended = false;  // read returned 0; the end is queued or passed on
  bool dest_shut = false;     // the end was passed on
};

struct Connection {
  int client = -1;
  int upstream = -1;        // -1 until a connect to the target starts
  bool connecting = false;  // a non-blocking connect is under way
  Direction dirs[2];        // [0] client to target, [1] target to client
  bool dead = false;
  int Source(int d) const { return d == 0 ? client : upstream; }
  int Dest(int d) const { return d == 0 ? upstream : client; }
};

void CloseWith(int fd, bool reset) {
  if (fd < 0) return;
  if (reset) {
    linger no_linger{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &no_linger, sizeof no_linger);
  }
  close(fd);
}

// Starts a non-blocking connect to 127.0.0.1:port; -1 if it failed at once (nothing listens).
int ConnectTo(int port, bool* in_progress) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    *in_progress = false;
    return fd;
  }
  if (errno == EINPROGRESS) {
    *in_progress = true;
    return fd;
  }
  close(fd);
  return -1;
}

}  // namespace

std::unique_ptr<FaultRelay> FaultRelay::Start(int target_port, std::string* error) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = std::string("socket: ") + std::strerror(errno);
    return nullptr;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 512) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    *error = std::string("listen on 127.0.0.1: ") + std::strerror(errno);
    close(fd);
    return nullptr;
  }
  int wake[2];
  if (pipe2(wake, O_NONBLOCK | O_CLOEXEC) != 0) {
    *error = std::string("pipe: ") + std::strerror(errno);
    close(fd);
    return nullptr;
  }
  std::unique_ptr<FaultRelay> relay(
      new FaultRelay(fd, ntohs(addr.sin_port), target_port, wake[0], wake[1]));
  relay->thread_ = std::thread([r = relay.get()] { r->Run(); });
  return relay;
}

FaultRelay::FaultRelay(int listen_fd, int port, int target_port, int wake_read_fd,
                       int wake_write_fd)
    : listen_fd_(listen_fd),
      port_(port),
      target_port_(target_port),
      wake_read_fd_(wake_read_fd),
      wake_write_fd_(wake_write_fd) {}

FaultRelay::~FaultRelay() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  Wake();
  if (thread_.joinable()) thread_.join();
  close(listen_fd_);
  close(wake_read_fd_);
  close(wake_write_fd_);
}

void FaultRelay::SetMode(Mode mode, std::chrono::milliseconds delay) {
  {
    std::lock_guard lock(mu_);
    mode_ = mode;
    delay_ = delay;
  }
  Wake();
}

FaultRelay::Mode FaultRelay::mode() const {
  std::lock_guard lock(mu_);
  return mode_;
}

void FaultRelay::CutAll(bool reset) {
  std::unique_lock lock(mu_);
  const uint64_t ticket = ++cut_requested_;
  cut_reset_ = reset;
  Wake();
  cut_done_.wait(lock, [&] { return cut_done_count_ >= ticket || stop_; });
}

void FaultRelay::Wake() {
  const char byte = 1;
  // A full pipe already holds a wake-up; nothing is lost when this write fails.
  [[maybe_unused]] ssize_t n = write(wake_write_fd_, &byte, 1);
}

void FaultRelay::Run() {
  std::vector<std::unique_ptr<Connection>> connections;
  std::vector<pollfd> fds;
  // What each pollfd after the first two stands for: a connection and which of its sockets.
  std::vector<std::pair<Connection*, int>> owners;
  std::vector<char> buffer(kReadSize);

  auto kill = [&](Connection& c, bool reset) {
    CloseWith(c.client, reset);
    CloseWith(c.upstream, reset);
    c.client = c.upstream = -1;
    c.dead = true;
  };

  // The loop holds mu_ except while it polls, so that once SetMode or CutAll returns, every
  // byte the relay reads or writes afterwards is handled under the new mode.
  std::unique_lock lock(mu_);
  while (!stop_) {
    if (cut_requested_ > cut_done_count_) {
      for (auto& c : connections) kill(*c, cut_reset_);
      connections.clear();
      open_connections_ = 0;
      cut_done_count_ = cut_requested_;
      cut_done_.notify_all();
    }
    const bool moving = mode_ != Mode::kBlackHole;
    const Clock::time_point now = Clock::now();
    Clock::time_point next_due = Clock::time_point::max();

    // Connect to the target where a client waits for it, and write what is due.
    if (moving) {
      for (auto& cp : connections) {
        Connection& c = *cp;
        if (c.upstream < 0 && !c.dead) {
          c.upstream = ConnectTo(target_port_, &c.connecting);
          if (c.upstream < 0) kill(c, false);
        }
        if (c.dead || c.connecting) continue;
        for (int d = 0; d < 2 && !c.dead; ++d) {
          Direction& dir = c.dirs[d];
          while (!dir.queue.empty() && dir.queue.front().due <= now) {
            Chunk& chunk = dir.queue.front();
            if (chunk.data.empty()) {
              shutdown(c.Dest(d), SHUT_WR);
              dir.dest_shut = true;
              dir.queue.pop_front();
              continue;
            }
            const ssize_t n = send(c.Dest(d), chunk.data.data() + chunk.sent,
                                   chunk.data.size() - chunk.sent, MSG_NOSIGNAL);
            if (n < 0) {
              if (errno != EAGAIN && errno != EWOULDBLOCK) kill(c, true);
              break;
            }
            chunk.sent += static_cast<size_t>(n);
            dir.queued_bytes -= static_cast<size_t>(n);
            if (chunk.sent < chunk.data.size()) break;
            dir.queue.pop_front();
          }
          if (!dir.queue.empty()) next_due = std::min(next_due, dir.queue.front().due);
        }
        if (!c.dead && c.dirs[0].dest_shut && c.dirs[1].dest_shut) kill(c, false);
      }
    }
    std::erase_if(connections, [](const auto& c) { return c->dead; });
    open_connections_ = static_cast<int>(connections.size());

    fds.assign({{wake_read_fd_, POLLIN, 0}, {listen_fd_, POLLIN, 0}});
    owners.assign(2, {nullptr, 0});
    for (auto& cp : connections) {
      Connection& c = *cp;
      if (c.connecting) {
        fds.push_back({c.upstream, POLLOUT, 0});
        owners.emplace_back(&c, 1);
        continue;
      }
      if (!moving || c.upstream < 0) continue;
      for (int d = 0; d < 2; ++d) {
        short events = 0;
        const Direction& dir = c.dirs[d];
        if (!dir.source_ended && dir.queued_bytes < kMaxQueuedBytes) events |= POLLIN;
        if (events != 0) {
          fds.push_back({c.Source(d), events, 0});
          owners.emplace_back(&c, d == 0 ? 0 : 1);
        }
        // A due chunk that did not go out whole waits for room at its destination.
        if (!dir.queue.empty() && dir.queue.front().due <= now) {
          fds.push_back({c.Dest(d), POLLOUT, 0});
          owners.emplace_back(&c, d == 0 ? 1 : 0);
        }
      }
    }
    int timeout_ms = 1000;
    if (next_due != Clock::time_point::max()) {
      const auto wait = std::chrono::ceil<std::chrono::milliseconds>(next_due - now);
      timeout_ms = static_cast<int>(std::clamp<int64_t>(wait.count(), 0, 1000));
    }
    lock.unlock();
    const int polled = poll(fds.data(), fds.size(), timeout_ms);
    lock.lock();
    if (polled < 0 && errno != EINTR) break;
    if (stop_) break;

    if (fds[0].revents & POLLIN) {
      while (read(wake_read_fd_, buffer.data(), buffer.size()) > 0) {
      }
    }
    if (fds[1].revents & POLLIN) {
      while (true) {
        const int client = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (client < 0) break;
        auto c = std::make_unique<Connection>();
        c->client = client;
        connections.push_back(std::move(c));
        ++accepted_connections_;
        ++open_connections_;
      }
    }
    // The mode may have changed during the poll: nothing is read in a black hole.
    const bool reading = mode_ != Mode::kBlackHole;
    const Clock::time_point read_at = Clock::now();
    const auto due_delay = mode_ == Mode::kDelay ? delay_ : std::chrono::milliseconds(0);
    for (size_t i = 2; i < fds.size(); ++i) {
      auto [c, side] = owners[i];
      if (c->dead || fds[i].revents == 0) continue;
      if (c->connecting) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c->upstream, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
          kill(*c, false);
        } else {
          c->connecting = false;
        }
        continue;
      }
      // Writes are retried at the top of the loop; only reads are done here.
      if ((fds[i].events & POLLIN) == 0 || !reading) continue;
      const int d = side == 0 ? 0 : 1;  // reading the client feeds direction 0
      Direction& dir = c->dirs[d];
      const ssize_t n = read(c->Source(d), buffer.data(), buffer.size());
      if (n > 0) {
        dir.queue.push_back({read_at + due_delay, std::string(buffer.data(), n), 0});
        dir.queued_bytes += static_cast<size_t>(n);
      } else if (n == 0) {
        dir.source_ended = true;
        dir.queue.push_back({read_at + due_delay, std::string(), 0});
      } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
        // The source was reset: pass the reset on.
        kill(*c, true);
      }
    }
  }
  for (auto& c : connections) kill(*c, false);
  open_connections_ = 0;
  stop_ = true;  // also when poll failed: CutAll must not wait for a loop that has ended
  cut_done_count_ = cut_requested_;
  cut_done_.notify_all();
}

}  // namespace hasivu::reliability
