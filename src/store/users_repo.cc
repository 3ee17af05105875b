#include "store/users_repo.h"

#include "common/ids.h"
#include "store/hot_queries.h"

namespace hasivu::store {
namespace {

Value TextOrNull(const std::string& s) {
  if (s.empty()) return std::monostate{};
  return s;
}

constexpr std::string_view kUserById =
    "SELECT u.id, u.email, u.password_hash, u.first_name, u.last_name, u.phone, u.role,"
    " u.school_id, u.parent_id, u.grade, u.section, u.status, u.is_active, u.created_at,"
    " u.updated_at FROM users u WHERE u.id = $1";

}  // namespace

StatusOr<std::optional<UserRecord>> FindUserByEmail(Connection& conn, std::string_view email) {
  const Value params[] = {std::string(email)};
  ASSIGN_OR_RETURN(ResultSet rs, conn.Query(kUserByEmail, params));
  if (rs.rows.empty()) return std::optional<UserRecord>();
  const Row& r = rs.rows.front();
  UserRecord u;
  u.id = r.Text(0);
  u.email = r.Text(1);
  u.password_hash = r.Text(2);
  u.first_name = r.Text(3);
  u.last_name = r.Text(4);
  u.role = r.Text(5);
  u.school_id = r.Text(6);
  u.is_active = r.Bool(7);
  u.status = r.Text(8);
  return std::optional<UserRecord>(std::move(u));
}

StatusOr<std::optional<UserRecord>> FindUserById(Connection& conn, std::string_view id) {
  // PostgreSQL would refuse a non-UUID text for a uuid column; such an id names nobody.
  if (!IsUuid(id)) {
    return std::optional<UserRecord>();
  }
  const Value params[] = {std::string(id)};
  ASSIGN_OR_RETURN(ResultSet rs, conn.Query(kUserById, params));
  if (rs.rows.empty()) return std::optional<UserRecord>();
  const Row& r = rs.rows.front();
  UserRecord u;
  u.id = r.Text(0);
  u.email = r.Text(1);
  u.password_hash = r.Text(2);
  u.first_name = r.Text(3);
  u.last_name = r.Text(4);
  u.phone = r.Text(5);
  u.role = r.Text(6);
  u.school_id = r.Text(7);
  u.parent_id = r.Text(8);
  u.grade = r.Text(9);
  u.section = r.Text(10);
  u.status = r.Text(11);
  u.is_active = r.Bool(12);
  u.created_at = r.Text(13);
  u.updated_at = r.Text(14);
  return std::optional<UserRecord>(std::move(u));
}

Status InsertUser(Connection& conn, const NewUser& user) {
  const std::string now = FormatRfc3339(user.now);
  const Value params[] = {user.id,
                          user.email,
                          user.password_hash,
                          user.first_name,
                          user.last_name,
                          TextOrNull(user.phone),
                          user.role,
                          TextOrNull(user.school_id),
                          now};
  return conn
      .Query(
          "INSERT INTO users (id, email, password_hash, first_name, last_name, phone, role,"
          " school_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
          params)
      .status();
}

Status UpdatePasswordHash(Connection& conn, std::string_view user_id, std::string_view hash,
                          TimePoint now) {
  const Value params[] = {std::string(user_id), std::string(hash), FormatRfc3339(now)};
  return conn.Query("UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1", params)
      .status();
}

Status UpdateLastLogin(Connection& conn, std::string_view user_id, TimePoint now) {
  const Value params[] = {std::string(user_id), FormatRfc3339(now)};
  return conn.Query("UPDATE users SET last_login_at = $2 WHERE id = $1", params).status();
}

Status SetUserActive(Connection& conn, std::string_view user_id, bool active, TimePoint now) {
  const Value params[] = {std::string(user_id), active, std::string(active ? "active" : "inactive"),
                          FormatRfc3339(now)};
  return conn
      .Query("UPDATE users SET is_active = $2, status = $3, updated_at = $4 WHERE id = $1", params)
      .status();
}

StatusOr<std::optional<SchoolRecord>> FindSchool(Connection& conn, std::string_view id) {
  if (!IsUuid(id)) {
    return std::optional<SchoolRecord>();
  }
  const Value params[] = {std::string(id)};
  ASSIGN_OR_RETURN(ResultSet rs,
                   conn.Query("SELECT id, name, is_active FROM schools WHERE id = $1", params));
  if (rs.rows.empty()) return std::optional<SchoolRecord>();
  const Row& r = rs.rows.front();
  return std::optional<SchoolRecord>(SchoolRecord{r.Text(0), r.Text(1), r.Bool(2)});
}

StatusOr<std::vector<ChildRecord>> ChildrenOf(Connection& conn, std::string_view parent_id) {
  const Value params[] = {std::string(parent_id)};
  ASSIGN_OR_RETURN(ResultSet rs,
                   conn.Query("SELECT id, first_name, last_name, grade, section FROM users"
                              " WHERE parent_id = $1 ORDER BY first_name, id",
                              params));
  std::vector<ChildRecord> out;
  out.reserve(rs.rows.size());
  for (const Row& r : rs.rows) {
    out.push_back({r.Text(0), r.Text(1), r.Text(2), r.Text(3), r.Text(4)});
  }
  return out;
}

StatusOr<bool> AnyUser(Connection& conn) {
  ASSIGN_OR_RETURN(ResultSet rs, conn.Query("SELECT 1 FROM users LIMIT 1"));
  return !rs.rows.empty();
}

StatusOr<bool> AnySchool(Connection& conn) {
  ASSIGN_OR_RETURN(ResultSet rs, conn.Query("SELECT 1 FROM schools LIMIT 1"));
  return !rs.rows.empty();
}

Status AppendSchool(BulkWriter& writer, const SchoolLoadRow& row) {
  static constexpr std::string_view kColumns[] = {
      "id",    "name",  "code",           "timezone",  "address",    "city",      "state",
      "phone", "email", "principal_name", "is_active", "created_at", "updated_at"};
  RETURN_IF_ERROR(writer.StartRow("schools", kColumns));
  return writer.Text(row.id)
      .Text(row.name)
      .Text(row.code)
      .Text(row.timezone)
      .Text(row.address_json)
      .Text(row.city)
      .Text(row.state)
      .Text(row.phone)
      .Text(row.email)
      .Text(row.principal_name)
      .Bool(row.is_active)
      .Time(row.created_at)
      .Time(row.updated_at)
      .EndRow();
}

Status AppendUser(BulkWriter& writer, const UserLoadRow& row) {
  static constexpr std::string_view kColumns[] = {
      "id",       "email",          "password_hash", "first_name", "last_name", "phone",
      "role",     "status",         "school_id",     "parent_id",  "grade",     "section",
      "timezone", "email_verified", "is_active",     "created_at", "updated_at"};
  RETURN_IF_ERROR(writer.StartRow("users", kColumns));
  return writer.Text(row.id)
      .Text(row.email)
      .Text(row.password_hash)
      .Text(row.first_name)
      .Text(row.last_name)
      .TextOrNull(row.phone)
      .Text(row.role)
      .Text(row.status)
      .TextOrNull(row.school_id)
      .TextOrNull(row.parent_id)
      .TextOrNull(row.grade)
      .TextOrNull(row.section)
      .Text(row.timezone)
      .Bool(row.email_verified)
      .Bool(row.is_active)
      .Time(row.created_at)
      .Time(row.updated_at)
      .EndRow();
}

}  // namespace hasivu::store
