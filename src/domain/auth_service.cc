#include "domain/auth_service.h"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include "common/ids.h"
#include "common/time_util.h"
#include "common/utf8.h"
#include "domain/auth_validation.h"
#include "store/sessions_repo.h"
#include "store/users_repo.h"

namespace hasivu::domain {
namespace {

constexpr size_t kMaxUserAgent = 255;
constexpr size_t kMaxRefreshTokenLength = 256;

Status InvalidCredentials() {
  return Status(StatusCode::kUnauthenticated, "Invalid email or password", "INVALID_CREDENTIALS");
}

Status BadRefreshToken() {
  return UnauthenticatedError("The refresh token is invalid, expired or revoked");
}

TokenSettings TokenSettingsOf(const AuthSettings& s) {
  return TokenSettings{s.jwt_secret, s.issuer, s.audience, s.access_ttl};
}

ThrottleLimits LimitsOf(const AuthSettings& s) {
  return ThrottleLimits{s.max_failures_per_email, s.email_window, s.max_failures_per_address,
                        s.address_window};
}

// Accounts that may log in: active, and not explicitly switched off by status.
bool MayLogIn(const store::UserRecord& u) {
  return u.is_active && (u.status == "active" || u.status == "pending");
}

AuthUser AuthUserOf(const store::UserRecord& u, Role role) {
  return AuthUser{u.id, u.email, u.first_name, u.last_name, role, u.school_id};
}

}  // namespace

std::string NewRefreshToken() {
  unsigned char bytes[32];
  randombytes_buf(bytes, sizeof bytes);
  return Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
}

AuthService::AuthService(store::Database* db, const Clock* clock, AuthSettings settings,
                         const ReadCache* read_cache)
    : db_(db),
      clock_(clock),
      settings_(std::move(settings)),
      tokens_(TokenSettingsOf(settings_), clock),
      hasher_(settings_.password),
      throttle_(LimitsOf(settings_)),
      registrations_(settings_.max_registrations_per_address, settings_.registration_window),
      read_cache_(read_cache) {}

AuthService::~AuthService() = default;

StatusOr<TokenPair> AuthService::IssueSession(store::Connection& conn, const AuthUser& user,
                                              const std::string& family_id,
                                              const std::string& rotated_from,
                                              const ClientInfo& client, std::string* session_id) {
  const TimePoint now = clock_->Now();
  TokenPair pair;
  pair.refresh_token = NewRefreshToken();
  store::NewSession row;
  row.id = NewUuidV7(now);
  row.user_id = user.id;
  row.family_id = family_id;
  row.refresh_token_hash = Sha256Hex(pair.refresh_token);
  row.rotated_from = rotated_from;
  row.expires_at = now + settings_.refresh_ttl;
  row.ip = client.address;
  // The header is any bytes and a byte cut can split a character: PostgreSQL would refuse the
  // session (and with it the login) as an invalid byte sequence.
  row.user_agent = Utf8Truncated(client.user_agent, kMaxUserAgent);
  row.now = now;
  RETURN_IF_ERROR(store::InsertSession(conn, row));
  if (session_id != nullptr) *session_id = row.id;
  Principal principal{user.id, user.role, user.school_id, family_id};
  ASSIGN_OR_RETURN(pair.access_token, tokens_.Issue(principal));
  pair.expires_in = settings_.access_ttl.count();
  return pair;
}

StatusOr<AuthResult> AuthService::Login(std::string_view email_in, std::string_view password,
                                        const ClientInfo& client,
                                        std::chrono::seconds* retry_after) {
  std::vector<FieldIssue> issues;
  if (TrimAscii(email_in).empty()) issues.push_back({"email", "is required"});
  if (password.empty()) issues.push_back({"password", "is required"});
  if (!issues.empty()) return ValidationError("Email and password are required", issues);

  const std::string email = NormalizeEmail(email_in);
  // No account has a longer email; refusing it here keeps such text away from the throttle and
  // the database.
  if (email.size() > kMaxEmailLength) {
    return ValidationError("The request is invalid", {{"email", "must be at most 254 characters"}});
  }
  const ThrottleTime attempt_at = clock_->Now();
  const std::chrono::seconds wait = throttle_.TryAcquire(email, client.address, attempt_at);
  if (wait.count() > 0) {
    if (retry_after != nullptr) *retry_after = wait;
    return Status(StatusCode::kResourceExhausted, "Too many failed login attempts; try again later",
                  "RATE_LIMITED");
  }

  std::optional<store::UserRecord> user;
  Status read = db_->Read([&](store::Connection& conn) -> Status {
    ASSIGN_OR_RETURN(user, store::FindUserByEmail(conn, email));
    return Status::Ok();
  });
  if (!read.ok()) {
    // No password was checked: the attempt must not count as a failure.
    throttle_.Cancel(email, client.address, attempt_at);
    return read;
  }

  // Every path below spends one password hash, so timing does not tell which case failed.
  bool ok = false;
  bool needs_rehash = false;
  std::optional<Role> role;
  if (!user) {
    hasher_.DummyVerify(password);
  } else {
    VerifyResult v = hasher_.Verify(password, user->password_hash);
    role = ParseRole(user->role);
    ok = v.ok && MayLogIn(*user) && role.has_value();
    needs_rehash = v.needs_rehash;
  }
  // TryAcquire() already counted this attempt as a failure.
  if (!ok) return InvalidCredentials();
  throttle_.RecordSuccess(email, client.address, attempt_at);

  std::string new_hash;
  if (needs_rehash) {
    StatusOr<std::string> h = hasher_.Hash(password);
    // A failed upgrade must not lock the user out: the old hash still verifies.
    if (h.ok()) {
      new_hash = std::move(*h);
    } else {
      spdlog::warn("password re-hash failed for user {}: {}", user->id, h.status().ToString());
    }
  }

  AuthResult result;
  result.user = AuthUserOf(*user, *role);
  const std::string family_id = NewUuidV7(clock_->Now());
  RETURN_IF_ERROR(db_->Write([&](store::Connection& conn) -> Status {
    const TimePoint now = clock_->Now();
    if (!new_hash.empty()) {
      RETURN_IF_ERROR(store::UpdatePasswordHash(conn, user->id, new_hash, now));
    }
    RETURN_IF_ERROR(store::UpdateLastLogin(conn, user->id, now));
    ASSIGN_OR_RETURN(result.tokens,
                     IssueSession(conn, result.user, family_id, "", client, nullptr));
    return Status::Ok();
  }));
  sessions_.Put(family_id, true, std::chrono::steady_clock::now());
  // users-get shows updatedAt, which the re-hash moved.
  if (!new_hash.empty() && read_cache_ != nullptr) read_cache_->UserChanged(user->id);
  return result;
}

StatusOr<AuthResult> AuthService::Register(const Registration& r, const ClientInfo& client,
                                           std::chrono::seconds* retry_after) {
  const std::string email = NormalizeEmail(r.email);
  const std::string first_name(TrimAscii(r.first_name));
  const std::string last_name(TrimAscii(r.last_name));
  const std::string phone(TrimAscii(r.phone));
  const std::string school_id(TrimAscii(r.school_id));
  std::vector<FieldIssue> issues = NewAccountIssues(email, r.password, first_name, last_name);
  if (!phone.empty()) {
    if (std::string issue = PhoneIssue(phone); !issue.empty()) issues.push_back({"phone", issue});
  }
  if (!school_id.empty()) {
    std::optional<store::SchoolRecord> school;
    RETURN_IF_ERROR(db_->Read([&](store::Connection& conn) -> Status {
      ASSIGN_OR_RETURN(school, store::FindSchool(conn, school_id));
      return Status::Ok();
    }));
    if (!school || !school->is_active) {
      issues.push_back({"schoolId", "must be the id of an existing active school"});
    }
  }
  if (!issues.empty()) return ValidationError("The registration is invalid", issues);

  // Every attempt that gets this far counts, created or EMAIL_TAKEN alike: both are what a
  // spammer or an enumerator is after, and both cost a full hash.
  if (!client.address.empty()) {
    const std::chrono::seconds wait =
        registrations_.TryReserve(AddressThrottleKey(client.address), clock_->Now());
    if (wait.count() > 0) {
      if (retry_after != nullptr) *retry_after = wait;
      return Status(StatusCode::kResourceExhausted,
                    "Too many registrations from this address; try again later", "RATE_LIMITED");
    }
  }

  // Hashing takes tens of milliseconds: never inside the write transaction.
  ASSIGN_OR_RETURN(std::string hash, hasher_.Hash(r.password));
  const TimePoint now = clock_->Now();
  AuthResult result;
  result.user = AuthUser{NewUuidV7(now), email, first_name, last_name, Role::kParent, school_id};
  const std::string family_id = NewUuidV7(now);
  Status written = db_->Write([&](store::Connection& conn) -> Status {
    store::NewUser row;
    row.id = result.user.id;
    row.email = email;
    row.password_hash = hash;
    row.first_name = first_name;
    row.last_name = last_name;
    row.phone = phone;
    row.role = "parent";
    row.school_id = school_id;
    row.now = clock_->Now();
    RETURN_IF_ERROR(store::InsertUser(conn, row));
    ASSIGN_OR_RETURN(result.tokens,
                     IssueSession(conn, result.user, family_id, "", client, nullptr));
    return Status::Ok();
  });
  if (written.code() == StatusCode::kAlreadyExists) {
    return Status(StatusCode::kAlreadyExists, "An account with this email already exists",
                  "EMAIL_TAKEN");
  }
  RETURN_IF_ERROR(written);
  sessions_.Put(family_id, true, std::chrono::steady_clock::now());
  return result;
}

StatusOr<TokenPair> AuthService::Refresh(std::string_view refresh_token, const ClientInfo& client) {
  if (refresh_token.empty() || refresh_token.size() > kMaxRefreshTokenLength) {
    return BadRefreshToken();
  }
  const std::string hash = Sha256Hex(refresh_token);
  enum class Outcome { kRotated, kRejected, kFamilyRevoked };
  Outcome outcome = Outcome::kRejected;
  std::string family_id;
  TokenPair pair;
  RETURN_IF_ERROR(db_->Write([&](store::Connection& conn) -> Status {
    const TimePoint now = clock_->Now();
    ASSIGN_OR_RETURN(std::optional<store::SessionRecord> row,
                     store::FindSessionByRefreshHash(conn, hash));
    if (!row || row->revoked) return Status::Ok();
    family_id = row->family_id;
    if (!row->replaced_by.empty()) {
      // A rotated token came back: someone else holds the family. Its outcome is committed
      // (the revocation) even though the caller gets a 401.
      RETURN_IF_ERROR(store::RevokeFamily(conn, family_id, "refresh_token_reuse", now));
      outcome = Outcome::kFamilyRevoked;
      return Status::Ok();
    }
    StatusOr<TimePoint> expires = ParseRfc3339(row->expires_at);
    if (!expires.ok() || now >= *expires) return Status::Ok();
    ASSIGN_OR_RETURN(std::optional<store::UserRecord> user,
                     store::FindUserById(conn, row->user_id));
    std::optional<Role> role = user ? ParseRole(user->role) : std::nullopt;
    if (!user || !MayLogIn(*user) || !role) {
      RETURN_IF_ERROR(store::RevokeFamily(conn, family_id, "user_inactive", now));
      outcome = Outcome::kFamilyRevoked;
      return Status::Ok();
    }
    std::string successor;
    ASSIGN_OR_RETURN(
        pair, IssueSession(conn, AuthUserOf(*user, *role), family_id, row->id, client, &successor));
    ASSIGN_OR_RETURN(bool won, store::MarkSessionReplaced(conn, row->id, successor, now));
    if (!won) {
      // A concurrent refresh used the same token first: that is reuse as well.
      RETURN_IF_ERROR(store::RevokeFamily(conn, family_id, "refresh_token_reuse", now));
      pair = TokenPair();
      outcome = Outcome::kFamilyRevoked;
      return Status::Ok();
    }
    outcome = Outcome::kRotated;
    return Status::Ok();
  }));
  switch (outcome) {
    case Outcome::kRotated:
      return pair;
    case Outcome::kFamilyRevoked:
      sessions_.MarkRevoked(family_id, std::chrono::steady_clock::now());
      return BadRefreshToken();
    case Outcome::kRejected:
      break;
  }
  return BadRefreshToken();
}

Status AuthService::Logout(std::string_view refresh_token, std::string_view session_id) {
  std::string family_id(session_id);
  if (!refresh_token.empty()) {
    if (refresh_token.size() > kMaxRefreshTokenLength) return Status::Ok();
    const std::string hash = Sha256Hex(refresh_token);
    family_id.clear();
    RETURN_IF_ERROR(db_->Read([&](store::Connection& conn) -> Status {
      ASSIGN_OR_RETURN(std::optional<store::SessionRecord> row,
                       store::FindSessionByRefreshHash(conn, hash));
      if (row) family_id = row->family_id;
      return Status::Ok();
    }));
  }
  if (family_id.empty()) return Status::Ok();
  RETURN_IF_ERROR(db_->Write([&](store::Connection& conn) -> Status {
    return store::RevokeFamily(conn, family_id, "logout", clock_->Now());
  }));
  sessions_.MarkRevoked(family_id, std::chrono::steady_clock::now());
  return Status::Ok();
}

StatusOr<Principal> AuthService::Authenticate(std::string_view access_token) const {
  ASSIGN_OR_RETURN(AccessClaims claims, tokens_.Verify(access_token));
  const std::string& family_id = claims.principal.session_id;
  const auto now = std::chrono::steady_clock::now();
  std::optional<bool> usable = sessions_.Get(family_id, now);
  if (!usable) {
    store::FamilyState state;
    RETURN_IF_ERROR(db_->Read([&](store::Connection& conn) -> Status {
      ASSIGN_OR_RETURN(state, store::GetFamilyState(conn, family_id));
      return Status::Ok();
    }));
    usable = state.exists && !state.revoked && state.user_active;
    sessions_.Put(family_id, *usable, now);
  }
  if (!*usable) return UnauthenticatedError("the session has ended");
  return std::move(claims.principal);
}

}  // namespace hasivu::domain
