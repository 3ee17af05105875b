// SQLite-only behaviour of the backend and the factory (the shared suite is store_suite.cc).
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <future>
#include <string>
#include <thread>

#include "common/ids.h"
#include "store/migrations.h"
#include "store/open_database.h"
#include "store/sqlite/sqlite_database.h"
#include "store/testing/test_backend.h"

namespace hasivu::store {
namespace {

TEST(RewritePlaceholders, RewritesOnlyOutsideLiteralsAndComments) {
  using sqlite::RewritePlaceholders;
  EXPECT_EQ(RewritePlaceholders("SELECT $1, $12 FROM t WHERE a = $2"),
            "SELECT ?1, ?12 FROM t WHERE a = ?2");
  EXPECT_EQ(RewritePlaceholders("SELECT '$1', 'it''s $2', $3"), "SELECT '$1', 'it''s $2', ?3");
  EXPECT_EQ(RewritePlaceholders("SELECT \"$1\" -- $2\n, $3 /* $4 */"),
            "SELECT \"$1\" -- $2\n, ?3 /* $4 */");
  EXPECT_EQ(RewritePlaceholders("SELECT $a, $"), "SELECT $a, $");
  // Unterminated literal or comment: copied as is, no crash.
  EXPECT_EQ(RewritePlaceholders("SELECT 'abc $1"), "SELECT 'abc $1");
  EXPECT_EQ(RewritePlaceholders("SELECT /* $1"), "SELECT /* $1");
  EXPECT_EQ(RewritePlaceholders(""), "");
}

TEST(OpenDatabase, RejectsBadUrls) {
  for (const char* url : {"", "mysql://x", "sqlite:", "SQLITE:/tmp/x", "http://x"}) {
    DatabaseSettings s;
    s.url = url;
    auto db = OpenDatabase(s);
    ASSERT_FALSE(db.ok()) << url;
    EXPECT_EQ(db.status().code(), StatusCode::kInvalidArgument) << url;
    EXPECT_EQ(db.status().message().find('\n'), std::string::npos);
  }
}

TEST(OpenDatabase, UnopenablePathIsUnavailable) {
  DatabaseSettings s;
  s.url = "sqlite:/nonexistent-dir-hasivu/sub/db.sqlite";
  auto db = OpenDatabase(s);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), StatusCode::kUnavailable) << db.status().ToString();
}

TEST(SqliteMemory, WorksForReadsAndWrites) {
  ASSERT_TRUE(InitCrypto().ok());
  DatabaseSettings s;
  s.url = "sqlite::memory:";
  auto db = OpenDatabase(s);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  ASSERT_TRUE(Migrate(**db).ok());
  ASSERT_TRUE((*db)
                  ->Write([](Connection& c) -> Status {
                    const Value p[] = {NewUuidV7()};
                    return c.Query("INSERT INTO schools (id, name, code) VALUES ($1, 'n', 'M')", p)
                        .status();
                  })
                  .ok());
  int64_t count = -1;
  std::thread t([&] {
    (void)(*db)->Read([&](Connection& c) -> Status {
      ASSIGN_OR_RETURN(ResultSet rs, c.Query("SELECT count(*) FROM schools"));
      count = rs.rows[0].Int(0);
      return Status::Ok();
    });
  });
  t.join();
  EXPECT_EQ(count, 1);
  // Read inside Write on a memory database uses the writer's connection instead of deadlocking.
  Status s2 = (*db)->Write([&](Connection&) -> Status {
    return (*db)->Read([](Connection& c) { return c.Query("SELECT 1").status(); });
  });
  EXPECT_TRUE(s2.ok()) << s2.ToString();
}

class SqliteBackend : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitCrypto().ok());
    auto t = testing::NewTestDatabase();
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    test_db_ = std::move(*t);
    ASSERT_TRUE(Migrate(db()).ok());
  }
  Database& db() { return test_db_->db(); }
  std::unique_ptr<testing::TestDatabase> test_db_;
};

TEST_F(SqliteBackend, NestedWriteIsRefusedNotDeadlocked) {
  Status s = db().Write(
      [&](Connection&) -> Status { return db().Write([](Connection&) { return Status::Ok(); }); });
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  // And the writer is free again.
  EXPECT_TRUE(db().Write([](Connection& c) { return c.Query("SELECT 1").status(); }).ok());
}

