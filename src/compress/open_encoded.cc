#include "compress/open_encoded.h"

#include <brotli/encode.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <memory>

#include "compress/codec.h"

namespace hasivu::compress {
namespace internal {
// codec.cc: consumes one failure injected by FailEncodesForTest, if any.
bool TakeInjectedEncodeFailure();
}  // namespace internal

namespace {

constexpr uint64_t kMaxPrefix = 0xFFFFFFFFu;
constexpr int kGzipWindowBits = 15 + 16;
constexpr size_t kStoredBlockMax = 65535;               // RFC 1951 3.2.4: LEN is 16 bits
constexpr size_t kZstdRawFrameMax = size_t{1} << 17;    // RFC 8878 3.1.1.2.4: 128 KiB blocks
constexpr size_t kBrotliRawBlockMax = size_t{1} << 24;  // RFC 7932 9.2: MLEN-1 in 6 nibbles

void PutLe(std::string& out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

StatusOr<std::string> GzipOpen(std::string_view prefix, int level) {
  z_stream z{};
  if (deflateInit2(&z, level, Z_DEFLATED, kGzipWindowBits, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return InternalError("gzip: deflateInit2 failed");
  std::unique_ptr<z_stream, decltype(&deflateEnd)> guard(&z, &deflateEnd);
  // deflateBound covers a finished stream; the sync flush adds at most an empty stored block.
  std::string out(deflateBound(&z, static_cast<uLong>(prefix.size())) + 16, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(prefix.data()));
  z.avail_in = static_cast<uInt>(prefix.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_SYNC_FLUSH);
  if (rc != Z_OK || z.avail_in != 0 || z.avail_out == 0)
    return InternalError("gzip: deflate flush failed (" + std::to_string(rc) + ")");
  out.resize(out.size() - z.avail_out);
  return out;
}

StatusOr<std::string> BrotliOpen(std::string_view prefix, int level) {
  std::unique_ptr<BrotliEncoderState, decltype(&BrotliEncoderDestroyInstance)> enc(
      BrotliEncoderCreateInstance(nullptr, nullptr, nullptr), &BrotliEncoderDestroyInstance);
  if (!enc) return InternalError("brotli: out of memory");
  // The tail is appended as uncompressed meta-blocks, which reference nothing, so the window
  // only has to hold the prefix.
  int window_bits = BROTLI_MIN_WINDOW_BITS;
  while (window_bits < BROTLI_MAX_WINDOW_BITS && (size_t{1} << window_bits) - 16 < prefix.size())
    ++window_bits;
  if (!BrotliEncoderSetParameter(enc.get(), BROTLI_PARAM_QUALITY, static_cast<uint32_t>(level)) ||
      !BrotliEncoderSetParameter(enc.get(), BROTLI_PARAM_LGWIN,
                                 static_cast<uint32_t>(window_bits)) ||
      !BrotliEncoderSetParameter(enc.get(), BROTLI_PARAM_SIZE_HINT,
                                 static_cast<uint32_t>(prefix.size()))) {
    return InternalError("brotli: bad encoder parameter");
  }
  std::string out;
  size_t avail_in = prefix.size();
  const uint8_t* next_in = reinterpret_cast<const uint8_t*>(prefix.data());
  do {
    size_t avail_out = 0;
    if (!BrotliEncoderCompressStream(enc.get(), BROTLI_OPERATION_FLUSH, &avail_in, &next_in,
                                     &avail_out, nullptr, nullptr)) {
      return InternalError("brotli: flush failed");
    }
    size_t size = 0;
    const uint8_t* data = BrotliEncoderTakeOutput(enc.get(), &size);
    out.append(reinterpret_cast<const char*>(data), size);
  } while (avail_in != 0 || BrotliEncoderHasMoreOutput(enc.get()));
  if (out.empty()) {
    // Nothing to flush and the stream header still pending: write it, WBITS=16 (bit 0), and
    // pad it to a byte with an empty metadata meta-block (ISLAST=0, MNIBBLES=0 as 11,
    // reserved 0, MSKIPBYTES=0): bits 0,0,1,1,0,0,0 LSB-first.
    out.push_back(static_cast<char>(0x0C));
  }
  return out;
}

void FinishGzip(const OpenEncoded& open, std::string_view tail, std::string& out) {
  size_t pos = 0;
  do {
    const size_t n = std::min(kStoredBlockMax, tail.size() - pos);
    const bool last = pos + n == tail.size();
    out.push_back(last ? '\x01' : '\x00');  // BFINAL, BTYPE=00, then pad to the byte
    PutLe(out, n, 2);
    PutLe(out, ~n & 0xffff, 2);
    out.append(tail.substr(pos, n));
    pos += n;
  } while (pos < tail.size());
  const uLong tail_crc =
      crc32_z(0, reinterpret_cast<const Bytef*>(tail.data()), static_cast<z_size_t>(tail.size()));
  const uLong crc = crc32_combine(open.crc32, tail_crc, static_cast<z_off_t>(tail.size()));
  PutLe(out, crc, 4);
  PutLe(out, (open.length + tail.size()) & 0xFFFFFFFFu, 4);
}

void FinishZstd(std::string_view tail, std::string& out) {
  for (size_t pos = 0; pos < tail.size();) {
    const size_t n = std::min(kZstdRawFrameMax, tail.size() - pos);
    PutLe(out, ZSTD_MAGICNUMBER, 4);
    // Frame_Header_Descriptor: Single_Segment_flag (0x20), no checksum, no dictionary; the
    // Frame_Content_Size field is 1, 2 (value - 256) or 4 bytes by Frame_Content_Size_flag.
    if (n < 256) {
      out.push_back('\x20');
      PutLe(out, n, 1);
    } else if (n < 65536 + 256) {
      out.push_back('\x60');
      PutLe(out, n - 256, 2);
    } else {
      out.push_back('\xA0');
      PutLe(out, n, 4);
    }
    PutLe(out, 1 | (n << 3), 3);  // Last_Block=1, Block_Type=Raw (0), Block_Size
    out.append(tail.substr(pos, n));
    pos += n;
  }
}

void FinishBrotli(std::string_view tail, std::string& out) {
  for (size_t pos = 0; pos < tail.size();) {
    const size_t n = std::min(kBrotliRawBlockMax, tail.size() - pos);
    const uint64_t mlen_minus_1 = n - 1;
    // The fewest nibbles that hold MLEN-1, at least 4: a leading zero nibble beyond four makes
    // the stream invalid.
    int nibbles = 4;
    while (nibbles < 6 && (mlen_minus_1 >> (4 * nibbles)) != 0) ++nibbles;
    // LSB-first: ISLAST=0 (1 bit), MNIBBLES-4 (2 bits), MLEN-1, ISUNCOMPRESSED=1; zero pad.
    uint64_t bits = 0;
    int count = 0;
    auto put = [&](uint64_t value, int width) {
      bits |= value << count;
      count += width;
    };
    put(0, 1);
    put(static_cast<uint64_t>(nibbles - 4), 2);
    put(mlen_minus_1, 4 * nibbles);
    put(1, 1);
    PutLe(out, bits, (count + 7) / 8);
    out.append(tail.substr(pos, n));
    pos += n;
  }
  out.push_back('\x03');  // ISLAST=1, ISLASTEMPTY=1, pad
}

}  // namespace

StatusOr<OpenEncoded> EncodeOpen(Encoding encoding, std::string_view prefix, int level) {
  if (prefix.size() >= kMaxPrefix)
    return InvalidArgumentError("compress: open prefix must be under 4 GiB");
  OpenEncoded open;
  open.encoding = encoding;
  open.length = prefix.size();
  open.crc32 = static_cast<uint32_t>(crc32_z(0, reinterpret_cast<const Bytef*>(prefix.data()),
                                             static_cast<z_size_t>(prefix.size())));
  const Codec* codec = CodecFor(encoding);
  if (codec == nullptr) {
    open.bytes = std::string(prefix);
    return open;
  }
  if (level < codec->min_level() || level > codec->max_level()) {
    return InvalidArgumentError(std::string(EncodingName(encoding)) + " level must be " +
                                std::to_string(codec->min_level()) + ".." +
                                std::to_string(codec->max_level()) + ", got " +
                                std::to_string(level));
  }
  if (internal::TakeInjectedEncodeFailure()) {
    return InternalError(std::string(EncodingName(encoding)) + ": failure injected for a test");
  }
  StatusOr<std::string> bytes = InternalError("unreachable");
  switch (encoding) {
    case Encoding::kGzip:
      bytes = GzipOpen(prefix, level);
      break;
    case Encoding::kBrotli:
      bytes = BrotliOpen(prefix, level);
      break;
    case Encoding::kZstd:
      // A complete frame: the tail follows as frames of its own.
      bytes = codec->Compress(prefix, level);
      break;
    case Encoding::kIdentity:
      break;
  }
  if (!bytes.ok()) return bytes.status();
  open.bytes = std::move(*bytes);
  return open;
}

std::string FinishEncoded(const OpenEncoded& open, std::string_view tail) {
  std::string out;
  // Framing: 5 bytes per stored block + 8 (gzip), 10 per frame (zstd), 4 per meta-block + 1.
  out.reserve(open.bytes.size() + tail.size() + 5 * (tail.size() / kStoredBlockMax) + 16);
  out.append(open.bytes);
  switch (open.encoding) {
    case Encoding::kGzip:
      FinishGzip(open, tail, out);
      break;
    case Encoding::kZstd:
      FinishZstd(tail, out);
      break;
    case Encoding::kBrotli:
      FinishBrotli(tail, out);
      break;
    case Encoding::kIdentity:
      out.append(tail);
      break;
  }
  return out;
}

}  // namespace hasivu::compress
