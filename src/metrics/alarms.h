// Alarms evaluated in-process with CloudWatch's semantics (PutMetricAlarm): the seed's thresholds
// (cold start > 1 s, database p95 > 100 ms, cache hit rate < 70 %, API p95 > 300 ms) plus the
// 5xx rate > 0.1 %, on exactly the series (metric name + dimensions) the EMF exporter writes, so
// `hasivu cloudwatch-config` can hand the same AlarmDefinitions to CloudWatch.
//
// Pieces, each usable alone:
//   AlarmDefinition  what PutMetricAlarm takes (metric, exact dimensions, statistic, period,
//                    evaluation periods N, datapoints to alarm M, threshold, operator, missing
//                    data treatment); ValidateAlarm checks it as CloudWatch would.
//   DatapointOf      pure: the statistic of one period from the series' IntervalData.
//   AlarmEvaluator   the state machine, fed one datapoint per period with its end time.
//   AlarmSet         the evaluators of a set of alarms, fed the series of each tick, rendering
//                    Prometheus gauges; AlarmScheduler ticks it from a collect function.
//   DefaultAlarms    the seed's alarm set for the server's dimension values.
//
// Evaluation (CloudWatch's "How alarm state is evaluated when data is missing"): each evaluation
// looks at the most recent `evaluation range` datapoints (more than N: the documentation's
// example retrieves 5 for N = 3; here N + 2 unless set). With at least N real datapoints in the
// range, the most recent N decide (ALARM when at least M breach, else OK) and the missing-data
// treatment is not used. With none, the treatment decides: missing -> INSUFFICIENT_DATA,
// ignore -> the state is kept, breaching -> ALARM, notBreaching -> OK. With some but fewer than
// N, all of them are used and N minus their number missing datapoints are filled in:
// breaching/notBreaching fill breaching/non-breaching points; missing and ignore fill none,
// giving ALARM when M real points breach, OK when a real point does not breach, and otherwise
// (only breaching points, fewer than M) INSUFFICIENT_DATA (missing) or the state kept (ignore).
// This reproduces every row of the documentation's two example tables but one: "X - - - -"
// (3 of 3, missing), which the documentation gives as ALARM and which is INSUFFICIENT_DATA here,
// as its mirror "- - - - X" is there (the documentation's own reason, "the oldest evaluated
// datapoint is breaching", is not a rule its other rows follow).
//
// Thread-safety: AlarmEvaluator is not thread-safe. AlarmSet and AlarmScheduler are.
#ifndef HASIVU_METRICS_ALARMS_H_
#define HASIVU_METRICS_ALARMS_H_

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "metrics/catalog.h"
#include "metrics/metrics.h"
#include "metrics/periodic.h"
#include "metrics/series.h"

namespace hasivu::metrics {

enum class AlarmState { kOk, kAlarm, kInsufficientData };
// "OK", "ALARM", "INSUFFICIENT_DATA" (CloudWatch's StateValue).
std::string_view AlarmStateName(AlarmState state);

enum class ComparisonOperator {
  kGreaterThanThreshold,
  kGreaterThanOrEqualToThreshold,
  kLessThanThreshold,
  kLessThanOrEqualToThreshold,
};
// "GreaterThanThreshold", ... (PutMetricAlarm's ComparisonOperator).
std::string_view ComparisonOperatorName(ComparisonOperator op);

enum class TreatMissingData { kMissing, kNotBreaching, kBreaching, kIgnore };
// "missing", "notBreaching", "breaching", "ignore".
std::string_view TreatMissingDataName(TreatMissingData treatment);

struct Statistic {
  enum class Kind { kSampleCount, kSum, kMinimum, kMaximum, kAverage, kPercentile };
  Kind kind = Kind::kAverage;
  double percentile = 0;  // kPercentile only: 95 for p95; 0 < percentile <= 100

