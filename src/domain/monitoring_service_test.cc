// MonitoringService over a registry the test fills as the HTTP server would, and over a SQLite
// test database.
#include "domain/monitoring_service.h"

#include <gtest/gtest.h>

#include <thread>

#include "metrics/monitor.h"
#include "store/migrations.h"
#include "store/testing/test_backend.h"
#include "store/timed_database.h"

namespace hasivu::domain {
namespace {

using std::chrono::milliseconds;

// The series as http/server.cc registers them (labels in its order).
metrics::Counter& Requests(metrics::Registry& r, const std::string& route,
                           const std::string& method, const std::string& cls) {
  return r.GetCounter("hasivu_http_requests_total", "server help",
                      {{"route", route}, {"method", method}, {"class", cls}});
}
metrics::Histogram& Latency(metrics::Registry& r, const std::string& route) {
  return r.GetHistogram("hasivu_http_request_duration_seconds", "server help", {{"route", route}},
                        1e-6);
}

class MonitoringServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = store::testing::NewTestDatabase();
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
  }
  // With `windows` the service reads the monitor's windows, over the series the app adopts
  // (app/monitor_wiring.cc) for the two routed functions and a "memory" cache tier.
  std::unique_ptr<MonitoringService> Service(MonitoringServiceInfo info = {},
                                             bool windows = false) {
    std::vector<MonitoredFunction> functions = TenFunctions();
    for (MonitoredFunction& f : functions) {
      if (f.name == "orders-list") f.methods = {"GET"};
      if (f.name == "orders-create") f.methods = {"POST"};
    }
    monitor_ = std::make_unique<metrics::Monitor>(*registry_);
    timed_ = std::make_unique<store::TimedDatabase>(&db_->db(), *monitor_);
    if (windows) {
      for (const auto& [function, method] :
           {std::pair<std::string, std::string>{"orders-list", "GET"}, {"orders-create", "POST"}}) {
        const metrics::Dimensions dims = {{"Function", function}};
        monitor_->AdoptHistogram(metrics::catalog::kApiLatency, dims, Latency(*registry_, function),
                                 1e-3);
        metrics::Counter* ok = &Requests(*registry_, function, method, "2xx");
        metrics::Counter* failed = &Requests(*registry_, function, method, "5xx");
        monitor_->AdoptCounters(metrics::catalog::kApiRequests, dims, {ok, failed});
        monitor_->AdoptCounters(metrics::catalog::kApiServerErrors, dims, {failed});
      }
      const metrics::Dimensions tier = {{"Tier", "memory"}};
      monitor_->AdoptCounters(metrics::catalog::kCacheHits, tier, {&hits_});
      monitor_->AdoptCounters(metrics::catalog::kCacheMisses, tier, {&misses_});
      info.monitor = monitor_.get();
    }
    return std::make_unique<MonitoringService>(*registry_, timed_.get(), std::move(info),
                                               std::move(functions));
  }
  static const EndpointStats& Find(const std::vector<EndpointStats>& all, const std::string& name) {
    for (const EndpointStats& e : all) {
      if (e.function == name) return e;
    }
    static const EndpointStats kNone;
    ADD_FAILURE() << name;
    return kNone;
  }

  std::unique_ptr<store::testing::TestDatabase> db_;
  metrics::RegistryPtr registry_ = metrics::NewRegistry();
  std::unique_ptr<metrics::Monitor> monitor_;
  std::unique_ptr<store::TimedDatabase> timed_;
  metrics::Counter& hits_ = registry_->GetCounter("test_cache_hits_total", "hits", {});
  metrics::Counter& misses_ = registry_->GetCounter("test_cache_misses_total", "misses", {});
  // The monitor's ticks, injected (its MonitorTicker is the app's).
  const std::chrono::steady_clock::time_point t0_ =
      std::chrono::steady_clock::time_point() + std::chrono::hours(100);
};

