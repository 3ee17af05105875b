// Savings estimation (the seed's estimateCompressionSavings, working): compresses one body with
// every codec at every level and reports size, ratio and time. Used by
// `hasivu estimate-compression` and the benchmarks' documentation.
//
// Thread-safety: pure function; safe concurrently.
#ifndef HASIVU_COMPRESS_ESTIMATE_H_
#define HASIVU_COMPRESS_ESTIMATE_H_

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "compress/negotiation.h"

namespace hasivu::compress {

struct EstimateRow {
  Encoding encoding = Encoding::kIdentity;
  int level = 0;
  size_t original_bytes = 0;
  size_t encoded_bytes = 0;
  double ratio = 1;   // encoded / original (1 for an empty body)
  double micros = 0;  // median compression time of the runs
  int runs = 0;
  bool round_trip = false;  // Decode(Encode(body)) == body
  std::string error;        // non-empty when the codec failed (other fields then zero)
};

struct EstimateOptions {
  // Each (codec, level) is timed for at least min_runs and then until `budget` has passed or
  // max_runs were made.
  int min_runs = 3;
  int max_runs = 200;
  std::chrono::microseconds budget{20000};
};

// One row per codec (br, zstd, gzip) and level (each codec's full range), in that order.
std::vector<EstimateRow> EstimateAll(std::string_view body, const EstimateOptions& options = {});

// The rows as a text table (one header line, then one line per row).
std::string FormatEstimate(const std::vector<EstimateRow>& rows);

}  // namespace hasivu::compress

#endif  // HASIVU_COMPRESS_ESTIMATE_H_
