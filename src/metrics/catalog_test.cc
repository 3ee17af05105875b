#include "metrics/catalog.h"
#include <gtest/gtest.h>
#include <set>
#include <string>
namespace hasivu::metrics::catalog {
namespace {
TEST(CatalogTest, NamesAreUniqueAndDimensionsPacked) {
  std::set<std::string_view> names;
  for (const MetricDef& m : kAll) {
    EXPECT_TRUE(names.insert(m.name).second) << m.name;
    bool ended = false;
    for (std::string_view d : m.dimensions) {
      if (d.empty())
        ended = true;
      else
        EXPECT_FALSE(ended) << m.name << ": a dimension after an empty slot";
    }
  }
}
}  // namespace
}  // namespace hasivu::metrics::catalog