TEST_F(MonitoringServiceTest, EndpointsSumTheServersSeries) {
  // Series recorded before and after the service resolves them are the same objects.
  Requests(*registry_, "orders-list", "GET", "2xx").Add(80);
  auto service = Service();
  Requests(*registry_, "orders-list", "GET", "2xx").Add(10);
  Requests(*registry_, "orders-list", "HEAD", "2xx").Add(10);
  Requests(*registry_, "orders-list", "GET", "3xx").Add(5);
  Requests(*registry_, "orders-list", "GET", "4xx").Add(20);
  Requests(*registry_, "orders-list", "GET", "5xx").Add(5);
  // Another route's numbers never leak in.
  Requests(*registry_, "orders-get", "GET", "5xx").Add(1000);
  for (int i = 1; i <= 100; ++i)
    Latency(*registry_, "orders-list").Record(i * 1000.0);  // 1..100 ms

  const std::vector<EndpointStats> all = service->Endpoints();
  ASSERT_EQ(all.size(), 10u);
  EXPECT_EQ(all.front().function, "auth-register");
  EXPECT_EQ(all.back().function, "monitoring-dashboard");
  const EndpointStats& list = Find(all, "orders-list");
  EXPECT_TRUE(list.routed);
  EXPECT_EQ(list.count, 130u);
  EXPECT_EQ(list.server_errors, 5u);
  EXPECT_EQ(list.client_errors, 20u);
  EXPECT_DOUBLE_EQ(list.error_rate, 5.0 / 130.0);
  EXPECT_DOUBLE_EQ(list.client_error_rate, 20.0 / 130.0);
  ASSERT_TRUE(list.p50_ms && list.p95_ms && list.p99_ms);
  // Bucket interpolation is within 1/16 of the value.
  EXPECT_NEAR(*list.p50_ms, 50, 50.0 / 16 + 1);
  EXPECT_NEAR(*list.p95_ms, 95, 95.0 / 16 + 1);
  EXPECT_NEAR(*list.p99_ms, 99, 99.0 / 16 + 1);
  EXPECT_LE(*list.p50_ms, *list.p95_ms);
  EXPECT_LE(*list.p95_ms, *list.p99_ms);

  const EndpointStats& create = Find(all, "orders-create");
  EXPECT_TRUE(create.routed);
  EXPECT_EQ(create.count, 0u);
  EXPECT_EQ(create.error_rate, 0.0);
  EXPECT_FALSE(create.p95_ms.has_value());
  const EndpointStats& login = Find(all, "auth-login");
  EXPECT_FALSE(login.routed);
  EXPECT_EQ(login.count, 0u);
}

