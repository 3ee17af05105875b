#include "bench/interrupt.h"

#include <signal.h>

#include <atomic>
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
  interrupted.store(true);
  for (std::atomic<pid_t>& slot : children) {
    const pid_t pid = slot.load();
    if (pid > 0) ::kill(pid, SIGTERM);
  }
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

}  // namespace hasivu::bench
