#include "domain/token_service.h"

#include <openssl/crypto.h>
#include <sodium.h>

#include <atomic>
#include <unordered_map>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "common/digest.h"

namespace hasivu::domain {
namespace {

constexpr std::string_view kHeaderJson = R"({"alg":"HS256","typ":"JWT"})";
// Issued-at may lie this far in the future (clock skew between instances).
constexpr int64_t kIatLeewaySeconds = 60;

Status Bad(std::string message) { return UnauthenticatedError(std::move(message)); }

int64_t UnixSeconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

const boost::json::string* StringMember(const boost::json::object& o, std::string_view key) {
  const boost::json::value* v = o.if_contains(key);
  return v && v->is_string() ? &v->as_string() : nullptr;
}

bool IntMember(const boost::json::object& o, std::string_view key, int64_t* out) {
  const boost::json::value* v = o.if_contains(key);
  if (!v) return false;
  if (v->is_int64()) {
    *out = v->as_int64();
    return true;
  }
  if (v->is_uint64() && v->as_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
    *out = static_cast<int64_t>(v->as_uint64());
    return true;
  }
  return false;
}

StatusOr<boost::json::object> ParseObject(std::string_view json) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(json, ec);
  if (ec || !v.is_object()) return Bad("token segment is not a JSON object");
  return std::move(v.as_object());
}

}  // namespace

std::string Base64UrlEncode(std::string_view bytes) {
  const size_t len =
      sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  std::string out(len, '\0');
  sodium_bin2base64(out.data(), len, reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(len - 1);  // the encoded length counts the terminating NUL
  return out;
}

StatusOr<std::string> Base64UrlDecode(std::string_view text) {
  std::string out(text.size() * 3 / 4 + 3, '\0');
  size_t bin_len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &bin_len, &end,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
      end != text.data() + text.size()) {
    return InvalidArgumentError("not base64url");
  }
  out.resize(bin_len);
  // One text per byte string: a segment with different trailing bits is not the same token.
  if (Base64UrlEncode(out) != text) return InvalidArgumentError("non-canonical base64url");
  return out;
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  const Sha256Digest mac = hasivu::HmacSha256(key, data);
  return std::string(reinterpret_cast<const char*>(mac.data()), mac.size());
}

std::string Sha256Hex(std::string_view data) { return hasivu::Sha256Hex(data); }

namespace {

std::atomic<uint64_t> next_token_service{1};

// Tokens this thread verified lately, with their claims. Bounded: cleared when full (the
// entries of active clients come back on their next request).
constexpr size_t kVerifiedMemoEntries = 512;
struct VerifiedMemo {
  uint64_t service = 0;
  std::unordered_map<std::string, AccessClaims> claims;
};
thread_local VerifiedMemo tl_verified;

}  // namespace

TokenService::TokenService(TokenSettings settings, const Clock* clock)
    : settings_(std::move(settings)), clock_(clock), instance_(next_token_service.fetch_add(1)) {}

std::string TokenService::SignRawForTest(std::string_view header_json,
                                         std::string_view payload_json, std::string_view secret) {
  std::string signing_input = Base64UrlEncode(header_json) + "." + Base64UrlEncode(payload_json);
  std::string mac = HmacSha256(secret, signing_input);
  return signing_input + "." + Base64UrlEncode(mac);
}

StatusOr<std::string> TokenService::Issue(const Principal& principal) const {
  const int64_t now = UnixSeconds(clock_->Now());
  boost::json::object claims;
  claims["sub"] = principal.user_id;
  claims["role"] = RoleName(principal.role);
  claims["school"] = principal.school_id;
  claims["sid"] = principal.session_id;
  claims["iat"] = now;
  claims["exp"] = now + settings_.access_ttl.count();
  claims["iss"] = settings_.issuer;
  claims["aud"] = settings_.audience;
  std::string signing_input =
      Base64UrlEncode(kHeaderJson) + "." + Base64UrlEncode(boost::json::serialize(claims));
  std::string mac = HmacSha256(settings_.secret, signing_input);
  if (mac.size() != 32) return InternalError("HMAC-SHA256 failed");
  return signing_input + "." + Base64UrlEncode(mac);
}

