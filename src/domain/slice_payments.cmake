# Payments slice: the gateway library (src/payments, beside store/ below domain/) until the top
# CMakeLists adds it itself, the payment service, and its tests.
if(NOT TARGET hasivu_payments)
  add_subdirectory(${PROJECT_SOURCE_DIR}/src/payments ${CMAKE_BINARY_DIR}/src/payments)
endif()
