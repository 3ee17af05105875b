# Auth and users slice: the bearer authenticator and the generic read helpers (fields=, ETag).
target_sources(hasivu_api PRIVATE ${CMAKE_CURRENT_LIST_DIR}/auth.cc
                                  ${CMAKE_CURRENT_LIST_DIR}/read_helpers.cc)
target_link_libraries(hasivu_api PUBLIC OpenSSL::Crypto)

# The black-box auth tests (tests/integration/auth_api_test.cc) sign their own tokens with the
# server's secret (expired, alg none, re-signed). Those targets are created later in the
# configure run, so the link is added once the whole project has been read.
function(hasivu_auth_link_api_tests)
  foreach(test_target auth_api_test auth_api_pgtest)
    if(TARGET ${test_target})
      target_link_libraries(${test_target} PRIVATE OpenSSL::Crypto)
    endif()
  endforeach()
endfunction()
cmake_language(DEFER DIRECTORY ${PROJECT_SOURCE_DIR} CALL hasivu_auth_link_api_tests)

hasivu_cc_test(
  NAME read_helpers_test
  SRCS read_helpers_test.cc
  DEPS hasivu_api Boost::json)
