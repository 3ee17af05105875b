// Identifiers and randomness from a cryptographic source (libsodium's randombytes).
//
// Thread-safety: all functions are safe to call concurrently. InitCrypto() must have succeeded
// once before any of them is used (app/ calls it first; tests through their main).
#ifndef HASIVU_COMMON_IDS_H_
#define HASIVU_COMMON_IDS_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace hasivu {

// Initialises libsodium. Idempotent.
Status InitCrypto();

// A UUID version 7 (RFC 9562: 48-bit Unix milliseconds then random bits), lower-case canonical
// text form "xxxxxxxx-xxxx-7xxx-yxxx-xxxxxxxxxxxx". Time-ordered, so index-friendly.
std::string NewUuidV7(std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

// True for a canonical lower- or upper-case UUID text of any version.
bool IsUuid(std::string_view text);

// `n` characters drawn uniformly from `alphabet` (no modulo bias).
std::string RandomString(size_t n, std::string_view alphabet);

// `n` random bytes, hex-encoded (2n characters).
std::string RandomHex(size_t n);

inline constexpr std::string_view kAlphanumeric =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
inline constexpr std::string_view kUpperAlphanumeric = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

}  // namespace hasivu

#endif  // HASIVU_COMMON_IDS_H_
