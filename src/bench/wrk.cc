#include "bench/wrk.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "bench/interrupt.h"

extern char** environ;

namespace hasivu::bench {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

bool ParseNumber(std::string_view text, double* value, std::string_view* unit) {
  text = Trim(text);
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *value);
  if (ec != std::errc()) return false;
  *unit = Trim(std::string_view(end, text.data() + text.size() - end));
  return true;
}

// wrk prints a latency in the largest unit that keeps it readable: us, ms, s, m or h.
bool ToMilliseconds(double value, std::string_view unit, double* ms) {
  if (unit == "us") {
    *ms = value / 1000;
  } else if (unit == "ms") {
    *ms = value;
  } else if (unit == "s") {
    *ms = value * 1000;
  } else if (unit == "m") {
    *ms = value * 60'000;
  } else if (unit == "h") {
    *ms = value * 3'600'000;
  } else {
    return false;
  }
  return true;
}

}  // namespace

StatusOr<WrkResult> ParseWrkOutput(std::string_view text) {
  WrkResult r;
  bool have_rps = false, have_p50 = false, have_requests = false;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = Trim(text.substr(pos, nl - pos));
    pos = nl + 1;
    double value = 0;
    std::string_view unit;
    if (line.rfind("Requests/sec:", 0) == 0) {
      have_rps = ParseNumber(line.substr(13), &r.requests_per_second, &unit);
    } else if (line.rfind("50%", 0) == 0 || line.rfind("99%", 0) == 0) {
      double ms = 0;
      if (ParseNumber(line.substr(3), &value, &unit) && ToMilliseconds(value, unit, &ms)) {
        if (line[0] == '5') {
          r.p50_ms = ms;
          have_p50 = true;
        } else {
          r.p99_ms = ms;
        }
      }
    } else if (line.rfind("Non-2xx or 3xx responses:", 0) == 0) {
      if (ParseNumber(line.substr(26), &value, &unit)) r.non_2xx = static_cast<uint64_t>(value);
    } else if (size_t at = line.find(" requests in "); at != std::string_view::npos) {
      if (ParseNumber(line.substr(0, at), &value, &unit) && unit.empty()) {
        r.requests = static_cast<uint64_t>(value);
        have_requests = true;
      }
    }
  }
  if (!have_rps) return InvalidArgumentError("wrk output: no Requests/sec line");
  if (!have_p50) return InvalidArgumentError("wrk output: no 50% latency (run with --latency)");
  if (!have_requests) return InvalidArgumentError("wrk output: no request count");
  return r;
}

StatusOr<WrkResult> RunWrk(const Endpoint& endpoint, const Request& request,
                           const WrkOptions& options) {
  if (request.method != "GET" || !request.body.empty()) {
    return InvalidArgumentError("wrk check: only GET requests without a body");
  }
  if (::access(options.program.c_str(), X_OK) != 0) {
    return FailedPreconditionError(options.program + " is not installed (apt install wrk)");
  }
  std::vector<std::string> args = {
      options.program, "-t" + std::to_string(options.threads),
      "-c" + std::to_string(options.connections),
      "-d" + std::to_string(static_cast<int>(options.duration_seconds + 0.5)) + "s", "--latency"};
  for (const Header& h : request.headers) {
    args.push_back("-H");
    args.push_back(h.name + ": " + h.value);
  }
  args.push_back(endpoint.ToString() + request.target);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return UnavailableError("wrk: pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, out[1], 2);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  if (rc != 0) {
    ::close(out[0]);
    return UnavailableError(std::string("wrk: cannot start: ") + std::strerror(rc));
  }
  RegisterChild(pid);
  // wrk ends by itself after its duration; a wrk that hangs past twice that is stopped.
  const auto deadline =
      std::chrono::steady_clock::now() +
      std::chrono::milliseconds(static_cast<int64_t>(options.duration_seconds * 2000 + 10'000));
  std::string text;
  char buffer[4096];
  for (;;) {
    pollfd pfd{out[0], POLLIN, 0};
    int n = ::poll(&pfd, 1, 100);
    if (n > 0) {
      ssize_t got = ::read(out[0], buffer, sizeof(buffer));
      if (got <= 0) break;
      text.append(buffer, static_cast<size_t>(got));
    }
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      break;
    }
  }
  ::close(out[0]);
  int status = 0;
  (void)WaitChild(pid, &status, /*block=*/true);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return UnavailableError("wrk failed: " + text.substr(0, 300));
  }
  return ParseWrkOutput(text);
}

}  // namespace hasivu::bench
