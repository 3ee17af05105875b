// Scenario 5 of docs/reliability.md: the SQLite store's disk fills up, and then turns read-only,
// while clients create orders, verify payments, scan cards and read. While the disk refuses,
// every write is either acknowledged (and then in the store) or answered 503 with the code that
// says why (STORAGE_FULL, STORAGE_READ_ONLY) and Retry-After, never 500; reads, /healthz and
// /readyz keep answering 200. Once space returns, writes work again without a restart and the
// refused ones settle when resent; after the read-only disk is repaired (the server stopped,
// e2fsck, mounted again, started) they settle too. The store then passes every check of
// store_check.h, PRAGMA integrity_check included.
//
// The disk (StoreDisk): the server's data folder moved onto a file system of its own, mounted
// over the folder, which lies in the test's temporary folder:
//  - ext4 on a loop device (errors=remount-ro): full by a ballast file allocated over every free
//    block, space returned by deleting it, as an operator deletes what filled a disk; read-only by
//    the kernel's own reaction to a file system error (ext4's trigger_fs_error), as when a disk
//    fails, which only an unmount, e2fsck and a mount undo;
//  - where loop devices are missing: tmpfs, full by the same ballast; no read-only part (a
//    mounted tmpfs cannot be remounted read-only while the server holds its files open);
//  - where mounting is refused: no mount, the server's file size limit (RLIMIT_FSIZE, set by
//    prlimit) lowered to 0 so that every write of the process fails (EFBIG, SIGXFSZ being
//    ignored by the server); no read-only part.
// HASIVU_RELIABILITY_DISK=ext4|tmpfs|fsize picks one (default: the first that works), and
// HASIVU_RELIABILITY_FAULT_MS (3000), _CLIENTS (16) and _WRITES (200 per write function)
// lengthen the run.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "tests/integration/api_fixture.h"
#include "tests/integration/harness.h"
#include "tests/reliability/campaign.h"
#include "tests/reliability/report.h"
#include "tests/reliability/server_under_test.h"
#include "tests/reliability/store_check.h"

namespace hasivu::reliability {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using hasivu::testing::ApiResponse;
using hasivu::testing::ApiServer;

enum class DiskKind { kExt4, kTmpfs, kFileSizeLimit };

std::string_view DiskKindName(DiskKind kind) {
  switch (kind) {
    case DiskKind::kExt4:
      return "ext4";
    case DiskKind::kTmpfs:
      return "tmpfs";
    case DiskKind::kFileSizeLimit:
      return "fsize";
  }
  return "?";
}

// The absolute path of a system tool (the harness spawns without a PATH search), or "".
std::string Tool(const std::string& name) {
  for (const char* dir : {"/usr/sbin", "/sbin", "/usr/bin", "/bin"}) {
    const std::string path = std::string(dir) + "/" + name;
    if (access(path.c_str(), X_OK) == 0) return path;
  }
  return "";
}

// Runs a system tool; false with its output in *error unless it exits with a code in `ok_codes`.
bool RunTool(const std::vector<std::string>& args, std::string* error,
             std::vector<int> ok_codes = {0}) {
  std::vector<std::string> argv = args;
  argv[0] = Tool(args[0]);
  if (argv[0].empty()) {
    *error += args[0] + " is not installed; ";
    return false;
  }
  const testing::CommandResult r = testing::RunCommand(argv, {}, std::chrono::seconds(60));
  if (std::find(ok_codes.begin(), ok_codes.end(), r.exit_code) != ok_codes.end()) return true;
  std::string line;
  for (const std::string& a : args) line += a + " ";
  *error += line + "exited " + std::to_string(r.exit_code) + ": " + r.err + r.out + "; ";
  return false;
}

// Copies the entries of `from` into `to` (both existing folders).
bool CopyEntries(const fs::path& from, const fs::path& to, std::string* error) {
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(from, ec)) {
    fs::copy(e.path(), to / e.path().filename(),
             fs::copy_options::recursive | fs::copy_options::overwrite_existing, ec);
    if (ec) break;
  }
  if (ec) *error += "copy " + from.string() + " to " + to.string() + ": " + ec.message() + "; ";
  return !ec;
}

