// The backend a store test binary runs its suites against. The suites (store_suite.cc,
// index_audit_suite.cc) are written once; each binary links one implementation of this header
// (sqlite_test_backend.cc or postgres_test_backend.cc).
#ifndef HASIVU_STORE_TESTING_TEST_BACKEND_H_
#define HASIVU_STORE_TESTING_TEST_BACKEND_H_

#include <string>

#include "common/status.h"
#include "store/database.h"

namespace hasivu::store::testing {

// A fresh, empty, isolated database (a temp file; a new PostgreSQL schema) that is removed when
// the returned object is destroyed.
class TestDatabase {
 public:
  virtual ~TestDatabase() = default;
  virtual Database& db() = 0;
  // The URL it was opened with (to open a second handle on the same data).
  virtual const std::string& url() const = 0;
};

// Creates one; the test fails (not skips) if the backend is not available.
StatusOr<std::unique_ptr<TestDatabase>> NewTestDatabase(int pool_size = 8);

}  // namespace hasivu::store::testing

#endif  // HASIVU_STORE_TESTING_TEST_BACKEND_H_
