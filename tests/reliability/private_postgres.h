// A PostgreSQL 15 of a test's own, for scenarios that stop, restart or disturb the database: the
// shared one of scripts/services.sh serves every other engineer's tests and is never touched.
//
// Start() runs initdb into a fresh temporary folder, starts `postgres` on a free loopback port
// (listen_addresses 127.0.0.1, its socket in the folder) and creates what scripts/services.sh's
// pg_bootstrap creates: the role `hasivu` (LOGIN CREATEDB), the database `hasivu_test` it owns,
// and amcheck in its public schema with bt_index_check and verify_heapam granted to the role (the
// store checks, store_check.h, use them). Authentication is `trust` on loopback, as in the shared
// test cluster; fsync is off (a clean stop and start lose nothing; no test here crashes the OS).
//
// PostgreSQL refuses to run as root: as root, initdb and postgres run as the `postgres` OS user
// (the folder is handed to it). Every process is started by fork + exec and stopped by its PID;
// the destructor stops the server (fast shutdown) and removes the folder.
//
// Thread-safety: one thread at a time; AdminSql may be called from any thread while the server
// runs (each call opens its own connection).
#ifndef HASIVU_TESTS_RELIABILITY_PRIVATE_POSTGRES_H_
#define HASIVU_TESTS_RELIABILITY_PRIVATE_POSTGRES_H_

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace hasivu::reliability {

class PrivatePostgres {
 public:
  // Null, with the reason in *error, if initdb, the start or the bootstrap failed.
  static std::unique_ptr<PrivatePostgres> Start(std::string* error);
  ~PrivatePostgres();
  PrivatePostgres(const PrivatePostgres&) = delete;
  PrivatePostgres& operator=(const PrivatePostgres&) = delete;

  int port() const { return port_; }
  // The postmaster's PID while it runs, else -1.
  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }
  // The role hasivu's URL of hasivu_test on 127.0.0.1:`port` (the server's port by default; a
  // test that puts a relay in front passes the relay's).
  std::string Url(int port = 0) const;

  // Fast shutdown (SIGINT: active transactions are rolled back, clients disconnected, a
  // checkpoint written) and a wait for the exit, then SIGQUIT and SIGKILL past `timeout`.
  // False, with the reason in *error, if it had to be killed or was not running.
  bool Stop(std::string* error, std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Starts the server again on the same folder and port and waits until it accepts connections.
  bool Restart(std::string* error);

  // One statement as the superuser on hasivu_test, on a direct connection (never through a
  // relay). The first column of the first row ("" when there is none), or nullopt with the reason
  // in *error.
  std::optional<std::string> AdminSql(const std::string& sql, std::string* error) const;

  // The server's log so far (its stderr), for a failure message.
  std::string Log() const;

 private:
  PrivatePostgres() = default;
  bool Launch(std::string* error);
  bool WaitReady(std::chrono::milliseconds timeout, std::string* error);

  std::string dir_;
  std::string data_dir_;
  std::string log_path_;
  int port_ = 0;
  pid_t pid_ = -1;
  uid_t uid_ = 0;  // the user postgres runs as (root: the postgres OS user)
  gid_t gid_ = 0;
  bool switch_user_ = false;
};

}  // namespace hasivu::reliability

#endif  // HASIVU_TESTS_RELIABILITY_PRIVATE_POSTGRES_H_
