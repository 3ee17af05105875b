#include "tests/integration/harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace hasivu::testing {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

pid_t Spawn(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
            const std::string& out_path, const std::string& err_path) {
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    std::string kv(*e);
    const std::string name = kv.substr(0, kv.find('='));
    if (!env.count(name)) env_strings.push_back(kv);
  }
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> argv, envp;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  pid_t pid = -1;
  if (posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data()) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

// Waits for `pid` up to `timeout`; returns the exit code, -1 on timeout or signal death.
int WaitFor(pid_t pid, std::chrono::milliseconds timeout, bool* timed_out) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  *timed_out = false;
  while (true) {
    int status = 0;
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (r < 0) return -1;
    if (std::chrono::steady_clock::now() > deadline) {
      *timed_out = true;
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

int Connect(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

bool WriteAll(int fd, const std::string& bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    const ssize_t n = send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

std::string ToLower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Parses one HTTP/1.1 response (Content-Length framed) from the front of `data`.
bool ParseResponse(const std::string& data, bool head_request, HttpResponse* out,
                   size_t* consumed) {
  const size_t head_end = data.find("\r\n\r\n");
  if (head_end == std::string::npos) return false;
  std::istringstream head(data.substr(0, head_end));
  std::string line;
  std::getline(head, line);
  if (line.rfind("HTTP/1.1 ", 0) != 0 || line.size() < 12) return false;
  out->status = std::atoi(line.substr(9, 3).c_str());
  size_t length = 0;
  while (std::getline(head, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = ToLower(line.substr(0, colon));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    if (name == "content-length") length = std::strtoul(value.c_str(), nullptr, 10);
    out->headers[name] = value;
  }
  const size_t body_start = head_end + 4;
  if (head_request) length = 0;  // no body follows a HEAD response, whatever Content-Length says
  if (data.size() < body_start + length) return false;
  out->body = data.substr(body_start, length);
  out->ok = true;
  *consumed = body_start + length;
  return true;
}

}  // namespace

std::string HasivuBinary() {
  const char* b = std::getenv("HASIVU_BINARY");
  return b ? b : "";
}

std::string MakeTempDir(const std::string& prefix) {
  std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
  char* made = mkdtemp(tmpl.data());
  return made ? std::string(made) : std::string();
}

int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

CommandResult RunCommand(const std::vector<std::string>& args,
                         const std::map<std::string, std::string>& env,
                         std::chrono::milliseconds timeout) {
  CommandResult result;
  const std::string dir = MakeTempDir("hasivu-cmd");
  const std::string out = dir + "/out", err = dir + "/err";
  const pid_t pid = Spawn(args, env, out, err);
  if (pid < 0) return result;
  bool timed_out = false;
  result.exit_code = WaitFor(pid, timeout, &timed_out);
  if (timed_out) {
    kill(pid, SIGKILL);
    WaitFor(pid, std::chrono::seconds(5), &timed_out);
  }
  result.out = ReadFile(out);
  result.err = ReadFile(err);
  std::filesystem::remove_all(dir);
  return result;
}

HttpResponse HttpRequest(int port, const std::string& method, const std::string& target,
                         const std::vector<std::string>& extra_headers, const std::string& body) {
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (const auto& h : extra_headers) req += h + "\r\n";
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n" + body;
  HttpResponse r;
  const std::string data = RawExchange(port, req);
  size_t consumed = 0;
  ParseResponse(data, method == "HEAD", &r, &consumed);
  return r;
}

std::string RawExchange(int port, const std::string& bytes, std::chrono::milliseconds timeout) {
  const int fd = Connect(port);
  if (fd < 0) return {};
  std::string out;
  if (WriteAll(fd, bytes)) {
    char buf[65536];
    while (true) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(timeout.count())) <= 0) break;
      const ssize_t n = recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
  }
  close(fd);
  return out;
}

ServerProcess::ServerProcess(std::vector<std::string> args, std::map<std::string, std::string> env,
                             std::chrono::milliseconds ready_timeout, ReadyWhen ready_when,
                             int port) {
  const std::string dir = MakeTempDir("hasivu-srv");
  out_path_ = dir + "/stdout";
  err_path_ = dir + "/stderr";
  port_ = port > 0 ? port : FreePort();
  std::vector<std::string> full = {HasivuBinary(), "serve", "--listen",
                                   "127.0.0.1:" + std::to_string(port_)};
  full.insert(full.end(), args.begin(), args.end());
  pid_ = Spawn(full, env, out_path_, err_path_);
  if (pid_ < 0) return;
  const auto deadline = std::chrono::steady_clock::now() + ready_timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {  // exited early
      pid_ = -1;
      return;
    }
    if (ready_when == ReadyWhen::kListeningLine) {
      // RunServe prints the line after Start() has bound and listens.
      if (ReadFile(out_path_).find("hasivu listening on ") != std::string::npos) {
        started_ = true;
        return;
      }
    } else {
      HttpResponse r = HttpRequest(port_, "GET", "/healthz");
      if (r.ok && r.status == 200) {
        started_ = true;
        return;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) StopWith(SIGKILL, std::chrono::seconds(5));
}

int ServerProcess::WaitExit(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  bool timed_out = false;
  const int code = WaitFor(pid_, timeout, &timed_out);
  if (timed_out) return -1;
  pid_ = -1;
  return code;
}

int ServerProcess::StopWith(int signal, std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  kill(pid_, signal);
  bool timed_out = false;
  int code = WaitFor(pid_, timeout, &timed_out);
  if (timed_out) {
    kill(pid_, SIGKILL);
    WaitFor(pid_, std::chrono::seconds(5), &timed_out);
    code = -1;
  }
  pid_ = -1;
  return code;
}

std::string ServerProcess::Stdout() const { return ReadFile(out_path_); }
std::string ServerProcess::Stderr() const { return ReadFile(err_path_); }

}  // namespace hasivu::testing
