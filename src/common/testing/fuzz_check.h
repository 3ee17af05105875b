// FUZZ_CHECK(condition): a libFuzzer harness's invariant (cmake/fuzz.cmake). When it does not
// hold, the harness names the condition and its line on stderr and aborts, which libFuzzer
// reports as a crash and saves the input as a reproducer. For harnesses only (never in a
// library: bad input to a library gets a Status, not an abort).
#ifndef HASIVU_COMMON_TESTING_FUZZ_CHECK_H_
#define HASIVU_COMMON_TESTING_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(condition)                                                          \
  do {                                                                                 \
    if (!(condition)) {                                                                \
      std::fprintf(stderr, "fuzz invariant broken at %s:%d: %s\n", __FILE__, __LINE__, \
                   #condition);                                                        \
      std::abort();                                                                    \
    }                                                                                  \
  } while (false)

#endif  // HASIVU_COMMON_TESTING_FUZZ_CHECK_H_