  static Statistic Of(Kind kind) { return {kind, 0}; }
  static Statistic Percentile(double p) { return {Kind::kPercentile, p}; }
  // PutMetricAlarm's ExtendedStatistic (a percentile) rather than Statistic.
  bool extended() const { return kind == Kind::kPercentile; }
  // "SampleCount", "Sum", "Minimum", "Maximum", "Average", or "p95", "p99.9".
  std::string Name() const;
};

// What PutMetricAlarm takes, for a metric of catalog::kNamespace.
struct AlarmDefinition {
  std::string name;  // AlarmName: 1-255 printable ASCII characters
  std::string description;
  catalog::MetricDef metric;
  // The series' exact dimensions, one value per dimension name of `metric` (CloudWatch treats a
  // metric with other dimensions, or none, as another series: the original's alarms never fired
  // for that reason).
  Dimensions dimensions;
  Statistic statistic;
  int period_seconds = 60;      // 10, 30 or a multiple of 60
  int evaluation_periods = 1;   // N
  int datapoints_to_alarm = 1;  // M, 1 <= M <= N
  double threshold = 0;         // in the metric's unit
  ComparisonOperator comparison = ComparisonOperator::kGreaterThanThreshold;
  TreatMissingData treat_missing_data = TreatMissingData::kMissing;
};

// OK, or kInvalidArgument naming the alarm and the field: name, dimensions that are not exactly
// the metric's dimension names (each with a non-empty value), period not 10, 30 or a multiple of
// 60, N < 1, M outside 1..N, N * period over one day, a percentile outside (0, 100], a threshold
// that is not finite.
Status ValidateAlarm(const AlarmDefinition& alarm);

// The alarm's statistic over one period, from the IntervalData of the series named by
// alarm.metric.name with exactly alarm.dimensions among `intervals` (several entries of that
// series, e.g. one per tick of a longer period, are combined). What CloudWatch would compute from
// the EMF documents of those intervals: a distribution's statistics are over its observations
// (percentiles by nearest rank via IntervalData::Quantile); a kSum or kLatest series sends one
// value per interval with data, and the statistics are over those values (Sum of a kSum series is
// the period's total, Average of a kLatest level the mean of its samples). nullopt when the
// series has no data in `intervals` (a missing datapoint).
std::optional<double> DatapointOf(const AlarmDefinition& alarm,
                                  const std::vector<SeriesInterval>& intervals);

struct AlarmTransition {
  std::chrono::system_clock::time_point time;  // the end of the period that caused it
  AlarmState from = AlarmState::kInsufficientData;
  AlarmState to = AlarmState::kInsufficientData;
  std::string reason;  // CloudWatch's StateReason style, with the datapoints and the threshold
};

struct AlarmEvaluatorOptions {
  // Datapoints each evaluation looks at (see the overview). 0: evaluation_periods + 2.
  int evaluation_range = 0;
  // Transitions kept in history(); older ones are forgotten. Default: 50.
  size_t max_history = 50;
};

class AlarmEvaluator {
 public:
  // Starts in INSUFFICIENT_DATA since `created`. REQUIRES: ValidateAlarm(alarm).ok().
  AlarmEvaluator(AlarmDefinition alarm, std::chrono::system_clock::time_point created,
                 AlarmEvaluatorOptions options = {});

  // Feeds the datapoint of the period that ended at `period_end` (nullopt: no data) and
  // evaluates. On a change of state, records the transition and logs it once (spdlog: warn when
  // the new state is ALARM, info otherwise). Returns whether the state changed.
  bool Add(std::optional<double> datapoint, std::chrono::system_clock::time_point period_end);

  const AlarmDefinition& definition() const { return alarm_; }
  AlarmState state() const { return state_; }
  // Why the alarm is in its state: the reason of the last transition ("Unchecked: Initial alarm
  // creation" before any).
  const std::string& reason() const { return reason_; }
  // When the alarm entered its state.
  std::chrono::system_clock::time_point since() const { return since_; }
  // The datapoint of the last period fed (nullopt before any, or when it had no data).
  std::optional<double> last_datapoint() const { return last_datapoint_; }
  // Transitions, oldest first, at most options.max_history.
  const std::deque<AlarmTransition>& history() const { return history_; }

