# rfid-verify-card: card, reader and delivery SQL (rfid_repo.h).
target_sources(hasivu_store PRIVATE ${CMAKE_CURRENT_LIST_DIR}/rfid_repo.cc)
