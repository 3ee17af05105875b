# Orders and menus slice: services of menus-daily and orders-*, Idempotency-Key handling.
target_sources(hasivu_domain PRIVATE ${CMAKE_CURRENT_LIST_DIR}/menu_service.cc
                                     ${CMAKE_CURRENT_LIST_DIR}/order_service.cc
                                     ${CMAKE_CURRENT_LIST_DIR}/idempotency.cc)

hasivu_cc_test(
  NAME order_service_test
  SRCS ${CMAKE_CURRENT_LIST_DIR}/order_service_test.cc
  DEPS hasivu_domain)