 private:
  struct Point {
    std::optional<double> value;
    std::chrono::system_clock::time_point period_end;
  };
  bool Breaches(double v) const;
  void Transition(AlarmState to, std::string reason, std::chrono::system_clock::time_point at);

  const AlarmDefinition alarm_;
  const size_t range_;
  const size_t max_history_;
  std::deque<Point> window_;  // the evaluation range, oldest first
  AlarmState state_ = AlarmState::kInsufficientData;
  std::string reason_;
  std::chrono::system_clock::time_point since_;
  std::optional<double> last_datapoint_;
  std::deque<AlarmTransition> history_;
};

// One alarm as the dashboard shows it.
struct AlarmStatus {
  AlarmDefinition definition;
  AlarmState state = AlarmState::kInsufficientData;
  std::string reason;
  std::chrono::system_clock::time_point since;
  std::optional<double> last_datapoint;
  std::vector<AlarmTransition> history;  // oldest first
};

// The evaluators of a set of alarms. Each tick, Evaluate() gets what every series did during the
// tick; an alarm whose period spans several ticks gathers them and is evaluated on its period's
// last tick. Renders into the Registry:
//   hasivu_alarm_state{alarm="<name>",state="OK"|"ALARM"|"INSUFFICIENT_DATA"}  1 for the current
//                                                                              state, else 0
//   hasivu_alarm_datapoint_milli{alarm="<name>"}  the last period's datapoint x 1000, rounded
//                                                 (the registry's gauges are integers); 0 when
//                                                 that period had no data, or before the first
//                                                 period ends (never a stale value)
//   hasivu_alarm_datapoint_missing{alarm="<name>"}  1 when the last period had no datapoint (or
//                                                   none has ended yet), 0 when it had one; tells
//                                                   a missing datapoint from a real 0
class AlarmSet {
 public:
  // Errors: the first invalid definition (ValidateAlarm), or two alarms of one name.
  static StatusOr<std::unique_ptr<AlarmSet>> Create(std::vector<AlarmDefinition> alarms,
                                                    std::chrono::system_clock::time_point start,
                                                    Registry& registry,
                                                    AlarmEvaluatorOptions options = {});

  // The time between Evaluate() calls: the greatest common divisor of the alarms' periods
  // (60 s for an empty set).
  std::chrono::seconds tick() const { return tick_; }
  // What the series did in the tick that ended at `tick_end`.
  void Evaluate(std::chrono::system_clock::time_point tick_end,
                const std::vector<SeriesInterval>& intervals);
  std::vector<AlarmStatus> Statuses() const;

 private:
  struct Alarm {
    std::unique_ptr<AlarmEvaluator> evaluator;
    std::vector<SeriesInterval> pending;  // this period's matching series so far
    int ticks = 0;                        // ticks of this period so far
    Gauge* state_gauges[3] = {nullptr, nullptr, nullptr};
    Gauge* datapoint_gauge = nullptr;
    Gauge* missing_gauge = nullptr;
  };
  AlarmSet() = default;
  void RenderGauges(Alarm& alarm);

  std::chrono::seconds tick_{60};
  mutable std::mutex mu_;
  std::vector<Alarm> alarms_;  // GUARDED_BY(mu_)
};

// Ticks an AlarmSet: every set.tick(), collects what the series did since the previous tick and
// evaluates at clock.Now(). Ownership: `set`, `clock` and what `collect` reads must outlive it.
class AlarmScheduler {
 public:
  using CollectFn = std::function<std::vector<SeriesInterval>()>;
  // `run_timer` false: only RunNow() ticks (tests).
  AlarmScheduler(AlarmSet& set, CollectFn collect, const Clock& clock, bool run_timer = true);
  ~AlarmScheduler();  // Stop()
  AlarmScheduler(const AlarmScheduler&) = delete;
  AlarmScheduler& operator=(const AlarmScheduler&) = delete;

