#include "compress/codec.h"

#include <atomic>

namespace hasivu::compress {
namespace {

std::atomic<int> fail_encodes_for_test{0};

}  // namespace

void FailEncodesForTest(int count) { fail_encodes_for_test.store(count); }

namespace internal {
bool TakeInjectedEncodeFailure() {
  return fail_encodes_for_test.load(std::memory_order_relaxed) > 0 &&
         fail_encodes_for_test.fetch_sub(1) > 0;
}
}  // namespace internal

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
  if (internal::TakeInjectedEncodeFailure()) {
    return InternalError(std::string(EncodingName(encoding)) + ": failure injected for a test");
  }
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
