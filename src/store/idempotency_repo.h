// SQL of the Idempotency-Key replay store (table idempotency_keys, unique (user_id, key)).
//
// Thread-safety: stateless functions; a Connection belongs to one callback at a time.
#ifndef HASIVU_STORE_IDEMPOTENCY_REPO_H_
#define HASIVU_STORE_IDEMPOTENCY_REPO_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "store/database.h"

namespace hasivu::store {

struct IdempotencyRow {
  std::string id;
  std::string request_hash;
  std::optional<int64_t> response_status;  // nullopt: the first request has not finished
  std::string response_body;
  std::string resource_id;
  std::string expires_at;  // RFC 3339
};

// Inserts the key row unless (user_id, key) exists. True when this call inserted it. Inside a
// PostgreSQL transaction a concurrent insert of the same key blocks here until that
// transaction ends (then: false if it committed).
StatusOr<bool> ClaimIdempotencyKey(Connection& conn, std::string_view id, std::string_view user_id,
                                   std::string_view key, std::string_view method,
                                   std::string_view path, std::string_view request_hash,
                                   std::string_view now, std::string_view expires_at);

StatusOr<std::optional<IdempotencyRow>> FindIdempotencyKey(Connection& conn,
                                                           std::string_view user_id,
                                                           std::string_view key);

Status DeleteIdempotencyKey(Connection& conn, std::string_view id);

// Stores the response the key replays.
Status CompleteIdempotencyKey(Connection& conn, std::string_view id, int64_t status,
                              std::string_view body, std::string_view resource_id);

}  // namespace hasivu::store

#endif  // HASIVU_STORE_IDEMPOTENCY_REPO_H_
