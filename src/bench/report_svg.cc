// The SVG plots of report.h, and the phase picking they share with report.cc.
//
// Written by hand: an SVG of lines, text and circles is a few dozen elements, and Debian has no
// SVG library worth the dependency for that (librsvg renders, it does not write; the plotting
// libraries bring a language runtime). What makes hand-written SVG safe is kept in one place:
// every number goes through Coord() (finite, fixed decimals) and every text through Escape().
#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "bench/format.h"
#include "bench/report.h"
#include "bench/report_internal.h"
#include "bench/scenarios.h"

namespace hasivu::bench {
namespace internal {

bool operator<(const SeriesKey& a, const SeriesKey& b) {
  const auto rank = [](const SeriesKey& k) { return k.mode == "closed" ? 0 : 1; };
  return std::tuple(rank(a), a.mode, a.offered_rate, a.connections) <
         std::tuple(rank(b), b.mode, b.offered_rate, b.connections);
}

SeriesKey KeyOf(const PhaseResult& p) {
  return {.mode = p.mode, .offered_rate = p.offered_rate, .connections = p.connections};
}

std::string SeriesTitle(const SeriesKey& key) {
  if (key.mode == "open") {
    return "open loop at " + Significant(key.offered_rate) + " requests/s, " +
           std::to_string(key.connections) + " connections";
  }
  return key.mode + " loop, " + std::to_string(key.connections) + " connections";
}

std::vector<const PhaseResult*> AnsweredPhases(const RunResult& run, const std::string& function,
                                               const std::string& target) {
  std::vector<const PhaseResult*> out;
  for (const PhaseResult& p : run.phases) {
    if (p.function == function && p.target == target && p.latency_ms.count > 0) {
      out.push_back(&p);
    }
  }
  return out;
}

const PhaseResult* RepresentativePhase(const RunResult& run, const std::string& function,
                                       const std::string& target) {
  std::vector<const PhaseResult*> closed;
  const PhaseResult* open = nullptr;
  for (const PhaseResult* p : AnsweredPhases(run, function, target)) {
    if (p->mode == "closed") {
      closed.push_back(p);
    } else if (open == nullptr || p->offered_rate > open->offered_rate) {
      open = p;
    }
  }
  if (closed.empty()) return open;
  // The lower median of an even count: an actual repetition, never an average of two.
  std::sort(closed.begin(), closed.end(), [](const PhaseResult* a, const PhaseResult* b) {
    return a->latency_ms.p95 < b->latency_ms.p95;
  });
  return closed[(closed.size() - 1) / 2];
}

std::vector<std::pair<double, double>> CurveOf(const PhaseResult& p) {
  if (!p.percentile_curve.empty()) return p.percentile_curve;
  const Summary& s = p.latency_ms;
  return {{0, s.min},    {0.5, s.p50},    {0.9, s.p90}, {0.95, s.p95},
          {0.99, s.p99}, {0.999, s.p999}, {1, s.max}};
}

std::vector<std::string> FunctionsOn(const RunResult& run, const std::string& target) {
  std::set<std::string> names;
  for (const PhaseResult& p : run.phases) {
    if (p.target == target) names.insert(p.function);
  }
  std::vector<std::string> out;
  for (std::string_view f : kFunctions) {
    if (names.erase(std::string(f)) > 0) out.emplace_back(f);
  }
  out.insert(out.end(), names.begin(), names.end());
  return out;
}

}  // namespace internal

namespace {
using internal::Fixed;

constexpr double kWidth = 960;
constexpr double kHeight = 540;
constexpr double kLeft = 80;
constexpr double kRight = 250;  // room for the legend
constexpr double kTop = 50;
constexpr double kBottom = 60;
// Ten colours told apart in print and by most colour-blind readers (Tableau 10).
constexpr const char* kColours[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
// The lowest latency a log axis shows: a microsecond.
constexpr double kFloorMs = 0.001;
// The last tick of the percentile axis, 99.99 %: beyond it the x coordinate runs to infinity.
constexpr double kMaxNines = 4;

std::string Escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string Coord(double v) { return Fixed(std::isfinite(v) ? v : 0, 1); }

// A plot area with a log-scaled y axis of milliseconds.
struct Frame {
  double x_min = 0;
  double x_max = 1;
  double log_y_min = -1;  // decades
  double log_y_max = 1;
  double X(double x) const {
    return kLeft + (x - x_min) / (x_max - x_min) * (kWidth - kLeft - kRight);
  }
  double Y(double ms) const {
    const double l = std::log10(std::max(ms, kFloorMs));
    return kHeight - kBottom -
           (l - log_y_min) / (log_y_max - log_y_min) * (kHeight - kTop - kBottom);
  }
};

// Whole decades around [lo, hi] ms, at least one.
void FitDecades(double lo, double hi, Frame& f) {
  lo = std::max(lo, kFloorMs);
  hi = std::max(hi, lo);
  f.log_y_min = std::floor(std::log10(lo));
  f.log_y_max = std::ceil(std::log10(hi));
  if (f.log_y_max <= f.log_y_min) f.log_y_max = f.log_y_min + 1;
}

std::string SvgHeader(std::string_view title) {
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + Coord(kWidth) + "\" height=\"" +
         Coord(kHeight) + "\" viewBox=\"0 0 " + Coord(kWidth) + " " + Coord(kHeight) +
         "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  out += "<title>" + Escape(title) + "</title>\n";
  out += "<rect x=\"0\" y=\"0\" width=\"" + Coord(kWidth) + "\" height=\"" + Coord(kHeight) +
         "\" fill=\"white\"/>\n";
  out +=
      "<text x=\"" + Coord(kLeft) + "\" y=\"28\" font-size=\"16\">" + Escape(title) + "</text>\n";
  return out;
}

std::string Text(double x, double y, std::string_view text, std::string_view anchor = "start") {
  return "<text x=\"" + Coord(x) + "\" y=\"" + Coord(y) + "\" text-anchor=\"" +
         std::string(anchor) + "\">" + Escape(text) + "</text>\n";
}

std::string Line(double x1, double y1, double x2, double y2, std::string_view stroke,
                 double width = 1) {
  return "<line x1=\"" + Coord(x1) + "\" y1=\"" + Coord(y1) + "\" x2=\"" + Coord(x2) + "\" y2=\"" +
         Coord(y2) + "\" stroke=\"" + std::string(stroke) + "\" stroke-width=\"" + Fixed(width, 1) +
         "\"/>\n";
}

// The axes' lines, the y axis's decade ticks and grid, and its label.
std::string LogYAxis(const Frame& f, std::string_view label) {
  const double bottom = kHeight - kBottom;
  const double right = kWidth - kRight;
  std::string out = Line(kLeft, kTop, kLeft, bottom, "black");
  out += Line(kLeft, bottom, right, bottom, "black");
  for (double d = f.log_y_min; d <= f.log_y_max + 1e-9; d += 1) {
    const double ms = std::pow(10.0, d);
    const double y = f.Y(ms);
    out += Line(kLeft, y, right, y, "#dddddd");
    out += Line(kLeft - 5, y, kLeft, y, "black");
    out += Text(kLeft - 8, y + 4, internal::Shortest(ms), "end");
  }
  out += "<text x=\"20\" y=\"" + Coord((kTop + bottom) / 2) + "\" text-anchor=\"middle\" " +
         "transform=\"rotate(-90 20 " + Coord((kTop + bottom) / 2) + ")\">" + Escape(label) +
         "</text>\n";
  return out;
}

std::string LegendEntry(int index, std::string_view colour, bool dashed, std::string_view label) {
  const double x = kWidth - kRight + 20;
  const double y = kTop + 10 + index * 18;
  std::string out = "<line x1=\"" + Coord(x) + "\" y1=\"" + Coord(y) + "\" x2=\"" + Coord(x + 24) +
                    "\" y2=\"" + Coord(y) + "\" stroke=\"" + std::string(colour) +
                    "\" stroke-width=\"2\"";
  if (dashed) out += " stroke-dasharray=\"6 4\"";
  out += "/>\n";
  out += Text(x + 30, y + 4, label);
  return out;
}

std::string PathOf(const std::vector<std::pair<double, double>>& points, std::string_view colour,
                   bool dashed, std::string_view label) {
  std::string d;
  for (const auto& [x, y] : points) {
    d += (d.empty() ? "M" : " L") + Coord(x) + " " + Coord(y);
  }
  std::string out = "<path d=\"" + d + "\" fill=\"none\" stroke=\"" + std::string(colour) +
                    "\" stroke-width=\"2\"";
  if (dashed) out += " stroke-dasharray=\"6 4\"";
  out += "><title>" + Escape(label) + "</title></path>\n";
  return out;
}

std::string NoData(std::string out) {
  out += Text(kWidth / 2, kHeight / 2, "no data: nothing was measured", "middle");
  return out + "</svg>\n";
}

// 1, 2 or 5 times a power of ten, so that about `n` steps cover `span`.
double NiceStep(double span, int n) {
  const double raw = span / n;
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0}) {
    if (raw <= m * p) return m * p;
  }
  return 10 * p;
}

}  // namespace

