#include "bench/report.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <utility>

#include "bench/format.h"
#include "bench/json_io.h"
#include "bench/report_internal.h"

namespace hasivu::bench {
namespace json = boost::json;
using internal::Fixed;
using internal::Grouped;
using internal::Percent;
using internal::Significant;

namespace {

// Host steal over a phase beyond which absolute figures are not worth comparing: 5 % of both
// cores is 1 s in a 10-s phase, where docs/performance.md saw reads' p99 double.
constexpr double kHighSteal = 0.05;

std::vector<TargetSet> ProfilesOf(const ReportInputs& inputs) {
  if (inputs.targets.empty()) return {SeedTargets()};
  return inputs.targets;
}

std::vector<Evaluation> EvaluateAll(const RunResult& run, const std::vector<TargetSet>& profiles) {
  std::vector<Evaluation> out;
  for (const TargetSet& t : profiles) out.push_back(Evaluate(run, t));
  return out;
}

double MedianOf(const std::vector<double>& v) { return v.empty() ? 0 : SpreadOf(v).median; }

std::string Ms(double ms) { return Significant(ms) + " ms"; }

// A figure of a metric with its unit.
std::string FigureText(Metric m, double v) {
  if (m == Metric::kCacheHitRate) return Percent(v, 1);
  if (m == Metric::kErrorRate) return Percent(v, v != 0 && v < 0.001 ? 3 : 2);
  return Ms(v);
}

std::string ThresholdText(Metric m, double v) {
  const std::string text = m == Metric::kCacheHitRate || m == Metric::kErrorRate
                               ? internal::Shortest(v * 100) + " %"
                               : internal::Shortest(v) + " ms";
  return std::string(IsLowerBound(m) ? "≥ " : "≤ ") + text;
}

std::string Cell(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += '\\';
    if (c == '\n') {
      out += ' ';
      continue;
    }
    out += c;
  }
  return out;
}

void Table(std::string& out, const std::vector<std::string>& header,
           const std::vector<std::vector<std::string>>& rows) {
  out += "|";
  for (const std::string& h : header) out += " " + Cell(h) + " |";
  out += "\n|";
  for (size_t i = 0; i < header.size(); ++i) out += "---|";
  out += "\n";
  for (const auto& row : rows) {
    out += "|";
    for (const std::string& c : row) out += " " + Cell(c) + " |";
    out += "\n";
  }
  out += "\n";
}

std::string ErrorKinds(const std::map<std::string, uint64_t>& errors) {
  std::vector<std::pair<std::string, uint64_t>> sorted(errors.begin(), errors.end());
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  std::string out;
  for (const auto& [kind, count] : sorted) {
    if (!out.empty()) out += ", ";
    out += kind + " × " + Grouped(static_cast<double>(count));
  }
  return out.empty() ? "–" : out;
}

std::map<std::string, uint64_t> ErrorsOf(const std::vector<const PhaseResult*>& phases) {
  std::map<std::string, uint64_t> out;
  for (const PhaseResult* p : phases) {
    for (const auto& [kind, count] : p->errors) out[kind] += count;
  }
  return out;
}

// All phases of `function` on `target`, answered or not (for the error kinds).
std::vector<const PhaseResult*> AllPhases(const RunResult& run, const std::string& function,
                                          const std::string& target) {
  std::vector<const PhaseResult*> out;
  for (const PhaseResult& p : run.phases) {
    if (p.function == function && p.target == target) out.push_back(&p);
  }
  return out;
}

// Medians over the repetitions of one series of one function.
struct SeriesFigures {
  int repetitions = 0;
  double p50 = 0, p90 = 0, p95 = 0, p99 = 0, p999 = 0, mean = 0, max = 0;
  double rps = 0;
  double success_rate = 0;
  uint64_t requests = 0;
  bool exhausted = false;
};

SeriesFigures FiguresOf(const std::vector<const PhaseResult*>& phases) {
  SeriesFigures f;
  std::vector<double> p50, p90, p95, p99, p999, mean, rps, success;
  for (const PhaseResult* p : phases) {
    p50.push_back(p->latency_ms.p50);
    p90.push_back(p->latency_ms.p90);
    p95.push_back(p->latency_ms.p95);
    p99.push_back(p->latency_ms.p99);
    p999.push_back(p->latency_ms.p999);
    mean.push_back(p->latency_ms.mean);
    rps.push_back(p->requests_per_second);
    success.push_back(p->success_rate);
    f.max = std::max(f.max, p->latency_ms.max);
    f.requests += p->requests;
    f.exhausted = f.exhausted || p->exhausted;
  }
  f.repetitions = static_cast<int>(phases.size());
  f.p50 = MedianOf(p50);
  f.p90 = MedianOf(p90);
  f.p95 = MedianOf(p95);
  f.p99 = MedianOf(p99);
  f.p999 = MedianOf(p999);
  f.mean = MedianOf(mean);
  f.rps = MedianOf(rps);
  f.success_rate = MedianOf(success);
  return f;
}

// function -> series -> answered phases, for one target.
using SeriesMap = std::map<internal::SeriesKey, std::vector<const PhaseResult*>>;
SeriesMap SeriesOf(const RunResult& run, const std::string& function, const std::string& target) {
  SeriesMap out;
  for (const PhaseResult* p : internal::AnsweredPhases(run, function, target)) {
    out[internal::KeyOf(*p)].push_back(p);
  }
  return out;
}

struct Steal {
  bool measured = false;
  double median = 0;
  double max = 0;
};
Steal StealOf(const RunResult& run) {
  std::vector<double> v;
  for (const PhaseResult& p : run.phases) {
    if (p.machine) v.push_back(p.machine->steal_fraction);
  }
  if (v.empty()) return {};
  const Spread s = SpreadOf(v);
  return {true, s.median, s.max};
}

const Check* FindCheck(const Evaluation& e, const std::string& function, Metric m) {
  for (const Check& c : e.checks) {
    if (c.function == function && c.metric == m) return &c;
  }
  return nullptr;
}

std::string Mark(Outcome o) {
  switch (o) {
    case Outcome::kPass:
      return "✅ pass";
    case Outcome::kMiss:
      return "❌ miss";
    case Outcome::kNotMeasured:
      return "⚠️ not measured";
  }
  return "";
}

std::string CheckName(const Check& c) {
  return (c.function.empty() ? std::string("server") : c.function) + " " +
         std::string(MetricKey(c.metric));
}

// ---------------------------------------------------------------------------------------------
// Markdown sections.

void SummarySection(std::string& out, const RunResult& run, const std::vector<Evaluation>& evals,
                    const Verdict& verdict) {
  const RunConfig& c = run.config;
  out += "## Summary\n\n";
  out += "- **Verdict: exit " + std::to_string(verdict.exit_code()) + ", " +
         std::string(ExitCodeName(verdict.code)) + "**";
  if (!verdict.reasons.empty()) out += ": " + verdict.reasons.front();
  out += "\n";
  for (size_t i = 1; i < verdict.reasons.size(); ++i)
    out += "  - also: " + verdict.reasons[i] + "\n";
  const Evaluation& e = evals.front();
  out += "- **Score: " + Fixed(e.score, 1) + " / 100** against `" + e.profile + "` (" +
         std::to_string(e.passed) + " passed, " + std::to_string(e.missed) + " missed, " +
         std::to_string(e.not_measured) + " not measured of " + std::to_string(e.checks.size()) +
         " checks)";
  for (size_t i = 1; i < evals.size(); ++i) {
    out += "; `" + evals[i].profile + "`: " + Fixed(evals[i].score, 1) + " / 100";
  }
  out += ". " + std::string(ScoreFormula()) + ".\n";
  out += "- Machine: " + (c.machine.empty() ? std::string("not recorded") : c.machine);
  const Steal steal = StealOf(run);
  if (steal.measured) {
    out += "; host steal over the phases: median " + Percent(steal.median, 1) + ", max " +
           Percent(steal.max, 1);
    if (steal.max > kHighSteal) out += " (**high**: see the recommendations)";
  } else {
    out += "; host steal not measured";
  }
  out += "\n";
  out += "- Server: " + c.url + (c.version.empty() ? "" : ", hasivu " + c.version) +
         (c.store.empty() ? "" : ", store " + c.store) +
         (c.cache.empty() ? "" : ", cache " + c.cache) + "\n";
  if (!c.peer_url.empty()) out += "- Peer (--compare): " + c.peer_url + "\n";
  out += "- Run: started " + c.started_at + "; " + std::to_string(c.functions.size()) +
         " functions, " + std::to_string(c.repetitions) + " repetitions of " +
         Significant(c.duration_seconds) + " s at " + std::to_string(c.connections) +
         " connections; " + std::to_string(c.cold_starts) + " cold starts; setup sent " +
         Grouped(static_cast<double>(c.setup_requests)) + " requests (" +
         Grouped(static_cast<double>(c.setup_writes)) + " writes)\n";
  for (const std::string& n : c.notes) out += "- Note: " + n + "\n";
  out += "\n";
}

void TargetsSection(std::string& out, const std::vector<TargetSet>& profiles,
                    const std::vector<Evaluation>& evals) {
  out += "## Targets\n\n";
  out +=
      "Thresholds are inclusive edges of the pass region. Warm p95 is the client's, closed "
      "loop, median over repetitions; cold start is the worst exec → first success of the N "
      "starts; the error rate is a function's worst phase. A check that was not measured "
      "counts as missed.\n\n";
  std::vector<std::string> header = {"figure"};
  for (const TargetSet& t : profiles) header.push_back(t.profile);
  std::vector<std::vector<std::string>> rows;
  for (Metric m : {Metric::kColdStart, Metric::kWarmP95, Metric::kDbP95, Metric::kApiP95,
                   Metric::kCacheHitRate, Metric::kErrorRate}) {
    std::vector<std::string> row = {std::string(MetricLabel(m))};
    for (const TargetSet& t : profiles) {
      std::optional<double> v;
      switch (m) {
        case Metric::kColdStart:
          v = t.defaults.cold_start_ms;
          break;
        case Metric::kWarmP95:
          v = t.defaults.warm_p95_ms;
          break;
        case Metric::kDbP95:
          v = t.defaults.db_p95_ms;
          break;
        case Metric::kApiP95:
          v = t.defaults.api_p95_ms;
          break;
        case Metric::kCacheHitRate:
          v = t.defaults.cache_hit_rate;
          break;
        case Metric::kErrorRate:
          v = t.defaults.error_rate;
          break;
      }
      row.push_back(v ? ThresholdText(m, *v) : "–");
    }
    rows.push_back(std::move(row));
  }
  Table(out, header, rows);
  for (const TargetSet& t : profiles) {
    if (!t.description.empty()) out += "- `" + t.profile + "`: " + t.description + "\n";
    for (const auto& [function, o] : t.overrides) {
      std::string set;
      const auto add = [&](Metric m, const std::optional<double>& v) {
        if (!v) return;
        if (!set.empty()) set += ", ";
        set += std::string(MetricKey(m)) + " " + ThresholdText(m, *v);
      };
      add(Metric::kColdStart, o.thresholds.cold_start_ms);
      add(Metric::kWarmP95, o.thresholds.warm_p95_ms);
      add(Metric::kApiP95, o.thresholds.api_p95_ms);
      add(Metric::kErrorRate, o.thresholds.error_rate);
      out += "  - exception (`" + t.profile + "`), " + function + ": " + set +
             (o.why.empty() ? "" : " — " + o.why) + "\n";
    }
  }
  out += "\n";
  // Every check of every profile, one row per function and figure; the actual value is the
  // run's, the same for every profile.
  std::vector<std::pair<std::string, Metric>> keys;
  for (const Evaluation& e : evals) {
    for (const Check& c : e.checks) {
      auto key = std::pair(c.function, c.metric);
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
    }
  }
  header = {"function", "figure", "actual"};
  for (const Evaluation& e : evals) header.push_back(e.profile);
  header.push_back("how");
  rows.clear();
  for (const auto& [function, metric] : keys) {
    std::vector<std::string> row = {function.empty() ? "(server)" : function,
                                    std::string(MetricKey(metric))};
    std::string actual = "–";
    std::string note;
    std::vector<std::string> cells;
    for (const Evaluation& e : evals) {
      const Check* c = FindCheck(e, function, metric);
      if (c == nullptr) {
        cells.push_back("–");
        continue;
      }
      if (c->actual) actual = FigureText(metric, *c->actual);
      if (note.empty()) note = c->note;
      cells.push_back(ThresholdText(metric, c->threshold) + (c->overridden ? "*" : "") + " " +
                      Mark(c->outcome));
    }
    row.push_back(actual);
    row.insert(row.end(), cells.begin(), cells.end());
    row.push_back(note);
    rows.push_back(std::move(row));
  }
  Table(out, header, rows);
  out += "\\* the function's own threshold (an exception above).\n\n";
  std::set<std::string> not_applicable;
  for (const Evaluation& e : evals)
    not_applicable.insert(e.not_applicable.begin(), e.not_applicable.end());
  for (const std::string& why : not_applicable) out += "Not judged: " + why + ".\n";
  if (!not_applicable.empty()) out += "\n";
}

void ColdSection(std::string& out, const RunResult& run) {
  out += "## Cold start\n\n";
  if (run.cold_starts.empty()) {
    out +=
        "Not measured (no fresh server starts in this run: a remote server, or "
        "`--cold-starts 0`).\n\n";
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (const ColdStartResult& c : run.cold_starts) {
    const size_t starts = c.first_success_ms.size() + c.failures.size();
    std::vector<double> listening = c.listening_ms;
    rows.push_back({c.function, std::to_string(starts), std::to_string(c.failures.size()),
                    listening.empty() ? "–" : Ms(MedianOf(listening)),
                    c.first_success_ms.empty() ? "–" : Ms(MedianOf(c.first_success_ms)),
                    c.first_success_ms.empty() ? "–"
                                               : Ms(*std::max_element(c.first_success_ms.begin(),
                                                                      c.first_success_ms.end()))});
  }
  Table(out,
        {"function", "starts", "failed", "exec → listening, median", "exec → first success, median",
         "exec → first success, worst"},
        rows);
}

void WarmSection(std::string& out, const RunResult& run) {
  out += "## Warm\n\n";
  std::map<internal::SeriesKey, std::vector<std::vector<std::string>>> tables;
  for (const std::string& function : internal::FunctionsOn(run, "hasivu")) {
    const SeriesMap series = SeriesOf(run, function, "hasivu");
    std::map<internal::SeriesKey, std::vector<const PhaseResult*>> all;
    for (const PhaseResult* p : AllPhases(run, function, "hasivu")) {
      all[internal::KeyOf(*p)].push_back(p);
    }
    for (const auto& [key, phases] : all) {
      auto answered = series.find(key);
      if (answered == series.end()) {
        tables[key].push_back({function, "0", "–", "–", "–", "–", "–", "–", "–", "–", "–",
                               ErrorKinds(ErrorsOf(phases))});
        continue;
      }
      const SeriesFigures f = FiguresOf(answered->second);
      tables[key].push_back({function, std::to_string(f.repetitions), Significant(f.p50),
                             Significant(f.p90), Significant(f.p95), Significant(f.p99),
                             Significant(f.p999), Significant(f.mean), Significant(f.max),
                             Grouped(f.rps) + (f.exhausted ? " (ran out)" : ""),
                             Percent(f.success_rate, 2), ErrorKinds(ErrorsOf(phases))});
    }
  }
  if (tables.empty()) {
    out += "No phase of the server under test.\n\n";
    return;
  }
  for (const auto& [key, rows] : tables) {
    out += "### " + internal::SeriesTitle(key) + "\n\n";
    out += key.mode == "open"
               ? "Latency from each request's scheduled send (coordinated omission corrected). "
               : "";
    out += "Milliseconds; medians over the repetitions (max: the largest); errors summed.\n\n";
    Table(out,
          {"function", "reps", "p50", "p90", "p95", "p99", "p99.9", "mean", "max", "req/s",
           "success", "errors"},
          rows);
  }
}

// Calls fn(function, series key, hasivu's phases, the peer's phases) for every series both
// sides ran, functions in the order given.
template <typename Fn>
void ForEachSharedSeries(const RunResult& run, const std::vector<std::string>& functions, Fn&& fn) {
  for (const std::string& function : functions) {
    const SeriesMap ours = SeriesOf(run, function, "hasivu");
    const SeriesMap theirs = SeriesOf(run, function, "peer");
    for (const auto& [key, peer_phases] : theirs) {
      auto it = ours.find(key);
      if (it != ours.end()) fn(function, key, it->second, peer_phases);
    }
  }
}

// Server CPU per answered request of a phase, in microseconds (nullopt when not measured).
std::optional<double> CpuMicrosPerRequest(const PhaseResult& p) {
  if (!p.server || p.succeeded == 0) return std::nullopt;
  return p.server->cpu_seconds * 1e6 / static_cast<double>(p.succeeded);
}

// The ratio of each back-to-back pair of a series (A B on even repetitions, B A on odd ones), so
// a median ratio comes with its spread and with the host's steal in the minutes it was measured.
void PeerPairs(std::string& out, const RunResult& run,
               const std::vector<std::string>& peer_functions) {
  std::vector<std::vector<std::string>> rows;
  ForEachSharedSeries(
      run, peer_functions,
      [&](const std::string& function, const internal::SeriesKey& key,
          const std::vector<const PhaseResult*>& own_phases,
          const std::vector<const PhaseResult*>& peer_phases) {
        std::map<int, const PhaseResult*> mine;
        for (const PhaseResult* p : own_phases) mine[p->repetition] = p;
        std::vector<double> ratios, cpu_ours, cpu_theirs, cpu_ratios;
        uint64_t rss_ours = 0, rss_theirs = 0;
        uint64_t rest_ours = 0, rest_theirs = 0;  // the lowest RSS at a phase's start
        const auto lowest = [](uint64_t& into, uint64_t v) {
          if (v > 0 && (into == 0 || v < into)) into = v;
        };
        std::string each, steal;
        for (const PhaseResult* peer : peer_phases) {
          auto found = mine.find(peer->repetition);
          if (found == mine.end() || peer->requests_per_second <= 0) continue;
          const PhaseResult& h = *found->second;
          const double r = h.requests_per_second / peer->requests_per_second;
          ratios.push_back(r);
          each += (each.empty() ? "" : " · ") + Fixed(r, 2) + "×";
          const std::optional<double> a = CpuMicrosPerRequest(h);
          const std::optional<double> b = CpuMicrosPerRequest(*peer);
          if (a) cpu_ours.push_back(*a);
          if (b) cpu_theirs.push_back(*b);
          if (a && b && *a > 0) cpu_ratios.push_back(*b / *a);
          if (h.server) {
            rss_ours = std::max(rss_ours, h.server->peak_rss_bytes);
            lowest(rest_ours, h.server->rss_at_start_bytes);
          }
          if (peer->server) {
            rss_theirs = std::max(rss_theirs, peer->server->peak_rss_bytes);
            lowest(rest_theirs, peer->server->rss_at_start_bytes);
          }
          double pair_steal = -1;
          for (const PhaseResult* q : {&h, peer}) {
            if (q->machine) pair_steal = std::max(pair_steal, q->machine->steal_fraction);
          }
          steal += (steal.empty() ? "" : " · ") +
                   (pair_steal < 0 ? std::string("?") : Percent(pair_steal, 1));
        }
        if (ratios.empty()) return;
        const auto [lo, hi] = std::minmax_element(ratios.begin(), ratios.end());
        const auto micros = [](const std::vector<double>& v) {
          return v.empty() ? std::string("–") : Significant(MedianOf(v));
        };
        const auto mib = [](uint64_t bytes) {
          return bytes == 0 ? std::string("–") : Fixed(static_cast<double>(bytes) / (1 << 20), 1);
        };
        const std::string rss_ratio =
            rss_ours > 0 && rss_theirs > 0
                ? Fixed(static_cast<double>(rss_ours) / static_cast<double>(rss_theirs), 2)
                : std::string("–");
        rows.push_back({function, internal::SeriesTitle(key), each,
                        Fixed(MedianOf(ratios), 2) + "×", Fixed(*lo, 2) + "–" + Fixed(*hi, 2) + "×",
                        micros(cpu_ours), micros(cpu_theirs),
                        cpu_ratios.empty() ? "–" : Fixed(MedianOf(cpu_ratios), 2) + "×",
                        mib(rest_ours) + " / " + mib(rest_theirs),
                        mib(rss_ours) + " / " + mib(rss_theirs), rss_ratio, steal});
      });
  if (rows.empty()) return;
  out +=
      "Per repetition: the throughput ratio hasivu ÷ peer of each pair (measured back to back, "
      "the order alternating), its median and range; the server CPU per answered request of "
      "each side (µs, median; the ratio is peer ÷ hasivu); each side's RSS at rest (the lowest "
      "VmRSS at the start of its phases, before their warm-up, MiB), its peak RSS (the highest "
      "VmHWM of its phases, MiB) and hasivu's peak as a share of the peer's; and the host's "
      "steal during each pair (the larger of its two phases).\n\n";
  Table(out,
        {"function", "series", "req/s ratio per repetition", "median", "range", "CPU µs/req hasivu",
         "CPU µs/req peer", "CPU ratio", "RSS at rest MiB hasivu / peer",
         "peak RSS MiB hasivu / peer", "peak RSS hasivu ÷ peer", "steal per pair"},
        rows);
}

void PeerSection(std::string& out, const RunResult& run) {
  const std::vector<std::string> peer_functions = internal::FunctionsOn(run, "peer");
  if (peer_functions.empty()) return;
  out += "## Side by side: hasivu and the peer\n\n";
  out += "Peer: " + (run.config.peer_url.empty() ? std::string("?") : run.config.peer_url) +
         ". Medians over the repetitions of the same series. Ratios read \"hasivu is N× better\": "
         "latency peer ÷ hasivu, throughput hasivu ÷ peer.\n\n";
  std::vector<std::vector<std::string>> rows;
  const auto ratio = [](double a, double b) {
    return b > 0 && a > 0 ? Fixed(a / b, 2) + "×" : std::string("–");
  };
  ForEachSharedSeries(
      run, peer_functions,
      [&](const std::string& function, const internal::SeriesKey& key,
          const std::vector<const PhaseResult*>& own_phases,
          const std::vector<const PhaseResult*>& peer_phases) {
        const SeriesFigures h = FiguresOf(own_phases);
        const SeriesFigures p = FiguresOf(peer_phases);
        rows.push_back({function, internal::SeriesTitle(key), Significant(h.p50),
                        Significant(p.p50), Significant(h.p99), Significant(p.p99), Grouped(h.rps),
                        Grouped(p.rps), ratio(p.p50, h.p50), ratio(p.p99, h.p99),
                        ratio(h.rps, p.rps),
                        Percent(h.success_rate, 2) + " / " + Percent(p.success_rate, 2)});
      });
  Table(out,
        {"function", "series", "p50 hasivu", "p50 peer", "p99 hasivu", "p99 peer", "req/s hasivu",
         "req/s peer", "p50 ratio", "p99 ratio", "req/s ratio", "success hasivu / peer"},
        rows);
  PeerPairs(out, run, peer_functions);
}

void WrkSection(std::string& out, const RunResult& run) {
  if (run.wrk_checks.empty()) return;
  out += "## The load generator beside wrk\n\n";
  std::vector<std::vector<std::string>> rows;
  for (const WrkCheck& w : run.wrk_checks) {
    rows.push_back({w.function, Grouped(w.bench_requests_per_second),
                    Grouped(w.wrk_requests_per_second), Ms(w.bench_p50_ms), Ms(w.wrk_p50_ms),
                    w.within_10_percent ? "✅ yes" : "❌ no"});
  }
  Table(out, {"function", "bench req/s", "wrk req/s", "bench p50", "wrk p50", "within 10 %"}, rows);
}

void ServerSection(std::string& out, const RunResult& run) {
  out += "## The server's view\n\n";
  if (!run.server_view) {
    out += "Not measured (the server's /metrics were not scraped).\n\n";
    return;
  }
  const ServerView& v = *run.server_view;
  const auto opt = [](const std::optional<double>& d, auto fmt) {
    return d ? fmt(*d) : std::string("not reported");
  };
  out += "- Database query p95: " + opt(v.db_query_p95_ms, Ms) + " over " +
         opt(v.db_queries, [](double d) { return Grouped(d); }) + " queries\n";
  // Present on PostgreSQL: whether requests queue for a connection, read against the queries.
  const auto latency = [&](std::string_view what, const std::optional<LatencyFigures>& f) {
    if (!f || f->count <= 0) return;
    out += "- " + std::string(what) + ": p99 " + opt(f->p99_ms, Ms) + ", worst " +
           (f->worst_beyond_bounds ? "over " : "at most ") + opt(f->worst_ms, Ms) + " over " +
           Grouped(f->count) + "\n";
  };
  latency("Wait for a thread of the blocking pool", v.offload_wait);
  latency("Wait for a pooled database connection", v.db_pool_wait);
  latency("A database connection held (the query)", v.db_pool_hold);
  out += "- Cache hit rate: ";
  if (v.cache_hit_rate.empty()) {
    out += "not reported (the cache off, or no lookups)";
  } else {
    bool first = true;
    for (const auto& [tier, rate] : v.cache_hit_rate) {
      out += (first ? "" : ", ") + tier + " " + Percent(rate, 1);
      first = false;
    }
  }
  out += "\n";
  out += "- Compression: ratio " + opt(v.compression_ratio, [](double d) { return Fixed(d, 3); }) +
         " (bytes out ÷ bytes in), " +
         opt(v.compression_bytes_saved, [](double d) { return Grouped(d); }) + " bytes saved\n";
  out += "- 5xx rate: " + opt(v.error_rate_5xx, [](double d) { return Percent(d, 3); }) + "\n";
  out += "- API p95, worst function: " + opt(v.api_p95_ms_max, Ms) + "\n\n";
  if (!v.api_p95_ms.empty()) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& [function, p95] : v.api_p95_ms) rows.push_back({function, Ms(p95)});
    Table(out, {"function", "server's p95"}, rows);
  }
  std::vector<std::vector<std::string>> usage;
  for (const std::string& function : internal::FunctionsOn(run, "hasivu")) {
    double cpu = 0;
    uint64_t requests = 0;
    uint64_t rss = 0;
    bool any = false;
    for (const PhaseResult* p : AllPhases(run, function, "hasivu")) {
      if (!p->server) continue;
      any = true;
      cpu += p->server->cpu_seconds;
      requests += p->requests;
      rss = std::max(rss, p->server->peak_rss_bytes);
    }
    if (!any) continue;
    usage.push_back({function, Fixed(cpu, 2),
                     requests > 0 ? Fixed(cpu * 1e6 / static_cast<double>(requests), 1) : "–",
                     Fixed(static_cast<double>(rss) / (1 << 20), 1)});
  }
  if (!usage.empty()) {
    Table(out, {"function", "server CPU-seconds", "CPU µs/request", "peak RSS (MiB)"}, usage);
  }
}

