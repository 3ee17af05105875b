// The behavioural suite every Cache must pass (memory, Redis, tiered). A test binary
// instantiates it with factories:
//   INSTANTIATE_TEST_SUITE_P(Memory, CacheSuite, ::testing::Values(CacheFactory{"memory", ...}));
#ifndef HASIVU_CACHE_TESTING_CACHE_SUITE_H_
#define HASIVU_CACHE_TESTING_CACHE_SUITE_H_

#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "cache/cache.h"

namespace hasivu::cache::testing {

struct CacheFactory {
  std::string name;
  // Called once per test; `prefix` is unique per test (a namespace for shared backends).
  std::function<CachePtr(const std::string& prefix)> make;
  // Makes a second, independent client of the same shared store (another "process"); empty
  // for in-process caches.
  std::function<CachePtr(const std::string& prefix)> make_peer;
  // Removes what a test left under `prefix` in a shared store (optional).
  std::function<void(const std::string& prefix)> cleanup;
  // Why make() may return nullptr (the test is then skipped), e.g. "HASIVU_TEST_REDIS_URL unset".
  std::string skip_reason;
};

class CacheSuite : public ::testing::TestWithParam<CacheFactory> {
 protected:
  void SetUp() override;
  void TearDown() override;
  std::string prefix_;
  CachePtr cache_;
};

std::string FactoryName(const ::testing::TestParamInfo<CacheFactory>& info);

}  // namespace hasivu::cache::testing

#endif  // HASIVU_CACHE_TESTING_CACHE_SUITE_H_
