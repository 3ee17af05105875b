# Payments slice: SQL of payment orders, gateway payments and the rows a payment changes.
target_sources(hasivu_store PRIVATE ${CMAKE_CURRENT_LIST_DIR}/payments_repo.cc)