  // One tick now, in the caller's thread.
  void RunNow();
  // Stops the timer (no further tick) and joins it. Idempotent.
  void Stop();

 private:
  AlarmSet& set_;
  const CollectFn collect_;
  const Clock& clock_;
  std::mutex run_mu_;  // one tick at a time
  std::unique_ptr<PeriodicThread> timer_;
};

// ---- the default alarm set ----------------------------------------------------------------------

// One alarm's knobs (threshold in the metric's unit).
struct AlarmRule {
  double threshold = 0;
  int period_seconds = 60;
  int evaluation_periods = 5;
  int datapoints_to_alarm = 3;
  TreatMissingData treat_missing_data = TreatMissingData::kNotBreaching;
};

// The seed's thresholds. Missing data, alarm by alarm:
//   cold start: reported once per process, so every period after the first has no datapoint.
//     `missing` would take it back to INSUFFICIENT_DATA a few periods later, and notBreaching
//     would clear an ALARM without anything having improved; `ignore` keeps the verdict on the
//     process's cold start until the next one (a restart) is reported. 1 of 1: one slow start is
//     the finding.
//   database p95, API p95, cache hit rate, 5xx rate: a period without queries, requests or
//     lookups has none that were slow, failed or missed, so missing data is notBreaching (an idle
//     function, e.g. auth-register at night, stays OK instead of INSUFFICIENT_DATA, and M of N
//     = 3 of 5 still needs a sustained problem, not one slow request).
struct DefaultAlarmSettings {
  AlarmRule cold_start{.threshold = 1000,
                       .evaluation_periods = 1,
                       .datapoints_to_alarm = 1,
                       .treat_missing_data = TreatMissingData::kIgnore};
  AlarmRule database_p95{.threshold = 100};   // DatabaseQueryDuration p95, ms, per query kind
  AlarmRule cache_hit_rate{.threshold = 70};  // CacheHitRate (percent) of the whole cache
  AlarmRule api_p95{.threshold = 300};        // ApiLatency p95, ms, per function
  AlarmRule error_rate{.threshold = 0.1};     // ApiErrorRate, percent

  // Sets every rule's period (e.g. from --alarm-period).
  void SetPeriod(int seconds);
};

// The dimension values the server records (they fill the alarms' exact dimensions).
struct ServerDimensions {
  std::vector<std::string> functions;                 // Function: the ten functions of api.md
  std::string store = "sqlite";                       // Store: "sqlite" | "postgres"
  std::vector<std::string> cache_tiers = {"memory"};  // Tier, outermost first
  std::vector<std::string> query_kinds = {"read", "write"};  // QueryKind

  // The Tier values of CacheHitRate: cache_tiers, then catalog::kAllTiers when there are
  // several ({"memory"}; {"l1", "l2", "all"}).
  std::vector<std::string> HitRateTiers() const;
  // The hit rate the default alarm watches: the cache as a whole, i.e. catalog::kAllTiers with
  // several tiers (a small L1 that misses while L2 answers is no problem), the only tier with
  // one, "" with none.
  std::string AlarmedHitRateTier() const;
};

// cold start (ColdStartDuration{Store} Maximum > threshold), database p95 per query kind
// (DatabaseQueryDuration{QueryKind} p95 >), the cache's hit rate
// (CacheHitRate{Tier = dimensions.AlarmedHitRateTier()} Average <), API p95 per function
// (ApiLatency{Function} p95 >), and the 5xx
// rate (ApiErrorRate Average >). Names: "hasivu-cold-start", "hasivu-db-<kind>-p95",
// "hasivu-cache-hit-rate", "hasivu-api-<function>-p95", "hasivu-5xx-rate". No cache alarm when
// there is no tier.
std::vector<AlarmDefinition> DefaultAlarms(const DefaultAlarmSettings& settings,
                                           const ServerDimensions& dimensions);

}  // namespace hasivu::metrics

#endif  // HASIVU_METRICS_ALARMS_H_