TEST_F(SqliteBackend, WriterBusyPastTheAcquireTimeoutIsUnavailable) {
  DatabaseSettings settings;
  settings.url = test_db_->url();
  settings.acquire_timeout_ms = 50;
  auto other = OpenDatabase(settings);
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  std::promise<void> inside;
  std::promise<void> release;
  std::thread holder([&] {
    (void)(*other)->Write([&](Connection&) {
      inside.set_value();
      release.get_future().wait();
      return Status::Ok();
    });
  });
  inside.get_future().wait();
  Status s = (*other)->Write([](Connection&) { return Status::Ok(); });
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_EQ((*other)->Stats().in_use, 1);
  release.set_value();
  holder.join();
  EXPECT_TRUE((*other)->Write([](Connection&) { return Status::Ok(); }).ok());
}

TEST_F(SqliteBackend, ReadConnectionsCannotWrite) {
  Status s = db().Read([](Connection& c) {
    const Value p[] = {NewUuidV7()};
    return c.Query("INSERT INTO schools (id, name, code) VALUES ($1, 'n', 'R')", p).status();
  });
  EXPECT_FALSE(s.ok());
  // A write inside Read() is a bug of the caller, not a read-only disk.
  EXPECT_EQ(s.code(), StatusCode::kInternal) << s.ToString();
  EXPECT_TRUE(s.reason().empty()) << s.ToString();
}

// ReadOnce() serves a thread's rare read on the writer connection: no reader connection is opened
// for it (each one parses the whole schema), it cannot write, and it leaves the writer writable.
TEST_F(SqliteBackend, ReadOnceOpensNoReaderConnectionAndCannotWrite) {
  ASSERT_TRUE(db().Write([](Connection& c) {
                    const Value p[] = {NewUuidV7()};
                    return c
                        .Query("INSERT INTO schools (id, name, code) VALUES ($1, 'a', 'RO1')", p)
                        .status();
                  })
                  .ok());
  const int connections = db().Stats().size;
  std::thread once([&] {
    int64_t schools = -1;
    Status read = db().ReadOnce([&](Connection& c) -> Status {
      ASSIGN_OR_RETURN(ResultSet rs, c.Query("SELECT count(*) FROM schools WHERE code = 'RO1'"));
      schools = rs.rows.at(0).Int(0);
      return Status::Ok();
    });
    EXPECT_TRUE(read.ok()) << read.ToString();
    EXPECT_EQ(schools, 1);
    Status write = db().ReadOnce([](Connection& c) {
      const Value p[] = {NewUuidV7()};
      return c.Query("INSERT INTO schools (id, name, code) VALUES ($1, 'b', 'RO2')", p).status();
    });
    EXPECT_EQ(write.code(), StatusCode::kInternal) << write.ToString();
  });
  once.join();
  EXPECT_EQ(db().Stats().size, connections) << "ReadOnce opened a reader connection";
  // The writer writes again, and the refused insert left nothing.
  ASSERT_TRUE(db().Write([](Connection& c) {
                    const Value p[] = {NewUuidV7()};
                    return c
                        .Query("INSERT INTO schools (id, name, code) VALUES ($1, 'c', 'RO3')", p)
                        .status();
                  })
                  .ok());
  int64_t written = -1;
  ASSERT_TRUE(db().Read([&](Connection& c) -> Status {
                    ASSIGN_OR_RETURN(ResultSet rs,
                                     c.Query("SELECT count(*) FROM schools WHERE code LIKE 'RO%'"));
                    written = rs.rows.at(0).Int(0);
                    return Status::Ok();
                  })
                  .ok());
  EXPECT_EQ(written, 2);
  // A thread that has its reader already goes on using it.
  const int with_reader = db().Stats().size;
  EXPECT_TRUE(db().ReadOnce([](Connection& c) { return c.Query("SELECT 1").status(); }).ok());
  EXPECT_EQ(db().Stats().size, with_reader);
}

