#include "app/cloudwatch_config.h"

#include <boost/json.hpp>
#include <cmath>
#include <cstdio>
#include <optional>
#include <string_view>

#include "domain/monitoring_service.h"
#include "metrics/catalog.h"

namespace hasivu::app {
namespace {

namespace json = boost::json;
namespace catalog = metrics::catalog;

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// 1000 rather than Boost.JSON's 1E3 for a whole number (both are JSON; people read these).
json::value Number(double v) {
  if (std::nearbyint(v) == v && std::fabs(v) < 9007199254740992.0) return int64_t(v);
  return v;
}

// One line of a metric widget: [namespace, metric, dim, value, ..., {options}].
json::array MetricLine(const catalog::MetricDef& metric, const metrics::Dimensions& dims,
                       std::string_view stat, std::string label = "", bool right_axis = false) {
  json::array line{catalog::kNamespace, metric.name};
  for (const auto& [name, value] : dims) {
    line.emplace_back(name);
    line.emplace_back(value);
  }
  json::object options{{"stat", stat}};
  if (!label.empty()) options["label"] = label;
  if (right_axis) options["yAxis"] = "right";
  line.emplace_back(std::move(options));
  return line;
}

// A horizontal line at an alarm's threshold.
json::object Threshold(const metrics::AlarmDefinition& alarm) {
  return json::object{{"label", alarm.name}, {"value", Number(alarm.threshold)}};
}

class Dashboard {
 public:
  Dashboard(const CloudWatchConfigOptions& o) : options_(o) {}

  // A 12-wide, 6-high metric widget, two per row.
  void Add(std::string title, json::array lines, std::string_view stat,
           std::vector<const metrics::AlarmDefinition*> alarms = {}, int width = 12) {
    if (lines.empty()) return;  // e.g. no cache tier: CloudWatch refuses a widget without metrics
    if (x_ + width > 24) {
      x_ = 0;
      y_ += 6;
    }
    json::object properties{{"metrics", std::move(lines)},
                            {"view", "timeSeries"},
                            {"stacked", false},
                            {"stat", stat},
                            {"period", options_.dashboard_period_seconds},
                            {"region", options_.region},
                            {"title", std::move(title)}};
    json::array horizontal;
    for (const metrics::AlarmDefinition* a : alarms) {
      if (a != nullptr) horizontal.emplace_back(Threshold(*a));
    }
    if (!horizontal.empty()) {
      properties["annotations"] = json::object{{"horizontal", std::move(horizontal)}};
    }
    widgets_.emplace_back(json::object{{"type", "metric"},
                                       {"x", x_},
                                       {"y", y_},
                                       {"width", width},
                                       {"height", 6},
                                       {"properties", std::move(properties)}});
    x_ += width;
  }

  bool empty() const { return widgets_.empty(); }
  json::object Put(std::string name) const {
    return json::object{{"DashboardName", std::move(name)},
                        {"DashboardBody", json::serialize(json::object{{"widgets", widgets_}})}};
  }

