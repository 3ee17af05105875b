# Payments slice: the gateway library (src/payments, beside store/ below domain/) until the top
# CMakeLists adds it itself, the payment service, and its tests.
if(NOT TARGET hasivu_payments)
  add_subdirectory(${PROJECT_SOURCE_DIR}/src/payments ${CMAKE_BINARY_DIR}/src/payments)
endif()

target_sources(hasivu_domain PRIVATE ${CMAKE_CURRENT_LIST_DIR}/payment_service.cc)
target_link_libraries(hasivu_domain PUBLIC hasivu_payments)
