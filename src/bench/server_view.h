// The server's own view of a bench run: what hasivu's GET /metrics says happened between a scrape
// taken before the measured phases and one taken after them (ServerView in result.h). Every
// figure is computed from the increase of counters and histogram buckets over that interval, so
// what the server did before the bench (its warm-up, the bench's setup) does not count; a server
// that restarted in between is counted from its restart (prometheus.h, CounterIncrease).
//
// The series it reads (src/metrics/http_series.cc, src/cache/tier_metrics.cc, store's
// TimedDatabase), all of one server:
//   hasivu_db_operation_duration_seconds{kind}      histogram; kind "read" | "write", merged
//   hasivu_http_offload_wait_seconds                histogram (a server with a blocking pool)
//   hasivu_db_pool_wait_seconds, _hold_seconds      histograms (PostgreSQL's pool)
//   hasivu_cache_hits_total{tier}                   counter; tier "memory", "redis" or "l1"+"l2"
//   hasivu_cache_misses_total{tier}                 counter
//   hasivu_http_compression_bytes_in_total{encoding}   counter; encoding "br" | "zstd" | "gzip"
//   hasivu_http_compression_bytes_out_total{encoding}  counter
//   hasivu_http_request_duration_seconds{route}     histogram; route = the function's name
//   hasivu_http_requests_total{route,method,class}  counter; class "2xx" .. "5xx"
// A series the server does not export leaves its figure absent; so does an interval with
// nothing to compute from (no queries: no p95; a tier without lookups: no hit rate; no
// compressed bytes: no ratio; no requests: no 5xx rate). Never 0 for "not measured".
//
// Thread-safety: a pure function.
#ifndef HASIVU_BENCH_SERVER_VIEW_H_
#define HASIVU_BENCH_SERVER_VIEW_H_

#include "bench/prometheus.h"
#include "bench/result.h"

namespace hasivu::bench {

// The figures of ServerView over [before, after], two scrapes of one server:
//   db_query_p95_ms    p95 of the database operations (reads and writes together), in ms;
//                      histogram_quantile over the bucket increases, so within a bucket's width
//   db_queries         how many operations there were (present, possibly 0, when exported)
//   offload_wait, db_pool_wait, db_pool_hold
//                      count, p99 and the worst bucket's upper bound of a blocking handler's
//                      wait for a pool thread, the pool's wait for a connection and each
//                      operation's hold of it (LatencyFigures), present when exported
//   cache_hit_rate     per tier: hits / (hits + misses) of its lookups in the interval, a
//                      fraction; "all": the tiers' hits over the outermost tier's lookups (every
//                      lookup passes the outermost tier, an inner one sees its misses only), the
//                      outermost being "l1" when there is one, else the tier with the most
//                      lookups; with one tier, "all" is that tier's rate; capped at 1 (an L1
//                      bypassed while Redis's invalidation channel was down sends lookups to L2
//                      alone, which the outermost tier's count then misses)
//   compression_ratio  bytes out / bytes in of the bodies the server compressed, all encodings;
//                      bodies a handler supplied already encoded (hasivu_http_precompressed_*)
//                      have no byte counters and are not in it
//   compression_bytes_saved  in - out of those bodies, 0 if compression grew them (as the
//                      monitoring dashboard reports it)
//   api_p95_ms         per function of kFunctions (scenarios.h) with requests in the interval:
//                      the p95 the server measured (complete head to response ready), in ms
//   api_p95_ms_max     the worst of those
//   error_rate_5xx     5xx answers / all answers of the ten functions, a fraction; other
//                      routes (/metrics itself, /healthz, ...) are not in it
// A histogram that cannot be read (bucket bounds that differ between series or scrapes) leaves
// its figures absent rather than failing the run's report.
ServerView DiffServerView(const Scrape& before, const Scrape& after);

}  // namespace hasivu::bench

#endif  // HASIVU_BENCH_SERVER_VIEW_H_