TEST(AlarmsTest, TheDashboardShowsTheEvaluatedAlarmsWithTheirLatestTransitions) {
  metrics::AlarmStatus status;
  status.definition.name = "hasivu-db-read-p95";
  status.definition.metric = metrics::catalog::kDatabaseQueryDuration;
  status.definition.dimensions = {{"QueryKind", "read"}};
  status.definition.statistic = metrics::Statistic::Percentile(95);
  status.definition.period_seconds = 60;
  status.definition.evaluation_periods = 5;
  status.definition.datapoints_to_alarm = 3;
  status.definition.threshold = 100;
  status.state = metrics::AlarmState::kAlarm;
  status.reason = "Threshold Crossed: 3 out of the last 5 datapoints were greater than 100";
  status.since = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));
  status.last_datapoint = 140;
  for (int i = 0; i < 7; ++i) {
    status.history.push_back({status.since - std::chrono::minutes(7 - i),
                              i % 2 ? metrics::AlarmState::kOk : metrics::AlarmState::kAlarm,
                              i % 2 ? metrics::AlarmState::kAlarm : metrics::AlarmState::kOk,
                              "reason " + std::to_string(i)});
  }
  const std::vector<Alarm> alarms = AlarmsOf({status});
  ASSERT_EQ(alarms.size(), 1u);
  const Alarm& a = alarms[0];
  EXPECT_EQ(a.name, "hasivu-db-read-p95");
  EXPECT_EQ(a.state, "alarm");
  EXPECT_EQ(a.value, 140);
  EXPECT_EQ(a.threshold, 100);
  EXPECT_EQ(a.reason, status.reason);
  EXPECT_EQ(a.since, status.since);
  EXPECT_EQ(a.metric, "DatabaseQueryDuration{QueryKind=read}");
  EXPECT_EQ(a.statistic, "p95");
  EXPECT_EQ(a.comparison, "GreaterThanThreshold");
  EXPECT_EQ(a.evaluation_periods, 5);
  EXPECT_EQ(a.datapoints_to_alarm, 3);
  // The latest kAlarmTransitionsShown, oldest first.
  ASSERT_EQ(a.transitions.size(), kAlarmTransitionsShown);
  EXPECT_EQ(a.transitions.front().reason, "reason 2");
  EXPECT_EQ(a.transitions.back().reason, "reason 6");
  EXPECT_EQ(a.transitions.back().from, "alarm");  // i = 6: ALARM -> OK
  EXPECT_EQ(a.transitions.back().to, "ok");
  metrics::AlarmStatus unknown;
  unknown.definition.name = "cold";
  unknown.definition.metric = metrics::catalog::kColdStartDuration;
  EXPECT_EQ(AlarmsOf({unknown}).at(0).state, "insufficient_data");
  EXPECT_FALSE(AlarmsOf({unknown}).at(0).value.has_value());
}

TEST_F(MonitoringServiceTest, DashboardReportsServiceDatabaseAndColdStart) {
  MonitoringServiceInfo info{
      .version = "9.9.9",
      .store_backend = "sqlite",
      .cache_backend = "memory",
      .cold_start =
          [] {
            return std::optional<metrics::ColdStartReport>(metrics::ColdStartReport{
                .store = "sqlite", .duration_ms = 250, .init_ms = 200, .first_request_ms = 50});
          },
      .alarms = {},
      .database_timed_globally = false};
  auto service = Service(std::move(info));
  Dashboard before = service->Build();
  EXPECT_EQ(before.version, "9.9.9");
  EXPECT_EQ(before.store_backend, "sqlite");
  EXPECT_EQ(before.started_at, metrics::ProcessStartWall());
  EXPECT_GT(before.uptime_seconds, 0);
  ASSERT_TRUE(before.cold_start_ms.has_value());
  EXPECT_NEAR(*before.cold_start_ms, 250, 1e-6);
  EXPECT_EQ(before.database_status, "up");
  EXPECT_GE(before.database_latency_ms, 0);
  EXPECT_GT(before.pool.size, 0);
  EXPECT_EQ(before.query_count, 0u);
  EXPECT_FALSE(before.query_p95_ms.has_value());
  EXPECT_EQ(before.query_scope, "rfid-verify-card and monitoring-dashboard");
  ASSERT_TRUE(before.cold_start.has_value());
  EXPECT_EQ(before.cold_start->init_ms, 200);
  EXPECT_TRUE(before.alarms.empty());  // no alarms evaluated: none shown

  // Operations through the timed database show up; one over 100 ms counts as slow.
  ASSERT_TRUE(timed_->Read([](store::Connection& c) { return c.Query("SELECT 1").status(); }).ok());
  ASSERT_TRUE(timed_
                  ->Read([](store::Connection&) {
                    std::this_thread::sleep_for(milliseconds(120));
                    return Status::Ok();
                  })
                  .ok());
  Status failed = timed_->Write([](store::Connection&) { return InternalError("boom"); });
  EXPECT_EQ(failed.code(), StatusCode::kInternal);  // passed through unchanged
  Dashboard after = service->Build();
  EXPECT_EQ(after.query_count, 3u);
  EXPECT_EQ(after.slow_queries, 1u);
  ASSERT_TRUE(after.query_p95_ms.has_value());
  EXPECT_GE(*after.query_p95_ms, 100);
}

