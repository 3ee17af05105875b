#include "app/process_limits.h"

#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

namespace hasivu::app {
namespace {

uint64_t FromRlim(rlim_t v) {
  return v == RLIM_INFINITY ? std::numeric_limits<uint64_t>::max() : static_cast<uint64_t>(v);
}

}  // namespace

FileLimitPlan PlanOpenFileLimit(uint64_t soft, uint64_t hard, int max_connections) {
  FileLimitPlan plan;
  plan.before = soft;
  plan.hard = hard;
  const uint64_t need = static_cast<uint64_t>(std::max(max_connections, 0)) + kReservedFiles;
  plan.soft = std::max(soft, std::min(need, hard));
  if (plan.soft < need) {
    const uint64_t connections = plan.soft > kReservedFiles ? plan.soft - kReservedFiles : 0;
    plan.warning = "the open-file limit is " + std::to_string(plan.soft) + " (hard limit " +
                   std::to_string(hard) + "): about " + std::to_string(connections) +
                   " connections can be open at once, fewer than the server's cap of " +
                   std::to_string(max_connections) + "; further ones wait in the kernel's " +
                   "backlog. Raise the hard limit to " + std::to_string(need) + " (`ulimit -Hn " +
                   std::to_string(need) +
                   "` before starting, or LimitNOFILE=" + std::to_string(need) +
                   " in a systemd unit)";
  }
  return plan;
}

StatusOr<FileLimitPlan> RaiseOpenFileLimit(int max_connections) {
  rlimit current{};
  if (getrlimit(RLIMIT_NOFILE, &current) != 0) {
    return InternalError(std::string("getrlimit(RLIMIT_NOFILE): ") + std::strerror(errno));
  }
  FileLimitPlan plan =
      PlanOpenFileLimit(FromRlim(current.rlim_cur), FromRlim(current.rlim_max), max_connections);
  if (plan.soft != plan.before) {
    rlimit wanted = current;
    wanted.rlim_cur = static_cast<rlim_t>(plan.soft);
    if (setrlimit(RLIMIT_NOFILE, &wanted) != 0) {
      return InternalError(std::string("setrlimit(RLIMIT_NOFILE, ") + std::to_string(plan.soft) +
                           "): " + std::strerror(errno));
    }
  }
  return plan;
}

}  // namespace hasivu::app
