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

}  // namespace hasivu::store
