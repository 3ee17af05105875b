// Users and schools as the auth and users functions read and write them (SQL of the users table),
// and their bulk appenders (seeding).
//
// Every function takes the store::Connection of the caller's Read()/Write() callback, so a domain
// service can compose several of them in one transaction. Emails are stored as given: the domain
// lower-cases them first. Instants are bound as RFC 3339 text.
//
// Thread-safety: stateless functions; a Connection is used by one callback at a time.
#ifndef HASIVU_STORE_USERS_REPO_H_
#define HASIVU_STORE_USERS_REPO_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/time_util.h"
#include "store/bulk_load.h"
#include "store/database.h"

namespace hasivu::store {

struct UserRecord {
  std::string id;
  std::string email;
  std::string password_hash;
  std::string first_name;
  std::string last_name;
  std::string phone;      // "" when NULL
  std::string role;       // "parent", "student", ...
  std::string school_id;  // "" when NULL
  std::string parent_id;  // "" when NULL
  std::string grade;
  std::string section;
  std::string status;  // "active", "inactive", ...
  bool is_active = false;
  std::string created_at;  // RFC 3339
  std::string updated_at;
};

// The login columns only (hot query kUserByEmail): id, email, password_hash, names, role,
// school_id, is_active, status. nullopt when there is no such email.
StatusOr<std::optional<UserRecord>> FindUserByEmail(Connection& conn, std::string_view email);

// Every column of UserRecord. nullopt when there is no such id (any text is a safe input).
StatusOr<std::optional<UserRecord>> FindUserById(Connection& conn, std::string_view id);

struct NewUser {
  std::string id;
  std::string email;
  std::string password_hash;
  std::string first_name;
  std::string last_name;
  std::string phone;  // "" = NULL
  std::string role = "parent";
  std::string school_id;  // "" = NULL
  TimePoint now;
};

// Errors: kAlreadyExists when the email is taken (the unique constraint decides, so two
// concurrent registrations cannot both succeed).
Status InsertUser(Connection& conn, const NewUser& user);

Status UpdatePasswordHash(Connection& conn, std::string_view user_id, std::string_view hash,
                          TimePoint now);
Status UpdateLastLogin(Connection& conn, std::string_view user_id, TimePoint now);
// Sets is_active (and status 'active'/'inactive').
Status SetUserActive(Connection& conn, std::string_view user_id, bool active, TimePoint now);

struct SchoolRecord {
  std::string id;
  std::string name;
  bool is_active = false;
};
StatusOr<std::optional<SchoolRecord>> FindSchool(Connection& conn, std::string_view id);

struct ChildRecord {
  std::string id;
  std::string first_name;
  std::string last_name;
  std::string grade;
  std::string section;
};
// The children of a parent (users.parent_id), by first name then id.
StatusOr<std::vector<ChildRecord>> ChildrenOf(Connection& conn, std::string_view parent_id);

// Whether the users table holds any account (a production start refuses an empty one).
StatusOr<bool> AnyUser(Connection& conn);
// Whether the schools table holds any school.
StatusOr<bool> AnySchool(Connection& conn);

// Bulk loading (store/bulk_load.h). Text fields are views that must stay valid for the call;
// those marked "" = NULL are written as NULL when empty.

struct SchoolLoadRow {
  std::string_view id = {};
  std::string_view name = {};
  std::string_view code = {};
  std::string_view timezone = {};  // IANA zone
  std::string_view address_json = {};
  std::string_view city = {};
  std::string_view state = {};
  std::string_view phone = {};
  std::string_view email = {};
  std::string_view principal_name = {};
  bool is_active = true;
  TimePoint created_at = {};
  TimePoint updated_at = {};
};
Status AppendSchool(BulkWriter& writer, const SchoolLoadRow& row);

struct UserLoadRow {
  std::string_view id = {};
  std::string_view email = {};
  std::string_view password_hash = {};
  std::string_view first_name = {};
  std::string_view last_name = {};
  std::string_view phone = {};  // "" = NULL
  std::string_view role = {};
  std::string_view status = {};
  std::string_view school_id = {};  // "" = NULL
  std::string_view parent_id = {};  // "" = NULL
  std::string_view grade = {};      // "" = NULL
  std::string_view section = {};    // "" = NULL
  std::string_view timezone = {};
  bool email_verified = false;
  bool is_active = true;
  TimePoint created_at = {};
  TimePoint updated_at = {};
};
Status AppendUser(BulkWriter& writer, const UserLoadRow& row);

}  // namespace hasivu::store

#endif  // HASIVU_STORE_USERS_REPO_H_
