#include "metrics/http_series.h"

#include <string>

namespace hasivu::metrics {

Counter& HttpRequests(Registry& registry, std::string_view route, std::string_view method,
                      std::string_view status_class) {
  return registry.GetCounter("hasivu_http_requests_total",
                             "HTTP requests by route, method and status class",
                             {{"route", std::string(route)},
                              {"method", std::string(method)},
                              {"class", std::string(status_class)}});
}

Histogram& HttpRequestLatency(Registry& registry, std::string_view route) {
  return registry.GetHistogram("hasivu_http_request_duration_seconds",
                               "HTTP request latency from complete head to response ready",
                               {{"route", std::string(route)}}, 1e-6);
}

HttpCompressionSeries HttpCompression(Registry& registry, std::string_view encoding) {
  const Labels labels = {{"encoding", std::string(encoding)}};
  HttpCompressionSeries s;
  s.responses = &registry.GetCounter("hasivu_http_compressed_responses_total",
                                     "Responses the server sent compressed", labels);
  s.bytes_in =
      &registry.GetCounter("hasivu_http_compression_bytes_in_total",
                           "Body bytes before compression, of responses sent compressed", labels);
  s.bytes_out =
      &registry.GetCounter("hasivu_http_compression_bytes_out_total",
                           "Body bytes after compression, of responses sent compressed", labels);
  s.errors = &registry.GetCounter("hasivu_http_compression_errors_total",
                                  "Codec failures (the identity body was sent)", labels);
  s.precompressed =
      &registry.GetCounter("hasivu_http_precompressed_responses_total",
                           "Responses whose handler supplied an already encoded body", labels);
  s.seconds = &registry.GetHistogram("hasivu_http_compression_seconds",
                                     "Time to compress one response body", labels, 1e-6);
  return s;
}

}  // namespace hasivu::metrics
