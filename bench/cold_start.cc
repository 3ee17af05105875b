// hasivu-coldstart: measures cold start as "fork/exec of a server command -> first complete
// `HTTP/1.1 200` answer to `GET /healthz` on 127.0.0.1:PORT", over several runs.
//
//   hasivu-coldstart [--runs N] [--port P] [--json] [--timeout-ms T] [--stop-timeout-ms S]
//                    [--pause-ms M] [--quiet-child] -- COMMAND [ARGS...]
//
// Each run: the clock starts just before fork; the runner polls the port (a refused connect is
// retried every ~200 us), sends `GET /healthz`, and stops the clock at the first complete 200
// response; then the child is sent SIGTERM by PID and reaped (SIGKILL after S ms). A run that
// has no 200 within T ms, or whose command exits first, fails the whole measurement (exit 1).
// `--port 0` picks a free loopback port per run; the literal `{port}` in COMMAND's arguments is
// replaced by the port in use. Only 127.0.0.1 is ever contacted.
//
// The child's stdout and stderr go to the runner's stderr (or /dev/null with --quiet-child), so
// the runner's stdout holds only results.
//
// `hasivu-coldstart --self-test-server --port P [--status CODE] [--delay-ms D] [--ignore-term]`
// is a minimal /healthz server, used to test the runner itself.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace hasivu::bench {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

volatile sig_atomic_t g_interrupted = 0;

void OnInterrupt(int) { g_interrupted = 1; }

struct Options {
  int runs = 20;
  int port = 18089;
  bool json = false;
  int timeout_ms = 10000;
  int stop_timeout_ms = 10000;
  int pause_ms = 100;
  bool quiet_child = false;
  std::vector<std::string> command;
  // Self-test server.
  bool self_test_server = false;
  int status = 200;
  int delay_ms = 0;
  bool ignore_term = false;
};

void Usage() {
  std::fprintf(stderr,
               "usage: hasivu-coldstart [--runs N] [--port P|0] [--json] [--timeout-ms T]\n"
               "                        [--stop-timeout-ms S] [--pause-ms M] [--quiet-child]\n"
               "                        -- COMMAND [ARGS...]   ({port} in ARGS = the port)\n"
               "       hasivu-coldstart --self-test-server --port P [--status CODE]\n"
               "                        [--delay-ms D] [--ignore-term]\n");
}

std::optional<int> ParseInt(std::string_view s, int min, int max) {
  int v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < min || v > max) return std::nullopt;
  return v;
}

// Returns false (after printing why) on bad arguments.
bool ParseArgs(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--") {
      for (++i; i < argc; ++i) o.command.emplace_back(argv[i]);
      break;
    }
    auto int_flag = [&](std::string_view name, int& out, int min, int max) -> std::optional<bool> {
      if (a != name) return std::nullopt;
      if (i + 1 >= argc) {
        std::fprintf(stderr, "hasivu-coldstart: %s needs a value\n", argv[i]);
        return false;
      }
      auto v = ParseInt(argv[++i], min, max);
      if (!v) {
        std::fprintf(stderr, "hasivu-coldstart: bad value for %s: '%s' (want %d..%d)\n",
                     std::string(name).c_str(), argv[i], min, max);
        return false;
      }
      out = *v;
      return true;
    };
    std::optional<bool> r;
    if ((r = int_flag("--runs", o.runs, 1, 10000)) || (r = int_flag("--port", o.port, 0, 65535)) ||
        (r = int_flag("--timeout-ms", o.timeout_ms, 1, 3600000)) ||
        (r = int_flag("--stop-timeout-ms", o.stop_timeout_ms, 0, 3600000)) ||
        (r = int_flag("--pause-ms", o.pause_ms, 0, 600000)) ||
        (r = int_flag("--status", o.status, 100, 599)) ||
        (r = int_flag("--delay-ms", o.delay_ms, 0, 600000))) {
      if (!*r) return false;
    } else if (a == "--json") {
      o.json = true;
    } else if (a == "--quiet-child") {
      o.quiet_child = true;
    } else if (a == "--self-test-server") {
      o.self_test_server = true;
    } else if (a == "--ignore-term") {
      o.ignore_term = true;
    } else if (a == "-h" || a == "--help") {
      Usage();
      std::exit(0);
    } else {
      std::fprintf(stderr, "hasivu-coldstart: unknown argument '%s'\n", argv[i]);
      return false;
    }
  }
  if (o.self_test_server) {
    if (o.port == 0) {
      std::fprintf(stderr, "hasivu-coldstart: --self-test-server needs a non-zero --port\n");
      return false;
    }
    return true;
  }
  if (o.command.empty()) {
    std::fprintf(stderr, "hasivu-coldstart: no command given after --\n");
    return false;
  }
  return true;
}

sockaddr_in Loopback(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

int RemainingMs(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, 1000));
}

// ---- Self-test server -------------------------------------------------------------------------

