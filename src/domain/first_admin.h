// Platform admins an operator creates from the command line (`hasivu admin create`). A production
// deployment is never seeded with demo data, so its first account comes from here: the password
// is chosen by the operator and is known to nobody else, nor derivable from the code.
//
// Thread-safety: stateless functions over a store::Database (safe concurrently, as the database
// is).
#ifndef HASIVU_DOMAIN_FIRST_ADMIN_H_
#define HASIVU_DOMAIN_FIRST_ADMIN_H_

#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "domain/password.h"
#include "store/database.h"

namespace hasivu::domain {

struct NewAdmin {
  std::string email;     // normalised (trimmed, lower-cased) before it is checked and stored
  std::string password;  // the register policy applies (auth_validation.h)
  std::string first_name = "Platform";
  std::string last_name = "Admin";
};

struct CreatedAdmin {
  std::string id;
  std::string email;  // as stored
};

// Creates an active account with role admin and no school, its password hashed under `password`
// (the server's login parameters, so the first login does not re-hash). Errors:
// kInvalidArgument with field issues (email, password, firstName, lastName) and nothing written;
// kAlreadyExists (reason EMAIL_TAKEN) when the email is taken; store errors passed on.
StatusOr<CreatedAdmin> CreateAdmin(store::Database& db, const NewAdmin& admin,
                                   const PasswordSettings& password, Clock& clock);

// Whether the users table holds any account: a production start refuses an empty one, and a
// development start seeds it.
StatusOr<bool> AnyUser(store::Database& db);

}  // namespace hasivu::domain

#endif  // HASIVU_DOMAIN_FIRST_ADMIN_H_
