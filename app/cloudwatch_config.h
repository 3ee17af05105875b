// `hasivu cloudwatch-config`: the CloudWatch side of the monitoring, as JSON ready for the AWS
// CLI: the seed's four dashboards (runtime, database, cache, API) in `put-dashboard` input shape
// and the alarms in `put-metric-alarm` input shape. Built from metrics/catalog.h (names, units,
// dimensions) and metrics::DefaultAlarms, the same definitions the server evaluates in-process,
// for the dimension values the server records, so every series a dashboard or alarm names is one
// the EMF exporter writes with exactly those dimensions (cloudwatch_config_test.cc checks it).
//
// Output: {"Region": ..., "Namespace": "HASIVU/Performance",
//          "Dashboards": [{"DashboardName": ..., "DashboardBody": "<JSON string>"}, ...],
//          "Alarms": [{"AlarmName": ..., "Namespace": ..., "MetricName": ..., ...}, ...]}
// e.g.  hasivu cloudwatch-config | jq -c '.Dashboards[]' | while read -r d; do
//         aws cloudwatch put-dashboard --cli-input-json "$d"; done
//       hasivu cloudwatch-config | jq -c '.Alarms[]' | while read -r a; do
//         aws cloudwatch put-metric-alarm --region ap-south-1 --cli-input-json "$a"; done
#ifndef HASIVU_APP_CLOUDWATCH_CONFIG_H_
#define HASIVU_APP_CLOUDWATCH_CONFIG_H_

#include <string>
#include <string_view>
#include <vector>

#include "app/alarm_flags.h"
#include "app/config.h"
#include "common/status.h"
#include "metrics/alarms.h"

namespace hasivu::app {

// The dimension values a server with this store and cache records: Function = the ten functions
// (domain::TenFunctions), Store = "sqlite" | "postgres", QueryKind = "read", "write", Tier =
// "memory" alone (`cache` "memory"), "l1" in front of "l2" ("redis" or a redis:// URL; the
// hit rate also has Tier "all", see ServerDimensions::HitRateTiers), or none ("none": no
// lookups). `serve` builds its alarms from the same values.
metrics::ServerDimensions ServerDimensionsFor(bool store_is_sqlite, std::string_view cache);

struct CloudWatchConfigOptions {
  std::string region = "ap-south-1";  // the original platform's region
  metrics::ServerDimensions dimensions = ServerDimensionsFor(true, "memory");
  metrics::DefaultAlarmSettings alarms;
  int dashboard_period_seconds = 60;  // each widget's period
};

// The document described above, pretty enough to read (one member per line is left to jq).
std::string CloudWatchConfigJson(const CloudWatchConfigOptions& options);

// The alarms `serve` evaluates with `config`: metrics::DefaultAlarms(config.alarms,
// ServerDimensionsFor(config.store_is_sqlite, config.cache_url)).
std::vector<metrics::AlarmDefinition> ServerAlarms(const ResolvedConfig& config);

// The flags of `hasivu cloudwatch-config`.
struct CloudWatchConfigCommand {
  std::string store = "sqlite";  // --store sqlite|postgres (or a store URL of either)
  std::string cache = "memory";  // --cache memory|redis|none (or a redis:// URL)
  std::string region = "ap-south-1";
  std::vector<std::string> functions;  // --function, repeatable; empty: the ten
  // --alarm-period, --alarm-cold-start-ms, ... --alarm-datapoints: the flags (and HASIVU_*
  // variables) `serve` takes, so the same ones give the alarms that server evaluates.
  AlarmFlags alarms;
};

// The options `command` gives. Errors (kInvalidArgument, one line naming the flag): a store or
// cache of another kind, an empty region, and what ResolveAlarmFlags refuses.
StatusOr<CloudWatchConfigOptions> ResolveCloudWatchConfig(const CloudWatchConfigCommand& command);

// Prints CloudWatchConfigJson to stdout. Exit 2 (one line on stderr) for an invalid flag.
int RunCloudWatchConfig(const CloudWatchConfigCommand& command);

}  // namespace hasivu::app

#endif  // HASIVU_APP_CLOUDWATCH_CONFIG_H_
