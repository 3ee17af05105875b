// Scenario 6 of docs/reliability.md: the soak. The campaign's mixed load first runs unpaced for a
// short burst, which measures the peak this server holds on this machine; then at half of it for
// HASIVU_SOAK_SECONDS while the server's resources are sampled every HASIVU_SOAK_SAMPLE_SECONDS:
// RSS, threads and open descriptors from /proc/<pid>/, and from /metrics the database pool, the
// cache's entries and bytes, the open connections and the depth of every internal queue.
// Afterwards no request may have failed (no 5xx, no 503, no 4xx, no refused connection, no
// request without an answer or past its time-out), every write must be acknowledged, found in
// the store and answered as the first time when repeated (store_check.h), and no series that
// would show a leak may grow over the last two thirds of the run (Rules() says what holds for
// each series).
//
// Built twice: reliability_soak_test (the embedded default: SQLite and the in-process cache) and
// reliability_soak_pgtest (PostgreSQL and Redis: HASIVU_TEST_REDIS_URL, a key prefix of its own).
// The test command runs the short form (60 s, a sample every 2 s): a minute cannot tell 2 % of
// growth from noise, so it checks what a minute can show (no more descriptors, threads or pool
// connections at the end of the window than at its start, queues within their bounds, RSS
// within a quarter of where the window began).
// bench/reliability/soak.sh runs the long form (HASIVU_SOAK_SECONDS=1800, a sample every 10 s)
// with the rule: growth over the last two thirds at most 2 %. HASIVU_SOAK_SAMPLES names
// a file the samples are appended to (one JSON line each) for the plots.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <thread>

#include "bench/http_client.h"
#include "bench/proc_stats.h"
#include "tests/integration/api_fixture.h"
#include "tests/reliability/campaign.h"
#include "tests/reliability/report.h"
#include "tests/reliability/server_under_test.h"
#include "tests/reliability/store_check.h"

namespace hasivu::reliability {
namespace {

namespace json = boost::json;
using hasivu::testing::ApiServer;

// The server's in-process cache, in MiB (--cache-memory-mb): the bound of its bytes.
constexpr int kCacheMemoryMb = 64;

double EnvDouble(const char* name, double fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  char* end = nullptr;
  const double d = std::strtod(v, &end);
  return end != v && d > 0 ? d : fallback;
}

// ---- What is sampled ----------------------------------------------------------------------------

// The gauges (and the counters of what a queue dropped) taken from /metrics, every label set of
// each. A queue's depth gauge is there only while its queue exists (the EMF queue with
// --emf-output, the pool's queue with a blocking pool).
constexpr std::string_view kMetricSeries[] = {
    "hasivu_database_pool_in_use",
    "hasivu_database_pool_size",
    "hasivu_cache_keys",
    "hasivu_cache_bytes",
    "hasivu_cache_redis_pool_connections",
    "hasivu_http_open_connections",
    "hasivu_http_offload_queued",
    "hasivu_access_log_queued_lines",
    "hasivu_access_log_dropped_total",
    "hasivu_emf_queued_lines",
    "hasivu_emf_dropped_documents_total",
    "hasivu_hash_queue_in_use",
    "hasivu_monitor_window_bytes",
    "hasivu_http_handler_exceptions_total",
    "hasivu_store_engine_memory_bytes",
    "hasivu_process_heap_in_use_bytes",
    "hasivu_process_heap_released_bytes_total",
    "hasivu_cache_redis_breaker_state",
    "hasivu_cache_redis_faults_total",
};

// SQLite's page caches: at most cache_size (32 MiB, sqlite_database.cc) for each of the pool's
// connections, which grow with the database until then; the rest of the process is judged
// without them (rss_less_engine_bytes).
constexpr double kEngineMemoryBound = 8 * 32 * 1048576.0;

struct Sample {
  double t = 0;  // seconds since the soak started
  std::map<std::string, double> values;
};

// VmRSS, RssAnon, RssFile and Threads of /proc/<pid>/status, and the entries of /proc/<pid>/fd.
void SampleProcess(pid_t pid, Sample& s) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  const std::pair<std::string_view, std::string> fields[] = {{"VmRSS:", "rss_bytes"},
                                                             {"RssAnon:", "rss_anon_bytes"},
                                                             {"RssFile:", "rss_file_bytes"},
                                                             {"Threads:", "threads"}};
  while (std::getline(in, line)) {
    for (const auto& [prefix, key] : fields) {
      if (line.rfind(prefix, 0) != 0) continue;
      const double v = std::strtod(line.c_str() + prefix.size(), nullptr);
      // The memory lines are in kB.
      s.values[key] = key == "threads" ? v : v * 1024;
    }
  }
  std::error_code ec;
  int fds = 0;
  for (std::filesystem::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec), end;
       !ec && it != end; it.increment(ec)) {
    ++fds;
  }
  if (!ec) s.values["fds"] = fds;
}

