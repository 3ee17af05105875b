// Every kind of store error, raised by the real driver of the backend this binary links
// (store/testing/test_backend.h: SQLite, or PostgreSQL in store_errors_pgtest), reaches the client
// without internals: no response body carries SQL, a table or column name, a file path, a host or
// the driver's own words, while the log keeps the detail with the request id.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "api/envelope.h"
#include "api/testing/log_capture.h"
#include "http/message.h"
#include "store/database.h"
#include "store/open_database.h"
#include "store/testing/test_backend.h"

namespace hasivu::api {
namespace {

// Names only this test uses, so finding one in a body can only mean it leaked.
constexpr const char* kLeaks[] = {"probe_parents", "probe_items", "probe_email",  "probe_parent_id",
                                  "probe_qty",     "SELECT",      "INSERT",       "UPDATE",
                                  "CREATE",        "FROM",        "sqlite",       "SQLite",
                                  "postgres",      "PostgreSQL",  "ERROR:",       "constraint",
                                  "duplicate",     "violates",    "syntax",       "locked",
                                  "relation",      "no such",     "lock timeout", "/tmp",
                                  "hasivu_test",   "127.0.0.1",   "port",         "refused",
                                  "byte sequence", "SQLSTATE"};

http::Request MakeRequest() {
  http::Request r;
  r.method = "POST";
  r.path = "/api/v1/orders";
  r.request_id = "req-store-errors";
  return r;
}

using api::testing::LogCapture;

class StoreErrorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = store::testing::NewTestDatabase(4);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    Status schema = db_->db().Write([](store::Connection& c) {
      return c.ExecScript(
          "CREATE TABLE probe_parents (id TEXT PRIMARY KEY, probe_email TEXT NOT NULL UNIQUE);"
          "CREATE TABLE probe_items (id TEXT PRIMARY KEY,"
          " probe_parent_id TEXT NOT NULL REFERENCES probe_parents (id),"
          " probe_qty INTEGER NOT NULL CHECK (probe_qty > 0));"
          "INSERT INTO probe_parents (id, probe_email) VALUES ('p1', 'a@example.com');");
    });
    ASSERT_TRUE(schema.ok()) << schema.ToString();
  }

  Status Write(const std::string& sql) {
    return db_->db().Write([&](store::Connection& c) { return c.Query(sql).status(); });
  }

  // The error `s` as a client receives it: an error envelope, none of the internals.
  void ExpectClean(const Status& s, const std::string& what) {
    ASSERT_FALSE(s.ok()) << what << " did not fail";
    const http::Response r = ErrorFromStatus(MakeRequest(), s);
    EXPECT_GE(r.status, 400u) << what;
    boost::system::error_code ec;
    const boost::json::value body = boost::json::parse(r.body, ec);
    ASSERT_FALSE(ec) << what << ": " << r.body;
    EXPECT_FALSE(body.at("success").as_bool()) << what;
    for (const char* leak : kLeaks) {
      EXPECT_EQ(r.body.find(leak), std::string::npos)
          << what << ": '" << leak << "' in " << r.body << " (store said: " << s.ToString() << ")";
    }
    EXPECT_EQ(r.body.find(db_->url()), std::string::npos) << what << ": " << r.body;
  }

  std::unique_ptr<store::testing::TestDatabase> db_;
};

TEST_F(StoreErrorsTest, ConstraintViolations) {
  ExpectClean(Write("INSERT INTO probe_parents (id, probe_email) VALUES ('p2', 'a@example.com')"),
              "unique");
  ExpectClean(Write("INSERT INTO probe_parents (id, probe_email) VALUES ('p1', 'b@example.com')"),
              "primary key");
  ExpectClean(Write("INSERT INTO probe_parents (id, probe_email) VALUES ('p3', NULL)"), "not null");
  ExpectClean(Write("INSERT INTO probe_items (id, probe_parent_id, probe_qty) "
                    "VALUES ('i1', 'nobody', 1)"),
              "foreign key");
  ExpectClean(Write("INSERT INTO probe_items (id, probe_parent_id, probe_qty) "
                    "VALUES ('i2', 'p1', 0)"),
              "check");
}

TEST_F(StoreErrorsTest, BadStatementsAndValues) {
  ExpectClean(Write("SELEC id FROM probe_parents"), "syntax error");
  ExpectClean(Write("SELECT id FROM probe_nowhere_table"), "unknown table");
  ExpectClean(Write("SELECT probe_no_column FROM probe_parents"), "unknown column");
  if (db_->db().dialect() == store::Dialect::kPostgresql) {
    // SQLite keeps a text in an INTEGER column (type affinity), so this is PostgreSQL's alone.
    ExpectClean(Write("INSERT INTO probe_items (id, probe_parent_id, probe_qty) "
                      "VALUES ('i3', 'p1', 'many')"),
                "type mismatch");
  }
  // Bytes that are not UTF-8 (PostgreSQL refuses them; SQLite stores them, and the check refuses
  // the row).
  ExpectClean(Write(std::string("INSERT INTO probe_items (id, probe_parent_id, probe_qty) "
                                "VALUES ('i4\xe2\x82', 'p1', -1)")),
              "invalid bytes");
}

