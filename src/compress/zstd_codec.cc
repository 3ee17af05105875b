#include <zstd.h>

#include <memory>

#include "compress/codec.h"

namespace hasivu::compress {
namespace {

// RFC 8878 asks Content-Encoding decoders to accept windows up to 8 MiB and no more, so a
// peer cannot make us allocate a huge window.
constexpr int kMaxWindowLog = 23;

struct CCtxDeleter {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DCtxDeleter {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

class Zstd final : public Codec {
 public:
  Encoding encoding() const override { return Encoding::kZstd; }
  int min_level() const override { return 1; }
  int max_level() const override { return 19; }

  StatusOr<std::string> Compress(std::string_view input, int level) const override {
    if (level < min_level() || level > max_level()) {
      return InvalidArgumentError("zstd level must be 1..19, got " + std::to_string(level));
    }
    // One context per thread, reused: creating one per call costs more than compressing a small
    // body.
    thread_local std::unique_ptr<ZSTD_CCtx, CCtxDeleter> cctx(ZSTD_createCCtx());
    if (!cctx) return InternalError("zstd: out of memory");
    std::string out(ZSTD_compressBound(input.size()), '\0');
    const size_t n =
        ZSTD_compressCCtx(cctx.get(), out.data(), out.size(), input.data(), input.size(), level);
    if (ZSTD_isError(n)) return InternalError(std::string("zstd: ") + ZSTD_getErrorName(n));
    out.resize(n);
    return out;
  }

  StatusOr<std::string> Decompress(std::string_view input, size_t max_bytes) const override {
    std::unique_ptr<ZSTD_DCtx, DCtxDeleter> dctx(ZSTD_createDCtx());
    if (!dctx) return InternalError("zstd: out of memory");
    ZSTD_DCtx_setParameter(dctx.get(), ZSTD_d_windowLogMax, kMaxWindowLog);
    if (input.empty()) return InvalidArgumentError("zstd: empty input");
    std::string out;
    ZSTD_inBuffer in{input.data(), input.size(), 0};
    char buffer[16384];
    size_t last = 0;
    while (in.pos < in.size || last != 0) {
      ZSTD_outBuffer o{buffer, sizeof(buffer), 0};
      last = ZSTD_decompressStream(dctx.get(), &o, &in);
      if (ZSTD_isError(last)) {
        return InvalidArgumentError(std::string("zstd: corrupt stream: ") +
                                    ZSTD_getErrorName(last));
      }
      if (out.size() + o.pos > max_bytes) {
        return ResourceExhaustedError("zstd: decoded body exceeds " + std::to_string(max_bytes) +
                                      " bytes");
      }
      out.append(buffer, o.pos);
      // Input used up inside a frame while the output had room: the body was cut.
      if (last != 0 && in.pos == in.size && o.pos < o.size) {
        return InvalidArgumentError("zstd: truncated stream");
      }
    }
    return out;
  }
};

}  // namespace

const Codec& ZstdCodec() {
  static const Zstd* const codec = new Zstd();
  return *codec;
}

}  // namespace hasivu::compress