// Every series of kMetricSeries in a Prometheus text, keyed by name and labels as written.
void SampleMetrics(const std::string& text, Sample& s) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t name_end = line.find_first_of("{ ");
    const size_t space = line.find_last_of(' ');
    if (name_end == std::string::npos || space == std::string::npos || space < name_end) continue;
    const std::string_view name(line.data(), name_end);
    if (std::find(std::begin(kMetricSeries), std::end(kMetricSeries), name) ==
        std::end(kMetricSeries)) {
      continue;
    }
    s.values[line.substr(0, space)] = std::strtod(line.c_str() + space + 1, nullptr);
  }
}

std::string BaseName(const std::string& key) { return key.substr(0, key.find('{')); }

// ---- The rules ----------------------------------------------------------------------------------

enum class Rule {
  kLeak,      // must not grow (RSS, threads, descriptors, pool connections)
  kBounded,   // a queue: never above its bound, and not growing
  kCapacity,  // the cache: bytes within --cache-memory-mb; keys are as many as the reads ask for
  kReport,    // shown, not judged: a level of the moment (connections lent, open connections)
  kZero,      // a counter of losses: stays 0
};

struct SeriesRule {
  Rule rule = Rule::kReport;
  double bound = 0;  // kBounded, kCapacity: the largest value allowed
  std::string says;  // the rule, as the report states it
};

bool IsMemory(std::string_view name) { return name.starts_with("rss") || name.starts_with("heap"); }

SeriesRule RuleFor(const std::string& key, int clients, bool postgres) {
  const std::string name = BaseName(key);
  if (name == "rss_bytes" && !postgres) {
    return {Rule::kReport, 0, "reported: SQLite's page caches in it grow with the database"};
  }
  if (name == "hasivu_store_engine_memory_bytes") {
    return {Rule::kCapacity, kEngineMemoryBound, "<= 8 connections x 32 MiB of page cache"};
  }
  if (name == "rss_bytes" || name == "rss_less_engine_bytes" ||
      name == "heap_less_engine_and_ring_bytes" || name == "threads" || name == "fds" ||
      name == "hasivu_database_pool_size" || name == "hasivu_cache_redis_pool_connections") {
    return {Rule::kLeak, 0, "a leak if it grows"};
  }
  if (name == "hasivu_access_log_queued_lines") return {Rule::kBounded, 8192, "queue, <= 8192"};
  if (name == "hasivu_emf_queued_lines") return {Rule::kBounded, 10000, "queue, <= 10000"};
  if (name == "hasivu_hash_queue_in_use") return {Rule::kBounded, 8, "queue, <= 8"};
  if (name == "hasivu_http_offload_queued") {
    // Each client has at most one request in flight.
    return {Rule::kBounded, static_cast<double>(clients), "queue, <= clients"};
  }
  if (name == "hasivu_monitor_window_bytes") {
    return {Rule::kBounded, 12e6, "the monitor's ring, <= 12 MB (fills for 15 min)"};
  }
  if (name == "hasivu_cache_bytes") {
    return {Rule::kCapacity, kCacheMemoryMb * 1048576.0, "<= --cache-memory-mb"};
  }
  if (name == "hasivu_access_log_dropped_total" || name == "hasivu_emf_dropped_documents_total" ||
      name == "hasivu_http_handler_exceptions_total") {
    return {Rule::kZero, 0, "stays 0"};
  }
  return {Rule::kReport, 0, "reported"};
}

