// TokenService: signs and verifies the API's access tokens, JSON Web Tokens with HS256 only.
//
// The header is pinned: tokens are signed with exactly {"alg":"HS256","typ":"JWT"}, and Verify()
// accepts a header only if it is a JSON object whose "alg" is "HS256" and which has no member
// other than "alg" and "typ" (= "JWT"). Any other alg ("none", "HS512", "RS256", ...) is refused,
// so the alg-confusion attacks on JWT libraries do not apply. A token is exactly three non-empty
// base64url segments without padding; the signature is HMAC-SHA256 over "<header>.<payload>" with
// the configured secret and is compared in constant time. Claims: sub, role, school, sid, iat,
// exp, iss, aud; iss and aud must equal the settings, exp is checked against the injected Clock.
//
// Errors of Verify(): kUnauthenticated with reason "TOKEN_EXPIRED" for a genuine token past its
// exp; kUnauthenticated without a reason for everything else (malformed, oversized, wrong alg,
// bad signature, wrong iss/aud, bad claims). Messages never echo the token.
//
// Verify() remembers, per thread, the last few hundred tokens whose signature and claims it
// checked, so a client's repeated requests cost a hash lookup instead of a MAC and a JSON parse;
// exp is still checked against the clock on every call, and only the exact token text hits.
//
// Thread-safety: immutable after construction (the per-thread memo is thread_local); safe to use
// concurrently.
#ifndef HASIVU_DOMAIN_TOKEN_SERVICE_H_
#define HASIVU_DOMAIN_TOKEN_SERVICE_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"
#include "domain/principal.h"

namespace hasivu::domain {

struct TokenSettings {
  std::string secret;  // HMAC key; REQUIRES: >= 32 bytes
  std::string issuer = "hasivu";
  std::string audience = "hasivu-api";
  std::chrono::seconds access_ttl{15 * 60};
};

struct AccessClaims {
  Principal principal;     // sub, role, school, sid
  int64_t issued_at = 0;   // iat, Unix seconds
  int64_t expires_at = 0;  // exp, Unix seconds
};

// Tokens longer than this are refused before any parsing.
inline constexpr size_t kMaxTokenBytes = 4096;

class TokenService {
 public:
  // `clock` must outlive the service.
  TokenService(TokenSettings settings, const Clock* clock);

  const TokenSettings& settings() const { return settings_; }

  // A signed access token for `principal`, valid from now for access_ttl. Errors: kInternal if
  // the crypto library fails.
  StatusOr<std::string> Issue(const Principal& principal) const;

  // Signs arbitrary header and payload JSON texts as given (with HS256 over their base64url
  // forms). For tests that need crafted tokens (expired, other alg headers).
  static std::string SignRawForTest(std::string_view header_json, std::string_view payload_json,
                                    std::string_view secret);

  // Verifies `token` (see the file comment for the errors).
  StatusOr<AccessClaims> Verify(std::string_view token) const;

 private:
  // Verify() without the memo, and without the exp check.
  StatusOr<AccessClaims> VerifySignedClaims(std::string_view token) const;

  TokenSettings settings_;
  const Clock* clock_;
  // Tells this service's memo entries from those of another (even at the same address).
  const uint64_t instance_;
};

// base64url without padding (libsodium's URL-safe variant). Decode refuses padding, characters
// outside the alphabet and non-canonical trailing bits.
std::string Base64UrlEncode(std::string_view bytes);
StatusOr<std::string> Base64UrlDecode(std::string_view text);

// HMAC-SHA256 of `data` under `key` (32 raw bytes).
std::string HmacSha256(std::string_view key, std::string_view data);

// SHA-256 of `data`, lower-case hex.
std::string Sha256Hex(std::string_view data);

}  // namespace hasivu::domain

#endif  // HASIVU_DOMAIN_TOKEN_SERVICE_H_
