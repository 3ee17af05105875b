# Every <resource>_api_test.cc here becomes two black-box test binaries against the real server:
# <resource>_api_test (SQLite, label integration) and <resource>_api_pgtest (PostgreSQL, label
# postgres; needs HASIVU_TEST_POSTGRES_URL).
file(GLOB HASIVU_API_TEST_FILES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*_api_test.cc)
foreach(test_file ${HASIVU_API_TEST_FILES})
  get_filename_component(test_name ${test_file} NAME_WE)
  string(REGEX REPLACE "_api_test$" "_api_pgtest" pg_name ${test_name})
  foreach(variant ${test_name} ${pg_name})
    if(variant STREQUAL pg_name)
      set(labels postgres)
      set(fixture hasivu_it_api_postgres)
    else()
      set(labels integration)
      set(fixture hasivu_it_api_sqlite)
    endif()
    hasivu_cc_test(
      NAME ${variant}
      SRCS ${test_file}
      DEPS ${fixture} Boost::json OpenSSL::Crypto Threads::Threads
      LABELS ${labels}
      TIMEOUT 900)
    if(TARGET ${variant})
      add_dependencies(${variant} hasivu)
      set_property(TEST ${variant} APPEND PROPERTY ENVIRONMENT "HASIVU_BINARY=$<TARGET_FILE:hasivu>")
    endif()
  endforeach()
endforeach()