struct Growth {
  double first = 0;  // median of the window's first samples
  double last = 0;   // median of its last samples
  double min = 0;
  double max = 0;
  double percent = 0;  // (last - first) / first; 0 when first is 0 and last is too
};

// Over the samples at or after `from`: the median of the first k and of the last k (k: a sixth of
// the window, 3 to 6 samples: the first and last minute at 10 s), min and max. Medians and not
// the window's ends, so that one sample caught in a passing blip (a reconnection, an allocation
// about to be freed) does not decide.
Growth GrowthOf(const std::vector<Sample>& samples, const std::string& key, double from) {
  std::vector<double> v;
  for (const Sample& s : samples) {
    auto it = s.values.find(key);
    if (s.t >= from && it != s.values.end()) v.push_back(it->second);
  }
  Growth g;
  if (v.empty()) return g;
  const size_t k = std::min(v.size(), std::clamp<size_t>(v.size() / 6, 3, 6));
  const auto median = [](std::vector<double> part) {
    std::sort(part.begin(), part.end());
    const size_t n = part.size();
    return n % 2 == 1 ? part[n / 2] : (part[n / 2 - 1] + part[n / 2]) / 2;
  };
  g.first = median(std::vector<double>(v.begin(), v.begin() + k));
  g.last = median(std::vector<double>(v.end() - k, v.end()));
  g.min = *std::min_element(v.begin(), v.end());
  g.max = *std::max_element(v.begin(), v.end());
  if (g.first > 0) {
    g.percent = 100 * (g.last - g.first) / g.first;
  } else if (g.last > 0) {
    g.percent = 100;
  }
  return g;
}

// ---- Access tokens ------------------------------------------------------------------------------

// The prepared requests carry the access tokens of logins made while preparing, which live 15
// minutes; a longer run logs the same accounts in again (as a client would refresh) before then.
constexpr double kReloginSeconds = 480;

std::string Base64UrlDecoded(std::string_view text) {
  std::string out;
  uint32_t bits = 0;
  int held = 0;
  for (const char c : text) {
    int v = 0;
    if (c >= 'A' && c <= 'Z') {
      v = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      v = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      v = c - '0' + 52;
    } else if (c == '-' || c == '_') {
      v = c == '-' ? 62 : 63;
    } else {
      break;
    }
    bits = (bits << 6) | static_cast<uint32_t>(v);
    held += 6;
    if (held >= 8) {
      held -= 8;
      out.push_back(static_cast<char>((bits >> held) & 0xff));
    }
  }
  return out;
}

// The user id (claim "sub") of "Bearer <JWT>", or "".
std::string SubjectOf(const std::string& authorization) {
  const size_t first = authorization.find('.');
  const size_t second = first == std::string::npos ? first : authorization.find('.', first + 1);
  if (second == std::string::npos) return "";
  boost::system::error_code ec;
  const json::value claims =
      json::parse(Base64UrlDecoded(authorization.substr(first + 1, second - first - 1)), ec);
  const json::value* sub =
      ec || !claims.is_object() ? nullptr : claims.as_object().if_contains("sub");
  return sub != nullptr && sub->is_string() ? std::string(sub->as_string()) : "";
}

