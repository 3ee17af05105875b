// Scenario 3 of docs/reliability.md: Redis faults under load. A pair of `hasivu serve` processes
// on one PostgreSQL schema shares a redis-server of the test's own, reached through a FaultRelay;
// the campaign's reads are spread over both, its writes go to A (so B never misses an
// invalidation of its own, the harder case for B). In turn, Redis is
//
//   killed       SIGKILL, down for a while, then started again with the data it had (a snapshot
//                taken just before: a Redis with persistence), so values cached before the fault
//                are back in it;
//   paused       SIGSTOP then SIGCONT: a black hole (connections accepted by the kernel, nothing
//                answered) that keeps its data;
//   slowed       the relay adds 200 ms to each chunk each way, above the command timeout;
//   restarted    SIGKILL and started again at once with its data gone.
//
// Asserted: every request is answered, none with a 5xx (reads 200, from the database while
// Redis is away), and none takes longer than the Redis timeout budget of a request plus a margin;
// each process's circuit breaker opens and closes again at each fault, each change logged once
// (the log's openings and closings match the fault and recovery counters; an opening after the
// recovery, when the renewed namespace's loads crowd this shared machine past the 100 ms command
// timeout, is allowed and reported); every acknowledged write is in the store
// (store_check.h). A probe publishes a new version of one daily menu through process A while
// Redis is away and reads it through both processes all along: once a process's breaker is
// closed again, it must never show an older version (the stale read a missed invalidation would
// leave behind); while it is open, an older version may show for at most the L1 lifetime
// (tiered_cache.h), which is reported.
//
// Built for PostgreSQL only: reliability_redis_faults_pgtest (labels postgres, redis,
// reliability). HASIVU_RELIABILITY_CLIENTS (default 16), _WRITES (per write function, 150) and
// HASIVU_RELIABILITY_FAULT_MS (how long each fault lasts, 3000) lengthen it;
// bench/reliability/redis_faults.sh runs the long form.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>
#include <utility>

#include "tests/integration/api_fixture.h"
#include "tests/integration/cache_scenarios.h"
#include "tests/reliability/campaign.h"
#include "tests/reliability/fault_relay.h"
#include "tests/reliability/report.h"
#include "tests/reliability/server_under_test.h"
#include "tests/reliability/store_check.h"

namespace hasivu::reliability {
namespace {

namespace json = boost::json;
using hasivu::testing::ApiResponse;
using hasivu::testing::CallAt;
using hasivu::testing::ServerProcess;
using std::chrono::milliseconds;

// The server's Redis settings are the defaults of cache::RedisCacheSettings (the --cache URL sets
// only host, port and db): one round trip waits at most command_timeout for a free connection,
// connect_timeout to connect and command_timeout for the answer (redis_cache.h), and three
// failed round trips open the breaker. A read that misses makes up to four round trips (the
// value, the stamp, the value again, the store); the breaker is open for all but the first
// few of them.
constexpr milliseconds kCommandTimeout(100);
constexpr milliseconds kConnectTimeout(200);
constexpr milliseconds kRoundTrip = kCommandTimeout + kConnectTimeout + kCommandTimeout;
constexpr int kRoundTripsPerRequest = 4;
constexpr milliseconds kRedisBudget = kRoundTripsPerRequest * kRoundTrip;
// Over the budget: the request's own database work and a loaded, shared 2-core machine.
constexpr milliseconds kBudgetMargin(1000);
// The longest life of an L1 copy (TieredCacheSettings::l1_ttl): how long a process whose
// breaker is open may show a value another process has changed.
constexpr milliseconds kL1Ttl(5000);
// Cross-process invalidation while Redis is up is asynchronous (pub/sub to the other process's
// L1); a read this long after a write's answer must show it.
constexpr milliseconds kSettle(1000);

// A redis-server child of the test with a data folder of its own (dump.rdb there, so a restart
// can load the snapshot Save() took), on a fixed loopback port; stopped by PID.
class PrivateRedis {
 public:
  PrivateRedis(std::string dir, int port) : dir_(std::move(dir)), port_(port) {}
  ~PrivateRedis() { Kill(); }
  PrivateRedis(const PrivateRedis&) = delete;
  PrivateRedis& operator=(const PrivateRedis&) = delete;

