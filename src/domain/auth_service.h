// AuthService: auth-register, auth-login, refresh-token rotation, logout, and the access-token
// check every authenticated request goes through (api.md "auth-login").
//
// - Passwords: argon2id through PasswordHasher (settings.password); legacy bcrypt and lighter
//   argon2id hashes verify and are re-hashed with the current settings on a successful login.
//   Unknown email, wrong password and inactive account fail alike (INVALID_CREDENTIALS) after the
//   same hashing work.
// - Access tokens: TokenService (HS256 JWT, sid = session family). Refresh tokens: 32 random
//   bytes base64url; only their SHA-256 hex is stored (auth_sessions), valid refresh_ttl, rotated
//   on every use within the family; presenting a rotated or revoked token revokes the family.
// - Session check: Authenticate() verifies the token, then asks a SessionStateCache (5 s) whether
//   the family is still usable (not revoked, owner active), reading the database on a miss.
//   Revocations made here are visible at once on this instance.
// - Throttling, in process: LoginThrottle for logins (per email and per client address, check and
//   count in one step); registrations per client address (settings.max_registrations_per_address
//   in registration_window, every attempt that passes validation counts). Addresses are counted
//   by ClientKeyOfAddress (IPv6 by /64). Emails over 254 bytes are refused before either.
// - Session check: besides revocation, the owner must be active with status active or pending
//   (a suspended user's tokens stop working on the next database check, within the cache TTL).
//
// Errors (Status reasons are the API error codes): INVALID_CREDENTIALS (kUnauthenticated),
// RATE_LIMITED (kResourceExhausted; see LoginFailure::retry_after), EMAIL_TAKEN
// (kAlreadyExists), VALIDATION_ERROR with details (kInvalidArgument), TOKEN_EXPIRED and plain
// kUnauthenticated from Authenticate/Refresh, kUnavailable when the database is down.
//
// Thread-safety: safe to use concurrently. The database and clock must outlive the service.
#ifndef HASIVU_DOMAIN_AUTH_SERVICE_H_
#define HASIVU_DOMAIN_AUTH_SERVICE_H_

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"
#include "domain/auth_session_cache.h"
#include "domain/login_throttle.h"
#include "domain/password.h"
#include "domain/principal.h"
#include "domain/read_cache.h"
#include "domain/settings.h"
#include "domain/token_service.h"
#include "store/database.h"

namespace hasivu::domain {

struct ClientInfo {
  std::string address;     // peer IP, for throttling and the session row
  std::string user_agent;  // stored truncated
};

struct AuthUser {
  std::string id;
  std::string email;
  std::string first_name;
  std::string last_name;
  Role role = Role::kParent;
  std::string school_id;  // "" = none
};

struct TokenPair {
  std::string access_token;
  std::string refresh_token;
  int64_t expires_in = 0;  // seconds the access token is valid
};

struct AuthResult {
  AuthUser user;
  TokenPair tokens;
};

struct Registration {
  std::string email;
  std::string password;
  std::string first_name;
  std::string last_name;
  std::string phone;      // "" = none
  std::string school_id;  // "" = none
};

class AuthService {
 public:
  // `read_cache` (may be null) hears of user rows this service changes (a re-hash on login),
  // after the commit.
  AuthService(store::Database* db, const Clock* clock, AuthSettings settings,
              const ReadCache* read_cache = nullptr);
  ~AuthService();

  // Errors: kInvalidArgument (missing fields, an email over 254 bytes) with details,
  // INVALID_CREDENTIALS, RATE_LIMITED
  // (then *retry_after is set), kUnavailable.
  StatusOr<AuthResult> Login(std::string_view email, std::string_view password,
                             const ClientInfo& client, std::chrono::seconds* retry_after);

  // New parent account (role is always parent) and its first session. Errors: VALIDATION_ERROR
  // with field details, RATE_LIMITED (then *retry_after is set), EMAIL_TAKEN, kUnavailable.
  StatusOr<AuthResult> Register(const Registration& registration, const ClientInfo& client,
                                std::chrono::seconds* retry_after = nullptr);

  // Rotates a refresh token. Errors: kUnauthenticated for unknown, expired, revoked or reused
  // tokens (a reused one revokes its family first).
  StatusOr<TokenPair> Refresh(std::string_view refresh_token, const ClientInfo& client);

  // Revokes the family of `refresh_token` if given (an unknown token is not an error), else the
  // family `session_id`.
  Status Logout(std::string_view refresh_token, std::string_view session_id);

  // Verifies an access token and its session. Errors: TOKEN_EXPIRED, kUnauthenticated,
  // kUnavailable.
  StatusOr<Principal> Authenticate(std::string_view access_token) const;

  const TokenService& tokens() const { return tokens_; }
  const PasswordHasher& hasher() const { return hasher_; }

 private:
  StatusOr<TokenPair> IssueSession(store::Connection& conn, const AuthUser& user,
                                   const std::string& family_id, const std::string& rotated_from,
                                   const ClientInfo& client, std::string* session_id);

  store::Database* db_;
  const Clock* clock_;
  AuthSettings settings_;
  TokenService tokens_;
  PasswordHasher hasher_;
  LoginThrottle throttle_;
  SlidingWindowCounter registrations_;  // keyed by AddressThrottleKey
  mutable SessionStateCache sessions_;
  const ReadCache* read_cache_;
};

// 32 random bytes, base64url (43 characters).
std::string NewRefreshToken();

}  // namespace hasivu::domain

#endif  // HASIVU_DOMAIN_AUTH_SERVICE_H_
