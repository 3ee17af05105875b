// Idempotency-Key handling for create endpoints (orders-create): the first request with a key
// claims it inside its own transaction (unique (user_id, key)); a repeat with the same request
// replays the stored response for 24 hours; a repeat with a different request is refused with
// 422 IDEMPOTENCY_KEY_REUSED. Because the claim is a row of the same transaction as the work,
// concurrent duplicates create exactly one resource: the others wait on the row and replay.
// A request that fails rolls its claim back, so a retry with the same key runs again.
//
// Thread-safety: stateless functions.
#ifndef HASIVU_DOMAIN_IDEMPOTENCY_H_
#define HASIVU_DOMAIN_IDEMPOTENCY_H_

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "common/time_util.h"
#include "store/database.h"

namespace hasivu::domain {

inline constexpr size_t kMaxIdempotencyKeyLength = 255;
inline constexpr std::chrono::hours kIdempotencyTtl{24};

// OK for 1-255 printable ASCII characters; else 400 VALIDATION_ERROR (field "Idempotency-Key").
Status ValidateIdempotencyKey(std::string_view key);

// Lower-case hex SHA-256 of method, path and the canonical request body (the caller makes the
// body canonical, e.g. JSON with sorted keys, so formatting does not matter).
std::string IdempotencyRequestHash(std::string_view method, std::string_view path,
                                   std::string_view canonical_body);

struct IdempotentRequest {
  std::string user_id;
  std::string key;
  std::string method;
  std::string path;
  std::string request_hash;
};

// A stored response to replay.
struct StoredResponse {
  int status = 0;
  std::string body;
  std::string resource_id;
};

// The outcome of ClaimIdempotencyKey: either this request owns the key (claim_id set, run the
// work and then CompleteIdempotentRequest) or a stored response must be replayed.
struct IdempotencyClaim {
  std::string claim_id;
  std::optional<StoredResponse> replay;
};

// Call first inside the Write() transaction that does the work. Errors: 422
// IDEMPOTENCY_KEY_REUSED when the key was used with a different request; 409
// IDEMPOTENCY_KEY_IN_PROGRESS if the first request has not finished (not seen with the store's
// isolation, kept as a guard).
StatusOr<IdempotencyClaim> ClaimIdempotencyKey(store::Connection& conn,
                                               const IdempotentRequest& request, TimePoint now);

// Stores the response of a claimed key, in the same transaction.
Status CompleteIdempotentRequest(store::Connection& conn, const IdempotencyClaim& claim,
                                 const StoredResponse& response);

}  // namespace hasivu::domain

#endif  // HASIVU_DOMAIN_IDEMPOTENCY_H_
