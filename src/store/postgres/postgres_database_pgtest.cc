// Backend specifics of the PostgreSQL Database (the shared store suite covers the contract).
// Needs HASIVU_TEST_POSTGRES_URL (scripts/services.sh start); each test works in a schema of its
// own, dropped afterwards.
#include "store/postgres/postgres_database.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <future>
#include <latch>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/blocking.h"
#include "common/deadline.h"

namespace hasivu::store::postgres {
namespace {

#define ASSERT_OK(expr)                                                  \
  do {                                                                   \
    const ::hasivu::Status assert_ok_status_ = (expr);                   \
    ASSERT_TRUE(assert_ok_status_.ok()) << assert_ok_status_.ToString(); \
  } while (false)
#define EXPECT_OK(expr)                                                  \
  do {                                                                   \
    const ::hasivu::Status expect_ok_status_ = (expr);                   \
    EXPECT_TRUE(expect_ok_status_.ok()) << expect_ok_status_.ToString(); \
  } while (false)

class PostgresDatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* url = std::getenv("HASIVU_TEST_POSTGRES_URL");
    ASSERT_TRUE(url != nullptr && *url != '\0')
        << "HASIVU_TEST_POSTGRES_URL is not set; run `export $(scripts/services.sh start)`";
    base_url_ = url;
    std::random_device rd;
    schema_ = "t_" + std::to_string(rd()) + "_" + std::to_string(rd() % 100000);
    DatabaseSettings s;
    s.url = base_url_;
    s.pool_size = 2;
    StatusOr<DatabasePtr> admin = OpenPostgresDatabase(s);
    ASSERT_TRUE(admin.ok()) << admin.status().ToString();
    admin_ = std::move(*admin);
    ASSERT_OK(
        admin_->Write([&](Connection& c) { return c.ExecScript("CREATE SCHEMA " + schema_); }));
  }

  void TearDown() override {
    db_.reset();
    if (admin_) {
      EXPECT_OK(admin_->Write(
          [&](Connection& c) { return c.ExecScript("DROP SCHEMA " + schema_ + " CASCADE"); }));
    }
  }

  // The test's URL: search_path is its schema, application_name tags its backends.
  std::string SchemaUrl() const {
    const char sep = base_url_.find('?') == std::string::npos ? '?' : '&';
    return base_url_ + sep + "options=-csearch_path%3D" + schema_ + "&application_name=" + schema_;
  }

  Database& Open(int pool_size = 4, int acquire_timeout_ms = 2000,
                 metrics::Registry* registry = nullptr) {
    DatabaseSettings s;
    s.url = SchemaUrl();
    s.pool_size = pool_size;
    s.acquire_timeout_ms = acquire_timeout_ms;
    s.registry = registry;
    StatusOr<DatabasePtr> db = OpenPostgresDatabase(s);
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    db_ = db.ok() ? std::move(*db) : nullptr;
    return *db_;
  }

  // Runs one statement on the test's database (in a transaction).
  StatusOr<ResultSet> Run(Database& db, const std::string& sql, std::vector<Value> params = {}) {
    ResultSet out;
    Status s = db.Write([&](Connection& c) {
      ASSIGN_OR_RETURN(out, c.Query(sql, params));
      return Status::Ok();
    });
    if (!s.ok()) return s;
    return out;
  }

  StatusOr<ResultSet> ReadQuery(Database& db, const std::string& sql,
                                std::vector<Value> params = {}) {
    ResultSet out;
    Status s = db.Read([&](Connection& c) {
      ASSIGN_OR_RETURN(out, c.Query(sql, params));
      return Status::Ok();
    });
    if (!s.ok()) return s;
    return out;
  }

  int64_t BackendsOfThisTest() {
    StatusOr<ResultSet> r = ReadQuery(
        *admin_, "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", {schema_});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->rows[0].Int(0) : -1;
  }

  // Terminates backend `pid` from the admin pool and waits until it is gone, so its goodbye has
  // been sent.
  void TerminateBackend(int64_t pid) {
    StatusOr<ResultSet> r =
        ReadQuery(*admin_, "SELECT pg_terminate_backend(CAST($1 AS integer))", {pid});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->rows[0].Text(0), "1");
    for (int i = 0; i < 500; ++i) {
      StatusOr<ResultSet> a = ReadQuery(
          *admin_, "SELECT count(*) FROM pg_stat_activity WHERE pid = CAST($1 AS integer)", {pid});
      ASSERT_TRUE(a.ok()) << a.status().ToString();
      if (a->rows[0].Int(0) == 0) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    FAIL() << "backend " << pid << " did not exit";
  }

