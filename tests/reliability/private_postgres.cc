#include "tests/reliability/private_postgres.h"

#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "tests/integration/harness.h"

namespace hasivu::reliability {
namespace {

constexpr const char* kBinDir = "/usr/lib/postgresql/15/bin";
constexpr const char* kRole = "hasivu";
constexpr const char* kDatabase = "hasivu_test";

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// fork + exec of `args` with stdout and stderr appended to `log_path`, as `uid`/`gid` when
// `switch_user`, in `cwd` (PostgreSQL's programs refuse a working folder they cannot read).
pid_t Spawn(const std::vector<std::string>& args, const std::string& log_path,
            const std::string& cwd, bool switch_user, uid_t uid, gid_t gid) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid != 0) return pid;
  // The child: only async-signal-safe calls until exec.
  const int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (log >= 0) {
    dup2(log, STDOUT_FILENO);
    dup2(log, STDERR_FILENO);
    close(log);
  }
  const int null_in = open("/dev/null", O_RDONLY);
  if (null_in >= 0) dup2(null_in, STDIN_FILENO);
  // Its own process group: a terminal's Ctrl-C reaches the test, which stops it by PID.
  setpgid(0, 0);
  if (switch_user && (setgroups(0, nullptr) != 0 || setgid(gid) != 0 || setuid(uid) != 0)) {
    _exit(126);
  }
  if (chdir(cwd.c_str()) != 0) _exit(126);
  execv(argv[0], argv.data());
  _exit(127);
}