std::string LatencySvg(const RunResult& run) {
  struct Curve {
    std::string label;
    int colour = 0;
    bool dashed = false;
    std::vector<std::pair<double, double>> points;  // (nines, ms)
  };
  std::vector<Curve> curves;
  std::map<std::string, int> colour_of;
  double lo = INFINITY;
  double hi = 0;
  for (const std::string target : {"hasivu", "peer"}) {
    for (const std::string& function : internal::FunctionsOn(run, target)) {
      const PhaseResult* p = internal::RepresentativePhase(run, function, target);
      if (p == nullptr) continue;
      Curve c;
      c.label = target == "hasivu" ? function : function + " (peer)";
      c.dashed = target != "hasivu";
      auto [it, added] = colour_of.emplace(function, static_cast<int>(colour_of.size()));
      c.colour = it->second % static_cast<int>(std::size(kColours));
      for (const auto& [q, ms] : internal::CurveOf(*p)) {
        if (!std::isfinite(q) || !std::isfinite(ms) || q < 0 || q >= 1) continue;
        const double nines = -std::log10(1 - q);
        if (nines > kMaxNines + 1e-9) continue;
        c.points.emplace_back(nines, ms);
        lo = std::min(lo, ms);
        hi = std::max(hi, ms);
      }
      std::sort(c.points.begin(), c.points.end());
      if (!c.points.empty()) curves.push_back(std::move(c));
    }
  }
  std::string out = SvgHeader("Latency by percentile (ms, log scale)");
  if (curves.empty()) return NoData(std::move(out));
  Frame f;
  f.x_min = 0;
  f.x_max = kMaxNines;
  FitDecades(lo, hi, f);
  out += LogYAxis(f, "latency (ms)");
  const double bottom = kHeight - kBottom;
  const char* ticks[] = {"0 %", "90 %", "99 %", "99.9 %", "99.99 %"};
  for (int i = 0; i <= static_cast<int>(kMaxNines); ++i) {
    const double x = f.X(i);
    out += Line(x, bottom, x, bottom + 5, "black");
    out += Text(x, bottom + 20, ticks[i], "middle");
  }
  out += Text((kLeft + kWidth - kRight) / 2, bottom + 45, "percentile", "middle");
  int index = 0;
  for (const Curve& c : curves) {
    std::vector<std::pair<double, double>> xy;
    for (const auto& [nines, ms] : c.points) xy.emplace_back(f.X(nines), f.Y(ms));
    out += PathOf(xy, kColours[c.colour], c.dashed, c.label);
    out += LegendEntry(index++, kColours[c.colour], c.dashed, c.label);
  }
  return out + "</svg>\n";
}

