#include "bench/interrupt.h"

#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <cerrno>
#include <csignal>

namespace hasivu::bench {
namespace {

constexpr int kSlots = 64;
std::atomic<pid_t> children[kSlots];
std::atomic<bool> interrupted{false};
std::atomic<bool> installed{false};

static_assert(std::atomic<pid_t>::is_always_lock_free && std::atomic<bool>::is_always_lock_free,
              "the signal handler may only touch lock-free atomics");

void OnSignal(int) {
  // kill() may fail (ESRCH): the interrupted code must not see errno change under it.
  const int saved_errno = errno;
  interrupted.store(true);
  for (std::atomic<pid_t>& slot : children) {
    const pid_t pid = slot.load();
    if (pid > 0) ::kill(pid, SIGTERM);
  }
  errno = saved_errno;
}

}  // namespace

void InstallInterruptHandler() {
  if (installed.exchange(true)) return;
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  // One-shot: a second Ctrl-C takes the default action and ends the bench at once.
  sa.sa_flags = SA_RESETHAND | SA_RESTART;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}

bool Interrupted() { return interrupted.load(); }

void RegisterChild(pid_t pid) {
  if (pid <= 0) return;
  for (std::atomic<pid_t>& slot : children) {
    pid_t empty = 0;
    if (slot.compare_exchange_strong(empty, pid)) break;
  }
  // A signal between the spawn and the registration would miss this child: stop it now.
  if (interrupted.load()) ::kill(pid, SIGTERM);
}

void UnregisterChild(pid_t pid) {
  if (pid <= 0) return;
  for (std::atomic<pid_t>& slot : children) {
    pid_t expected = pid;
    if (slot.compare_exchange_strong(expected, 0)) return;
  }
}

pid_t WaitChild(pid_t pid, int* status, bool block) {
  siginfo_t info{};
  // WNOWAIT leaves the child a zombie: its PID stays taken while it is forgotten.
  int rc;
  do {
    rc = ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT | (block ? 0 : WNOHANG));
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    if (errno == ECHILD) UnregisterChild(pid);
    return -1;
  }
  if (info.si_pid == 0) return 0;  // still running
  UnregisterChild(pid);
  pid_t reaped;
  do {
    reaped = ::waitpid(pid, status, 0);
  } while (reaped < 0 && errno == EINTR);
  return reaped;
}

}  // namespace hasivu::bench