int RunSelfTestServer(const Options& o) {
  if (o.ignore_term) signal(SIGTERM, SIG_IGN);
  if (o.delay_ms > 0) std::this_thread::sleep_for(milliseconds(o.delay_ms));
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr = Loopback(o.port);
  if (listener < 0 || bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(listener, 64) != 0) {
    std::fprintf(stderr, "self-test-server: cannot listen on 127.0.0.1:%d: %s\n", o.port,
                 std::strerror(errno));
    return 1;
  }
  for (;;) {
    int conn = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    // One request per connection, bounded in size and time so a silent client cannot wedge it.
    timeval tv{1, 0};
    setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    std::string req;
    char buf[1024];
    while (req.find("\r\n\r\n") == std::string::npos && req.size() < 8192) {
      ssize_t n = recv(conn, buf, sizeof(buf), 0);
      if (n <= 0) break;
      req.append(buf, static_cast<size_t>(n));
    }
    bool healthz = req.starts_with("GET /healthz ");
    int status = healthz ? o.status : 404;
    std::string body = healthz ? "{\"status\":\"ok\"}\n" : "not found\n";
    std::string resp = "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: text/plain\r\n" +
                       "Content-Length: " + std::to_string(body.size()) +
                       "\r\nConnection: close\r\n\r\n" + body;
    (void)send(conn, resp.data(), resp.size(), MSG_NOSIGNAL);
    close(conn);
  }
}

// ---- Probing ----------------------------------------------------------------------------------

enum class Probe { kRefused, kNot200, kOk };

// One attempt: connect, GET /healthz, read one complete response. Never waits past `deadline`.
Probe ProbeOnce(int port, Clock::time_point deadline, std::string* status_line) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Probe::kRefused;
  struct Closer {
    int fd;
    ~Closer() { close(fd); }
  } closer{fd};
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sockaddr_in addr = Loopback(port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    if (errno != EINPROGRESS) return Probe::kRefused;
    pollfd p{fd, POLLOUT, 0};
    if (poll(&p, 1, RemainingMs(deadline)) <= 0) return Probe::kRefused;
    int err = 0;
    socklen_t len = sizeof(err);
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) return Probe::kRefused;
  }
  std::string req = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                    "\r\nUser-Agent: hasivu-coldstart\r\nConnection: close\r\n\r\n";
  size_t sent = 0;
  while (sent < req.size()) {
    ssize_t n = send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd, POLLOUT, 0};
      if (poll(&p, 1, RemainingMs(deadline)) > 0) continue;
    }
    return Probe::kRefused;
  }
  // Complete means: headers, then Content-Length bytes of body, or the chunked terminator, or
  // (with neither) the server closing the connection.
  std::string resp;
  size_t header_end = std::string::npos;
  std::optional<size_t> content_length;
  bool chunked = false;
  char buf[4096];
  for (;;) {
    if (header_end != std::string::npos) {
      size_t body = resp.size() - header_end;
      if (content_length && body >= *content_length) break;
      if (chunked && resp.find("\r\n0\r\n\r\n", header_end - 2) != std::string::npos) break;
    }
    if (Clock::now() >= deadline || resp.size() > (1 << 20)) {
      size_t eol = resp.find("\r\n");
      if (eol != std::string::npos) *status_line = resp.substr(0, eol);
      return Probe::kNot200;
    }
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, RemainingMs(deadline)) <= 0) continue;
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) {
      if (header_end != std::string::npos && !content_length && !chunked) break;
      return resp.empty() ? Probe::kRefused : Probe::kNot200;
    }
    resp.append(buf, static_cast<size_t>(n));
    if (header_end == std::string::npos) {
      size_t pos = resp.find("\r\n\r\n");
      if (pos == std::string::npos) continue;
      header_end = pos + 4;
      std::string headers = resp.substr(0, header_end);
      std::transform(headers.begin(), headers.end(), headers.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      size_t cl = headers.find("\r\ncontent-length:");
      if (cl != std::string::npos) {
        content_length = std::strtoull(headers.c_str() + cl + 17, nullptr, 10);
      }
      chunked = headers.find("\r\ntransfer-encoding: chunked") != std::string::npos;
    }
  }
  *status_line = resp.substr(0, resp.find("\r\n"));
  return status_line->starts_with("HTTP/1.1 200") ? Probe::kOk : Probe::kNot200;
}

bool PortOpen(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr = Loopback(port);
  bool open = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return open;
}

int PickFreePort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr = Loopback(0);
  socklen_t len = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

// ---- Child process ------------------------------------------------------------------------------

std::string DescribeExit(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "was killed by signal " + std::to_string(WTERMSIG(status));
  return "stopped";
}

