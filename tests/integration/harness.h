// Black-box test harness: runs the real `hasivu` binary as a child process on a loopback port and
// talks HTTP to it over real sockets.
//
// The binary's path comes from the HASIVU_BINARY environment variable (CTest sets it).
// Every process started is stopped by its PID in the destructor.
#ifndef HASIVU_TESTS_INTEGRATION_HARNESS_H_
#define HASIVU_TESTS_INTEGRATION_HARNESS_H_

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace hasivu::testing {

// Result of running a command to completion.
struct CommandResult {
  int exit_code = -1;  // -1 if it did not exit by itself within the timeout
  std::string out;
  std::string err;
};

// Runs `args` (args[0] is the program) with extra environment `env`, waits up to `timeout`.
CommandResult RunCommand(const std::vector<std::string>& args,
                         const std::map<std::string, std::string>& env = {},
                         std::chrono::milliseconds timeout = std::chrono::seconds(120));

std::string HasivuBinary();
// A fresh empty temporary folder (removed by the caller if wanted).
std::string MakeTempDir(const std::string& prefix);
// A loopback TCP port that was free a moment ago.
int FreePort();

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  bool ok = false;  // false if the connection failed or the reply was not parsable
};

// One request on a new connection. `extra_headers` are "Name: value" lines.
HttpResponse HttpRequest(int port, const std::string& method, const std::string& target,
                         const std::vector<std::string>& extra_headers = {},
                         const std::string& body = {});

// Writes `bytes` to a new connection and returns everything read until the peer closes or
// `timeout` passes without data.
std::string RawExchange(int port, const std::string& bytes,
                        std::chrono::milliseconds timeout = std::chrono::seconds(5));

// How ServerProcess tells that the server is ready.
enum class ReadyWhen {
  kHealthz,  // GET /healthz answers 200 (that probe is the process's first request)
  // Its standard output holds the "hasivu listening on" line, printed once it listens. No
  // request is made, so the test's own first request is the process's first (the cold one).
  kListeningLine,
};

// `hasivu serve` in a child process.
class ServerProcess {
 public:
  // Starts `hasivu serve --listen 127.0.0.1:<port> <args>` and waits until it is ready as
  // `ready_when` says (up to `ready_timeout`). `port` 0 takes a free one; a restart passes the
  // port of the process it replaces, as a deployment would. Check started() after.
  ServerProcess(std::vector<std::string> args, std::map<std::string, std::string> env = {},
                std::chrono::milliseconds ready_timeout = std::chrono::seconds(60),
                ReadyWhen ready_when = ReadyWhen::kHealthz, int port = 0);
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  bool started() const { return started_; }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  // Sends `signal` and waits up to `timeout` for the exit; returns the exit code, or -1 on
  // timeout (the process is then killed) or death by a signal.
  int StopWith(int signal, std::chrono::milliseconds timeout = std::chrono::seconds(15));
  // Waits up to `timeout` for the process to exit by itself (no signal sent); returns its exit
  // code, or -1 on timeout (it keeps running) or death by a signal.
  int WaitExit(std::chrono::milliseconds timeout);
  // What the process wrote so far.
  std::string Stdout() const;
  std::string Stderr() const;

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  bool started_ = false;
  std::string out_path_;
  std::string err_path_;
};

}  // namespace hasivu::testing

#endif  // HASIVU_TESTS_INTEGRATION_HARNESS_H_
