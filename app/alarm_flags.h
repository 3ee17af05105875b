// The knobs of the default alarms (metrics::DefaultAlarms) as command-line flags. `serve` and
// `hasivu cloudwatch-config` both take them, registered by the one AddAlarmFlags below with the
// same names and HASIVU_* variables and resolved by the one ResolveAlarmFlags, so the alarms
// cloudwatch-config prints for some flags are exactly the ones a server given those flags
// evaluates.
//
//   --alarm-period S         HASIVU_ALARM_PERIOD          every alarm's period (10, 30, n x 60)
//   --alarm-cold-start-ms T  HASIVU_ALARM_COLD_START_MS   cold start above T ms
//   --alarm-db-p95-ms T      HASIVU_ALARM_DB_P95_MS       database p95 (reads, writes) above T ms
//   --alarm-cache-hit-rate P HASIVU_ALARM_CACHE_HIT_RATE  cache hit rate below P %
//   --alarm-api-p95-ms T     HASIVU_ALARM_API_P95_MS      each function's p95 above T ms
//   --alarm-5xx-rate P       HASIVU_ALARM_5XX_RATE        5xx share of requests above P %
//   --alarm-datapoints M/N   HASIVU_ALARM_DATAPOINTS      M of N periods breaching raise the
//                                                         database, cache, API and 5xx alarms
// The cold-start alarm stays 1 of 1: a process reports its cold start once.
#ifndef HASIVU_APP_ALARM_FLAGS_H_
#define HASIVU_APP_ALARM_FLAGS_H_

#include <string>

#include "common/status.h"
#include "metrics/alarms.h"

namespace CLI {
class App;
}  // namespace CLI

namespace hasivu::app {

// Defaults: metrics::DefaultAlarmSettings's (the seed's thresholds, 3 of 5, 60 s).
struct AlarmFlags {
  int period_seconds = 60;         // --alarm-period
  double cold_start_ms = 1000;     // --alarm-cold-start-ms: > 0
  double db_p95_ms = 100;          // --alarm-db-p95-ms: > 0
  double cache_hit_rate = 70;      // --alarm-cache-hit-rate: percent, 0 to 100
  double api_p95_ms = 300;         // --alarm-api-p95-ms: > 0
  double error_rate = 0.1;         // --alarm-5xx-rate: percent, 0 to 100
  std::string datapoints = "3/5";  // --alarm-datapoints: "M/N", 1 <= M <= N
};

// The DefaultAlarmSettings `flags` give. Errors (kInvalidArgument, one line, starting with the
// flag's name): a threshold that is not finite or out of its range, a malformed M/N or M outside
// 1..N, and whatever metrics::ValidateAlarm refuses in the default alarms (a period that is not
// 10, 30 or a multiple of 60; N x period over a day, named "--alarm-period/--alarm-datapoints").
StatusOr<metrics::DefaultAlarmSettings> ResolveAlarmFlags(const AlarmFlags& flags);

// Adds the flags above to `command`, each with its HASIVU_* variable and default shown.
void AddAlarmFlags(CLI::App& command, AlarmFlags& flags);

}  // namespace hasivu::app

#endif  // HASIVU_APP_ALARM_FLAGS_H_
