# Auth and users slice: token service, throttle, session cache, auth and user services.
target_sources(
  hasivu_domain
  PRIVATE ${CMAKE_CURRENT_LIST_DIR}/token_service.cc ${CMAKE_CURRENT_LIST_DIR}/auth_validation.cc
          ${CMAKE_CURRENT_LIST_DIR}/auth_session_cache.cc ${CMAKE_CURRENT_LIST_DIR}/login_throttle.cc
          ${CMAKE_CURRENT_LIST_DIR}/auth_service.cc ${CMAKE_CURRENT_LIST_DIR}/user_service.cc)
target_link_libraries(hasivu_domain PUBLIC OpenSSL::Crypto spdlog::spdlog)