void SweepSection(std::string& out, const RunResult& run) {
  if (run.sweep.empty()) return;
  out += "## Rate sweep\n\n";
  std::vector<const SweepPoint*> points;
  for (const SweepPoint& s : run.sweep) points.push_back(&s);
  std::stable_sort(points.begin(), points.end(), [](const SweepPoint* a, const SweepPoint* b) {
    return std::tie(a->function, a->offered_rate) < std::tie(b->function, b->offered_rate);
  });
  std::vector<std::vector<std::string>> rows;
  for (const SweepPoint* s : points) {
    rows.push_back({s->function, Grouped(s->offered_rate), Grouped(s->achieved_rate), Ms(s->p50_ms),
                    Ms(s->p99_ms), Percent(s->success_rate, 2)});
  }
  Table(out, {"function", "offered req/s", "achieved req/s", "p50", "p99", "success"}, rows);
}

void BaselineSection(std::string& out, const ReportInputs& inputs) {
  if (!inputs.baseline) return;
  const BaselineComparison& b = *inputs.baseline;
  out += "## Against the baseline\n\n";
  out += "Baseline: hasivu " + (b.baseline_version.empty() ? "?" : b.baseline_version) +
         ", measured " + (b.baseline_started_at.empty() ? "?" : b.baseline_started_at) +
         ". A figure regressed only when each side's median lies outside the other side's range "
         "of repetitions, then by the seed's levels (5 / 10 / 20 % worse); a regression at `" +
         std::string(RegressionLevelName(inputs.regression_fails_at)) +
         "` or worse fails the run. Worst: **" + std::string(RegressionLevelName(b.worst)) +
         "**.\n\n";
  std::vector<std::vector<std::string>> rows;
  int within = 0;
  for (const FigureComparison& f : b.figures) {
    const Comparison& c = f.comparison;
    if (!c.beyond_noise) {
      ++within;
      continue;
    }
    const auto spread = [](const Spread& s) {
      return Significant(s.median) + " (" + Significant(s.min) + "–" + Significant(s.max) + ")";
    };
    rows.push_back({f.function, f.series, f.figure, spread(c.baseline), spread(c.current),
                    (c.worse_by > 0 ? "worse " : "better ") + Percent(std::abs(c.worse_by), 1),
                    std::string(RegressionLevelName(c.level))});
  }
  if (!rows.empty()) {
    Table(out,
          {"function", "series", "figure", "baseline median (range)", "now median (range)",
           "change", "level"},
          rows);
  }
  out += std::to_string(within) + " of " + std::to_string(b.figures.size()) +
         " figures within the noise.\n";
  for (const std::string& m : b.missing) out += "- Missing now: " + m + "\n";
  for (const std::string& n : b.notes) out += "- Note: " + n + "\n";
  out += "\n";
}

