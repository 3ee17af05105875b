# Cache staleness through the API (issue 5). cache_api_test.cc becomes cache_api_test (SQLite,
# label integration) and cache_api_pgtest (PostgreSQL, label postgres) through
# slice_api_tests.cmake; both get the shared scenarios here. cache_api_redistest runs two
# processes on one Redis (HASIVU_TEST_REDIS_URL) and a fault test with its own redis-server
# (label redis).
foreach(cache_test cache_api_test cache_api_pgtest)
  if(TARGET ${cache_test})
    target_sources(${cache_test} PRIVATE ${CMAKE_CURRENT_LIST_DIR}/cache_scenarios.cc)
  endif()
endforeach()

hasivu_cc_test(
  NAME cache_api_redistest
  SRCS ${CMAKE_CURRENT_LIST_DIR}/cache_api_redistest.cc ${CMAKE_CURRENT_LIST_DIR}/cache_scenarios.cc
  DEPS hasivu_it_api_sqlite Boost::json OpenSSL::Crypto Threads::Threads
  LABELS redis
  TIMEOUT 600)
if(TARGET cache_api_redistest)
  add_dependencies(cache_api_redistest hasivu)
  set_property(TEST cache_api_redistest APPEND PROPERTY ENVIRONMENT
               "HASIVU_BINARY=$<TARGET_FILE:hasivu>")
endif()