std::string SweepSvg(const RunResult& run) {
  std::map<std::string, std::vector<const SweepPoint*>> by_function;
  double x_max = 0;
  double lo = INFINITY;
  double hi = 0;
  for (const SweepPoint& s : run.sweep) {
    if (!std::isfinite(s.achieved_rate) || !std::isfinite(s.p99_ms)) continue;
    by_function[s.function].push_back(&s);
    x_max = std::max(x_max, s.achieved_rate);
    lo = std::min(lo, s.p99_ms);
    hi = std::max(hi, s.p99_ms);
  }
  std::string out = SvgHeader("Rate sweep: achieved throughput against p99 latency");
  if (by_function.empty()) return NoData(std::move(out));
  Frame f;
  const double step = NiceStep(std::max(x_max, 1.0), 5);
  f.x_min = 0;
  f.x_max = std::ceil(std::max(x_max, 1.0) / step) * step;
  FitDecades(lo, hi, f);
  out += LogYAxis(f, "p99 latency (ms)");
  const double bottom = kHeight - kBottom;
  for (double x = 0; x <= f.x_max + step / 2; x += step) {
    out += Line(f.X(x), bottom, f.X(x), bottom + 5, "black");
    out += Text(f.X(x), bottom + 20, internal::Grouped(x), "middle");
  }
  out += Text((kLeft + kWidth - kRight) / 2, bottom + 45, "achieved requests/s", "middle");
  // The API's order, then others by name, as in the tables.
  std::vector<std::string> order;
  for (std::string_view fn : kFunctions) {
    if (by_function.contains(std::string(fn))) order.emplace_back(fn);
  }
  for (const auto& [fn, points] : by_function) {
    if (std::find(order.begin(), order.end(), fn) == order.end()) order.push_back(fn);
  }
  int index = 0;
  for (const std::string& fn : order) {
    std::vector<const SweepPoint*> points = by_function[fn];
    std::sort(points.begin(), points.end(), [](const SweepPoint* a, const SweepPoint* b) {
      return a->offered_rate < b->offered_rate;
    });
    const char* colour = kColours[index % std::size(kColours)];
    std::vector<std::pair<double, double>> xy;
    for (const SweepPoint* p : points) xy.emplace_back(f.X(p->achieved_rate), f.Y(p->p99_ms));
    out += PathOf(xy, colour, false, fn);
    for (const auto& [x, y] : xy) {
      out += "<circle cx=\"" + Coord(x) + "\" cy=\"" + Coord(y) + "\" r=\"3\" fill=\"" +
             std::string(colour) + "\"/>\n";
    }
    out += LegendEntry(index++, colour, false, fn);
  }
  return out + "</svg>\n";
}

}  // namespace hasivu::bench