TEST_F(MonitoringServiceTest, RuntimeSumsTheFunctionsAndMergesTheirLatencies) {
  auto service = Service();
  Dashboard empty = service->Build();
  EXPECT_EQ(empty.runtime.requests_total, 0u);
  EXPECT_FALSE(empty.runtime.warm_p50_ms.has_value());
  EXPECT_FALSE(empty.runtime.warm_p95_ms.has_value());
  EXPECT_FALSE(empty.query_p50_ms.has_value());

  Requests(*registry_, "orders-list", "GET", "2xx").Add(90);
  Requests(*registry_, "orders-list", "GET", "5xx").Add(10);
  Requests(*registry_, "orders-create", "POST", "2xx").Add(100);
  Requests(*registry_, "orders-get", "GET", "2xx").Add(1000);  // not one of the ten
  // orders-list answers in 1..50 ms, orders-create in 51..100 ms: together 1..100 ms.
  for (int i = 1; i <= 50; ++i) Latency(*registry_, "orders-list").Record(i * 1000.0);
  for (int i = 51; i <= 100; ++i) Latency(*registry_, "orders-create").Record(i * 1000.0);
  Latency(*registry_, "orders-get").Record(5e6);  // 5 s elsewhere never counts

  Dashboard d = service->Build();
  EXPECT_EQ(d.runtime.requests_total, 200u);
  ASSERT_TRUE(d.runtime.warm_p50_ms && d.runtime.warm_p95_ms && d.runtime.warm_p99_ms);
  // Within the histogram's bucket error (1/16 of the value).
  EXPECT_NEAR(*d.runtime.warm_p50_ms, 50, 50.0 / 16);
  EXPECT_NEAR(*d.runtime.warm_p95_ms, 95, 95.0 / 16);
  EXPECT_NEAR(*d.runtime.warm_p99_ms, 99, 99.0 / 16);
  EXPECT_LE(*d.runtime.warm_p99_ms, 100);
  // Each function alone keeps its own numbers.
  EXPECT_NEAR(*Find(d.endpoints, "orders-list").p95_ms, 47.5, 47.5 / 16);
#ifdef __linux__
  ASSERT_TRUE(d.runtime.rss_bytes.has_value());
  EXPECT_GT(*d.runtime.rss_bytes, 1 << 20);  // a gtest binary with SQLite holds over 1 MiB
#endif
  // The database's p50 sits below its p95.
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(
        timed_->Read([](store::Connection& c) { return c.Query("SELECT 1").status(); }).ok());
  }
  Dashboard with_queries = service->Build();
  ASSERT_TRUE(with_queries.query_p50_ms.has_value());
  EXPECT_LE(*with_queries.query_p50_ms, *with_queries.query_p95_ms);
}

const RequestWindow& WindowOf(const std::vector<RequestWindow>& windows, const std::string& label) {
  for (const RequestWindow& w : windows) {
    if (w.window == label) return w;
  }
  static const RequestWindow kNone;
  ADD_FAILURE() << label;
  return kNone;
}

