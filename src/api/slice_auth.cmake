# Auth and users slice: the bearer authenticator and the generic read helpers (fields=, ETag).
target_sources(hasivu_api PRIVATE ${CMAKE_CURRENT_LIST_DIR}/auth.cc
                                  ${CMAKE_CURRENT_LIST_DIR}/read_helpers.cc)
target_link_libraries(hasivu_api PUBLIC OpenSSL::Crypto)

hasivu_cc_test(
  NAME read_helpers_test
  SRCS read_helpers_test.cc
  DEPS hasivu_api Boost::json)

# Client addresses behind trusted reverse proxies (issue 19).
target_sources(hasivu_api PRIVATE ${CMAKE_CURRENT_LIST_DIR}/client_address.cc)
hasivu_cc_test(
  NAME client_address_test
  SRCS client_address_test.cc
  DEPS hasivu_api)
