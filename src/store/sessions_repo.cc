#include "store/sessions_repo.h"

#include "common/ids.h"
#include "store/hot_queries.h"

namespace hasivu::store {
namespace {

Value TextOrNull(const std::string& s) {
  if (s.empty()) return std::monostate{};
  return s;
}

}  // namespace

Status InsertSession(Connection& conn, const NewSession& s) {
  const Value params[] = {s.id,
                          s.user_id,
                          s.family_id,
                          s.refresh_token_hash,
                          TextOrNull(s.rotated_from),
                          FormatRfc3339(s.expires_at),
                          TextOrNull(s.ip),
                          TextOrNull(s.user_agent),
                          FormatRfc3339(s.now)};
  return conn
      .Query(
          "INSERT INTO auth_sessions (id, user_id, family_id, refresh_token_hash,"
          " rotated_from, expires_at, ip, user_agent, created_at)"
          " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
          params)
      .status();
}

StatusOr<std::optional<SessionRecord>> FindSessionByRefreshHash(Connection& conn,
                                                                std::string_view hash) {
  const Value params[] = {std::string(hash)};
  ASSIGN_OR_RETURN(ResultSet rs, conn.Query(kSessionByRefreshHash, params));
  if (rs.rows.empty()) return std::optional<SessionRecord>();
  const Row& r = rs.rows.front();
  SessionRecord s;
  s.id = r.Text(0);
  s.user_id = r.Text(1);
  s.family_id = r.Text(2);
  s.replaced_by = r.Text(3);
  s.revoked = !r.IsNull(4);
  s.expires_at = r.Text(5);
  return std::optional<SessionRecord>(std::move(s));
}

StatusOr<bool> MarkSessionReplaced(Connection& conn, std::string_view id,
                                   std::string_view successor_id, TimePoint now) {
  const Value params[] = {std::string(id), std::string(successor_id), FormatRfc3339(now)};
  ASSIGN_OR_RETURN(ResultSet rs,
                   conn.Query("UPDATE auth_sessions SET replaced_by = $2, last_used_at = $3"
                              " WHERE id = $1 AND replaced_by IS NULL AND revoked_at IS NULL",
                              params));
  return rs.rows_affected == 1;
}

Status RevokeFamily(Connection& conn, std::string_view family_id, std::string_view reason,
                    TimePoint now) {
  if (!IsUuid(family_id)) return Status::Ok();
  const Value params[] = {std::string(family_id), FormatRfc3339(now), std::string(reason)};
  return conn
      .Query(
          "UPDATE auth_sessions SET revoked_at = $2, revoke_reason = $3"
          " WHERE family_id = $1 AND revoked_at IS NULL",
          params)
      .status();
}

StatusOr<FamilyState> GetFamilyState(Connection& conn, std::string_view family_id) {
  FamilyState state;
  if (!IsUuid(family_id)) return state;
  const Value params[] = {std::string(family_id)};
  ASSIGN_OR_RETURN(
      ResultSet rs,
      conn.Query("SELECT COUNT(*), COUNT(a.revoked_at),"
                 " SUM(CASE WHEN u.is_active AND u.status IN ('active', 'pending')"
                 " THEN 0 ELSE 1 END)"
                 " FROM auth_sessions a JOIN users u ON u.id = a.user_id WHERE a.family_id = $1",
                 params));
  if (rs.rows.empty()) return state;
  const Row& r = rs.rows.front();
  state.exists = r.Int(0) > 0;
  state.revoked = r.Int(1) > 0;
  state.user_active = state.exists && r.Int(2) == 0;
  return state;
}

}  // namespace hasivu::store
