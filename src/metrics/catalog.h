// The CloudWatch metrics hasivu emits (namespace HASIVU/Performance): name, unit, aggregation
// and dimension names of each, written once. The monitor's wiring records under these names, the
// EMF exporter writes them, and `hasivu cloudwatch-config` builds dashboards and alarms from them;
// a test checks that every metric a dashboard or alarm names is one a live exporter emits with
// exactly those dimensions (CloudWatch treats a name with other dimensions as another metric).
//
// Dimension values come from small fixed sets: Function (the ten functions of api.md), Store
// ("sqlite" | "postgres"), Tier (the cache tiers: "memory" alone, or "l1" and "l2" = Redis, and
// for CacheHitRate also kAllTiers, the tiers together, when there are several),
// QueryKind ("read" | "write"), Service ("razorpay"), Operation, StatusClass ("2xx".."5xx",
// "timeout", "error"), ErrorKind (a Status code name), Event, Flow, Segment, Checkpoint (names in
// code).
//
// Thread-safety: constants only.
#ifndef HASIVU_METRICS_CATALOG_H_
#define HASIVU_METRICS_CATALOG_H_

#include <array>
#include <span>
#include <string_view>

#include "metrics/series.h"

namespace hasivu::metrics::catalog {

inline constexpr std::string_view kNamespace = "HASIVU/Performance";

struct MetricDef {
  std::string_view name;
  Unit unit;
  Aggregation aggregation;
  std::array<std::string_view, 3> dimensions;  // names, unused slots empty
  std::string_view help;
};

// ---- runtime ------------------------------------------------------------------------------------
// exec -> listening + the first request's own service time (architecture.md, "Cold start").
inline constexpr MetricDef kColdStartDuration{"ColdStartDuration",
                                              Unit::kMilliseconds,
                                              Aggregation::kDistribution,
                                              {"Store"},
                                              "process exec to ready plus the first request"};
inline constexpr MetricDef kColdStartInit{"ColdStartInitDuration",
                                          Unit::kMilliseconds,
                                          Aggregation::kDistribution,
                                          {"Store"},
                                          "process exec to listening"};
inline constexpr MetricDef kColdStartFirstRequest{"ColdStartFirstRequestDuration",
                                                  Unit::kMilliseconds,
                                                  Aggregation::kDistribution,
                                                  {"Store"},
                                                  "the first request's first byte in to last out"};
inline constexpr MetricDef kMemoryRss{
    "MemoryRss", Unit::kBytes, Aggregation::kLatest, {}, "resident set size of the process"};

// ---- API (the ten functions) --------------------------------------------------------------------
// Warm requests only: the first request of the process is cold start's.
inline constexpr MetricDef kApiLatency{"ApiLatency",
                                       Unit::kMilliseconds,
                                       Aggregation::kDistribution,
                                       {"Function"},
                                       "complete request head to response ready"};
inline constexpr MetricDef kApiRequests{
    "ApiRequests", Unit::kCount, Aggregation::kSum, {"Function"}, "requests answered"};
inline constexpr MetricDef kApiServerErrors{
    "ApiServerErrors", Unit::kCount, Aggregation::kSum, {"Function"}, "requests answered 5xx"};
// 100 * 5xx / requests over the ten functions in the interval; missing without requests.
inline constexpr MetricDef kApiErrorRate{"ApiErrorRate",
                                         Unit::kPercent,
                                         Aggregation::kLatest,
                                         {},
                                         "5xx share of the ten functions' requests"};

// ---- database -----------------------------------------------------------------------------------
inline constexpr MetricDef kDatabaseQueryDuration{"DatabaseQueryDuration",
                                                  Unit::kMilliseconds,
                                                  Aggregation::kDistribution,
                                                  {"QueryKind"},
                                                  "one Read or Write, including the pool wait"};
inline constexpr MetricDef kDatabaseSlowQueries{"DatabaseSlowQueries",
                                                Unit::kCount,
                                                Aggregation::kSum,
                                                {"QueryKind"},
                                                "queries over the slow-query threshold"};
inline constexpr MetricDef kDatabasePoolInUse{
    "DatabasePoolInUse", Unit::kCount, Aggregation::kLatest, {}, "connections in use"};
inline constexpr MetricDef kDatabasePoolSize{
    "DatabasePoolSize", Unit::kCount, Aggregation::kLatest, {}, "connections open"};

// ---- cache --------------------------------------------------------------------------------------
// 100 * hits / (hits + misses) of a tier in the interval; missing without lookups. With several
// tiers, Tier=kAllTiers is the cache as a whole: 100 * (every tier's hits) / (the outermost
// tier's lookups), e.g. L1 + L2 hits over L1 lookups.
inline constexpr std::string_view kAllTiers = "all";
inline constexpr MetricDef kCacheHitRate{
    "CacheHitRate", Unit::kPercent, Aggregation::kLatest, {"Tier"}, "lookups answered by the tier"};
inline constexpr MetricDef kCacheHits{
    "CacheHits", Unit::kCount, Aggregation::kSum, {"Tier"}, "lookups found"};
inline constexpr MetricDef kCacheMisses{
    "CacheMisses", Unit::kCount, Aggregation::kSum, {"Tier"}, "lookups not found"};
inline constexpr MetricDef kCacheErrors{
    "CacheErrors", Unit::kCount, Aggregation::kSum, {"Tier"}, "tier faults"};
inline constexpr MetricDef kCacheEvictions{
    "CacheEvictions", Unit::kCount, Aggregation::kSum, {"Tier"}, "entries evicted for room"};

// ---- external calls (the Razorpay client) -------------------------------------------------------
inline constexpr MetricDef kExternalCallDuration{"ExternalCallDuration",
                                                 Unit::kMilliseconds,
                                                 Aggregation::kDistribution,
                                                 {"Service", "Operation"},
                                                 "one call, retries included"};
inline constexpr MetricDef kExternalCalls{"ExternalCalls",
                                          Unit::kCount,
                                          Aggregation::kSum,
                                          {"Service", "Operation", "StatusClass"},
                                          "calls by outcome"};
inline constexpr MetricDef kExternalCallRetries{"ExternalCallRetries",
                                                Unit::kCount,
                                                Aggregation::kSum,
                                                {"Service"},
                                                "attempts after the first"};
inline constexpr MetricDef kExternalCallTimeouts{"ExternalCallTimeouts",
                                                 Unit::kCount,
                                                 Aggregation::kSum,
                                                 {"Service"},
                                                 "attempts that timed out"};

// ---- operations, business events, flows ---------------------------------------------------------
inline constexpr MetricDef kOperationDuration{"OperationDuration",
                                              Unit::kMilliseconds,
                                              Aggregation::kDistribution,
                                              {"Operation"},
                                              "one measured operation"};
inline constexpr MetricDef kOperationErrors{"OperationErrors",
                                            Unit::kCount,
                                            Aggregation::kSum,
                                            {"Operation", "ErrorKind"},
                                            "failed operations by error kind"};
inline constexpr MetricDef kBusinessEvents{"BusinessEvents",
                                           Unit::kCount,
                                           Aggregation::kSum,
                                           {"Event"},
                                           "orders created, payments captured, deliveries"};
inline constexpr MetricDef kBusinessAmount{"BusinessAmountPaise",
                                           Unit::kNone,
                                           Aggregation::kSum,
                                           {"Event"},
                                           "amounts of the events, in paise"};
inline constexpr MetricDef kFlowSegmentDuration{"FlowSegmentDuration",
                                                Unit::kMilliseconds,
                                                Aggregation::kDistribution,
                                                {"Flow", "Segment"},
                                                "one checkpoint to the next"};
inline constexpr MetricDef kFlowCumulativeDuration{"FlowCumulativeDuration",
                                                   Unit::kMilliseconds,
                                                   Aggregation::kDistribution,
                                                   {"Flow", "Checkpoint"},
                                                   "flow start to a checkpoint"};

inline constexpr std::array kAll{
    kColdStartDuration,   kColdStartInit,       kColdStartFirstRequest,
    kMemoryRss,           kApiLatency,          kApiRequests,
    kApiServerErrors,     kApiErrorRate,        kDatabaseQueryDuration,
    kDatabaseSlowQueries, kDatabasePoolInUse,   kDatabasePoolSize,
    kCacheHitRate,        kCacheHits,           kCacheMisses,
    kCacheErrors,         kCacheEvictions,      kExternalCallDuration,
    kExternalCalls,       kExternalCallRetries, kExternalCallTimeouts,
    kOperationDuration,   kOperationErrors,     kBusinessEvents,
    kBusinessAmount,      kFlowSegmentDuration, kFlowCumulativeDuration};

}  // namespace hasivu::metrics::catalog

#endif  // HASIVU_METRICS_CATALOG_H_