void CostSection(std::string& out, const ReportInputs& inputs) {
  if (!inputs.cost) return;
  const CostEstimate& e = *inputs.cost;
  const std::string& cur = e.options.currency;
  out += "## Cost\n\n";
  for (const std::string& f : e.Formulas()) out += "- " + f + "\n";
  out += "\n";
  std::vector<std::vector<std::string>> rows;
  const auto money = [&](const std::optional<double>& v) {
    return v ? cur + " " + Fixed(*v, 2) : std::string("–");
  };
  for (const FunctionCost& f : e.functions) {
    rows.push_back(
        {f.function, f.cpu_seconds_per_1000 ? Fixed(*f.cpu_seconds_per_1000, 3) : "–",
         f.peak_rss_bytes ? Fixed(static_cast<double>(*f.peak_rss_bytes) / (1 << 20), 1) : "–",
         f.billed_ms ? Fixed(*f.billed_ms, 0) : "–", f.billed_basis, money(f.lambda_monthly),
         f.throughput_rps ? Grouped(*f.throughput_rps) : "–",
         f.instances_average
             ? std::to_string(*f.instances_average) + " / " + std::to_string(*f.instances_peak)
             : "–",
         money(f.instance_monthly)});
  }
  Table(out,
        {"function", "CPU s / 1 000 req", "peak RSS (MiB)", "billed ms", "billed on",
         "Lambda / month", "req/s", "instances avg / peak", "instances / month"},
        rows);
  out += "Mix (" + e.mix_note + "): Lambda " + money(e.mix_lambda_monthly) + " a month; " +
         (e.mix_instances_peak ? std::to_string(*e.mix_instances_peak) + " instance(s), " +
                                     money(e.mix_instance_monthly) + " a month"
                               : std::string("instances not estimated")) +
         ". Each function's row is the whole volume of that function alone.\n\n";
}

