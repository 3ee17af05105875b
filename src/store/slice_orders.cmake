# Orders and menus slice: repositories of menus-daily, orders-* and the Idempotency-Key store.
target_sources(hasivu_store PRIVATE ${CMAKE_CURRENT_LIST_DIR}/menus_repo.cc
                                    ${CMAKE_CURRENT_LIST_DIR}/orders_repo.cc
                                    ${CMAKE_CURRENT_LIST_DIR}/idempotency_repo.cc)