StatusOr<AccessClaims> TokenService::Verify(std::string_view token) const {
  VerifiedMemo& memo = tl_verified;
  if (memo.service != instance_) {
    memo.claims.clear();
    memo.service = instance_;
  }
  const std::string key(token);
  auto it = memo.claims.find(key);
  if (it == memo.claims.end()) {
    ASSIGN_OR_RETURN(AccessClaims verified, VerifySignedClaims(token));
    if (memo.claims.size() >= kVerifiedMemoEntries) memo.claims.clear();
    it = memo.claims.emplace(key, std::move(verified)).first;
  }
  const int64_t now = UnixSeconds(clock_->Now());
  if (it->second.issued_at > now + kIatLeewaySeconds) return Bad("token issued in the future");
  if (now >= it->second.expires_at) {
    return Status(StatusCode::kUnauthenticated, "The access token has expired", "TOKEN_EXPIRED");
  }
  return it->second;
}

StatusOr<AccessClaims> TokenService::VerifySignedClaims(std::string_view token) const {
  if (token.empty()) return Bad("empty token");
  if (token.size() > kMaxTokenBytes) return Bad("token too long");
  const size_t dot1 = token.find('.');
  if (dot1 == std::string_view::npos) return Bad("malformed token");
  const size_t dot2 = token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return Bad("malformed token");
  }
  const std::string_view header_b64 = token.substr(0, dot1);
  const std::string_view payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string_view signature_b64 = token.substr(dot2 + 1);
  if (header_b64.empty() || payload_b64.empty() || signature_b64.empty()) {
    return Bad("malformed token");
  }

  // The header is checked before the signature so that a token naming another algorithm is
  // refused for what it is; the key is never used with anything but HMAC-SHA256.
  // Tokens this service issued carry exactly kHeaderJson, so that one needs no parsing.
  static const std::string kIssuedHeader = Base64UrlEncode(kHeaderJson);
  if (header_b64 != kIssuedHeader) {
    StatusOr<std::string> header_json = Base64UrlDecode(header_b64);
    if (!header_json.ok()) return Bad("malformed token header");
    ASSIGN_OR_RETURN(boost::json::object header, ParseObject(*header_json));
    const boost::json::string* alg = StringMember(header, "alg");
    if (alg == nullptr || *alg != "HS256") return Bad("unsupported token algorithm");
    for (const auto& member : header) {
      if (member.key() == "alg") continue;
      if (member.key() == "typ" && member.value().is_string() &&
          member.value().as_string() == "JWT")
        continue;
      return Bad("unsupported token header");
    }
  }

  StatusOr<std::string> signature = Base64UrlDecode(signature_b64);
  if (!signature.ok() || signature->size() != 32) return Bad("malformed token signature");
  const std::string expected = HmacSha256(settings_.secret, token.substr(0, dot2));
  if (expected.size() != 32 || CRYPTO_memcmp(expected.data(), signature->data(), 32) != 0) {
    return Bad("bad token signature");
  }

  StatusOr<std::string> payload_json = Base64UrlDecode(payload_b64);
  if (!payload_json.ok()) return Bad("malformed token payload");
  ASSIGN_OR_RETURN(boost::json::object payload, ParseObject(*payload_json));

  const boost::json::string* iss = StringMember(payload, "iss");
  const boost::json::string* aud = StringMember(payload, "aud");
  if (iss == nullptr || *iss != settings_.issuer) return Bad("wrong token issuer");
  if (aud == nullptr || *aud != settings_.audience) return Bad("wrong token audience");

  AccessClaims claims;
  const boost::json::string* sub = StringMember(payload, "sub");
  const boost::json::string* role = StringMember(payload, "role");
  const boost::json::string* school = StringMember(payload, "school");
  const boost::json::string* sid = StringMember(payload, "sid");
  if (sub == nullptr || sub->empty() || role == nullptr || sid == nullptr || sid->empty() ||
      !IntMember(payload, "iat", &claims.issued_at) ||
      !IntMember(payload, "exp", &claims.expires_at)) {
    return Bad("token claims incomplete");
  }
  std::optional<Role> parsed_role = ParseRole(*role);
  if (!parsed_role) return Bad("unknown role in token");
  claims.principal.user_id = std::string(*sub);
  claims.principal.role = *parsed_role;
  claims.principal.school_id = school ? std::string(*school) : std::string();
  claims.principal.session_id = std::string(*sid);
  return claims;
}

}  // namespace hasivu::domain
