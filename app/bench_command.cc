#include "app/bench_command.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "bench/baseline.h"
#include "bench/cold_start.h"
#include "bench/cost.h"
#include "bench/http_client.h"
#include "bench/interrupt.h"
#include "bench/load.h"
#include "bench/proc_stats.h"
#include "bench/prometheus.h"
#include "bench/report.h"
#include "bench/result.h"
#include "bench/scenarios.h"
#include "bench/server_process.h"
#include "bench/server_view.h"
#include "bench/stats.h"
#include "bench/targets.h"
#include "bench/wrk.h"
#include "common/ids.h"
#include "common/time_util.h"
#include "store/database.h"
#include "store/open_database.h"

#ifndef HASIVU_VERSION
#define HASIVU_VERSION "0.0.0"
#endif

namespace hasivu::app {
namespace {

namespace fs = std::filesystem;
using bench::Endpoint;
using bench::LoadOptions;
using bench::LoadResult;
using bench::PhaseResult;
using bench::RunResult;
using bench::Scenario;
using Clock = std::chrono::steady_clock;

constexpr int kExitRunFailed = 3;

// The quantiles of the percentile curves (SVG): dense in the tail, where the curves differ.
constexpr double kCurveQuantiles[] = {0,    0.1,  0.25,  0.5,   0.75,   0.9,    0.95,
                                      0.98, 0.99, 0.995, 0.999, 0.9995, 0.9999, 1};

int Fail(const std::string& message) {
  std::fprintf(stderr, "hasivu bench: error: %s\n", message.c_str());
  return kExitRunFailed;
}

StatusOr<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

Status WriteWholeFile(const std::string& path, const std::string& text, bool secret = false) {
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return UnavailableError("cannot write " + path);
  out << text;
  out.close();
  if (!out) return UnavailableError("cannot write " + path);
  if (secret) fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write, ec);
  return Status::Ok();
}

// The path of this very binary, so the servers it starts are the build being measured.
std::string SelfPath() {
  std::error_code ec;
  fs::path p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("hasivu") : p.string();
}

// The seed dates its data in the schools' zone (India, UTC+05:30, no daylight saving); "today"
// there decides whether the seeded deliveries are today's.
std::string TodayInIndia() {
  const auto now = std::chrono::system_clock::now() + std::chrono::minutes(330);
  const auto days = std::chrono::floor<std::chrono::days>(now);
  const std::chrono::year_month_day ymd{days};
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

std::string MachineLine() {
  utsname u{};
  uname(&u);
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page_size = sysconf(_SC_PAGESIZE);
  const double gib = static_cast<double>(pages) * static_cast<double>(page_size) / (1 << 30);
  char buf[160];
  std::snprintf(buf, sizeof(buf), "%ld cores, %.0f GiB, %s %s", sysconf(_SC_NPROCESSORS_ONLN), gib,
                u.sysname, u.release);
  return buf;
}

// A live line on a terminal; nothing when standard error is not one.
class Progress {
 public:
  explicit Progress(bool quiet) : on_(!quiet && isatty(STDERR_FILENO) == 1) {}
  void Show(const std::string& line) {
    if (!on_) return;
    std::fprintf(stderr, "\r\033[K%s", line.c_str());
    std::fflush(stderr);
  }
  void Done() {
    if (!on_) return;
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
  }
  void Say(const std::string& line) {
    if (!on_) return;
    std::fprintf(stderr, "\r\033[K%s\n", line.c_str());
  }

 private:
  bool on_;
};

// The seeded database and fixtures of a local run, made once and reused while they are today's.
struct Seeded {
  std::string db;
  std::string fixtures;
};

// Runs `hasivu seed` (this binary) to completion into `store`, its fixtures to `fixtures`.
Status SeedInto(const BenchOptions& o, const std::string& store, const std::string& fixtures,
                const std::string& log) {
  std::vector<std::string> args = {SelfPath(), "seed", "--store",        store,
                                   "--size",   o.size, "--fixtures-out", fixtures};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    if (std::freopen(log.c_str(), "w", stdout) != nullptr) dup2(STDOUT_FILENO, STDERR_FILENO);
    execv(argv[0], argv.data());
    _exit(127);
  }
  if (pid < 0) return UnavailableError("cannot start the seed");
  bench::RegisterChild(pid);
  int status = 0;
  (void)bench::WaitChild(pid, &status, /*block=*/true);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return UnavailableError("seeding failed; its log ends:\n" + bench::TailOfFile(log, 8));
  }
  return Status::Ok();
}

StatusOr<Seeded> EnsureSeeded(const BenchOptions& o, Progress& progress) {
  const fs::path dir = fs::path(o.work_dir) / ("seed-" + o.size);
  Seeded s{(dir / "hasivu.db").string(), (dir / "fixtures.json").string()};
  const fs::path done = dir / "done";
  if (fs::exists(done)) {
    auto text = ReadWholeFile(s.fixtures);
    if (text.ok()) {
      auto fixtures = bench::ParseFixtures(*text);
      if (fixtures.ok() && fixtures->base_date == TodayInIndia()) return s;
    }
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  if (ec) return UnavailableError("cannot create " + dir.string() + ": " + ec.message());
  progress.Say("seeding the " + o.size + " database into " + dir.string() + " ...");
  Status seeded = SeedInto(o, "sqlite:" + s.db, s.fixtures, (dir / "seed.log").string());
  if (!seeded.ok()) return seeded;
  Status w = WriteWholeFile(done.string(), "");
  if (!w.ok()) return w;
  return s;
}

// Copies the seeded database (and its WAL, if any) to a run's own file.
Status FreshCopy(const std::string& from, const std::string& to) {
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm"}) {
    fs::remove(to + suffix, ec);
    if (fs::exists(from + suffix)) {
      fs::copy_file(from + suffix, to + suffix, fs::copy_options::overwrite_existing, ec);
      if (ec) return UnavailableError("cannot copy " + from + suffix + ": " + ec.message());
    }
  }
  // On disk before anything is measured: otherwise the kernel writes the copy back (hundreds of
  // megabytes for medium) during the first phases and the server's own writes queue behind it.
  ::sync();
  return Status::Ok();
}