  std::string base_url_;
  std::string schema_;
  DatabasePtr admin_;
  DatabasePtr db_;
};

int64_t BackendPid(Connection& c) {
  StatusOr<ResultSet> r = c.Query("SELECT pg_backend_pid()");
  return r.ok() ? r->rows[0].Int(0) : -1;
}

TEST_F(PostgresDatabaseTest, PoolIsBoundedAndThirdReaderWaits) {
  Database& db = Open(/*pool_size=*/2, /*acquire_timeout_ms=*/20000);
  std::latch entered(2);
  std::promise<void> release_a, release_b;
  std::shared_future<void> ra = release_a.get_future().share();
  std::shared_future<void> rb = release_b.get_future().share();
  auto holder = [&](std::shared_future<void> release) {
    return std::async(std::launch::async, [&db, &entered, release] {
      return db.Read([&](Connection& c) {
        RETURN_IF_ERROR(c.Query("SELECT 1").status());
        entered.count_down();
        release.wait();
        return Status::Ok();
      });
    });
  };
  std::future<Status> a = holder(ra);
  std::future<Status> b = holder(rb);
  entered.wait();
  EXPECT_EQ(db.Stats().in_use, 2);
  EXPECT_EQ(db.Stats().size, 2);

  std::atomic<bool> c_entered{false};
  std::future<Status> c = std::async(std::launch::async, [&] {
    return db.Read([&](Connection& conn) {
      c_entered = true;
      return conn.Query("SELECT 1").status();
    });
  });
  // While both connections are lent, the third caller cannot be inside its callback.
  EXPECT_EQ(c.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout);
  EXPECT_FALSE(c_entered.load());
  EXPECT_EQ(BackendsOfThisTest(), 2);

  release_a.set_value();
  EXPECT_OK(a.get());
  EXPECT_OK(c.get());
  EXPECT_TRUE(c_entered.load());
  release_b.set_value();
  EXPECT_OK(b.get());
  EXPECT_EQ(db.Stats().in_use, 0);
  EXPECT_LE(BackendsOfThisTest(), 2);
}