void FailedSection(std::string& out, const RunResult& run, const Evaluation& e,
                   const ReportInputs& inputs) {
  out += "## What failed\n\n";
  std::vector<std::string> items;
  for (const std::string& r : run.run_errors) items.push_back("**The run:** " + r);
  if (!RunProducedData(run)) {
    items.push_back("**The run:** no function got a single expected answer");
  }
  for (const Check& c : e.checks) {
    if (c.outcome == Outcome::kMiss) {
      items.push_back("Missed (`" + e.profile + "`): " + CheckName(c) + " " +
                      (c.actual ? FigureText(c.metric, *c.actual) : std::string("(no value)")) +
                      ", target " + ThresholdText(c.metric, c.threshold) +
                      (c.note.empty() ? "" : " — " + c.note));
    }
  }
  // Grouped by figure and reason: a remote server leaves every function's cold start unmeasured
  // for the same reason, which is one line to read, not ten.
  std::vector<std::pair<std::string, std::string>> unmeasured;  // (figure: reason, functions)
  for (const Check& c : e.checks) {
    if (c.outcome != Outcome::kNotMeasured) continue;
    const std::string key =
        std::string(MetricKey(c.metric)) + (c.note.empty() ? "" : " — " + c.note);
    const std::string who = c.function.empty() ? "the server" : c.function;
    auto it = std::find_if(unmeasured.begin(), unmeasured.end(),
                           [&](const auto& u) { return u.first == key; });
    if (it == unmeasured.end()) {
      unmeasured.emplace_back(key, who);
    } else {
      it->second += ", " + who;
    }
  }
  for (const auto& [key, who] : unmeasured) {
    const size_t dash = key.find(" — ");
    items.push_back("Not measured (`" + e.profile + "`, counts as missed): " + key.substr(0, dash) +
                    " of " + who + (dash == std::string::npos ? "" : key.substr(dash)));
  }
  for (const ColdStartResult& c : run.cold_starts) {
    for (const std::string& f : c.failures)
      items.push_back("Cold start of " + c.function + ": " + f);
  }
  for (const std::string& s : run.config.skipped) items.push_back("Skipped: " + s);
  if (inputs.baseline) {
    for (const FigureComparison& f : inputs.baseline->Regressions(inputs.regression_fails_at)) {
      items.push_back("Regression (" + std::string(RegressionLevelName(f.comparison.level)) +
                      "): " + f.function + " " + f.series + " " + f.figure + " " +
                      Significant(f.comparison.baseline.median) + " → " +
                      Significant(f.comparison.current.median) + " (worse by " +
                      Percent(f.comparison.worse_by, 1) + ")");
    }
  }
  for (const std::string& function : internal::FunctionsOn(run, "hasivu")) {
    const auto errors = ErrorsOf(AllPhases(run, function, "hasivu"));
    if (!errors.empty()) items.push_back("Errors of " + function + ": " + ErrorKinds(errors));
  }
  for (const WrkCheck& w : run.wrk_checks) {
    if (!w.within_10_percent) {
      items.push_back("wrk check of " + w.function + ": the load generator and wrk differ by " +
                      "more than 10 %");
    }
  }
  if (items.empty()) {
    out += "Nothing: every check passed, no errors, nothing skipped.\n\n";
    return;
  }
  for (const std::string& i : items) out += "- " + i + "\n";
  out += "\n";
}