// The store one server (a repetition's, or the cold starts') runs on, fresh: a copy of the
// seeded SQLite file, or a PostgreSQL schema of its own seeded anew (a run delivers orders and
// pays them, so a second run on the same data would find nothing left to deliver).
struct RepStore {
  std::string store;   // the server's --store
  std::string db;      // the SQLite file, or empty
  std::string schema;  // the PostgreSQL schema, or empty
  // The server's --cache-prefix with a Redis cache: each store is seeded anew with the same ids,
  // so a shared prefix would serve one repetition another's (or an earlier run's) entries.
  std::string cache_prefix;
  bench::Fixtures fixtures;
};

Status ExecOn(const std::string& url, const std::string& sql) {
  store::DatabaseSettings settings;
  settings.url = url;
  settings.pool_size = 1;
  auto db = store::OpenDatabase(settings);
  if (!db.ok()) return db.status();
  return (*db)->Write([&](store::Connection& c) { return c.ExecScript(sql); });
}

// What a run holds on to while it goes: the options, where things are, the server's secret.
struct Run {
  Run(const BenchOptions& options, Progress& p) : o(options), progress(p) {}
  const BenchOptions& o;
  Progress& progress;
  std::string self;
  std::optional<Seeded> seeded;
  std::string secret_file;
  std::string secret;
  std::string key_secret_file;  // the simulated gateway's signing key, shared by the run's servers
  std::string run_dir;
  std::string run_tag;
  std::string run_tag_schema;                      // run_tag as an SQL identifier
  std::optional<bench::Fixtures> seeded_fixtures;  // SQLite: the seed's
  RunResult result;
};

void DropRepStore(const Run& run, const RepStore& rs);

StatusOr<RepStore> MakeRepStore(Run& run, const std::string& label) {
  RepStore rs;
  rs.cache_prefix = "hasivu-bench:" + run.run_tag + ":" + label + ":";
  if (run.o.store.empty()) {
    rs.db = run.run_dir + "/hasivu-" + label + ".db";
    rs.store = "sqlite:" + rs.db;
    Status copied = FreshCopy(run.seeded->db, rs.db);
    if (!copied.ok()) return copied;
    rs.fixtures = *run.seeded_fixtures;
    return rs;
  }
  rs.schema = "hasivu_bench_" + run.run_tag_schema + "_" + label;
  Status created = ExecOn(run.o.store, "CREATE SCHEMA " + rs.schema);
  if (!created.ok()) return created;
  rs.store = run.o.store + (run.o.store.find('?') == std::string::npos ? "?" : "&") +
             "options=-csearch_path%3D" + rs.schema;
  const std::string fixtures = run.run_dir + "/fixtures-" + label + ".json";
  run.progress.Say("seeding the " + run.o.size + " database into PostgreSQL schema " + rs.schema +
                   " ...");
  // From here on the schema exists: every way out but success drops it (the caller only drops
  // what it was given).
  auto seed = [&]() -> StatusOr<bench::Fixtures> {
    RETURN_IF_ERROR(SeedInto(run.o, rs.store, fixtures, run.run_dir + "/seed-" + label + ".log"));
    ASSIGN_OR_RETURN(std::string text, ReadWholeFile(fixtures));
    return bench::ParseFixtures(text);
  };
  StatusOr<bench::Fixtures> parsed = seed();
  if (!parsed.ok()) {
    DropRepStore(run, rs);
    return parsed.status();
  }
  rs.fixtures = std::move(*parsed);
  return rs;
}

void DropRepStore(const Run& run, const RepStore& rs) {
  std::error_code ec;
  if (!rs.db.empty()) {
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(rs.db + suffix, ec);
  }
  if (!rs.schema.empty())
    (void)ExecOn(run.o.store, "DROP SCHEMA IF EXISTS " + rs.schema + " CASCADE");
}

bench::ProcessOptions LocalServerProcess(const Run& run, const RepStore& rs,
                                         const std::string& log) {
  bench::ProcessOptions p;
  p.argv = {run.self, "serve", "--listen", "127.0.0.1:0", "--store", rs.store, "--cache",
            run.o.cache, "--threads", std::to_string(run.o.server_threads), "--access-log", "false",
            "--log-level", "warn", "--mode", "development", "--jwt-secret-file", run.secret_file,
            // A run registers thousands of parents from one address: the per-address limit is
            // a defence against abuse, not part of what is measured (the report says so).
            "--register-limit", "1000000"};
  if (run.o.cache.rfind("redis://", 0) == 0) {
    p.argv.push_back("--cache-prefix");
    p.argv.push_back(rs.cache_prefix);
  }
  for (const std::string& a : run.o.server_args) p.argv.push_back(a);
  // Every process of the run signs simulated checkouts with one key: a payment prepared through
  // one server verifies on the next (cold starts, a peer). Flags in --server-arg still win.
  p.env = {"HASIVU_RAZORPAY_KEY_SECRET_FILE=" + run.key_secret_file};
  p.log_path = log;
  return p;
}

// The peer started per repetition for --compare-command, its {port} and {db} filled in.
StatusOr<std::unique_ptr<bench::ServerProcess>> StartPeer(const Run& run, const std::string& db,
                                                          int repetition) {
  // A loopback port that was free a moment ago: the peer's command is told it.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const uint16_t port = ntohs(addr.sin_port);
  ::close(fd);
  std::vector<std::string> argv;
  std::istringstream words(run.o.compare_command);
  for (std::string w; words >> w;) {
    for (auto [key, value] :
         {std::pair<std::string, std::string>{"{port}", std::to_string(port)}, {"{db}", db}}) {
      for (size_t at; (at = w.find(key)) != std::string::npos;) w.replace(at, key.size(), value);
    }
    argv.push_back(w);
  }
  if (argv.empty()) return InvalidArgumentError("--compare-command: empty");
  if (argv[0].find('/') == std::string::npos) {
    // posix_spawn does not search PATH.
    for (std::string dir : {"/usr/local/bin", "/usr/bin", "/bin"}) {
      if (fs::exists(dir + "/" + argv[0])) {
        argv[0] = dir + "/" + argv[0];
        break;
      }
    }
  }
  bench::ProcessOptions p;
  p.argv = argv;
  p.env = {"HASIVU_JWT_SECRET=" + run.secret,
           "HASIVU_RAZORPAY_KEY_SECRET_FILE=" + run.key_secret_file};
  p.ready_port = port;
  p.log_path = run.run_dir + "/peer-" + std::to_string(repetition) + ".log";
  return bench::ServerProcess::Start(p);
}

