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
# The links follow scripts/layers.conf too: hasivu_check_layers() (called at the end of the
# top-level CMakeLists.txt) fails the configure step when a target links a library of a layer its
# own may not include, or another layer's backend library. Two things the compiler lets through,
# scripts/check_layers.sh still catches in the test command: a direct include of a layer that is
# visible only because a linked layer's headers include it (a layer linking domain/ alone still
# sees store/), and a backend's headers, which come with their layer's root.
#
# A new folder src/<layer>/: its line in scripts/layers.conf, add_subdirectory() in the top-level
# CMakeLists.txt, and hasivu_cc_library()/hasivu_cc_test() calls in its own CMakeLists.txt. The
# layer is the folder's name; nothing else to declare.

# The allowed graph, read from scripts/layers.conf (which scripts/check_layers.sh reads too):
# HASIVU_LAYER_<layer> lists the layers <layer> may include, itself first; HASIVU_TESTS_<layer>
# those its tests may include besides (a line "<layer> tests: ..."); HASIVU_BACKENDS the backend
# folders. Editing the file re-runs the configure step.
function(hasivu_read_layers_conf conf)
  set_property(DIRECTORY ${PROJECT_SOURCE_DIR} APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${conf})
  file(STRINGS ${conf} lines)
  foreach(line IN LISTS lines)
    string(REGEX REPLACE "#.*" "" line "${line}")
    if(line MATCHES "^[ \t]*([A-Za-z0-9_]+)[ \t]+tests[ \t]*:(.*)$")
      set(name ${CMAKE_MATCH_1})
      string(REGEX MATCHALL "[^ \t]+" deps "${CMAKE_MATCH_2}")
      set(HASIVU_TESTS_${name} ${deps} PARENT_SCOPE)
    elseif(line MATCHES "^[ \t]*([A-Za-z0-9_]+)[ \t]*:(.*)$")
      set(name ${CMAKE_MATCH_1})
      string(REGEX MATCHALL "[^ \t]+" deps "${CMAKE_MATCH_2}")
      if(name STREQUAL "backends")
        set(HASIVU_BACKENDS ${deps} PARENT_SCOPE)
      else()
        set(HASIVU_LAYER_${name} ${name} ${deps} PARENT_SCOPE)
      endif()
    endif()
  endforeach()
endfunction()
hasivu_read_layers_conf(${PROJECT_SOURCE_DIR}/scripts/layers.conf)

# hasivu_check_layers(): fails the configure step when a target of a layer links a library of a
# layer that scripts/layers.conf does not let it include (for a test: nor its layer's tests), or,
# unless it is in app/ or a test, a backend of another layer: the rules of scripts/check_layers.sh,
# for links instead of includes. The top-level CMakeLists.txt calls it once, after every folder.
function(hasivu_check_layers)
  get_property(targets GLOBAL PROPERTY HASIVU_LAYER_TARGETS)
  set(errors "")
  foreach(target IN LISTS targets)
    get_target_property(layer ${target} HASIVU_LAYER)
    if(NOT DEFINED HASIVU_LAYER_${layer})
      string(APPEND errors "\n  ${target}: folder '${layer}' is not in scripts/layers.conf")
      continue()
    endif()
    get_target_property(is_test ${target} HASIVU_TEST)
    get_target_property(deps ${target} LINK_LIBRARIES)
    foreach(dep IN LISTS deps)
      if(NOT TARGET "${dep}")
        continue()
      endif()
      get_target_property(dep_layer ${dep} HASIVU_LAYER)
      if(NOT dep_layer)
        continue()
      endif()
      if(NOT dep_layer IN_LIST HASIVU_LAYER_${layer}
         AND NOT (is_test AND dep_layer IN_LIST HASIVU_TESTS_${layer}))
        string(APPEND errors
               "\n  ${target} links ${dep}: ${layer}/ may not include ${dep_layer}/")
      endif()
      get_target_property(backend ${dep} HASIVU_BACKEND)
      if(backend AND NOT dep_layer STREQUAL layer AND NOT layer STREQUAL "app" AND NOT is_test)
        string(APPEND errors "\n  ${target} links ${dep}: only ${dep_layer}/ and app/ use the "
                             "backend ${backend}/")
      endif()
    endforeach()
  endforeach()
  if(errors)
    message(FATAL_ERROR "The links break scripts/layers.conf:${errors}")
  endif()
endfunction()

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
# folder's layer: its include root (PUBLIC by default; a program or test passes PRIVATE), and
# its links among those hasivu_check_layers() checks. The helpers below call it; a target made
# with add_executable() in a layer folder calls it itself.
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
  # For hasivu_check_layers: the target's layer, and the backend folder it is made in, if any.
  set_target_properties(${target} PROPERTIES HASIVU_LAYER ${layer})
  file(RELATIVE_PATH folder ${PROJECT_SOURCE_DIR}/src ${CMAKE_CURRENT_SOURCE_DIR})
  if(folder IN_LIST HASIVU_BACKENDS)
    set_target_properties(${target} PROPERTIES HASIVU_BACKEND ${folder})
  endif()
  set_property(GLOBAL APPEND PROPERTY HASIVU_LAYER_TARGETS ${target})
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
    set_target_properties(${ARG_NAME} PROPERTIES HASIVU_TEST TRUE)
  endif()
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main
                                            Threads::Threads)
  add_test(NAME ${ARG_NAME} COMMAND ${ARG_NAME})
  set_tests_properties(${ARG_NAME} PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT})
endfunction()
