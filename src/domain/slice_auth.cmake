# Auth and users slice: token service, throttle, session cache, auth and user services.
target_sources(
  hasivu_domain
  PRIVATE ${CMAKE_CURRENT_LIST_DIR}/token_service.cc ${CMAKE_CURRENT_LIST_DIR}/auth_validation.cc
          ${CMAKE_CURRENT_LIST_DIR}/auth_session_cache.cc ${CMAKE_CURRENT_LIST_DIR}/login_throttle.cc
          ${CMAKE_CURRENT_LIST_DIR}/auth_service.cc ${CMAKE_CURRENT_LIST_DIR}/user_service.cc)
target_link_libraries(hasivu_domain PUBLIC OpenSSL::Crypto spdlog::spdlog)

hasivu_cc_test(
  NAME token_service_test
  SRCS token_service_test.cc
  DEPS hasivu_domain Boost::json)
hasivu_cc_test(
  NAME login_throttle_test
  SRCS login_throttle_test.cc
  DEPS hasivu_domain)
hasivu_cc_test(
  NAME auth_validation_test
  SRCS auth_validation_test.cc
  DEPS hasivu_domain)
# AuthService on a real database: SQLite (unit) and PostgreSQL (postgres).
hasivu_cc_test(
  NAME auth_service_test
  SRCS auth_service_test.cc ${PROJECT_SOURCE_DIR}/src/store/testing/sqlite_test_backend.cc
  DEPS hasivu_domain hasivu_store_backends PkgConfig::LIBCRYPT)
hasivu_cc_test(
  NAME auth_service_pgtest
  SRCS auth_service_test.cc ${PROJECT_SOURCE_DIR}/src/store/testing/postgres_test_backend.cc
  DEPS hasivu_domain hasivu_store_backends PkgConfig::LIBCRYPT
  LABELS postgres)
