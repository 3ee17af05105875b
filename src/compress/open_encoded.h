// Encoded bodies with an open end: a prefix compressed once, finished per request with a short
// identity tail, without compressing again (issue 4b; docs/decisions.md D18).
//
// Why: every success body is `{"success":true,"data":<data>,"meta":{"timestamp":..,
// "requestId":..}}` (spec/api.md), so the bytes after <data> change on every request and a
// whole-body encoded variant cannot be reused. The cache keeps, per encoding, the prefix
// `{"success":true,"data":<data>` encoded with its end left open, and per request appends
// `,"meta":{...}}` in the container's own uncompressed form, then closes the stream:
//   - gzip (RFC 1951/1952): the prefix is deflated with Z_SYNC_FLUSH (gzip header written,
//     output ends on a byte boundary, no final block). Finishing appends stored blocks (BTYPE=00,
//     at most 65535 bytes each; the last has BFINAL=1, an empty tail gives one empty final
//     block) and the trailer: CRC-32 of prefix+tail from crc32_combine(), ISIZE mod 2^32.
//   - zstd (RFC 8878): the prefix is one complete frame; the tail follows as further frames of
//     one raw block each (single-segment, at most 128 KiB per frame; none for an empty tail).
//     Decoders concatenate the frames (ZSTD_decompress and ZSTD_decompressStream both do).
//   - br (RFC 7932): the prefix is compressed with BROTLI_OPERATION_FLUSH (byte-aligned, stream
//     not finished). Finishing appends uncompressed meta-blocks (ISLAST=0, MNIBBLES=4..6 as
//     MLEN-1 needs, ISUNCOMPRESSED=1, zero pad, raw bytes; at most 2^24 bytes each) and the
//     final empty meta-block (ISLAST=1, ISLASTEMPTY=1: byte 0x03).
//   - identity: the prefix as it is; finishing concatenates.
// The finished body is a standard stream of that Content-Encoding; any conforming decoder (curl,
// browsers, Decode in codec.h) yields exactly prefix + tail. The tail is not compressed, so it
// should be short (the envelope's meta is about 100 bytes); the prefix carries the size.
//
// Use (cache fill, then each hit):
//   ASSIGN_OR_RETURN(compress::OpenEncoded open,
//                    compress::EncodeOpen(e, prefix, compress::LevelFor(settings, e)));
//   ...
//   std::string body = compress::FinishEncoded(open, tail);
//   if (compress::IsWorthSending(open.length + tail.size(), body.size())) {
//     response.body = std::move(body);
//     response.content_encoding = std::string(compress::EncodingName(e));  // server sends as is
//   }
//
// Ownership: OpenEncoded is a plain value that owns its bytes; FinishEncoded only reads it.
// Thread-safety: both functions are safe to call concurrently; one OpenEncoded may be finished
// by many threads at once.
#ifndef HASIVU_COMPRESS_OPEN_ENCODED_H_
#define HASIVU_COMPRESS_OPEN_ENCODED_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "compress/negotiation.h"

namespace hasivu::compress {

// An encoded body prefix that FinishEncoded completes with any identity tail.
struct OpenEncoded {
  Encoding encoding = Encoding::kIdentity;
  // The encoded prefix, unfinished (not a decodable body on its own, except for identity and
  // zstd).
  std::string bytes;
  // CRC-32 (ISO 3309, as in gzip) of the identity prefix; used by gzip, set for every encoding.
  uint32_t crc32 = 0;
  // Length of the identity prefix in bytes.
  uint64_t length = 0;
};

// Encodes `prefix` for Content-Encoding `encoding` at `level` (the codec's range, codec.h;
// ignored for identity), leaving the stream open. kInvalidArgument for a level out of range or
// a prefix of 4 GiB or more; kInternal if the library fails (then send identity). Honours
// FailEncodesForTest (codec.h). Costs one full compression of the prefix.
StatusOr<OpenEncoded> EncodeOpen(Encoding encoding, std::string_view prefix, int level);

// The complete encoded body of prefix + `tail`: a copy of open.bytes, the tail's bytes with a
// few bytes of framing per 64 KiB (gzip) / 128 KiB (zstd) / 16 MiB (br), and the stream's end.
// No compression; for gzip one CRC-32 pass over the tail. REQUIRES: `open` came from EncodeOpen
// (unchanged) and tail.size() < 4 GiB.
std::string FinishEncoded(const OpenEncoded& open, std::string_view tail);

}  // namespace hasivu::compress

#endif  // HASIVU_COMPRESS_OPEN_ENCODED_H_
