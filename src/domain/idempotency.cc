#include "domain/idempotency.h"

#include <sodium.h>

#include "common/ids.h"
#include "store/idempotency_repo.h"

namespace hasivu::domain {

Status ValidateIdempotencyKey(std::string_view key) {
  const bool length_ok = !key.empty() && key.size() <= kMaxIdempotencyKeyLength;
  bool printable = true;
  for (char c : key) printable = printable && c >= 0x20 && c < 0x7f;
  if (length_ok && printable) return Status::Ok();
  return ValidationError("Invalid Idempotency-Key header",
                         {{"Idempotency-Key", "must be 1-255 printable ASCII characters"}});
}

std::string IdempotencyRequestHash(std::string_view method, std::string_view path,
                                   std::string_view canonical_body) {
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  // Length-prefixed parts, so that no two different triples hash the same input.
  for (std::string_view part : {method, path, canonical_body}) {
    const std::string len = std::to_string(part.size()) + ":";
    crypto_hash_sha256_update(&state, reinterpret_cast<const unsigned char*>(len.data()),
                              len.size());
    crypto_hash_sha256_update(&state, reinterpret_cast<const unsigned char*>(part.data()),
                              part.size());
  }
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&state, digest);
  char hex[crypto_hash_sha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
  return std::string(hex, crypto_hash_sha256_BYTES * 2);
}

StatusOr<IdempotencyClaim> ClaimIdempotencyKey(store::Connection& conn,
                                               const IdempotentRequest& request, TimePoint now) {
  const std::string now_text = FormatRfc3339(now);
  const std::string expires = FormatRfc3339(now + kIdempotencyTtl);
  // Two rounds at most: the second follows the removal of an expired claim.
  for (int round = 0; round < 2; ++round) {
    IdempotencyClaim claim;
    claim.claim_id = NewUuidV7(now);
    ASSIGN_OR_RETURN(bool inserted,
                     store::ClaimIdempotencyKey(conn, claim.claim_id, request.user_id, request.key,
                                                request.method, request.path, request.request_hash,
                                                now_text, expires));
    if (inserted) return claim;
    ASSIGN_OR_RETURN(std::optional<store::IdempotencyRow> row,
                     store::FindIdempotencyKey(conn, request.user_id, request.key));
    if (!row) continue;  // removed meanwhile; claim again
    ASSIGN_OR_RETURN(TimePoint expires_at, ParseRfc3339(row->expires_at));
    if (expires_at <= now) {
      RETURN_IF_ERROR(store::DeleteIdempotencyKey(conn, row->id));
      continue;
    }
    if (row->request_hash != request.request_hash) {
      return Status(StatusCode::kFailedPrecondition,
                    "This Idempotency-Key was already used with a different request",
                    "IDEMPOTENCY_KEY_REUSED");
    }
    if (!row->response_status) {
      return Status(StatusCode::kAborted, "A request with this Idempotency-Key is in progress",
                    "IDEMPOTENCY_KEY_IN_PROGRESS");
    }
    claim.claim_id.clear();
    claim.replay = StoredResponse{static_cast<int>(*row->response_status),
                                  std::move(row->response_body), std::move(row->resource_id)};
    return claim;
  }
  return Status(StatusCode::kAborted, "Idempotency-Key could not be claimed; retry",
                "IDEMPOTENCY_KEY_IN_PROGRESS");
}

Status CompleteIdempotentRequest(store::Connection& conn, const IdempotencyClaim& claim,
                                 const StoredResponse& response) {
  if (claim.claim_id.empty()) return InternalError("completing an unclaimed idempotency key");
  return store::CompleteIdempotencyKey(conn, claim.claim_id, response.status, response.body,
                                       response.resource_id);
}

}  // namespace hasivu::domain
