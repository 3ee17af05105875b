#include "bench/proc_stats.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

namespace hasivu::bench {
namespace {

std::string ProcPath(pid_t pid, std::string_view file) {
  return "/proc/" + std::to_string(pid) + "/" + std::string(file);
}

Status ErrnoStatus(int err, const std::string& what) {
  const std::string message = what + ": " + std::strerror(err);
  switch (err) {
    case ENOENT:
    case ESRCH:
      return NotFoundError(message);
    case EACCES:
    case EPERM:
      return PermissionDeniedError(message);
    default:
      return InternalError(message);
  }
}

// /proc files report a size of 0, so they are read until EOF rather than by their size.
StatusOr<std::string> ReadWholeFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "open " + path);
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      // A process that exits between open and read answers ESRCH.
      return ErrnoStatus(err, "read " + path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

std::optional<uint64_t> ParseU64(std::string_view s) {
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::vector<std::string_view> SplitBlanks(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n')) ++i;
    const size_t start = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t' && s[i] != '\n') ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

// "VmHWM:\t    1940 kB" -> 1940 * 1024.
std::optional<uint64_t> StatusKilobytes(std::string_view status, std::string_view key) {
  size_t pos = 0;
  while (pos < status.size()) {
    size_t end = status.find('\n', pos);
    if (end == std::string_view::npos) end = status.size();
    const std::string_view line = status.substr(pos, end - pos);
    pos = end + 1;
    if (line.size() <= key.size() || line.substr(0, key.size()) != key || line[key.size()] != ':') {
      continue;
    }
    const std::vector<std::string_view> parts = SplitBlanks(line.substr(key.size() + 1));
    if (parts.size() != 2 || parts[1] != "kB") return std::nullopt;
    const std::optional<uint64_t> kb = ParseU64(parts[0]);
    if (!kb) return std::nullopt;
    return *kb * 1024;
  }
  return std::nullopt;
}

}  // namespace

StatusOr<double> ParseProcStatCpuSeconds(std::string_view stat, long ticks_per_second) {
  if (ticks_per_second <= 0) return InvalidArgumentError("ticks per second must be positive");
  const size_t close = stat.rfind(')');
  if (close == std::string_view::npos || stat.find('(') > close) {
    return InvalidArgumentError("/proc/PID/stat: no command name in parentheses");
  }
  // After the name: state (field 3) ... utime (14), stime (15).
  const std::vector<std::string_view> fields = SplitBlanks(stat.substr(close + 1));
  constexpr size_t kUtime = 14 - 3;
  constexpr size_t kStime = 15 - 3;
  if (fields.size() <= kStime) return InvalidArgumentError("/proc/PID/stat: too few fields");
  const std::optional<uint64_t> utime = ParseU64(fields[kUtime]);
  const std::optional<uint64_t> stime = ParseU64(fields[kStime]);
  if (!utime || !stime) return InvalidArgumentError("/proc/PID/stat: utime or stime not a number");
  return static_cast<double>(*utime + *stime) / static_cast<double>(ticks_per_second);
}

StatusOr<ProcessMemory> ParseProcStatusMemory(std::string_view status) {
  const std::optional<uint64_t> hwm = StatusKilobytes(status, "VmHWM");
  const std::optional<uint64_t> rss = StatusKilobytes(status, "VmRSS");
  if (!hwm || !rss) return NotFoundError("/proc/PID/status: no VmHWM or VmRSS in kB");
  return ProcessMemory{.peak_rss_bytes = *hwm, .rss_bytes = *rss};
}

StatusOr<double> ReadProcessCpuSeconds(pid_t pid) {
  ASSIGN_OR_RETURN(const std::string text, ReadWholeFile(ProcPath(pid, "stat")));
  return ParseProcStatCpuSeconds(text, ::sysconf(_SC_CLK_TCK));
}

StatusOr<double> ParseSchedstatCpuSeconds(std::string_view schedstat) {
  uint64_t ns = 0;
  const char* end = schedstat.data() + schedstat.size();
  auto [p, ec] = std::from_chars(schedstat.data(), end, ns);
  if (ec != std::errc() || p == schedstat.data() || (p != end && *p != ' ' && *p != '\n')) {
    return InvalidArgumentError("schedstat: no time on CPU in '" +
                                std::string(schedstat.substr(0, 40)) + "'");
  }
  return static_cast<double>(ns) / 1e9;
}

StatusOr<double> ReadProcessCpuSecondsPrecise(pid_t pid) {
  std::error_code ec;
  const std::filesystem::path tasks = ProcPath(pid, "task");
  double total = 0;
  int counted = 0;
  for (const auto& entry : std::filesystem::directory_iterator(tasks, ec)) {
    auto text = ReadWholeFile((entry.path() / "schedstat").string());
    if (!text.ok()) continue;  // a thread that ended meanwhile
    auto seconds = ParseSchedstatCpuSeconds(*text);
    if (!seconds.ok()) return seconds.status();
    total += *seconds;
    ++counted;
  }
  if (counted == 0) return ReadProcessCpuSeconds(pid);
  return total;
}

StatusOr<ProcessMemory> ReadProcessMemory(pid_t pid) {
  ASSIGN_OR_RETURN(const std::string text, ReadWholeFile(ProcPath(pid, "status")));
  return ParseProcStatusMemory(text);
}

StatusOr<ServerUsage> ReadServerUsage(pid_t pid) {
  ASSIGN_OR_RETURN(const double cpu, ReadProcessCpuSecondsPrecise(pid));
  ASSIGN_OR_RETURN(const ProcessMemory memory, ReadProcessMemory(pid));
  return ServerUsage{.cpu_seconds = cpu,
                     .peak_rss_bytes = memory.peak_rss_bytes,
                     .rss_at_start_bytes = memory.rss_bytes};
}

ServerUsage ServerUsageBetween(const ServerUsage& start, const ServerUsage& end) {
  const double cpu = end.cpu_seconds - start.cpu_seconds;
  return ServerUsage{.cpu_seconds = cpu > 0 ? cpu : 0,
                     .peak_rss_bytes = end.peak_rss_bytes,
                     .rss_at_start_bytes = start.rss_at_start_bytes};
}

Status ResetPeakRss(pid_t pid) {
  const std::string path = ProcPath(pid, "clear_refs");
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "open " + path);
  ssize_t n;
  do {
    n = ::write(fd, "5", 1);
  } while (n < 0 && errno == EINTR);
  const int err = errno;
  ::close(fd);
  if (n == 1) return Status::Ok();
  if (n < 0 && err == EINVAL) {
    return UnimplementedError("write 5 to " + path + ": the kernel cannot reset VmHWM");
  }
  return ErrnoStatus(n < 0 ? err : EIO, "write " + path);
}

uint64_t CpuTimes::Total() const {
  return user + nice + system + idle + iowait + irq + softirq + steal;
}

StatusOr<CpuTimes> ParseProcStatCpuLine(std::string_view proc_stat) {
  size_t pos = 0;
  while (pos < proc_stat.size()) {
    size_t end = proc_stat.find('\n', pos);
    if (end == std::string_view::npos) end = proc_stat.size();
    const std::string_view line = proc_stat.substr(pos, end - pos);
    pos = end + 1;
    if (line.substr(0, 4) != "cpu ") continue;
    const std::vector<std::string_view> fields = SplitBlanks(line.substr(4));
    if (fields.size() < 4) return InvalidArgumentError("/proc/stat: the cpu line is too short");
    uint64_t v[8] = {};
    for (size_t i = 0; i < fields.size() && i < 8; ++i) {
      const std::optional<uint64_t> n = ParseU64(fields[i]);
      if (!n)
        return InvalidArgumentError("/proc/stat: '" + std::string(fields[i]) + "' in the cpu line");
      v[i] = *n;
    }
    return CpuTimes{.user = v[0],
                    .nice = v[1],
                    .system = v[2],
                    .idle = v[3],
                    .iowait = v[4],
                    .irq = v[5],
                    .softirq = v[6],
                    .steal = v[7]};
  }
  return InvalidArgumentError("/proc/stat: no aggregate cpu line");
}

StatusOr<CpuTimes> ReadMachineCpuTimes() {
  ASSIGN_OR_RETURN(const std::string text, ReadWholeFile("/proc/stat"));
  return ParseProcStatCpuLine(text);
}

std::optional<MachineUsage> MachineUsageBetween(const CpuTimes& before, const CpuTimes& after) {
  const uint64_t b[] = {before.user,   before.nice, before.system,  before.idle,
                        before.iowait, before.irq,  before.softirq, before.steal};
  const uint64_t a[] = {after.user,   after.nice, after.system,  after.idle,
                        after.iowait, after.irq,  after.softirq, after.steal};
  constexpr size_t kIdle = 3;
  constexpr size_t kIowait = 4;
  constexpr size_t kSteal = 7;
  double d[8];
  double total = 0;
  for (size_t i = 0; i < 8; ++i) {
    if (a[i] < b[i]) {
      // proc(5): iowait is an estimate that can go down; every other counter only grows.
      if (i != kIowait) return std::nullopt;
      d[i] = 0;
    } else {
      d[i] = static_cast<double>(a[i] - b[i]);
    }
    total += d[i];
  }
  if (total <= 0) return std::nullopt;
  return MachineUsage{.steal_fraction = d[kSteal] / total,
                      .busy_fraction = (total - d[kIdle] - d[kIowait]) / total};
}

}  // namespace hasivu::bench