std::string HintFor(const std::string& kind) {
  if (kind.find("SERVICE_BUSY") != std::string::npos) {
    return " (the server's queue for offloaded work was full: fewer connections for this "
           "function, or a larger pool)";
  }
  if (kind.find("RATE_LIMIT") != std::string::npos || kind.rfind("status 429", 0) == 0) {
    return " (throttled: the bench's logins from one address hit the limit; raise it for the "
           "run or trust the bench's address)";
  }
  if (kind.rfind("status 401", 0) == 0 || kind.rfind("status 403", 0) == 0) {
    return " (tokens refused: the fixtures file may belong to another database)";
  }
  if (kind.rfind("status 409", 0) == 0 || kind.rfind("status 422", 0) == 0) {
    return " (a write's setup repeated or ran out: prepare fresh writes for every run)";
  }
  if (kind.rfind("status 5", 0) == 0) return " (a server error: see the server's log)";
  if (kind == "timeout") {
    return " (no answer within the timeout: the server stalled, or more connections than it "
           "serves)";
  }
  if (kind.rfind("connect", 0) == 0 || kind == "closed") {
    return " (connections refused or closed: the server's connection limit, or it went away)";
  }
  return "";
}

void RecommendationsSection(std::string& out, const RunResult& run, const Evaluation& e,
                            const ReportInputs& inputs) {
  out += "## Recommendations\n\n";
  std::vector<std::string> items;
  const std::optional<ServerView>& view = run.server_view;
  for (const Check& c : e.checks) {
    if (c.metric != Metric::kWarmP95 || c.outcome != Outcome::kMiss || !c.actual) continue;
    std::optional<double> server_p95;
    if (view) {
      auto it = view->api_p95_ms.find(c.function);
      if (it != view->api_p95_ms.end()) server_p95 = it->second;
    }
    std::string little;
    const std::vector<const PhaseResult*> closed = [&] {
      std::vector<const PhaseResult*> v;
      for (const PhaseResult* p : internal::AnsweredPhases(run, c.function, "hasivu")) {
        if (p->mode == "closed") v.push_back(p);
      }
      return v;
    }();
    if (!closed.empty()) {
      const SeriesFigures f = FiguresOf(closed);
      if (f.rps > 0 && closed.front()->connections > 0) {
        little = "; at " + std::to_string(closed.front()->connections) + " connections and " +
                 Grouped(f.rps) + " req/s Little's law alone gives " +
                 Ms(closed.front()->connections * 1000.0 / f.rps) + " per request";
      }
    }
    if (server_p95 && *server_p95 <= *c.actual / 2) {
      items.push_back(c.function + ": the client's p95 is " + Ms(*c.actual) +
                      " but the server's own is " + Ms(*server_p95) +
                      ": the time is spent outside the handler — queueing for the connection or "
                      "the server's I/O thread, the client, or the network" +
                      little +
                      ". Measure with fewer connections or the open loop at a rate the "
                      "server sustains before optimising the handler.");
    } else {
      items.push_back(c.function + ": p95 " + Ms(*c.actual) + " against " +
                      ThresholdText(c.metric, c.threshold) +
                      (server_p95 ? " and the server's own p95 is " + Ms(*server_p95) +
                                        ": the handler itself is slow; profile it"
                                  : ": the server's view was not measured, so the handler and "
                                    "the path to it cannot be told apart") +
                      little + ".");
    }
  }
  for (const Check& c : e.checks) {
    if (c.outcome != Outcome::kMiss || !c.actual) continue;
    if (c.metric == Metric::kDbP95) {
      items.push_back("Database query p95 " + Ms(*c.actual) + " against " +
                      ThresholdText(c.metric, c.threshold) +
                      ": look for missing indexes — the slow-query log (`serve --slow-query-ms`) "
                      "names the statements; EXPLAIN them against the original's index set.");
    } else if (c.metric == Metric::kCacheHitRate) {
      items.push_back("Cache hit rate " + Percent(*c.actual, 1) + " against " +
                      ThresholdText(c.metric, c.threshold) +
                      ": lengthen the TTLs of the reads that miss, or check what invalidates "
                      "them (writes in the same run invalidate a parent's lists and the day's "
                      "menu).");
    } else if (c.metric == Metric::kColdStart) {
      std::string why;
      for (const ColdStartResult& s : run.cold_starts) {
        if (s.function != c.function || s.listening_ms.empty() || s.first_success_ms.empty()) {
          continue;
        }
        const double listen = MedianOf(s.listening_ms);
        const double first = MedianOf(s.first_success_ms);
        why = listen >= first / 2
                  ? ": most of it (" + Ms(listen) + " of " + Ms(first) +
                        ", medians) is before the server listens: start-up itself (loading, "
                        "opening the store, migrations)"
                  : ": the server listens after " + Ms(listen) +
                        " (median) but answers this function after " + Ms(first) +
                        ": the first request's own work (a cold page cache, the first "
                        "connection to the store, a password hash)";
      }
      items.push_back(c.function + ": cold start " + Ms(*c.actual) + " (worst) against " +
                      ThresholdText(c.metric, c.threshold) + why + ".");
    }
  }
  if (!e.not_applicable.empty() && run.config.cache == "none") {
    items.push_back(
        "The cache is off (`--cache none`), so the hit-rate target was not judged: every read "
        "went to the database. Serve with `--cache memory` or `--cache redis://…` to measure it.");
  }
  for (const Check& c : e.checks) {
    // Without the server's view at all, the advice below about /metrics covers it.
    if (c.metric == Metric::kCacheHitRate && c.outcome == Outcome::kNotMeasured && view) {
      items.push_back(
          "No cache hit rate was reported: turn the cache on (`serve --cache memory`) and make "
          "sure /metrics is reachable.");
    }
  }
  std::set<std::string> unmeasured;
  for (const Check& c : e.checks) {
    if (c.outcome == Outcome::kNotMeasured) unmeasured.insert(std::string(MetricKey(c.metric)));
  }
  unmeasured.erase("cache_hit_rate");
  if (unmeasured.contains("cold_start_ms")) {
    items.push_back(
        "Cold starts were not measured: they need a local server the bench starts "
        "itself (`--cold-starts N`); until then the score cannot reach 100.");
  }
  if (unmeasured.contains("db_p95_ms") || unmeasured.contains("api_p95_ms")) {
    items.push_back(
        "The server's view is incomplete (DB or API p95 not measured): the bench "
        "needs the server's /metrics reachable from where it runs.");
  }
  for (const std::string& function : internal::FunctionsOn(run, "hasivu")) {
    const auto errors = ErrorsOf(AllPhases(run, function, "hasivu"));
    for (const auto& [kind, count] : errors) {
      items.push_back(function + ": " + Grouped(static_cast<double>(count)) + " × " + kind +
                      HintFor(kind) + ".");
    }
    for (const PhaseResult* p : AllPhases(run, function, "hasivu")) {
      if (p->exhausted) {
        items.push_back(function + ": its prepared writes ran out before the phase's time " +
                        "was up; prepare more (`--writes`) so every repetition " +
                        "lasts as long.");
        break;
      }
    }
  }
  const Steal steal = StealOf(run);
  if (steal.measured && steal.max > kHighSteal) {
    items.push_back("Host steal reached " + Percent(steal.max, 1) +
                    " of the machine's CPU in a phase: other tenants took the cores, and "
                    "latencies measured then are inflated. Rerun on a quiet host before trusting "
                    "absolute figures or a regression.");
  }
  for (const WrkCheck& w : run.wrk_checks) {
    if (!w.within_10_percent) {
      items.push_back("The load generator and wrk disagree on " + w.function + " (" +
                      Grouped(w.bench_requests_per_second) + " vs " +
                      Grouped(w.wrk_requests_per_second) + " req/s, p50 " + Ms(w.bench_p50_ms) +
                      " vs " + Ms(w.wrk_p50_ms) +
                      "): treat the absolute figures with caution and rerun.");
    }
  }
  if (inputs.baseline) {
    const auto regressions = inputs.baseline->Regressions(RegressionLevel::kMinor);
    if (!regressions.empty()) {
      items.push_back(std::to_string(regressions.size()) +
                      " figure(s) regressed beyond the noise since the baseline (hasivu " +
                      inputs.baseline->baseline_version +
                      "): bisect the commits between the two, rerunning the worst figure.");
    }
  }
  if (run.config.repetitions < 3) {
    items.push_back(
        "Fewer than three repetitions: the spread of repeated runs is what tells a "
        "regression from noise; run three or more.");
  }
  if (items.empty()) {
    out += "None: the numbers give no cause for action.\n";
    return;
  }
  for (const std::string& i : items) out += "- " + i + "\n";
}

