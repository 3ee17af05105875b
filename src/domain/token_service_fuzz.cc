// libFuzzer harness: the access tokens (domain/token_service.h). The first input byte picks
// what the rest is:
//   0: a token as a client sends it, verified as is;
//   1: "<header JSON>\n<payload JSON>", signed with the service's secret and verified, so that
//      the header and claim checks behind the signature are reached;
//   2: the fields of a principal ("user\nschool\nsession" and a role byte), issued and verified;
//   3: bytes for the base64url codec.
// Invariants, beyond "no crash, no sanitizer report":
//   - Verify never accepts a token whose MAC is not the secret's over its first two segments,
//     and every refusal is kUnauthenticated (TOKEN_EXPIRED only for a genuine expired token)
//     with a message that does not echo the token;
//   - for signed texts, Verify's verdict equals the file comment's rules computed here
//     independently from the JSON (pinned header; iss, aud, sub, role, sid, iat, exp), and the
//     claims it returns are the payload's;
//   - a second Verify of the same token (the per-thread memo) gives the same verdict, and once
//     the clock passes exp an accepted token is refused as TOKEN_EXPIRED;
//   - Issue then Verify gives the principal back; a token with any one byte changed is refused;
//   - base64url: Decode(Encode(x)) == x, and a text Decode accepts is Encode's of its result.
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/ids.h"
#include "common/status.h"
#include "common/testing/fuzz_check.h"
#include "domain/principal.h"
#include "domain/token_service.h"

namespace {

namespace json = boost::json;
using hasivu::FixedClock;
using hasivu::StatusCode;
using hasivu::domain::AccessClaims;
using hasivu::domain::TokenService;

constexpr std::string_view kSecret = "fuzz-token-secret-0123456789abcdefghijklmnop";
constexpr int64_t kNow = 1'800'000'000;

FixedClock& Clock() {
  static FixedClock* clock =
      new FixedClock(std::chrono::system_clock::time_point(std::chrono::seconds(kNow)));
  return *clock;
}

const TokenService& Service() {
  static const TokenService* service = [] {
    FUZZ_CHECK(hasivu::InitCrypto().ok());
    hasivu::domain::TokenSettings settings;
    settings.secret = std::string(kSecret);
    return new TokenService(settings, &Clock());
  }();
  return *service;
}

void CheckRefusal(const hasivu::Status& s, std::string_view token) {
  FUZZ_CHECK(s.code() == StatusCode::kUnauthenticated);
  FUZZ_CHECK(s.reason().empty() || s.reason() == "TOKEN_EXPIRED");
  // The messages are fixed texts; a token longer than any of them is never in one.
  FUZZ_CHECK(s.message().size() <= 64);
  if (token.size() > 64) FUZZ_CHECK(s.message().find(token) == std::string::npos);
}

// Verify, twice (the second from the memo), with the same verdict.
hasivu::StatusOr<AccessClaims> VerifyTwice(std::string_view token) {
  hasivu::StatusOr<AccessClaims> first = Service().Verify(token);
  hasivu::StatusOr<AccessClaims> second = Service().Verify(token);
  FUZZ_CHECK(first.ok() == second.ok());
  if (first.ok()) {
    FUZZ_CHECK(first->principal.user_id == second->principal.user_id);
    FUZZ_CHECK(first->expires_at == second->expires_at);
  } else {
    FUZZ_CHECK(first.status().reason() == second.status().reason());
    CheckRefusal(first.status(), token);
  }
  return first;
}

// An accepted token stops being accepted once the clock passes its exp.
void CheckExpires(std::string_view token, const AccessClaims& claims) {
  // Instants past year 2262 do not fit the clock's nanoseconds.
  if (claims.expires_at <= kNow || claims.expires_at > 9'000'000'000) return;
  Clock().Set(std::chrono::system_clock::time_point(std::chrono::seconds(claims.expires_at)));
  hasivu::StatusOr<AccessClaims> later = Service().Verify(token);
  Clock().Set(std::chrono::system_clock::time_point(std::chrono::seconds(kNow)));
  FUZZ_CHECK(!later.ok() && later.status().reason() == "TOKEN_EXPIRED");
}

std::optional<json::object> ParseObject(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.as_object());
}

const json::string* StringAt(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? &v->as_string() : nullptr;
}

std::optional<int64_t> IntAt(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (!v) return std::nullopt;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64() && v->as_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
    return static_cast<int64_t>(v->as_uint64());
  }
  return std::nullopt;
}

// The rules of token_service.h for a correctly signed token, computed from the JSON texts.
enum class Verdict { kAccepted, kExpired, kRefused };
Verdict Expected(std::string_view header_json, std::string_view payload_json,
                 AccessClaims* claims) {
  if (header_json != R"({"alg":"HS256","typ":"JWT"})") {
    std::optional<json::object> header = ParseObject(header_json);
    if (!header) return Verdict::kRefused;
    const json::string* alg = StringAt(*header, "alg");
    if (alg == nullptr || *alg != "HS256") return Verdict::kRefused;
    for (const auto& m : *header) {
      if (m.key() == "alg") continue;
      if (m.key() == "typ" && m.value().is_string() && m.value().as_string() == "JWT") continue;
      return Verdict::kRefused;
    }
  }
  std::optional<json::object> payload = ParseObject(payload_json);
  if (!payload) return Verdict::kRefused;
  const json::string* iss = StringAt(*payload, "iss");
  const json::string* aud = StringAt(*payload, "aud");
  if (!iss || *iss != "hasivu" || !aud || *aud != "hasivu-api") return Verdict::kRefused;
  const json::string* sub = StringAt(*payload, "sub");
  const json::string* role = StringAt(*payload, "role");
  const json::string* school = StringAt(*payload, "school");
  const json::string* sid = StringAt(*payload, "sid");
  const std::optional<int64_t> iat = IntAt(*payload, "iat");
  const std::optional<int64_t> exp = IntAt(*payload, "exp");
  if (!sub || sub->empty() || !role || !sid || sid->empty() || !iat || !exp) {
    return Verdict::kRefused;
  }
  const std::optional<hasivu::domain::Role> parsed = hasivu::domain::ParseRole(*role);
  if (!parsed) return Verdict::kRefused;
  claims->principal.user_id = std::string(*sub);
  claims->principal.role = *parsed;
  claims->principal.school_id = school ? std::string(*school) : std::string();
  claims->principal.session_id = std::string(*sid);
  claims->issued_at = *iat;
  claims->expires_at = *exp;
  if (*iat > kNow + 60) return Verdict::kRefused;
  if (kNow >= *exp) return Verdict::kExpired;
  return Verdict::kAccepted;
}

