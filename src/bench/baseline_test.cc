#include "bench/baseline.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "bench/testing/synthetic_run.h"

namespace hasivu::bench {
namespace {

using testing::ClosedPhase;
using testing::GoodRun;
using testing::PhasesOf;

const FigureComparison* Find(const BaselineComparison& c, const std::string& function,
                             const std::string& figure) {
  for (const FigureComparison& f : c.figures) {
    if (f.function == function && f.figure == figure) return &f;
  }
  return nullptr;
}

// Three repetitions of users-get with these p95s and requests/s; nothing else in the run.
RunResult UsersGet(std::vector<double> p95s, std::vector<double> rps) {
  RunResult run;
  run.config.store = "sqlite";
  run.config.duration_seconds = 10;
  for (size_t i = 0; i < p95s.size(); ++i) {
    PhaseResult p = ClosedPhase("users-get", p95s[i], static_cast<int>(i), rps[i]);
    run.phases.push_back(p);
  }
  return run;
}

TEST(BaselineTest, RoundTripsThroughItsFile) {
  RunResult run = GoodRun();
  PhaseResult open = ClosedPhase("orders-list", 2, 0);
  open.mode = "open";
  open.offered_rate = 1000;
  open.connections = 10;
  run.phases.push_back(open);
  run.phases.push_back(ClosedPhase("orders-list", 50, 0, 100, "peer"));  // not a baseline
  run.config.notes = {"ulimit -n raised to 65536"};

  const Baseline b = BaselineFrom(run);
  ASSERT_EQ(b.functions.size(), 10u);
  const BaselineFunction& list = b.functions.at("orders-list");
  ASSERT_EQ(list.series.size(), 2u);
  EXPECT_EQ(list.series[0].runs.size(), 3u);
  EXPECT_EQ(list.series[1].Name(), "open 1000/s, 10 connections");
  EXPECT_EQ(list.series[0].Name(), "closed, 32 connections");
  ASSERT_TRUE(list.cold_start.has_value());
  EXPECT_EQ(list.cold_start->first_success_ms.size(), 10u);

  const std::string text = BaselineJson(b);
  EXPECT_NE(text.find("\"first_success_median_ms\":20"), std::string::npos) << text.substr(0, 400);
  auto back = ParseBaseline(text);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->config.store, "sqlite");
  EXPECT_EQ(back->config.notes, run.config.notes);
  EXPECT_EQ(back->config.functions.size(), 10u);
  EXPECT_EQ(back->config.repetitions, 3);
  const BaselineFunction& l2 = back->functions.at("orders-list");
  ASSERT_EQ(l2.series.size(), 2u);
  EXPECT_EQ(l2.series[1].offered_rate, 1000);
  EXPECT_EQ(l2.series[1].connections, 10);
  EXPECT_DOUBLE_EQ(l2.series[0].runs[2].p95_ms, list.series[0].runs[2].p95_ms);
  EXPECT_DOUBLE_EQ(l2.series[0].runs[1].requests_per_second, 2000);
  EXPECT_EQ(l2.cold_start->first_success_ms, list.cold_start->first_success_ms);

  // The same run against itself: every figure compared, none regressed.
  const BaselineComparison same = CompareWithBaseline(*back, run);
  EXPECT_EQ(same.worst, RegressionLevel::kNone);
  EXPECT_TRUE(same.missing.empty());
  // 10 functions x (5 closed figures + 2 cold) + 5 figures of orders-list's open series.
  EXPECT_EQ(same.figures.size(), 10u * 7u + 5u);
  // orders-list's open series ran once: the comparison says so.
  ASSERT_EQ(same.notes.size(), 1u);
  EXPECT_NE(same.notes[0].find("single repetition"), std::string::npos) << same.notes[0];
}

TEST(BaselineTest, SavesAndLoadsAFile) {
  char dir_template[] = "/tmp/hasivu-baseline-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::string path = std::string(dir_template) + "/baseline.json";
  ASSERT_TRUE(SaveBaseline(GoodRun(), path).ok());
  auto loaded = LoadBaseline(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->functions.size(), 10u);
  {
    std::ofstream bad(path);
    bad << R"({"format": "hasivu-bench-baseline", "version": 1, "config": {}, "functions": 3})";
  }
  const Status s = LoadBaseline(path).status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find(path), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("functions: expected an object"), std::string::npos) << s.message();
  std::remove(path.c_str());
  ::rmdir(dir_template);
  EXPECT_EQ(LoadBaseline(path).status().code(), StatusCode::kNotFound);
}

