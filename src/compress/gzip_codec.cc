#include <zlib.h>

#include <array>
#include <memory>

#include "compress/codec.h"

namespace hasivu::compress {
namespace {

constexpr int kGzipWindowBits = 15 + 16;  // 32 KiB window, gzip wrapper
constexpr int kMemLevel = 8;

// A deflate stream per level per thread, reset between bodies: deflateInit2 allocates about
// 256 KiB, which costs more than compressing a small body.
class DeflaterCache {
 public:
  ~DeflaterCache() {
    for (auto& s : streams_) {
      if (s) deflateEnd(s.get());
    }
  }
  z_stream* Get(int level) {
    std::unique_ptr<z_stream>& s = streams_[level];
    if (!s) {
      auto fresh = std::make_unique<z_stream>();
      if (deflateInit2(fresh.get(), level, Z_DEFLATED, kGzipWindowBits, kMemLevel,
                       Z_DEFAULT_STRATEGY) != Z_OK) {
        return nullptr;
      }
      s = std::move(fresh);
    } else if (deflateReset(s.get()) != Z_OK) {
      deflateEnd(s.get());
      s.reset();
      return nullptr;
    }
    return s.get();
  }

 private:
  std::array<std::unique_ptr<z_stream>, 10> streams_;
};

class Gzip final : public Codec {
 public:
  Encoding encoding() const override { return Encoding::kGzip; }
  int min_level() const override { return 1; }
  int max_level() const override { return 9; }

  StatusOr<std::string> Compress(std::string_view input, int level) const override {
    if (level < min_level() || level > max_level()) {
      return InvalidArgumentError("gzip level must be 1..9, got " + std::to_string(level));
    }
    if (input.size() > 0xFFFFFFFFu) return InvalidArgumentError("gzip: input too large");
    thread_local DeflaterCache cache;
    z_stream* z = cache.Get(level);
    if (z == nullptr) return InternalError("gzip: deflateInit2 failed");
    std::string out(deflateBound(z, static_cast<uLong>(input.size())), '\0');
    z->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
    z->avail_in = static_cast<uInt>(input.size());
    z->next_out = reinterpret_cast<Bytef*>(out.data());
    z->avail_out = static_cast<uInt>(out.size());
    const int rc = deflate(z, Z_FINISH);
    if (rc != Z_STREAM_END)
      return InternalError("gzip: deflate failed (" + std::to_string(rc) + ")");
    out.resize(out.size() - z->avail_out);
    return out;
  }

  StatusOr<std::string> Decompress(std::string_view input, size_t max_bytes) const override {
    z_stream z{};
    if (inflateInit2(&z, kGzipWindowBits) != Z_OK)
      return InternalError("gzip: inflateInit2 failed");
    std::unique_ptr<z_stream, decltype(&inflateEnd)> guard(&z, &inflateEnd);
    if (input.empty()) return InvalidArgumentError("gzip: empty input");
    if (input.size() > 0xFFFFFFFFu) return InvalidArgumentError("gzip: input too large");
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
    z.avail_in = static_cast<uInt>(input.size());
    std::string out;
    char buffer[16384];
    while (true) {
      z.next_out = reinterpret_cast<Bytef*>(buffer);
      z.avail_out = sizeof(buffer);
      const int rc = inflate(&z, Z_NO_FLUSH);
      const size_t produced = sizeof(buffer) - z.avail_out;
      if (out.size() + produced > max_bytes) {
        return ResourceExhaustedError("gzip: decoded body exceeds " + std::to_string(max_bytes) +
                                      " bytes");
      }
      out.append(buffer, produced);
      if (rc == Z_STREAM_END) {
        if (z.avail_in == 0) return out;
        // RFC 1952 allows several members one after the other.
        if (inflateReset(&z) != Z_OK) return InternalError("gzip: inflateReset failed");
        continue;
      }
      if (rc != Z_OK && rc != Z_BUF_ERROR) {
        return InvalidArgumentError(std::string("gzip: corrupt stream: ") +
                                    (z.msg != nullptr ? z.msg : "error " + std::to_string(rc)));
      }
      // All input consumed, room left for output, and no end of stream: the body was cut.
      if (z.avail_in == 0 && z.avail_out != 0)
        return InvalidArgumentError("gzip: truncated stream");
    }
  }
};

}  // namespace

const Codec& GzipCodec() {
  static const Gzip* const codec = new Gzip();
  return *codec;
}

}  // namespace hasivu::compress
