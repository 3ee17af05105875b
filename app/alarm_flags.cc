#include "app/alarm_flags.h"

#include <CLI/CLI.hpp>
#include <charconv>
#include <cmath>
#include <string_view>

namespace hasivu::app {
namespace {

// "M/N" with 1 <= M <= N <= 100 (CloudWatch's own bound on a day of periods is checked by
// ValidateAlarm with the period).
bool ParseMOfN(std::string_view text, int* m, int* n) {
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) return false;
  auto parse = [](std::string_view s, int* out) {
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
    return !s.empty() && ec == std::errc() && ptr == s.data() + s.size();
  };
  return parse(text.substr(0, slash), m) && parse(text.substr(slash + 1), n) && *m >= 1 &&
         *m <= *n && *n <= 100;
}

}  // namespace

StatusOr<metrics::DefaultAlarmSettings> ResolveAlarmFlags(const AlarmFlags& f) {
  metrics::DefaultAlarmSettings s;
  struct Threshold {
    const char* flag;
    double value;
    bool percent;  // 0 to 100; else a duration in ms, > 0
    metrics::AlarmRule* rule;
  };
  for (const Threshold& t :
       {Threshold{"--alarm-cold-start-ms", f.cold_start_ms, false, &s.cold_start},
        Threshold{"--alarm-db-p95-ms", f.db_p95_ms, false, &s.database_p95},
        Threshold{"--alarm-cache-hit-rate", f.cache_hit_rate, true, &s.cache_hit_rate},
        Threshold{"--alarm-api-p95-ms", f.api_p95_ms, false, &s.api_p95},
        Threshold{"--alarm-5xx-rate", f.error_rate, true, &s.error_rate}}) {
    const bool ok =
        std::isfinite(t.value) && (t.percent ? t.value >= 0 && t.value <= 100 : t.value > 0);
    if (!ok) {
      return InvalidArgumentError(std::string(t.flag) +
                                  (t.percent ? ": must be a percentage, 0 to 100"
                                             : ": must be a number of milliseconds above 0"));
    }
    t.rule->threshold = t.value;
  }
  int m = 0, n = 0;
  if (!ParseMOfN(f.datapoints, &m, &n)) {
    return InvalidArgumentError("--alarm-datapoints: expected M/N with 1 <= M <= N <= 100, got '" +
                                f.datapoints.substr(0, 20) + "'");
  }
  for (metrics::AlarmRule* r : {&s.database_p95, &s.cache_hit_rate, &s.api_p95, &s.error_rate}) {
    r->datapoints_to_alarm = m;
    r->evaluation_periods = n;
  }
  s.SetPeriod(f.period_seconds);
  // The alarms' own rules (CloudWatch's periods, N x period within a day) decide the rest. One of
  // each kind of default alarm is checked (a function and a cache tier, so none is left out).
  metrics::ServerDimensions one_of_each;
  one_of_each.functions = {"orders-list"};
  for (const metrics::AlarmDefinition& a : metrics::DefaultAlarms(s, one_of_each)) {
    const Status valid = metrics::ValidateAlarm(a);
    if (valid.ok()) continue;
    // The cold-start alarm is 1 of 1 whatever the flags: only its period can be wrong.
    const bool period_alone = a.metric.name == metrics::catalog::kColdStartDuration.name;
    return InvalidArgumentError(
        std::string(period_alone ? "--alarm-period: " : "--alarm-period/--alarm-datapoints: ") +
        valid.message());
  }
  return s;
}

void AddAlarmFlags(CLI::App& command, AlarmFlags& flags) {
  command
      .add_option("--alarm-period", flags.period_seconds,
                  "Period of the alarms in seconds (10, 30 or a multiple of 60)")
      ->envname("HASIVU_ALARM_PERIOD")
      ->capture_default_str();
  command
      .add_option("--alarm-cold-start-ms", flags.cold_start_ms,
                  "Cold-start alarm: exec to ready plus the first request above this many ms")
      ->envname("HASIVU_ALARM_COLD_START_MS")
      ->capture_default_str();
  command
      .add_option("--alarm-db-p95-ms", flags.db_p95_ms,
                  "Database alarms: query p95 (reads, writes) above this many ms")
      ->envname("HASIVU_ALARM_DB_P95_MS")
      ->capture_default_str();
  command
      .add_option("--alarm-cache-hit-rate", flags.cache_hit_rate,
                  "Cache alarm: hit rate of the whole cache below this percentage")
      ->envname("HASIVU_ALARM_CACHE_HIT_RATE")
      ->capture_default_str();
  command
      .add_option("--alarm-api-p95-ms", flags.api_p95_ms,
                  "API alarms: each function's p95 latency above this many ms")
      ->envname("HASIVU_ALARM_API_P95_MS")
      ->capture_default_str();
  command
      .add_option("--alarm-5xx-rate", flags.error_rate,
                  "5xx alarm: share of the ten functions' requests above this percentage")
      ->envname("HASIVU_ALARM_5XX_RATE")
      ->capture_default_str();
  command
      .add_option("--alarm-datapoints", flags.datapoints,
                  "M/N: M of the last N periods breaching raise the database, cache, API and "
                  "5xx alarms")
      ->envname("HASIVU_ALARM_DATAPOINTS")
      ->capture_default_str();
}

}  // namespace hasivu::app