// The rows of table `fill`, read through a reader connection.
int64_t CountFill(Database& db) {
  int64_t n = -1;
  Status s = db.Read([&](Connection& c) -> Status {
    ASSIGN_OR_RETURN(ResultSet rs, c.Query("SELECT count(*) FROM fill"));
    n = rs.rows.at(0).Int(0);
    return Status::Ok();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return n;
}

// A full disk, on a real file: PRAGMA max_page_count on the writer makes SQLite meet SQLITE_FULL
// at the page a disk without a free block would refuse.
TEST_F(SqliteBackend, FullDiskIsStorageFullAndWritesWorkAgainOnceSpaceReturns) {
  auto insert = [&](int rows) {
    return db().Write([&](Connection& c) -> Status {
      for (int i = 0; i < rows; ++i) {
        RETURN_IF_ERROR(c.ExecScript("INSERT INTO fill (b) VALUES (randomblob(20000))"));
      }
      return Status::Ok();
    });
  };
  ASSERT_TRUE(db().Write([](Connection& c) {
                    return c.ExecScript("CREATE TABLE fill (id INTEGER PRIMARY KEY, b BLOB)");
                  })
                  .ok());
  ASSERT_TRUE(insert(1).ok());
  Status cap = db().Write([](Connection& c) -> Status {
    ASSIGN_OR_RETURN(ResultSet pages, c.Query("PRAGMA page_count"));
    return c.Query("PRAGMA max_page_count = " + std::string(pages.rows.at(0).Text(0))).status();
  });
  ASSERT_TRUE(cap.ok()) << cap.ToString();

  // Two rows in one transaction: the first fits in free pages or not, the second cannot; neither
  // stays.
  Status full = insert(2);
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.code(), StatusCode::kUnavailable) << full.ToString();
  EXPECT_EQ(full.reason(), "STORAGE_FULL") << full.ToString();
  // SQLite's text is for the log, not for a client.
  EXPECT_FALSE(full.message_is_for_client()) << full.ToString();
  EXPECT_NE(full.message().find("sqlite:"), std::string::npos) << full.ToString();
  EXPECT_EQ(CountFill(db()), 1);

  Status uncapped = db().Write(
      [](Connection& c) { return c.Query("PRAGMA max_page_count = 1073741823").status(); });
  ASSERT_TRUE(uncapped.ok()) << uncapped.ToString();
  Status again = insert(2);
  EXPECT_TRUE(again.ok()) << again.ToString();
  EXPECT_EQ(CountFill(db()), 3);
  Status check = db().Read([](Connection& c) -> Status {
    ASSIGN_OR_RETURN(ResultSet rs, c.Query("PRAGMA integrity_check"));
    EXPECT_EQ(rs.rows.at(0).Text(0), "ok");
    return Status::Ok();
  });
  EXPECT_TRUE(check.ok()) << check.ToString();
}

// The process's file size limit at 0 (RLIMIT_FSIZE, SIGXFSZ ignored as the server does): the
// log's next write fails with EFBIG, which SQLite reports as a plain I/O error; the store still
// names it a full disk, from the errno SQLite keeps for the log's file.
TEST_F(SqliteBackend, WriteRefusedByTheFileSizeLimitIsStorageFull) {
  ASSERT_TRUE(db().Write([](Connection& c) {
                    return c.ExecScript(
                        "CREATE TABLE fill (id INTEGER PRIMARY KEY, b BLOB);"
                        "INSERT INTO fill (b) VALUES (randomblob(20000))");
                  })
                  .ok());
  auto insert = [&] {
    return db().Write([](Connection& c) {
      return c.ExecScript("INSERT INTO fill (b) VALUES (randomblob(20000))");
    });
  };
  Status refused;
  {
    // Lifted again however this block ends.
    struct NoFileGrowth {
      rlimit saved{};
      void (*saved_handler)(int) = SIG_DFL;
      NoFileGrowth() {
        saved_handler = std::signal(SIGXFSZ, SIG_IGN);
        getrlimit(RLIMIT_FSIZE, &saved);
        const rlimit none{0, saved.rlim_max};
        setrlimit(RLIMIT_FSIZE, &none);
      }
      ~NoFileGrowth() {
        setrlimit(RLIMIT_FSIZE, &saved);
        std::signal(SIGXFSZ, saved_handler);
      }
    } limit;
    refused = insert();
  }
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.code(), StatusCode::kUnavailable) << refused.ToString();
  EXPECT_EQ(refused.reason(), "STORAGE_FULL") << refused.ToString();
  EXPECT_NE(refused.message().find("I/O error"), std::string::npos) << refused.ToString();
  Status again = insert();
  EXPECT_TRUE(again.ok()) << again.ToString();
  EXPECT_EQ(CountFill(db()), 2);
}

