#include "app/cloudwatch_config.h"

#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <map>
#include <set>
#include <string>

#include "app/alarm_flags.h"
#include "app/config.h"
#include "common/ids.h"
#include "metrics/catalog.h"
#include "metrics/emf.h"

namespace hasivu::app {
namespace {

namespace json = boost::json;
namespace catalog = metrics::catalog;

// A series as CloudWatch names it: namespace, metric name, dimension (name, value) set.
struct SeriesRef {
  std::string ns, name;
  std::map<std::string, std::string> dims;
  auto operator<=>(const SeriesRef&) const = default;
};

std::string ToString(const SeriesRef& r) {
  std::string s = r.ns + " " + r.name + " {";
  for (const auto& [n, v] : r.dims) s += n + "=" + v + " ";
  return s + "}";
}

// ---- what the EMF exporter writes
// ----------------------------------------------------------------

// The series a server with `d` records: every catalog metric whose dimensions all come from the
// server's fixed sets, for every combination of their values, each with data in the interval.
// This pins the config's dimension values to the catalog for every store and cache; the live
// agreement (the EMF file a real `hasivu serve` wrote after traffic to all ten functions, against
// the `hasivu cloudwatch-config` binary's output) is tests/integration/monitoring_e2e_test.cc.
// CacheHitRate has Tier "all" besides each tier when there are several (app/monitor_wiring.h);
// the tiers' counters have only the tiers (monitor_wiring_test.cc checks the wiring does this).
std::vector<metrics::SeriesInterval> RecordedSeries(const metrics::ServerDimensions& d) {
  const std::map<std::string_view, std::vector<std::string>> values = {
      {"Function", d.functions},
      {"Store", {d.store}},
      {"Tier", d.cache_tiers},
      {"QueryKind", d.query_kinds}};
  const std::vector<std::string> hit_rate_tiers = d.HitRateTiers();
  auto values_of = [&](const catalog::MetricDef& m,
                       std::string_view dim) -> const std::vector<std::string>* {
    if (m.name == catalog::kCacheHitRate.name && dim == "Tier") return &hit_rate_tiers;
    const auto it = values.find(dim);
    return it == values.end() ? nullptr : &it->second;
  };
  std::vector<metrics::SeriesInterval> out;
  for (const catalog::MetricDef& m : catalog::kAll) {
    std::vector<metrics::Dimensions> sets = {{}};
    bool known = true;
    for (std::string_view dim : m.dimensions) {
      if (dim.empty()) continue;
      const std::vector<std::string>* dim_values = values_of(m, dim);
      if (dim_values == nullptr) {
        known = false;  // Service, Operation, ...: no dashboard or alarm names these
        break;
      }
      std::vector<metrics::Dimensions> next;
      for (const metrics::Dimensions& set : sets) {
        for (const std::string& v : *dim_values) {
          metrics::Dimensions grown = set;
          grown.emplace_back(std::string(dim), v);
          next.push_back(std::move(grown));
        }
      }
      sets = std::move(next);
    }
    if (!known) continue;
    for (metrics::Dimensions& set : sets) {
      metrics::SeriesInterval s;
      s.info = {std::string(m.name), m.unit, std::move(set), m.aggregation};
      s.data.count = 1;
      s.data.sum = 42;
      s.data.min = s.data.max = 42;
      s.data.values = {{42, 1}};
      out.push_back(std::move(s));
    }
  }
  return out;
}

std::set<SeriesRef> EmittedSeries(const std::vector<metrics::SeriesInterval>& recorded) {
  std::set<SeriesRef> out;
  for (const std::string& line : metrics::EncodeEmf(recorded, 1760431200000)) {
    const json::object root = json::parse(line).as_object();
    for (const json::value& d : root.at("_aws").at("CloudWatchMetrics").as_array()) {
      for (const json::value& set : d.at("Dimensions").as_array()) {
        for (const json::value& m : d.at("Metrics").as_array()) {
          SeriesRef r{std::string(d.at("Namespace").as_string()),
                      std::string(m.at("Name").as_string()),
                      {}};
          for (const json::value& n : set.as_array()) {
            r.dims[std::string(n.as_string())] = std::string(root.at(n.as_string()).as_string());
          }
          out.insert(std::move(r));
        }
      }
    }
  }
  return out;
}

// ---- what the dashboards and alarms name
// ---------------------------------------------------------

struct Referenced {
  std::set<SeriesRef> series;
  size_t dashboards = 0, widgets = 0, alarms = 0;
};

Referenced ReferencedSeries(const json::object& config) {
  Referenced out;
  for (const json::value& d : config.at("Dashboards").as_array()) {
    ++out.dashboards;
    const json::object body = json::parse(d.at("DashboardBody").as_string()).as_object();
    for (const json::value& w : body.at("widgets").as_array()) {
      ++out.widgets;
      for (const json::value& line : w.at("properties").at("metrics").as_array()) {
        const json::array& a = line.as_array();
        SeriesRef r{std::string(a.at(0).as_string()), std::string(a.at(1).as_string()), {}};
        for (size_t i = 2; i + 1 < a.size() && a[i].is_string(); i += 2) {
          r.dims[std::string(a[i].as_string())] = std::string(a[i + 1].as_string());
        }
        out.series.insert(std::move(r));
      }
    }
  }
  for (const json::value& a : config.at("Alarms").as_array()) {
    ++out.alarms;
    SeriesRef r{std::string(a.at("Namespace").as_string()),
                std::string(a.at("MetricName").as_string()),
                {}};
    for (const json::value& dim : a.at("Dimensions").as_array()) {
      r.dims[std::string(dim.at("Name").as_string())] = std::string(dim.at("Value").as_string());
    }
    out.series.insert(std::move(r));
  }
  return out;
}

json::object Config(const CloudWatchConfigOptions& o) {
  return json::parse(CloudWatchConfigJson(o)).as_object();
}

TEST(CloudWatchConfigTest, EverySeriesADashboardOrAlarmNamesIsOneTheExporterWrites) {
  for (const bool sqlite : {true, false}) {
    for (const char* cache : {"memory", "redis://127.0.0.1:6379/0", "none"}) {
      CloudWatchConfigOptions o;
      o.dimensions = ServerDimensionsFor(sqlite, cache);
      const Referenced refs = ReferencedSeries(Config(o));
      const std::set<SeriesRef> emitted = EmittedSeries(RecordedSeries(o.dimensions));
      ASSERT_FALSE(emitted.empty());
      EXPECT_GE(refs.dashboards, 3u);
      EXPECT_GT(refs.alarms, 10u);
      for (const SeriesRef& r : refs.series) {
        EXPECT_TRUE(emitted.contains(r))
            << ToString(r) << " is named by a dashboard or alarm but not written by the exporter "
            << "(store " << (sqlite ? "sqlite" : "postgres") << ", cache " << cache << ")";
      }
    }
  }
}

TEST(CloudWatchConfigTest, TheCheckCatchesADimensionMismatch) {
  // The agreement test must be able to fail: the original's alarms named metrics without the
  // dimensions they were written with.
  CloudWatchConfigOptions o;
  const std::set<SeriesRef> emitted = EmittedSeries(RecordedSeries(o.dimensions));
  EXPECT_TRUE(emitted.contains(
      {std::string(catalog::kNamespace), "ApiLatency", {{"Function", "orders-list"}}}));
  EXPECT_FALSE(emitted.contains({std::string(catalog::kNamespace), "ApiLatency", {}}));
  EXPECT_FALSE(emitted.contains(
      {std::string(catalog::kNamespace), "ColdStartDuration", {{"Store", "postgresql"}}}));
}

TEST(CloudWatchConfigTest, DashboardBodiesAreWellFormed) {
  CloudWatchConfigOptions o;
  o.dimensions = ServerDimensionsFor(false, "redis");
  const json::object config = Config(o);
  EXPECT_EQ(config.at("Region").as_string(), "ap-south-1");
  EXPECT_EQ(config.at("Namespace").as_string(), catalog::kNamespace);
  std::set<std::string> names;
  for (const json::value& d : config.at("Dashboards").as_array()) {
    const std::string name(d.at("DashboardName").as_string());
    names.insert(name);
    // PutDashboard: the body is a JSON string holding {"widgets": [...]}.
    ASSERT_TRUE(d.at("DashboardBody").is_string()) << name;
    const json::object body = json::parse(d.at("DashboardBody").as_string()).as_object();
    const json::array& widgets = body.at("widgets").as_array();
    EXPECT_FALSE(widgets.empty()) << name;
    for (const json::value& wv : widgets) {
      const json::object& w = wv.as_object();
      EXPECT_EQ(w.at("type").as_string(), "metric");
      const int64_t x = w.at("x").as_int64(), y = w.at("y").as_int64();
      const int64_t width = w.at("width").as_int64(), height = w.at("height").as_int64();
      EXPECT_TRUE(x >= 0 && width >= 1 && x + width <= 24) << name;  // the 24-column grid
      EXPECT_TRUE(y >= 0 && height >= 1 && height <= 1000) << name;
      const json::object& p = w.at("properties").as_object();
      const int64_t period = p.at("period").as_int64();
      EXPECT_TRUE(period == 10 || period == 30 || (period >= 60 && period % 60 == 0)) << period;
      EXPECT_EQ(p.at("region").as_string(), "ap-south-1");
      EXPECT_FALSE(p.at("title").as_string().empty());
      EXPECT_EQ(p.at("view").as_string(), "timeSeries");
      const json::array& metrics = p.at("metrics").as_array();
      ASSERT_FALSE(metrics.empty()) << name;
      for (const json::value& lv : metrics) {
        // [namespace, metric, (dimension name, value)*, {options}?]
        const json::array& line = lv.as_array();
        ASSERT_GE(line.size(), 2u);
        size_t strings = 0;
        while (strings < line.size() && line[strings].is_string()) ++strings;
        EXPECT_EQ(strings % 2, 0u) << json::serialize(line) << ": dimension without a value";
        EXPECT_GE(line.size(), strings);
        EXPECT_LE(line.size(), strings + 1) << "only an options object may follow";
        if (line.size() == strings + 1) {
          const json::object& opts = line.back().as_object();
          const std::string stat(opts.at("stat").as_string());
          const bool known = stat == "Sum" || stat == "Average" || stat == "Maximum" ||
                             stat == "Minimum" || stat == "SampleCount" ||
                             (stat.size() > 1 && stat[0] == 'p');
          EXPECT_TRUE(known) << stat;
        }
        EXPECT_EQ(line[0].as_string(), catalog::kNamespace);
        bool in_catalog = false;
        for (const catalog::MetricDef& m : catalog::kAll)
          in_catalog |= line[1].as_string() == m.name;
        EXPECT_TRUE(in_catalog) << line[1].as_string();
      }
    }
  }
  EXPECT_EQ(names, (std::set<std::string>{"hasivu-runtime", "hasivu-database", "hasivu-cache",
                                          "hasivu-api"}));
}

TEST(CloudWatchConfigTest, AlarmsAreTheServersDefinitionsInPutMetricAlarmShape) {
  CloudWatchConfigOptions o;
  o.alarms.SetPeriod(300);
  const json::object config = Config(o);
  const json::array& alarms = config.at("Alarms").as_array();
  const std::vector<metrics::AlarmDefinition> defs = metrics::DefaultAlarms(o.alarms, o.dimensions);
  ASSERT_EQ(alarms.size(), defs.size());
  for (size_t i = 0; i < defs.size(); ++i) {
    const json::object& a = alarms[i].as_object();
    const metrics::AlarmDefinition& d = defs[i];
    EXPECT_EQ(a.at("AlarmName").as_string(), d.name);
    EXPECT_EQ(a.at("MetricName").as_string(), d.metric.name);
    EXPECT_EQ(a.at("Period").as_int64(), 300);
    EXPECT_EQ(a.at("EvaluationPeriods").as_int64(), d.evaluation_periods);
    EXPECT_EQ(a.at("DatapointsToAlarm").as_int64(), d.datapoints_to_alarm);
    EXPECT_EQ(json::value_to<double>(a.at("Threshold")), d.threshold);
    EXPECT_EQ(a.at("ComparisonOperator").as_string(),
              metrics::ComparisonOperatorName(d.comparison));
    EXPECT_EQ(a.at("TreatMissingData").as_string(),
              metrics::TreatMissingDataName(d.treat_missing_data));
    // PutMetricAlarm's parameters only (the CLI refuses others in --cli-input-json).
    static const std::set<std::string> kParameters = {
        "AlarmName",         "AlarmDescription",  "Namespace",         "MetricName",
        "Dimensions",        "Statistic",         "ExtendedStatistic", "Period",
        "EvaluationPeriods", "DatapointsToAlarm", "Threshold",         "ComparisonOperator",
        "TreatMissingData"};
    for (const auto& member : a) {
      EXPECT_TRUE(kParameters.contains(std::string(member.key()))) << member.key();
    }
    EXPECT_EQ(a.at("Namespace").as_string(), catalog::kNamespace);
    // Exactly one of Statistic and ExtendedStatistic.
    EXPECT_NE(a.contains("Statistic"), a.contains("ExtendedStatistic")) << d.name;
    if (d.statistic.extended()) {
      EXPECT_EQ(a.at("ExtendedStatistic").as_string(), "p95");
    }
    EXPECT_EQ(a.at("Dimensions").as_array().size(), d.dimensions.size());
  }
  const json::object& cold = alarms[0].as_object();
  EXPECT_EQ(cold.at("AlarmName").as_string(), "hasivu-cold-start");
  EXPECT_EQ(cold.at("Statistic").as_string(), "Maximum");
  EXPECT_EQ(cold.at("Dimensions"),
            (json::array{json::object{{"Name", "Store"}, {"Value", "sqlite"}}}));
  EXPECT_EQ(cold.at("TreatMissingData").as_string(), "ignore");
}

// The cache dashboard's hit-rate widget and the hit-rate alarm: the tier alone, or with Redis
// each tier and the cache as a whole (Tier=all), which the alarm watches.
TEST(CloudWatchConfigTest, HitRateOfEachTierAndOfTheWholeCache) {
  auto hit_rate_widget = [](const json::object& config) {
    std::vector<std::string> tiers;
    for (const json::value& d : config.at("Dashboards").as_array()) {
      if (d.at("DashboardName").as_string() != "hasivu-cache") continue;
      const json::object body = json::parse(d.at("DashboardBody").as_string()).as_object();
      for (const json::value& w : body.at("widgets").as_array()) {
        for (const json::value& line : w.at("properties").at("metrics").as_array()) {
          const json::array& a = line.as_array();
          if (a.at(1).as_string() == "CacheHitRate") {
            EXPECT_EQ(a.at(2).as_string(), "Tier");
            tiers.emplace_back(a.at(3).as_string());
          }
        }
      }
    }
    return tiers;
  };
  auto alarm_tier = [](const json::object& config) -> std::string {
    for (const json::value& a : config.at("Alarms").as_array()) {
      if (a.at("AlarmName").as_string() != "hasivu-cache-hit-rate") continue;
      const json::array& dims = a.at("Dimensions").as_array();
      EXPECT_EQ(dims.size(), 1u);
      return std::string(dims.at(0).at("Value").as_string());
    }
    return "";
  };
  CloudWatchConfigOptions o;
  o.dimensions = ServerDimensionsFor(true, "memory");
  json::object config = Config(o);
  EXPECT_EQ(hit_rate_widget(config), (std::vector<std::string>{"memory"}));
  EXPECT_EQ(alarm_tier(config), "memory");
  o.dimensions = ServerDimensionsFor(true, "redis://127.0.0.1:6379/0");
  config = Config(o);
  EXPECT_EQ(hit_rate_widget(config), (std::vector<std::string>{"l1", "l2", "all"}));
  EXPECT_EQ(alarm_tier(config), "all");
}

// `serve` and `cloudwatch-config` given the same alarm flags (each registered by AddAlarmFlags,
// as main.cc does) and the server's store and cache: the alarms printed are the ones the server
// evaluates (ServerAlarms, what RunServe hands the AlarmSet), field by field.
TEST(CloudWatchConfigTest, TheSameFlagsGiveTheServersAlarms) {
  ASSERT_TRUE(InitCrypto().ok());  // Resolve draws a development JWT secret
  const std::vector<std::string> flags = {
      "--alarm-period",         "300", "--alarm-cold-start-ms", "2000", "--alarm-db-p95-ms", "50",
      "--alarm-cache-hit-rate", "80",  "--alarm-api-p95-ms",    "250",  "--alarm-5xx-rate",  "0.5",
      "--alarm-datapoints=2/3"};
  auto parse = [&](AlarmFlags& target) {
    CLI::App command;
    AddAlarmFlags(command, target);
    std::vector<std::string> args(flags.rbegin(), flags.rend());  // CLI11 takes them last first
    command.parse(args);
  };
  for (const char* store : {"sqlite:/tmp/hasivu.db", "postgresql://hasivu@127.0.0.1/hasivu"}) {
    for (const char* cache : {"memory", "redis://127.0.0.1:6379/0", "none"}) {
      SCOPED_TRACE(std::string(store) + " " + cache);
      app::Config serve;  // `serve`'s flags (Config alone is this file's helper)
      serve.store = store;
      serve.cache = cache;
      parse(serve.alarms);
      CloudWatchConfigCommand cw;
      cw.store = store;
      cw.cache = cache;
      parse(cw.alarms);

      const StatusOr<ResolvedConfig> resolved = Resolve(serve, 2);
      ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
      const std::vector<metrics::AlarmDefinition> evaluated = ServerAlarms(*resolved);
      const StatusOr<CloudWatchConfigOptions> options = ResolveCloudWatchConfig(cw);
      ASSERT_TRUE(options.ok()) << options.status().ToString();
      const json::array printed = Config(*options).at("Alarms").as_array();

      ASSERT_EQ(printed.size(), evaluated.size());
      for (size_t i = 0; i < evaluated.size(); ++i) {
        const metrics::AlarmDefinition& e = evaluated[i];
        const json::object& p = printed[i].as_object();
        EXPECT_EQ(p.at("AlarmName").as_string(), e.name);
        EXPECT_EQ(p.at("MetricName").as_string(), e.metric.name);
        json::array dims;
        for (const auto& [name, value] : e.dimensions) {
          dims.emplace_back(json::object{{"Name", name}, {"Value", value}});
        }
        EXPECT_EQ(p.at("Dimensions"), dims) << e.name;
        const char* stat = e.statistic.extended() ? "ExtendedStatistic" : "Statistic";
        EXPECT_EQ(p.at(stat).as_string(), e.statistic.Name()) << e.name;
        EXPECT_EQ(p.at("Period").as_int64(), e.period_seconds) << e.name;
        EXPECT_EQ(p.at("EvaluationPeriods").as_int64(), e.evaluation_periods) << e.name;
        EXPECT_EQ(p.at("DatapointsToAlarm").as_int64(), e.datapoints_to_alarm) << e.name;
        EXPECT_EQ(json::value_to<double>(p.at("Threshold")), e.threshold) << e.name;
        EXPECT_EQ(p.at("ComparisonOperator").as_string(),
                  metrics::ComparisonOperatorName(e.comparison));
        EXPECT_EQ(p.at("TreatMissingData").as_string(),
                  metrics::TreatMissingDataName(e.treat_missing_data));
      }
      // And the flags took effect (not both sides ignoring them).
      for (const metrics::AlarmDefinition& e : evaluated) {
        EXPECT_EQ(e.period_seconds, 300) << e.name;
        if (e.name == "hasivu-cold-start") {
          EXPECT_EQ(e.threshold, 2000);
          EXPECT_EQ(e.datapoints_to_alarm, 1);
        } else {
          EXPECT_EQ(e.datapoints_to_alarm, 2) << e.name;
          EXPECT_EQ(e.evaluation_periods, 3) << e.name;
        }
        if (e.name == "hasivu-db-read-p95") {
          EXPECT_EQ(e.threshold, 50);
        }
        if (e.name == "hasivu-cache-hit-rate") {
          EXPECT_EQ(e.threshold, 80);
        }
        if (e.name == "hasivu-api-orders-list-p95") {
          EXPECT_EQ(e.threshold, 250);
        }
        if (e.name == "hasivu-5xx-rate") {
          EXPECT_EQ(e.threshold, 0.5);
        }
      }
    }
  }
}

TEST(CloudWatchConfigTest, InvalidFlagsNameTheFlag) {
  auto error = [](void (*mutate)(CloudWatchConfigCommand&)) {
    CloudWatchConfigCommand c;
    mutate(c);
    const StatusOr<CloudWatchConfigOptions> o = ResolveCloudWatchConfig(c);
    return o.ok() ? std::string("ok") : o.status().message();
  };
  EXPECT_EQ(error([](CloudWatchConfigCommand&) {}), "ok");
  EXPECT_EQ(error([](CloudWatchConfigCommand& c) { c.store = "mysql"; }).rfind("--store", 0), 0u);
  EXPECT_EQ(error([](CloudWatchConfigCommand& c) { c.cache = "memcached"; }).rfind("--cache", 0),
            0u);
  EXPECT_EQ(error([](CloudWatchConfigCommand& c) {
              c.alarms.period_seconds = 45;
            }).rfind("--alarm-period", 0),
            0u);
  EXPECT_EQ(error([](CloudWatchConfigCommand& c) {
              c.alarms.cache_hit_rate = 150;
            }).rfind("--alarm-cache-hit-rate", 0),
            0u);
  EXPECT_EQ(error([](CloudWatchConfigCommand& c) {
              c.alarms.datapoints = "6/5";
            }).rfind("--alarm-datapoints", 0),
            0u);
}

TEST(CloudWatchConfigTest, ServerDimensions) {
  const metrics::ServerDimensions memory = ServerDimensionsFor(true, "memory");
  EXPECT_EQ(memory.functions.size(), 10u);
  EXPECT_EQ(memory.store, "sqlite");
  EXPECT_EQ(memory.cache_tiers, (std::vector<std::string>{"memory"}));
  EXPECT_EQ(memory.HitRateTiers(), (std::vector<std::string>{"memory"}));
  const metrics::ServerDimensions redis = ServerDimensionsFor(false, "redis://h:6379/0");
  EXPECT_EQ(redis.store, "postgres");
  EXPECT_EQ(redis.cache_tiers, (std::vector<std::string>{"l1", "l2"}));
  EXPECT_EQ(redis.HitRateTiers(), (std::vector<std::string>{"l1", "l2", "all"}));
  EXPECT_EQ(ServerDimensionsFor(true, "redis").cache_tiers, redis.cache_tiers);
  EXPECT_TRUE(ServerDimensionsFor(true, "none").cache_tiers.empty());
  // No cache: no cache dashboard, no hit-rate alarm.
  CloudWatchConfigOptions o;
  o.dimensions = ServerDimensionsFor(true, "none");
  const json::object config = Config(o);
  for (const json::value& d : config.at("Dashboards").as_array()) {
    EXPECT_NE(d.at("DashboardName").as_string(), "hasivu-cache");
  }
  for (const json::value& a : config.at("Alarms").as_array()) {
    EXPECT_NE(a.at("AlarmName").as_string(), "hasivu-cache-hit-rate");
  }
}

}  // namespace
}  // namespace hasivu::app
