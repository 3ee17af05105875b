// Refresh-token sessions (table auth_sessions): one row per issued refresh token, grouped in
// families (family_id = the access token's sid). Only SHA-256 hashes of refresh tokens are stored.
//
// Every function takes the Connection of the caller's Read()/Write() callback.
// Thread-safety: stateless functions.
#ifndef HASIVU_STORE_SESSIONS_REPO_H_
#define HASIVU_STORE_SESSIONS_REPO_H_

#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "common/time_util.h"
#include "store/database.h"

namespace hasivu::store {

struct NewSession {
  std::string id;
  std::string user_id;
  std::string family_id;
  std::string refresh_token_hash;
  std::string rotated_from;  // "" = NULL
  TimePoint expires_at;
  std::string ip;          // "" = NULL
  std::string user_agent;  // "" = NULL (truncated by the caller)
  TimePoint now;
};

Status InsertSession(Connection& conn, const NewSession& session);

struct SessionRecord {
  std::string id;
  std::string user_id;
  std::string family_id;
  std::string replaced_by;  // "" when not rotated
  bool revoked = false;
  std::string expires_at;  // RFC 3339
};

// The row of a refresh-token hash (hot query kSessionByRefreshHash); nullopt if unknown.
StatusOr<std::optional<SessionRecord>> FindSessionByRefreshHash(Connection& conn,
                                                                std::string_view hash);

// Marks `id` as replaced by `successor_id` if it is still current (not replaced, not revoked).
// Returns false when another request rotated or revoked it first.
StatusOr<bool> MarkSessionReplaced(Connection& conn, std::string_view id,
                                   std::string_view successor_id, TimePoint now);

// Revokes every row of the family that is not revoked yet.
Status RevokeFamily(Connection& conn, std::string_view family_id, std::string_view reason,
                    TimePoint now);

struct FamilyState {
  bool exists = false;
  bool revoked = false;  // any row of the family revoked
  // The owner may use the service: users.is_active and status 'active' or 'pending' (the rule
  // login applies), so a suspended account's tokens stop as its logins do.
  bool user_active = false;
};
// What the access-token check needs to know about a session family.
StatusOr<FamilyState> GetFamilyState(Connection& conn, std::string_view family_id);

}  // namespace hasivu::store

#endif  // HASIVU_STORE_SESSIONS_REPO_H_
