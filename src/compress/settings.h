// Compression policy of HTTP responses: the settings the server runs with (filled by app/ from
// flags) and the checks that decide whether a response is compressed at all.
//
// Policy (applied by http/response_writer.cc, after the handler):
//   - only when `enabled`, a codec is negotiated from Accept-Encoding among `codecs`, the method
//     is not HEAD, the status carries a body (not 204/304), the body has at least `min_bytes`,
//     and its Content-Type is compressible (IsCompressibleContentType);
//   - an encoded body is sent only when it is smaller than the identity one;
//   - on a codec error the identity body is sent and the error counted.
//
// Thread-safety: plain values and pure functions.
#ifndef HASIVU_COMPRESS_SETTINGS_H_
#define HASIVU_COMPRESS_SETTINGS_H_

#include <cstddef>
#include <string_view>

#include "common/status.h"
#include "compress/negotiation.h"

namespace hasivu::compress {

// Default levels, chosen by measurement on the API's bodies (docs/decisions.md D15,
// docs/performance.md "Response compression").
inline constexpr int kDefaultBrotliLevel = 4;
inline constexpr int kDefaultZstdLevel = 1;
inline constexpr int kDefaultGzipLevel = 5;
// Brotli for a body compressed for one response and then dropped (an uncached read): each call
// pays the encoder's set-up, which at quality 4 is most of the server's CPU for such a read
// (docs/performance.md, "Where an uncached orders-list goes"); quality 1 costs 41 % fewer
// instructions per request for a body ~15 % larger. Bodies kept in the cache keep brotli_level.
inline constexpr int kDefaultBrotliLevelPerRequest = 1;

struct Settings {
  bool enabled = true;
  // Bodies smaller than this are sent as they are. Default: 1024 (the seed's 1 KiB).
  size_t min_bytes = 1024;
  int brotli_level = kDefaultBrotliLevel;  // 0..11, bodies compressed once and kept (cached)
  int brotli_level_per_request = kDefaultBrotliLevelPerRequest;  // 0..11, bodies sent once
  int zstd_level = kDefaultZstdLevel;                            // 1..19
  int gzip_level = kDefaultGzipLevel;                            // 1..9
  // Codecs the server offers. Default: all three.
  EncodingSet codecs = EncodingSet::All();
};

// kInvalidArgument naming the setting for a level out of its codec's range or an empty codec
// set while enabled.
Status ValidateSettings(const Settings& settings);

// The configured level of a codec (0 for identity), for bodies that are kept and sent again.
int LevelFor(const Settings& settings, Encoding encoding);
// The level for a body compressed for one response only: brotli_level_per_request for brotli,
// LevelFor otherwise.
int PerRequestLevelFor(const Settings& settings, Encoding encoding);

// Whether a Content-Type is worth compressing: text/*, JSON and XML types (including +json and
// +xml suffixes), JavaScript, SVG, NDJSON, WebAssembly. Everything else (images, audio, video,
// archives, fonts, octet-stream, and an empty type) is already compressed or unknown and is
// sent as it is. Parameters (charset) are ignored; case-insensitive.
bool IsCompressibleContentType(std::string_view content_type);

}  // namespace hasivu::compress

#endif  // HASIVU_COMPRESS_SETTINGS_H_
