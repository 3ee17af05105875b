#include "bench/baseline.h"

#include <algorithm>
#include <cmath>
#include <tuple>
#include <utility>

#include "bench/format.h"
#include "bench/json_io.h"

namespace hasivu::bench {
namespace json = boost::json;

namespace {

constexpr std::string_view kFormat = "hasivu-bench-baseline";
constexpr int kVersion = 1;

// The figures of a series, with the direction that is better and how to read each from a run.
struct FigureDef {
  std::string_view name;
  Better better;
  double BaselineRun::*field;
};
constexpr FigureDef kRunFigures[] = {
    {"requests_per_second", Better::kHigher, &BaselineRun::requests_per_second},
    {"p50_ms", Better::kLower, &BaselineRun::p50_ms},
    {"p95_ms", Better::kLower, &BaselineRun::p95_ms},
    {"p99_ms", Better::kLower, &BaselineRun::p99_ms},
    {"success_rate", Better::kHigher, &BaselineRun::success_rate},
};

bool SameSeries(const BaselineSeries& a, const BaselineSeries& b) {
  return a.mode == b.mode && a.offered_rate == b.offered_rate && a.connections == b.connections;
}

double Median(std::vector<double> v) { return SpreadOf(v).median; }

json::object SeriesJson(const BaselineSeries& s) {
  json::array runs;
  for (const BaselineRun& r : s.runs) {
    runs.push_back(
        json::object{{"requests_per_second", internal::NumberJson(r.requests_per_second)},
                     {"p50_ms", internal::NumberJson(r.p50_ms)},
                     {"p95_ms", internal::NumberJson(r.p95_ms)},
                     {"p99_ms", internal::NumberJson(r.p99_ms)},
                     {"success_rate", internal::NumberJson(r.success_rate)}});
  }
  return {{"mode", s.mode},
          {"offered_rate", internal::NumberJson(s.offered_rate)},
          {"connections", s.connections},
          {"runs", std::move(runs)}};
}

StatusOr<BaselineSeries> SeriesFromJson(const json::value& v, const std::string& path) {
  if (!v.is_object()) return InvalidArgumentError(path + ": expected an object");
  const json::object& o = v.get_object();
  RETURN_IF_ERROR(internal::CheckKeys(o, {"mode", "offered_rate", "connections", "runs"}, path));
  BaselineSeries s;
  ASSIGN_OR_RETURN(s.mode, internal::StringAt(o, "mode", path));
  if (s.mode != "closed" && s.mode != "open") {
    return InvalidArgumentError(path + ".mode: expected \"closed\" or \"open\"");
  }
  ASSIGN_OR_RETURN(s.offered_rate, internal::NumberAt(o, "offered_rate", path));
  ASSIGN_OR_RETURN(double connections, internal::NumberAt(o, "connections", path));
  if (connections < 0 || connections != std::floor(connections) || connections > 1e9) {
    return InvalidArgumentError(path + ".connections: expected a whole number >= 0");
  }
  s.connections = static_cast<int>(connections);
  ASSIGN_OR_RETURN(const json::array* runs, internal::ArrayAt(o, "runs", path));
  if (runs->empty()) return InvalidArgumentError(path + ".runs: empty");
  for (size_t i = 0; i < runs->size(); ++i) {
    const std::string rpath = path + ".runs[" + std::to_string(i) + "]";
    if (!(*runs)[i].is_object()) return InvalidArgumentError(rpath + ": expected an object");
    const json::object& ro = (*runs)[i].get_object();
    RETURN_IF_ERROR(internal::CheckKeys(
        ro, {"requests_per_second", "p50_ms", "p95_ms", "p99_ms", "success_rate"}, rpath));
    BaselineRun r;
    for (const FigureDef& f : kRunFigures) {
      ASSIGN_OR_RETURN(r.*f.field, internal::NumberAt(ro, f.name, rpath));
    }
    s.runs.push_back(r);
  }
  return s;
}

StatusOr<Baseline> ParseBaselineInner(std::string_view text) {
  ASSIGN_OR_RETURN(json::value root, internal::ParseJson(text, "the file"));
  if (!root.is_object()) return InvalidArgumentError("the file: expected an object");
  const json::object& o = root.get_object();
  RETURN_IF_ERROR(internal::CheckKeys(o, {"format", "version", "config", "functions"}, ""));
  ASSIGN_OR_RETURN(std::string format, internal::StringAt(o, "format", ""));
  if (format != kFormat) {
    return InvalidArgumentError("format: expected \"" + std::string(kFormat) + "\", got \"" +
                                format + "\"");
  }
  ASSIGN_OR_RETURN(double version, internal::NumberAt(o, "version", ""));
  if (version != kVersion) {
    return InvalidArgumentError("version: this bench reads version " + std::to_string(kVersion) +
                                ", the file is " + internal::Significant(version));
  }
  Baseline b;
  ASSIGN_OR_RETURN(const json::object* config, internal::ObjectAt(o, "config", ""));
  ASSIGN_OR_RETURN(b.config, internal::RunConfigFromJson(*config, "config"));
  ASSIGN_OR_RETURN(const json::object* functions, internal::ObjectAt(o, "functions", ""));
  for (const auto& entry : *functions) {
    const std::string name(entry.key());
    const std::string fpath = internal::JoinPath("functions", name);
    if (!entry.value().is_object()) return InvalidArgumentError(fpath + ": expected an object");
    const json::object& fo = entry.value().get_object();
    RETURN_IF_ERROR(internal::CheckKeys(fo, {"series", "cold_start"}, fpath));
    BaselineFunction f;
    if (fo.contains("series")) {
      ASSIGN_OR_RETURN(const json::array* series, internal::ArrayAt(fo, "series", fpath));
      for (size_t i = 0; i < series->size(); ++i) {
        ASSIGN_OR_RETURN(
            BaselineSeries s,
            SeriesFromJson((*series)[i], fpath + ".series[" + std::to_string(i) + "]"));
        f.series.push_back(std::move(s));
      }
    }
    if (fo.contains("cold_start")) {
      const std::string cpath = internal::JoinPath(fpath, "cold_start");
      ASSIGN_OR_RETURN(const json::object* co, internal::ObjectAt(fo, "cold_start", fpath));
      RETURN_IF_ERROR(internal::CheckKeys(
          *co,
          {"listening_ms", "first_success_ms", "listening_median_ms", "first_success_median_ms"},
          cpath));
      // The medians are for people; the starts are the data. Still, a wrong type is a bad file.
      ASSIGN_OR_RETURN(std::optional<double> unused_listening,
                       internal::OptionalNumberAt(*co, "listening_median_ms", cpath));
      ASSIGN_OR_RETURN(std::optional<double> unused_first,
                       internal::OptionalNumberAt(*co, "first_success_median_ms", cpath));
      (void)unused_listening;
      (void)unused_first;
      BaselineColdStart c;
      ASSIGN_OR_RETURN(c.listening_ms, internal::NumbersAt(*co, "listening_ms", cpath));
      ASSIGN_OR_RETURN(c.first_success_ms, internal::NumbersAt(*co, "first_success_ms", cpath));
      f.cold_start = std::move(c);
    }
    b.functions[name] = std::move(f);
  }
  return b;
}

void Compare(std::string_view function, std::string_view series, std::string_view figure,
             Better better, const std::vector<double>& base, const std::vector<double>& now,
             BaselineComparison& out) {
  // CompareRuns needs both sides; a figure only one side has is not a comparison.
  if (base.empty() || now.empty()) return;
  FigureComparison f;
  f.function = function;
  f.series = series;
  f.figure = figure;
  f.better = better;
  f.baseline_runs = static_cast<int>(base.size());
  f.current_runs = static_cast<int>(now.size());
  f.comparison = CompareRuns(base, now, better);
  out.worst = std::max(out.worst, f.comparison.level);
  out.figures.push_back(std::move(f));
}

void NoteDifference(std::string_view what, const std::string& base, const std::string& now,
                    std::vector<std::string>& notes) {
  if (base != now) {
    notes.push_back(std::string(what) + " differs: baseline \"" + base + "\", now \"" + now + "\"");
  }
}

}  // namespace

std::string BaselineSeries::Name() const {
  std::string name = mode;
  if (mode == "open") name += " " + internal::Significant(offered_rate) + "/s";
  name += ", " + std::to_string(connections) + " connections";
  return name;
}

Baseline BaselineFrom(const RunResult& run) {
  Baseline b;
  b.config = run.config;
  // Repetition order within a series, whatever order the runner recorded the phases in.
  std::vector<const PhaseResult*> phases;
  for (const PhaseResult& p : run.phases) {
    if (p.target == "hasivu" && p.latency_ms.count > 0) phases.push_back(&p);
  }
  std::stable_sort(phases.begin(), phases.end(), [](const PhaseResult* a, const PhaseResult* c) {
    return a->repetition < c->repetition;
  });
  for (const PhaseResult* p : phases) {
    BaselineFunction& f = b.functions[p->function];
    BaselineSeries key;
    key.mode = p->mode;
    key.offered_rate = p->offered_rate;
    key.connections = p->connections;
    auto it = std::find_if(f.series.begin(), f.series.end(),
                           [&](const BaselineSeries& s) { return SameSeries(s, key); });
    if (it == f.series.end()) it = f.series.insert(f.series.end(), key);
    it->runs.push_back({.requests_per_second = p->requests_per_second,
                        .p50_ms = p->latency_ms.p50,
                        .p95_ms = p->latency_ms.p95,
                        .p99_ms = p->latency_ms.p99,
                        .success_rate = p->success_rate});
  }
  for (const ColdStartResult& c : run.cold_starts) {
    if (c.listening_ms.empty() && c.first_success_ms.empty()) continue;
    b.functions[c.function].cold_start =
        BaselineColdStart{.listening_ms = c.listening_ms, .first_success_ms = c.first_success_ms};
  }
  return b;
}

std::string BaselineJson(const Baseline& b) {
  json::object functions;
  for (const auto& [name, f] : b.functions) {
    json::object fo;
    json::array series;
    for (const BaselineSeries& s : f.series) series.push_back(SeriesJson(s));
    fo["series"] = std::move(series);
    if (f.cold_start) {
      json::object co{{"listening_ms", internal::NumbersJson(f.cold_start->listening_ms)},
                      {"first_success_ms", internal::NumbersJson(f.cold_start->first_success_ms)}};
      if (!f.cold_start->listening_ms.empty()) {
        co["listening_median_ms"] = internal::NumberJson(Median(f.cold_start->listening_ms));
      }
      if (!f.cold_start->first_success_ms.empty()) {
        co["first_success_median_ms"] =
            internal::NumberJson(Median(f.cold_start->first_success_ms));
      }
      fo["cold_start"] = std::move(co);
    }
    functions[name] = std::move(fo);
  }
  json::object root{{"format", kFormat},
                    {"version", kVersion},
                    {"config", internal::RunConfigJson(b.config)},
                    {"functions", std::move(functions)}};
  return json::serialize(root) + "\n";
}

StatusOr<Baseline> ParseBaseline(std::string_view text) {
  auto b = ParseBaselineInner(text);
  if (!b.ok()) return b.status().WithContext("baseline");
  return b;
}

Status SaveBaseline(const RunResult& run, const std::string& path) {
  return internal::WriteFileAtomically(path, BaselineJson(BaselineFrom(run)));
}

StatusOr<Baseline> LoadBaseline(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, internal::ReadWholeFile(path));
  auto b = ParseBaseline(text);
  if (!b.ok()) return b.status().WithContext(path);
  return b;
}