 private:
  const CloudWatchConfigOptions& options_;
  json::array widgets_;
  int x_ = 0, y_ = 0;
};

json::object PutMetricAlarm(const metrics::AlarmDefinition& a) {
  json::array dims;
  for (const auto& [name, value] : a.dimensions) {
    dims.emplace_back(json::object{{"Name", name}, {"Value", value}});
  }
  json::object o{{"AlarmName", a.name},
                 {"AlarmDescription", a.description},
                 {"Namespace", catalog::kNamespace},
                 {"MetricName", a.metric.name},
                 {"Dimensions", std::move(dims)}};
  if (a.statistic.extended()) {
    o["ExtendedStatistic"] = a.statistic.Name();
  } else {
    o["Statistic"] = a.statistic.Name();
  }
  o["Period"] = a.period_seconds;
  o["EvaluationPeriods"] = a.evaluation_periods;
  o["DatapointsToAlarm"] = a.datapoints_to_alarm;
  o["Threshold"] = Number(a.threshold);
  o["ComparisonOperator"] = metrics::ComparisonOperatorName(a.comparison);
  o["TreatMissingData"] = metrics::TreatMissingDataName(a.treat_missing_data);
  return o;
}

// Pretty printing: one member per line, two-space indents (the AWS CLI reads any JSON).
void Pretty(std::string& out, const json::value& v, int indent) {
  const std::string pad(indent, ' ');
  const std::string inner(indent + 2, ' ');
  if (v.is_object() && !v.as_object().empty()) {
    out += "{\n";
    bool first = true;
    for (const auto& m : v.as_object()) {
      if (!first) out += ",\n";
      first = false;
      out += inner + json::serialize(json::value(m.key())) + ": ";
      Pretty(out, m.value(), indent + 2);
    }
    out += "\n" + pad + "}";
  } else if (v.is_array() && !v.as_array().empty()) {
    out += "[\n";
    bool first = true;
    for (const json::value& e : v.as_array()) {
      if (!first) out += ",\n";
      first = false;
      out += inner;
      Pretty(out, e, indent + 2);
    }
    out += "\n" + pad + "]";
  } else {
    out += json::serialize(v);
  }
}

}  // namespace

metrics::ServerDimensions ServerDimensionsFor(bool store_is_sqlite, std::string_view cache) {
  metrics::ServerDimensions d;
  for (const domain::MonitoredFunction& f : domain::TenFunctions()) d.functions.push_back(f.name);
  d.store = store_is_sqlite ? "sqlite" : "postgres";
  if (cache == "none") {
    d.cache_tiers.clear();
  } else if (cache == "redis" || StartsWith(cache, "redis://") || StartsWith(cache, "rediss://")) {
    d.cache_tiers = {"l1", "l2"};  // cache::NewTieredCache names its tiers so
  } else {
    d.cache_tiers = {"memory"};
  }
  d.query_kinds = {"read", "write"};
  return d;
}

std::string CloudWatchConfigJson(const CloudWatchConfigOptions& o) {
  const metrics::ServerDimensions& d = o.dimensions;
  const std::vector<metrics::AlarmDefinition> alarms = metrics::DefaultAlarms(o.alarms, d);
  auto alarm = [&](std::string_view name) -> const metrics::AlarmDefinition* {
    for (const metrics::AlarmDefinition& a : alarms) {
      if (a.name == name) return &a;
    }
    return nullptr;
  };
  const metrics::Dimensions store{{"Store", d.store}};
  json::array dashboards;

  // Runtime: cold start (and its parts), warm latency, requests, RSS.
  {
    Dashboard db(o);
    db.Add("Cold start (ms): exec to ready + first request",
           {MetricLine(catalog::kColdStartDuration, store, "Maximum", "cold start"),
            MetricLine(catalog::kColdStartInit, store, "Maximum", "exec to listening"),
            MetricLine(catalog::kColdStartFirstRequest, store, "Maximum", "first request")},
           "Maximum", {alarm("hasivu-cold-start")});
    json::array warm, requests;
    for (const std::string& f : d.functions) {
      warm.emplace_back(MetricLine(catalog::kApiLatency, {{"Function", f}}, "p95", f));
      requests.emplace_back(MetricLine(catalog::kApiRequests, {{"Function", f}}, "Sum", f));
    }
    db.Add("Warm latency p95 (ms)", std::move(warm), "p95");
    db.Add("Requests", std::move(requests), "Sum");
    db.Add("Resident memory (bytes)", {MetricLine(catalog::kMemoryRss, {}, "Maximum", "RSS")},
           "Maximum");
    dashboards.emplace_back(db.Put("hasivu-runtime"));
  }
  // Database: query p50/p95 per kind, slow queries, pool.
  {
    Dashboard db(o);
    json::array latency, slow;
    std::vector<const metrics::AlarmDefinition*> thresholds;
    for (const std::string& k : d.query_kinds) {
      const metrics::Dimensions kind{{"QueryKind", k}};
      latency.emplace_back(MetricLine(catalog::kDatabaseQueryDuration, kind, "p50", k + " p50"));
      latency.emplace_back(MetricLine(catalog::kDatabaseQueryDuration, kind, "p95", k + " p95"));
      slow.emplace_back(MetricLine(catalog::kDatabaseSlowQueries, kind, "Sum", k));
      thresholds.push_back(alarm("hasivu-db-" + k + "-p95"));
    }
    // Both kinds' alarms share one threshold: one line is enough.
    thresholds.resize(std::min<size_t>(thresholds.size(), 1));
    db.Add("Query duration p50 / p95 (ms)", std::move(latency), "p95", thresholds);
    db.Add("Slow queries", std::move(slow), "Sum");
    db.Add("Connection pool",
           {MetricLine(catalog::kDatabasePoolInUse, {}, "Maximum", "in use"),
            MetricLine(catalog::kDatabasePoolSize, {}, "Maximum", "open")},
           "Maximum");
    dashboards.emplace_back(db.Put("hasivu-database"));
  }
  // Cache: hit rate per tier, errors, evictions.
  {
    Dashboard db(o);
    json::array hit, errors, evictions;
    for (const std::string& t : d.HitRateTiers()) {
      const std::string label = t == catalog::kAllTiers ? "all tiers" : t;
      hit.emplace_back(MetricLine(catalog::kCacheHitRate, {{"Tier", t}}, "Average", label));
    }
    for (const std::string& t : d.cache_tiers) {
      const metrics::Dimensions tier{{"Tier", t}};
      errors.emplace_back(MetricLine(catalog::kCacheErrors, tier, "Sum", t));
      evictions.emplace_back(MetricLine(catalog::kCacheEvictions, tier, "Sum", t));
    }
    db.Add("Hit rate per tier (%)", std::move(hit), "Average", {alarm("hasivu-cache-hit-rate")});
    db.Add("Errors", std::move(errors), "Sum");
    db.Add("Evictions", std::move(evictions), "Sum");
    if (!db.empty()) dashboards.emplace_back(db.Put("hasivu-cache"));
  }
  // API: p50/p95/p99 and 5xx per function, and the 5xx rate.
  {
    Dashboard db(o);
    db.Add("5xx rate of the ten functions (%)",
           {MetricLine(catalog::kApiErrorRate, {}, "Average", "5xx rate")}, "Average",
           {alarm("hasivu-5xx-rate")}, 24);
    for (const std::string& f : d.functions) {
      const metrics::Dimensions fn{{"Function", f}};
      db.Add(f + ": latency (ms) and 5xx",
             {MetricLine(catalog::kApiLatency, fn, "p50", "p50"),
              MetricLine(catalog::kApiLatency, fn, "p95", "p95"),
              MetricLine(catalog::kApiLatency, fn, "p99", "p99"),
              MetricLine(catalog::kApiServerErrors, fn, "Sum", "5xx", /*right_axis=*/true)},
             "p95", {alarm("hasivu-api-" + f + "-p95")});
    }
    dashboards.emplace_back(db.Put("hasivu-api"));
  }

  json::array put_alarms;
  for (const metrics::AlarmDefinition& a : alarms) put_alarms.emplace_back(PutMetricAlarm(a));
  const json::value doc = json::object{{"Region", o.region},
                                       {"Namespace", catalog::kNamespace},
                                       {"Dashboards", std::move(dashboards)},
                                       {"Alarms", std::move(put_alarms)}};
  std::string out;
  Pretty(out, doc, 0);
  out += "\n";
  return out;
}

std::vector<metrics::AlarmDefinition> ServerAlarms(const ResolvedConfig& config) {
  return metrics::DefaultAlarms(config.alarms,
                                ServerDimensionsFor(config.store_is_sqlite, config.cache_url));
}

StatusOr<CloudWatchConfigOptions> ResolveCloudWatchConfig(const CloudWatchConfigCommand& c) {
  std::optional<bool> sqlite;
  if (c.store == "sqlite" || StartsWith(c.store, "sqlite:")) sqlite = true;
  if (c.store == "postgres" || c.store == "postgresql" || StartsWith(c.store, "postgres://") ||
      StartsWith(c.store, "postgresql://")) {
    sqlite = false;
  }
  if (!sqlite) return InvalidArgumentError("--store: expected sqlite or postgres");
  const bool cache_ok = c.cache == "memory" || c.cache == "none" || c.cache == "redis" ||
                        StartsWith(c.cache, "redis://") || StartsWith(c.cache, "rediss://");
  if (!cache_ok) return InvalidArgumentError("--cache: expected memory, redis or none");
  if (c.region.empty()) return InvalidArgumentError("--region: must not be empty");
  CloudWatchConfigOptions o;
  o.region = c.region;
  o.dimensions = ServerDimensionsFor(*sqlite, c.cache);
  if (!c.functions.empty()) o.dimensions.functions = c.functions;
  ASSIGN_OR_RETURN(o.alarms, ResolveAlarmFlags(c.alarms));
  for (const metrics::AlarmDefinition& a : metrics::DefaultAlarms(o.alarms, o.dimensions)) {
    const Status s = metrics::ValidateAlarm(a);
    if (!s.ok()) return InvalidArgumentError("--function: " + s.message());
  }
  return o;
}

int RunCloudWatchConfig(const CloudWatchConfigCommand& c) {
  StatusOr<CloudWatchConfigOptions> o = ResolveCloudWatchConfig(c);
  if (!o.ok()) {
    std::fprintf(stderr, "hasivu: error: %s\n", o.status().message().c_str());
    return 2;
  }
  const std::string out = CloudWatchConfigJson(*o);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return std::fflush(stdout) == 0 ? 0 : 1;
}

}  // namespace hasivu::app
