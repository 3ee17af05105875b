# libFuzzer harnesses (docs/reliability.md, "8. Fuzzing"), built only when HASIVU_FUZZ is on: the
# `fuzz` preset (clang, AddressSanitizer + UndefinedBehaviorSanitizer, every library compiled
# with -fsanitize=fuzzer-no-link so the harnesses see its coverage; -O1, and NDEBUG as the
# release build has it, so the code fuzzed is the code shipped: Beast 1.81 has a debug assertion
# that a client's chunked body split into odd reads trips, harmless without it). scripts/fuzz.sh builds the
# `fuzz` target and runs each harness listed in ${CMAKE_BINARY_DIR}/fuzz_targets.txt (one line
# each: binary, seed corpus, max input length).
#
# hasivu_fuzz(NAME SRCS ... DEPS ... CORPUS dir [MAX_LEN bytes]): a harness of the current
# folder's layer, a `<unit>_fuzz.cc` beside the unit it fuzzes, with its checked-in seed corpus
# CORPUS (a folder beside it). DEPS as for hasivu_cc_test: what its sources include. MAX_LEN: the
# longest input libFuzzer makes (default 4096). A harness is a test file for
# the layering (scripts/check_layers.sh): it may use its layer's backends and test allowances.
option(HASIVU_FUZZ "Build the libFuzzer harnesses (needs clang; see the fuzz preset)" OFF)

if(HASIVU_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "HASIVU_FUZZ needs clang (libFuzzer): use the fuzz preset")
  endif()
  add_custom_target(fuzz)
  set(HASIVU_FUZZ_LIST ${CMAKE_BINARY_DIR}/fuzz_targets.txt)
  file(WRITE ${HASIVU_FUZZ_LIST} "")
endif()

function(hasivu_fuzz)
  cmake_parse_arguments(ARG "" "NAME;CORPUS;MAX_LEN" "SRCS;DEPS" ${ARGN})
  if(NOT HASIVU_FUZZ)
    return()
  endif()
  if(NOT ARG_MAX_LEN)
    set(ARG_MAX_LEN 4096)
  endif()
  if(NOT IS_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/${ARG_CORPUS})
    message(FATAL_ERROR "hasivu_fuzz(${ARG_NAME}): no seed corpus ${ARG_CORPUS}")
  endif()
  add_executable(${ARG_NAME} ${ARG_SRCS})
  # Every harness in one folder, the one fuzz_targets.txt names.
  set_target_properties(${ARG_NAME} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz)
  hasivu_layer_target(${ARG_NAME} PRIVATE)
  set_target_properties(${ARG_NAME} PROPERTIES HASIVU_TEST TRUE)
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} Threads::Threads)
  # The libraries carry fuzzer-no-link (the preset's flags); only a harness brings libFuzzer's
  # main.
  target_link_options(${ARG_NAME} PRIVATE -fsanitize=fuzzer)
  add_dependencies(fuzz ${ARG_NAME})
  file(RELATIVE_PATH corpus ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR}/${ARG_CORPUS})
  file(APPEND ${HASIVU_FUZZ_LIST} "fuzz/${ARG_NAME} ${corpus} ${ARG_MAX_LEN}\n")
endfunction()
