#include "store/idempotency_repo.h"

namespace hasivu::store {

StatusOr<bool> ClaimIdempotencyKey(Connection& conn, std::string_view id, std::string_view user_id,
                                   std::string_view key, std::string_view method,
                                   std::string_view path, std::string_view request_hash,
                                   std::string_view now, std::string_view expires_at) {
  const Value params[] = {std::string(id),     std::string(user_id),   std::string(key),
                          std::string(method), std::string(path),      std::string(request_hash),
                          std::string(now),    std::string(expires_at)};
  // ON CONFLICT DO NOTHING rather than catching the unique violation: a failed statement would
  // abort a PostgreSQL transaction.
  ASSIGN_OR_RETURN(
      ResultSet rs,
      conn.Query("INSERT INTO idempotency_keys (id, user_id, key, request_method, request_path,"
                 " request_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                 " ON CONFLICT (user_id, key) DO NOTHING",
                 params));
  return rs.rows_affected == 1;
}

StatusOr<std::optional<IdempotencyRow>> FindIdempotencyKey(Connection& conn,
                                                           std::string_view user_id,
                                                           std::string_view key) {
  const Value params[] = {std::string(user_id), std::string(key)};
  ASSIGN_OR_RETURN(ResultSet rs,
                   conn.Query("SELECT id, request_hash, response_status, response_body,"
                              " resource_id, expires_at FROM idempotency_keys"
                              " WHERE user_id = $1 AND key = $2",
                              params));
  if (rs.empty()) return std::optional<IdempotencyRow>();
  const Row& r = rs.rows[0];
  IdempotencyRow row;
  row.id = r.Text(0);
  row.request_hash = r.Text(1);
  if (!r.IsNull(2)) row.response_status = r.Int(2);
  row.response_body = r.Text(3);
  row.resource_id = r.Text(4);
  row.expires_at = r.Text(5);
  return std::optional<IdempotencyRow>(std::move(row));
}

Status DeleteIdempotencyKey(Connection& conn, std::string_view id) {
  const Value params[] = {std::string(id)};
  return conn.Query("DELETE FROM idempotency_keys WHERE id = $1", params).status();
}

Status CompleteIdempotencyKey(Connection& conn, std::string_view id, int64_t status,
                              std::string_view body, std::string_view resource_id) {
  const Value params[] = {std::string(id), status, std::string(body), std::string(resource_id)};
  return conn
      .Query(
          "UPDATE idempotency_keys SET response_status = $2, response_body = $3,"
          " resource_id = $4 WHERE id = $1",
          params)
      .status();
}

}  // namespace hasivu::store