  // Starts it (loading dir/dump.rdb when there is one) and waits up to 10 s for PONG.
  bool Start() {
    const char* bin_env = std::getenv("HASIVU_REDIS_SERVER");
    const std::string bin = bin_env && *bin_env ? bin_env : "/usr/bin/redis-server";
    const std::string port = std::to_string(port_);
    pid_ = fork();
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);  // dies with the test even if it is killed first
      const int devnull = open("/dev/null", O_RDWR);
      if (devnull >= 0) {
        dup2(devnull, 0);
        dup2(devnull, 1);
        dup2(devnull, 2);
      }
      execl(bin.c_str(), bin.c_str(), "--port", port.c_str(), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", dir_.c_str(), "--dbfilename", "dump.rdb",
            static_cast<char*>(nullptr));
      _exit(127);
    }
    if (pid_ < 0) return false;
    const Clock::time_point deadline = Clock::now() + std::chrono::seconds(10);
    while (Clock::now() < deadline) {
      if (testing::RedisCommands(port_, {"PING"}).find("+PONG") != std::string::npos) return true;
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      std::this_thread::sleep_for(milliseconds(20));
    }
    return false;
  }
  // Writes the snapshot a restart loads.
  bool Save() const {
    return testing::RedisCommands(port_, {"SAVE"}).find("+OK") != std::string::npos;
  }
  void ForgetData() const { std::filesystem::remove(dir_ + "/dump.rdb"); }
  void Signal(int signal) const {
    if (pid_ > 0) kill(pid_, signal);
  }
  void Kill() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  int port() const { return port_; }

 private:
  const std::string dir_;
  const int port_;
  pid_t pid_ = -1;
};

// What one process's /metrics says of its Redis tier.
struct BreakerView {
  double state = -1;  // hasivu_cache_redis_breaker_state: 0 closed, 1 open, 2 probing
  double faults = -1;
  double recoveries = -1;
};

BreakerView ReadBreaker(int port) {
  ApiResponse m = CallAt(port, "GET", "/metrics");
  if (m.status != 200) return {};
  return {testing::MetricValue(m.body, "hasivu_cache_redis_breaker_state"),
          testing::MetricValue(m.body, "hasivu_cache_redis_faults_total"),
          testing::MetricValue(m.body, "hasivu_cache_redis_recoveries_total")};
}

// Waits until the breaker of the process on `port` is closed (asked directly, not from a
// BreakerWatch's view, which may be a moment old); false if it is not within `within`.
bool WaitClosed(int port, milliseconds within) {
  const Clock::time_point give_up = Clock::now() + within;
  while (ReadBreaker(port).state != 0) {
    if (Clock::now() > give_up) return false;
    std::this_thread::sleep_for(milliseconds(20));
  }
  return true;
}

// Samples both processes' breakers every 20 ms, so that a phase can wait for a state and say
// when it was reached.
class BreakerWatch {
 public:
  explicit BreakerWatch(std::vector<int> ports) : ports_(std::move(ports)), views_(ports_.size()) {
    thread_ = std::thread([this] {
      while (!stop_) {
        for (size_t i = 0; i < ports_.size(); ++i) {
          BreakerView v = ReadBreaker(ports_[i]);
          std::lock_guard lock(mu_);
          if (v.state >= 0) views_[i] = v;
        }
        std::this_thread::sleep_for(milliseconds(20));
      }
    });
  }
  ~BreakerWatch() {
    stop_ = true;
    thread_.join();
  }
  BreakerView View(size_t i) const {
    std::lock_guard lock(mu_);
    return views_[i];
  }
  // Waits until `ready(i, view)` has held for every process (or `within` passed); for each, how
  // long after `since` it was first seen to hold, or -1.
  std::vector<double> WaitForEach(const std::function<bool(size_t, const BreakerView&)>& ready,
                                  milliseconds within, Clock::time_point since) const {
    std::vector<double> at(ports_.size(), -1);
    const Clock::time_point deadline = Clock::now() + within;
    while (Clock::now() < deadline) {
      bool all = true;
      for (size_t i = 0; i < ports_.size(); ++i) {
        if (at[i] < 0 && ready(i, View(i))) {
          at[i] = std::chrono::duration<double, std::milli>(Clock::now() - since).count();
        }
        all = all && at[i] >= 0;
      }
      if (all) break;
      std::this_thread::sleep_for(milliseconds(5));
    }
    return at;
  }