std::vector<FigureComparison> BaselineComparison::Regressions(RegressionLevel at_least) const {
  std::vector<FigureComparison> out;
  for (const FigureComparison& f : figures) {
    if (f.comparison.level != RegressionLevel::kNone && f.comparison.level >= at_least) {
      out.push_back(f);
    }
  }
  return out;
}

BaselineComparison CompareWithBaseline(const Baseline& baseline, const RunResult& current) {
  BaselineComparison out;
  out.baseline_version = baseline.config.version;
  out.baseline_started_at = baseline.config.started_at;
  const Baseline now = BaselineFrom(current);
  NoteDifference("store", baseline.config.store, current.config.store, out.notes);
  NoteDifference("cache", baseline.config.cache, current.config.cache, out.notes);
  NoteDifference("machine", baseline.config.machine, current.config.machine, out.notes);
  if (baseline.config.duration_seconds != current.config.duration_seconds) {
    out.notes.push_back("phase duration differs: baseline " +
                        internal::Significant(baseline.config.duration_seconds) + " s, now " +
                        internal::Significant(current.config.duration_seconds) + " s");
  }
  bool single = false;
  for (const auto& [name, base] : baseline.functions) {
    auto it = now.functions.find(name);
    if (it == now.functions.end()) {
      out.missing.push_back(name + ": in the baseline, not in this run");
      continue;
    }
    const BaselineFunction& cur = it->second;
    for (const BaselineSeries& bs : base.series) {
      auto cs = std::find_if(cur.series.begin(), cur.series.end(),
                             [&](const BaselineSeries& s) { return SameSeries(s, bs); });
      if (cs == cur.series.end()) {
        out.missing.push_back(name + " " + bs.Name() + ": in the baseline, not in this run");
        continue;
      }
      single = single || bs.runs.size() < 2 || cs->runs.size() < 2;
      for (const FigureDef& f : kRunFigures) {
        std::vector<double> b;
        std::vector<double> c;
        for (const BaselineRun& r : bs.runs) b.push_back(r.*f.field);
        for (const BaselineRun& r : cs->runs) c.push_back(r.*f.field);
        Compare(name, bs.Name(), f.name, f.better, b, c, out);
      }
    }
    if (base.cold_start) {
      if (!cur.cold_start) {
        out.missing.push_back(name + " cold start: in the baseline, not in this run");
      } else {
        Compare(name, "cold start", "cold_listening_ms", Better::kLower,
                base.cold_start->listening_ms, cur.cold_start->listening_ms, out);
        Compare(name, "cold start", "cold_first_success_ms", Better::kLower,
                base.cold_start->first_success_ms, cur.cold_start->first_success_ms, out);
      }
    }
  }
  if (single) {
    out.notes.push_back(
        "a series had a single repetition on one side: its range is that one run, so the verdict "
        "rests on the other side's spread; run three or more repetitions");
  }
  return out;
}

}  // namespace hasivu::bench