TEST(BaselineTest, RefusesBadFiles) {
  const std::string good = BaselineJson(BaselineFrom(GoodRun(1, 2)));
  struct Case {
    std::string json;
    const char* message;
  };
  auto replace = [&](std::string_view from, std::string_view to) {
    std::string s = good;
    const size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    s.replace(at, from.size(), to);
    return s;
  };
  const Case cases[] = {
      {"{", "not JSON"},
      {"[]", "expected an object"},
      {replace("hasivu-bench-baseline", "other"), "format: expected"},
      {replace("\"version\":1", "\"version\":2"), "version: this bench reads version 1"},
      {replace("\"config\":{", "\"config\":{\"colour\":1,"), "config.colour: unknown key"},
      {replace("\"repetitions\":2", "\"repetitions\":\"2\""),
       "config.repetitions: expected a number, got a string"},
      {replace("\"p95_ms\":", "\"p95\":"), "unknown key"},
      {replace("\"mode\":\"closed\"", "\"mode\":\"sideways\""), "mode: expected"},
      {replace("\"first_success_ms\":[", "\"first_success_ms\":[\"x\","),
       "cold_start.first_success_ms[0]: expected a number"},
      {replace("\"connections\":32", "\"connections\":3.5"), "connections: expected a whole"},
  };
  for (const Case& c : cases) {
    auto b = ParseBaseline(c.json);
    ASSERT_FALSE(b.ok()) << c.json.substr(0, 200);
    EXPECT_EQ(b.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(b.status().message().find(c.message), std::string::npos) << b.status().message();
    EXPECT_EQ(b.status().message().rfind("baseline: ", 0), 0u) << b.status().message();
  }
  // Empty run lists and a missing field.
  auto empty_runs = ParseBaseline(R"({"format":"hasivu-bench-baseline","version":1,"config":{},
      "functions":{"users-get":{"series":[{"mode":"closed","offered_rate":0,"connections":1,
      "runs":[]}]}}})");
  EXPECT_NE(empty_runs.status().message().find("functions.users-get.series[0].runs: empty"),
            std::string::npos)
      << empty_runs.status().message();
  auto missing = ParseBaseline(R"({"format":"hasivu-bench-baseline","version":1,"config":{},
      "functions":{"users-get":{"series":[{"mode":"closed","offered_rate":0,"connections":1,
      "runs":[{"requests_per_second":1,"p50_ms":1,"p95_ms":1,"p99_ms":1}]}]}}})");
  EXPECT_NE(missing.status().message().find("runs[0].success_rate: missing"), std::string::npos)
      << missing.status().message();
}

TEST(BaselineCompareTest, RegressionLevelsBeyondTheNoise) {
  const Baseline base = BaselineFrom(UsersGet({10, 10.2, 9.8}, {1000, 1010, 990}));
  struct Case {
    double p95;  // the current runs are p95 - 0.1, p95, p95 + 0.1
    RegressionLevel level;
  };
  for (const Case& c : {Case{10.0, RegressionLevel::kNone}, Case{10.7, RegressionLevel::kMinor},
                        Case{11.2, RegressionLevel::kModerate},
                        Case{12.5, RegressionLevel::kSevere}, Case{8, RegressionLevel::kNone}}) {
    const BaselineComparison cmp =
        CompareWithBaseline(base, UsersGet({c.p95 - 0.1, c.p95, c.p95 + 0.1}, {1000, 1010, 990}));
    const FigureComparison* f = Find(cmp, "users-get", "p95_ms");
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->comparison.level, c.level) << c.p95;
    EXPECT_EQ(f->better, Better::kLower);
    EXPECT_EQ(f->baseline_runs, 3);
    EXPECT_EQ(cmp.worst, c.level) << c.p95;
  }
  // Throughput: higher is better, so a drop of 15 % is moderate.
  const BaselineComparison slower =
      CompareWithBaseline(base, UsersGet({10, 10.2, 9.8}, {850, 860, 840}));
  const FigureComparison* rps = Find(slower, "users-get", "requests_per_second");
  EXPECT_EQ(rps->comparison.level, RegressionLevel::kModerate);
  EXPECT_EQ(rps->better, Better::kHigher);
  ASSERT_EQ(slower.Regressions(RegressionLevel::kMinor).size(), 1u);
  EXPECT_EQ(slower.Regressions(RegressionLevel::kSevere).size(), 0u);
}