bool IsPasswordHashing(const std::string& function) {
  return function == "auth-register" || function == "auth-login";
}

std::vector<std::pair<double, double>> CurveOf(std::vector<double> latencies) {
  std::sort(latencies.begin(), latencies.end());
  std::vector<std::pair<double, double>> curve;
  if (latencies.empty()) return curve;
  for (double q : kCurveQuantiles) curve.emplace_back(q, bench::Percentile(latencies, q));
  return curve;
}

// One measured phase of `scenario` against `endpoint`; the server's CPU and peak RSS when `pid`
// is a local process.
StatusOr<PhaseResult> MeasurePhase(Run& run, const Endpoint& endpoint, const Scenario& scenario,
                                   const std::string& target, int repetition, double rate,
                                   pid_t pid) {
  bench::Workload workload;
  workload.requests = scenario.requests;
  workload.each_once = scenario.writes;
  workload.expected_status = scenario.expected_status;
  LoadOptions load;
  load.connections = run.o.connections;
  load.threads = run.o.client_threads;
  load.duration = std::chrono::milliseconds(static_cast<int64_t>(run.o.duration_seconds * 1000));
  load.warmup = scenario.writes
                    ? std::chrono::milliseconds(0)
                    : std::chrono::milliseconds(static_cast<int64_t>(run.o.warmup_seconds * 1000));
  load.rate = rate;
  // Each of these hashes a password with argon2id (~80 ms of CPU, on purpose): their warm latency
  // is one caller's, on one connection; more connections measure the hashing queue (and the
  // per-address login limit, which counts logins in progress), not the function.
  if (IsPasswordHashing(scenario.function)) load.connections = 1;
  std::optional<bench::ServerUsage> before;
  if (pid > 0) {
    (void)bench::ResetPeakRss(pid);
    auto u = bench::ReadServerUsage(pid);
    if (u.ok()) before = *u;
  }
  auto machine_before = bench::ReadMachineCpuTimes();
  const std::string label = "[" + std::to_string(repetition + 1) + "/" +
                            std::to_string(run.o.repeat) + "] " + scenario.function + " on " +
                            target + (rate > 0 ? " at " + std::to_string(int(rate)) + "/s" : "");
  auto progress = [&](const bench::LoadProgress& p) {
    char line[200];
    std::snprintf(line, sizeof(line), "%s  %.1f s  %llu answered  %llu failed  %.0f req/s",
                  label.c_str(), p.elapsed_seconds, static_cast<unsigned long long>(p.completed),
                  static_cast<unsigned long long>(p.failed), p.requests_per_second);
    run.progress.Show(line);
  };
  StatusOr<LoadResult> r = bench::RunLoad(endpoint, workload, load, progress);
  if (!r.ok()) return r.status();
  PhaseResult phase;
  phase.function = scenario.function;
  phase.target = target;
  phase.repetition = repetition;
  phase.mode = rate > 0 ? "open" : "closed";
  phase.offered_rate = rate;
  phase.connections = load.connections;
  auto latency = bench::Summarize(r->latency_ms);
  auto service = bench::Summarize(r->service_ms);
  if (!latency.ok()) return latency.status();
  if (!service.ok()) return service.status();
  phase.latency_ms = *latency;
  phase.service_ms = *service;
  phase.requests_per_second = r->requests_per_second;
  phase.requests = r->completed;
  phase.succeeded = r->succeeded;
  phase.errors = r->errors;
  phase.success_rate = r->sent == 0 ? 0 : static_cast<double>(r->succeeded) / r->sent;
  phase.exhausted = r->exhausted;
  phase.response_bytes = r->response_bytes;
  phase.percentile_curve = CurveOf(std::move(r->latency_ms));
  if (before) {
    auto after = bench::ReadServerUsage(pid);
    if (after.ok()) phase.server = bench::ServerUsageBetween(*before, *after);
  }
  auto machine_after = bench::ReadMachineCpuTimes();
  if (machine_before.ok() && machine_after.ok()) {
    phase.machine = bench::MachineUsageBetween(*machine_before, *machine_after);
  }
  run.progress.Done();
  return phase;
}

StatusOr<bench::PreparedScenarios> Prepare(Run& run, const Endpoint& endpoint,
                                           const bench::Fixtures& fixtures, uint64_t writes,
                                           const std::string& tag,
                                           std::vector<std::string> functions = {}) {
  auto client = bench::NewHttpClient(endpoint, std::chrono::seconds(30));
  bench::ScenarioOptions so;
  so.functions = functions.empty() ? run.o.functions : std::move(functions);
  so.writes_per_function = writes;
  so.read_variety = run.o.read_variety;
  so.accept_encoding = run.o.accept_encoding;
  so.run_tag = tag;
  run.progress.Show("preparing the scenarios (logins, fresh orders, payment orders) ...");
  auto prepared = bench::PrepareScenarios(fixtures, *client, so);
  run.progress.Done();
  if (prepared.ok()) {
    run.result.config.setup_requests += prepared->setup_requests;
    run.result.config.setup_writes += prepared->setup_writes;
    for (const std::string& s : prepared->skipped) {
      if (std::find(run.result.config.skipped.begin(), run.result.config.skipped.end(), s) ==
          run.result.config.skipped.end()) {
        run.result.config.skipped.push_back(s);
      }
    }
  }
  return prepared;
}

StatusOr<std::string> Scrape(const Endpoint& endpoint) {
  auto client = bench::NewHttpClient(endpoint, std::chrono::seconds(10));
  bench::Request r;
  r.target = "/metrics";
  auto answer = client->Send(r);
  if (!answer.ok()) return answer.status();
  if (answer->status != 200) {
    return UnavailableError("/metrics answered " + std::to_string(answer->status));
  }
  return answer->body;
}

// Whether every answer of a peer's phase was a 404 (no such route) or a 501 (the Node.js
// baseline's answer for what it does not implement): the peer does not serve the function.
bool NotServed(const PhaseResult& phase) {
  if (phase.succeeded != 0 || phase.requests == 0) return false;
  uint64_t not_found = 0;
  for (const auto& [kind, count] : phase.errors) {
    if (kind.rfind("status 404", 0) == 0 || kind.rfind("status 501", 0) == 0) {
      not_found += count;
    }
  }
  return not_found == phase.requests;
}

