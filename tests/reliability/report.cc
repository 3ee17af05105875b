#include "tests/reliability/report.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace hasivu::reliability {
namespace {

namespace json = boost::json;

double PercentileMs(std::vector<int64_t> us, double q) {
  if (us.empty()) return 0;
  std::sort(us.begin(), us.end());
  const size_t i = std::min(us.size() - 1, static_cast<size_t>(q * static_cast<double>(us.size())));
  return static_cast<double>(us[i]) / 1000.0;
}

}  // namespace

json::object TallyJson(const std::map<std::string, FunctionTally>& tallies) {
  json::object out;
  for (const auto& [function, t] : tallies) {
    out[function] = json::object{
        {"sent", t.sent},
        {"ok", t.ok},
        {"unavailable503", t.unavailable},
        {"serverError5xx", t.server_error},
        {"otherStatus", t.refused_status},
        {"notAccepted", t.not_accepted},
        {"noAnswer", t.no_answer},
        {"timedOut", t.timed_out},
        {"p50Ms", PercentileMs(t.answered_us, 0.50)},
        {"p99Ms", PercentileMs(t.answered_us, 0.99)},
        {"maxMs", PercentileMs(t.answered_us, 1.0)},
    };
  }
  return out;
}

json::object WritesJson(const Campaign& campaign, const StoreCheck& check) {
  json::object out;
  for (const auto& [function, states] : campaign.WriteStates()) {
    auto get = [&states](WriteState s) {
      auto it = states.find(s);
      return it == states.end() ? 0 : it->second;
    };
    int retried = 0;
    for (const WriteRecord& w : campaign.writes()) {
      if (w.function == function && w.attempts.size() > 1) ++retried;
    }
    int64_t found = function == "orders-create"     ? check.orders_found
                    : function == "payments-verify" ? check.payments_found
                                                    : check.deliveries_found;
    out[function] = json::object{{"acknowledged", get(WriteState::kAcknowledged)},
                                 {"failed", get(WriteState::kFailed)},
                                 {"unsettled", get(WriteState::kPending)},
                                 {"resent", retried},
                                 {"found", found}};
  }
  out["ordersGained"] = check.orders_gained;
  out["violations"] = check.violations.size();
  out["integrity"] = check.integrity;
  return out;
}

std::string Summary(const json::object& line) { return json::serialize(line); }

void AppendReportLine(const json::object& line) {
  const char* path = std::getenv("HASIVU_RELIABILITY_REPORT");
  if (path == nullptr || *path == '\0') return;
  std::ofstream out(path, std::ios::app);
  out << json::serialize(line) << "\n";
}

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  char* end = nullptr;
  const long n = std::strtol(v, &end, 10);
  return *end == '\0' && n > 0 ? static_cast<int>(n) : fallback;
}

}  // namespace hasivu::reliability
