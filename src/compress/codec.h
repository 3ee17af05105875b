// Codecs: brotli (libbrotlienc/dec), zstd (libzstd) and gzip (zlib) behind one small interface,
// and the two calls other modules use, Encode and Decode.
//
// Use from the cache layer (ready-compressed variants, so a cache hit never compresses twice):
//   compress::Encoding e = compress::Negotiate(request.headers.Get("Accept-Encoding"),
//                                              compress::EncodingSet::All());
//   // Keep the identity body and, once asked for, Encode(e, body, LevelFor(settings, e)) next to
//   // it. To answer from an encoded variant, hand the server the bytes as they are:
//   response.body = variant_bytes;
//   response.content_encoding = std::string(compress::EncodingName(e));  // http/message.h
//   response.headers.Set("ETag", identity_etag);  // the server turns it into "X-br" etc.
// The server then sends the body unchanged with Content-Encoding and Vary: Accept-Encoding.
// Store a variant only when IsWorthSending(identity.size(), encoded.size()) (else serve the
// identity body, as the server would), and only for bodies of at least Settings::min_bytes of a
// compressible type (settings.h), so a cached answer looks exactly like a computed one.
// Bodies whose end changes per request (the API envelope's "meta") are cached as an encoded
// prefix instead and finished per request without compressing: open_encoded.h.
//
// Ownership: codecs are process-wide singletons. Thread-safety: every function and codec method
// is safe to call concurrently (per-thread compression contexts are reused internally).
#ifndef HASIVU_COMPRESS_CODEC_H_
#define HASIVU_COMPRESS_CODEC_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"
#include "compress/negotiation.h"

namespace hasivu::compress {

class Codec {
 public:
  virtual ~Codec() = default;
  virtual Encoding encoding() const = 0;
  // Valid levels, inclusive: brotli quality 0..11, zstd 1..19, gzip 1..9.
  virtual int min_level() const = 0;
  virtual int max_level() const = 0;
  // The complete encoded form of `input` (a whole Content-Encoding body). kInvalidArgument for a
  // level out of range; kInternal if the library fails (then send identity).
  virtual StatusOr<std::string> Compress(std::string_view input, int level) const = 0;
  // Decodes a whole body. kInvalidArgument for corrupt or truncated input or trailing garbage;
  // kResourceExhausted if the output would exceed `max_bytes` (bounds decompression bombs).
  virtual StatusOr<std::string> Decompress(std::string_view input, size_t max_bytes) const = 0;
};

const Codec& BrotliCodec();
const Codec& ZstdCodec();
const Codec& GzipCodec();
// The codec of an encoding; nullptr for identity.
const Codec* CodecFor(Encoding encoding);

// Encodes `body` for Content-Encoding `encoding` at `level` (identity returns a copy).
StatusOr<std::string> Encode(Encoding encoding, std::string_view body, int level);
// Decodes a body sent with Content-Encoding `encoding` (identity returns a copy, still bounded).
StatusOr<std::string> Decode(Encoding encoding, std::string_view data,
                             size_t max_bytes = size_t{64} << 20);

// Makes the next `count` calls of Encode (any codec, any thread) fail with kInternal, so tests
// can check the fallback to identity. Costs Encode one relaxed atomic load.
void FailEncodesForTest(int count);

// Whether an encoded body is worth sending instead of the identity one: it must be smaller.
inline bool IsWorthSending(size_t identity_bytes, size_t encoded_bytes) {
  return encoded_bytes < identity_bytes;
}

}  // namespace hasivu::compress

#endif  // HASIVU_COMPRESS_CODEC_H_