TEST_F(StoreErrorsTest, LockConflicts) {
  // A second handle on the same data that does not wait: its write meets the first one's lock.
  store::DatabaseSettings settings{.url = db_->url(), .pool_size = 2};
  settings.busy_timeout_ms = 0;
  settings.acquire_timeout_ms = 200;
  auto second = store::OpenDatabase(settings);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  Status conflict;
  Status first = db_->db().Write([&](store::Connection& c) -> Status {
    RETURN_IF_ERROR(
        c.Query("UPDATE probe_parents SET probe_email = 'c@example.com' WHERE id = 'p1'").status());
    conflict = (*second)->Write([](store::Connection& c2) -> Status {
      if (c2.dialect() == store::Dialect::kPostgresql) {
        RETURN_IF_ERROR(c2.ExecScript("SET LOCAL lock_timeout = '100ms'"));
      }
      return c2.Query("UPDATE probe_parents SET probe_email = 'd@example.com' WHERE id = 'p1'")
          .status();
    });
    return Status::Ok();
  });
  ASSERT_TRUE(first.ok()) << first.ToString();
  ExpectClean(conflict, "lock conflict");
}

TEST_F(StoreErrorsTest, AnUnreachableStore) {
  const std::string url = db_->db().dialect() == store::Dialect::kPostgresql
                              ? "postgresql://hasivu_test@127.0.0.1:1/hasivu_test"
                              : "sqlite:/tmp/hasivu-no-such-folder/probe_parents/hasivu.db";
  store::DatabaseSettings settings{.url = url, .pool_size = 1};
  settings.connect_timeout_s = 1;
  settings.acquire_timeout_ms = 200;
  auto db = store::OpenDatabase(settings);
  Status s = db.ok() ? (*db)->Ping() : db.status();
  ExpectClean(s, "unreachable store");
}

// A disk with no free page (SQLite's page cap on the writer, on the test's real file): the
// client reads 503 STORAGE_FULL with Retry-After, nothing of the store. PostgreSQL's disk is the
// database server's: its disk-full error (53100) is mapped as a unit (postgres_database_test),
// not produced from here.
TEST_F(StoreErrorsTest, AFullDisk) {
  if (db_->db().dialect() == store::Dialect::kPostgresql) {
    GTEST_SKIP() << "SQLite only: max_page_count";
  }
  Status cap = db_->db().Write([](store::Connection& c) -> Status {
    ASSIGN_OR_RETURN(store::ResultSet pages, c.Query("PRAGMA page_count"));
    return c.Query("PRAGMA max_page_count = " + std::string(pages.rows.at(0).Text(0))).status();
  });
  ASSERT_TRUE(cap.ok()) << cap.ToString();
  const Status s =
      Write("INSERT INTO probe_parents (id, probe_email) VALUES ('p9', hex(randomblob(200000)))");
  ExpectClean(s, "full disk");
  const http::Response r = ErrorFromStatus(MakeRequest(), s);
  EXPECT_EQ(r.status, 503u) << r.body;
  EXPECT_NE(r.body.find("\"STORAGE_FULL\""), std::string::npos) << r.body;
  EXPECT_NE(r.headers.Find("Retry-After"), nullptr);
}

// A store that takes no writes (SQLite: a file it could open only read-only, as on a read-only
// file system; PostgreSQL: a read-only transaction, as on a standby): 503 STORAGE_READ_ONLY with
// Retry-After, nothing of the store.
TEST_F(StoreErrorsTest, AReadOnlyStore) {
  const std::string insert =
      "INSERT INTO probe_parents (id, probe_email) VALUES ('p8', 'r@example.com')";
  Status s;
  store::DatabasePtr read_only;
  if (db_->db().dialect() == store::Dialect::kPostgresql) {
    s = db_->db().Write([&](store::Connection& c) -> Status {
      RETURN_IF_ERROR(c.ExecScript("SET TRANSACTION READ ONLY"));
      return c.Query(insert).status();
    });
  } else {
    const std::string path = db_->url().substr(std::string("sqlite:").size());
    auto opened = store::OpenDatabase({.url = "sqlite:file:" + path + "?mode=ro", .pool_size = 1});
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    read_only = std::move(*opened);
    s = read_only->Write([&](store::Connection& c) { return c.Query(insert).status(); });
  }
  ExpectClean(s, "read-only store");
  const http::Response r = ErrorFromStatus(MakeRequest(), s);
  EXPECT_EQ(r.status, 503u) << r.body;
  EXPECT_NE(r.body.find("\"STORAGE_READ_ONLY\""), std::string::npos) << r.body;
  EXPECT_NE(r.headers.Find("Retry-After"), nullptr);
}

TEST_F(StoreErrorsTest, TheLogKeepsTheDetailWithTheRequestId) {
  LogCapture log;
  const Status s = Write("SELECT id FROM probe_nowhere_table");
  ASSERT_FALSE(s.ok());
  (void)ErrorFromStatus(MakeRequest(), s);
  const std::string text = log.Text();
  EXPECT_NE(text.find("req-store-errors"), std::string::npos) << text;
  EXPECT_NE(text.find("probe_nowhere_table"), std::string::npos) << text;
}

}  // namespace
}  // namespace hasivu::api