 private:
  const std::vector<int> ports_;
  mutable std::mutex mu_;
  std::vector<BreakerView> views_;  // guarded by mu_
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// One daily menu that the probe republishes through process A (each version a different single
// item) and reads through both processes, judging each read against the versions acknowledged.
class MenuProbe {
 public:
  MenuProbe(const json::object& fixtures, int writer_port, std::vector<int> reader_ports)
      : writer_port_(writer_port), reader_ports_(std::move(reader_ports)) {
    const json::value& school = fixtures.at("schools").at(0);
    school_id_ = testing::Str(school, "id");
    for (const json::value& id : school.at("menuItemIds").as_array()) {
      items_.emplace_back(id.as_string());
    }
    // Beyond the seeded menus (20 school days ahead): nobody else reads or writes this one.
    date_ = testing::NextWeekday(std::string(fixtures.at("baseDate").as_string()), 22);
    admin_ = testing::LoginAt(writer_port_, school.at("schoolAdmin"));
    parent_ = testing::LoginAt(writer_port_, school.at("parents").at(0));
  }
  bool ready() const { return !admin_.empty() && !parent_.empty(); }

  // Publishes the next version through the writer; true once it is acknowledged.
  bool Publish() {
    const int version = static_cast<int>(acked_count_.load());
    sent_count_ = std::max<size_t>(sent_count_.load(), version + 1);
    json::array a{
        json::object{{"menuItemId", items_[version % items_.size()]}, {"category", "LUNCH"}}};
    ApiResponse r = CallAt(writer_port_, "PUT", "/api/v1/menus/daily", admin_,
                           testing::Json(json::object{{"schoolId", school_id_},
                                                      {"date", date_},
                                                      {"publish", true},
                                                      {"items", std::move(a)}}));
    if (r.status != 200) {
      Note("menu PUT answered " + std::to_string(r.status) + ": " + r.body.substr(0, 200));
      return false;
    }
    std::lock_guard lock(mu_);
    acked_at_.push_back(Clock::now());
    acked_count_ = acked_at_.size();
    return true;
  }

  // Reads through every process in turn until Stop(); each read is bracketed by two looks at
  // that process's breaker, so that "closed" means closed all through the read.
  void Start() {
    thread_ = std::thread([this] {
      while (!stop_) {
        for (int port : reader_ports_) ReadOnce(port);
        std::this_thread::sleep_for(milliseconds(10));
      }
    });
  }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

  // Reads through `port` until it shows the last acknowledged version (true) or `within` passed.
  bool ShowsLatest(int port, milliseconds within) {
    const Clock::time_point deadline = Clock::now() + within;
    do {
      if (VersionAt(port) == static_cast<int>(acked_count_.load()) - 1) return true;
      std::this_thread::sleep_for(milliseconds(20));
    } while (Clock::now() < deadline);
    return false;
  }

  struct Counts {
    int64_t reads = 0;
    int64_t failed = 0;            // not 200, or no version recognised
    int64_t stale_closed = 0;      // older than due, breaker closed all through: a bug
    int64_t stale_open = 0;        // older than due while the breaker was open or probing
    double worst_open_age_ms = 0;  // of those, how long after the newer version's answer
  };
  Counts counts() const {
    std::lock_guard lock(mu_);
    return counts_;
  }
  // The worst age of a stale read with the breaker open since the last call.
  double TakeWorstOpenAgeMs() {
    std::lock_guard lock(mu_);
    return std::exchange(span_worst_open_age_ms_, 0);
  }
  std::vector<std::string> notes() const {
    std::lock_guard lock(mu_);
    return notes_;
  }

 private:
  // The version `port` shows, or -2 (with the answer in last_failure_) if it shows none.
  int VersionAt(int port) {
    ApiResponse r = CallAt(
        port, "GET", "/api/v1/menus/daily?schoolId=" + school_id_ + "&date=" + date_, parent_);
    const json::value* items = r.status == 200 ? r.Data().if_contains("items") : nullptr;
    if (items == nullptr || !items->is_array() || items->as_array().size() != 1) {
      std::lock_guard lock(mu_);
      last_failure_ = std::to_string(r.status) + " " + r.body.substr(0, 300);
      return -2;
    }
    const std::string item = testing::Str(items->as_array()[0], "menuItemId");
    // The newest version sent showing this item (versions cycle through the items): one whose
    // PUT is still waiting for its answer may already be committed and shown.
    for (int v = static_cast<int>(sent_count_.load()) - 1; v >= 0; --v) {
      if (items_[v % items_.size()] == item) return v;
    }
    std::lock_guard lock(mu_);
    last_failure_ = "an item no version has: " + item;
    return -2;
  }

