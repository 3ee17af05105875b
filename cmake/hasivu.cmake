# hasivu_cc_library(NAME SRCS ... PUBLIC_DEPS ... PRIVATE_DEPS ...): one library per folder; its
# dependencies record the layering of docs/architecture.md (a folder depends only on folders
# beneath it). List every library whose headers the folder includes, ours and third-party, even
# when another dependency would bring it in:
#   PUBLIC_DEPS   included by one of the library's headers, so its users compile against it too;
#   PRIVATE_DEPS  included only by its .cc files, or by headers marked "Internal to" that only its
#                 own .cc files include.
# Threads::Threads goes in PRIVATE_DEPS of a library that starts threads or includes Boost.Asio.
function(hasivu_cc_library)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "hasivu_cc_library(${ARG_NAME}): unknown arguments "
                        "${ARG_UNPARSED_ARGUMENTS} (DEPS is now PUBLIC_DEPS and PRIVATE_DEPS)")
  endif()
  add_library(${ARG_NAME} STATIC ${ARG_SRCS})
  target_include_directories(${ARG_NAME} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  if(ARG_PUBLIC_DEPS)
    target_link_libraries(${ARG_NAME} PUBLIC ${ARG_PUBLIC_DEPS})
  endif()
  if(ARG_PRIVATE_DEPS)
    target_link_libraries(${ARG_NAME} PRIVATE ${ARG_PRIVATE_DEPS})
  endif()
endfunction()

# hasivu_cc_test(NAME SRCS ... DEPS ... LABELS ...): a gtest binary registered with CTest. DEPS
# are what its sources include (as for a library); gtest, gmock and Threads are always linked.
# LABELS default to "unit"; tests that need a server carry "postgres" or "redis" instead, so
# `ctest -L unit` runs with no services.
function(hasivu_cc_test)
  cmake_parse_arguments(ARG "" "NAME;TIMEOUT" "SRCS;DEPS;LABELS" ${ARGN})
  if(NOT HASIVU_BUILD_TESTS)
    return()
  endif()
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  add_executable(${ARG_NAME} ${ARG_SRCS})
  target_include_directories(${ARG_NAME} PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main
                                            Threads::Threads)
  add_test(NAME ${ARG_NAME} COMMAND ${ARG_NAME})
  set_tests_properties(${ARG_NAME} PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT})
endfunction()