// The server's data folder on a disk the test can fill and (ext4) turn read-only; see the file
// comment. Mounts only over a folder inside the temporary folder, and unmounts in its destructor
// (lazily if the server still holds files there, e.g. after a failed assertion).
class StoreDisk {
 public:
  // Puts `dir` on a file system of `bytes` of the first kind of `kinds` that works (its files
  // copied over). REQUIRES: nothing is using `dir` (the server is stopped). Null when none
  // worked; *log says what each attempt met.
  static std::unique_ptr<StoreDisk> Under(const std::string& dir, uintmax_t bytes,
                                          const std::vector<DiskKind>& kinds, std::string* log) {
    const std::string tmp = (fs::temp_directory_path() / "").lexically_normal().string();
    if (dir.rfind(tmp, 0) != 0) {
      *log += dir + " is not in " + tmp + "; ";
      return nullptr;
    }
    for (DiskKind kind : kinds) {
      std::unique_ptr<StoreDisk> disk(new StoreDisk(dir, bytes, kind));
      if (disk->Set(log)) return disk;
    }
    return nullptr;
  }

  ~StoreDisk() {
    std::string ignored;
    (void)Free(0, &ignored);
    if (mounted_ && !RunTool({"umount", dir_}, &ignored)) {
      (void)RunTool({"umount", "-l", dir_}, &ignored);
    }
    if (!work_.empty()) {
      std::error_code ec;
      fs::remove_all(work_, ec);
    }
  }

  DiskKind kind() const { return kind_; }
  // Whether TurnReadOnly can be used (ext4 with its error trigger); if not, why.
  bool can_turn_read_only() const { return !trigger_.empty(); }
  std::string why_not_read_only() const {
    if (kind_ != DiskKind::kExt4) return "only on ext4";
    return trigger_.empty() ? "no writable /sys/fs/ext4/<device>/trigger_fs_error" : "";
  }

  // Takes every free block (a ballast file), or for kFileSizeLimit sets the file size limit of
  // process `server` to 0. Returns the ballast's bytes (0 for the limit); -1 with *error.
  int64_t Fill(pid_t server, std::string* error) {
    if (kind_ == DiskKind::kFileSizeLimit) {
      const rlimit none{0, RLIM_INFINITY};
      if (prlimit(server, RLIMIT_FSIZE, &none, nullptr) != 0) {
        *error += std::string("prlimit: ") + std::strerror(errno) + "; ";
        return -1;
      }
      limited_ = server;
      return 0;
    }
    const std::string ballast = dir_ + "/ballast";
    const int fd = open(ballast.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
      *error += std::string("open ballast: ") + std::strerror(errno) + "; ";
      return -1;
    }
    ballast_ = ballast;
    // Allocated without being written, so that the blocks are taken at once, in ever smaller
    // pieces until not one more fits.
    int64_t taken = 0;
    for (off_t piece = off_t{1} << 30; piece >= 512;) {
      if (fallocate(fd, 0, taken, piece) == 0) {
        taken += piece;
      } else if (errno == ENOSPC) {
        piece /= 2;
      } else {
        break;
      }
    }
    if (errno == EOPNOTSUPP) {
      // Written instead where the file system cannot allocate ahead: megabytes, then pages.
      const std::string block(1 << 20, '\0');
      for (size_t chunk : {block.size(), size_t{4096}}) {
        ssize_t n;
        while ((n = pwrite(fd, block.data(), chunk, taken)) > 0) taken += n;
      }
    }
    const int last_errno = errno;
    close(fd);
    if (last_errno != ENOSPC) {
      *error += std::string("ballast: ") + std::strerror(last_errno) + "; ";
      return -1;
    }
    return taken;
  }

