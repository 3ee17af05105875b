// Bulk loading through the repositories: LoadInBulk() runs one load around a BulkLoader, and the
// repositories' bulk appenders (AppendSchool, AppendUser, ... in the *_repo.h headers) write their
// tables' rows through the BulkWriter it hands out. Table and column names stay in the
// repositories; callers (seeding) pass typed rows.
//
// A load runs:
//   LoadInBulk(db, [&](BulkWriter& w) -> Status {
//     RETURN_IF_ERROR(AppendSchool(w, {...}));
//     RETURN_IF_ERROR(AppendUser(w, {...}));
//     ...
//   });
// The non-unique secondary indexes of every table an appender writes are deferred before the
// load and built once after it (maintenance.h), then the planner statistics are refreshed. An
// appender of another table than the previous row's switches the loader to its table
// (BulkLoader::Begin), so rows of one table are best appended together.
//
// Not for request paths. Thread-safety: one load at a time per Database (BulkLoader); a
// BulkWriter is used by the thread running the load.
#ifndef HASIVU_STORE_BULK_LOAD_H_
#define HASIVU_STORE_BULK_LOAD_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"
#include "common/time_util.h"
#include "store/database.h"

namespace hasivu::store {

// Rows of a BulkLoader, one cell at a time, into a row buffer that is reused: string cells keep
// their capacity between rows, so appending a row does not allocate once the buffers have grown.
// Instants and dates are written straight into the cells in database.h's text forms (the same
// text as FormatRfc3339 and FormatDate).
//
// A row is StartRow(), one setter per column in the table's column order, EndRow(). The
// repositories' appenders do this; other code does not name tables.
class BulkWriter {
 public:
  explicit BulkWriter(BulkLoader& loader) : loader_(loader) {}
  BulkWriter(const BulkWriter&) = delete;
  BulkWriter& operator=(const BulkWriter&) = delete;

  // Starts a row of `table` with `columns`. If the previous row was of another table (or there
  // was none), the loader begins `table` first (flushing the previous table). Errors: the
  // loader's, with the table named.
  Status StartRow(std::string_view table, std::span<const std::string_view> columns);

  BulkWriter& Text(std::string_view s) {
    Value& v = NextCell();
    if (auto* p = std::get_if<std::string>(&v)) {
      p->assign(s);
    } else {
      v = std::string(s);
    }
    return *this;
  }
  // "" is NULL.
  BulkWriter& TextOrNull(std::string_view s) { return s.empty() ? Null() : Text(s); }
  // RFC 3339 UTC with microseconds.
  BulkWriter& Time(TimePoint t);
  BulkWriter& OptTime(const std::optional<TimePoint>& t) { return t ? Time(*t) : Null(); }
  // "YYYY-MM-DD".
  BulkWriter& Day(Date d);
  BulkWriter& Int(int64_t i) {
    NextCell() = i;
    return *this;
  }
  BulkWriter& OptInt(const std::optional<int64_t>& i) { return i ? Int(*i) : Null(); }
  BulkWriter& Bool(bool b) {
    NextCell() = b;
    return *this;
  }
  BulkWriter& Null() {
    NextCell() = std::monostate{};
    return *this;
  }

  // Appends the row. kInternal when it has another number of cells than the table's columns;
  // else the loader's errors, with the table named.
  Status EndRow();

 private:
  // The cell of the next column; past the last column a scratch cell (EndRow then fails).
  Value& NextCell() { return next_ < row_.size() ? row_[next_++] : (++next_, spill_); }

  BulkLoader& loader_;
  std::string table_;  // of the current row; "" before the first
  std::vector<Value> row_;
  size_t next_ = 0;
  Value spill_;
};

// Runs one bulk load into `db`: defers the secondary indexes of the tables the bulk appenders
// write, opens the database's loader, runs `load` with a writer over it, commits what it appended
// when `load` returns OK, closes the loader, and then (also after a failed load) rebuilds the
// deferred indexes and, after a good one, refreshes the planner statistics. Errors: `load`'s, or
// the store's; a failure midway leaves the rows already committed (SQLite commits in batches).
// SQLite needs a file database (a :memory: one cannot bulk load: kUnimplemented).
Status LoadInBulk(Database& db, const std::function<Status(BulkWriter&)>& load);

}  // namespace hasivu::store

#endif  // HASIVU_STORE_BULK_LOAD_H_
