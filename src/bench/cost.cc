#include "bench/cost.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "bench/format.h"
#include "bench/targets.h"

namespace hasivu::bench {
using internal::Fixed;
using internal::Significant;

namespace {

// Lambda gives a function one vCPU at this much memory, and a share in proportion below it.
constexpr double kLambdaMbPerVcpu = 1769;

// Whole milliseconds up, at least one, as Lambda bills. The epsilon keeps a CPU time that is a
// whole number of milliseconds, give or take a rounding error, from being billed one more.
double BilledMs(double ms) { return std::max(1.0, std::ceil(ms - 1e-9)); }

int InstancesFor(double rate, double throughput) {
  return std::max(1, static_cast<int>(std::ceil(rate / throughput - 1e-9)));
}

double CpuScale(const CostOptions& o) {
  return o.lambda_scale_cpu ? std::max(1.0, kLambdaMbPerVcpu / o.lambda_memory_mb) : 1.0;
}

double LambdaMonthly(const CostOptions& o, double requests, double billed_ms) {
  return requests * (billed_ms / 1000) * (o.lambda_memory_mb / 1024) *
             o.lambda_price_per_gb_second +
         requests / 1e6 * o.lambda_price_per_million_requests;
}

FunctionCost CostOf(const RunResult& run, const std::string& function, const CostOptions& o,
                    double average_rate) {
  FunctionCost f;
  f.function = function;
  double cpu = 0;
  std::vector<double> closed_rps;
  const PhaseResult* slowest_open = nullptr;
  for (const PhaseResult& p : run.phases) {
    if (p.function != function || p.target != "hasivu") continue;
    if (p.server) {
      cpu += p.server->cpu_seconds;
      f.requests += p.requests;
      f.peak_rss_bytes = std::max(f.peak_rss_bytes.value_or(0), p.server->peak_rss_bytes);
    }
    if (p.mode == "closed" && p.requests > 0) closed_rps.push_back(p.requests_per_second);
    if (p.mode == "open" && p.service_ms.count > 0 &&
        (slowest_open == nullptr || p.offered_rate < slowest_open->offered_rate)) {
      slowest_open = &p;
    }
  }
  if (f.requests > 0) {
    f.cpu_seconds_per_1000 = 1000 * cpu / static_cast<double>(f.requests);
    const double cpu_ms = cpu * 1000 / static_cast<double>(f.requests);
    const double scale = CpuScale(o);
    f.billed_ms = BilledMs(cpu_ms * scale);
    f.billed_basis = "server CPU " + Fixed(cpu_ms, 3) + " ms/request";
    if (scale > 1) {
      f.billed_basis += " × " + Fixed(scale, 2) + " (" + Significant(o.lambda_memory_mb) + " MB)";
    }
  } else if (slowest_open != nullptr) {
    f.billed_ms = BilledMs(slowest_open->service_ms.p50);
    f.billed_basis = "service p50 " + Fixed(slowest_open->service_ms.p50, 3) + " ms at " +
                     Significant(slowest_open->offered_rate) + "/s (no server CPU measured)";
  } else {
    f.billed_basis = "not estimated: neither the server's CPU nor an open-loop phase";
  }
  if (f.billed_ms) f.lambda_monthly = LambdaMonthly(o, o.monthly_requests, *f.billed_ms);
  if (!closed_rps.empty()) {
    const double thr = SpreadOf(closed_rps).median;
    if (thr > 0) {
      f.throughput_rps = thr;
      f.instances_average = InstancesFor(average_rate, thr);
      f.instances_peak = InstancesFor(average_rate * o.peak_factor, thr);
      f.instance_monthly = *f.instances_peak * o.hours_per_month * o.instance_price_per_hour;
    }
  }
  return f;
}

}  // namespace

Status ValidateCostOptions(const CostOptions& o) {
  const auto bad = [](std::string_view key, std::string_view why) {
    return InvalidArgumentError("cost: " + std::string(key) + ": " + std::string(why));
  };
  const auto finite_at_least = [](double v, double lo) { return std::isfinite(v) && v >= lo; };
  if (!finite_at_least(o.monthly_requests, 0)) return bad("monthly_requests", "must be >= 0");
  if (!finite_at_least(o.lambda_memory_mb, 128) || o.lambda_memory_mb > 10240) {
    return bad("lambda_memory_mb", "128 to 10240");
  }
  if (!finite_at_least(o.lambda_price_per_gb_second, 0)) {
    return bad("lambda_price_per_gb_second", "must be >= 0");
  }
  if (!finite_at_least(o.lambda_price_per_million_requests, 0)) {
    return bad("lambda_price_per_million_requests", "must be >= 0");
  }
  if (!finite_at_least(o.instance_price_per_hour, 0)) {
    return bad("instance_price_per_hour", "must be >= 0");
  }
  if (!finite_at_least(o.hours_per_month, 0) || o.hours_per_month == 0 || o.hours_per_month > 744) {
    return bad("hours_per_month", "more than 0, at most 744 (31 days)");
  }
  if (!finite_at_least(o.peak_factor, 1)) return bad("peak_factor", "must be >= 1");
  double total = 0;
  for (const auto& [function, share] : o.mix) {
    if (function.empty()) return bad("mix", "a share without a function");
    if (!finite_at_least(share, 0)) return bad("mix." + function, "must be >= 0");
    total += share;
  }
  if (!o.mix.empty() && total <= 0) return bad("mix", "the shares add up to 0");
  return Status::Ok();
}

StatusOr<CostEstimate> EstimateCost(const RunResult& run, const CostOptions& options) {
  RETURN_IF_ERROR(ValidateCostOptions(options));
  CostEstimate e;
  e.options = options;
  e.average_rate = options.monthly_requests / (options.hours_per_month * 3600);
  for (const std::string& f : JudgedFunctions(run)) {
    e.functions.push_back(CostOf(run, f, options, e.average_rate));
  }
  // The mix's shares: as configured, or equal over the functions that have figures to mix.
  std::map<std::string, double> shares = options.mix;
  if (shares.empty()) {
    for (const FunctionCost& f : e.functions) {
      if (f.billed_ms || f.throughput_rps) shares[f.function] = 1;
    }
  }
  if (shares.empty()) {
    e.mix_note = "no function has the figures";
    return e;
  }
  double total = 0;
  for (const auto& [f, s] : shares) total += s;
  double lambda = 0;
  double capacity = 0;  // instance-seconds per request, share-weighted
  bool lambda_ok = true;
  bool instance_ok = true;
  std::vector<std::string> missing;
  std::string described;
  for (const auto& [name, share] : shares) {
    const double w = share / total;
    auto it = std::find_if(e.functions.begin(), e.functions.end(),
                           [&](const FunctionCost& f) { return f.function == name; });
    if (!described.empty()) described += ", ";
    described += name + " " + internal::Percent(w, 0);
    if (w == 0) continue;
    const bool has_lambda = it != e.functions.end() && it->billed_ms;
    const bool has_instance = it != e.functions.end() && it->throughput_rps;
    if (has_lambda) lambda += w * LambdaMonthly(options, options.monthly_requests, *it->billed_ms);
    if (has_instance) capacity += w / *it->throughput_rps;
    lambda_ok = lambda_ok && has_lambda;
    instance_ok = instance_ok && has_instance;
    if (!has_lambda || !has_instance) missing.push_back(name);
  }
  e.mix_note = "shares: " + described;
  for (size_t i = 0; i < missing.size(); ++i) {
    e.mix_note += (i == 0 ? "; figures missing for " : ", ") + missing[i];
  }
  if (lambda_ok) e.mix_lambda_monthly = lambda;
  if (instance_ok) {
    e.mix_instances_peak = std::max(
        1, static_cast<int>(std::ceil(e.average_rate * options.peak_factor * capacity - 1e-9)));
    e.mix_instance_monthly =
        *e.mix_instances_peak * options.hours_per_month * options.instance_price_per_hour;
  }
  return e;
}

std::vector<std::string> CostEstimate::Formulas() const {
  const CostOptions& o = options;
  std::vector<std::string> out;
  out.push_back("Volume: V = " + internal::Grouped(o.monthly_requests) +
                " requests a month; average rate = V ÷ (" + Significant(o.hours_per_month) +
                " h × 3 600 s) = " + Fixed(average_rate, 2) + " requests/s.");
  std::string lambda = "Lambda-style: monthly = V × billed s × " + Significant(o.lambda_memory_mb) +
                       " MB ÷ 1 024 × " + o.currency + " " +
                       Fixed(o.lambda_price_per_gb_second, 10) + " per GB-second + V ÷ 10^6 × " +
                       o.currency + " " + Fixed(o.lambda_price_per_million_requests, 2) +
                       " per million requests; billed = the server's CPU per request";
  if (o.lambda_scale_cpu) {
    lambda += " × max(1, 1 769 MB ÷ memory) (Lambda's CPU share: one vCPU at 1 769 MB)";
  }
  lambda +=
      ", rounded up to a whole millisecond as Lambda bills (the open-loop service p50 when the "
      "server's CPU was not measured); the free tier is ignored, and waiting on a network store "
      "is not in the CPU time.";
  out.push_back(std::move(lambda));
  out.push_back("Instance-hour (" + o.instance_name + ", " + o.currency + " " +
                Fixed(o.instance_price_per_hour, 4) +
                " an hour): instances = ceil(average rate × " + Significant(o.peak_factor) +
                " peak factor ÷ the measured closed-loop requests/s), at least 1; monthly = "
                "instances × " +
                Significant(o.hours_per_month) +
                " h × price. The throughput is this machine's with the load generator sharing its "
                "cores, so the count errs high.");
  out.push_back(
      "CPU-seconds per 1 000 requests = 1 000 × the server's CPU-seconds ÷ the answered requests "
      "of the function's phases; peak RSS is the highest VmHWM of those phases (a level, not "
      "divided by requests).");
  return out;
}

}  // namespace hasivu::bench