// The bench's own generator beside wrk on the same request, alternating three times each.
void WrkCheck(Run& run, const Endpoint& endpoint, const Scenario& scenario) {
  std::vector<double> ours_rps, ours_p50, wrk_rps, wrk_p50;
  // wrk sends one request over and over: so does the generator here, the same one.
  const bench::Request& request = scenario.requests.front();
  bench::Workload workload{{request}, false, scenario.expected_status};
  bench::WrkOptions wo;
  wo.connections = run.o.connections;
  wo.threads = run.o.client_threads;
  wo.duration_seconds = run.o.duration_seconds;
  for (int i = 0; i < 3; ++i) {
    LoadOptions load;
    load.connections = run.o.connections;
    load.threads = run.o.client_threads;
    load.duration = std::chrono::milliseconds(static_cast<int64_t>(run.o.duration_seconds * 1000));
    StatusOr<bench::LoadResult> ours = UnavailableError("not run");
    StatusOr<bench::WrkResult> theirs = UnavailableError("not run");
    // A B, B A, A B: neither always runs on the warmer server.
    for (int side = 0; side < 2; ++side) {
      const bool wrk_turn = (side == 1) == (i % 2 == 0);
      const std::string n = std::to_string(i + 1);
      if (wrk_turn) {
        run.progress.Show("checking the load generator against wrk: wrk " + n);
        theirs = bench::RunWrk(endpoint, request, wo);
      } else {
        run.progress.Show("checking the load generator against wrk: bench " + n);
        ours = bench::RunLoad(endpoint, workload, load);
      }
    }
    if (!ours.ok() || !theirs.ok()) {
      run.result.config.notes.push_back("wrk check not done: " + (ours.ok()
                                                                      ? theirs.status().ToString()
                                                                      : ours.status().ToString()));
      run.progress.Done();
      return;
    }
    std::sort(ours->latency_ms.begin(), ours->latency_ms.end());
    ours_rps.push_back(ours->requests_per_second);
    ours_p50.push_back(bench::Percentile(ours->latency_ms, 0.5));
    wrk_rps.push_back(theirs->requests_per_second);
    wrk_p50.push_back(theirs->p50_ms);
  }
  run.progress.Done();
  bench::WrkCheck check;
  check.function = scenario.function;
  check.bench_requests_per_second = bench::SpreadOf(ours_rps).median;
  check.wrk_requests_per_second = bench::SpreadOf(wrk_rps).median;
  check.bench_p50_ms = bench::SpreadOf(ours_p50).median;
  check.wrk_p50_ms = bench::SpreadOf(wrk_p50).median;
  auto within = [](double a, double b) { return b > 0 && std::fabs(a - b) / b <= 0.10; };
  check.within_10_percent =
      within(check.bench_requests_per_second, check.wrk_requests_per_second) &&
      within(check.bench_p50_ms, check.wrk_p50_ms);
  run.result.wrk_checks.push_back(check);
}

void Sweep(Run& run, const Endpoint& endpoint, const Scenario& scenario) {
  for (double rate : run.o.sweep) {
    auto phase = MeasurePhase(run, endpoint, scenario, "hasivu", 0, rate, -1);
    if (!phase.ok()) {
      run.result.config.notes.push_back("sweep at " + std::to_string(rate) +
                                        "/s: " + phase.status().ToString());
      continue;
    }
    bench::SweepPoint p;
    p.function = scenario.function;
    p.offered_rate = rate;
    p.achieved_rate = phase->requests_per_second;
    p.p50_ms = phase->latency_ms.p50;
    p.p99_ms = phase->latency_ms.p99;
    p.success_rate = phase->success_rate;
    run.result.sweep.push_back(p);
  }
}

const Scenario* Find(const bench::PreparedScenarios& prepared, const std::string& function) {
  for (const Scenario& s : prepared.scenarios) {
    if (s.function == function) return &s;
  }
  return nullptr;
}

