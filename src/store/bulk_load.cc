#include "store/bulk_load.h"

#include <memory>

#include "store/maintenance.h"

namespace hasivu::store {
namespace {

// Every table a repository's bulk appender writes (users_repo.h, rfid_repo.h, menus_repo.h,
// orders_repo.h, payments_repo.h). An appender of a table missing here would load into live
// secondary indexes: correct, only slower.
constexpr std::string_view kBulkTables[] = {
    "schools",     "users",          "rfid_readers",         "rfid_cards",
    "menu_items",  "daily_menus",    "menu_item_slots",      "orders",
    "order_items", "payment_orders", "payment_transactions", "delivery_verifications"};

void Put2(char* p, int v) {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
}

// "YYYY-MM-DD" into p[0..9] for years 0-9999; false for others (left to FormatDate).
bool PutDate(char* p, Date d) {
  const std::chrono::year_month_day ymd{d};
  const int y = int(ymd.year());
  if (y < 0 || y > 9999) return false;
  Put2(p, y / 100);
  Put2(p + 2, y % 100);
  p[4] = '-';
  Put2(p + 5, static_cast<int>(unsigned(ymd.month())));
  p[7] = '-';
  Put2(p + 8, static_cast<int>(unsigned(ymd.day())));
  return true;
}

}  // namespace

Status BulkWriter::StartRow(std::string_view table, std::span<const std::string_view> columns) {
  next_ = 0;
  if (table == table_) return Status::Ok();
  table_ = table;
  row_.assign(columns.size(), std::monostate{});
  return loader_.Begin(table, std::vector<std::string>(columns.begin(), columns.end()))
      .WithContext("load " + table_);
}

// Written by hand rather than with FormatRfc3339: a large load formats millions of instants and
// snprintf showed in its profiles.
BulkWriter& BulkWriter::Time(TimePoint t) {
  const auto us = std::chrono::floor<std::chrono::microseconds>(t);
  const auto day = std::chrono::floor<std::chrono::days>(us);
  char buf[27];
  if (!PutDate(buf, Date(day))) return Text(FormatRfc3339(t));
  int64_t rest = (us - day).count();
  buf[10] = 'T';
  const int64_t micros = rest % 1'000'000;
  rest /= 1'000'000;
  Put2(buf + 11, static_cast<int>(rest / 3600));
  buf[13] = ':';
  Put2(buf + 14, static_cast<int>(rest / 60 % 60));
  buf[16] = ':';
  Put2(buf + 17, static_cast<int>(rest % 60));
  buf[19] = '.';
  for (int i = 0, m = static_cast<int>(micros); i < 6; ++i, m /= 10) buf[25 - i] = '0' + m % 10;
  buf[26] = 'Z';
  return Text(std::string_view(buf, 27));
}

BulkWriter& BulkWriter::Day(Date d) {
  char buf[10];
  if (!PutDate(buf, d)) return Text(FormatDate(d));
  return Text(std::string_view(buf, 10));
}

Status BulkWriter::EndRow() {
  if (next_ != row_.size()) return InternalError("load " + table_ + ": row has wrong width");
  next_ = 0;
  Status s = loader_.Append(row_);
  if (!s.ok()) return s.WithContext("load " + table_);
  return Status::Ok();
}

Status LoadInBulk(Database& db, const std::function<Status(BulkWriter&)>& load) {
  // Secondary indexes are built once, after the load, rather than grown row by row.
  RETURN_IF_ERROR(DeferIndexes(db, kBulkTables));
  Status loaded = [&]() -> Status {
    // The loader (and its connection) must be gone before the indexes are rebuilt.
    ASSIGN_OR_RETURN(std::unique_ptr<BulkLoader> loader, db.NewBulkLoader());
    BulkWriter writer(*loader);
    RETURN_IF_ERROR(load(writer));
    return loader->Finish().WithContext("commit the load");
  }();
  // Rebuilt even after a failed load, so the database keeps its indexes.
  Status restored = RestoreDeferredIndexes(db);
  RETURN_IF_ERROR(loaded);
  RETURN_IF_ERROR(restored);
  return UpdatePlannerStatistics(db);
}

}  // namespace hasivu::store
