# rfid-verify-card (rfid_service.h) and the monitoring dashboard (monitoring_service.h).
target_sources(hasivu_domain PRIVATE ${CMAKE_CURRENT_LIST_DIR}/rfid_service.cc)
target_sources(hasivu_domain PRIVATE ${CMAKE_CURRENT_LIST_DIR}/monitoring_service.cc)
target_link_libraries(hasivu_domain PUBLIC hasivu_metrics)