// The case: a slow burst (800 ms, with 5xx) and then fast traffic (1 ms). Since start the
// burst stays in the p95 for good; the 1-minute window shows it while it is recent and lets it go
// once its slot rolls out, while the 5-minute window still holds it.
TEST_F(MonitoringServiceTest, AnOldSlowBurstLeavesTheOneMinuteWindowButNotTheSinceStartP95) {
  auto service = Service({}, /*windows=*/true);
  metrics::Histogram& latency = Latency(*registry_, "orders-list");
  metrics::Counter& ok = Requests(*registry_, "orders-list", "GET", "2xx");
  metrics::Counter& failed = Requests(*registry_, "orders-list", "GET", "5xx");
  metrics::Histogram& reads = store::TimedDatabase::OperationsOf(*registry_, store::kReadQuery);
  metrics::Histogram& writes = store::TimedDatabase::OperationsOf(*registry_, store::kWriteQuery);

  // Before the first tick every window is empty (and the since-start numbers are not).
  for (int i = 0; i < 3; ++i) latency.Record(1000);
  ok.Add(3);
  Dashboard before = service->Build();
  ASSERT_EQ(before.endpoints.size(), 10u);
  const EndpointStats& early = Find(before.endpoints, "orders-list");
  ASSERT_EQ(early.windows.size(), 3u);
  EXPECT_EQ(early.windows[0].window, "1m");
  EXPECT_EQ(early.windows[1].window, "5m");
  EXPECT_EQ(early.windows[2].window, "15m");
  EXPECT_EQ(WindowOf(early.windows, "1m").count, 0u);
  EXPECT_FALSE(WindowOf(early.windows, "1m").p95_ms.has_value());
  EXPECT_EQ(early.count, 3u);
  monitor_->Tick(t0_);  // the 3 go into the first slot

  // The burst, in the slot ending at 10 s: 100 requests at 800 ms, 10 of them 5xx; slow reads.
  for (int i = 0; i < 100; ++i) latency.Record(800'000);
  ok.Add(90);
  failed.Add(10);
  for (int i = 0; i < 20; ++i) reads.Record(300'000);  // 300 ms
  hits_.Add(1);
  misses_.Add(9);
  monitor_->Tick(t0_ + std::chrono::seconds(10));
  // Fast traffic after it: 900 requests at 1 ms over the next 60 s, and fast reads and writes.
  for (int t = 20; t <= 70; t += 10) {
    for (int i = 0; i < 150; ++i) latency.Record(1000);
    ok.Add(150);
    for (int i = 0; i < 40; ++i) (i % 2 ? reads : writes).Record(500);  // 0.5 ms
    hits_.Add(95);
    misses_.Add(5);
    if (t == 20) {
      // Still within the minute: the burst dominates the 1-minute p95.
      const RequestWindow recent =
          WindowOf(Find(service->Build().endpoints, "orders-list").windows, "1m");
      ASSERT_TRUE(recent.p95_ms.has_value());
      EXPECT_NEAR(*recent.p95_ms, 800, 800.0 / 16);
    }
    monitor_->Tick(t0_ + std::chrono::seconds(t));
  }

  const Dashboard d = service->Build();
  const EndpointStats& list = Find(d.endpoints, "orders-list");
  // Since start: 1003 requests, the 100 slow ones are 10 %: the p95 is still the burst's.
  EXPECT_EQ(list.count, 1003u);
  ASSERT_TRUE(list.p95_ms.has_value());
  EXPECT_NEAR(*list.p95_ms, 800, 800.0 / 16);
  EXPECT_DOUBLE_EQ(list.error_rate, 10.0 / 1003);

  // The last minute: the slots ending at 20..70 s (the one ending at 10 s is no longer after
  // 70 s - 60 s): only the fast ones.
  const RequestWindow& one = WindowOf(list.windows, "1m");
  EXPECT_EQ(one.count, 900u);
  EXPECT_EQ(one.server_errors, 0u);
  EXPECT_EQ(one.error_rate, 0);
  ASSERT_TRUE(one.p50_ms && one.p95_ms && one.p99_ms);
  EXPECT_NEAR(*one.p95_ms, 1, 1.0 / 16);
  EXPECT_NEAR(*one.p99_ms, 1, 1.0 / 16);
  // Five minutes: the burst and everything else (the first tick's slot holds what came before
  // it), so the p95 is the burst's again.
  const RequestWindow& five = WindowOf(list.windows, "5m");
  EXPECT_EQ(five.count, 1003u);
  EXPECT_EQ(five.server_errors, 10u);
  EXPECT_DOUBLE_EQ(five.error_rate, 10.0 / 1003);
  ASSERT_TRUE(five.p95_ms.has_value());
  EXPECT_NEAR(*five.p95_ms, 800, 800.0 / 16);
  EXPECT_EQ(WindowOf(list.windows, "15m").count, 1003u);

  // A function without traffic, and one not routed: empty windows, not missing ones.
  const EndpointStats& create = Find(d.endpoints, "orders-create");
  ASSERT_EQ(create.windows.size(), 3u);
  EXPECT_EQ(WindowOf(create.windows, "1m").count, 0u);
  EXPECT_FALSE(WindowOf(create.windows, "1m").p50_ms.has_value());
  EXPECT_EQ(WindowOf(Find(d.endpoints, "auth-login").windows, "5m").count, 0u);

  // The runtime: the routed functions together, over the same windows.
  ASSERT_EQ(d.runtime.windows.size(), 3u);
  EXPECT_EQ(WindowOf(d.runtime.windows, "1m").count, 900u);
  EXPECT_NEAR(*WindowOf(d.runtime.windows, "1m").p95_ms, 1, 1.0 / 16);
  EXPECT_NEAR(*WindowOf(d.runtime.windows, "5m").p95_ms, 800, 800.0 / 16);
  ASSERT_TRUE(d.runtime.warm_p95_ms.has_value());
  EXPECT_NEAR(*d.runtime.warm_p95_ms, 800, 800.0 / 16);

  // The database: reads and writes together. The slow reads are 20 of 260 in five minutes
  // (over 5 %), and gone from the last minute.
  ASSERT_EQ(d.database_windows.size(), 3u);
  EXPECT_EQ(d.database_windows[0].window, "1m");
  EXPECT_EQ(d.database_windows[0].count, 240u);
  ASSERT_TRUE(d.database_windows[0].p95_ms.has_value());
  EXPECT_NEAR(*d.database_windows[0].p95_ms, 0.5, 0.5 / 16);
  EXPECT_EQ(d.database_windows[1].count, 260u);
  EXPECT_NEAR(*d.database_windows[1].p95_ms, 300, 300.0 / 16);
  ASSERT_TRUE(d.query_p95_ms.has_value());
  EXPECT_NEAR(*d.query_p95_ms, 300, 300.0 / 16);

  // The cache tier: 95 % hits in the last minute, 1 of 10 in the burst's slot.
  ASSERT_EQ(d.cache_windows.size(), 1u);
  EXPECT_EQ(d.cache_windows[0].tier, "memory");
  ASSERT_EQ(d.cache_windows[0].windows.size(), 3u);
  const CacheWindow& cache_one = d.cache_windows[0].windows[0];
  EXPECT_EQ(cache_one.hits, 570u);
  EXPECT_EQ(cache_one.misses, 30u);
  ASSERT_TRUE(cache_one.hit_rate.has_value());
  EXPECT_DOUBLE_EQ(*cache_one.hit_rate, 0.95);
  EXPECT_DOUBLE_EQ(*d.cache_windows[0].windows[1].hit_rate, 571.0 / 610);

  // A quiet minute later the last minute is empty; the since-start numbers are unchanged.
  for (int t = 80; t <= 130; t += 10) monitor_->Tick(t0_ + std::chrono::seconds(t));
  const Dashboard quiet = service->Build();
  const EndpointStats& quiet_list = Find(quiet.endpoints, "orders-list");
  EXPECT_EQ(WindowOf(quiet_list.windows, "1m").count, 0u);
  EXPECT_FALSE(WindowOf(quiet_list.windows, "1m").p95_ms.has_value());
  EXPECT_EQ(WindowOf(quiet_list.windows, "5m").count, 1003u);
  EXPECT_EQ(quiet_list.count, 1003u);
  EXPECT_FALSE(quiet.cache_windows[0].windows[0].hit_rate.has_value());
  EXPECT_EQ(quiet.database_windows[0].count, 0u);
}

TEST_F(MonitoringServiceTest, WithoutAMonitorThereAreNoWindows) {
  auto service = Service();
  Latency(*registry_, "orders-list").Record(1000);
  const Dashboard d = service->Build();
  EXPECT_TRUE(Find(d.endpoints, "orders-list").windows.empty());
  EXPECT_TRUE(d.runtime.windows.empty());
  EXPECT_TRUE(d.database_windows.empty());
  EXPECT_TRUE(d.cache_windows.empty());
}

TEST_F(MonitoringServiceTest, NoColdStartBeforeTheFirstRequest) {
  MonitoringServiceInfo info;
  info.cold_start = [] { return std::optional<metrics::ColdStartReport>(); };
  EXPECT_FALSE(Service(std::move(info))->Build().cold_start_ms.has_value());
}

}  // namespace
}  // namespace hasivu::domain