  void ReadOnce(int port) {
    const BreakerView before = ReadBreaker(port);
    const Clock::time_point start = Clock::now();
    const int seen = VersionAt(port);
    const BreakerView after = ReadBreaker(port);
    std::lock_guard lock(mu_);
    ++counts_.reads;
    if (seen == -2) {
      ++counts_.failed;
      NoteLocked("probe read through port " + std::to_string(port) + " failed: " + last_failure_);
      return;
    }
    // Due: the newest version acknowledged at least kSettle before this read began.
    int due = -1;
    for (int v = static_cast<int>(acked_at_.size()) - 1; v >= 0; --v) {
      if (acked_at_[v] + kSettle <= start) {
        due = v;
        break;
      }
    }
    if (seen >= due) return;
    const double age = std::chrono::duration<double, std::milli>(start - acked_at_[due]).count();
    if (before.state == 0 && after.state == 0) {
      ++counts_.stale_closed;
      NoteLocked("stale read through port " + std::to_string(port) + " with its breaker closed: " +
                 "version " + std::to_string(seen) + " shown " + std::to_string(age) +
                 " ms after version " + std::to_string(due) + " was acknowledged");
    } else {
      ++counts_.stale_open;
      counts_.worst_open_age_ms = std::max(counts_.worst_open_age_ms, age);
      span_worst_open_age_ms_ = std::max(span_worst_open_age_ms_, age);
    }
  }

  void Note(const std::string& what) {
    std::lock_guard lock(mu_);
    NoteLocked(what);
  }
  void NoteLocked(const std::string& what) {
    if (notes_.size() < 20) notes_.push_back(what);
  }

  const int writer_port_;
  const std::vector<int> reader_ports_;
  std::string school_id_;
  std::string date_;
  std::vector<std::string> items_;
  std::string admin_;
  std::string parent_;

  mutable std::mutex mu_;
  std::vector<Clock::time_point> acked_at_;  // guarded by mu_; [version] = when acknowledged
  std::atomic<size_t> acked_count_{0};       // acked_at_.size(), readable without the lock
  std::atomic<size_t> sent_count_{0};        // versions whose PUT has been sent
  Counts counts_;                            // guarded by mu_
  double span_worst_open_age_ms_ = 0;        // guarded by mu_
  std::string last_failure_;                 // guarded by mu_
  std::vector<std::string> notes_;           // guarded by mu_
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Latency of the answered requests of a span, from two Tallies() taken at its ends.
struct SpanLatency {
  std::vector<int64_t> reads_us;
  std::vector<int64_t> writes_us;
};
SpanLatency Between(const std::map<std::string, FunctionTally>& from,
                    const std::map<std::string, FunctionTally>& to) {
  SpanLatency out;
  for (const auto& [function, t] : to) {
    auto it = from.find(function);
    const size_t skip = it == from.end() ? 0 : it->second.answered_us.size();
    const bool write = function == "orders-create" || function == "payments-verify" ||
                       function == "rfid-verify-card";
    std::vector<int64_t>& dest = write ? out.writes_us : out.reads_us;
    dest.insert(dest.end(), t.answered_us.begin() + std::min(skip, t.answered_us.size()),
                t.answered_us.end());
  }
  return out;
}

// Requests of a span by outcome, over every function.
json::object OutcomesBetween(const std::map<std::string, FunctionTally>& from,
                             const std::map<std::string, FunctionTally>& to, double seconds) {
  FunctionTally sum;
  for (const auto& [function, t] : to) {
    FunctionTally f;
    if (auto it = from.find(function); it != from.end()) f = it->second;
    sum.sent += t.sent - f.sent;
    sum.ok += t.ok - f.ok;
    sum.unavailable += t.unavailable - f.unavailable;
    sum.server_error += t.server_error - f.server_error;
    sum.refused_status += t.refused_status - f.refused_status;
    sum.not_accepted += t.not_accepted - f.not_accepted;
    sum.no_answer += t.no_answer - f.no_answer;
    sum.timed_out += t.timed_out - f.timed_out;
  }
  return {{"sent", sum.sent},
          {"ok", sum.ok},
          {"unavailable503", sum.unavailable},
          {"serverError5xx", sum.server_error},
          {"otherStatus", sum.refused_status},
          {"notAccepted", sum.not_accepted},
          {"noAnswer", sum.no_answer},
          {"timedOut", sum.timed_out},
          {"requestsPerSecond", seconds > 0 ? static_cast<double>(sum.sent) / seconds : 0}};
}

double Percentile(std::vector<int64_t> us, double q) {
  if (us.empty()) return 0;
  std::sort(us.begin(), us.end());
  const size_t i = std::min(us.size() - 1, static_cast<size_t>(q * static_cast<double>(us.size())));
  return static_cast<double>(us[i]) / 1000.0;
}

json::object LatencyJson(const std::vector<int64_t>& us) {
  return {{"n", us.size()},
          {"p50Ms", Percentile(us, 0.5)},
          {"p99Ms", Percentile(us, 0.99)},
          {"maxMs", Percentile(us, 1.0)}};
}

// The lines of `log` that say this process's breaker opened, and closed, for Redis at `port`,
// and every line of the Redis tier (for a failure message).
struct BreakerLog {
  int opened = 0;
  int closed = 0;
  std::string lines;
};
BreakerLog BreakerLines(const std::string& log, int port) {
  const std::string where = "cache l2: Redis 127.0.0.1:" + std::to_string(port) + " ";
  BreakerLog out;
  std::istringstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    if (line.find("cache l2: ") == std::string::npos) continue;
    if (line.find(where + "unreachable") != std::string::npos) ++out.opened;
    if (line.find(where + "reachable again") != std::string::npos) ++out.closed;
    out.lines += "\n    " + line;
  }
  return out;
}

// Now in the servers' log format (UTC), so that the test's events can be read among their lines.
std::string UtcNow() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  const auto us =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() %
      1000000;
  char out[64];
  std::snprintf(out, sizeof out, "%s.%06lldZ", buf, static_cast<long long>(us));
  return out;
}