// One repetition: a fresh local server (or the remote one), the scenarios prepared anew, every
// function measured on it (and on the peer, in alternating order), the server's view scraped
// around it all.
Status RunRepetition(Run& run, int repetition) {
  // Declared first, so it is dropped last: after the server and the peer are stopped, on every
  // way out.
  std::optional<RepStore> rep_store;
  struct DropAtExit {
    const Run& run;
    std::optional<RepStore>& store;
    ~DropAtExit() {
      if (store) DropRepStore(run, *store);
    }
  } drop_at_exit{run, rep_store};
  std::unique_ptr<bench::ServerProcess> server;
  std::unique_ptr<bench::ServerProcess> peer;
  Endpoint endpoint;
  std::string db;
  if (run.o.url.empty()) {
    auto made = MakeRepStore(run, std::to_string(repetition));
    if (!made.ok()) return made.status();
    rep_store = std::move(*made);
    db = rep_store->db;
    auto started = bench::ServerProcess::Start(LocalServerProcess(
        run, *rep_store, run.run_dir + "/server-" + std::to_string(repetition) + ".log"));
    if (!started.ok()) return started.status();
    server = std::move(*started);
    endpoint = Endpoint{"127.0.0.1", server->port(), ""};
  } else {
    auto parsed = bench::ParseEndpoint(run.o.url);
    if (!parsed.ok()) return parsed.status();
    endpoint = *parsed;
  }
  std::optional<Endpoint> peer_endpoint;
  if (!run.o.compare_command.empty()) {
    auto started = StartPeer(run, db, repetition);
    if (!started.ok()) return started.status();
    peer = std::move(*started);
    peer_endpoint = Endpoint{"127.0.0.1", peer->port(), ""};
  } else if (!run.o.compare_url.empty()) {
    auto parsed = bench::ParseEndpoint(run.o.compare_url);
    if (!parsed.ok()) return parsed.status();
    peer_endpoint = *parsed;
  }

  const bench::Fixtures& fixtures = rep_store ? rep_store->fixtures : *run.seeded_fixtures;
  const std::string tag = run.run_tag + "-" + std::to_string(repetition);
  auto prepared = Prepare(run, endpoint, fixtures, run.o.writes, tag + "a");
  if (!prepared.ok()) return prepared.status();
  std::optional<bench::PreparedScenarios> peer_prepared;
  if (peer_endpoint) {
    // The peer's own fresh writes, made through the server under test: both read one database.
    auto p = Prepare(run, endpoint, fixtures, run.o.writes, tag + "b");
    if (!p.ok()) return p.status();
    peer_prepared = std::move(*p);
    bench::SplitFirstScans(*prepared, *peer_prepared);
  }
  auto before = Scrape(endpoint);
  const pid_t pid = server ? server->pid() : -1;
  const pid_t peer_pid = peer ? peer->pid() : -1;
  for (const Scenario& scenario : prepared->scenarios) {
    if (bench::Interrupted()) return UnavailableError("interrupted");
    // A B on even repetitions, B A on odd ones: neither side always runs on a warmer machine.
    const bool peer_first = peer_endpoint && repetition % 2 == 1;
    for (int side = 0; side < (peer_endpoint ? 2 : 1); ++side) {
      const bool on_peer = peer_first ? side == 0 : side == 1;
      if (on_peer) {
        const Scenario* own = Find(*peer_prepared, scenario.function);
        if (own == nullptr) continue;
        if (std::find(run.result.config.notes.begin(), run.result.config.notes.end(),
                      "peer does not serve " + scenario.function) !=
            run.result.config.notes.end()) {
          continue;
        }
        auto phase =
            MeasurePhase(run, *peer_endpoint, *own, "peer", repetition, run.o.rate, peer_pid);
        if (!phase.ok()) return phase.status();
        // A phase cut short by Ctrl-C measured a stopped server: not a result.
        if (bench::Interrupted()) return UnavailableError("interrupted");
        if (NotServed(*phase)) {
          run.result.config.notes.push_back("peer does not serve " + scenario.function);
          continue;
        }
        run.result.phases.push_back(std::move(*phase));
      } else {
        auto phase = MeasurePhase(run, endpoint, scenario, "hasivu", repetition, run.o.rate, pid);
        if (!phase.ok()) return phase.status();
        if (bench::Interrupted()) return UnavailableError("interrupted");
        run.result.phases.push_back(std::move(*phase));
      }
    }
  }
  auto after = Scrape(endpoint);
  if (before.ok() && after.ok()) {
    auto a = bench::ParsePrometheusText(*before);
    auto b = bench::ParsePrometheusText(*after);
    if (a.ok() && b.ok()) {
      run.result.server_view = bench::DiffServerView(*a, *b);
    } else {
      run.result.config.notes.push_back("server view: /metrics unreadable: " +
                                        (a.ok() ? b.status() : a.status()).ToString());
    }
  } else {
    run.result.config.notes.push_back(
        "server view: /metrics not readable: " +
        (before.ok() ? after.status().ToString() : before.status().ToString()));
  }
  if (bench::Interrupted()) return UnavailableError("interrupted");
  if (repetition == 0) {
    const Scenario* check = Find(*prepared, run.o.sweep_function);
    if (run.o.wrk_check) {
      const Scenario* orders = Find(*prepared, "orders-list");
      if (orders != nullptr) WrkCheck(run, endpoint, *orders);
    }
    if (!run.o.sweep.empty() && check != nullptr && !check->writes) Sweep(run, endpoint, *check);
  }
  if (peer) (void)peer->Stop();
  if (server) {
    auto stopped = server->Stop();
    if (!stopped.ok() || *stopped != 0) {
      run.result.run_errors.push_back(
          "the server of repetition " + std::to_string(repetition + 1) + " did not stop cleanly: " +
          (stopped.ok() ? "exit " + std::to_string(*stopped) : stopped.status().ToString()));
    }
  }
  return Status::Ok();
}

// The first string member named `key` anywhere in the JSON `body` (an envelope's data), or "".
std::string JsonString(const std::string& body, std::string_view key) {
  boost::system::error_code ec;
  const boost::json::value root = boost::json::parse(body, ec);
  if (ec) return "";
  std::vector<const boost::json::value*> pending = {&root};
  while (!pending.empty()) {
    const boost::json::value* v = pending.back();
    pending.pop_back();
    if (const auto* o = v->if_object()) {
      if (const auto* hit = o->if_contains(key); hit != nullptr && hit->is_string()) {
        return std::string(hit->as_string());
      }
      for (const auto& member : *o) pending.push_back(&member.value());
    }
  }
  return "";
}

// payments-verify on a fresh process: the simulated gateway keeps its checkouts in the memory of
// the process that made them, so the start pays a fresh order of its own first (payment order,
// simulated checkout: two requests of ~1 ms, counted in its exec -> first success) and times the
// verification of that checkout.
StatusOr<bench::Request> FreshVerification(const bench::Request& create_payment_order,
                                           bench::HttpClient& client) {
  bench::Request create = create_payment_order;
  std::string authorization;
  std::vector<bench::Header> kept;
  for (const bench::Header& h : create.headers) {
    if (h.name == "Authorization") authorization = h.value;
    // The answers are read here: uncompressed.
    if (h.name != "Accept-Encoding") kept.push_back(h);
  }
  create.headers = kept;
  auto created = client.Send(create);
  if (!created.ok()) return created.status();
  const std::string gateway_order = JsonString(created->body, "gatewayOrderId");
  if (created->status != 201 || gateway_order.empty()) {
    return UnavailableError("payment order: status " + std::to_string(created->status) + " " +
                            bench::ErrorCodeOf(created->body));
  }
  bench::Request simulate;
  simulate.method = "POST";
  simulate.target = "/api/v1/payments/simulate";
  simulate.headers = {{"Authorization", authorization}};
  simulate.body = "{\"razorpayOrderId\":\"" + gateway_order + "\",\"outcome\":\"success\"}";
  auto paid = client.Send(simulate);
  if (!paid.ok()) return paid.status();
  const std::string payment = JsonString(paid->body, "razorpayPaymentId");
  const std::string signature = JsonString(paid->body, "razorpaySignature");
  if (paid->status != 200 || payment.empty() || signature.empty()) {
    return UnavailableError("simulated checkout: status " + std::to_string(paid->status) + " " +
                            bench::ErrorCodeOf(paid->body));
  }
  bench::Request verify;
  verify.method = "POST";
  verify.target = "/api/v1/payments/verify";
  verify.headers = create_payment_order.headers;
  verify.body = "{\"razorpayOrderId\":\"" + gateway_order + "\",\"razorpayPaymentId\":\"" +
                payment + "\",\"razorpaySignature\":\"" + signature + "\"}";
  return verify;
}

