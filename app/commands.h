// The subcommands of the hasivu program. Each returns the process exit code: 0 on success,
// 2 for invalid configuration (after a one-line reason on stderr), 1 for a runtime failure.
#ifndef HASIVU_APP_COMMANDS_H_
#define HASIVU_APP_COMMANDS_H_

#include <cstdint>
#include <string>

#include "app/config.h"

namespace hasivu::app {

// Opens the store, migrates it, serves until SIGINT/SIGTERM, then shuts down gracefully. On an
// empty database (no accounts), development mode seeds the demo data with fresh random passwords
// (printing a few logins and writing them all to <data dir>/fixtures.json); production mode never
// seeds and refuses to start (exit 2) until `hasivu admin create` has made the first admin.
int RunServe(const Config& config);

// `hasivu admin create`: adds a platform admin (the first account of a production deployment).
// The password is read from `password_file`, or from standard input for "-" (without echo on a
// terminal); it is never printed. Exit 2 for an invalid email or password (one line naming the
// field), 1 when the email is taken or the store fails.
struct AdminCreateOptions {
  std::string store;
  std::string data_dir = "./data";
  std::string email;
  std::string password_file = "-";
  std::string first_name = "Platform";
  std::string last_name = "Admin";
  // The server's login parameters, so the first login does not re-hash.
  unsigned long long argon2_opslimit = 2;
  unsigned long long argon2_memlimit_kib = 65536;
};
int RunAdminCreate(const AdminCreateOptions& options);

struct MigrateOptions {
  std::string store;
  std::string data_dir = "./data";
};
int RunMigrate(const MigrateOptions& options);

struct SeedOptions {
  std::string store;
  std::string data_dir = "./data";
  std::string size = "demo";  // demo | medium | large
  uint64_t seed = 1;
  std::string fixtures_out;  // empty: no fixtures file
};
int RunSeed(const SeedOptions& options);

// `hasivu estimate-compression [FILE|-]`: reads a body from FILE (or standard input for "-"),
// compresses it with every codec at every level and prints size, ratio and time per row.
// Exit 1 when the file cannot be read or is larger than 256 MiB.
int RunEstimateCompression(const std::string& file);

}  // namespace hasivu::app

#endif  // HASIVU_APP_COMMANDS_H_