// The steal share of the CPUs since `before` (/proc/stat: steal over all ticks).
std::vector<uint64_t> CpuTicks() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  in >> cpu;
  std::vector<uint64_t> ticks;
  uint64_t t = 0;
  while (ticks.size() < 8 && in >> t) ticks.push_back(t);
  return ticks;
}
double StealPercent(const std::vector<uint64_t>& before, const std::vector<uint64_t>& after) {
  if (before.size() < 8 || after.size() < 8) return -1;
  uint64_t total = 0;
  for (size_t i = 0; i < 8; ++i) total += after[i] - before[i];
  return total == 0 ? 0 : 100.0 * static_cast<double>(after[7] - before[7]) / total;
}

struct Fault {
  std::string name;
  std::function<void()> inject;
  // Ends the fault; false if Redis could not be brought back.
  std::function<bool()> heal;
  // Whether the fault lasts the whole span (false: healed as soon as both breakers opened).
  bool held = true;
};

TEST(RedisFaultsTest, ReadsKeepAnsweringNothingStaleAfterRecoveryNothingLost) {
  const int fault_ms = EnvInt("HASIVU_RELIABILITY_FAULT_MS", 3000);
  std::string error;
  const std::string redis_dir = testing::MakeTempDir("hasivu-redis-faults");
  PrivateRedis redis(redis_dir, testing::FreePort());
  ASSERT_TRUE(redis.Start()) << "redis-server did not start on 127.0.0.1:" << redis.port();
  std::unique_ptr<FaultRelay> relay = FaultRelay::Start(redis.port(), &error);
  ASSERT_NE(relay, nullptr) << error;
  const std::string cache_url = "redis://127.0.0.1:" + std::to_string(relay->port()) + "/0";

  // A seeds the schema; B, on the same store and Redis, only serves.
  std::unique_ptr<ServerUnderTest> sut =
      ServerUnderTest::Start({"--cache", cache_url, "--log-level", "info"}, &error);
  ASSERT_NE(sut, nullptr) << error;
  ASSERT_TRUE(sut->postgres());
  testing::ApiServer& a = sut->server();
  std::unique_ptr<ServerProcess> b = a.StartPeer({}, &error);
  ASSERT_NE(b, nullptr) << error;
  const std::vector<int> ports = {a.port(), b->port()};
  for (int port : ports) {
    ASSERT_EQ(ReadBreaker(port).state, 0) << "no closed Redis breaker on port " << port;
  }

  CampaignSettings settings;
  settings.clients = EnvInt("HASIVU_RELIABILITY_CLIENTS", 16);
  settings.writes_per_function = EnvInt("HASIVU_RELIABILITY_WRITES", 150);
  // The writes last through the baseline (3 s), the three held faults (each fault_ms, then the
  // recovery and 1.5 s) and the restart (about 2.5 s in all).
  const double run_seconds = 3.0 + 3 * (fault_ms / 1000.0 + 3.5) + 2.5;
  // (rfid-verify-card has only as many writes as cards with a paid order today, a few dozen.)
  settings.write_rate = 2.0 * settings.writes_per_function / run_seconds;
  settings.run_tag = "redisfaults";
  settings.checkout = sut->Checkout();
  auto campaign = Campaign::Prepare(a.port(), sut->FixturesJson(), settings);
  ASSERT_TRUE(campaign.ok()) << campaign.status().ToString();
  std::atomic<uint64_t> turn{0};
  (*campaign)->SetPortChooser([&] { return ports[turn.fetch_add(1) % ports.size()]; });
  // Writes through A only: B then has no failed invalidation of its own to make it renew the
  // namespace when Redis is back, and must still not use what Redis kept from before A's.
  (*campaign)->SetWritePortChooser([&] { return a.port(); });
  const SqlRunner sql = sut->Sql();
  StatusOr<StoreCounts> before = CountRows(sql);
  ASSERT_TRUE(before.ok()) << before.status().ToString();

  const json::object fixtures = json::parse(sut->FixturesJson()).as_object();
  MenuProbe probe(fixtures, a.port(), ports);
  ASSERT_TRUE(probe.ready()) << "the probe could not log in";
  ASSERT_TRUE(probe.Publish());
  for (int port : ports) ASSERT_TRUE(probe.ShowsLatest(port, kSettle)) << port;

  const std::vector<Fault> faults = {
      {"killed",
       [&] {
         // What Redis holds now (the menu cached by both) comes back with it.
         EXPECT_TRUE(redis.Save());
         redis.Kill();
       },
       [&] { return redis.Start(); }},
      {"paused", [&] { redis.Signal(SIGSTOP); },
       [&] {
         redis.Signal(SIGCONT);
         return true;
       }},
      {"slowed", [&] { relay->SetMode(FaultRelay::Mode::kDelay, milliseconds(200)); },
       [&] {
         relay->SetMode(FaultRelay::Mode::kForward);
         return true;
       }},
      {"restarted",
       [&] {
         redis.Kill();
         redis.ForgetData();
       },
       [&] { return redis.Start(); }, /*held=*/false},
  };

  BreakerWatch watch(ports);
  const std::vector<uint64_t> cpu_before = CpuTicks();
  probe.Start();
  const Clock::time_point load_start = Clock::now();
  (*campaign)->Start();

  // The fault-free span.
  std::map<std::string, FunctionTally> mark = (*campaign)->Tallies();
  Clock::time_point mark_at = Clock::now();
  std::this_thread::sleep_for(milliseconds(3000));
  std::map<std::string, FunctionTally> next = (*campaign)->Tallies();
  const SpanLatency baseline = Between(mark, next);
  const json::object baseline_outcomes =
      OutcomesBetween(mark, next, std::chrono::duration<double>(Clock::now() - mark_at).count());
  mark = next;
  mark_at = Clock::now();

  json::array phases;
  std::vector<std::string> problems;
  std::vector<std::string> events_all = {UtcNow() + " test: load started"};
  probe.TakeWorstOpenAgeMs();  // from here on, per fault
  for (const Fault& fault : faults) {
    const MenuProbe::Counts probed_before = probe.counts();
    // On this shared machine a burst of load can hold Redis's answers past the 100 ms command
    // timeout and open a breaker with no fault injected; each fault starts from closed breakers.
    for (int port : ports) {
      if (!WaitClosed(port, std::chrono::seconds(15))) {
        problems.push_back(fault.name + ": breaker of port " + std::to_string(port) +
                           " not closed before the fault");
      }
    }
    std::vector<size_t> log_from;
    std::vector<BreakerView> views_before;
    log_from.push_back(a.process().Stderr().size());
    log_from.push_back(b->Stderr().size());
    for (int port : ports) views_before.push_back(ReadBreaker(port));

    std::vector<std::string> events = {UtcNow() + " test: " + fault.name + " injected"};
    const Clock::time_point injected = Clock::now();
    fault.inject();
    const std::vector<double> opened_after = watch.WaitForEach(
        [&](size_t i, const BreakerView& v) {
          return v.state != 0 && v.faults > views_before[i].faults;
        },
        std::chrono::seconds(10), injected);
    const json::array opened_ms(opened_after.begin(), opened_after.end());
    // A write while Redis is away: the menu both processes have cached changes through A.
    const bool published = probe.Publish();
    if (!published) problems.push_back(fault.name + ": the probe's menu PUT failed");
    if (fault.held) {
      std::this_thread::sleep_until(injected + milliseconds(fault_ms));
    }
    events.push_back(UtcNow() + " test: " + fault.name + " healing");
    const Clock::time_point healed = Clock::now();
    if (!fault.heal()) problems.push_back(fault.name + ": Redis did not come back");
    // And a write as Redis returns, which A's breaker (still open) does not send to Redis: B
    // may be back first, and must not show the old menu for longer than A takes to notice.
    if (!probe.Publish()) problems.push_back(fault.name + ": the probe's menu PUT failed");
    const std::vector<double> closed_after = watch.WaitForEach(
        [&](size_t i, const BreakerView& v) {
          return v.state == 0 && v.recoveries > views_before[i].recoveries;
        },
        std::chrono::seconds(20), healed);
    const json::array closed_ms(closed_after.begin(), closed_after.end());
    // After recovery both processes show the write made while Redis was away.
    for (int port : ports) {
      if (!probe.ShowsLatest(port, kSettle)) {
        problems.push_back(fault.name + ": the menu published while Redis was away is not shown " +
                           "through port " + std::to_string(port) + " after recovery");
      }
    }
    std::this_thread::sleep_for(milliseconds(1500));
    next = (*campaign)->Tallies();
    const SpanLatency span = Between(mark, next);
    const json::object outcomes =
        OutcomesBetween(mark, next, std::chrono::duration<double>(Clock::now() - mark_at).count());
    mark = next;
    mark_at = Clock::now();
    const MenuProbe::Counts probed_now = probe.counts();

    // Each state change is logged once: as many openings and closings in the log as the
    // counters moved, at least one of each, and closed at the end. An opening after the recovery
    // (a reopening: the cold namespace's loads crowding the machine past the command timeout)
    // is allowed and reported.
    json::array log_lines;
    for (size_t i = 0; i < ports.size(); ++i) {
      WaitClosed(ports[i], std::chrono::seconds(15));
      BreakerView v;
      BreakerLog breaker_log;
      for (int attempt = 0; attempt < 3; ++attempt) {
        v = ReadBreaker(ports[i]);
        const std::string log = i == 0 ? a.process().Stderr() : b->Stderr();
        breaker_log = BreakerLines(log.substr(log_from[i]), relay->port());
        const BreakerView again = ReadBreaker(ports[i]);
        if (again.faults == v.faults && again.recoveries == v.recoveries) break;
      }
      const int opened = breaker_log.opened;
      const int closed = breaker_log.closed;
      const double faults = v.faults - views_before[i].faults;
      const double recoveries = v.recoveries - views_before[i].recoveries;
      log_lines.push_back(json::object{{"opened", opened}, {"closed", closed}});
      const std::string who = fault.name + ", port " + std::to_string(ports[i]) + ": ";
      if (opened < 1 || closed != opened || v.state != 0) {
        problems.push_back(
            who + "breaker logged opening " + std::to_string(opened) + " times and closing " +
            std::to_string(closed) + " times, state now " + std::to_string(v.state) +
            " (want at least one opening, as many closings, closed):" + breaker_log.lines);
      }
      if (faults != opened || recoveries != closed) {
        problems.push_back(who + "the log says " + std::to_string(opened) + " openings and " +
                           std::to_string(closed) + " closings, the counters " +
                           std::to_string(faults) + " faults and " + std::to_string(recoveries) +
                           " recoveries:" + breaker_log.lines);
      }
    }
    events_all.insert(events_all.end(), events.begin(), events.end());
    phases.push_back(json::object{
        {"fault", fault.name},
        {"faultMs", std::chrono::duration<double, std::milli>(healed - injected).count()},
        {"breakerOpenedMs", opened_ms},
        {"breakerClosedMs", closed_ms},
        {"logLines", log_lines},
        {"requests", outcomes},
        {"probe",
         json::object{{"reads", probed_now.reads - probed_before.reads},
                      {"staleBreakerClosed", probed_now.stale_closed - probed_before.stale_closed},
                      {"staleBreakerOpen", probed_now.stale_open - probed_before.stale_open},
                      {"worstStaleOpenMs", probe.TakeWorstOpenAgeMs()}}},
        {"reads", LatencyJson(span.reads_us)},
        {"writes", LatencyJson(span.writes_us)},
    });
  }
  probe.Stop();
  const bool settled = (*campaign)->Settle(std::chrono::seconds(60));
  const double load_seconds = std::chrono::duration<double>(Clock::now() - load_start).count();
  const double steal = StealPercent(cpu_before, CpuTicks());
  const std::map<std::string, FunctionTally> tallies = (*campaign)->Tallies();
  const std::vector<std::string> replays = (*campaign)->CheckReplays();
  const StoreCheck check =
      CheckStore(sql, true, *before, (*campaign)->writes(), (*campaign)->base_date());
  const MenuProbe::Counts probed = probe.counts();

  uint64_t requests = 0;
  for (const auto& [function, t] : tallies) requests += t.sent;
  json::object line{{"scenario", "redis faults"},
                    {"backend", "postgresql"},
                    {"clients", settings.clients},
                    {"processes", ports.size()},
                    {"loadSeconds", load_seconds},
                    {"requestsPerSecond", static_cast<double>(requests) / load_seconds},
                    {"stealPercent", steal},
                    {"redisBudgetMs", kRedisBudget.count()},
                    {"baseline", json::object{{"requests", baseline_outcomes},
                                              {"reads", LatencyJson(baseline.reads_us)},
                                              {"writes", LatencyJson(baseline.writes_us)}}},
                    {"phases", phases},
                    {"probe", json::object{{"reads", probed.reads},
                                           {"failed", probed.failed},
                                           {"staleBreakerClosed", probed.stale_closed},
                                           {"staleBreakerOpen", probed.stale_open},
                                           {"worstStaleOpenMs", probed.worst_open_age_ms}}},
                    {"requests", TallyJson(tallies)},
                    {"writes", WritesJson(**campaign, check)},
                    {"replayMismatches", replays.size()}};
  std::cout << Summary(line) << "\n";
  AppendReportLine(line);

  for (const std::string& p : problems) ADD_FAILURE() << p;
  for (const std::string& n : probe.notes()) ADD_FAILURE() << "probe: " << n;
  EXPECT_EQ(probed.stale_closed, 0) << "stale reads with the breaker closed";
  EXPECT_EQ(probed.failed, 0);
  EXPECT_LE(probed.worst_open_age_ms, static_cast<double>((kL1Ttl + kSettle).count()))
      << "a process with its breaker open showed an old menu for longer than the L1 lifetime";
  EXPECT_TRUE(settled) << "writes still unsettled after 60 s";
  for (const std::string& r : replays) ADD_FAILURE() << "replay: " << r;
  for (const std::string& v : check.violations) ADD_FAILURE() << "store: " << v;
  for (const auto& [function, t] : tallies) {
    EXPECT_EQ(t.ok, t.sent) << function << ": every request answered 2xx";
    EXPECT_EQ(t.server_error + t.unavailable, 0u) << function;
    EXPECT_EQ(t.timed_out + t.no_answer + t.not_accepted, 0u) << function;
    const double worst = Percentile(t.answered_us, 1.0);
    EXPECT_LE(worst, static_cast<double>((kRedisBudget + kBudgetMargin).count()))
        << function << ": a request waited longer than the Redis budget plus the margin";
  }

  if (HasFailure()) {
    // Every line of both processes' Redis tiers, with the test's events, to read what happened.
    std::string story;
    for (const std::string& e : events_all) story += "\n  " + e;
    for (size_t i = 0; i < ports.size(); ++i) {
      story += "\n process on port " + std::to_string(ports[i]) + ":" +
               BreakerLines(i == 0 ? a.process().Stderr() : b->Stderr(), relay->port()).lines;
    }
    std::cout << "The test's events and the servers' Redis lines:" << story << "\n";
  }
  b->StopWith(SIGTERM);
  b.reset();
  sut.reset();
  relay.reset();
  redis.Kill();
  std::filesystem::remove_all(redis_dir);
}

}  // namespace
}  // namespace hasivu::reliability
