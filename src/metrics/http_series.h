// The HTTP server's series, defined once: http/ records into them and the monitoring dashboard
// (domain/monitoring_service.h) reads them back, so neither repeats a metric's name, help text or
// labels. Registry::Get* returns the one series of a name and labels, so both sides see the same
// numbers.
//
//   hasivu_http_requests_total{route,method,class}      requests by status class 2xx..5xx
//   hasivu_http_request_duration_seconds{route}          complete head -> response ready
//   hasivu_http_compressed_responses_total{encoding}     bodies the server encoded
//   hasivu_http_compression_bytes_in_total{encoding}     their sizes before ...
//   hasivu_http_compression_bytes_out_total{encoding}    ... and after compression
//   hasivu_http_compression_errors_total{encoding}       codec failures (identity sent)
//   hasivu_http_precompressed_responses_total{encoding}  bodies handlers supplied encoded
//   hasivu_http_compression_seconds{encoding}            one encoding attempt
//
// Thread-safety: as Registry (safe concurrently); the references live as long as the registry.
#ifndef HASIVU_METRICS_HTTP_SERIES_H_
#define HASIVU_METRICS_HTTP_SERIES_H_

#include <string_view>

#include "metrics/metrics.h"

namespace hasivu::metrics {

// `status_class` is "2xx", "3xx", "4xx" or "5xx".
Counter& HttpRequests(Registry& registry, std::string_view route, std::string_view method,
                      std::string_view status_class);
Histogram& HttpRequestLatency(Registry& registry, std::string_view route);

struct HttpCompressionSeries {
  Counter* responses = nullptr;
  Counter* bytes_in = nullptr;
  Counter* bytes_out = nullptr;
  Counter* errors = nullptr;
  Counter* precompressed = nullptr;
  Histogram* seconds = nullptr;
};
// `encoding` is "br", "zstd" or "gzip".
HttpCompressionSeries HttpCompression(Registry& registry, std::string_view encoding);

}  // namespace hasivu::metrics

#endif  // HASIVU_METRICS_HTTP_SERIES_H_
