# Build helpers: one library per folder, and the include scoping that makes the layering of
# docs/architecture.md (scripts/layers.conf) hold at compile time.
#
# Include scoping. No target has src/ on its include path. Each layer (a folder of src/, or app/)
# has an include root of its own in the build tree, ${CMAKE_BINARY_DIR}/include/<layer>/, that
# holds one symlink, <layer> -> src/<layer> (made when CMake configures, so a clean checkout gets
# it). A library's PUBLIC include directory is its layer's root, so "<layer>/x.h" is found only by
# the library itself and by what links it: a target sees its own layer and the layers it links,
# directly or through PUBLIC dependencies, and an include of any other layer fails to compile
# ("No such file or directory"). A backend (store/sqlite, ...) is a subfolder of its layer and
# comes with that layer's root; only linking its library makes its symbols available.
#
# A new folder src/<layer>/: its line in scripts/layers.conf, add_subdirectory() in the top-level
# CMakeLists.txt, and hasivu_cc_library()/hasivu_cc_test() calls in its own CMakeLists.txt. The
# layer is the folder's name; nothing else to declare.

# hasivu_include_root(NAME DIR OUT): makes the include root ${CMAKE_BINARY_DIR}/include/<NAME>
# holding the symlink <NAME> -> DIR, and sets OUT to the root.
function(hasivu_include_root name dir out)
  if(NOT IS_DIRECTORY ${dir})
    message(FATAL_ERROR "hasivu_include_root(${name}): ${dir} is not a folder")
  endif()
  set(root ${CMAKE_BINARY_DIR}/include/${name})
  file(MAKE_DIRECTORY ${root})
  file(CREATE_LINK ${dir} ${root}/${name} RESULT result SYMBOLIC)
  if(result)
    message(FATAL_ERROR "hasivu_include_root(${name}): cannot link ${root}/${name}: ${result}")
  endif()
  set(${out} ${root} PARENT_SCOPE)
endfunction()

# hasivu_layer_of(DIR OUT): sets OUT to the layer of the source folder DIR (src/<layer>/... or
# app/...), or to "" outside them (tests/integration, bench).
function(hasivu_layer_of dir out)
  file(RELATIVE_PATH rel ${PROJECT_SOURCE_DIR} ${dir})
  if(rel MATCHES "^src/([^/]+)")
    set(${out} ${CMAKE_MATCH_1} PARENT_SCOPE)
  elseif(rel MATCHES "^app(/|$)")
    set(${out} app PARENT_SCOPE)
  else()
    set(${out} "" PARENT_SCOPE)
  endif()
endfunction()

# hasivu_layer_target(TARGET [PUBLIC|PRIVATE]): puts TARGET, defined in the current folder, in that
# folder's layer: its include root (PUBLIC by default; a program or test passes PRIVATE). The
# helpers below call it; a target made with add_executable() in a layer folder calls it itself.
function(hasivu_layer_target target)
  set(scope PUBLIC)
  if(ARGC GREATER 1)
    set(scope ${ARGV1})
  endif()
  hasivu_layer_of(${CMAKE_CURRENT_SOURCE_DIR} layer)
  if(NOT layer)
    message(FATAL_ERROR "${target}: ${CMAKE_CURRENT_SOURCE_DIR} is in no layer (src/<layer>/, app/)")
  endif()
  if(layer STREQUAL "app")
    set(dir ${PROJECT_SOURCE_DIR}/app)
  else()
    set(dir ${PROJECT_SOURCE_DIR}/src/${layer})
  endif()
  hasivu_include_root(${layer} ${dir} root)
  target_include_directories(${target} ${scope} ${root})
endfunction()

# hasivu_cc_library(NAME SRCS ... PUBLIC_DEPS ... PRIVATE_DEPS ...): a static library of the
# current folder's layer; its dependencies record the layering (a folder depends only on folders
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
  hasivu_layer_target(${ARG_NAME} PUBLIC)
  if(ARG_PUBLIC_DEPS)
    target_link_libraries(${ARG_NAME} PUBLIC ${ARG_PUBLIC_DEPS})
  endif()
  if(ARG_PRIVATE_DEPS)
    target_link_libraries(${ARG_NAME} PRIVATE ${ARG_PRIVATE_DEPS})
  endif()
endfunction()

# hasivu_cc_test(NAME SRCS ... DEPS ... LABELS ...): a gtest binary registered with CTest. DEPS
# are what its sources include (as for a library); gtest, gmock and Threads are always linked. A
# test in a layer folder sees that layer's headers (its testing/ helpers among them) and those of
# what it links; a test elsewhere (tests/integration) only those of what it links.
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
  hasivu_layer_of(${CMAKE_CURRENT_SOURCE_DIR} layer)
  if(layer)
    hasivu_layer_target(${ARG_NAME} PRIVATE)
  endif()
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main
                                            Threads::Threads)
  add_test(NAME ${ARG_NAME} COMMAND ${ARG_NAME})
  set_tests_properties(${ARG_NAME} PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT})
endfunction()