  // Gives the space back: deletes the ballast, or lifts the file size limit. True when done.
  bool Free(pid_t server, std::string* error) {
    if (!ballast_.empty()) {
      if (unlink(ballast_.c_str()) != 0) {
        *error += std::string("unlink ballast: ") + std::strerror(errno) + "; ";
        return false;
      }
      ballast_.clear();
    }
    if (limited_ > 0) {
      const rlimit unlimited{RLIM_INFINITY, RLIM_INFINITY};
      if (server > 0 && prlimit(server, RLIMIT_FSIZE, &unlimited, nullptr) != 0) {
        *error += std::string("prlimit: ") + std::strerror(errno) + "; ";
        return false;
      }
      limited_ = 0;
    }
    return true;
  }

  // Writes what is in the page cache to the disk, then has ext4 meet an error: with
  // errors=remount-ro the kernel turns the file system read-only under the running server.
  // REQUIRES: can_turn_read_only(). True when a new file can no longer be made there.
  bool TurnReadOnly(std::string* error) {
    const int dir_fd = open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0 || syncfs(dir_fd) != 0) {
      *error += std::string("syncfs: ") + std::strerror(errno) + "; ";
      if (dir_fd >= 0) close(dir_fd);
      return false;
    }
    close(dir_fd);
    {
      std::ofstream trigger(trigger_);
      trigger << "hasivu reliability scenario 5: disk turned read-only";
      if (!trigger) {
        *error += "cannot write " + trigger_ + "; ";
        return false;
      }
    }
    const std::string probe = dir_ + "/probe";
    const int fd = open(probe.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) {
      close(fd);
      *error += "the file system still takes new files after the error; ";
      return false;
    }
    if (errno != EROFS) {
      *error += std::string("a new file met ") + std::strerror(errno) + ", not EROFS; ";
      return false;
    }
    return true;
  }

  // What an operator does about a file system that turned read-only: unmount, e2fsck, mount.
  // REQUIRES: the server is stopped.
  bool Repair(std::string* error) {
    if (!RunTool({"umount", dir_}, error)) return false;
    mounted_ = false;
    // 1: errors were corrected (the journal aborted by the error is replayed and cleaned).
    if (!RunTool({"e2fsck", "-f", "-y", image_}, error, {0, 1})) return false;
    return MountImage(error);
  }

 private:
  StoreDisk(std::string dir, uintmax_t bytes, DiskKind kind)
      : dir_(std::move(dir)), bytes_(bytes), kind_(kind) {}

  bool Set(std::string* log) {
    if (kind_ == DiskKind::kFileSizeLimit) return true;
    const std::string what = std::string(DiskKindName(kind_)) + ": ";
    std::string error;
    const std::string staging = testing::MakeTempDir("hasivu-disk-staging");
    bool ok = !staging.empty() && CopyEntries(dir_, staging, &error);
    if (ok && kind_ == DiskKind::kExt4) {
      work_ = testing::MakeTempDir("hasivu-disk");
      ok = !work_.empty();
      std::error_code ec;
      if (ok) {
        // Sparse: the image takes on its disk only what the file system writes.
        image_ = work_ + "/store.ext4";
        { std::ofstream(image_).put('\0'); }
        fs::resize_file(image_, bytes_, ec);
      }
      ok = ok && !ec &&
           RunTool({"mkfs.ext4", "-q", "-F", "-m", "0", "-E",
                    "lazy_itable_init=0,lazy_journal_init=0", image_},
                   &error) &&
           MountImage(&error);
    } else if (ok) {
      ok = RunTool({"mount", "-t", "tmpfs", "-o", "size=" + std::to_string(bytes_) + ",mode=0700",
                    "tmpfs", dir_},
                   &error);
      mounted_ = ok;
    }
    // The server's files onto the new file system (the originals stay hidden underneath).
    ok = ok && CopyEntries(staging, dir_, &error);
    if (!staging.empty()) {
      std::error_code ec;
      fs::remove_all(staging, ec);
    }
    if (!ok) *log += what + error;
    return ok;
  }

  bool MountImage(std::string* error) {
    if (!RunTool({"mount", "-o", "loop,errors=remount-ro", image_, dir_}, error)) return false;
    mounted_ = true;
    // The loop device behind the folder names ext4's sysfs entry.
    std::ifstream mounts("/proc/mounts");
    std::string source, target, rest;
    trigger_.clear();
    while (mounts >> source >> target && std::getline(mounts, rest)) {
      if (target != dir_ || source.rfind("/dev/", 0) != 0) continue;
      const std::string trigger =
          "/sys/fs/ext4/" + fs::path(source).filename().string() + "/trigger_fs_error";
      if (access(trigger.c_str(), W_OK) == 0) trigger_ = trigger;
    }
    return true;
  }

  const std::string dir_;
  const uintmax_t bytes_;
  const DiskKind kind_;
  std::string work_;   // holds the ext4 image
  std::string image_;  // ext4 only
  std::string trigger_;
  std::string ballast_;
  pid_t limited_ = 0;
  bool mounted_ = false;
};

