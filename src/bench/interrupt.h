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
// Forgets a child. Call it while the child is a zombie, before it is reaped (WaitChild does
// both in that order), so its PID cannot have been reused by the time the handler reads it.
// Unknown PIDs are ignored.
void UnregisterChild(pid_t pid);

// Waits for a child to end (`block`) or checks whether it has (not `block`); once it has, forgets
// it (UnregisterChild) and then reaps it, storing waitpid's status in `*status`. Returns pid when
// it was reaped, 0 when it is still running (only without `block`), -1 on error (errno set; ECHILD
// when it was reaped elsewhere, and it is forgotten then too).
pid_t WaitChild(pid_t pid, int* status, bool block);

}  // namespace hasivu::bench

#endif  // HASIVU_BENCH_INTERRUPT_H_
