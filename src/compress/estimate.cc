#include "compress/estimate.h"

#include <algorithm>
#include <cstdio>

#include "compress/codec.h"

namespace hasivu::compress {

std::vector<EstimateRow> EstimateAll(std::string_view body, const EstimateOptions& options) {
  using Clock = std::chrono::steady_clock;
  std::vector<EstimateRow> rows;
  for (Encoding e : kCodecs) {
    const Codec& codec = *CodecFor(e);
    for (int level = codec.min_level(); level <= codec.max_level(); ++level) {
      EstimateRow row;
      row.encoding = e;
      row.level = level;
      row.original_bytes = body.size();
      std::vector<double> times;
      std::string encoded;
      const auto start = Clock::now();
      while (static_cast<int>(times.size()) < options.max_runs &&
             (static_cast<int>(times.size()) < options.min_runs ||
              Clock::now() - start < options.budget)) {
        const auto t0 = Clock::now();
        StatusOr<std::string> out = codec.Compress(body, level);
        const auto t1 = Clock::now();
        if (!out.ok()) {
          row.error = out.status().ToString();
          break;
        }
        times.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
        encoded = std::move(*out);
      }
      if (row.error.empty()) {
        std::sort(times.begin(), times.end());
        row.runs = static_cast<int>(times.size());
        row.micros = times[times.size() / 2];
        row.encoded_bytes = encoded.size();
        row.ratio = body.empty() ? 1.0 : static_cast<double>(encoded.size()) / body.size();
        StatusOr<std::string> back = codec.Decompress(encoded, body.size() + 1);
        row.round_trip = back.ok() && *back == body;
      }
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

std::string FormatEstimate(const std::vector<EstimateRow>& rows) {
  std::string out = "codec  level      bytes   ratio   saved  compress_us  round_trip\n";
  char line[160];
  for (const EstimateRow& r : rows) {
    if (!r.error.empty()) {
      std::snprintf(line, sizeof(line), "%-5s %6d  error: %s\n", EncodingName(r.encoding).data(),
                    r.level, r.error.c_str());
    } else {
      std::snprintf(line, sizeof(line), "%-5s %6d %10zu %7.3f %6.1f%% %12.1f  %s\n",
                    EncodingName(r.encoding).data(), r.level, r.encoded_bytes, r.ratio,
                    (1.0 - r.ratio) * 100.0, r.micros, r.round_trip ? "ok" : "FAILED");
    }
    out += line;
  }
  return out;
}

}  // namespace hasivu::compress