void FuzzRawToken(std::string_view token) {
  hasivu::StatusOr<AccessClaims> claims = VerifyTwice(token);
  if (!claims.ok()) return;
  // Accepted: it must carry the secret's MAC over its first two segments.
  const size_t dot2 = token.rfind('.');
  FUZZ_CHECK(dot2 != std::string_view::npos);
  hasivu::StatusOr<std::string> mac = hasivu::domain::Base64UrlDecode(token.substr(dot2 + 1));
  FUZZ_CHECK(mac.ok() && *mac == hasivu::domain::HmacSha256(kSecret, token.substr(0, dot2)));
  CheckExpires(token, *claims);
}

void FuzzSigned(std::string_view text) {
  const size_t newline = text.find('\n');
  const std::string_view header = text.substr(0, newline);
  const std::string_view payload =
      newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
  const std::string token = TokenService::SignRawForTest(header, payload, kSecret);
  AccessClaims expected;
  const Verdict verdict = Expected(header, payload, &expected);
  hasivu::StatusOr<AccessClaims> claims = VerifyTwice(token);
  // Empty segments make a malformed token whatever they hold.
  if (header.empty() || payload.empty()) {
    FUZZ_CHECK(!claims.ok() && claims.status().reason().empty());
    return;
  }
  switch (verdict) {
    case Verdict::kAccepted:
      FUZZ_CHECK(claims.ok());
      FUZZ_CHECK(claims->principal.user_id == expected.principal.user_id);
      FUZZ_CHECK(claims->principal.role == expected.principal.role);
      FUZZ_CHECK(claims->principal.school_id == expected.principal.school_id);
      FUZZ_CHECK(claims->principal.session_id == expected.principal.session_id);
      FUZZ_CHECK(claims->issued_at == expected.issued_at);
      FUZZ_CHECK(claims->expires_at == expected.expires_at);
      CheckExpires(token, *claims);
      break;
    case Verdict::kExpired:
      FUZZ_CHECK(!claims.ok() && claims.status().reason() == "TOKEN_EXPIRED");
      break;
    case Verdict::kRefused:
      FUZZ_CHECK(!claims.ok() && claims.status().reason().empty());
      break;
  }
}

void FuzzIssue(std::string_view text) {
  if (text.empty()) return;
  hasivu::domain::Principal p;
  p.role = static_cast<hasivu::domain::Role>(static_cast<uint8_t>(text[0]) % 5);
  text.remove_prefix(1);
  const size_t a = text.find('\n');
  const size_t b = a == std::string_view::npos ? a : text.find('\n', a + 1);
  p.user_id = std::string(text.substr(0, a));
  if (a != std::string_view::npos) p.school_id = std::string(text.substr(a + 1, b - a - 1));
  if (b != std::string_view::npos) p.session_id = std::string(text.substr(b + 1));
  hasivu::StatusOr<std::string> token = Service().Issue(p);
  FUZZ_CHECK(token.ok());
  hasivu::StatusOr<AccessClaims> claims = VerifyTwice(*token);
  // JSON strings carry any bytes Boost.JSON accepts; invalid UTF-8 is refused when read back.
  if (!claims.ok()) return;
  FUZZ_CHECK(claims->principal.user_id == p.user_id);
  FUZZ_CHECK(claims->principal.role == p.role);
  FUZZ_CHECK(claims->principal.school_id == p.school_id);
  FUZZ_CHECK(claims->principal.session_id == p.session_id);
  FUZZ_CHECK(claims->issued_at == kNow && claims->expires_at == kNow + 15 * 60);
  // Any one byte changed: refused.
  std::string tampered = *token;
  const size_t at = (p.user_id.size() * 131 + p.session_id.size()) % tampered.size();
  tampered[at] = tampered[at] == 'A' ? 'B' : 'A';
  FUZZ_CHECK(!Service().Verify(tampered).ok());
}

void FuzzBase64(std::string_view bytes) {
  const std::string encoded = hasivu::domain::Base64UrlEncode(bytes);
  hasivu::StatusOr<std::string> decoded = hasivu::domain::Base64UrlDecode(encoded);
  FUZZ_CHECK(decoded.ok() && *decoded == bytes);
  hasivu::StatusOr<std::string> as_text = hasivu::domain::Base64UrlDecode(bytes);
  if (as_text.ok()) FUZZ_CHECK(hasivu::domain::Base64UrlEncode(*as_text) == bytes);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 4) {
    case 0:
      FuzzRawToken(rest);
      break;
    case 1:
      FuzzSigned(rest);
      break;
    case 2:
      FuzzIssue(rest);
      break;
    default:
      FuzzBase64(rest);
      break;
  }
  return 0;
}
