// The process's open-file limit, set for what `hasivu serve` holds open: every connection is a
// descriptor, and so are the store's files, the logs and the listening sockets. Linux starts
// most processes with a soft limit of 1 024 whatever the hard limit allows, which would cap the
// server at about a thousand connections with nothing said. Only app/ changes process limits.
//
// Thread-safety: call RaiseOpenFileLimit once, before serving; PlanOpenFileLimit is pure.
#ifndef HASIVU_APP_PROCESS_LIMITS_H_
#define HASIVU_APP_PROCESS_LIMITS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "common/status.h"

namespace hasivu::app {

// Descriptors kept for everything that is not a client connection.
inline constexpr uint64_t kReservedFiles = 64;

struct FileLimitPlan {
  uint64_t before = 0;  // the soft limit found
  uint64_t soft = 0;    // the soft limit to set (== before when it already suffices)
  uint64_t hard = 0;    // the hard limit (RLIM_INFINITY as UINT64_MAX)
  // Set when even the hard limit leaves room for fewer than `max_connections` connections: what
  // the limit allows and how an operator raises it.
  std::optional<std::string> warning;
};

// The soft limit for `max_connections` connections plus kReservedFiles: raised up to the hard
// limit when lower, never lowered.
FileLimitPlan PlanOpenFileLimit(uint64_t soft, uint64_t hard, int max_connections);

// Reads RLIMIT_NOFILE, applies PlanOpenFileLimit to this process and returns the plan applied;
// an error (with errno's text) if the limit cannot be read or set.
StatusOr<FileLimitPlan> RaiseOpenFileLimit(int max_connections);

}  // namespace hasivu::app

#endif  // HASIVU_APP_PROCESS_LIMITS_H_