namespace hasivu::domain {
namespace {

TEST(MonitoringCompressionTest, SummarisesTheServersCompressionSeries) {
  auto db = store::testing::NewTestDatabase();
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto registry = metrics::NewRegistry();
  MonitoringService service(*registry, &(*db)->db(), {}, TenFunctions());
  CompressionSummary empty = service.Compression();
  EXPECT_EQ(empty.responses, 0u);
  EXPECT_FALSE(empty.ratio.has_value());
  ASSERT_EQ(empty.by_encoding.size(), 3u);

  // As http/server.cc records them.
  auto counter = [&](const char* name, const char* encoding) -> metrics::Counter& {
    return registry->GetCounter(name, "server help", {{"encoding", encoding}});
  };
  counter("hasivu_http_compressed_responses_total", "br").Add(3);
  counter("hasivu_http_compression_bytes_in_total", "br").Add(30000);
  counter("hasivu_http_compression_bytes_out_total", "br").Add(3000);
  counter("hasivu_http_compressed_responses_total", "gzip").Add(1);
  counter("hasivu_http_compression_bytes_in_total", "gzip").Add(10000);
  counter("hasivu_http_compression_bytes_out_total", "gzip").Add(2000);
  counter("hasivu_http_compression_errors_total", "zstd").Add(2);
  counter("hasivu_http_precompressed_responses_total", "br").Add(5);

  const CompressionSummary c = service.Build().compression;
  EXPECT_EQ(c.responses, 4u);
  EXPECT_EQ(c.bytes_in, 40000u);
  EXPECT_EQ(c.bytes_out, 5000u);
  EXPECT_EQ(c.bytes_saved, 35000u);
  ASSERT_TRUE(c.ratio.has_value());
  EXPECT_DOUBLE_EQ(*c.ratio, 5000.0 / 40000.0);
  EXPECT_EQ(c.errors, 2u);
  EXPECT_EQ(c.precompressed, 5u);
  EXPECT_EQ(c.by_encoding[0].encoding, "br");
  EXPECT_EQ(c.by_encoding[0].responses, 3u);
  EXPECT_EQ(c.by_encoding[2].encoding, "gzip");
  EXPECT_EQ(c.by_encoding[2].bytes_out, 2000u);
}

}  // namespace
}  // namespace hasivu::domain

namespace hasivu::domain {
namespace {

TEST(MonitoringReaderTest, OnlyAdminsMayReadTheDashboard) {
  Principal admin;
  admin.role = Role::kAdmin;
  EXPECT_TRUE(MonitoringService::MayRead(admin).ok());
  for (Role role : {Role::kParent, Role::kStudent, Role::kKitchenStaff, Role::kSchoolAdmin}) {
    Principal p;
    p.role = role;
    p.school_id = "0190f5a0-0000-7000-8000-0000000000a1";
    const Status s = MonitoringService::MayRead(p);
    EXPECT_EQ(s.code(), StatusCode::kPermissionDenied) << RoleName(role);
    EXPECT_EQ(s.reason(), "FORBIDDEN");
  }
}

}  // namespace
}  // namespace hasivu::domain
