# Payments slice: the gateway library (src/payments, beside store/ below domain/) until the top
# CMakeLists adds it itself, the payment service, and its tests.
if(NOT TARGET hasivu_payments)
  add_subdirectory(${PROJECT_SOURCE_DIR}/src/payments ${CMAKE_BINARY_DIR}/src/payments)
endif()

target_sources(hasivu_domain PRIVATE ${CMAKE_CURRENT_LIST_DIR}/payment_service.cc)
target_link_libraries(hasivu_domain PUBLIC hasivu_payments spdlog::spdlog)

# The service suite against SQLite (unit) and PostgreSQL (postgres; needs
# HASIVU_TEST_POSTGRES_URL, see scripts/services.sh).
hasivu_cc_test(
  NAME payment_service_test
  SRCS payment_service_test.cc ${PROJECT_SOURCE_DIR}/src/store/testing/sqlite_test_backend.cc
  DEPS hasivu_domain hasivu_store_backends)
hasivu_cc_test(
  NAME payment_service_pgtest
  SRCS payment_service_test.cc ${PROJECT_SOURCE_DIR}/src/store/testing/postgres_test_backend.cc
  DEPS hasivu_domain hasivu_store_backends
  LABELS postgres)