// What SQLite does on a file system mounted read-only: it opens the file read-only, and every
// write meets SQLITE_READONLY. Here the file is opened so on purpose (mode=ro), on a real file.
TEST_F(SqliteBackend, ReadOnlyFileIsStorageReadOnlyAndStillReads) {
  ASSERT_TRUE(db().Write([](Connection& c) {
                    return c.ExecScript(
                        "CREATE TABLE fill (id INTEGER PRIMARY KEY, b BLOB);"
                        "INSERT INTO fill (b) VALUES (x'00')");
                  })
                  .ok());
  const std::string path = test_db_->url().substr(std::string("sqlite:").size());
  DatabaseSettings settings;
  settings.url = "sqlite:file:" + path + "?mode=ro";
  auto read_only = OpenDatabase(settings);
  ASSERT_TRUE(read_only.ok()) << read_only.status().ToString();
  Status s = (*read_only)->Write([](Connection& c) {
    return c.ExecScript("INSERT INTO fill (b) VALUES (x'01')");
  });
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_EQ(s.reason(), "STORAGE_READ_ONLY") << s.ToString();
  EXPECT_FALSE(s.message_is_for_client()) << s.ToString();
  EXPECT_EQ(CountFill(**read_only), 1);
}

TEST_F(SqliteBackend, InstantsOutsideTheFixedFormAreRejected) {
  // Text order must equal time order, so the schema refuses other spellings of an instant.
  for (const char* bad : {"2026-11-27 13:25:21", "2026-11-27T13:25:21Z", "2026-11-27T13:25:21.123Z",
                          "2026-11-27T13:25:21.123456+05:30"}) {
    Status s = db().Write([&](Connection& c) {
      const Value p[] = {NewUuidV7(), std::string(bad)};
      return c.Query("INSERT INTO schools (id, name, code, created_at) VALUES ($1, 'n', $1, $2)", p)
          .status();
    });
    EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << bad;
  }
  const std::string school = NewUuidV7();
  ASSERT_TRUE(db().Write([&](Connection& c) {
                    const Value p[] = {school};
                    return c.Query("INSERT INTO schools (id, name, code) VALUES ($1, 'n', 'D')", p)
                        .status();
                  })
                  .ok());
  const char* const sql =
      "INSERT INTO menu_plans (id, school_id, name, start_date, end_date)"
      " VALUES ($1, $2, 'n', $3, '2026-11-28')";
  for (const char* date : {"27/11/2026", "2026-11-27T00:00:00.000000Z", "2026-1-27"}) {
    Status bad = db().Write([&](Connection& c) {
      const Value p[] = {NewUuidV7(), school, std::string(date)};
      return c.Query(sql, p).status();
    });
    EXPECT_EQ(bad.code(), StatusCode::kFailedPrecondition) << date;
  }
  Status good = db().Write([&](Connection& c) {
    const Value p[] = {NewUuidV7(), school, std::string("2026-11-27")};
    return c.Query(sql, p).status();
  });
  EXPECT_TRUE(good.ok()) << good.ToString();
}

TEST_F(SqliteBackend, MoreThanOneStatementInQueryIsRefused) {
  auto rs = db().Read([](Connection& c) { return c.Query("SELECT 1; SELECT 2").status(); });
  EXPECT_EQ(rs.code(), StatusCode::kInvalidArgument) << rs.ToString();
}

