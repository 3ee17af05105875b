#include <brotli/decode.h>
#include <brotli/encode.h>

#include <algorithm>
#include <memory>

#include "compress/codec.h"

namespace hasivu::compress {
namespace {

// The smallest window that holds the whole input: a 4 MiB default window for a 10 KiB body
// costs the encoder megabytes of hash tables it never uses.
int WindowBitsFor(size_t size) {
  int bits = BROTLI_MIN_WINDOW_BITS;
  while (bits < BROTLI_MAX_WINDOW_BITS && (size_t{1} << bits) - 16 < size) ++bits;
  return bits;
}

class Brotli final : public Codec {
 public:
  Encoding encoding() const override { return Encoding::kBrotli; }
  int min_level() const override { return BROTLI_MIN_QUALITY; }
  int max_level() const override { return BROTLI_MAX_QUALITY; }

  StatusOr<std::string> Compress(std::string_view input, int level) const override {
    if (level < min_level() || level > max_level()) {
      return InvalidArgumentError("brotli quality must be 0..11, got " + std::to_string(level));
    }
    size_t bound = BrotliEncoderMaxCompressedSize(input.size());
    if (bound == 0) {
      if (!input.empty()) return InternalError("brotli: input too large");
      bound = 16;
    }
    std::string out(bound, '\0');
    size_t out_size = out.size();
    if (!BrotliEncoderCompress(level, WindowBitsFor(input.size()), BROTLI_MODE_GENERIC,
                               input.size(), reinterpret_cast<const uint8_t*>(input.data()),
                               &out_size, reinterpret_cast<uint8_t*>(out.data()))) {
      return InternalError("brotli: compression failed");
    }
    out.resize(out_size);
    return out;
  }

  StatusOr<std::string> Decompress(std::string_view input, size_t max_bytes) const override {
    std::unique_ptr<BrotliDecoderState, decltype(&BrotliDecoderDestroyInstance)> state(
        BrotliDecoderCreateInstance(nullptr, nullptr, nullptr), &BrotliDecoderDestroyInstance);
    if (!state) return InternalError("brotli: out of memory");
    std::string out;
    size_t available_in = input.size();
    const uint8_t* next_in = reinterpret_cast<const uint8_t*>(input.data());
    uint8_t buffer[16384];
    while (true) {
      size_t available_out = sizeof(buffer);
      uint8_t* next_out = buffer;
      const BrotliDecoderResult result = BrotliDecoderDecompressStream(
          state.get(), &available_in, &next_in, &available_out, &next_out, nullptr);
      const size_t produced = sizeof(buffer) - available_out;
      if (out.size() + produced > max_bytes) {
        return ResourceExhaustedError("brotli: decoded body exceeds " + std::to_string(max_bytes) +
                                      " bytes");
      }
      out.append(reinterpret_cast<const char*>(buffer), produced);
      switch (result) {
        case BROTLI_DECODER_RESULT_SUCCESS:
          if (available_in != 0) return InvalidArgumentError("brotli: data after the stream");
          return out;
        case BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT:
          continue;
        case BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT:
          return InvalidArgumentError("brotli: truncated stream");
        case BROTLI_DECODER_RESULT_ERROR:
        default:
          return InvalidArgumentError(
              std::string("brotli: corrupt stream: ") +
              BrotliDecoderErrorString(BrotliDecoderGetErrorCode(state.get())));
      }
    }
  }
};

}  // namespace

const Codec& BrotliCodec() {
  static const Brotli* const codec = new Brotli();
  return *codec;
}

}  // namespace hasivu::compress
