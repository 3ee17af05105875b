#include "bench/server_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <deque>
#include <fstream>
#include <string_view>

#include "bench/interrupt.h"

extern char** environ;

namespace hasivu::bench {
namespace {

using std::chrono::milliseconds;

// The port of a "... listening on http://HOST:PORT ..." line, or 0.
uint16_t PortOfListeningLine(std::string_view line) {
  constexpr std::string_view kMark = "listening on http://";
  size_t at = line.find(kMark);
  if (at == std::string_view::npos) return 0;
  std::string_view rest = line.substr(at + kMark.size());
  rest = rest.substr(0, rest.find_first_of(" /\r\n"));
  size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos) return 0;
  unsigned port = 0;
  std::string_view digits = rest.substr(colon + 1);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (ec != std::errc() || end != digits.data() + digits.size() || port == 0 || port > 65535) {
    return 0;
  }
  return static_cast<uint16_t>(port);
}

bool Accepts(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

// The environment of the child: ours, with `extra` added or replacing a variable of that name.
std::vector<std::string> ChildEnvironment(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view var(*e);
    std::string_view name = var.substr(0, var.find('='));
    bool replaced = false;
    for (const std::string& x : extra) {
      if (std::string_view(x).substr(0, x.find('=')) == name) replaced = true;
    }
    if (!replaced) env.emplace_back(var);
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

bool WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

std::string TailOfFile(const std::string& path, int lines) {
  std::ifstream in(path);
  if (!in) return "";
  std::deque<std::string> last;
  for (std::string line; std::getline(in, line);) {
    last.push_back(std::move(line));
    if (static_cast<int>(last.size()) > lines) last.pop_front();
  }
  std::string out;
  for (const std::string& line : last) out += line + "\n";
  return out;
}

StatusOr<std::unique_ptr<ServerProcess>> ServerProcess::Start(const ProcessOptions& options) {
  if (options.argv.empty()) return InvalidArgumentError("server process: no command");
  if (Interrupted()) return UnavailableError("interrupted: no new server process");
  std::unique_ptr<ServerProcess> process(new ServerProcess(options));

  int log_fd = ::open(options.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log_fd < 0) {
    return UnavailableError("server process: cannot open " + options.log_path + ": " +
                            std::strerror(errno));
  }
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) {
    ::close(log_fd);
    return UnavailableError(std::string("server process: pipe: ") + std::strerror(errno));
  }
  std::vector<std::string> env = ChildEnvironment(options.env);
  std::vector<char*> argv;
  for (const std::string& a : options.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, log_fd, 2);
  process->spawned_at_ = Clock::now();
  pid_t pid = -1;
  int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  if (rc != 0) {
    ::close(out[0]);
    ::close(log_fd);
    return UnavailableError("server process: cannot start " + options.argv[0] + ": " +
                            std::strerror(rc));
  }
  process->pid_ = pid;
  process->out_fd_ = out[0];
  RegisterChild(pid);

  // Reads the child's output until the listening line (or, with ready_port, until the port
  // accepts), copying everything into the log, so the log is whole either way.
  const auto deadline = process->spawned_at_ + options.ready_timeout;
  std::string pending;
  bool ready = false;
  bool exited = false;
  char buffer[4096];
  while (!ready && Clock::now() < deadline) {
    pollfd pfd{process->out_fd_, POLLIN, 0};
    int wait_ms = options.ready_port != 0 ? 1 : 20;
    int n = ::poll(&pfd, 1, wait_ms);
    if (n > 0) {
      ssize_t got = ::read(process->out_fd_, buffer, sizeof(buffer));
      if (got > 0) {
        WriteAll(log_fd, buffer, static_cast<size_t>(got));
        pending.append(buffer, static_cast<size_t>(got));
        for (size_t nl;
             options.ready_port == 0 && (nl = pending.find('\n')) != std::string::npos;) {
          uint16_t port = PortOfListeningLine(std::string_view(pending).substr(0, nl));
          pending.erase(0, nl + 1);
          if (port != 0) {
            process->port_ = port;
            process->ready_at_ = Clock::now();
            ready = true;
            break;
          }
        }
      } else if (got == 0) {
        pfd.fd = -1;  // output closed; the exit check below decides
      }
    }
    if (!ready && options.ready_port != 0 && Accepts(options.ready_port)) {
      process->port_ = options.ready_port;
      process->ready_at_ = Clock::now();
      ready = true;
    }
    int status = 0;
    if (!ready && WaitChild(pid, &status, /*block=*/false) == pid) {
      exited = true;
      process->pid_ = -1;
      break;
    }
  }
  // The drain thread owns the log from here on.
  int drain_fd = process->out_fd_;
  process->drain_ = std::thread([drain_fd, log_fd] {
    char chunk[8192];
    for (;;) {
      ssize_t got = ::read(drain_fd, chunk, sizeof(chunk));
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) break;
      WriteAll(log_fd, chunk, static_cast<size_t>(got));
    }
    ::close(log_fd);
  });
  if (!ready) {
    std::string why =
        exited ? "exited before it listened"
               : "did not listen within " + std::to_string(options.ready_timeout.count()) + " ms";
    if (process->running()) (void)process->Stop();
    if (process->drain_.joinable()) process->drain_.join();
    std::string tail = TailOfFile(options.log_path, 8);
    return UnavailableError("server process " + options.argv[0] + " " + why +
                            (tail.empty() ? "" : "; its log ends:\n" + tail));
  }
  return process;
}

StatusOr<int> ServerProcess::Stop() {
  if (pid_ <= 0) return FailedPreconditionError("server process: not running");
  ::kill(pid_, SIGTERM);
  const auto deadline = Clock::now() + options_.stop_timeout;
  int status = 0;
  bool killed = false;
  for (;;) {
    pid_t r = WaitChild(pid_, &status, /*block=*/false);
    if (r == pid_ || (r < 0 && errno == ECHILD)) break;
    if (Clock::now() >= deadline && !killed) {
      ::kill(pid_, SIGKILL);
      killed = true;
      (void)WaitChild(pid_, &status, /*block=*/true);
      break;
    }
    std::this_thread::sleep_for(milliseconds(5));
  }
  pid_ = -1;
  if (drain_.joinable()) drain_.join();
  ::close(out_fd_);
  out_fd_ = -1;
  if (killed) return InternalError("server process ignored SIGTERM and was killed");
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 0;
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) (void)Stop();
  if (drain_.joinable()) drain_.join();
  if (out_fd_ >= 0) ::close(out_fd_);
}

}  // namespace hasivu::bench