std::vector<DiskKind> KindsToTry() {
  const char* forced = std::getenv("HASIVU_RELIABILITY_DISK");
  const std::string f = forced != nullptr ? forced : "";
  if (f == "ext4") return {DiskKind::kExt4};
  if (f == "tmpfs") return {DiskKind::kTmpfs};
  if (f == "fsize") return {DiskKind::kFileSizeLimit};
  return {DiskKind::kExt4, DiskKind::kTmpfs, DiskKind::kFileSizeLimit};
}

bool IsWrite(const std::string& function) {
  return function == "orders-create" || function == "payments-verify" ||
         function == "rfid-verify-card";
}

// A TRUNCATE checkpoint from the test's own connection: the log copied into the database file
// and cut to nothing. It waits for the server's readers and writer (its busy timeout); retried
// while they keep it busy.
bool TruncateLog(const SqlRunner& sql, std::string* error) {
  for (int attempt = 0; attempt < 20; ++attempt) {
    std::optional<std::string> busy = sql("PRAGMA wal_checkpoint(TRUNCATE)", error);
    if (!busy) return false;
    if (*busy == "0") return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  *error += "the log stayed busy; ";
  return false;
}

// One fault and its window.
struct Phase {
  std::string fault;  // "disk full" or "read-only"
  std::string code;   // the code writes are refused with
  Clock::time_point begin;
  Clock::time_point end;   // the fault lifted (space freed; the read-only disk's repair begins)
  Clock::time_point back;  // writes possible again (= end, or the server up after the repair)
  std::map<std::string, FunctionTally> at_begin;
  std::map<std::string, FunctionTally> at_end;
  // What the test's own probes got during the window.
  int healthz_ok = 0;
  int readyz_ok = 0;
  int probes = 0;
  std::vector<std::string> probe_problems;
  int login_refused = 0;  // 503 with the phase's code and Retry-After
  int login_ok = 0;
  int64_t ballast_bytes = 0;
};

// During the window, every ~250 ms: /healthz and /readyz must answer 200 (a disk that refuses
// writes does not make the server unready: reads go on, docs/operations.md), and a login (a
// write: it records a session), of the parents in turn, must answer 200 or 503 with the phase's
// code, Retry-After and none of SQLite's words.
void Probe(const ApiServer& server, const json::array& parents, Phase& phase,
           std::chrono::milliseconds length) {
  const Clock::time_point until = Clock::now() + length;
  size_t next = 0;
  while (Clock::now() < until) {
    ++phase.probes;
    const ApiResponse healthz = server.Call("GET", "/healthz");
    const ApiResponse readyz = server.Call("GET", "/readyz");
    if (healthz.status == 200) {
      ++phase.healthz_ok;
    } else {
      phase.probe_problems.push_back("/healthz " + std::to_string(healthz.status));
    }
    if (readyz.status == 200) {
      ++phase.readyz_ok;
    } else {
      phase.probe_problems.push_back("/readyz " + std::to_string(readyz.status) + " " +
                                     readyz.body.substr(0, 200));
    }
    const json::value& parent = parents.at(next++ % parents.size());
    const ApiResponse login =
        server.Call("POST", "/api/v1/auth/login", "",
                    testing::Json(json::object{{"email", testing::Str(parent, "email")},
                                               {"password", testing::Str(parent, "password")}}));
    if (login.status == 200) {
      ++phase.login_ok;
    } else if (login.status == 503 && login.ErrorCode() == phase.code &&
               !login.Header("retry-after").empty() &&
               login.body.find("sqlite") == std::string::npos) {
      ++phase.login_refused;
    } else {
      phase.probe_problems.push_back("login " + std::to_string(login.status) + " " +
                                     login.Header("retry-after") + " " + login.body.substr(0, 300));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

uint64_t ReadsNotOk(const FunctionTally& t) { return t.sent - t.ok; }

// What the writes met in a phase's window, from the settled campaign's attempts.
struct PhaseWrites {
  int answered = 0;
  int acknowledged = 0;
  int refused_with_code = 0;
  std::vector<std::string> other;  // any other answer or outcome in the window
  int refused_writes = 0;          // writes with a refused attempt in the window
  // From `back`: the first write acknowledged, and the last of the refused ones acknowledged.
  std::optional<double> first_ack_ms;
  std::optional<double> all_settled_ms;
  int unsettled = 0;  // refused in the window and never acknowledged
};

double MsBetween(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

PhaseWrites WritesIn(const Phase& phase, const std::vector<WriteRecord>& writes) {
  PhaseWrites out;
  for (const WriteRecord& w : writes) {
    bool refused_here = false;
    std::optional<Clock::time_point> acked_at;
    for (const Attempt& a : w.attempts) {
      const bool answered = a.outcome == Outcome::kAnswered;
      const bool ok = answered && a.status >= 200 && a.status < 300;
      if (ok || (answered && a.status == 409 && a.error_code == "ALREADY_DELIVERED")) {
        if (a.start >= phase.back &&
            (!out.first_ack_ms || MsBetween(phase.back, a.end) < *out.first_ack_ms)) {
          out.first_ack_ms = MsBetween(phase.back, a.end);
        }
        acked_at = a.end;
      }
      // Within the window: what ended after it met the repair's stop, not the disk.
      if (a.start < phase.begin || a.end > phase.end) continue;
      if (!answered) {
        out.other.push_back(w.function + ": " + std::string(OutcomeName(a.outcome)));
        continue;
      }
      ++out.answered;
      if (ok) {
        ++out.acknowledged;
      } else if (a.status == 503 && a.error_code == phase.code) {
        ++out.refused_with_code;
        refused_here = true;
      } else {
        out.other.push_back(w.function + ": " + std::to_string(a.status) + " " + a.error_code);
      }
    }
    if (!refused_here) continue;
    ++out.refused_writes;
    if (!acked_at) {
      ++out.unsettled;
    } else {
      const double ms = MsBetween(phase.back, *acked_at);
      if (!out.all_settled_ms || ms > *out.all_settled_ms) out.all_settled_ms = ms;
    }
  }
  return out;
}

// Waits until the campaign has `n` more writes acknowledged than now (or 30 s).
void WaitForWriteAcks(const Campaign& campaign, uint64_t n) {
  auto acked = [&] {
    uint64_t sum = 0;
    for (const auto& [function, t] : campaign.Tallies()) {
      if (IsWrite(function)) sum += t.ok;
    }
    return sum;
  };
  const uint64_t target = acked() + n;
  const Clock::time_point give_up = Clock::now() + std::chrono::seconds(30);
  while (acked() < target && Clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

json::object PhaseJson(const Phase& phase, const PhaseWrites& w) {
  json::object reads;
  std::vector<int64_t> window_us;
  for (const auto& [function, t] : phase.at_end) {
    if (IsWrite(function)) continue;
    const auto before = phase.at_begin.find(function);
    const FunctionTally none;
    const FunctionTally& b = before == phase.at_begin.end() ? none : before->second;
    reads[function] = json::object{{"sent", t.sent - b.sent}, {"ok", t.ok - b.ok}};
    // The latencies a tally recorded between the two snapshots are the window's.
    window_us.insert(window_us.end(), t.answered_us.begin() + b.answered_us.size(),
                     t.answered_us.end());
  }
  std::sort(window_us.begin(), window_us.end());
  const double reads_p99_ms =
      window_us.empty() ? 0 : window_us[window_us.size() * 99 / 100] / 1000.0;
  json::object out{{"fault", phase.fault},
                   {"code", phase.code},
                   {"windowMs", MsBetween(phase.begin, phase.end)},
                   {"downMs", MsBetween(phase.end, phase.back)},
                   {"ballastBytes", phase.ballast_bytes},
                   {"writesAnswered", w.answered},
                   {"writesAcknowledged", w.acknowledged},
                   {"writesRefused503", w.refused_with_code},
                   {"writesOther", w.other.size()},
                   {"refusedWrites", w.refused_writes},
                   {"refusedUnsettled", w.unsettled},
                   {"reads", reads},
                   {"readsP99Ms", reads_p99_ms},
                   {"probes", phase.probes},
                   {"healthzOk", phase.healthz_ok},
                   {"readyzOk", phase.readyz_ok},
                   {"loginOk", phase.login_ok},
                   {"loginRefused503", phase.login_refused}};
  if (w.first_ack_ms) out["firstWriteAckMs"] = *w.first_ack_ms;
  if (w.all_settled_ms) out["refusedSettledMs"] = *w.all_settled_ms;
  return out;
}

TEST(DiskTest, WritesAnswer503WhileTheDiskRefusesAndNothingIsLost) {
  const auto fault_length = std::chrono::milliseconds(EnvInt("HASIVU_RELIABILITY_FAULT_MS", 3000));
  std::string error;
  std::unique_ptr<ServerUnderTest> sut = ServerUnderTest::Start({}, &error);
  ASSERT_NE(sut, nullptr) << error;
  ApiServer& server = sut->server();
  const SqlRunner sql = sut->Sql();
  const std::string fixtures = sut->FixturesJson();
  json::array parents;
  for (const json::value& school : server.fixtures().at("schools").as_array()) {
    for (const json::value& p : school.at("parents").as_array()) parents.push_back(p);
  }
  ASSERT_FALSE(parents.empty());

  // The seeded store onto a disk of its own; the server is stopped while its files move.
  ASSERT_EQ(server.process().StopWith(SIGTERM), 0) << server.process().Stderr();
  std::string disk_log;
  const int writes_per_function = EnvInt("HASIVU_RELIABILITY_WRITES", 200);
  // Room for the seeded store (~3 MB), its log (up to 32 MB before the server checkpoints it),
  // the prepared writes and the run's (~128 KiB each in all, the log's growth under load
  // included); allocated only as used (a sparse image, or tmpfs pages).
  const uintmax_t disk_bytes = (64u << 20) + uintmax_t{3} * writes_per_function * (128u << 10);
  std::unique_ptr<StoreDisk> disk =
      StoreDisk::Under(server.data_dir(), disk_bytes, KindsToTry(), &disk_log);
  ASSERT_NE(disk, nullptr) << disk_log;
  std::cout << "disk: " << DiskKindName(disk->kind())
            << (disk_log.empty() ? "" : ", after: " + disk_log) << "\n";
  ASSERT_TRUE(server.Restart(SIGTERM, &error)) << error;

  CampaignSettings settings;
  settings.clients = EnvInt("HASIVU_RELIABILITY_CLIENTS", 16);
  settings.writes_per_function = writes_per_function;
  // Fresh writes go on through both faults and the time between them.
  const double run_seconds = 2.0 * std::chrono::duration<double>(fault_length).count() + 6.0;
  settings.write_rate = 3.0 * settings.writes_per_function / run_seconds;
  settings.run_tag = "disk";
  settings.checkout = sut->Checkout();
  auto campaign = Campaign::Prepare(server.port(), fixtures, settings);
  ASSERT_TRUE(campaign.ok()) << campaign.status().ToString() << "\n"
                             << server.process().Stderr().substr(0, 3000);
  StatusOr<StoreCounts> before = CountRows(sql);
  ASSERT_TRUE(before.ok()) << before.status().ToString();

  std::vector<Phase> phases;
  const Clock::time_point load_start = Clock::now();
  (*campaign)->Start();

  // Disk full: a ballast (or the file size limit) takes the space while the load runs; then the
  // space comes back and the server goes on without a restart.
  WaitForWriteAcks(**campaign, 40);
  {
    Phase& full = phases.emplace_back();
    full.fault = "disk full";
    full.code = "STORAGE_FULL";
    // The server's log grows until 8 000 pages (32 MB) before it is checkpointed and then reused
    // from its start, and reusing blocks a file already has needs no free block: a full disk
    // refuses only the writes that make a file grow. Truncated first, as the log is after a
    // restart, every commit grows it, so the fill is felt by the next write. The truncation
    // waits for every reader to leave the log, which a steady load never does: the clients
    // pause for it, and the disk then fills under the load.
    (*campaign)->Stop();
    ASSERT_TRUE(TruncateLog(sql, &error)) << error;
    (*campaign)->Start();
    full.at_begin = (*campaign)->Tallies();
    full.begin = Clock::now();
    full.ballast_bytes = disk->Fill(server.process().pid(), &error);
    ASSERT_GE(full.ballast_bytes, 0) << error;
    Probe(server, parents, full, fault_length);
    full.at_end = (*campaign)->Tallies();
    full.end = Clock::now();
    ASSERT_TRUE(disk->Free(server.process().pid(), &error)) << error;
    full.back = Clock::now();
    // Time for the refused writes to be resent and settle before the next fault.
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  }

  // Read-only: ext4 meets an error and the kernel turns it read-only under the server. What was
  // acknowledged before is synced first, with the clients paused for that instant: what a disk
  // error loses of writes not yet synced is the power-loss trade-off of synchronous=NORMAL
  // (docs/operations.md, "Durability"), not what this scenario measures.
  if (disk->can_turn_read_only()) {
    WaitForWriteAcks(**campaign, 40);
    Phase& ro = phases.emplace_back();
    ro.fault = "read-only";
    ro.code = "STORAGE_READ_ONLY";
    (*campaign)->Stop();
    ASSERT_TRUE(disk->TurnReadOnly(&error)) << error;
    ro.at_begin = (*campaign)->Tallies();
    ro.begin = Clock::now();
    (*campaign)->Start();
    Probe(server, parents, ro, fault_length);
    ro.at_end = (*campaign)->Tallies();
    ro.end = Clock::now();
    // The operator's repair: stop the server, unmount, e2fsck, mount, start it again.
    const int exit_code = server.process().StopWith(SIGTERM);
    EXPECT_EQ(exit_code, 0) << "the server's exit on a read-only disk: "
                            << server.process().Stderr().substr(0, 2000);
    ASSERT_TRUE(disk->Repair(&error)) << error;
    ASSERT_TRUE(server.Restart(SIGTERM, &error)) << error;
    ro.back = Clock::now();
  }

  const bool settled = (*campaign)->Settle(std::chrono::seconds(60));
  const double load_seconds = std::chrono::duration<double>(Clock::now() - load_start).count();
  const std::vector<std::string> replays = (*campaign)->CheckReplays();
  const StoreCheck check =
      CheckStore(sql, /*postgres=*/false, *before, (*campaign)->writes(), (*campaign)->base_date());

  json::array phase_lines;
  std::vector<PhaseWrites> phase_writes;
  for (const Phase& p : phases) {
    phase_writes.push_back(WritesIn(p, (*campaign)->writes()));
    phase_lines.push_back(PhaseJson(p, phase_writes.back()));
  }
  // How much of the disk the store took by the end (the database and its log).
  uintmax_t store_bytes = 0;
  for (const char* file : {"/hasivu.db", "/hasivu.db-wal"}) {
    std::error_code ec;
    const uintmax_t n = fs::file_size(server.data_dir() + file, ec);
    if (!ec) store_bytes += n;
  }
  json::object line{
      {"scenario", "disk full and read-only"},
      {"backend", "sqlite"},
      {"disk", DiskKindName(disk->kind())},
      {"diskBytes", disk_bytes},
      {"storeBytes", store_bytes},
      {"clients", settings.clients},
      {"loadSeconds", load_seconds},
      {"phases", phase_lines},
      {"readOnlyPart",
       disk->can_turn_read_only() ? std::string("run") : "not run: " + disk->why_not_read_only()},
      {"requests", TallyJson((*campaign)->Tallies())},
      {"writes", WritesJson(**campaign, check)},
      {"replayMismatches", replays.size()}};
  std::cout << Summary(line) << "\n";
  AppendReportLine(line);

  // Unmounted before the store's folder is removed; the server first, which holds its files.
  server.process().StopWith(SIGTERM);
  disk.reset();

  EXPECT_TRUE(settled) << "writes still unsettled after 60 s";
  int shown = 0;
  for (const WriteRecord& w : (*campaign)->writes()) {
    if (w.state != WriteState::kPending || w.attempts.empty() || ++shown > 5) continue;
    const Attempt& last = w.attempts.back();
    ADD_FAILURE() << w.function << " unsettled; its last attempt: " << OutcomeName(last.outcome)
                  << " " << last.status << " " << last.error_code;
  }
  for (const std::string& r : replays) ADD_FAILURE() << "replay: " << r;
  for (const std::string& v : check.violations) ADD_FAILURE() << "store: " << v;
  for (const auto& [function, t] : (*campaign)->Tallies()) {
    EXPECT_EQ(t.server_error, 0u) << function << " got 5xx other than 503";
    EXPECT_EQ(t.timed_out, 0u) << function;
  }
  for (size_t i = 0; i < phases.size(); ++i) {
    const Phase& p = phases[i];
    const PhaseWrites& w = phase_writes[i];
    // The fault was real: writes were refused, with the code that says why.
    EXPECT_GT(w.refused_with_code, 0) << p.fault << ": no write answered 503 " << p.code;
    EXPECT_GT(p.login_refused, 0) << p.fault << ": no login answered 503 " << p.code;
    for (const std::string& o : w.other) ADD_FAILURE() << p.fault << ": a write met " << o;
    for (const std::string& o : p.probe_problems) ADD_FAILURE() << p.fault << ": probe " << o;
    // Reads went on: every read ended in the window was answered 200.
    uint64_t reads_ok = 0;
    for (const auto& [function, t] : p.at_end) {
      if (IsWrite(function)) continue;
      const auto b = p.at_begin.find(function);
      const FunctionTally none;
      const FunctionTally& before_window = b == p.at_begin.end() ? none : b->second;
      reads_ok += t.ok - before_window.ok;
      EXPECT_EQ(ReadsNotOk(t), ReadsNotOk(before_window))
          << p.fault << ": " << function << " not all 200";
    }
    EXPECT_GT(reads_ok, 0u) << p.fault << ": no read answered in the window";
    // Writes work again once the fault is lifted, and the refused ones settle.
    EXPECT_TRUE(w.first_ack_ms.has_value()) << p.fault << ": no write acknowledged afterwards";
    EXPECT_EQ(w.unsettled, 0) << p.fault;
  }
}

}  // namespace
}  // namespace hasivu::reliability
