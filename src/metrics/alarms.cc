#include "metrics/alarms.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <ctime>
#include <map>
#include <numeric>
#include <set>
#include <utility>

namespace hasivu::metrics {
namespace {

using TimePoint = std::chrono::system_clock::time_point;

// Shortest round-trip form, with ".0" on integers, as CloudWatch writes its reasons ("300.0").
std::string FormatNumber(double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  if (ec != std::errc()) return "?";
  std::string s(buf, end);
  if (std::isfinite(v) && s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

// "14/10/25 08:41:00" (UTC): the timestamp form of CloudWatch's reasons.
std::string FormatTime(TimePoint t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%d/%m/%y %H:%M:%S", &tm);
  return buf;
}

std::string_view OperatorWords(ComparisonOperator op) {
  switch (op) {
    case ComparisonOperator::kGreaterThanThreshold:
      return "greater than";
    case ComparisonOperator::kGreaterThanOrEqualToThreshold:
      return "greater than or equal to";
    case ComparisonOperator::kLessThanThreshold:
      return "less than";
    case ComparisonOperator::kLessThanOrEqualToThreshold:
      return "less than or equal to";
  }
  return "?";
}

std::string Plural(size_t n, std::string_view word) {
  return std::to_string(n) + " " + std::string(word) + (n == 1 ? "" : "s");
}

Dimensions Sorted(Dimensions d) {
  std::sort(d.begin(), d.end());
  return d;
}

bool Matches(const AlarmDefinition& alarm, const Dimensions& want, const SeriesInterval& s) {
  if (s.info.name != alarm.metric.name || s.info.dimensions.size() != want.size()) return false;
  return Sorted(s.info.dimensions) == want;
}

double NearestRank(std::vector<double> values, double q) {
  std::sort(values.begin(), values.end());
  const size_t rank = std::max<size_t>(
      1, static_cast<size_t>(std::ceil(std::clamp(q, 0.0, 1.0) * double(values.size()))));
  return values[std::min(rank, values.size()) - 1];
}

// Shortest round-trip form as written in descriptions: "1000", "0.1".
std::string FormatPlain(double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  return ec == std::errc() ? std::string(buf, end) : "?";
}

int Gcd(int a, int b) { return b == 0 ? a : Gcd(b, a % b); }

}  // namespace

std::string_view AlarmStateName(AlarmState state) {
  switch (state) {
    case AlarmState::kOk:
      return "OK";
    case AlarmState::kAlarm:
      return "ALARM";
    case AlarmState::kInsufficientData:
      return "INSUFFICIENT_DATA";
  }
  return "INSUFFICIENT_DATA";
}

std::string_view ComparisonOperatorName(ComparisonOperator op) {
  switch (op) {
    case ComparisonOperator::kGreaterThanThreshold:
      return "GreaterThanThreshold";
    case ComparisonOperator::kGreaterThanOrEqualToThreshold:
      return "GreaterThanOrEqualToThreshold";
    case ComparisonOperator::kLessThanThreshold:
      return "LessThanThreshold";
    case ComparisonOperator::kLessThanOrEqualToThreshold:
      return "LessThanOrEqualToThreshold";
  }
  return "GreaterThanThreshold";
}

std::string_view TreatMissingDataName(TreatMissingData treatment) {
  switch (treatment) {
    case TreatMissingData::kMissing:
      return "missing";
    case TreatMissingData::kNotBreaching:
      return "notBreaching";
    case TreatMissingData::kBreaching:
      return "breaching";
    case TreatMissingData::kIgnore:
      return "ignore";
  }
  return "missing";
}

std::string Statistic::Name() const {
  switch (kind) {
    case Kind::kSampleCount:
      return "SampleCount";
    case Kind::kSum:
      return "Sum";
    case Kind::kMinimum:
      return "Minimum";
    case Kind::kMaximum:
      return "Maximum";
    case Kind::kAverage:
      return "Average";
    case Kind::kPercentile: {
      char buf[32];
      auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), percentile);
      return "p" + std::string(buf, ec == std::errc() ? end : buf);
    }
  }
  return "Average";
}

Status ValidateAlarm(const AlarmDefinition& a) {
  auto bad = [&](std::string what) {
    return InvalidArgumentError("alarm " + (a.name.empty() ? std::string("(unnamed)") : a.name) +
                                ": " + what);
  };
  if (a.name.empty() || a.name.size() > 255) return bad("name must be 1-255 characters");
  for (char c : a.name) {
    if (c < ' ' || c > '~') return bad("name must be printable ASCII");
  }
  if (a.metric.name.empty()) return bad("no metric");
  std::vector<std::string_view> expected;
  for (std::string_view d : a.metric.dimensions) {
    if (!d.empty()) expected.push_back(d);
  }
  std::sort(expected.begin(), expected.end());
  std::vector<std::string_view> given;
  for (const auto& [name, value] : a.dimensions) {
    if (value.empty() || value.size() > 1024) {
      return bad("dimension " + name + " needs a value of 1-1024 characters");
    }
    given.push_back(name);
  }
  std::sort(given.begin(), given.end());
  if (given != expected) {
    std::string names;
    for (std::string_view d : expected) names += (names.empty() ? "" : ", ") + std::string(d);
    return bad("dimensions must be exactly those " + std::string(a.metric.name) +
               " is written with (" + (names.empty() ? "none" : names) + ")");
  }
  const int p = a.period_seconds;
  if (!(p == 10 || p == 30 || (p >= 60 && p % 60 == 0))) {
    return bad("period must be 10, 30 or a multiple of 60 seconds");
  }
  if (a.evaluation_periods < 1) return bad("evaluation periods must be at least 1");
  if (a.datapoints_to_alarm < 1 || a.datapoints_to_alarm > a.evaluation_periods) {
    return bad("datapoints to alarm must be 1 to the evaluation periods");
  }
  if (static_cast<int64_t>(a.evaluation_periods) * p > 86400) {
    return bad("evaluation periods x period must not exceed one day");
  }
  if (a.statistic.extended() && !(a.statistic.percentile > 0 && a.statistic.percentile <= 100)) {
    return bad("percentile must be in (0, 100]");
  }
  if (!std::isfinite(a.threshold)) return bad("threshold must be a finite number");
  return Status::Ok();
}

std::optional<double> DatapointOf(const AlarmDefinition& alarm,
                                  const std::vector<SeriesInterval>& intervals) {
  const Dimensions want = Sorted(alarm.dimensions);
  using Kind = Statistic::Kind;
  const Statistic& stat = alarm.statistic;
  if (alarm.metric.aggregation == Aggregation::kDistribution) {
    IntervalData merged;
    std::map<double, uint64_t> values;
    bool any = false;
    for (const SeriesInterval& s : intervals) {
      if (!Matches(alarm, want, s) || s.data.count == 0) continue;
      merged.min = any ? std::min(merged.min, s.data.min) : s.data.min;
      merged.max = any ? std::max(merged.max, s.data.max) : s.data.max;
      any = true;
      merged.count += s.data.count;
      merged.sum += s.data.sum;
      for (const auto& [v, n] : s.data.values) values[v] += n;
    }
    if (!any) return std::nullopt;
    switch (stat.kind) {
      case Kind::kSampleCount:
        return static_cast<double>(merged.count);
      case Kind::kSum:
        return merged.sum;
      case Kind::kMinimum:
        return merged.min;
      case Kind::kMaximum:
        return merged.max;
      case Kind::kAverage:
        return merged.sum / static_cast<double>(merged.count);
      case Kind::kPercentile: {
        // Quantile ranks within the representatives' counts.
        merged.values.assign(values.begin(), values.end());
        merged.count = 0;
        for (const auto& [v, n] : merged.values) merged.count += n;
        if (merged.count == 0) return std::nullopt;
        return merged.Quantile(stat.percentile / 100.0);
      }
    }
    return std::nullopt;
  }
  // kSum and kLatest: one value per interval with data, as the EMF documents carry them.
  std::vector<double> samples;
  for (const SeriesInterval& s : intervals) {
    if (Matches(alarm, want, s) && s.data.count > 0) samples.push_back(s.data.sum);
  }
  if (samples.empty()) return std::nullopt;
  const double total = std::accumulate(samples.begin(), samples.end(), 0.0);
  switch (stat.kind) {
    case Kind::kSampleCount:
      return static_cast<double>(samples.size());
    case Kind::kSum:
      return total;
    case Kind::kMinimum:
      return *std::min_element(samples.begin(), samples.end());
    case Kind::kMaximum:
      return *std::max_element(samples.begin(), samples.end());
    case Kind::kAverage:
      return total / static_cast<double>(samples.size());
    case Kind::kPercentile:
      return NearestRank(std::move(samples), stat.percentile / 100.0);
  }
  return std::nullopt;
}

// ---- AlarmEvaluator
// ------------------------------------------------------------------------------

AlarmEvaluator::AlarmEvaluator(AlarmDefinition alarm, TimePoint created,
                               AlarmEvaluatorOptions options)
    : alarm_(std::move(alarm)),
      range_(static_cast<size_t>(std::max(
          options.evaluation_range > 0 ? options.evaluation_range : alarm_.evaluation_periods + 2,
          alarm_.evaluation_periods))),
      max_history_(std::max<size_t>(1, options.max_history)),
      reason_("Unchecked: Initial alarm creation"),
      since_(created) {}

bool AlarmEvaluator::Breaches(double v) const {
  const double t = alarm_.threshold;
  switch (alarm_.comparison) {
    case ComparisonOperator::kGreaterThanThreshold:
      return v > t;
    case ComparisonOperator::kGreaterThanOrEqualToThreshold:
      return v >= t;
    case ComparisonOperator::kLessThanThreshold:
      return v < t;
    case ComparisonOperator::kLessThanOrEqualToThreshold:
      return v <= t;
  }
  return false;
}

bool AlarmEvaluator::Add(std::optional<double> datapoint, TimePoint period_end) {
  if (datapoint && !std::isfinite(*datapoint)) datapoint.reset();
  last_datapoint_ = datapoint;
  window_.push_back({datapoint, period_end});
  while (window_.size() > range_) window_.pop_front();

  const size_t n = static_cast<size_t>(alarm_.evaluation_periods);
  const size_t m = static_cast<size_t>(alarm_.datapoints_to_alarm);
  const std::chrono::seconds period(alarm_.period_seconds);
  // The real datapoints evaluated: the most recent N of the range, or all when there are fewer.
  std::vector<const Point*> real;
  for (auto it = window_.rbegin(); it != window_.rend() && real.size() < n; ++it) {
    if (it->value) real.push_back(&*it);
  }
  std::reverse(real.begin(), real.end());
  size_t breaching = 0;
  for (const Point* p : real) breaching += Breaches(*p->value) ? 1 : 0;
  const size_t not_breaching = real.size() - breaching;
  const size_t fills = n - real.size();

  // The datapoints of a reason: "[350.5 (14/10/25 08:41:00), ...]", those breaching or not.
  auto list = [&](bool want_breaching) {
    std::string s = "[";
    for (const Point* p : real) {
      if (Breaches(*p->value) != want_breaching) continue;
      if (s.size() > 1) s += ", ";
      s += FormatNumber(*p->value) + " (" + FormatTime(p->period_end - period) + ")";
    }
    return s + "]";
  };
  const std::string op(OperatorWords(alarm_.comparison));
  const std::string threshold = FormatNumber(alarm_.threshold);
  const std::string from(AlarmStateName(state_));
  const TreatMissingData treat = alarm_.treat_missing_data;

  std::optional<AlarmState> next;  // nullopt: keep the state (ignore)
  std::string reason;
  if (real.empty()) {
    const std::string unknown = Plural(window_.size(), "datapoint");
    switch (treat) {
      case TreatMissingData::kMissing:
        next = AlarmState::kInsufficientData;
        reason = "Insufficient Data: " + unknown + (window_.size() == 1 ? " was" : " were") +
                 " unknown.";
        break;
      case TreatMissingData::kIgnore:
        break;
      case TreatMissingData::kBreaching:
      case TreatMissingData::kNotBreaching: {
        const bool breach = treat == TreatMissingData::kBreaching;
        next = breach ? AlarmState::kAlarm : AlarmState::kOk;
        reason = "Threshold Crossed: no datapoints were received for " + Plural(n, "period") +
                 " and " + Plural(n, "missing datapoint") + (n == 1 ? " was" : " were") +
                 " treated as [" + (breach ? "Breaching" : "NonBreaching") + "].";
        break;
      }
    }
  } else {
    size_t counted = breaching;  // breaching datapoints among the N evaluated
    std::string filled;
    if (fills > 0 && treat == TreatMissingData::kBreaching) {
      counted += fills;
      filled = " (" + Plural(fills, "missing datapoint") + " treated as breaching)";
    } else if (fills > 0 && treat == TreatMissingData::kNotBreaching) {
      filled = " (" + Plural(fills, "missing datapoint") + " treated as not breaching)";
    }
    const bool fill_points =
        treat == TreatMissingData::kBreaching || treat == TreatMissingData::kNotBreaching;
    const size_t evaluated = fill_points ? n : real.size();
    if (counted >= m) {
      next = AlarmState::kAlarm;
      reason = "Threshold Crossed: " + std::to_string(counted) + " out of the last " +
               Plural(evaluated, "datapoint") + " " + list(true) +
               (counted == 1 ? " was " : " were ") + op + " the threshold (" + threshold + ")" +
               filled + " (minimum " + Plural(m, "datapoint") + " for " + from +
               " -> ALARM transition).";
    } else if (fill_points || not_breaching > 0) {
      const size_t ok = evaluated - counted;
      next = AlarmState::kOk;
      reason = "Threshold Crossed: " + std::to_string(ok) + " out of the last " +
               Plural(evaluated, "datapoint") + " " + list(false) +
               (ok == 1 ? " was not " : " were not ") + op + " the threshold (" + threshold + ")" +
               filled + " (minimum " + Plural(n - m + 1, "datapoint") + " for " + from +
               " -> OK transition).";
    } else if (treat == TreatMissingData::kMissing) {
      // Only breaching datapoints, fewer than M: neither verdict is supported.
      next = AlarmState::kInsufficientData;
      reason = "Insufficient Data: " + Plural(breaching, "datapoint") + " " + list(true) +
               (breaching == 1 ? " was " : " were ") + op + " the threshold (" + threshold +
               "), fewer than the " + std::to_string(m) + " needed for ALARM, and " +
               Plural(window_.size() - real.size(), "datapoint") +
               (window_.size() - real.size() == 1 ? " was" : " were") + " unknown.";
    }
  }
  if (!next || *next == state_) return false;
  Transition(*next, std::move(reason), period_end);
  return true;
}

void AlarmEvaluator::Transition(AlarmState to, std::string reason, TimePoint at) {
  const AlarmState from = state_;
  state_ = to;
  reason_ = std::move(reason);
  since_ = at;
  history_.push_back({at, from, to, reason_});
  while (history_.size() > max_history_) history_.pop_front();
  const auto level = to == AlarmState::kAlarm ? spdlog::level::warn : spdlog::level::info;
  spdlog::log(level, "alarm {}: {} -> {}: {}", alarm_.name, AlarmStateName(from),
              AlarmStateName(to), reason_);
}

// ---- AlarmSet
// ------------------------------------------------------------------------------------

StatusOr<std::unique_ptr<AlarmSet>> AlarmSet::Create(std::vector<AlarmDefinition> alarms,
                                                     TimePoint start, Registry& registry,
                                                     AlarmEvaluatorOptions options) {
  std::set<std::string> names;
  int tick = 0;
  for (const AlarmDefinition& a : alarms) {
    RETURN_IF_ERROR(ValidateAlarm(a));
    if (!names.insert(a.name).second) {
      return InvalidArgumentError("alarm " + a.name + ": defined twice");
    }
    tick = Gcd(tick, a.period_seconds);
  }
  std::unique_ptr<AlarmSet> set(new AlarmSet());
  set->tick_ = std::chrono::seconds(tick > 0 ? tick : 60);
  for (AlarmDefinition& a : alarms) {
    Alarm alarm;
    for (AlarmState s : {AlarmState::kOk, AlarmState::kAlarm, AlarmState::kInsufficientData}) {
      alarm.state_gauges[static_cast<int>(s)] =
          &registry.GetGauge("hasivu_alarm_state", "1 for the alarm's current state, else 0",
                             {{"alarm", a.name}, {"state", std::string(AlarmStateName(s))}});
    }
    alarm.datapoint_gauge = &registry.GetGauge(
        "hasivu_alarm_datapoint_milli",
        "The alarm's last datapoint x 1000 (in the metric's unit), rounded; 0 when missing",
        {{"alarm", a.name}});
    alarm.missing_gauge = &registry.GetGauge(
        "hasivu_alarm_datapoint_missing", "1 when the alarm's last period had no datapoint, else 0",
        {{"alarm", a.name}});
    alarm.evaluator = std::make_unique<AlarmEvaluator>(std::move(a), start, options);
    set->RenderGauges(alarm);
    set->alarms_.push_back(std::move(alarm));
  }
  return set;
}

void AlarmSet::RenderGauges(Alarm& alarm) {
  const AlarmState state = alarm.evaluator->state();
  for (AlarmState s : {AlarmState::kOk, AlarmState::kAlarm, AlarmState::kInsufficientData}) {
    alarm.state_gauges[static_cast<int>(s)]->Set(s == state ? 1 : 0);
  }
  // A missing datapoint clears the value: keeping the previous one would show a breach that
  // is over (or a health that is unknown) for as long as the series stays quiet.
  const std::optional<double> v = alarm.evaluator->last_datapoint();
  alarm.datapoint_gauge->Set(v ? static_cast<int64_t>(std::llround(*v * 1000.0)) : 0);
  alarm.missing_gauge->Set(v ? 0 : 1);
}

void AlarmSet::Evaluate(TimePoint tick_end, const std::vector<SeriesInterval>& intervals) {
  std::lock_guard lock(mu_);
  for (Alarm& alarm : alarms_) {
    const AlarmDefinition& def = alarm.evaluator->definition();
    const Dimensions want = Sorted(def.dimensions);
    for (const SeriesInterval& s : intervals) {
      if (Matches(def, want, s)) alarm.pending.push_back(s);
    }
    ++alarm.ticks;
    if (std::chrono::seconds(alarm.ticks * tick_.count()) <
        std::chrono::seconds(def.period_seconds)) {
      continue;
    }
    alarm.evaluator->Add(DatapointOf(def, alarm.pending), tick_end);
    alarm.pending.clear();
    alarm.ticks = 0;
    RenderGauges(alarm);
  }
}

std::vector<AlarmStatus> AlarmSet::Statuses() const {
  std::lock_guard lock(mu_);
  std::vector<AlarmStatus> out;
  out.reserve(alarms_.size());
  for (const Alarm& alarm : alarms_) {
    const AlarmEvaluator& e = *alarm.evaluator;
    out.push_back({e.definition(), e.state(), e.reason(), e.since(), e.last_datapoint(),
                   std::vector<AlarmTransition>(e.history().begin(), e.history().end())});
  }
  return out;
}

// ---- AlarmScheduler
// ------------------------------------------------------------------------------

AlarmScheduler::AlarmScheduler(AlarmSet& set, CollectFn collect, const Clock& clock, bool run_timer)
    : set_(set), collect_(std::move(collect)), clock_(clock) {
  if (run_timer) {
    timer_ = std::make_unique<PeriodicThread>(
        std::chrono::duration_cast<std::chrono::milliseconds>(set_.tick()), [this] { RunNow(); });
  }
}

AlarmScheduler::~AlarmScheduler() { Stop(); }

void AlarmScheduler::RunNow() {
  std::lock_guard lock(run_mu_);
  std::vector<SeriesInterval> intervals = collect_();
  set_.Evaluate(clock_.Now(), intervals);
}

void AlarmScheduler::Stop() {
  if (timer_) timer_->Stop();
}

// ---- the default alarm set ----------------------------------------------------------------------

void DefaultAlarmSettings::SetPeriod(int seconds) {
  for (AlarmRule* r : {&cold_start, &database_p95, &cache_hit_rate, &api_p95, &error_rate}) {
    r->period_seconds = seconds;
  }
}

std::vector<std::string> ServerDimensions::HitRateTiers() const {
  std::vector<std::string> tiers = cache_tiers;
  if (tiers.size() > 1) tiers.emplace_back(catalog::kAllTiers);
  return tiers;
}

std::string ServerDimensions::AlarmedHitRateTier() const {
  if (cache_tiers.empty()) return "";
  return cache_tiers.size() > 1 ? std::string(catalog::kAllTiers) : cache_tiers.front();
}

std::vector<AlarmDefinition> DefaultAlarms(const DefaultAlarmSettings& settings,
                                           const ServerDimensions& dimensions) {
  std::vector<AlarmDefinition> out;
  auto add = [&](std::string name, std::string description, const catalog::MetricDef& metric,
                 Dimensions dims, Statistic stat, const AlarmRule& rule, ComparisonOperator op) {
    AlarmDefinition a;
    a.name = std::move(name);
    a.description = std::move(description);
    a.metric = metric;
    a.dimensions = std::move(dims);
    a.statistic = stat;
    a.period_seconds = rule.period_seconds;
    a.evaluation_periods = rule.evaluation_periods;
    a.datapoints_to_alarm = rule.datapoints_to_alarm;
    a.threshold = rule.threshold;
    a.comparison = op;
    a.treat_missing_data = rule.treat_missing_data;
    out.push_back(std::move(a));
  };
  using Kind = Statistic::Kind;
  const auto gt = ComparisonOperator::kGreaterThanThreshold;
  add("hasivu-cold-start",
      "Cold start (exec to ready plus the first request) over " +
          FormatPlain(settings.cold_start.threshold) + " ms",
      catalog::kColdStartDuration, {{"Store", dimensions.store}}, Statistic::Of(Kind::kMaximum),
      settings.cold_start, gt);
  for (const std::string& kind : dimensions.query_kinds) {
    add("hasivu-db-" + kind + "-p95",
        "Database " + kind + " p95 over " + FormatPlain(settings.database_p95.threshold) + " ms",
        catalog::kDatabaseQueryDuration, {{"QueryKind", kind}}, Statistic::Percentile(95),
        settings.database_p95, gt);
  }
  if (const std::string tier = dimensions.AlarmedHitRateTier(); !tier.empty()) {
    const std::string what =
        tier == catalog::kAllTiers ? "all tiers together" : "the " + tier + " tier";
    add("hasivu-cache-hit-rate",
        "Cache hit rate of " + what + " under " + FormatPlain(settings.cache_hit_rate.threshold) +
            " %",
        catalog::kCacheHitRate, {{"Tier", tier}}, Statistic::Of(Kind::kAverage),
        settings.cache_hit_rate, ComparisonOperator::kLessThanThreshold);
  }
  for (const std::string& f : dimensions.functions) {
    add("hasivu-api-" + f + "-p95",
        f + " p95 latency over " + FormatPlain(settings.api_p95.threshold) + " ms",
        catalog::kApiLatency, {{"Function", f}}, Statistic::Percentile(95), settings.api_p95, gt);
  }
  add("hasivu-5xx-rate",
      "5xx share of the ten functions' requests over " +
          FormatPlain(settings.error_rate.threshold) + " %",
      catalog::kApiErrorRate, {}, Statistic::Of(Kind::kAverage), settings.error_rate, gt);
  return out;
}

}  // namespace hasivu::metrics