// Cold starts on a copy of their own: the scenarios are prepared through a server started once,
// then every function's first request goes to fresh processes.
Status ColdStartsOn(Run& run, const RepStore& rs) {
  const std::string log = run.run_dir + "/cold.log";
  const std::vector<std::string>& asked = run.result.config.functions;
  const bool verify_asked = std::find(asked.begin(), asked.end(), "payments-verify") != asked.end();
  std::vector<std::string> functions = asked;
  if (verify_asked &&
      std::find(asked.begin(), asked.end(), "payments-create-order") == asked.end()) {
    functions.push_back("payments-create-order");
  }
  std::optional<bench::PreparedScenarios> prepared;
  {
    auto server = bench::ServerProcess::Start(LocalServerProcess(run, rs, log));
    if (!server.ok()) return server.status();
    // Twice the starts: payments-verify's starts pay orders of payments-create-order's pool.
    auto p =
        Prepare(run, Endpoint{"127.0.0.1", (*server)->port(), ""}, rs.fixtures,
                2 * static_cast<uint64_t>(run.o.cold_starts), run.run_tag + "-cold", functions);
    if (!p.ok()) return p.status();
    prepared = std::move(*p);
    (void)(*server)->Stop();
  }
  std::vector<Scenario> measured;
  const Scenario* create_payment_order = nullptr;
  for (const Scenario& s : prepared->scenarios) {
    if (s.function == "payments-create-order") create_payment_order = &s;
    if (std::find(asked.begin(), asked.end(), s.function) != asked.end()) measured.push_back(s);
  }
  bench::ColdStartOptions co;
  co.starts = run.o.cold_starts;
  co.server = LocalServerProcess(run, rs, log);
  co.first_request = [&](const Scenario& s, int start,
                         bench::HttpClient& client) -> StatusOr<bench::Request> {
    if (s.function != "payments-verify") return s.requests[start % s.requests.size()];
    const size_t i = static_cast<size_t>(run.o.cold_starts + start);
    if (create_payment_order == nullptr || i >= create_payment_order->requests.size()) {
      return FailedPreconditionError("no fresh order to pay");
    }
    return FreshVerification(create_payment_order->requests[i], client);
  };
  co.on_start = [&run](const std::string& function, int start, int starts) {
    run.progress.Show("cold start: " + function + " " + std::to_string(start + 1) + "/" +
                      std::to_string(starts));
  };
  auto cold = bench::MeasureColdStarts(measured, co);
  run.progress.Done();
  if (!cold.ok()) return cold.status();
  run.result.cold_starts = std::move(*cold);
  run.result.config.notes.push_back(
      "payments-verify's cold start includes its own payment order and simulated checkout on the "
      "fresh process (two requests of about a millisecond): the simulated gateway keeps "
      "checkouts in memory");
  return Status::Ok();
}

Status RunColdStarts(Run& run) {
  auto made = MakeRepStore(run, "cold");
  if (!made.ok()) return made.status();
  Status s = ColdStartsOn(run, *made);
  DropRepStore(run, *made);
  return s;
}

Status Validate(const BenchOptions& o) {
  for (const std::string& f : o.functions) {
    if (!bench::IsFunction(f)) return InvalidArgumentError("--functions: unknown function " + f);
  }
  if (o.connections < 1 || o.connections > 10000) {
    return InvalidArgumentError("--connections: 1 to 10000");
  }
  if (o.client_threads < 1 || o.client_threads > 64) {
    return InvalidArgumentError("--client-threads: 1 to 64");
  }
  if (!(o.duration_seconds > 0) || o.duration_seconds > 3600) {
    return InvalidArgumentError("--duration: more than 0 and at most 3600 seconds");
  }
  if (o.warmup_seconds < 0 || o.warmup_seconds > 600) {
    return InvalidArgumentError("--warmup: 0 to 600 seconds");
  }
  if (o.rate < 0) return InvalidArgumentError("--rate: not negative");
  for (double r : o.sweep) {
    if (!(r > 0)) return InvalidArgumentError("--sweep: rates above 0");
  }
  if (o.repeat < 1 || o.repeat > 100) return InvalidArgumentError("--repeat: 1 to 100");
  if (o.cold_starts < 0 || o.cold_starts > 1000) {
    return InvalidArgumentError("--cold-starts: 0 to 1000");
  }
  if (o.writes < 1 || o.writes > 10'000'000) return InvalidArgumentError("--writes: 1 to 10000000");
  if (o.url.empty() && !o.fixtures.empty()) {
    return InvalidArgumentError("--fixtures is for --url (a local run seeds its own)");
  }
  if (!o.url.empty() && o.fixtures.empty()) {
    return InvalidArgumentError("--url needs --fixtures (the server's fixtures file)");
  }
  if (!o.url.empty() && !o.compare_command.empty()) {
    return InvalidArgumentError("--compare-command needs a local server (no --url)");
  }
  if (!o.compare_url.empty() && !o.compare_command.empty()) {
    return InvalidArgumentError("--compare and --compare-command: one or the other");
  }
  for (const auto& [flag, url] :
       {std::pair<const char*, const std::string&>{"--url", o.url}, {"--compare", o.compare_url}}) {
    if (url.empty()) continue;
    auto endpoint = bench::ParseEndpoint(url);
    if (!endpoint.ok())
      return InvalidArgumentError(std::string(flag) + ": " + endpoint.status().message());
  }
  if (o.size != "demo" && o.size != "medium" && o.size != "large") {
    return InvalidArgumentError("--size: demo, medium or large");
  }
  if (!o.store.empty() && o.store.rfind("postgresql://", 0) != 0 &&
      o.store.rfind("postgres://", 0) != 0) {
    return InvalidArgumentError(
        "--store: a postgresql:// URL (the default is a fresh SQLite copy per repetition)");
  }
  return Status::Ok();
}

}  // namespace

