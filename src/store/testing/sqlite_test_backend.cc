#include <stdlib.h>

#include <filesystem>

#include "store/open_database.h"
#include "store/testing/test_backend.h"

namespace hasivu::store::testing {
namespace {

class SqliteTestDatabase final : public TestDatabase {
 public:
  SqliteTestDatabase(std::filesystem::path dir, std::string url, DatabasePtr db)
      : dir_(std::move(dir)), url_(std::move(url)), db_(std::move(db)) {}
  ~SqliteTestDatabase() override {
    db_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  Database& db() override { return *db_; }
  const std::string& url() const override { return url_; }

 private:
  std::filesystem::path dir_;
  std::string url_;
  DatabasePtr db_;
};

}  // namespace

StatusOr<std::unique_ptr<TestDatabase>> NewTestDatabase(int pool_size) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "hasivu_store_XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) return InternalError("mkdtemp failed");
  DatabaseSettings settings;
  settings.url = "sqlite:" + tmpl + "/test.db";
  settings.pool_size = pool_size;
  auto db = OpenDatabase(settings);
  if (!db.ok()) {
    std::error_code ec;
    std::filesystem::remove_all(tmpl, ec);
    return db.status();
  }
  return std::unique_ptr<TestDatabase>(
      std::make_unique<SqliteTestDatabase>(tmpl, settings.url, std::move(*db)));
}

}  // namespace hasivu::store::testing