TEST_F(SqliteBackend, OnlyOneBulkLoaderAtATime) {
  auto first = db().NewBulkLoader();
  ASSERT_TRUE(first.ok());
  auto second = db().NewBulkLoader();
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ((*first)->Begin("users; DROP TABLE users", {"id"}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ((*first)->Begin("users", {"id", "email --"}).code(), StatusCode::kInvalidArgument);
  first->reset();
  EXPECT_TRUE(db().NewBulkLoader().ok());
}

// A file database of its own with the given checkpoint thresholds, holding one table of blobs.
class SqliteCheckpoints : public ::testing::Test {
 protected:
  void Open(int checkpoint_pages, int writer_checkpoint_pages) {
    dir_ = std::filesystem::temp_directory_path() / ("hasivu-ckpt-" + NewUuidV7());
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "ckpt.db").string();
    DatabaseSettings settings;
    settings.url = "sqlite:" + path_;
    settings.checkpoint_pages = checkpoint_pages;
    settings.writer_checkpoint_pages = writer_checkpoint_pages;
    auto db = OpenDatabase(settings);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    ASSERT_TRUE(db_->Write([](Connection& c) {
                     return c.ExecScript("CREATE TABLE blobs (id INTEGER PRIMARY KEY, b BLOB)");
                   })
                    .ok());
  }
  void TearDown() override {
    db_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  // `n` transactions, each adding ~10 pages of fresh data.
  void WriteBlobs(int n) {
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(db_->Write([](Connection& c) {
                       return c.ExecScript("INSERT INTO blobs (b) VALUES (randomblob(40000))");
                     })
                      .ok());
    }
  }
  std::uintmax_t FileSize(const std::string& p) {
    std::error_code ec;
    const std::uintmax_t n = std::filesystem::file_size(p, ec);
    return ec ? 0 : n;
  }
  std::filesystem::path dir_;
  std::string path_;
  DatabasePtr db_;
};

TEST_F(SqliteCheckpoints, BackgroundThreadCopiesTheLogIntoTheDatabase) {
  Open(/*checkpoint_pages=*/50, /*writer_checkpoint_pages=*/1000000);
  const std::uintmax_t before = FileSize(path_);
  WriteBlobs(30);  // ~300 pages: only a checkpoint moves them from the -wal into the file
  const std::uintmax_t expected = before + 200 * 4096;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (FileSize(path_) < expected && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GE(FileSize(path_), expected);
}

TEST_F(SqliteCheckpoints, WriterCheckpointsItselfPastTheBackstop) {
  // The background thread is never asked (its threshold is out of reach); the writer's own
  // checkpoint at 50 pages keeps the log bounded and moves the data into the file, before
  // Write() returns.
  Open(/*checkpoint_pages=*/1000000, /*writer_checkpoint_pages=*/50);
  const std::uintmax_t before = FileSize(path_);
  WriteBlobs(60);  // ~600 pages
  EXPECT_GE(FileSize(path_), before + 400 * 4096);
  // Restarted after each complete checkpoint: far below the ~600 frames written.
  EXPECT_LT(FileSize(path_ + "-wal"), 100u * (4096 + 24));
}

TEST(OpenDatabase, RejectsCheckpointThresholdsBelowOnePage) {
  for (auto [background, writer] : {std::pair{0, 100}, std::pair{100, 0}, std::pair{-1, 10}}) {
    DatabaseSettings settings;
    settings.url =
        "sqlite:" + (std::filesystem::temp_directory_path() / "never-opened.db").string();
    settings.checkpoint_pages = background;
    settings.writer_checkpoint_pages = writer;
    auto db = OpenDatabase(settings);
    EXPECT_EQ(db.status().code(), StatusCode::kInvalidArgument) << background << " " << writer;
  }
}

TEST_F(SqliteBackend, WalModeAndForeignKeysAreOn) {
  Status s = db().Read([](Connection& c) -> Status {
    ASSIGN_OR_RETURN(ResultSet j, c.Query("PRAGMA journal_mode"));
    EXPECT_EQ(j.rows.at(0).Text(0), "wal");
    ASSIGN_OR_RETURN(ResultSet f, c.Query("PRAGMA foreign_keys"));
    EXPECT_EQ(f.rows.at(0).Text(0), "1");
    return Status::Ok();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
}

}  // namespace
}  // namespace hasivu::store
