// `hasivu bench`: the platform's own benchmark (issue 14). Starts (or targets) a server, runs the
// ten functions' scenarios cold and warm, reads the server's view of the same minutes, judges the
// figures against target profiles and an optional baseline, and writes a Markdown, JSON and SVG
// report. Exit codes (the issue's): 0 every target met, 1 a target missed, 2 a regression against
// the baseline, 3 the run itself failed or was misconfigured (no data is never a pass); when
// several apply the highest wins.
#ifndef HASIVU_APP_BENCH_COMMAND_H_
#define HASIVU_APP_BENCH_COMMAND_H_

#include <cstdint>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace hasivu::app {

struct BenchOptions {
  // The server under test: empty starts a local one (this binary's `serve`) per repetition, each
  // on a fresh copy of the seeded database.
  std::string url;
  // Local server: "" (SQLite in the work dir) or a postgresql:// URL (seeded once; see the guide).
  std::string store;
  std::string size = "medium";  // the local seed's size: demo | medium | large
  std::string work_dir = "bench-work";
  std::string fixtures;          // the fixtures file; required with --url, else the local seed's
  std::string cache = "memory";  // the local server's --cache: memory, none, redis://...
  int server_threads = 1;
  std::vector<std::string> server_args;  // more `serve` flags for the local server
  std::vector<std::string> functions;    // empty: all ten
  int connections = 32;
  int client_threads = 1;
  double duration_seconds = 10;
  double warmup_seconds = 1;
  double rate = 0;            // > 0: open loop at this rate (requests/s) instead of closed
  std::vector<double> sweep;  // open-loop rates for the sweep
  std::string sweep_function = "orders-list";
  int repeat = 3;
  int cold_starts = 10;
  uint64_t writes = 1000;  // prepared per write function per repetition
  int read_variety = 50;
  std::string accept_encoding = "br, gzip";
  std::string targets_file;
  std::vector<std::string> profiles = {"seed", "strict"};
  std::string baseline;
  std::string save_baseline;
  std::string compare_url;      // a peer speaking the same API, already running
  std::string compare_command;  // or a local peer started per repetition ({port}, {db})
  bool wrk_check = false;
  std::string report_dir;  // default <work dir>/report
  // Cost model (bench/cost.h).
  double monthly_requests = 10'000'000;
  double lambda_memory_mb = 512;
  double price_gb_second = -1;  // < 0: the model's default
  double price_per_million_requests = -1;
  double price_instance_hour = -1;
  bool quiet = false;
};

// Registers the subcommand and its flags; RunBench runs it when it was parsed.
inline constexpr char kBenchDescription[] =
    "Benchmark the ten functions (cold start, warm load, server view) against targets; "
    "exit 0 pass, 1 target missed, 2 regression, 3 run failed";

CLI::App* AddBenchCommand(CLI::App& app, BenchOptions& options);
int RunBench(const BenchOptions& options);

}  // namespace hasivu::app

#endif  // HASIVU_APP_BENCH_COMMAND_H_