TEST(BaselineCompareTest, AWorseMedianWithinTheNoiseIsNoRegression) {
  // The baseline's runs spread from 8 to 14 ms; now's median 13 ms is 30 % worse than 10 but
  // inside that range, and the baseline's median lies inside now's range (9-15 ms).
  const Baseline base = BaselineFrom(UsersGet({8, 10, 14}, {1000, 1000, 1000}));
  const BaselineComparison cmp =
      CompareWithBaseline(base, UsersGet({9, 13, 15}, {1000, 1000, 1000}));
  const FigureComparison* f = Find(cmp, "users-get", "p95_ms");
  ASSERT_NE(f, nullptr);
  EXPECT_NEAR(f->comparison.worse_by, 0.3, 1e-9);
  EXPECT_FALSE(f->comparison.beyond_noise);
  EXPECT_EQ(f->comparison.level, RegressionLevel::kNone);
  EXPECT_EQ(cmp.worst, RegressionLevel::kNone);
  // The same medians with tight spreads: severe.
  const BaselineComparison tight =
      CompareWithBaseline(BaselineFrom(UsersGet({9.9, 10, 10.1}, {1000, 1000, 1000})),
                          UsersGet({12.9, 13, 13.1}, {1000, 1000, 1000}));
  EXPECT_EQ(Find(tight, "users-get", "p95_ms")->comparison.level, RegressionLevel::kSevere);
}

TEST(BaselineCompareTest, ReportsWhatTheBaselineHadAndThisRunHasNot) {
  RunResult base_run = GoodRun();
  PhaseResult open = ClosedPhase("menus-daily", 2, 0);
  open.mode = "open";
  open.offered_rate = 500;
  base_run.phases.push_back(open);
  const Baseline base = BaselineFrom(base_run);

  RunResult now = GoodRun();
  std::erase_if(now.phases, [](const PhaseResult& p) { return p.function == "payments-verify"; });
  std::erase_if(now.cold_starts,
                [](const ColdStartResult& c) { return c.function == "payments-verify"; });
  std::erase_if(now.cold_starts,
                [](const ColdStartResult& c) { return c.function == "users-get"; });
  now.config.store = "postgresql";
  // A function only this run has is not compared (nothing to compare it with).
  now.phases.push_back(ClosedPhase("extra-function", 1));

  const BaselineComparison cmp = CompareWithBaseline(base, now);
  const auto has = [&](const std::string& s) {
    return std::find(cmp.missing.begin(), cmp.missing.end(), s) != cmp.missing.end();
  };
  EXPECT_TRUE(has("payments-verify: in the baseline, not in this run"));
  EXPECT_TRUE(has("menus-daily open 500/s, 32 connections: in the baseline, not in this run"));
  EXPECT_TRUE(has("users-get cold start: in the baseline, not in this run"));
  EXPECT_EQ(cmp.missing.size(), 3u);
  EXPECT_EQ(Find(cmp, "payments-verify", "p95_ms"), nullptr);
  EXPECT_EQ(Find(cmp, "users-get", "cold_first_success_ms"), nullptr);
  EXPECT_NE(Find(cmp, "users-get", "p95_ms"), nullptr);
  EXPECT_EQ(Find(cmp, "extra-function", "p95_ms"), nullptr);
  ASSERT_FALSE(cmp.notes.empty());
  EXPECT_NE(cmp.notes.front().find("store differs"), std::string::npos) << cmp.notes.front();
}

TEST(BaselineCompareTest, ColdStartsAreComparedStartByStart) {
  RunResult base_run = GoodRun();
  RunResult now = GoodRun();
  for (ColdStartResult& c : now.cold_starts) {
    for (double& ms : c.first_success_ms) ms *= 1.5;
  }
  const BaselineComparison cmp = CompareWithBaseline(BaselineFrom(base_run), now);
  const FigureComparison* f = Find(cmp, "orders-list", "cold_first_success_ms");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->baseline_runs, 10);
  // The starts spread 20-40 ms on the baseline's side and 30-60 now: medians 20 and 30, each
  // inside the other's range, so not beyond the noise.
  EXPECT_FALSE(f->comparison.beyond_noise);
  EXPECT_EQ(Find(cmp, "orders-list", "cold_listening_ms")->comparison.level,
            RegressionLevel::kNone);
}

}  // namespace
}  // namespace hasivu::bench
