# rfid-verify-card (rfid_service.h) and the monitoring dashboard (monitoring_service.h).
target_sources(hasivu_domain PRIVATE ${CMAKE_CURRENT_LIST_DIR}/rfid_service.cc)
target_sources(hasivu_domain PRIVATE ${CMAKE_CURRENT_LIST_DIR}/monitoring_service.cc)
target_link_libraries(hasivu_domain PUBLIC hasivu_metrics)

hasivu_cc_test(
  NAME rfid_service_test
  SRCS rfid_service_test.cc ${PROJECT_SOURCE_DIR}/src/store/testing/sqlite_test_backend.cc
  DEPS hasivu_domain hasivu_store_backends)
hasivu_cc_test(
  NAME monitoring_service_test
  SRCS monitoring_service_test.cc ${PROJECT_SOURCE_DIR}/src/store/testing/sqlite_test_backend.cc
  DEPS hasivu_domain hasivu_store_backends)