// ---------------------------------------------------------------------------------------------
// JSON.

json::object SummaryJson(const Summary& s) {
  return {{"count", s.count},
          {"min", internal::NumberJson(s.min)},
          {"max", internal::NumberJson(s.max)},
          {"mean", internal::NumberJson(s.mean)},
          {"stddev", internal::NumberJson(s.stddev)},
          {"p50", internal::NumberJson(s.p50)},
          {"p90", internal::NumberJson(s.p90)},
          {"p95", internal::NumberJson(s.p95)},
          {"p99", internal::NumberJson(s.p99)},
          {"p999", internal::NumberJson(s.p999)}};
}

json::object CountsJson(const std::map<std::string, uint64_t>& m) {
  json::object o;
  for (const auto& [k, v] : m) o[k] = v;
  return o;
}

json::object RatesJson(const std::map<std::string, double>& m) {
  json::object o;
  for (const auto& [k, v] : m) o[k] = internal::NumberJson(v);
  return o;
}

json::object PhaseJson(const PhaseResult& p) {
  json::array curve;
  for (const auto& [q, ms] : p.percentile_curve) {
    curve.push_back(json::array{internal::NumberJson(q), internal::NumberJson(ms)});
  }
  json::value server = nullptr;
  if (p.server) {
    server = json::object{{"cpu_seconds", internal::NumberJson(p.server->cpu_seconds)},
                          {"peak_rss_bytes", p.server->peak_rss_bytes},
                          {"rss_at_start_bytes", p.server->rss_at_start_bytes}};
  }
  json::value machine = nullptr;
  if (p.machine) {
    machine = json::object{{"steal_fraction", internal::NumberJson(p.machine->steal_fraction)},
                           {"busy_fraction", internal::NumberJson(p.machine->busy_fraction)}};
  }
  return {{"function", p.function},
          {"target", p.target},
          {"repetition", p.repetition},
          {"mode", p.mode},
          {"offered_rate", internal::NumberJson(p.offered_rate)},
          {"connections", p.connections},
          {"latency_ms", SummaryJson(p.latency_ms)},
          {"service_ms", SummaryJson(p.service_ms)},
          {"requests_per_second", internal::NumberJson(p.requests_per_second)},
          {"requests", p.requests},
          {"succeeded", p.succeeded},
          {"errors", CountsJson(p.errors)},
          {"success_rate", internal::NumberJson(p.success_rate)},
          {"exhausted", p.exhausted},
          {"response_bytes", p.response_bytes},
          {"server", std::move(server)},
          {"machine", std::move(machine)},
          {"percentile_curve", std::move(curve)}};
}

