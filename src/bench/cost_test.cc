#include "bench/cost.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "bench/testing/synthetic_run.h"

namespace hasivu::bench {
namespace {

using testing::ClosedPhase;

// `function` over three closed-loop repetitions of 10 000 requests at 1 900, 2 000 and 2 100
// requests/s, each costing the server `cpu_ms_per_request` of CPU.
void AddFunction(RunResult& run, const std::string& function, double cpu_ms_per_request,
                 std::vector<double> rps = {1900, 2000, 2100}) {
  for (int r = 0; r < 3; ++r) {
    PhaseResult p = ClosedPhase(function, 1, r, rps[r]);
    p.requests = 10000;
    p.server =
        ServerUsage{.cpu_seconds = cpu_ms_per_request * 10, .peak_rss_bytes = (40u + r) << 20};
    run.phases.push_back(p);
  }
  run.config.functions.push_back(function);
}

const FunctionCost& Of(const CostEstimate& e, const std::string& function) {
  for (const FunctionCost& f : e.functions) {
    if (f.function == function) return f;
  }
  ADD_FAILURE() << function;
  return e.functions.front();
}

TEST(CostTest, PerThousandRequestsAndBothMonthlyEstimatesOnKnownInputs) {
  RunResult run;
  AddFunction(run, "users-get", 0.3);
  auto e = EstimateCost(run, CostOptions{});
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  const FunctionCost& f = Of(*e, "users-get");
  EXPECT_EQ(f.requests, 30000u);
  EXPECT_NEAR(*f.cpu_seconds_per_1000, 0.3, 1e-12);
  EXPECT_EQ(*f.peak_rss_bytes, 42u << 20);  // the highest of the phases, not a sum
  // 0.3 ms x 1769/512 = 1.04 ms of a 512 MB Lambda's CPU share, billed as 2 ms.
  EXPECT_EQ(*f.billed_ms, 2);
  EXPECT_NE(f.billed_basis.find("0.300 ms/request"), std::string::npos) << f.billed_basis;
  // 10 M x 0.002 s x 0.5 GB x 0.0000166667 + 10 x 0.20
  EXPECT_NEAR(*f.lambda_monthly, 1e7 * 0.002 * 0.5 * 0.0000166667 + 10 * 0.20, 1e-9);
  // 10 M a month is 3.81 requests/s, x 3 at peak: one instance of 2 000/s, all month.
  EXPECT_NEAR(e->average_rate, 1e7 / (730.0 * 3600), 1e-12);
  EXPECT_EQ(*f.throughput_rps, 2000);  // the median repetition
  EXPECT_EQ(*f.instances_average, 1);
  EXPECT_EQ(*f.instances_peak, 1);
  EXPECT_NEAR(*f.instance_monthly, 730 * 0.085, 1e-9);

  // A thousand times the volume: 3 805 requests/s on average needs 2 instances of 2 000/s, and
  // 11 416 at peak needs 6.
  CostOptions big;
  big.monthly_requests = 1e10;
  auto b = EstimateCost(run, big);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*Of(*b, "users-get").instances_average, 2);
  EXPECT_EQ(*Of(*b, "users-get").instances_peak, 6);
  EXPECT_NEAR(*Of(*b, "users-get").instance_monthly, 6 * 730 * 0.085, 1e-9);
  EXPECT_NEAR(*Of(*b, "users-get").lambda_monthly, 1e10 * 0.002 * 0.5 * 0.0000166667 + 1e4 * 0.2,
              1e-6);
}

TEST(CostTest, BilledDurationRoundsUpToAWholeMillisecond) {
  RunResult run;
  AddFunction(run, "users-get", 0.3);
  AddFunction(run, "orders-list", 2.0);
  CostOptions whole_core;
  whole_core.lambda_scale_cpu = false;
  auto e = EstimateCost(run, whole_core);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(*Of(*e, "users-get").billed_ms, 1);    // 0.3 ms up to 1
  EXPECT_EQ(*Of(*e, "orders-list").billed_ms, 2);  // exactly 2 ms stays 2
  // At 1 769 MB and more a function has a whole vCPU: no scaling; the GB-seconds grow instead.
  CostOptions big_memory;
  big_memory.lambda_memory_mb = 2048;
  auto m = EstimateCost(run, big_memory);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(*Of(*m, "orders-list").billed_ms, 2);
  EXPECT_NEAR(*Of(*m, "orders-list").lambda_monthly, 1e7 * 0.002 * 2 * 0.0000166667 + 2, 1e-9);
}

TEST(CostTest, TheMixWeighsFunctionsByTheirShares) {
  RunResult run;
  AddFunction(run, "users-get", 0.3);
  AddFunction(run, "auth-login", 106, {18, 19, 20});  // argon2id
  auto e = EstimateCost(run, CostOptions{});
  ASSERT_TRUE(e.ok());
  // 106 ms x 3.455 = 366.2 ms, billed 367.
  EXPECT_EQ(*Of(*e, "auth-login").billed_ms, 367);
  const double l_users = 1e7 * 0.002 * 0.5 * 0.0000166667 + 2;
  const double l_login = 1e7 * 0.367 * 0.5 * 0.0000166667 + 2;
  ASSERT_TRUE(e->mix_lambda_monthly.has_value());
  EXPECT_NEAR(*e->mix_lambda_monthly, 0.5 * l_users + 0.5 * l_login, 1e-9);
  // Equal shares at 3.81/s x 3: 11.42 x (0.5/2000 + 0.5/19) = 0.30 of an instance: one.
  EXPECT_EQ(*e->mix_instances_peak, 1);
  EXPECT_NE(e->mix_note.find("auth-login 50 %"), std::string::npos) << e->mix_note;

  CostOptions logins_heavy;
  logins_heavy.monthly_requests = 1e9;  // 380.5/s on average
  logins_heavy.mix = {{"users-get", 9}, {"auth-login", 1}};
  auto h = EstimateCost(run, logins_heavy);
  ASSERT_TRUE(h.ok());
  const double rate = 1e9 / (730.0 * 3600);
  EXPECT_EQ(*h->mix_instances_peak,
            static_cast<int>(std::ceil(rate * 3 * (0.9 / 2000 + 0.1 / 19))));
  EXPECT_NEAR(*h->mix_instance_monthly, *h->mix_instances_peak * 730 * 0.085, 1e-9);

  // A share for a function the run has no figures for: no mix, and the note says why.
  CostOptions unknown;
  unknown.mix = {{"users-get", 1}, {"payments-verify", 1}};
  auto u = EstimateCost(run, unknown);
  ASSERT_TRUE(u.ok());
  EXPECT_FALSE(u->mix_lambda_monthly.has_value());
  EXPECT_FALSE(u->mix_instances_peak.has_value());
  EXPECT_NE(u->mix_note.find("figures missing for payments-verify"), std::string::npos)
      << u->mix_note;
}

TEST(CostTest, ARemoteServerFallsBackToTheOpenLoopServiceTime) {
  RunResult run;
  for (double rate : {2000.0, 500.0}) {
    PhaseResult p = ClosedPhase("menus-daily", 1);
    p.mode = "open";
    p.offered_rate = rate;
    p.server.reset();
    p.service_ms.p50 = rate == 500 ? 0.4 : 3.5;
    run.phases.push_back(p);
  }
  PhaseResult nothing = ClosedPhase("users-get", 1);
  nothing.server.reset();
  run.phases.push_back(nothing);
  auto e = EstimateCost(run, CostOptions{});
  ASSERT_TRUE(e.ok());
  const FunctionCost& menus = Of(*e, "menus-daily");
  EXPECT_FALSE(menus.cpu_seconds_per_1000.has_value());
  EXPECT_EQ(*menus.billed_ms, 1);  // the lowest rate's 0.4 ms, unscaled
  EXPECT_NE(menus.billed_basis.find("500/s"), std::string::npos) << menus.billed_basis;
  EXPECT_FALSE(menus.throughput_rps.has_value());  // no closed loop
  const FunctionCost& users = Of(*e, "users-get");
  EXPECT_FALSE(users.billed_ms.has_value());
  EXPECT_FALSE(users.lambda_monthly.has_value());
  EXPECT_EQ(*users.instances_peak, 1);
}

TEST(CostTest, RefusesBadOptions) {
  const auto error = [](auto change) {
    CostOptions o;
    change(o);
    return EstimateCost(RunResult{}, o).status();
  };
  EXPECT_NE(
      error([](CostOptions& o) { o.lambda_memory_mb = 64; }).message().find("lambda_memory_mb"),
      std::string::npos);
  EXPECT_NE(error([](CostOptions& o) { o.monthly_requests = -1; }).message().find("monthly"),
            std::string::npos);
  EXPECT_NE(error([](CostOptions& o) { o.peak_factor = 0.5; }).message().find("peak_factor"),
            std::string::npos);
  EXPECT_NE(error([](CostOptions& o) { o.hours_per_month = 0; }).message().find("hours"),
            std::string::npos);
  EXPECT_NE(error([](CostOptions& o) { o.instance_price_per_hour = NAN; })
                .message()
                .find("instance_price_per_hour"),
            std::string::npos);
  EXPECT_NE(error([](CostOptions& o) {
              o.mix = {{"users-get", 0}};
            })
                .message()
                .find("add up"),
            std::string::npos);
  EXPECT_EQ(error([](CostOptions& o) {
              o.mix = {{"users-get", -1}};
            }).code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(ValidateCostOptions(CostOptions{}).ok());
}

TEST(CostTest, FormulasStateTheInputs) {
  RunResult run;
  AddFunction(run, "users-get", 0.3);
  auto e = EstimateCost(run, CostOptions{});
  ASSERT_TRUE(e.ok());
  std::string all;
  for (const std::string& s : e->Formulas()) all += s + "\n";
  for (const char* part : {"10 000 000 requests", "512 MB", "0.0000166667", "0.20 per million",
                           "c6i.large", "0.0850", "1 769 MB", "rounded up", "peak factor"}) {
    EXPECT_NE(all.find(part), std::string::npos) << part << "\n" << all;
  }
}

}  // namespace
}  // namespace hasivu::bench