CLI::App* AddBenchCommand(CLI::App& app, BenchOptions& o) {
  CLI::App* b = app.add_subcommand("bench", kBenchDescription);
  // A flag given twice takes its last value, so scripts pass defaults and callers override them.
  b->option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  b->add_option("--url", o.url, "Server under test (http://HOST:PORT); default: start one locally");
  b->add_option("--store", o.store, "Local server's store: a postgresql:// URL (default SQLite)");
  b->add_option("--size", o.size, "Local seed: demo | medium | large")->capture_default_str();
  b->add_option("--work-dir", o.work_dir, "Seed, copies, logs and the report")
      ->capture_default_str();
  b->add_option("--fixtures", o.fixtures, "Fixtures file of the server (required with --url)");
  b->add_option("--cache", o.cache, "Local server's --cache: memory, none or redis://HOST:PORT/DB")
      ->capture_default_str();
  b->add_option("--server-threads", o.server_threads, "Local server's --threads")
      ->capture_default_str();
  b->add_option("--server-arg", o.server_args, "One more flag for the local server (repeatable)")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  b->add_option("--functions", o.functions,
                "Functions to run (default all ten; also reads-mixed: users-get, menus-daily and "
                "orders-list in turn)")
      ->delimiter(',')
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  b->add_option("--connections", o.connections, "Keep-alive connections")->capture_default_str();
  b->add_option("--client-threads", o.client_threads, "Load generator threads")
      ->capture_default_str();
  b->add_option("--duration", o.duration_seconds, "Seconds measured per phase")
      ->capture_default_str();
  b->add_option("--warmup", o.warmup_seconds, "Seconds sent unrecorded before a read phase")
      ->capture_default_str();
  b->add_option("--rate", o.rate, "Open loop at this many requests/s (default closed loop)");
  b->add_option("--sweep", o.sweep, "Open-loop rates for the sweep")
      ->delimiter(',')
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  b->add_option("--sweep-function", o.sweep_function, "The function swept")->capture_default_str();
  b->add_option("--repeat", o.repeat, "Repetitions (medians and spread)")->capture_default_str();
  b->add_option("--cold-starts", o.cold_starts, "Fresh processes per function (local only)")
      ->capture_default_str();
  b->add_option("--writes", o.writes, "Requests prepared per write function per repetition")
      ->capture_default_str();
  b->add_option("--read-variety", o.read_variety, "Distinct requests (and users) per read")
      ->capture_default_str();
  b->add_option("--accept-encoding", o.accept_encoding, "Accept-Encoding sent (\"\" for none)")
      ->capture_default_str();
  b->add_option("--targets", o.targets_file, "Targets file (JSON profiles)");
  b->add_option("--profile", o.profiles, "Target profiles to judge by")
      ->delimiter(',')
      ->capture_default_str();
  b->add_option("--baseline", o.baseline, "Compare with this baseline (regressions: exit 2)");
  b->add_option("--save-baseline", o.save_baseline, "Write this run as a baseline");
  b->add_option("--compare", o.compare_url, "A peer server speaking the same API, side by side");
  b->add_option("--compare-command", o.compare_command,
                "A local peer started per repetition; {port} and {db} are filled in");
  b->add_flag("--wrk-check", o.wrk_check, "Run wrk beside the load generator on orders-list");
  b->add_option("--report-dir", o.report_dir, "Where the reports go (default WORK_DIR/report)");
  b->add_option("--monthly-requests", o.monthly_requests, "Volume of the cost estimate")
      ->capture_default_str();
  b->add_option("--lambda-memory-mb", o.lambda_memory_mb, "Lambda memory of the estimate")
      ->capture_default_str();
  b->add_option("--price-gb-second", o.price_gb_second, "Lambda price per GB-second");
  b->add_option("--price-per-million-requests", o.price_per_million_requests,
                "Lambda price per million requests");
  b->add_option("--price-instance-hour", o.price_instance_hour, "Instance price per hour");
  b->add_flag("--quiet", o.quiet, "No progress line");
  return b;
}