// The exit code of `pid` (a child), -1 past `timeout` (it keeps running) or on death by a signal;
// *exited says whether it was reaped.
int WaitFor(pid_t pid, std::chrono::milliseconds timeout, bool* exited) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  *exited = false;
  for (;;) {
    int status = 0;
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      *exited = true;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    if (r < 0) {
      *exited = true;  // not our child any more: nothing to wait for
      return -1;
    }
    if (std::chrono::steady_clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::optional<std::string> RunSql(const std::string& url, const std::string& sql,
                                  std::string* error) {
  PGconn* conn = PQconnectdb(url.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    *error = std::string("cannot connect to the private PostgreSQL: ") + PQerrorMessage(conn);
    PQfinish(conn);
    return std::nullopt;
  }
  PGresult* res = PQexec(conn, sql.c_str());
  std::optional<std::string> out;
  if (PQresultStatus(res) == PGRES_TUPLES_OK) {
    out = PQntuples(res) > 0 && PQnfields(res) > 0 ? std::string(PQgetvalue(res, 0, 0)) : "";
  } else if (PQresultStatus(res) == PGRES_COMMAND_OK) {
    out = "";
  } else {
    *error = std::string("private PostgreSQL: ") + PQerrorMessage(conn);
  }
  PQclear(res);
  PQfinish(conn);
  return out;
}

std::string SuperuserUrl(int port, const std::string& database) {
  return "postgresql://postgres@127.0.0.1:" + std::to_string(port) + "/" + database +
         "?connect_timeout=5";
}

}  // namespace

std::unique_ptr<PrivatePostgres> PrivatePostgres::Start(std::string* error) {
  std::unique_ptr<PrivatePostgres> pg(new PrivatePostgres());
  pg->dir_ = testing::MakeTempDir("hasivu-private-pg");
  if (pg->dir_.empty()) {
    *error = "cannot make a temporary folder";
    return nullptr;
  }
  pg->data_dir_ = pg->dir_ + "/data";
  pg->log_path_ = pg->dir_ + "/postgres.log";
  if (geteuid() == 0) {
    const passwd* pw = getpwnam("postgres");
    if (pw == nullptr) {
      *error = "running as root but there is no 'postgres' OS user to run PostgreSQL as";
      return nullptr;
    }
    pg->switch_user_ = true;
    pg->uid_ = pw->pw_uid;
    pg->gid_ = pw->pw_gid;
    if (chown(pg->dir_.c_str(), pg->uid_, pg->gid_) != 0) {
      *error = "cannot hand " + pg->dir_ + " to the postgres OS user";
      return nullptr;
    }
  }
  // The log file is made before the switch, so that the test (root) and postgres both write it.
  { std::ofstream touch(pg->log_path_); }
  if (pg->switch_user_ && chown(pg->log_path_.c_str(), pg->uid_, pg->gid_) != 0) {
    *error = "cannot hand the log file to the postgres OS user";
    return nullptr;
  }

  const pid_t initdb = Spawn({std::string(kBinDir) + "/initdb", "-D", pg->data_dir_, "-U",
                              "postgres", "-E", "UTF8", "--no-locale", "--auth=trust", "--no-sync"},
                             pg->log_path_, pg->dir_, pg->switch_user_, pg->uid_, pg->gid_);
  bool exited = false;
  const int code = initdb > 0 ? WaitFor(initdb, std::chrono::seconds(120), &exited) : -1;
  if (code != 0) {
    if (initdb > 0 && !exited) {
      kill(initdb, SIGKILL);
      WaitFor(initdb, std::chrono::seconds(5), &exited);
    }
    *error = "initdb failed: " + pg->Log();
    return nullptr;
  }
  pg->port_ = testing::FreePort();
  if (!pg->Launch(error)) return nullptr;

  const std::string postgres_db = SuperuserUrl(pg->port_, "postgres");
  const std::string test_db = SuperuserUrl(pg->port_, kDatabase);
  const std::string role = kRole;
  for (const auto& [url, sql] : std::vector<std::pair<std::string, std::string>>{
           {postgres_db, "CREATE ROLE " + role + " LOGIN CREATEDB"},
           {postgres_db, std::string("CREATE DATABASE ") + kDatabase + " OWNER " + role},
           {test_db, "CREATE EXTENSION IF NOT EXISTS amcheck SCHEMA public"},
           {test_db,
            "GRANT EXECUTE ON FUNCTION public.bt_index_check(regclass, boolean) TO " + role},
           {test_db,
            "GRANT EXECUTE ON FUNCTION public.verify_heapam(regclass, boolean, boolean, text, "
            "bigint, bigint) TO " +
                role},
       }) {
    if (!RunSql(url, sql, error)) return nullptr;
  }
  return pg;
}

bool PrivatePostgres::Launch(std::string* error) {
  // The shared test cluster's speed settings (scripts/services.sh), and room for the pool, the
  // test's own connections and the backends a black-holed relay keeps.
  pid_ =
      Spawn({std::string(kBinDir) + "/postgres", "-D", data_dir_, "-p", std::to_string(port_), "-k",
             dir_, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c",
             "full_page_writes=off", "-c", "max_connections=200", "-c", "log_min_messages=warning"},
            log_path_, dir_, switch_user_, uid_, gid_);
  if (pid_ <= 0) {
    pid_ = -1;
    *error = "cannot fork postgres";
    return false;
  }
  return WaitReady(std::chrono::seconds(60), error);
}

bool PrivatePostgres::WaitReady(std::chrono::milliseconds timeout, std::string* error) {
  const std::string conninfo = "host=127.0.0.1 port=" + std::to_string(port_) +
                               " dbname=postgres user=postgres connect_timeout=2";
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (PQping(conninfo.c_str()) == PQPING_OK) return true;
    bool exited = false;
    WaitFor(pid_, std::chrono::milliseconds(0), &exited);
    if (exited) {
      pid_ = -1;
      *error = "postgres exited at start: " + Log();
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  *error = "postgres did not accept connections within " + std::to_string(timeout.count() / 1000) +
           " s: " + Log();
  return false;
}

PrivatePostgres::~PrivatePostgres() {
  std::string ignored;
  if (running()) Stop(&ignored);
  if (!dir_.empty()) std::filesystem::remove_all(dir_);
}

std::string PrivatePostgres::Url(int port) const {
  return "postgresql://" + std::string(kRole) +
         "@127.0.0.1:" + std::to_string(port > 0 ? port : port_) + "/" + kDatabase;
}

bool PrivatePostgres::Stop(std::string* error, std::chrono::milliseconds timeout) {
  if (!running()) {
    *error = "the private PostgreSQL is not running";
    return false;
  }
  bool exited = false;
  kill(pid_, SIGINT);
  WaitFor(pid_, timeout, &exited);
  const bool clean = exited;
  if (!exited) {
    kill(pid_, SIGQUIT);
    WaitFor(pid_, std::chrono::seconds(5), &exited);
  }
  if (!exited) {
    kill(pid_, SIGKILL);
    WaitFor(pid_, std::chrono::seconds(5), &exited);
  }
  pid_ = -1;
  if (!clean) *error = "the private PostgreSQL did not stop at a fast shutdown: " + Log();
  return clean;
}

bool PrivatePostgres::Restart(std::string* error) {
  if (running() && !Stop(error)) return false;
  return Launch(error);
}

std::optional<std::string> PrivatePostgres::AdminSql(const std::string& sql,
                                                     std::string* error) const {
  return RunSql(SuperuserUrl(port_, kDatabase), sql, error);
}

std::string PrivatePostgres::Log() const {
  std::string log = Slurp(log_path_);
  return log.size() > 4000 ? log.substr(log.size() - 4000) : log;
}

}  // namespace hasivu::reliability
