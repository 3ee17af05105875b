// The Monitor's wiring (app/ is the one place that connects modules): the series other modules
// record into the Registry, adopted under their catalog definitions (metrics/catalog.h) so the
// EMF exporter, the alarms and the dashboard read them without a second record on any request.
//
//   AdoptApiSeries    per function routed (the ten of api.md): ApiLatency{Function} from the
//                     route's latency histogram (microseconds, shown in milliseconds),
//                     ApiRequests{Function} and ApiServerErrors{Function} from its per-method,
//                     per-class request counters (HEAD counted with a GET route); and
//                     ApiErrorRate = 100 * 5xx / requests over all of them.
//   AdoptCacheSeries  per cache tier: CacheHits/Misses/Errors/Evictions{Tier} from the tier's
//                     counters (cache/tier_metrics.h), CacheHitRate{Tier} = 100 * hits / lookups;
//                     with several tiers also CacheHitRate{Tier=all} = 100 * (every tier's hits)
//                     / (the outermost tier's lookups), the cache as a whole (while the tiered
//                     cache bypasses L1, L2 hits have no L1 lookup behind them: it reads high,
//                     at most 100).
//   AddProcessLevels  MemoryRss (/proc/self/statm), DatabasePoolInUse and DatabasePoolSize
//                     (Database::Stats()).
//
// Ownership: the Monitor's registry holds the adopted series; `db` outlives the Monitor's reads.
// Thread-safety: call at wiring time, from one thread.
#ifndef HASIVU_APP_MONITOR_WIRING_H_
#define HASIVU_APP_MONITOR_WIRING_H_

#include <string>
#include <vector>

#include "domain/monitoring_service.h"
#include "metrics/monitor.h"
#include "store/database.h"

namespace hasivu::app {

void AdoptApiSeries(metrics::Monitor& monitor,
                    const std::vector<domain::MonitoredFunction>& functions);
// `tiers` as cache::TierStats::tier names them ("memory", or "l1", "l2"), outermost first.
void AdoptCacheSeries(metrics::Monitor& monitor, const std::vector<std::string>& tiers);
void AddProcessLevels(metrics::Monitor& monitor, const store::Database& db);

}  // namespace hasivu::app

#endif  // HASIVU_APP_MONITOR_WIRING_H_