// Logs every account the prepared requests act as in again and puts the new tokens in place of
// the old. REQUIRES: the campaign stopped. Returns what went wrong, or "".
std::string Relogin(Campaign& campaign, const bench::Fixtures& fixtures, const ApiServer& server) {
  std::map<std::string, const bench::FixtureUser*> by_id = {{fixtures.admin.id, &fixtures.admin}};
  for (const bench::FixtureSchool& school : fixtures.schools) {
    by_id[school.school_admin.id] = &school.school_admin;
    for (const bench::FixtureUser& u : school.kitchen_staff) by_id[u.id] = &u;
    for (const bench::FixtureParent& p : school.parents) by_id[p.user.id] = &p.user;
  }
  std::map<std::string, std::string> replacements;
  for (const std::string& old : campaign.Authorizations()) {
    const auto account = by_id.find(SubjectOf(old));
    if (account == by_id.end()) return "no fixture account has the token " + old.substr(0, 40);
    const hasivu::testing::ApiResponse r =
        server.Call("POST", "/api/v1/auth/login", "",
                    hasivu::testing::Json(json::object{{"email", account->second->email},
                                                       {"password", account->second->password}}));
    const json::value* tokens = r.Data().if_contains("tokens");
    const json::value* token = tokens != nullptr && tokens->is_object()
                                   ? tokens->as_object().if_contains("accessToken")
                                   : nullptr;
    if (r.status != 200 || token == nullptr || !token->is_string()) {
      return "login of " + account->second->email + " answered " + std::to_string(r.status) + " " +
             r.body.substr(0, 200);
    }
    replacements[old] = "Bearer " + std::string(token->as_string());
  }
  campaign.ReplaceAuthorizations(replacements);
  return "";
}

// ---- The run ------------------------------------------------------------------------------------

uint64_t OkSoFar(const Campaign& campaign) {
  uint64_t n = 0;
  for (const auto& [function, t] : campaign.Counts()) n += t.ok;
  return n;
}

// Requests that were not answered with success (see the file comment).
uint64_t ErrorsIn(const std::map<std::string, FunctionTally>& tallies) {
  uint64_t n = 0;
  for (const auto& [function, t] : tallies) {
    n += t.unavailable + t.server_error + t.refused_status + t.not_accepted + t.no_answer +
         t.timed_out;
  }
  return n;
}

