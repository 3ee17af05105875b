#include "compress/codec.h"

namespace hasivu::compress {

const Codec* CodecFor(Encoding encoding) {
  switch (encoding) {
    case Encoding::kBrotli:
      return &BrotliCodec();
    case Encoding::kZstd:
      return &ZstdCodec();
    case Encoding::kGzip:
      return &GzipCodec();
    case Encoding::kIdentity:
      break;
  }
  return nullptr;
}

StatusOr<std::string> Encode(Encoding encoding, std::string_view body, int level) {
  const Codec* codec = CodecFor(encoding);
  if (codec == nullptr) return std::string(body);
  return codec->Compress(body, level);
}

StatusOr<std::string> Decode(Encoding encoding, std::string_view data, size_t max_bytes) {
  const Codec* codec = CodecFor(encoding);
  if (codec == nullptr) {
    if (data.size() > max_bytes) return ResourceExhaustedError("body exceeds the decode limit");
    return std::string(data);
  }
  return codec->Decompress(data, max_bytes);
}

}  // namespace hasivu::compress
