#include "bench/report.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cmath>
#include <regex>
#include <string>
#include <vector>

#include "bench/testing/synthetic_run.h"

namespace hasivu::bench {
namespace {
namespace json = boost::json;

using testing::ClosedPhase;
using testing::GoodRun;
using testing::PhasesOf;

ReportInputs StrictAndSeed() {
  ReportInputs in;
  in.targets = {StrictTargets(), SeedTargets()};
  return in;
}

// orders-list at a client p95 of 40 ms while the server's own p95 stays 0.8 ms.
RunResult SlowOrdersList() {
  RunResult run = GoodRun();
  for (PhaseResult* p : PhasesOf(run, "orders-list")) p->latency_ms = testing::LatencyOf(25);
  return run;
}

ReportInputs WithBaselineOf(const RunResult& base_run, const RunResult& now) {
  ReportInputs in = StrictAndSeed();
  in.baseline = CompareWithBaseline(BaselineFrom(base_run), now);
  return in;
}

TEST(VerdictTest, PassWhenEveryCheckPasses) {
  const Verdict v = DecideVerdict(GoodRun(), StrictAndSeed());
  EXPECT_EQ(v.code, ExitCode::kPass);
  EXPECT_EQ(v.exit_code(), 0);
  ASSERT_EQ(v.reasons.size(), 1u);
  EXPECT_NE(v.reasons[0].find("every check of `strict` passed"), std::string::npos);
}

TEST(VerdictTest, OneMissedTargetExitsOne) {
  const Verdict v = DecideVerdict(SlowOrdersList(), StrictAndSeed());
  EXPECT_EQ(v.exit_code(), 1);
  ASSERT_FALSE(v.reasons.empty());
  EXPECT_NE(v.reasons[0].find("orders-list warm_p95_ms"), std::string::npos) << v.reasons[0];
  // The deciding profile is the first: against the seed alone the same run passes.
  ReportInputs seed;
  seed.targets = {SeedTargets()};
  EXPECT_EQ(DecideVerdict(SlowOrdersList(), seed).code, ExitCode::kPass);
  // No targets given: the seed's.
  EXPECT_EQ(DecideVerdict(SlowOrdersList(), ReportInputs{}).code, ExitCode::kPass);
}

TEST(VerdictTest, NotMeasuredIsNeverAPass) {
  RunResult run = GoodRun();
  run.cold_starts.clear();
  const Verdict v = DecideVerdict(run, StrictAndSeed());
  EXPECT_EQ(v.code, ExitCode::kTargetMissed);
  EXPECT_NE(v.reasons[0].find("10 not measured"), std::string::npos) << v.reasons[0];
}

TEST(VerdictTest, ARegressionBeyondTheNoiseExitsTwo) {
  const RunResult base = GoodRun(1.0);
  const RunResult now = GoodRun(1.5);  // still inside every strict target
  const Verdict v = DecideVerdict(now, WithBaselineOf(base, now));
  EXPECT_EQ(v.code, ExitCode::kRegression);
  EXPECT_NE(v.reasons[0].find("regressed beyond the noise"), std::string::npos) << v.reasons[0];
  // Only severe regressions fail: a 7 % one does not.
  const RunResult slightly = GoodRun(1.07);
  ReportInputs severe_only = WithBaselineOf(base, slightly);
  severe_only.regression_fails_at = RegressionLevel::kSevere;
  EXPECT_EQ(DecideVerdict(slightly, severe_only).code, ExitCode::kPass);
  EXPECT_EQ(DecideVerdict(slightly, WithBaselineOf(base, slightly)).code, ExitCode::kRegression);
  // The same run against itself: nothing regressed.
  EXPECT_EQ(DecideVerdict(base, WithBaselineOf(base, base)).code, ExitCode::kPass);
}

TEST(VerdictTest, AFailedRunExitsThreeAndOutranksTheRest) {
  RunResult run = SlowOrdersList();
  const RunResult base = GoodRun(0.5);
  run.run_errors.push_back("the peer never came up");
  const Verdict v = DecideVerdict(run, WithBaselineOf(base, run));
  EXPECT_EQ(v.code, ExitCode::kRunFailed);
  // Every condition is listed, the deciding one first: 3, then 2, then 1.
  ASSERT_EQ(v.reasons.size(), 3u);
  EXPECT_NE(v.reasons[0].find("the peer never came up"), std::string::npos);
  EXPECT_NE(v.reasons[1].find("regressed"), std::string::npos);
  EXPECT_NE(v.reasons[2].find("missed"), std::string::npos);
  // Without the run error: the regression outranks the missed target.
  run.run_errors.clear();
  const Verdict v2 = DecideVerdict(run, WithBaselineOf(base, run));
  EXPECT_EQ(v2.code, ExitCode::kRegression);
  EXPECT_EQ(v2.reasons.size(), 2u);
}

TEST(VerdictTest, NoDataIsAFailedRun) {
  EXPECT_EQ(DecideVerdict(RunResult{}, StrictAndSeed()).code, ExitCode::kRunFailed);
  EXPECT_FALSE(RunProducedData(RunResult{}));
  // Every request answered with the wrong status: data of a broken setup, not of the server.
  RunResult wrong = GoodRun();
  wrong.cold_starts.clear();
  for (PhaseResult& p : wrong.phases) {
    p.succeeded = 0;
    p.success_rate = 0;
    p.errors["status 401 UNAUTHENTICATED"] = p.requests;
  }
  EXPECT_FALSE(RunProducedData(wrong));
  const Verdict v = DecideVerdict(wrong, StrictAndSeed());
  EXPECT_EQ(v.code, ExitCode::kRunFailed);
  EXPECT_NE(v.reasons[0].find("no data is never a pass"), std::string::npos);
}

TEST(VerdictTest, ExitCodeNames) {
  EXPECT_EQ(ExitCodeName(ExitCode::kPass), "pass");
  EXPECT_EQ(ExitCodeName(ExitCode::kTargetMissed), "target missed");
  EXPECT_EQ(ExitCodeName(ExitCode::kRegression), "regression");
  EXPECT_EQ(ExitCodeName(ExitCode::kRunFailed), "run failed");
}

// A run with a bit of everything: a peer, an open-loop series, a sweep, wrk, errors.
RunResult FullRun() {
  RunResult run = SlowOrdersList();
  run.config.peer_url = "http://127.0.0.1:3000";
  for (const char* f : {"orders-list", "menus-daily"}) {
    for (int r = 0; r < 3; ++r) run.phases.push_back(ClosedPhase(f, 12, r, 900, "peer"));
  }
  PhaseResult open = ClosedPhase("menus-daily", 2);
  open.mode = "open";
  open.offered_rate = 1000;
  open.connections = 10;
  run.phases.push_back(open);
  PhaseResult& create = *PhasesOf(run, "orders-create")[0];
  create.errors["status 409 SOLD_OUT"] = 7;
  create.succeeded -= 7;
  create.success_rate = static_cast<double>(create.succeeded) / create.requests;
  for (double rate : {500.0, 1000.0, 2000.0, 4000.0}) {
    run.sweep.push_back({.function = "menus-daily",
                         .offered_rate = rate,
                         .achieved_rate = std::min(rate, 3000.0),
                         .p50_ms = 0.4,
                         .p99_ms = rate > 3000 ? 80 : 1.5,
                         .success_rate = 1});
    run.sweep.push_back({.function = "users-get",
                         .offered_rate = rate,
                         .achieved_rate = rate,
                         .p50_ms = 0.3,
                         .p99_ms = 1.1,
                         .success_rate = 1});
  }
  run.wrk_checks.push_back({.function = "users-get",
                            .bench_requests_per_second = 9800,
                            .wrk_requests_per_second = 10000,
                            .bench_p50_ms = 3.1,
                            .wrk_p50_ms = 3.0,
                            .within_10_percent = true});
  return run;
}

ReportInputs FullInputs(const RunResult& run) {
  ReportInputs in = WithBaselineOf(GoodRun(), run);
  auto cost = EstimateCost(run, CostOptions{});
  EXPECT_TRUE(cost.ok());
  in.cost = *cost;
  return in;
}

TEST(JsonReportTest, ParsesBackWithEverythingInIt) {
  const RunResult run = FullRun();
  const std::string text = JsonReport(run, FullInputs(run));
  boost::system::error_code ec;
  const json::value v = json::parse(text, ec);
  ASSERT_FALSE(ec) << ec.message();
  const json::object& o = v.as_object();
  EXPECT_EQ(o.at("format").as_string(), "hasivu-bench-report");
  EXPECT_EQ(o.at("config").at("peer_url").as_string(), "http://127.0.0.1:3000");
  const json::array& phases = o.at("phases").as_array();
  ASSERT_EQ(phases.size(), run.phases.size());
  // The first phase's figures, as in the run.
  const json::object& p0 = phases[0].as_object();
  EXPECT_EQ(p0.at("function").as_string(), run.phases[0].function);
  EXPECT_DOUBLE_EQ(p0.at("latency_ms").at("p95").to_number<double>(), run.phases[0].latency_ms.p95);
  EXPECT_EQ(p0.at("latency_ms").at("count").to_number<uint64_t>(), 10000u);
  EXPECT_DOUBLE_EQ(p0.at("server").at("cpu_seconds").to_number<double>(),
                   run.phases[0].server->cpu_seconds);
  EXPECT_EQ(p0.at("percentile_curve").as_array().size(), run.phases[0].percentile_curve.size());
  EXPECT_EQ(o.at("cold_starts").as_array().size(), 10u);
  EXPECT_DOUBLE_EQ(o.at("server_view").at("db_query_p95_ms").to_number<double>(), 0.4);
  EXPECT_DOUBLE_EQ(o.at("server_view").at("cache_hit_rate").at("all").to_number<double>(), 0.97);
  EXPECT_EQ(o.at("sweep").as_array().size(), 8u);
  EXPECT_EQ(o.at("wrk_checks").as_array().size(), 1u);
  // The judgement.
  const json::array& evals = o.at("evaluations").as_array();
  ASSERT_EQ(evals.size(), 2u);
  EXPECT_EQ(evals[0].at("profile").as_string(), "strict");
  EXPECT_EQ(evals[0].at("checks").as_array().size(), 42u);
  EXPECT_EQ(evals[1].at("profile").as_string(), "seed");
  bool found_miss = false;
  for (const json::value& c : evals[0].at("checks").as_array()) {
    if (c.at("function") == "orders-list" && c.at("metric") == "warm_p95_ms") {
      EXPECT_EQ(c.at("outcome").as_string(), "miss");
      EXPECT_DOUBLE_EQ(c.at("actual").to_number<double>(), 40);
      EXPECT_DOUBLE_EQ(c.at("threshold").to_number<double>(), 10);
      found_miss = true;
    }
    if (c.at("function").is_null()) {
      EXPECT_EQ(c.at("outcome").as_string(), "pass");
    }
  }
  EXPECT_TRUE(found_miss);
  EXPECT_NEAR(o.at("score").to_number<double>(), 100.0 * 40 / 42, 1e-9);  // and errors
  EXPECT_FALSE(o.at("score_formula").as_string().empty());
  EXPECT_GT(o.at("baseline").at("figures").as_array().size(), 0u);
  EXPECT_EQ(o.at("cost").at("functions").as_array().size(), 10u);
  EXPECT_EQ(o.at("cost").at("formulas").as_array().size(), 4u);
  // orders-list regressed 40-fold against the good baseline: exit 2 outranks the missed target.
  EXPECT_EQ(o.at("exit_code").to_number<int>(), 2);
  EXPECT_EQ(o.at("verdict").at("name").as_string(), "regression");
}

TEST(JsonReportTest, NotMeasuredIsNullNeverZero) {
  RunResult run = GoodRun();
  run.server_view.reset();
  const json::value v = json::parse(JsonReport(run, StrictAndSeed()));
  EXPECT_TRUE(v.at("server_view").is_null());
  EXPECT_TRUE(v.at("baseline").is_null());
  EXPECT_TRUE(v.at("cost").is_null());
  for (const json::value& c : v.at("evaluations").at(0).at("checks").as_array()) {
    if (c.at("outcome") == "not measured") {
      EXPECT_TRUE(c.at("actual").is_null());
    }
  }
  EXPECT_EQ(v.at("exit_code").to_number<int>(), 1);
}

// Balanced tags, one root, no stray text outside it; fails the test otherwise.
void ExpectWellFormed(const std::string& svg) {
  std::vector<std::string> stack;
  size_t i = 0;
  bool root_closed = false;
  while ((i = svg.find('<', i)) != std::string::npos) {
    const size_t end = svg.find('>', i);
    ASSERT_NE(end, std::string::npos) << "unterminated tag at " << i;
    const std::string tag = svg.substr(i + 1, end - i - 1);
    i = end + 1;
    if (tag.starts_with("?")) continue;
    ASSERT_FALSE(root_closed) << "content after the root: <" << tag << ">";
    if (tag.starts_with("/")) {
      ASSERT_FALSE(stack.empty()) << "</" << tag << "> closes nothing";
      EXPECT_EQ(stack.back(), tag.substr(1)) << "mismatched close";
      stack.pop_back();
      root_closed = stack.empty();
    } else if (!tag.ends_with("/")) {
      stack.push_back(tag.substr(0, tag.find(' ')));
    }
  }
  EXPECT_TRUE(stack.empty()) << stack.size() << " unclosed, first <" << stack.front() << ">";
  EXPECT_TRUE(root_closed);
  EXPECT_EQ(svg.find("nan"), std::string::npos);
  EXPECT_EQ(svg.find("inf"), std::string::npos);
  // Every number in a coordinate attribute is finite.
  const std::regex attr(R"(\b(x|y|x1|y1|x2|y2|cx|cy|d)="([^"]*)\")");
  const std::regex number(R"(-?[0-9]+(\.[0-9]+)?)");
  int numbers = 0;
  for (auto a = std::sregex_iterator(svg.begin(), svg.end(), attr); a != std::sregex_iterator();
       ++a) {
    const std::string value = (*a)[2];
    for (auto n = std::sregex_iterator(value.begin(), value.end(), number);
         n != std::sregex_iterator(); ++n) {
      EXPECT_TRUE(std::isfinite(std::stod(n->str()))) << value;
      ++numbers;
    }
  }
  EXPECT_GT(numbers, 0);
}

int Count(const std::string& s, const std::string& what) {
  int n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

TEST(SvgTest, LatencyCurvesOnePathPerFunctionAndTarget) {
  const std::string svg = LatencySvg(GoodRun());
  ExpectWellFormed(svg);
  EXPECT_EQ(Count(svg, "<path "), 10);
  EXPECT_EQ(Count(svg, "stroke-dasharray"), 0);
  for (const char* tick : {">0 %<", ">90 %<", ">99 %<", ">99.9 %<", ">99.99 %<"}) {
    EXPECT_NE(svg.find(tick), std::string::npos) << tick;
  }
  EXPECT_NE(svg.find(">orders-list<"), std::string::npos);  // the legend
  EXPECT_NE(svg.find("latency (ms)"), std::string::npos);

  // With the peer: its two functions as dashed lines (and dashed legend entries) besides.
  const std::string both = LatencySvg(FullRun());
  ExpectWellFormed(both);
  EXPECT_EQ(Count(both, "<path "), 12);
  EXPECT_EQ(Count(both, "stroke-dasharray"), 4);
  EXPECT_NE(both.find("orders-list (peer)"), std::string::npos);
}

TEST(SvgTest, LatencyCurveFallsBackToTheSummaryAndEscapesText) {
  RunResult run;
  PhaseResult p = ClosedPhase("a<b>&\"c", 5);
  p.percentile_curve.clear();
  run.phases.push_back(p);
  const std::string svg = LatencySvg(run);
  ExpectWellFormed(svg);
  EXPECT_EQ(Count(svg, "<path "), 1);
  EXPECT_NE(svg.find("a&lt;b&gt;&amp;&quot;c"), std::string::npos);
  // q = 1 (the max) cannot be placed on -log10(1 - q): 6 of the 7 summary points are drawn.
  const size_t d = svg.find("d=\"M");
  ASSERT_NE(d, std::string::npos);
  const std::string path = svg.substr(d, svg.find('"', d + 3) - d);
  EXPECT_EQ(Count(path, " L"), 5) << path;
}

TEST(SvgTest, EmptyRunsGiveAValidPlotWithANote) {
  for (const std::string& svg : {LatencySvg(RunResult{}), SweepSvg(RunResult{})}) {
    EXPECT_EQ(svg.find("<path "), std::string::npos);
    EXPECT_NE(svg.find("no data"), std::string::npos);
    std::vector<std::string> stack;
    EXPECT_EQ(Count(svg, "<svg "), 1);
    EXPECT_EQ(Count(svg, "</svg>"), 1);
  }
}

TEST(SvgTest, SweepOnePathPerFunctionWithAPointEach) {
  const std::string svg = SweepSvg(FullRun());
  ExpectWellFormed(svg);
  EXPECT_EQ(Count(svg, "<path "), 2);
  EXPECT_EQ(Count(svg, "<circle "), 8);
  EXPECT_NE(svg.find("achieved requests/s"), std::string::npos);
  EXPECT_NE(svg.find("p99 latency (ms)"), std::string::npos);
  EXPECT_NE(svg.find(">menus-daily<"), std::string::npos);
}

TEST(MarkdownReportTest, HasTheTablesAndTheFailures) {
  const RunResult run = FullRun();
  const std::string md = MarkdownReport(run, FullInputs(run));
  for (const char* part : {
           "# hasivu bench, 2026-12-08T10:00:00Z",
           "**Verdict: exit 2, regression**",
           "**Score: 95.2 / 100** against `strict`",
           "`seed`: 100.0 / 100",
           "score = 100 × passed checks",
           "## Targets",
           "| figure | strict | seed |",
           "| warm p95, client (ms) | ≤ 10 ms | ≤ 150 ms |",
           "exception (`strict`), auth-login",
           "| function | figure | actual | strict | seed | how |",
           "| orders-list | warm_p95_ms | 40.0 ms | ≤ 10 ms ❌ miss | ≤ 150 ms ✅ pass |",
           "| auth-login | warm_p95_ms | 1.01 ms | ≤ 250 ms* ✅ pass | ≤ 150 ms ✅ pass |",
           "## Cold start",
           "| function | starts | failed |",
           "### closed loop, 32 connections",
           "| function | reps | p50 | p90 | p95 | p99 | p99.9 | mean | max | req/s | success | "
           "errors |",
           "### open loop at 1000 requests/s, 10 connections",
           "coordinated omission corrected",
           "status 409 SOLD_OUT × 7",
           "## Side by side: hasivu and the peer",
           "| orders-list | closed loop, 32 connections |",
           "## The load generator beside wrk",
           "## The server's view",
           "- Database query p95: 0.400 ms",
           "## Rate sweep",
           "## Against the baseline",
           "## Cost",
           "Lambda-style: monthly",
           "## What failed",
           "Missed (`strict`): orders-list warm_p95_ms 40.0 ms, target ≤ 10 ms",
           "Regression (severe): orders-list",
           "Errors of orders-create: status 409 SOLD_OUT × 7",
           "## Recommendations",
           "outside the handler",
           "orders-create: 7 × status 409 SOLD_OUT (a write's setup",
       }) {
    EXPECT_NE(md.find(part), std::string::npos) << "missing: " << part;
  }
  // The peer's ratios read "hasivu is N times better": below 1 for orders-list, slower here.
  EXPECT_NE(md.find("| menus-daily | closed loop, 32 connections | 0.631 | 7.50 | 1.26 | 15.0 | "
                    "2 000 | 900 | 11.88× | 11.88× | 2.22× |"),
            std::string::npos);
  EXPECT_NE(md.find("| orders-list | closed loop, 32 connections | 25.0 | 7.50 | 50.0 | 15.0 | "
                    "2 000 | 900 | 0.30× | 0.30× | 2.22× |"),
            std::string::npos);
  EXPECT_NE(md.find("| cache hit rate, all tiers | ≥ 90 % | ≥ 70 % |"), std::string::npos);
  EXPECT_NE(md.find("| error rate | ≤ 0 % | ≤ 0.1 % |"), std::string::npos);
}

TEST(MarkdownReportTest, EachRepetitionsPairGivesItsRatioCpuRssAndSteal) {
  RunResult run = GoodRun();
  run.config.peer_url = "http://127.0.0.1:3000";
  const double peer_rps[] = {900, 1000, 800};
  for (int r = 0; r < 3; ++r) {
    PhaseResult p = ClosedPhase("orders-list", 12, r, peer_rps[r], "peer");
    p.server->cpu_seconds *= 2;                                 // twice hasivu's CPU per request
    p.server->peak_rss_bytes = (r == 2 ? 160u : 150u) << 20;    // the highest of the three counts
    p.server->rss_at_start_bytes = (r == 1 ? 70u : 80u) << 20;  // at rest: the lowest counts
    if (r == 1) p.machine->steal_fraction = 0.05;
    run.phases.push_back(p);
  }
  const std::string md = MarkdownReport(run, StrictAndSeed());
  // hasivu's phases run at 2 000/s: 2.22, 2.00 and 2.50 times the peer's, median 2.22.
  EXPECT_NE(md.find("| orders-list | closed loop, 32 connections | 2.22× · 2.00× · 2.50× | 2.22× | "
                    "2.00–2.50× | 300 | 600 | 2.00× | 20.0 / 70.0 | 40.0 / 160.0 | 0.25 | "
                    "1.0 % · 5.0 % · 1.0 % |"),
            std::string::npos)
      << md.substr(md.find("Per repetition"), 1200);
  // A function the peer did not answer has no pair.
  EXPECT_EQ(md.find("| menus-daily | closed loop, 32 connections |"), std::string::npos);
}

TEST(MarkdownReportTest, RecommendationsFollowTheNumbers) {
  RunResult run = GoodRun();
  run.server_view->db_query_p95_ms = 40;
  run.server_view->cache_hit_rate.clear();
  run.config.cache = "none";
  run.phases[0].machine->steal_fraction = 0.2;
  run.config.repetitions = 1;
  const std::string md = MarkdownReport(run, StrictAndSeed());
  EXPECT_NE(md.find("missing indexes"), std::string::npos);
  EXPECT_NE(md.find("`--cache none`"), std::string::npos);
  EXPECT_NE(md.find("Rerun on a quiet host"), std::string::npos);
  EXPECT_NE(md.find("(**high**"), std::string::npos);
  EXPECT_NE(md.find("Fewer than three repetitions"), std::string::npos);
  EXPECT_NE(md.find("**Verdict: exit 1, target missed**"), std::string::npos);

  // A good run: no failures, no advice.
  const std::string good = MarkdownReport(GoodRun(), StrictAndSeed());
  EXPECT_NE(good.find("Nothing: every check passed"), std::string::npos);
  EXPECT_NE(good.find("None: the numbers give no cause for action."), std::string::npos);
  EXPECT_NE(good.find("**Verdict: exit 0, pass**"), std::string::npos);
}

TEST(MarkdownReportTest, AFailedRunSaysSo) {
  RunResult run;
  run.run_errors.push_back("the server never listened on 127.0.0.1:8080");
  run.config.skipped.push_back("payments-verify: the gateway is not the simulated one");
  const std::string md = MarkdownReport(run, StrictAndSeed());
  EXPECT_NE(md.find("**Verdict: exit 3, run failed**"), std::string::npos);
  EXPECT_NE(md.find("**The run:** the server never listened"), std::string::npos);
  EXPECT_NE(md.find("**The run:** no function got a single expected answer"), std::string::npos);
  EXPECT_NE(md.find("Skipped: payments-verify"), std::string::npos);
  EXPECT_NE(md.find("Cold start\n\nNot measured"), std::string::npos);
}

TEST(MarkdownReportTest, WhatWasNotMeasuredIsListedOncePerFigureAndReason) {
  RunResult run = GoodRun();
  run.cold_starts.clear();
  const std::string md = MarkdownReport(run, StrictAndSeed());
  EXPECT_NE(md.find("Not measured (`strict`, counts as missed): cold_start_ms of auth-register, "
                    "auth-login, users-get"),
            std::string::npos);
  EXPECT_EQ(md.find("Not measured (`strict`, counts as missed): cold_start_ms of orders-list"),
            std::string::npos);
  EXPECT_NE(md.find("Cold starts were not measured"), std::string::npos);
}

}  // namespace
}  // namespace hasivu::bench