TEST_F(PostgresDatabaseTest, PoolRecordsEachWaitForAConnectionAndEachHold) {
  const metrics::RegistryPtr registry = metrics::NewRegistry();
  Database& db = Open(/*pool_size=*/1, /*acquire_timeout_ms=*/20000, registry.get());
  metrics::Histogram& wait = registry->GetHistogram("hasivu_db_pool_wait_seconds", "");
  metrics::Histogram& hold = registry->GetHistogram("hasivu_db_pool_hold_seconds", "");
  const uint64_t waits_before = wait.Snapshot().count;  // none: opening records nothing
  EXPECT_EQ(waits_before, 0u);

  std::latch entered(1);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::future<Status> a = std::async(std::launch::async, [&] {
    return db.Read([&](Connection& c) {
      RETURN_IF_ERROR(c.Query("SELECT 1").status());
      entered.count_down();
      released.wait();
      return Status::Ok();
    });
  });
  entered.wait();
  std::atomic<std::chrono::steady_clock::rep> b_asked{0};
  std::future<Status> b = std::async(std::launch::async, [&] {
    b_asked = std::chrono::steady_clock::now().time_since_epoch().count();
    return db.Read([](Connection& c) { return c.Query("SELECT 1").status(); });
  });
  // b cannot have its connection before a gives it back.
  EXPECT_EQ(b.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout);
  const auto released_at = std::chrono::steady_clock::now();
  release.set_value();
  EXPECT_OK(a.get());
  EXPECT_OK(b.get());
  const std::chrono::steady_clock::time_point asked{
      std::chrono::steady_clock::duration(b_asked.load())};
  const double b_waited_at_least =
      std::chrono::duration<double, std::micro>(released_at - asked).count();
  ASSERT_GT(b_waited_at_least, 250'000);

  const metrics::HistogramSnapshot w = wait.Snapshot();
  const metrics::HistogramSnapshot h = hold.Snapshot();
  EXPECT_EQ(w.count, 2u);
  EXPECT_EQ(h.count, 2u);
  // In microseconds: a's wait found the idle connection, b's lasted as long as a's hold.
  EXPECT_GE(w.max, b_waited_at_least);
  EXPECT_LT(w.min, 250'000);
  EXPECT_GE(h.max, 300'000);

  // A refusal is a wait too.
  Database& small = Open(/*pool_size=*/1, /*acquire_timeout_ms=*/50, registry.get());
  EXPECT_OK(small.Write([&](Connection&) {
    EXPECT_EQ(small.Read([](Connection&) { return Status::Ok(); }).code(),
              StatusCode::kUnavailable);
    return Status::Ok();
  }));
  EXPECT_EQ(wait.Snapshot().count, 4u);
  EXPECT_GE(wait.Snapshot().max, b_waited_at_least);
}

TEST_F(PostgresDatabaseTest, NoConnectionIsTakenOnAThreadThatMustNotBlock) {
  const metrics::RegistryPtr registry = metrics::NewRegistry();
  Database& db = Open(/*pool_size=*/2, /*acquire_timeout_ms=*/2000, registry.get());
  bool ran = false;
  {
    NonBlockingAttempt attempt;
    EXPECT_EQ(db.Read([&](Connection&) {
                  ran = true;
                  return Status::Ok();
                }).code(),
              StatusCode::kUnavailable);
    EXPECT_EQ(db.Write([&](Connection&) {
                  ran = true;
                  return Status::Ok();
                }).code(),
              StatusCode::kUnavailable);
    EXPECT_TRUE(attempt.refused());
  }
  EXPECT_FALSE(ran);
  EXPECT_EQ(registry->GetHistogram("hasivu_db_pool_wait_seconds", "").Snapshot().count, 0u);
  EXPECT_OK(db.Read([&](Connection& c) { return c.Query("SELECT 1").status(); }));
}

TEST_F(PostgresDatabaseTest, AcquireTimeoutIsUnavailable) {
  Database& db = Open(/*pool_size=*/2, /*acquire_timeout_ms=*/200);
  std::latch entered(2);
  std::promise<void> release;
  std::shared_future<void> r = release.get_future().share();
  std::vector<std::future<Status>> holders;
  for (int i = 0; i < 2; ++i) {
    holders.push_back(std::async(std::launch::async, [&db, &entered, r] {
      return db.Read([&](Connection&) {
        entered.count_down();
        r.wait();
        return Status::Ok();
      });
    }));
  }
  entered.wait();
  bool ran = false;
  Status third = db.Read([&](Connection&) {
    ran = true;
    return Status::Ok();
  });
  EXPECT_EQ(third.code(), StatusCode::kUnavailable) << third.ToString();
  EXPECT_FALSE(ran);
  EXPECT_EQ(db.Write([](Connection&) { return Status::Ok(); }).code(), StatusCode::kUnavailable);
  release.set_value();
  for (auto& h : holders) EXPECT_OK(h.get());
  EXPECT_OK(db.Ping());
}

// Documented behaviour: a connection the server closed while idle is replaced when lent, so the
// next call succeeds.
TEST_F(PostgresDatabaseTest, IdleConnectionTerminatedByServerIsReplaced) {
  Database& db = Open(/*pool_size=*/1);
  int64_t pid1 = -1;
  ASSERT_OK(db.Read([&](Connection& c) {
    pid1 = BackendPid(c);
    return Status::Ok();
  }));
  ASSERT_GT(pid1, 0);
  TerminateBackend(pid1);

  int64_t pid2 = -1;
  ASSERT_OK(db.Read([&](Connection& c) {
    pid2 = BackendPid(c);
    return Status::Ok();
  }));
  EXPECT_GT(pid2, 0);
  EXPECT_NE(pid2, pid1);

  TerminateBackend(pid2);
  ASSERT_OK(db.Write([&](Connection& c) { return c.Query("SELECT 1").status(); }));
  EXPECT_OK(db.Ping());
}

// Documented behaviour: a connection that breaks during a call fails that call with kUnavailable
// and is replaced for the next one.
TEST_F(PostgresDatabaseTest, ConnectionBrokenDuringCallFailsOnceThenRecovers) {
  Database& db = Open(/*pool_size=*/1);
  int64_t pid1 = -1;
  Status s = db.Read([&](Connection& c) {
    pid1 = BackendPid(c);
    TerminateBackend(pid1);
    return c.Query("SELECT 1").status();
  });
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_EQ(db.Stats().in_use, 0);

  int64_t pid2 = -1;
  ASSERT_OK(db.Read([&](Connection& c) {
    pid2 = BackendPid(c);
    return Status::Ok();
  }));
  EXPECT_NE(pid2, pid1);
}

// Documented behaviour: a round trip that has no answer by the thread's request deadline fails
// the call with kUnavailable instead of waiting (a black-holed server would hold it for good),
// and the connection it was on, whose stream is now unknown, is replaced.
TEST_F(PostgresDatabaseTest, NoAnswerByTheRequestDeadlineIsUnavailableAndTheConnectionReplaced) {
  Database& db = Open(/*pool_size=*/1);
  int64_t pid1 = -1;
  ASSERT_OK(db.Read([&](Connection& c) {
    pid1 = BackendPid(c);
    return Status::Ok();
  }));
  Status late;
  {
    ScopedDeadline deadline(std::chrono::steady_clock::now() + std::chrono::milliseconds(300));
    late = db.Read([](Connection& c) { return c.Query("SELECT pg_sleep(3)").status(); });
  }
  EXPECT_EQ(late.code(), StatusCode::kUnavailable) << late.ToString();
  EXPECT_EQ(db.Stats().in_use, 0);
  int64_t pid2 = -1;
  ASSERT_OK(db.Read([&](Connection& c) {
    pid2 = BackendPid(c);
    return Status::Ok();
  }));
  EXPECT_GT(pid2, 0);
  EXPECT_NE(pid2, pid1);
}

// Documented behaviour: with the deadline already past nothing is sent (the callback of a Write
// never runs), and the connection, untouched, stays in the pool.
TEST_F(PostgresDatabaseTest, ADeadlineAlreadyPastSendsNothingAndKeepsTheConnection) {
  Database& db = Open(/*pool_size=*/1);
  int64_t pid1 = -1;
  ASSERT_OK(db.Read([&](Connection& c) {
    pid1 = BackendPid(c);
    return Status::Ok();
  }));
  bool ran = false;
  Status s;
  {
    ScopedDeadline deadline(std::chrono::steady_clock::now() - std::chrono::milliseconds(1));
    s = db.Write([&](Connection&) {
      ran = true;
      return Status::Ok();
    });
  }
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_FALSE(ran);
  int64_t pid2 = -1;
  ASSERT_OK(db.Read([&](Connection& c) {
    pid2 = BackendPid(c);
    return Status::Ok();
  }));
  EXPECT_EQ(pid2, pid1);
}

// Documented behaviour: the wait for a pooled connection ends at the request deadline when that
// comes before the acquire timeout.
TEST_F(PostgresDatabaseTest, TheWaitForAConnectionEndsAtTheRequestDeadline) {
  Database& db = Open(/*pool_size=*/1, /*acquire_timeout_ms=*/20000);
  std::latch entered(1);
  // The holder lets go after 3 s by itself: a waiter without the deadline would get the
  // connection then and succeed.
  std::future<Status> holder = std::async(std::launch::async, [&db, &entered] {
    return db.Read([&](Connection&) {
      entered.count_down();
      std::this_thread::sleep_for(std::chrono::seconds(3));
      return Status::Ok();
    });
  });
  entered.wait();
  bool ran = false;
  Status waiter;
  {
    ScopedDeadline deadline(std::chrono::steady_clock::now() + std::chrono::milliseconds(150));
    waiter = db.Read([&](Connection&) {
      ran = true;
      return Status::Ok();
    });
  }
  EXPECT_EQ(waiter.code(), StatusCode::kUnavailable) << waiter.ToString();
  EXPECT_FALSE(ran);
  EXPECT_OK(holder.get());
  EXPECT_OK(db.Ping());
}

TEST_F(PostgresDatabaseTest, ResultsFollowTheTextContract) {
  Database& db = Open();
  StatusOr<ResultSet> r = ReadQuery(
      db,
      "SELECT true AS yes, false AS no, "
      "CAST('2026-11-27 18:55:21.123+05:30' AS timestamptz) AS at, "
      "CAST('2026-11-27 13:25:21' AS timestamp) AS local_at, "
      "CAST('2026-11-27' AS date) AS day, "
      "CAST('A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11' AS uuid) AS id, "
      "CAST(NULL AS text) AS nothing, CAST(NULL AS boolean) AS no_flag, "
      "CAST(9223372036854775807 AS bigint) AS big, CAST(12.5 AS numeric(10, 2)) AS money");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->rows.size(), 1u);
  const Row& row = r->rows[0];
  EXPECT_EQ(r->columns, (std::vector<std::string>{"yes", "no", "at", "local_at", "day", "id",
                                                  "nothing", "no_flag", "big", "money"}));
  EXPECT_EQ(row.Text(0), "1");
  EXPECT_EQ(row.Text(1), "0");
  EXPECT_EQ(row.Text(2), "2026-11-27T13:25:21.123000Z");
  EXPECT_EQ(row.Text(3), "2026-11-27T13:25:21.000000Z");
  EXPECT_EQ(row.Text(4), "2026-11-27");
  EXPECT_EQ(row.Text(5), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  EXPECT_TRUE(row.IsNull(6));
  EXPECT_TRUE(row.IsNull(7));
  EXPECT_EQ(row.Int(8), 9223372036854775807);
  EXPECT_EQ(row.Text(9), "12.50");
}

TEST_F(PostgresDatabaseTest, ParametersRoundTrip) {
  Database& db = Open();
  ASSERT_OK(db.Write([](Connection& c) {
    return c.ExecScript(
        "CREATE TABLE typed (id bigint PRIMARY KEY, flag boolean, at timestamptz, day date, "
        "uid uuid, note text, score double precision)");
  }));
  StatusOr<ResultSet> ins =
      Run(db, "INSERT INTO typed VALUES ($1, $2, $3, $4, $5, $6, $7)",
          {int64_t{-5}, true, std::string("2026-11-27T13:25:21.123456Z"), std::string("2026-02-28"),
           std::string("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"), Value{}, 0.1});
  ASSERT_TRUE(ins.ok()) << ins.status().ToString();
  EXPECT_EQ(ins->rows_affected, 1);
  ASSERT_TRUE(
      Run(db, "INSERT INTO typed (id, flag, note) VALUES (1, false, 'x'), (2, false, 'y')").ok());

  StatusOr<ResultSet> r = ReadQuery(db, "SELECT * FROM typed WHERE id = $1", {int64_t{-5}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->rows.size(), 1u);
  const Row& row = r->rows[0];
  EXPECT_EQ(row.Int(0), -5);
  EXPECT_TRUE(row.Bool(1));
  EXPECT_EQ(row.Text(1), "1");
  EXPECT_EQ(row.Text(2), "2026-11-27T13:25:21.123456Z");
  EXPECT_EQ(row.Text(3), "2026-02-28");
  EXPECT_EQ(row.Text(4), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  EXPECT_TRUE(row.IsNull(5));
  EXPECT_EQ(row.Double(6), 0.1);

  StatusOr<ResultSet> upd = Run(db, "UPDATE typed SET note = $1", {std::string("z")});
  ASSERT_TRUE(upd.ok()) << upd.status().ToString();
  EXPECT_EQ(upd->rows_affected, 3);
  StatusOr<ResultSet> del = Run(db, "DELETE FROM typed WHERE flag = $1", {false});
  ASSERT_TRUE(del.ok()) << del.status().ToString();
  EXPECT_EQ(del->rows_affected, 2);
}

TEST_F(PostgresDatabaseTest, SqlStatesMapToStatusCodes) {
  Database& db = Open(/*pool_size=*/1);
  ASSERT_OK(db.Write([](Connection& c) {
    return c.ExecScript(
        "CREATE TABLE parent (id bigint PRIMARY KEY, email text NOT NULL UNIQUE);"
        "CREATE TABLE child (id bigint PRIMARY KEY, parent_id bigint NOT NULL REFERENCES parent);"
        "INSERT INTO parent VALUES (1, 'a@example.com');");
  }));
  const std::string insert_parent = "INSERT INTO parent (id, email) VALUES ($1, $2)";
  StatusOr<ResultSet> dup = Run(db, insert_parent, {int64_t{2}, std::string("a@example.com")});
  EXPECT_EQ(dup.status().code(), StatusCode::kAlreadyExists) << dup.status().ToString();
  EXPECT_NE(dup.status().message().find("parent_email_key"), std::string::npos);

  StatusOr<ResultSet> fk = Run(db, "INSERT INTO child VALUES ($1, $2)", {int64_t{1}, int64_t{99}});
  EXPECT_EQ(fk.status().code(), StatusCode::kFailedPrecondition) << fk.status().ToString();

  StatusOr<ResultSet> not_null = Run(db, insert_parent, {int64_t{3}, Value{}});
  EXPECT_EQ(not_null.status().code(), StatusCode::kFailedPrecondition);

  StatusOr<ResultSet> uuid = ReadQuery(db, "SELECT CAST($1 AS uuid)", {std::string("not-a-uuid")});
  EXPECT_EQ(uuid.status().code(), StatusCode::kInvalidArgument) << uuid.status().ToString();

  StatusOr<ResultSet> bad_int = ReadQuery(db, "SELECT CAST($1 AS bigint)", {std::string("12x")});
  EXPECT_EQ(bad_int.status().code(), StatusCode::kInvalidArgument);

  StatusOr<ResultSet> nul = ReadQuery(db, "SELECT CAST($1 AS text)", {std::string("a\0b", 3)});
  EXPECT_EQ(nul.status().code(), StatusCode::kInvalidArgument);

  StatusOr<ResultSet> syntax = ReadQuery(db, "SELEC 1");
  EXPECT_EQ(syntax.status().code(), StatusCode::kInternal);
  StatusOr<ResultSet> missing = ReadQuery(db, "SELECT * FROM no_such_table");
  EXPECT_EQ(missing.status().code(), StatusCode::kInternal);
  StatusOr<ResultSet> arity = ReadQuery(db, "SELECT CAST($1 AS bigint)", {});
  EXPECT_FALSE(arity.ok());

  // None of this poisoned the single pooled connection.
  StatusOr<ResultSet> ok = ReadQuery(db, "SELECT count(*) FROM parent");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->rows[0].Int(0), 1);
}

TEST_F(PostgresDatabaseTest, WriteCommitsOrRollsBack) {
  Database& db = Open(/*pool_size=*/1);
  ASSERT_OK(db.Write(
      [](Connection& c) { return c.ExecScript("CREATE TABLE t (id bigint PRIMARY KEY)"); }));
  const std::string insert = "INSERT INTO t VALUES ($1)";
  ASSERT_OK(db.Write([&](Connection& c) {
    RETURN_IF_ERROR(c.Query(insert, std::vector<Value>{int64_t{1}}).status());
    return c.Query(insert, std::vector<Value>{int64_t{2}}).status();
  }));

  Status aborted = db.Write([&](Connection& c) {
    RETURN_IF_ERROR(c.Query(insert, std::vector<Value>{int64_t{3}}).status());
    return AbortedError("changed my mind");
  });
  EXPECT_EQ(aborted, AbortedError("changed my mind"));

  Status dup = db.Write([&](Connection& c) {
    RETURN_IF_ERROR(c.Query(insert, std::vector<Value>{int64_t{4}}).status());
    return c.Query(insert, std::vector<Value>{int64_t{1}}).status();
  });
  EXPECT_EQ(dup.code(), StatusCode::kAlreadyExists);

  // A failed statement aborts the transaction even if the callback ignores it.
  Status swallowed = db.Write([&](Connection& c) {
    RETURN_IF_ERROR(c.Query(insert, std::vector<Value>{int64_t{5}}).status());
    (void)c.Query(insert, std::vector<Value>{int64_t{1}});
    return Status::Ok();
  });
  EXPECT_EQ(swallowed.code(), StatusCode::kInternal) << swallowed.ToString();

  // A Read that leaves a transaction open does not hand it to the next caller.
  ASSERT_OK(db.Read([&](Connection& c) {
    RETURN_IF_ERROR(c.ExecScript("BEGIN"));
    return c.Query(insert, std::vector<Value>{int64_t{6}}).status();
  }));

  StatusOr<ResultSet> r = ReadQuery(db, "SELECT id FROM t ORDER BY id");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->rows.size(), 2u);
  EXPECT_EQ(r->rows[0].Int(0), 1);
  EXPECT_EQ(r->rows[1].Int(0), 2);
}

TEST_F(PostgresDatabaseTest, ConcurrentWritersAllCommit) {
  Database& db = Open(/*pool_size=*/4);
  ASSERT_OK(db.Write([](Connection& c) {
    return c.ExecScript(
        "CREATE TABLE counter (id int PRIMARY KEY, v bigint); "
        "INSERT INTO counter VALUES (1, 0)");
  }));
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        Status s = db.Write([](Connection& c) {
          return c.Query("UPDATE counter SET v = v + 1 WHERE id = 1").status();
        });
        if (!s.ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  StatusOr<ResultSet> r = ReadQuery(db, "SELECT v FROM counter");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rows[0].Int(0), 200);
  EXPECT_LE(BackendsOfThisTest(), 4);
}

TEST_F(PostgresDatabaseTest, PreparedStatementsAreReused) {
  Database& db = Open(/*pool_size=*/1);
  const std::string sql = "SELECT CAST($1 AS bigint) + 1";
  for (int64_t i = 0; i < 1000; ++i) {
    StatusOr<ResultSet> r = ReadQuery(db, sql, {i});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->rows[0].Int(0), i + 1);
  }
  StatusOr<ResultSet> r =
      ReadQuery(db, "SELECT count(*) FROM pg_prepared_statements WHERE statement = $1", {sql});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->rows[0].Int(0), 1);
  StatusOr<ResultSet> all = ReadQuery(db, "SELECT count(*) FROM pg_prepared_statements");
  ASSERT_TRUE(all.ok());
  EXPECT_LE(all->rows[0].Int(0), 3);  // the statements of this test only
}

TEST_F(PostgresDatabaseTest, BulkLoadRoundTripsAwkwardText) {
  Database& db = Open();
  ASSERT_OK(db.Write([](Connection& c) {
    return c.ExecScript(
        "CREATE TABLE bulk (id bigint PRIMARY KEY, s text, n bigint, f double precision, "
        "b boolean); CREATE TABLE other (k text PRIMARY KEY)");
  }));
  const std::vector<std::optional<std::string>> texts = {
      "tab\there", "new\nline", "back\\slash", "\\N",   "\\.",  "crlf\r\n",
      "नमस्ते ☕ 🍛",  "",          std::nullopt,  "a\\tb", "end\\"};
  {
    StatusOr<std::unique_ptr<BulkLoader>> loader = db.NewBulkLoader();
    ASSERT_TRUE(loader.ok()) << loader.status().ToString();
    ASSERT_OK((*loader)->Begin("bulk", {"id", "s", "n", "f", "b"}));
    for (size_t i = 0; i < texts.size(); ++i) {
      std::vector<Value> row = {int64_t(i), texts[i] ? Value(*texts[i]) : Value{},
                                int64_t{-42} * int64_t(i), 0.1 * double(i), i % 2 == 0};
      ASSERT_OK((*loader)->Append(row));
    }
    ASSERT_OK((*loader)->Begin("other", {"k"}));
    ASSERT_OK((*loader)->Append(std::vector<Value>{std::string("k1")}));
    ASSERT_OK((*loader)->Finish());
  }
  StatusOr<ResultSet> r = ReadQuery(db, "SELECT id, s, n, f, b FROM bulk ORDER BY id");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->rows.size(), texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    const Row& row = r->rows[i];
    EXPECT_EQ(row.OptText(1), texts[i]) << "row " << i;
    EXPECT_EQ(row.Int(2), -42 * int64_t(i));
    EXPECT_EQ(row.Double(3), 0.1 * double(i));
    EXPECT_EQ(row.Text(4), i % 2 == 0 ? "1" : "0");
  }
  StatusOr<ResultSet> o = ReadQuery(db, "SELECT k FROM other");
  ASSERT_TRUE(o.ok());
  ASSERT_EQ(o->rows.size(), 1u);
  EXPECT_EQ(o->rows[0].Text(0), "k1");
}

