#include "store/postgres/postgres_database.h"

#include <dlfcn.h>

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "store/postgres/libpq_loader.h"

namespace hasivu::store::postgres {
namespace {

// libpq comes in at the first PostgreSQL store, by dlopen, with every function the backend calls;
// the functions are libpq's own (a client library version check answers through them).
TEST(LibpqLoaderTest, LoadsLibpqOnDemandWithEveryFunction) {
  ASSERT_TRUE(pq::Load().ok()) << pq::Load().ToString();
  EXPECT_TRUE(pq::Load().ok());  // once, then the same answer
  const pq::Functions& f = pq::Loaded();
#define HASIVU_EXPECT_FOUND(name) EXPECT_NE(f.name, nullptr) << #name;
  HASIVU_LIBPQ_FUNCTIONS(HASIVU_EXPECT_FOUND)
#undef HASIVU_EXPECT_FOUND
  void* own = dlopen("libpq.so.5", RTLD_NOW | RTLD_NOLOAD);
  ASSERT_NE(own, nullptr) << "Load() did not leave libpq loaded";
  EXPECT_EQ(reinterpret_cast<void*>(f.PQconninfoParse), dlsym(own, "PQconninfoParse"));
  // Through the forwarders: libpq parses a URL and refuses a bad one with its own words.
  char* error = nullptr;
  PQconninfoOption* options = pq::PQconninfoParse("postgresql://u@127.0.0.1:5/db", &error);
  ASSERT_NE(options, nullptr);
  pq::PQconninfoFree(options);
  EXPECT_EQ(pq::PQconninfoParse("postgresql://[", &error), nullptr);
  ASSERT_NE(error, nullptr);
  pq::PQfreemem(error);
  dlclose(own);
}

TEST(StatusFromSqlStateTest, MapsClassesToCodes) {
  EXPECT_EQ(StatusFromSqlState("23505", "m").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(StatusFromSqlState("23503", "m").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(StatusFromSqlState("23502", "m").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(StatusFromSqlState("23514", "m").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(StatusFromSqlState("40001", "m").code(), StatusCode::kAborted);
  EXPECT_EQ(StatusFromSqlState("40P01", "m").code(), StatusCode::kAborted);
  EXPECT_EQ(StatusFromSqlState("22P02", "m").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(StatusFromSqlState("22007", "m").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(StatusFromSqlState("08006", "m").code(), StatusCode::kUnavailable);
  EXPECT_EQ(StatusFromSqlState("57P01", "m").code(), StatusCode::kUnavailable);
  EXPECT_EQ(StatusFromSqlState("53300", "m").code(), StatusCode::kUnavailable);
  EXPECT_EQ(StatusFromSqlState("57014", "m").code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(StatusFromSqlState("08P01", "m").code(), StatusCode::kInternal);
  EXPECT_EQ(StatusFromSqlState("42601", "m").code(), StatusCode::kInternal);
  EXPECT_EQ(StatusFromSqlState("", "m").code(), StatusCode::kInternal);
  EXPECT_EQ(StatusFromSqlState("2350", "m").code(), StatusCode::kInternal);
  EXPECT_EQ(StatusFromSqlState("23505", "dup key").message(), "dup key");
}

TEST(StatusFromSqlStateTest, DiskFullAndReadOnlyCarryTheirReasonButNotTheirText) {
  const Status full = StatusFromSqlState("53100", "could not extend file");
  EXPECT_EQ(full.code(), StatusCode::kUnavailable);
  EXPECT_EQ(full.reason(), "STORAGE_FULL");
  EXPECT_FALSE(full.message_is_for_client());
  EXPECT_NE(full.message().find("could not extend file"), std::string::npos);
  const Status read_only = StatusFromSqlState("25006", "cannot execute INSERT");
  EXPECT_EQ(read_only.code(), StatusCode::kUnavailable);
  EXPECT_EQ(read_only.reason(), "STORAGE_READ_ONLY");
  EXPECT_FALSE(read_only.message_is_for_client());
}

TEST(NormalizeCellTest, Booleans) {
  EXPECT_EQ(NormalizeCell(16, "t"), "1");
  EXPECT_EQ(NormalizeCell(16, "f"), "0");
}

TEST(NormalizeCellTest, TimestampsBecomeRfc3339WithMicroseconds) {
  EXPECT_EQ(NormalizeCell(1184, "2026-11-27 13:25:21.123+00"), "2026-11-27T13:25:21.123000Z");
  EXPECT_EQ(NormalizeCell(1184, "2026-11-27 13:25:21+00"), "2026-11-27T13:25:21.000000Z");
  EXPECT_EQ(NormalizeCell(1184, "2026-11-27 13:25:21.123456+00"), "2026-11-27T13:25:21.123456Z");
  EXPECT_EQ(NormalizeCell(1114, "2026-11-27 13:25:21.5"), "2026-11-27T13:25:21.500000Z");
  // Another session time zone still comes out in UTC.
  EXPECT_EQ(NormalizeCell(1184, "2026-11-27 18:55:21.1+05:30"), "2026-11-27T13:25:21.100000Z");
}

TEST(NormalizeCellTest, LeavesOtherValuesAlone) {
  EXPECT_EQ(NormalizeCell(1184, "infinity"), "infinity");
  EXPECT_EQ(NormalizeCell(1114, "-infinity"), "-infinity");
  EXPECT_EQ(NormalizeCell(1082, "2026-11-27"), "2026-11-27");
  EXPECT_EQ(NormalizeCell(2950, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  EXPECT_EQ(NormalizeCell(1700, "12.50"), "12.50");
  EXPECT_EQ(NormalizeCell(25, "t"), "t");  // text, not boolean
}

TEST(AppendCopyValueTest, EscapesTextFormat) {
  std::string out;
  ASSERT_TRUE(AppendCopyValue(std::string("a\tb\nc\\d\re"), out).ok());
  EXPECT_EQ(out, "a\\tb\\nc\\\\d\\re");
  out.clear();
  ASSERT_TRUE(AppendCopyValue(std::string("\\N"), out).ok());
  EXPECT_EQ(out, "\\\\N");  // the text "\N", not NULL
  out.clear();
  ASSERT_TRUE(AppendCopyValue(Value{}, out).ok());
  EXPECT_EQ(out, "\\N");
}

TEST(AppendCopyValueTest, Scalars) {
  std::string out;
  ASSERT_TRUE(AppendCopyValue(int64_t{-9223372036854775807 - 1}, out).ok());
  EXPECT_EQ(out, "-9223372036854775808");
  out.clear();
  ASSERT_TRUE(AppendCopyValue(true, out).ok());
  ASSERT_TRUE(AppendCopyValue(false, out).ok());
  EXPECT_EQ(out, "tf");
  out.clear();
  ASSERT_TRUE(AppendCopyValue(0.1, out).ok());
  EXPECT_EQ(std::stod(out), 0.1);
  out.clear();
  ASSERT_TRUE(AppendCopyValue(std::numeric_limits<double>::quiet_NaN(), out).ok());
  EXPECT_EQ(out, "NaN");
  out.clear();
  ASSERT_TRUE(AppendCopyValue(-std::numeric_limits<double>::infinity(), out).ok());
  EXPECT_EQ(out, "-Infinity");
}

TEST(AppendCopyValueTest, RefusesNulByte) {
  std::string out;
  Status s = AppendCopyValue(std::string("a\0b", 3), out);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
}

TEST(OpenPostgresDatabaseTest, RejectsBadSettings) {
  DatabaseSettings s;
  s.url = "mysql://x";
  EXPECT_EQ(OpenPostgresDatabase(s).status().code(), StatusCode::kInvalidArgument);
  s.url = "postgresql://127.0.0.1:1/x?nonsense_option=1";
  EXPECT_EQ(OpenPostgresDatabase(s).status().code(), StatusCode::kInvalidArgument);
  s.url = "postgresql://127.0.0.1:1/x";
  s.pool_size = 0;
  EXPECT_EQ(OpenPostgresDatabase(s).status().code(), StatusCode::kInvalidArgument);
}

TEST(OpenPostgresDatabaseTest, UnreachableServerIsUnavailable) {
  DatabaseSettings s;
  s.url = "postgresql://nobody@127.0.0.1:1/nothing";  // nothing listens on port 1
  StatusOr<DatabasePtr> db = OpenPostgresDatabase(s);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), StatusCode::kUnavailable) << db.status().ToString();
}

}  // namespace
}  // namespace hasivu::store::postgres