// SIGTERM, then SIGKILL if it has not exited within `stop_timeout_ms`; always reaps.
void StopChild(pid_t pid, int stop_timeout_ms) {
  kill(pid, SIGTERM);
  auto deadline = Clock::now() + milliseconds(stop_timeout_ms);
  int status = 0;
  while (Clock::now() < deadline) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::fprintf(stderr, "hasivu-coldstart: pid %d ignored SIGTERM for %d ms, sending SIGKILL\n",
               static_cast<int>(pid), stop_timeout_ms);
  kill(pid, SIGKILL);
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

struct RunResult {
  bool ok = false;
  double ms = 0;
  std::string error;
};

RunResult RunOnce(const Options& o, int port) {
  RunResult result;
  if (PortOpen(port)) {
    result.error = "something already listens on 127.0.0.1:" + std::to_string(port) +
                   "; it would be measured instead of the command";
    return result;
  }
  std::vector<std::string> args = o.command;
  for (std::string& a : args) {
    for (size_t pos; (pos = a.find("{port}")) != std::string::npos;) {
      a.replace(pos, 6, std::to_string(port));
    }
  }
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int devnull = o.quiet_child ? open("/dev/null", O_WRONLY | O_CLOEXEC) : -1;

  auto start = Clock::now();
  pid_t pid = fork();
  if (pid < 0) {
    result.error = std::string("fork failed: ") + std::strerror(errno);
    if (devnull >= 0) close(devnull);
    return result;
  }
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec.
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    dup2(devnull >= 0 ? devnull : STDERR_FILENO, STDOUT_FILENO);
    if (devnull >= 0) dup2(devnull, STDERR_FILENO);
    execvp(argv[0], argv.data());
    const char msg[] = "hasivu-coldstart: exec failed\n";
    (void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
    _exit(127);
  }
  if (devnull >= 0) close(devnull);

  auto deadline = start + milliseconds(o.timeout_ms);
  std::string last_status;
  for (;;) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      result.error = "command " + DescribeExit(status) + " before answering 200 on /healthz";
      return result;
    }
    if (g_interrupted) {
      result.error = "interrupted";
      break;
    }
    if (Clock::now() >= deadline) {
      result.error =
          "no HTTP/1.1 200 from GET /healthz on 127.0.0.1:" + std::to_string(port) + " within " +
          std::to_string(o.timeout_ms) + " ms" +
          (last_status.empty() ? " (port never answered)" : " (last answer: " + last_status + ")");
      break;
    }
    std::string status_line;
    Probe probe = ProbeOnce(port, deadline, &status_line);
    if (probe == Probe::kOk) {
      result.ok = true;
      result.ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
      break;
    }
    // A probe cut short by the deadline says less than an earlier complete answer.
    if (probe == Probe::kNot200 && (!status_line.empty() || last_status.empty())) {
      last_status = status_line.empty() ? "incomplete response" : status_line;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  StopChild(pid, o.stop_timeout_ms);
  return result;
}

// ---- Report -------------------------------------------------------------------------------------

struct Summary {
  double min = 0, max = 0, mean = 0, median = 0;
};

Summary Summarize(std::vector<double> v) {
  Summary s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  s.min = v.front();
  s.max = v.back();
  double total = 0;
  for (double x : v) total += x;
  s.mean = total / static_cast<double>(v.size());
  size_t n = v.size();
  s.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  return s;
}

std::string JsonEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

int Main(int argc, char** argv) {
  Options o;
  if (!ParseArgs(argc, argv, o)) {
    Usage();
    return 2;
  }
  if (o.self_test_server) return RunSelfTestServer(o);

  struct sigaction sa {};
  sa.sa_handler = OnInterrupt;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  std::vector<double> samples;
  std::string error;
  for (int run = 1; run <= o.runs && !g_interrupted; ++run) {
    int port = o.port != 0 ? o.port : PickFreePort();
    if (port == 0) {
      error = "could not pick a free loopback port";
      break;
    }
    RunResult r = RunOnce(o, port);
    if (!r.ok) {
      error = "run " + std::to_string(run) + ": " + r.error;
      break;
    }
    samples.push_back(r.ms);
    if (!o.json) std::printf("run %d: %.3f ms\n", run, r.ms);
    std::fflush(stdout);
    if (run < o.runs) std::this_thread::sleep_for(milliseconds(o.pause_ms));
  }
  if (error.empty() && g_interrupted) error = "interrupted";
  Summary s = Summarize(samples);
  if (o.json) {
    std::string line =
        "{\"runs\":" + std::to_string(o.runs) + ",\"ok\":" + std::to_string(samples.size());
    char buf[256];
    std::snprintf(buf, sizeof(buf),
                  ",\"median_ms\":%.3f,\"max_ms\":%.3f,\"min_ms\":%.3f,\"mean_ms\":%.3f", s.median,
                  s.max, s.min, s.mean);
    line += buf;
    line += ",\"samples_ms\":[";
    for (size_t i = 0; i < samples.size(); ++i) {
      std::snprintf(buf, sizeof(buf), "%s%.3f", i ? "," : "", samples[i]);
      line += buf;
    }
    line += "]";
    if (!error.empty()) line += ",\"error\":\"" + JsonEscape(error) + "\"";
    line += "}";
    std::printf("%s\n", line.c_str());
  } else if (!samples.empty()) {
    std::printf(
        "cold start over %zu runs: median %.3f ms, max %.3f ms, min %.3f ms, mean %.3f ms\n",
        samples.size(), s.median, s.max, s.min, s.mean);
  }
  if (!error.empty()) {
    std::fprintf(stderr, "hasivu-coldstart: %s\n", error.c_str());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace hasivu::bench

int main(int argc, char** argv) { return hasivu::bench::Main(argc, argv); }