TEST_F(PostgresDatabaseTest, BulkLoadLargerThanOneChunk) {
  Database& db = Open();
  ASSERT_OK(db.Write([](Connection& c) {
    return c.ExecScript("CREATE TABLE big (id bigint PRIMARY KEY, payload text)");
  }));
  constexpr int64_t kRows = 30000;  // ~3 MiB of COPY data, several 1 MiB chunks
  const std::string payload(100, 'x');
  StatusOr<std::unique_ptr<BulkLoader>> loader = db.NewBulkLoader();
  ASSERT_TRUE(loader.ok()) << loader.status().ToString();
  ASSERT_OK((*loader)->Begin("big", {"id", "payload"}));
  for (int64_t i = 0; i < kRows; ++i) {
    ASSERT_OK((*loader)->Append(std::vector<Value>{i, payload + "\t" + std::to_string(i)}));
  }
  ASSERT_OK((*loader)->Finish());
  StatusOr<ResultSet> r =
      ReadQuery(db, "SELECT count(*), sum(id), max(length(payload)) FROM big WHERE payload LIKE $1",
                {payload + "\t%"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->rows[0].Int(0), kRows);
  EXPECT_EQ(r->rows[0].Int(1), kRows * (kRows - 1) / 2);
  EXPECT_EQ(r->rows[0].Int(2), 106);
}

TEST_F(PostgresDatabaseTest, BulkLoadErrors) {
  Database& db = Open();
  ASSERT_OK(db.Write([](Connection& c) {
    return c.ExecScript("CREATE TABLE nums (id bigint PRIMARY KEY, note text)");
  }));
  {
    StatusOr<std::unique_ptr<BulkLoader>> loader = db.NewBulkLoader();
    ASSERT_TRUE(loader.ok()) << loader.status().ToString();
    EXPECT_EQ(db.NewBulkLoader().status().code(), StatusCode::kFailedPrecondition);
    EXPECT_EQ((*loader)->Append(std::vector<Value>{int64_t{1}}).code(),
              StatusCode::kFailedPrecondition);
    EXPECT_EQ((*loader)->Begin("nums; DROP TABLE nums", {"id"}).code(),
              StatusCode::kInvalidArgument);
    EXPECT_EQ((*loader)->Begin("nums", {"id", "note\""}).code(), StatusCode::kInvalidArgument);
    ASSERT_OK((*loader)->Begin("nums", {"id", "note"}));
    // A refused row leaves the rest of the load intact.
    EXPECT_EQ((*loader)->Append(std::vector<Value>{int64_t{1}, std::string("a\0b", 3)}).code(),
              StatusCode::kInvalidArgument);
    EXPECT_EQ((*loader)->Append(std::vector<Value>{int64_t{1}}).code(),
              StatusCode::kInvalidArgument);
    ASSERT_OK((*loader)->Append(std::vector<Value>{int64_t{2}, std::string("ok")}));
    ASSERT_OK((*loader)->Finish());
  }
  {
    // Server-side rejection (text into bigint): nothing of this load is committed.
    StatusOr<std::unique_ptr<BulkLoader>> loader = db.NewBulkLoader();
    ASSERT_TRUE(loader.ok()) << loader.status().ToString();
    ASSERT_OK((*loader)->Begin("nums", {"id", "note"}));
    ASSERT_OK((*loader)->Append(std::vector<Value>{int64_t{3}, std::string("fine")}));
    ASSERT_OK((*loader)->Begin("nums", {"note", "id"}));
    ASSERT_OK((*loader)->Append(std::vector<Value>{std::string("x"), std::string("abc")}));
    Status s = (*loader)->Finish();
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
    EXPECT_EQ((*loader)->Finish().code(), StatusCode::kInvalidArgument);  // sticky
  }
  {
    // Dropped without Finish: discarded.
    StatusOr<std::unique_ptr<BulkLoader>> loader = db.NewBulkLoader();
    ASSERT_TRUE(loader.ok()) << loader.status().ToString();
    ASSERT_OK((*loader)->Begin("nums", {"id", "note"}));
    ASSERT_OK((*loader)->Append(std::vector<Value>{int64_t{4}, std::string("lost")}));
  }
  StatusOr<ResultSet> r = ReadQuery(db, "SELECT id, note FROM nums ORDER BY id");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->rows.size(), 1u);
  EXPECT_EQ(r->rows[0].Int(0), 2);
  EXPECT_EQ(r->rows[0].Text(1), "ok");
}

TEST_F(PostgresDatabaseTest, ExecScriptRunsSeveralStatementsAndReportsErrors) {
  Database& db = Open();
  ASSERT_OK(db.Write([](Connection& c) {
    return c.ExecScript(
        "CREATE TABLE s1 (id int); CREATE TABLE IF NOT EXISTS s1 (id int);"
        "INSERT INTO s1 VALUES (1), (2);");
  }));
  Status bad = db.Write([](Connection& c) {
    return c.ExecScript("INSERT INTO s1 VALUES (3); INSERT INTO s1 VALUES ('three');");
  });
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument) << bad.ToString();
  StatusOr<ResultSet> r = ReadQuery(db, "SELECT count(*) FROM s1");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rows[0].Int(0), 2);
  EXPECT_EQ(db.dialect(), Dialect::kPostgresql);
}

}  // namespace
}  // namespace hasivu::store::postgres
