// Each TestDatabase is a new schema hasivu_test_<random> in the database of
// HASIVU_TEST_POSTGRES_URL, selected through the URL's `options=-csearch_path=...`, and dropped
// (CASCADE) when the TestDatabase goes away.
#include <cstdlib>

#include "common/ids.h"
#include "store/open_database.h"
#include "store/testing/test_backend.h"

namespace hasivu::store::testing {
namespace {

StatusOr<std::string> AdminUrl() {
  const char* url = std::getenv("HASIVU_TEST_POSTGRES_URL");
  if (url == nullptr || *url == '\0') {
    return FailedPreconditionError(
        "HASIVU_TEST_POSTGRES_URL is not set: start the test services with "
        "`export $(scripts/services.sh start)` (or point it at a PostgreSQL you may create "
        "schemas in)");
  }
  return std::string(url);
}

Status Exec(Database& db, const std::string& sql) {
  return db.Write([&](Connection& c) -> Status { return c.ExecScript(sql); });
}

class PostgresTestDatabase final : public TestDatabase {
 public:
  PostgresTestDatabase(DatabasePtr admin, std::string schema, std::string url, DatabasePtr db)
      : admin_(std::move(admin)),
        schema_(std::move(schema)),
        url_(std::move(url)),
        db_(std::move(db)) {}
  ~PostgresTestDatabase() override {
    db_.reset();
    (void)Exec(*admin_, "DROP SCHEMA IF EXISTS " + schema_ + " CASCADE");
  }
  Database& db() override { return *db_; }
  const std::string& url() const override { return url_; }

 private:
  DatabasePtr admin_;
  std::string schema_;
  std::string url_;
  DatabasePtr db_;
};

}  // namespace

StatusOr<std::unique_ptr<TestDatabase>> NewTestDatabase(int pool_size) {
  RETURN_IF_ERROR(InitCrypto());
  ASSIGN_OR_RETURN(std::string admin_url, AdminUrl());
  DatabaseSettings admin_settings;
  admin_settings.url = admin_url;
  admin_settings.pool_size = 1;
  ASSIGN_OR_RETURN(DatabasePtr admin, OpenDatabase(admin_settings));
  const std::string schema = "hasivu_test_" + RandomString(12, "abcdefghijklmnopqrstuvwxyz");
  RETURN_IF_ERROR(Exec(*admin, "CREATE SCHEMA " + schema));

  DatabaseSettings settings;
  settings.url = admin_url + (admin_url.find('?') == std::string::npos ? "?" : "&") +
                 "options=-csearch_path%3D" + schema;
  settings.pool_size = pool_size;
  auto db = OpenDatabase(settings);
  if (!db.ok()) {
    (void)Exec(*admin, "DROP SCHEMA IF EXISTS " + schema + " CASCADE");
    return db.status();
  }
  return std::unique_ptr<TestDatabase>(std::make_unique<PostgresTestDatabase>(
      std::move(admin), schema, settings.url, std::move(*db)));
}

}  // namespace hasivu::store::testing