int RunBench(const BenchOptions& o) {
  Status valid = Validate(o);
  if (!valid.ok()) return Fail(valid.message());
  // A peer or server that closes a connection must not end the bench with SIGPIPE.
  ::signal(SIGPIPE, SIG_IGN);
  // Ctrl-C stops the servers and peers and ends the run through its cleanup (interrupt.h).
  bench::InstallInterruptHandler();
  Progress progress(o.quiet);
  Run run{o, progress};
  run.self = SelfPath();
  run.run_tag = std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count()) +
                "-" + hasivu::RandomHex(3);
  run.run_tag_schema = run.run_tag;
  std::replace(run.run_tag_schema.begin(), run.run_tag_schema.end(), '-', '_');
  run.run_dir = (fs::path(o.work_dir) / ("run-" + run.run_tag)).string();
  std::error_code ec;
  fs::create_directories(run.run_dir, ec);
  if (ec) return Fail("cannot create " + run.run_dir + ": " + ec.message());

  bench::RunConfig& c = run.result.config;
  c.version = HASIVU_VERSION;
  c.started_at = FormatRfc3339(std::chrono::system_clock::now());
  c.machine = MachineLine();
  c.repetitions = o.repeat;
  c.connections = o.connections;
  c.duration_seconds = o.duration_seconds;
  c.cache = o.url.empty() ? o.cache : "";
  c.cold_starts = o.url.empty() ? o.cold_starts : 0;
  c.functions = o.functions;
  if (c.functions.empty()) c.functions.assign(bench::kFunctions.begin(), bench::kFunctions.end());
  c.peer_url = !o.compare_url.empty() ? o.compare_url : o.compare_command;

  std::string fixtures_path = o.fixtures;
  if (o.url.empty()) {
    c.store = o.store.empty() ? "sqlite" : "postgresql";
    c.url = "local `hasivu serve` (a fresh process per repetition)";
    if (o.store.empty()) {
      auto seeded = EnsureSeeded(o, progress);
      if (!seeded.ok()) return Fail(seeded.status().ToString());
      run.seeded = *seeded;
      fixtures_path = seeded->fixtures;
      c.notes.push_back("each repetition runs a fresh server on a fresh copy of the seeded " +
                        o.size + " database");
    } else {
      c.notes.push_back(
          "each repetition runs a fresh server on a PostgreSQL schema of its own, "
          "seeded anew (" +
          o.size + ")");
    }
    c.notes.push_back(
        "the local server runs with --register-limit 1000000 (one address "
        "registers every parent of the run)");
    if (o.cache.rfind("redis://", 0) == 0) {
      c.notes.push_back(
          "each store's server gets a Redis key prefix of its own (hasivu-bench:<run>:<store>:), "
          "as every store is seeded with the same ids; the entries expire by their TTLs");
    }
    c.notes.push_back(
        "auth-register and auth-login run on one connection: each hashes a password with "
        "argon2id on purpose, so more connections measure the hashing queue, not the function");
    run.secret = hasivu::RandomHex(32);
    run.secret_file = run.run_dir + "/jwt-secret";
    Status w = WriteWholeFile(run.secret_file, run.secret, /*secret=*/true);
    if (!w.ok()) return Fail(w.ToString());
    run.key_secret_file = run.run_dir + "/razorpay-key-secret";
    w = WriteWholeFile(run.key_secret_file, hasivu::RandomHex(24), /*secret=*/true);
    if (!w.ok()) return Fail(w.ToString());
  } else {
    c.store = "remote";
    c.url = o.url;
  }
  if (!fixtures_path.empty()) {
    auto fixtures_text = ReadWholeFile(fixtures_path);
    if (!fixtures_text.ok()) return Fail(fixtures_text.status().ToString());
    auto fixtures = bench::ParseFixtures(*fixtures_text);
    if (!fixtures.ok()) return Fail(fixtures_path + ": " + fixtures.status().ToString());
    run.seeded_fixtures = std::move(*fixtures);
  }

  bench::ReportInputs inputs;
  {
    std::vector<bench::TargetSet> file_targets;
    if (!o.targets_file.empty()) {
      auto parsed = bench::ReadTargetsFile(o.targets_file);
      if (!parsed.ok()) return Fail(o.targets_file + ": " + parsed.status().ToString());
      file_targets = std::move(*parsed);
    }
    for (const std::string& name : o.profiles) {
      // A profile of the targets file first, then the built-in ones of that name.
      auto t = bench::FindProfile(file_targets, name);
      if (!t.ok()) t = bench::BuiltinTargets(name);
      if (!t.ok()) return Fail("--profile " + name + ": " + t.status().ToString());
      inputs.targets.push_back(*t);
    }
  }
  std::optional<bench::Baseline> baseline;
  if (!o.baseline.empty()) {
    auto loaded = bench::LoadBaseline(o.baseline);
    if (!loaded.ok()) return Fail(o.baseline + ": " + loaded.status().ToString());
    baseline = std::move(*loaded);
  }
  bench::CostOptions cost;
  cost.monthly_requests = o.monthly_requests;
  cost.lambda_memory_mb = o.lambda_memory_mb;
  if (o.price_gb_second >= 0) cost.lambda_price_per_gb_second = o.price_gb_second;
  if (o.price_per_million_requests >= 0) {
    cost.lambda_price_per_million_requests = o.price_per_million_requests;
  }
  if (o.price_instance_hour >= 0) cost.instance_price_per_hour = o.price_instance_hour;
  Status cost_valid = bench::ValidateCostOptions(cost);
  if (!cost_valid.ok()) return Fail(cost_valid.message());

  for (int r = 0; r < o.repeat && !bench::Interrupted(); ++r) {
    Status s = RunRepetition(run, r);
    if (!s.ok() && !bench::Interrupted()) {
      run.result.run_errors.push_back("repetition " + std::to_string(r + 1) + ": " + s.ToString());
      break;
    }
  }
  if (o.url.empty() && o.cold_starts > 0 && run.result.run_errors.empty() &&
      !bench::Interrupted()) {
    Status s = RunColdStarts(run);
    if (!s.ok() && !bench::Interrupted()) {
      run.result.run_errors.push_back("cold start: " + s.ToString());
    }
  }
  if (bench::Interrupted()) {
    run.result.run_errors.push_back(
        "interrupted (SIGINT or SIGTERM): its servers were stopped; the report holds what was "
        "measured before");
  }
  progress.Done();

  if (baseline) inputs.baseline = bench::CompareWithBaseline(*baseline, run.result);
  auto estimate = bench::EstimateCost(run.result, cost);
  if (estimate.ok()) {
    inputs.cost = std::move(*estimate);
  } else {
    run.result.config.notes.push_back("cost: " + estimate.status().ToString());
  }
  const bench::Verdict verdict = bench::DecideVerdict(run.result, inputs);

  const std::string report_dir =
      o.report_dir.empty() ? (fs::path(o.work_dir) / "report").string() : o.report_dir;
  std::vector<std::pair<std::string, std::string>> outputs = {
      {"report.md", bench::MarkdownReport(run.result, inputs)},
      {"report.json", bench::JsonReport(run.result, inputs)},
      {"latency.svg", bench::LatencySvg(run.result)}};
  if (!run.result.sweep.empty()) outputs.emplace_back("sweep.svg", bench::SweepSvg(run.result));
  fs::create_directories(report_dir, ec);
  if (ec) return Fail("cannot create " + report_dir + ": " + ec.message());
  for (const auto& [name, text] : outputs) {
    Status w = bench::WriteReportFile(report_dir + "/" + name, text);
    if (!w.ok()) return Fail(w.ToString());
  }
  if (!o.save_baseline.empty() && run.result.run_errors.empty()) {
    Status w = bench::SaveBaseline(run.result, o.save_baseline);
    if (!w.ok()) return Fail(w.ToString());
  } else if (!o.save_baseline.empty()) {
    // A baseline from a run that failed would make the next good run look like a change.
    std::fprintf(stderr, "hasivu bench: no baseline saved: the run did not complete\n");
  }
  for (const std::string& e : run.result.run_errors) {
    std::fprintf(stderr, "hasivu bench: %s\n", e.c_str());
  }
  std::printf("hasivu bench: %s\n", std::string(bench::ExitCodeName(verdict.code)).c_str());
  for (const std::string& reason : verdict.reasons) std::printf("  %s\n", reason.c_str());
  for (const bench::TargetSet& t : inputs.targets) {
    const bench::Evaluation e = bench::Evaluate(run.result, t);
    std::printf("  %s: score %.0f/100 (%d passed, %d missed, %d not measured)\n", e.profile.c_str(),
                e.score, e.passed, e.missed, e.not_measured);
  }
  std::printf("report: %s/report.md (report.json, latency.svg%s)\n", report_dir.c_str(),
              run.result.sweep.empty() ? "" : ", sweep.svg");
  return verdict.exit_code();
}

}  // namespace hasivu::app