json::value LatencyJson(const std::optional<LatencyFigures>& f) {
  if (!f) return nullptr;
  return json::object{{"count", f->count},
                      {"p99_ms", internal::OptionalJson(f->p99_ms)},
                      {"worst_ms", internal::OptionalJson(f->worst_ms)},
                      {"worst_beyond_bounds", f->worst_beyond_bounds}};
}

json::value ServerViewJson(const std::optional<ServerView>& v) {
  if (!v) return nullptr;
  return json::object{
      {"offload_wait", LatencyJson(v->offload_wait)},
      {"db_pool_wait", LatencyJson(v->db_pool_wait)},
      {"db_pool_hold", LatencyJson(v->db_pool_hold)},
      {"db_query_p95_ms", internal::OptionalJson(v->db_query_p95_ms)},
      {"db_queries", internal::OptionalJson(v->db_queries)},
      {"cache_hit_rate", RatesJson(v->cache_hit_rate)},
      {"compression_ratio", internal::OptionalJson(v->compression_ratio)},
      {"compression_bytes_saved", internal::OptionalJson(v->compression_bytes_saved)},
      {"api_p95_ms_max", internal::OptionalJson(v->api_p95_ms_max)},
      {"api_p95_ms", RatesJson(v->api_p95_ms)},
      {"error_rate_5xx", internal::OptionalJson(v->error_rate_5xx)}};
}

json::object EvaluationJson(const Evaluation& e, const TargetSet& t) {
  json::array checks;
  for (const Check& c : e.checks) {
    checks.push_back(json::object{
        {"function", c.function.empty() ? json::value(nullptr) : json::value(c.function)},
        {"metric", MetricKey(c.metric)},
        {"bound", IsLowerBound(c.metric) ? "min" : "max"},
        {"threshold", internal::NumberJson(c.threshold)},
        {"actual", internal::OptionalJson(c.actual)},
        {"outcome", OutcomeName(c.outcome)},
        {"overridden", c.overridden},
        {"note", c.note}});
  }
  return {{"profile", e.profile},
          {"description", t.description},
          {"score", internal::NumberJson(e.score)},
          {"passed", e.passed},
          {"missed", e.missed},
          {"not_measured", e.not_measured},
          {"not_applicable", json::array(e.not_applicable.begin(), e.not_applicable.end())},
          {"all_passed", e.all_passed()},
          {"checks", std::move(checks)}};
}

json::object SpreadJson(const Spread& s) {
  return {{"median", internal::NumberJson(s.median)},
          {"min", internal::NumberJson(s.min)},
          {"max", internal::NumberJson(s.max)}};
}

json::value BaselineJsonOf(const ReportInputs& inputs) {
  if (!inputs.baseline) return nullptr;
  const BaselineComparison& b = *inputs.baseline;
  json::array figures;
  for (const FigureComparison& f : b.figures) {
    figures.push_back(json::object{{"function", f.function},
                                   {"series", f.series},
                                   {"figure", f.figure},
                                   {"better", f.better == Better::kLower ? "lower" : "higher"},
                                   {"baseline_runs", f.baseline_runs},
                                   {"current_runs", f.current_runs},
                                   {"baseline", SpreadJson(f.comparison.baseline)},
                                   {"current", SpreadJson(f.comparison.current)},
                                   {"ratio", internal::NumberJson(f.comparison.ratio)},
                                   {"worse_by", internal::NumberJson(f.comparison.worse_by)},
                                   {"beyond_noise", f.comparison.beyond_noise},
                                   {"level", RegressionLevelName(f.comparison.level)}});
  }
  return json::object{{"baseline_version", b.baseline_version},
                      {"baseline_started_at", b.baseline_started_at},
                      {"worst", RegressionLevelName(b.worst)},
                      {"fails_at", RegressionLevelName(inputs.regression_fails_at)},
                      {"regressions", b.Regressions(inputs.regression_fails_at).size()},
                      {"figures", std::move(figures)},
                      {"missing", internal::StringsJson(b.missing)},
                      {"notes", internal::StringsJson(b.notes)}};
}

json::value CostJson(const ReportInputs& inputs) {
  if (!inputs.cost) return nullptr;
  const CostEstimate& e = *inputs.cost;
  const CostOptions& o = e.options;
  const auto opt_int = [](const std::optional<int>& v) {
    return v ? json::value(*v) : json::value(nullptr);
  };
  json::array functions;
  for (const FunctionCost& f : e.functions) {
    functions.push_back(
        json::object{{"function", f.function},
                     {"requests", f.requests},
                     {"cpu_seconds_per_1000", internal::OptionalJson(f.cpu_seconds_per_1000)},
                     {"peak_rss_bytes",
                      f.peak_rss_bytes ? json::value(*f.peak_rss_bytes) : json::value(nullptr)},
                     {"billed_ms", internal::OptionalJson(f.billed_ms)},
                     {"billed_basis", f.billed_basis},
                     {"lambda_monthly", internal::OptionalJson(f.lambda_monthly)},
                     {"throughput_rps", internal::OptionalJson(f.throughput_rps)},
                     {"instances_average", opt_int(f.instances_average)},
                     {"instances_peak", opt_int(f.instances_peak)},
                     {"instance_monthly", internal::OptionalJson(f.instance_monthly)}});
  }
  json::object mix;
  for (const auto& [k, v] : o.mix) mix[k] = internal::NumberJson(v);
  return json::object{
      {"options",
       json::object{{"monthly_requests", internal::NumberJson(o.monthly_requests)},
                    {"currency", o.currency},
                    {"lambda_memory_mb", internal::NumberJson(o.lambda_memory_mb)},
                    {"lambda_price_per_gb_second", o.lambda_price_per_gb_second},
                    {"lambda_price_per_million_requests",
                     internal::NumberJson(o.lambda_price_per_million_requests)},
                    {"lambda_scale_cpu", o.lambda_scale_cpu},
                    {"instance_price_per_hour", internal::NumberJson(o.instance_price_per_hour)},
                    {"instance_name", o.instance_name},
                    {"hours_per_month", internal::NumberJson(o.hours_per_month)},
                    {"peak_factor", internal::NumberJson(o.peak_factor)},
                    {"mix", std::move(mix)}}},
      {"average_rate", internal::NumberJson(e.average_rate)},
      {"functions", std::move(functions)},
      {"mix_lambda_monthly", internal::OptionalJson(e.mix_lambda_monthly)},
      {"mix_instances_peak", opt_int(e.mix_instances_peak)},
      {"mix_instance_monthly", internal::OptionalJson(e.mix_instance_monthly)},
      {"mix_note", e.mix_note},
      {"formulas", internal::StringsJson(e.Formulas())}};
}

}  // namespace

