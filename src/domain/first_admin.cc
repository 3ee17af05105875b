#include "domain/first_admin.h"

#include <vector>

#include "common/ids.h"
#include "domain/auth_validation.h"
#include "store/users_repo.h"

namespace hasivu::domain {

StatusOr<CreatedAdmin> CreateAdmin(store::Database& db, const NewAdmin& admin,
                                   const PasswordSettings& password, Clock& clock) {
  const std::string email = NormalizeEmail(admin.email);
  const std::string first_name(TrimAscii(admin.first_name));
  const std::string last_name(TrimAscii(admin.last_name));
  const std::vector<FieldIssue> issues =
      NewAccountIssues(email, admin.password, first_name, last_name);
  if (!issues.empty()) return ValidationError("The admin account is invalid", issues);

  const PasswordHasher hasher(password);
  ASSIGN_OR_RETURN(std::string hash, hasher.Hash(admin.password));
  const TimePoint now = clock.Now();
  store::NewUser row;
  row.id = NewUuidV7(now);
  row.email = email;
  row.password_hash = std::move(hash);
  row.first_name = first_name;
  row.last_name = last_name;
  row.role = "admin";
  row.now = now;
  Status written = db.Write([&](store::Connection& conn) { return store::InsertUser(conn, row); });
  if (written.code() == StatusCode::kAlreadyExists) {
    return Status(StatusCode::kAlreadyExists, "an account with this email already exists",
                  "EMAIL_TAKEN");
  }
  RETURN_IF_ERROR(written);
  return CreatedAdmin{row.id, email};
}

StatusOr<bool> AnyUser(store::Database& db) {
  bool any = false;
  RETURN_IF_ERROR(db.ReadOnce([&](store::Connection& conn) -> Status {
    ASSIGN_OR_RETURN(any, store::AnyUser(conn));
    return Status::Ok();
  }));
  return any;
}

}  // namespace hasivu::domain
