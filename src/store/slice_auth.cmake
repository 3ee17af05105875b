# Auth and users slice: users and session repositories.
target_sources(hasivu_store PRIVATE ${CMAKE_CURRENT_LIST_DIR}/users_repo.cc
                                    ${CMAKE_CURRENT_LIST_DIR}/sessions_repo.cc)