std::string_view ExitCodeName(ExitCode code) {
  switch (code) {
    case ExitCode::kPass:
      return "pass";
    case ExitCode::kTargetMissed:
      return "target missed";
    case ExitCode::kRegression:
      return "regression";
    case ExitCode::kRunFailed:
      return "run failed";
  }
  return "";
}

bool RunProducedData(const RunResult& run) {
  for (const PhaseResult& p : run.phases) {
    if (p.target == "hasivu" && p.succeeded > 0) return true;
  }
  for (const ColdStartResult& c : run.cold_starts) {
    if (!c.first_success_ms.empty()) return true;
  }
  return false;
}

Verdict DecideVerdict(const RunResult& run, const ReportInputs& inputs) {
  Verdict v;
  v.code = ExitCode::kPass;
  const auto raise = [&](ExitCode code) { v.code = std::max(v.code, code); };
  std::vector<std::pair<ExitCode, std::string>> reasons;
  for (const std::string& e : run.run_errors) {
    reasons.emplace_back(ExitCode::kRunFailed, "the run failed: " + e);
  }
  if (!RunProducedData(run)) {
    reasons.emplace_back(ExitCode::kRunFailed,
                         "no function got a single expected answer: no data is never a pass");
  }
  if (inputs.baseline) {
    const auto regressions = inputs.baseline->Regressions(inputs.regression_fails_at);
    if (!regressions.empty()) {
      const FigureComparison& worst = *std::max_element(
          regressions.begin(), regressions.end(), [](const auto& a, const auto& b) {
            return a.comparison.worse_by < b.comparison.worse_by;
          });
      reasons.emplace_back(ExitCode::kRegression,
                           std::to_string(regressions.size()) +
                               " figure(s) regressed beyond the noise at " +
                               std::string(RegressionLevelName(inputs.regression_fails_at)) +
                               " or worse; the worst: " + worst.function + " " + worst.figure +
                               " worse by " + Percent(worst.comparison.worse_by, 1) + " (" +
                               std::string(RegressionLevelName(worst.comparison.level)) + ")");
    }
  }
  const std::vector<TargetSet> profiles = ProfilesOf(inputs);
  const Evaluation e = Evaluate(run, profiles.front());
  if (!e.all_passed()) {
    std::string names;
    int listed = 0;
    for (const Check& c : e.checks) {
      if (c.outcome == Outcome::kPass) continue;
      if (listed++ < 5) names += (names.empty() ? "" : ", ") + CheckName(c);
    }
    if (listed > 5) names += ", …";
    reasons.emplace_back(ExitCode::kTargetMissed,
                         e.checks.empty()
                             ? "no check of `" + e.profile + "` applied to this run"
                             : std::to_string(e.missed) + " check(s) of `" + e.profile +
                                   "` missed and " + std::to_string(e.not_measured) +
                                   " not measured: " + names);
  }
  std::stable_sort(reasons.begin(), reasons.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  for (auto& [code, text] : reasons) {
    raise(code);
    v.reasons.push_back(std::move(text));
  }
  if (v.reasons.empty()) {
    v.reasons.push_back("every check of `" + e.profile + "` passed" +
                        (inputs.baseline ? ", and nothing regressed beyond the noise" : ""));
  }
  return v;
}

std::string MarkdownReport(const RunResult& run, const ReportInputs& inputs) {
  const std::vector<TargetSet> profiles = ProfilesOf(inputs);
  const std::vector<Evaluation> evals = EvaluateAll(run, profiles);
  const Verdict verdict = DecideVerdict(run, inputs);
  std::string out = "# hasivu bench";
  if (!run.config.started_at.empty()) out += ", " + run.config.started_at;
  out += "\n\n";
  SummarySection(out, run, evals, verdict);
  TargetsSection(out, profiles, evals);
  ColdSection(out, run);
  WarmSection(out, run);
  PeerSection(out, run);
  WrkSection(out, run);
  ServerSection(out, run);
  SweepSection(out, run);
  BaselineSection(out, inputs);
  CostSection(out, inputs);
  FailedSection(out, run, evals.front(), inputs);
  RecommendationsSection(out, run, evals.front(), inputs);
  return out;
}

std::string JsonReport(const RunResult& run, const ReportInputs& inputs) {
  const std::vector<TargetSet> profiles = ProfilesOf(inputs);
  const std::vector<Evaluation> evals = EvaluateAll(run, profiles);
  const Verdict verdict = DecideVerdict(run, inputs);
  json::array phases;
  for (const PhaseResult& p : run.phases) phases.push_back(PhaseJson(p));
  json::array cold;
  for (const ColdStartResult& c : run.cold_starts) {
    cold.push_back(json::object{{"function", c.function},
                                {"listening_ms", internal::NumbersJson(c.listening_ms)},
                                {"first_success_ms", internal::NumbersJson(c.first_success_ms)},
                                {"failures", internal::StringsJson(c.failures)}});
  }
  json::array wrk;
  for (const WrkCheck& w : run.wrk_checks) {
    wrk.push_back(json::object{
        {"function", w.function},
        {"bench_requests_per_second", internal::NumberJson(w.bench_requests_per_second)},
        {"wrk_requests_per_second", internal::NumberJson(w.wrk_requests_per_second)},
        {"bench_p50_ms", internal::NumberJson(w.bench_p50_ms)},
        {"wrk_p50_ms", internal::NumberJson(w.wrk_p50_ms)},
        {"within_10_percent", w.within_10_percent}});
  }
  json::array sweep;
  for (const SweepPoint& s : run.sweep) {
    sweep.push_back(json::object{{"function", s.function},
                                 {"offered_rate", internal::NumberJson(s.offered_rate)},
                                 {"achieved_rate", internal::NumberJson(s.achieved_rate)},
                                 {"p50_ms", internal::NumberJson(s.p50_ms)},
                                 {"p99_ms", internal::NumberJson(s.p99_ms)},
                                 {"success_rate", internal::NumberJson(s.success_rate)}});
  }
  json::array evaluations;
  for (size_t i = 0; i < evals.size(); ++i) {
    evaluations.push_back(EvaluationJson(evals[i], profiles[i]));
  }
  json::object root{{"format", "hasivu-bench-report"},
                    {"version", 1},
                    {"config", internal::RunConfigJson(run.config)},
                    {"phases", std::move(phases)},
                    {"cold_starts", std::move(cold)},
                    {"server_view", ServerViewJson(run.server_view)},
                    {"wrk_checks", std::move(wrk)},
                    {"sweep", std::move(sweep)},
                    {"run_errors", internal::StringsJson(run.run_errors)},
                    {"evaluations", std::move(evaluations)},
                    {"profile", evals.front().profile},
                    {"score", internal::NumberJson(evals.front().score)},
                    {"score_formula", ScoreFormula()},
                    {"baseline", BaselineJsonOf(inputs)},
                    {"cost", CostJson(inputs)},
                    {"verdict", json::object{{"exit_code", verdict.exit_code()},
                                             {"name", ExitCodeName(verdict.code)},
                                             {"reasons", internal::StringsJson(verdict.reasons)}}},
                    {"exit_code", verdict.exit_code()}};
  return json::serialize(root) + "\n";
}

Status WriteReportFile(const std::string& path, std::string_view text) {
  return internal::WriteFileAtomically(path, text);
}

}  // namespace hasivu::bench