TEST(SoakTest, HalfThePeakForALongTimeLeaksNothingAndFailsNothing) {
  const double soak_seconds = EnvDouble("HASIVU_SOAK_SECONDS", 60);
  const double sample_seconds = EnvDouble("HASIVU_SOAK_SAMPLE_SECONDS", 2);
  const double peak_seconds = EnvDouble("HASIVU_SOAK_PEAK_SECONDS", 8);
  const double write_rate = EnvDouble("HASIVU_SOAK_WRITE_RATE", 20);
  // The rule needs minutes to be told from noise: below 10 minutes, the short form's.
  const bool strict = soak_seconds >= 600;

  std::vector<std::string> args = {"--cache-memory-mb", std::to_string(kCacheMemoryMb),
                                   // The access log's queue exists only with the log (the
                                   // default, which tests turn off), the EMF queue only with an
                                   // output.
                                   "--access-log", "true", "--emf-output", "-", "--emf-interval",
                                   "10"};
#ifdef HASIVU_TEST_BACKEND_POSTGRES
  const char* redis_url = std::getenv("HASIVU_TEST_REDIS_URL");
  ASSERT_TRUE(redis_url != nullptr && *redis_url != '\0')
      << "HASIVU_TEST_REDIS_URL is not set (scripts/services.sh env)";
  // Keys of this run only, in the shared Redis (others' tests use it).
  const std::string prefix =
      "soak-" + std::to_string(getpid()) + "-" +
      std::to_string(std::chrono::system_clock::now().time_since_epoch() / std::chrono::seconds(1));
  args.insert(args.end(), {"--cache", redis_url, "--cache-prefix", prefix});
  const std::string configuration = "PostgreSQL + Redis";
#else
  const std::string configuration = "SQLite + in-process cache";
#endif
  std::string error;
  std::unique_ptr<ServerUnderTest> sut = ServerUnderTest::Start(args, &error);
  ASSERT_NE(sut, nullptr) << error;
  ApiServer& server = sut->server();
  const pid_t pid = server.process().pid();
  const SqlRunner sql = sut->Sql();
  // The access log goes to the server's stdout, a file: emptied at the end (a long soak writes
  // a gigabyte of it).
  std::error_code link_error;
  const std::filesystem::path stdout_file =
      std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/fd/1", link_error);

  CampaignSettings settings;
  settings.clients = EnvInt("HASIVU_RELIABILITY_CLIENTS", 16);
  // Fresh writes all through the burst and the soak (rfid-verify-card has fewer: as many cards
  // as have an order today); the last few go out while settling.
  settings.writes_per_function =
      static_cast<int>(std::ceil(write_rate * (peak_seconds + soak_seconds) / 2));
  settings.write_rate = write_rate;
  settings.run_tag = "soak";
  settings.checkout = sut->Checkout();
  const Clock::time_point prepare_start = Clock::now();
  auto campaign = Campaign::Prepare(server.port(), sut->FixturesJson(), settings);
  ASSERT_TRUE(campaign.ok()) << campaign.status().ToString();
  const double prepare_s = std::chrono::duration<double>(Clock::now() - prepare_start).count();
  StatusOr<StoreCounts> before = CountRows(sql);
  ASSERT_TRUE(before.ok()) << before.status().ToString();

  // The peak: reads unpaced, over the burst less its first quarter (connections, caches).
  (*campaign)->Start();
  std::this_thread::sleep_for(std::chrono::duration<double>(peak_seconds / 4));
  const uint64_t ok_at = OkSoFar(**campaign);
  const Clock::time_point measured_from = Clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(peak_seconds * 3 / 4));
  const double peak = static_cast<double>(OkSoFar(**campaign) - ok_at) /
                      std::chrono::duration<double>(Clock::now() - measured_from).count();
  (*campaign)->Stop();
  StatusOr<bench::Fixtures> fixtures = bench::ParseFixtures(sut->FixturesJson());
  ASSERT_TRUE(fixtures.ok()) << fixtures.status().ToString();
  std::vector<std::string> relogin_failures;
  int relogins = 0;
  const auto relogin = [&] {
    const std::string problem = Relogin(**campaign, *fixtures, server);
    if (!problem.empty()) relogin_failures.push_back(problem);
    ++relogins;
  };
  relogin();
  const double target = peak / 2;
  (*campaign)->SetReadRate(std::max(target - write_rate, write_rate));

  // The soak.
  bench::Endpoint endpoint;
  endpoint.host = "127.0.0.1";
  endpoint.port = static_cast<uint16_t>(server.port());
  std::unique_ptr<bench::HttpClient> scraper =
      bench::NewHttpClient(endpoint, std::chrono::seconds(5));
  bench::Request metrics_request;
  metrics_request.target = "/metrics";
  std::vector<Sample> samples;
  std::vector<std::string> scrape_failures;
  const StatusOr<bench::CpuTimes> cpu_before = bench::ReadMachineCpuTimes();
  const uint64_t ok_before_soak = OkSoFar(**campaign);
  const Clock::time_point soak_start = Clock::now();
  (*campaign)->Start();
  // Each sample is written as it is taken: a run that dies still leaves what it saw.
  std::ofstream samples_out;
  if (const char* path = std::getenv("HASIVU_SOAK_SAMPLES"); path != nullptr && *path != '\0') {
    samples_out.open(path, std::ios::app);
  }
  const std::string backend = server.postgres() ? "postgresql" : "sqlite";
  uint64_t ok_last = ok_before_soak;
  double t_last = 0;
  double relogin_at = kReloginSeconds;
  for (int n = 1;; ++n) {
    const Clock::time_point due =
        soak_start + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(n * sample_seconds));
    if (due > soak_start + std::chrono::duration<double>(soak_seconds)) break;
    std::this_thread::sleep_until(due);
    if (std::chrono::duration<double>(Clock::now() - soak_start).count() >= relogin_at) {
      // The clients pause for the logins (tens of milliseconds); the read schedule starts again.
      (*campaign)->Stop();
      relogin();
      (*campaign)->Start();
      relogin_at += kReloginSeconds;
    }
    Sample s;
    s.t = std::chrono::duration<double>(Clock::now() - soak_start).count();
    SampleProcess(pid, s);
    StatusOr<bench::Response> m = scraper->Send(metrics_request);
    if (m.ok() && m->status == 200) {
      SampleMetrics(m->body, s);
      const auto engine = s.values.find("hasivu_store_engine_memory_bytes");
      const auto rss = s.values.find("rss_bytes");
      if (engine != s.values.end() && rss != s.values.end()) {
        s.values["rss_less_engine_bytes"] = rss->second - engine->second;
      }
      // The live heap (app/heap_trim.h) without what grows by design (SQLite's page caches, the
      // monitor's ring while it fills): what a leak would make grow, free of the allocator's
      // retained pages.
      const auto heap = s.values.find("hasivu_process_heap_in_use_bytes");
      const auto ring = s.values.find("hasivu_monitor_window_bytes");
      if (engine != s.values.end() && heap != s.values.end() && ring != s.values.end()) {
        s.values["heap_less_engine_and_ring_bytes"] = heap->second - engine->second - ring->second;
      }
    } else {
      scrape_failures.push_back(m.ok() ? std::to_string(m->status) : m.status().ToString());
    }
    const std::map<std::string, FunctionTally> counts = (*campaign)->Counts();
    uint64_t ok = 0;
    for (const auto& [function, t] : counts) ok += t.ok;
    s.values["answered_per_second"] = static_cast<double>(ok - ok_last) / (s.t - t_last);
    s.values["errors"] = static_cast<double>(ErrorsIn(counts));
    ok_last = ok;
    t_last = s.t;
    if (samples_out.is_open()) {
      json::object values;
      for (const auto& [key, v] : s.values) values[key] = v;
      samples_out << json::serialize(
                         json::object{{"backend", backend}, {"t", s.t}, {"values", values}})
                  << std::endl;
    }
    samples.push_back(std::move(s));
  }
  const double held = static_cast<double>(OkSoFar(**campaign) - ok_before_soak) /
                      std::chrono::duration<double>(Clock::now() - soak_start).count();
  (*campaign)->Stop();
  const StatusOr<bench::CpuTimes> cpu_after = bench::ReadMachineCpuTimes();
  std::optional<bench::MachineUsage> machine;
  if (cpu_before.ok() && cpu_after.ok()) {
    machine = bench::MachineUsageBetween(*cpu_before, *cpu_after);
  }

  relogin();
  const bool settled = (*campaign)->Settle(std::chrono::seconds(120));
  relogin();
  const std::vector<std::string> replays = (*campaign)->CheckReplays();
  const StoreCheck check =
      CheckStore(sql, server.postgres(), *before, (*campaign)->writes(), (*campaign)->base_date());

  // Growth over the last two thirds, per series, judged by its rule.
  const double from = soak_seconds / 3;
  std::set<std::string> keys;
  for (const Sample& s : samples) {
    for (const auto& [key, v] : s.values) keys.insert(key);
  }
  json::object series;
  std::vector<std::string> breaches;
  for (const std::string& key : keys) {
    if (key == "answered_per_second" || key == "errors") continue;
    const SeriesRule rule = RuleFor(key, settings.clients, server.postgres());
    // The monitor's ring fills for its history (15 minutes from the server's start) by design:
    // judged from then on.
    const Growth g = GrowthOf(
        samples, key,
        strict && BaseName(key) == "hasivu_monitor_window_bytes" ? std::max(from, 960.0) : from);
    std::string breach;
    switch (rule.rule) {
      case Rule::kLeak:
        if (strict && g.percent > 2) {
          breach = "grew " + std::to_string(g.percent) + " %";
        } else if (!strict && IsMemory(BaseName(key)) && g.last > g.first * 1.25) {
          // A minute after the burst allocators and caches still settle; a leak of a request's
          // worth of memory at this rate would pass a quarter within it.
          breach = "rose to " + std::to_string(g.last) + " from " + std::to_string(g.first);
        } else if (!strict && !IsMemory(BaseName(key)) && g.last > g.first) {
          // Counts of things held (descriptors, threads, connections): none more at the end.
          breach = "rose from " + std::to_string(g.first) + " to " + std::to_string(g.last);
        }
        break;
      case Rule::kBounded:
      case Rule::kCapacity:
        if (g.max > rule.bound) {
          breach =
              "reached " + std::to_string(g.max) + " (bound " + std::to_string(rule.bound) + ")";
        } else if (rule.rule == Rule::kBounded && strict &&
                   g.last > g.first * 1.02 + std::max(1.0, rule.bound / 100)) {
          // A depth of the moment moves by a few items sample to sample: growth beyond 2 % and
          // 1 % of the bound.
          breach = "grew from " + std::to_string(g.first) + " to " + std::to_string(g.last);
        }
        break;
      case Rule::kZero:
        if (g.max > 0) breach = "is " + std::to_string(g.max);
        break;
      case Rule::kReport:
        break;
    }
    if (!breach.empty()) breaches.push_back(key + " " + breach);
    series[key] = json::object{
        {"rule", rule.says}, {"first", g.first},           {"last", g.last},      {"min", g.min},
        {"max", g.max},      {"growthPercent", g.percent}, {"ok", breach.empty()}};
  }

  const std::map<std::string, FunctionTally> tallies = (*campaign)->Tallies();
  json::object line{{"scenario", "soak"},
                    {"backend", server.postgres() ? "postgresql" : "sqlite"},
                    {"configuration", configuration},
                    {"clients", settings.clients},
                    {"soakSeconds", soak_seconds},
                    {"sampleSeconds", sample_seconds},
                    {"strict", strict},
                    {"prepareSeconds", prepare_s},
                    {"peakPerSecond", peak},
                    {"targetPerSecond", target},
                    {"heldPerSecond", held},
                    {"writeRate", write_rate},
                    {"stealPercent", machine ? 100 * machine->steal_fraction : -1.0},
                    {"busyPercent", machine ? 100 * machine->busy_fraction : -1.0},
                    {"errors", ErrorsIn(tallies)},
                    {"relogins", relogins},
                    {"series", series},
                    {"requests", TallyJson(tallies)},
                    {"writes", WritesJson(**campaign, check)},
                    {"replayMismatches", replays.size()}};
  std::cout << Summary(line) << "\n"
            << "peak " << peak << "/s, target " << target << "/s, held " << held << "/s\n";
  for (const auto& [key, v] : series) std::cout << "  " << key << ": " << v << "\n";
  AppendReportLine(line);
  if (!link_error) {
    std::error_code ignored;
    std::filesystem::resize_file(stdout_file, 0, ignored);
  }

  EXPECT_GT(peak, 0);
  EXPECT_GE(samples.size(), 3u);
  EXPECT_TRUE(scrape_failures.empty())
      << scrape_failures.size() << " scrapes of /metrics failed, first: " << scrape_failures[0];
  EXPECT_TRUE(settled) << "writes still unsettled after 120 s";
  for (const std::string& f : relogin_failures) ADD_FAILURE() << "relogin: " << f;
  EXPECT_EQ(ErrorsIn(tallies), 0u) << "requests that failed (see the tallies above)";
  for (const auto& [function, states] : (*campaign)->WriteStates()) {
    const auto failed = states.find(WriteState::kFailed);
    EXPECT_TRUE(failed == states.end() || failed->second == 0) << function << " writes failed";
  }
  for (const std::string& r : replays) ADD_FAILURE() << "replay: " << r;
  for (const std::string& v : check.violations) ADD_FAILURE() << "store: " << v;
  for (const std::string& b : breaches) ADD_FAILURE() << "series " << b;
  // The series the rules judge must all have been seen, or nothing was tested.
  for (std::string_view must :
       {"rss_bytes", "rss_less_engine_bytes", "heap_less_engine_and_ring_bytes", "fds", "threads",
        "hasivu_cache_keys", "hasivu_http_open_connections", "hasivu_access_log_queued_lines",
        "hasivu_emf_queued_lines", "hasivu_database_pool_size"}) {
    EXPECT_TRUE(std::any_of(keys.begin(), keys.end(),
                            [&](const std::string& k) { return BaseName(k) == must; }))
        << must << " was never sampled";
  }
}

}  // namespace
}  // namespace hasivu::reliability
