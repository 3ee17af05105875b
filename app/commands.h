// The subcommands of the hasivu program. Each returns the process exit code: 0 on success,
// 2 for invalid configuration (after a one-line reason on stderr), 1 for a runtime failure.
#ifndef HASIVU_APP_COMMANDS_H_
#define HASIVU_APP_COMMANDS_H_

#include <cstdint>
#include <string>

#include "app/config.h"

namespace hasivu::app {

// Opens the store, migrates it, seeds the demo data on an empty database (writing
// <data dir>/fixtures.json), serves until SIGINT/SIGTERM, then shuts down gracefully.
int RunServe(const Config& config);

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
