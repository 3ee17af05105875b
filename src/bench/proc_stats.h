// What Linux's /proc says about the server under test and the machine (ServerUsage and
// MachineUsage in result.h). Only for a server on this host; a remote server has no figures.
//
//   /proc/PID/stat    utime + stime (fields 14 and 15), in clock ticks: the CPU the process used
//                     since it started, user and system
//   /proc/PID/status  VmHWM (the resident set's high-water mark) and VmRSS (now), in kB
//   /proc/PID/clear_refs  writing "5" resets VmHWM to the current RSS (Linux 4.0+), so a phase's
//                     peak is its own and not the startup's or an earlier phase's
//   /proc/stat        the "cpu" line: the whole machine's time, in ticks, by state
//
// The Parse* functions take the files' text (tests feed them captured text); the Read* functions
// read the files. Errors: NotFound when the process (or the file) does not exist, PermissionDenied
// when the kernel refuses, InvalidArgument when the text is not what the kernel writes.
//
// Thread-safety: pure functions, and readers of files the kernel writes.
#ifndef HASIVU_BENCH_PROC_STATS_H_
#define HASIVU_BENCH_PROC_STATS_H_

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string_view>

#include "bench/result.h"
#include "common/status.h"

namespace hasivu::bench {

// ---- one process --------------------------------------------------------------------------------

// utime + stime of /proc/PID/stat's text, in seconds. The command name (field 2) is in
// parentheses and may itself hold spaces and parentheses ("(a) (b)"), so the fields are counted
// from the last ')'. REQUIRES: ticks_per_second > 0 (sysconf(_SC_CLK_TCK)).
StatusOr<double> ParseProcStatCpuSeconds(std::string_view stat, long ticks_per_second);

struct ProcessMemory {
  uint64_t peak_rss_bytes = 0;  // VmHWM
  uint64_t rss_bytes = 0;       // VmRSS
};
// VmHWM and VmRSS of /proc/PID/status's text. NotFound when either line is missing (a kernel
// thread, a zombie).
StatusOr<ProcessMemory> ParseProcStatusMemory(std::string_view status);

StatusOr<double> ReadProcessCpuSeconds(pid_t pid);
// The same to the nanosecond: the sum of /proc/PID/task/*/schedstat's time on CPU (the 10 ms clock
// tick of /proc/PID/stat is too coarse for a write phase that lasts a second). Threads that
// exited are not counted, which suits a server whose threads live as long as it does. Falls back
// to ReadProcessCpuSeconds where the kernel has no schedstat.
StatusOr<double> ReadProcessCpuSecondsPrecise(pid_t pid);
// The first field of a schedstat file (nanoseconds on CPU), in seconds.
StatusOr<double> ParseSchedstatCpuSeconds(std::string_view schedstat);
StatusOr<ProcessMemory> ReadProcessMemory(pid_t pid);

// cpu_seconds since the process started, its VmHWM and (as rss_at_start_bytes) its VmRSS now.
// A phase's usage is ServerUsageBetween(a reading at the start, a reading at the end).
StatusOr<ServerUsage> ReadServerUsage(pid_t pid);
// cpu_seconds: end's minus start's (0 if it went down: not the same process); peak_rss_bytes:
// end's (the peak since the last ResetPeakRss, or since the process started);
// rss_at_start_bytes: start's.
ServerUsage ServerUsageBetween(const ServerUsage& start, const ServerUsage& end);

// Resets the process's VmHWM to its current RSS by writing "5" to /proc/PID/clear_refs.
// The kernel may refuse: NotFound when the process is gone or the kernel has no clear_refs
// (CONFIG_PROC_PAGE_MONITOR off), PermissionDenied for a process this one may not ptrace (another
// user's, without CAP_SYS_PTRACE), Unimplemented when the kernel does not know "5" (before 4.0),
// Internal for any other errno. On any error nothing changed: the caller reports the peak since
// the process started (or since the last reset that worked) and should say so.
Status ResetPeakRss(pid_t pid);

// ---- the machine --------------------------------------------------------------------------------

// The aggregate "cpu" line of /proc/stat, in ticks. guest and guest_nice are left out: the
// kernel already counts them in user and nice.
struct CpuTimes {
  uint64_t user = 0;
  uint64_t nice = 0;
  uint64_t system = 0;
  uint64_t idle = 0;
  uint64_t iowait = 0;
  uint64_t irq = 0;
  uint64_t softirq = 0;
  uint64_t steal = 0;
  uint64_t Total() const;
};
// The first line of /proc/stat's text that starts "cpu " (fields the kernel does not write, on
// old kernels, are 0). InvalidArgument without one, or with fewer than 4 numbers.
StatusOr<CpuTimes> ParseProcStatCpuLine(std::string_view proc_stat);
StatusOr<CpuTimes> ReadMachineCpuTimes();

// Over [before, after]: steal_fraction = steal / total, busy_fraction = (total - idle - iowait)
// / total, total being every state's ticks of all CPUs together (so steal counts as busy: the
// vCPU had work and the hypervisor ran someone else). An iowait that went down (proc(5): it can)
// counts 0. nullopt when no tick passed or another counter went down (not the same boot).
std::optional<MachineUsage> MachineUsageBetween(const CpuTimes& before, const CpuTimes& after);

}  // namespace hasivu::bench

#endif  // HASIVU_BENCH_PROC_STATS_H_
