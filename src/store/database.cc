#include "store/database.h"

#include <charconv>
#include <cstdlib>

namespace hasivu::store {

std::string_view DialectName(Dialect d) { return d == Dialect::kSqlite ? "sqlite" : "postgresql"; }

const std::string& Row::Text(size_t col) const {
  static const std::string kEmpty;
  return cells_[col] ? *cells_[col] : kEmpty;
}

int64_t Row::Int(size_t col) const {
  if (!cells_[col]) return 0;
  const std::string& s = *cells_[col];
  int64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

double Row::Double(size_t col) const {
  if (!cells_[col]) return 0;
  return std::strtod(cells_[col]->c_str(), nullptr);
}

bool Row::Bool(size_t col) const {
  if (!cells_[col]) return false;
  const std::string& s = *cells_[col];
  return s == "1" || s == "t" || s == "true";
}

std::optional<std::string> RowView::OptText(size_t col) const {
  if (IsNull(col)) return std::nullopt;
  return std::string(Text(col));
}

int64_t RowView::Int(size_t col) const {
  const std::string_view s = Text(col);
  int64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

namespace {

class MaterialisedRowView final : public RowView {
 public:
  explicit MaterialisedRowView(const Row& row) : row_(row) {}
  size_t size() const override { return row_.size(); }
  bool IsNull(size_t col) const override { return row_.IsNull(col); }
  std::string_view Text(size_t col) const override { return row_.Text(col); }

 private:
  const Row& row_;
};

}  // namespace

Status Connection::QueryEach(std::string_view sql, std::span<const Value> params,
                             const std::function<bool(const RowView&)>& fn) {
  ASSIGN_OR_RETURN(ResultSet rs, Query(sql, params));
  for (const Row& row : rs.rows) {
    if (!fn(MaterialisedRowView(row))) break;
  }
  return Status::Ok();
}

}  // namespace hasivu::store
