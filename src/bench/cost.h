// What serving the platform costs, from what one `hasivu bench` run measured (issue 14, point 8;
// the seed's ROI section made measurable).
//
// Per function, from the server's own usage over its phases (PhaseResult::server, local servers
// only; target "hasivu", every mode and repetition):
//   CPU-seconds per 1 000 requests = 1 000 x sum(cpu_seconds) / sum(answered requests);
//   peak RSS = the largest VmHWM of its phases. RSS is a level, not a flow: it is reported as
//   the peak over the function's phases, not divided by the requests.
//
// Monthly estimates at V requests a month (CostOptions), each with its formula in Formulas():
// (a) Lambda-style: monthly = V x billed_s x (memory_mb / 1024) x price per GB-second
//                           + V / 10^6 x price per million requests.
//     billed per request = the server's CPU per request x max(1, 1769 / memory_mb), rounded up to
//     a whole millisecond as Lambda bills. CPU per request, not the measured latency: closed-loop
//     latency at C connections is mostly waiting behind the other C - 1 requests, which a Lambda
//     instance serving one request at a time never does; the scaling is Lambda's CPU share (one
//     vCPU at 1 769 MB, in proportion below it). It leaves out waiting on a network database or
//     cache, which Lambda would bill (small on loopback, not on a remote store). Without the
//     server's CPU (a remote server) the basis is the open-loop service p50 at the lowest offered
//     rate, unscaled (wall time), else nothing is estimated. The free tier is ignored.
// (b) Instance-hour: average rate = V / (hours_per_month x 3 600) requests/s; instances =
//     ceil(rate x peak_factor / throughput), at least 1, where throughput is the median
//     closed-loop requests/s over the repetitions; monthly = instances x hours_per_month x price
//     per hour. The throughput is this machine's, with the load generator sharing its cores, so
//     the count errs high.
// The mix: the same for V split over the functions by CostOptions::mix (default: equal shares of
// the functions with figures): Lambda's is the share-weighted sum; the instances serve the
// average rate x peak_factor x sum(share / throughput) of instance capacity.
//
// Thread-safety: values and pure functions.
#ifndef HASIVU_BENCH_COST_H_
#define HASIVU_BENCH_COST_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bench/result.h"
#include "common/status.h"

namespace hasivu::bench {

// Defaults: AWS list prices, us-east-1, on-demand, x86 (override them for another provider).
struct CostOptions {
  double monthly_requests = 10'000'000;  // V
  std::string currency = "USD";
  double lambda_memory_mb = 512;                     // 128 - 10240, Lambda's range
  double lambda_price_per_gb_second = 0.0000166667;  // x86, first tier
  double lambda_price_per_million_requests = 0.20;
  // Scale CPU time by Lambda's CPU share below 1 769 MB (see above); false bills the CPU time as
  // measured, as if the function had a whole core.
  bool lambda_scale_cpu = true;
  // c6i.large: 2 vCPUs like the machine the project measures on, 4 GiB.
  double instance_price_per_hour = 0.085;
  std::string instance_name = "c6i.large";
  double hours_per_month = 730;  // 365 x 24 / 12
  double peak_factor = 3;        // peak rate over the average (a school day's lunch hour)
  // function -> share of V for the mix (any positive weights; normalised). Empty: equal shares.
  std::map<std::string, double> mix;
};

// InvalidArgument naming the option ("cost: lambda_memory_mb: 128 to 10240").
Status ValidateCostOptions(const CostOptions& options);

struct FunctionCost {
  std::string function;
  uint64_t requests = 0;  // answered requests of the phases with server usage
  std::optional<double> cpu_seconds_per_1000;
  std::optional<uint64_t> peak_rss_bytes;
  // (a)
  std::optional<double> billed_ms;  // per request, whole milliseconds
  std::string billed_basis;         // "server CPU 0.300 ms/request x 3.46 (512 MB)", ...
  std::optional<double> lambda_monthly;
  // (b)
  std::optional<double> throughput_rps;
  std::optional<int> instances_average;  // for the average rate
  std::optional<int> instances_peak;     // for the average rate x peak_factor
  std::optional<double> instance_monthly;
};

struct CostEstimate {
  CostOptions options;
  std::vector<FunctionCost> functions;  // the judged functions (targets.h), in kFunctions order
  double average_rate = 0;              // V / (hours x 3600), requests/s
  // The mix, when every function it names has the figures.
  std::optional<double> mix_lambda_monthly;
  std::optional<int> mix_instances_peak;
  std::optional<double> mix_instance_monthly;
  std::string mix_note;  // its shares, or why it is missing
  // The formulas and their inputs, one sentence each, for the report.
  std::vector<std::string> Formulas() const;
};

// InvalidArgument for bad options (ValidateCostOptions).
StatusOr<CostEstimate> EstimateCost(const RunResult& run, const CostOptions& options);

}  // namespace hasivu::bench

#endif  // HASIVU_BENCH_COST_H_
