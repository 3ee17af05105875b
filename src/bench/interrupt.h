// Ctrl-C and SIGTERM for `hasivu bench`: nothing it started outlives it.
//
// Every child process the bench starts (servers, peers, seeds, wrk) is registered while it runs.
// After InstallInterruptHandler(), the first SIGINT or SIGTERM sends SIGTERM to each registered
// child and marks the run interrupted; the bench then fails its current step (its servers are
// gone, ServerProcess::Start refuses new ones, the phase loop checks Interrupted()) and unwinds
// through its own cleanup (processes reaped, a PostgreSQL schema dropped) to exit 3. A second
// signal of the same kind has its default action: the bench ends at once.
//
// Thread-safety: every function may be called from any thread; the handler is async-signal-safe
// (a fixed table of atomic slots, kill(2), a lock-free flag).
#ifndef HASIVU_BENCH_INTERRUPT_H_
#define HASIVU_BENCH_INTERRUPT_H_

#include <sys/types.h>

namespace hasivu::bench {

// Installs the SIGINT/SIGTERM handler (once per process; later calls do nothing).
void InstallInterruptHandler();

// Whether a SIGINT or SIGTERM arrived since the handler was installed.
bool Interrupted();

// Registers a running child so an interruption stops it. Up to 64 at once; beyond that a child
// is not registered (and is still stopped by its owner's normal path). pid > 0.
void RegisterChild(pid_t pid);
// Forgets a child that was reaped (before its PID can be reused). Unknown PIDs are ignored.
void UnregisterChild(pid_t pid);

}  // namespace hasivu::bench

#endif  // HASIVU_BENCH_INTERRUPT_H_
