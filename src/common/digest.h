// SHA-256 and HMAC-SHA256 for the hot paths (ETags of every read, the signature of every access
// token). SHA-256 goes through OpenSSL with its implementation fetched once per process, so the
// CPU's SHA extensions are used and no provider lookup happens per call; HMAC-SHA256 through
// libsodium, which needs no per-call setup either.
//
// Thread-safety: all functions may be called from any number of threads.
#ifndef HASIVU_COMMON_DIGEST_H_
#define HASIVU_COMMON_DIGEST_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace hasivu {

using Sha256Digest = std::array<uint8_t, 32>;

Sha256Digest Sha256(std::string_view data);
// Lowercase hex of Sha256(data) (64 characters).
std::string Sha256Hex(std::string_view data);
// HMAC-SHA256 (RFC 2104) of `data` under `key` (any length).
Sha256Digest HmacSha256(std::string_view key, std::string_view data);
// Lowercase hex of `bytes`.
std::string HexLower(const uint8_t* bytes, size_t size);

}  // namespace hasivu

#endif  // HASIVU_COMMON_DIGEST_H_
