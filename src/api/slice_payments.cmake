# Payments slice: payments_routes.cc is already part of hasivu_api; it builds the gateway.
target_link_libraries(hasivu_api PUBLIC hasivu_payments)

# The black-box payment tests run a Razorpay stand-in inside the test process. Their targets are
# made later (tests/integration), so the link is added once the whole tree is configured.
function(hasivu_payments_link_api_tests)
  foreach(t payments_api_test payments_api_pgtest)
    if(TARGET ${t})
      target_link_libraries(${t} PRIVATE hasivu_payments_testing)
    endif()
  endforeach()
endfunction()
cmake_language(DEFER DIRECTORY ${PROJECT_SOURCE_DIR} CALL hasivu_payments_link_api_tests)
