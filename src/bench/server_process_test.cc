#include "bench/server_process.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

namespace hasivu::bench {
namespace {

class ServerProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/hasivu-server-process-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    log_ = dir_ + "/log";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  ProcessOptions Shell(const std::string& script) {
    ProcessOptions o;
    o.argv = {"/bin/sh", "-c", script};
    o.log_path = log_;
    o.ready_timeout = std::chrono::milliseconds(5000);
    o.stop_timeout = std::chrono::milliseconds(5000);
    return o;
  }

  std::string dir_;
  std::string log_;
};

TEST_F(ServerProcessTest, TheListeningLineGivesThePortAndStopEndsTheProcessByItsPid) {
  auto p = ServerProcess::Start(
      Shell("echo 'hasivu listening on http://127.0.0.1:43210 (store: sqlite)'; exec sleep 30"));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ((*p)->port(), 43210);
  EXPECT_GT((*p)->pid(), 0);
  EXPECT_GE((*p)->ready_at(), (*p)->spawned_at());
  const pid_t pid = (*p)->pid();
  auto code = (*p)->Stop();
  ASSERT_TRUE(code.ok()) << code.status().ToString();
  EXPECT_EQ(*code, 128 + SIGTERM);
  EXPECT_FALSE((*p)->running());
  EXPECT_NE(::kill(pid, 0), 0);  // reaped: the PID names no process of ours any more
}

TEST_F(ServerProcessTest, BracketedIpv6AndLinesBeforeTheListeningOneAreHandled) {
  auto p = ServerProcess::Start(
      Shell("echo 'starting'; echo 'seeded 3 schools'; "
            "echo 'hasivu listening on http://[::1]:8081 (store: postgresql)'; exec sleep 30"));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ((*p)->port(), 8081);
  ASSERT_TRUE((*p)->Stop().ok());
  // Everything the process printed, before and after the line, is in the log.
  std::string log = TailOfFile(log_, 10);
  EXPECT_NE(log.find("seeded 3 schools"), std::string::npos);
  EXPECT_NE(log.find("listening on"), std::string::npos);
}

TEST_F(ServerProcessTest, TheEnvironmentIsPassedToTheChild) {
  ProcessOptions o =
      Shell("echo \"x listening on http://127.0.0.1:$BENCH_TEST_PORT\"; exec sleep 30");
  o.env = {"BENCH_TEST_PORT=4321"};
  auto p = ServerProcess::Start(o);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ((*p)->port(), 4321);
}

TEST_F(ServerProcessTest, AProcessThatExitsBeforeListeningIsUnavailableWithItsLog) {
  auto p = ServerProcess::Start(Shell("echo 'boom: the store is locked' >&2; exit 2"));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(p.status().message().find("exited before it listened"), std::string::npos);
  EXPECT_NE(p.status().message().find("boom: the store is locked"), std::string::npos);
}

TEST_F(ServerProcessTest, ASilentProcessTimesOutAndIsStopped) {
  ProcessOptions o = Shell("exec sleep 30");
  o.ready_timeout = std::chrono::milliseconds(300);
  auto p = ServerProcess::Start(o);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("did not listen within 300 ms"), std::string::npos);
}

TEST_F(ServerProcessTest, AProgramThatDoesNotExistIsUnavailable) {
  ProcessOptions o;
  o.argv = {dir_ + "/no-such-program"};
  o.log_path = log_;
  auto p = ServerProcess::Start(o);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kUnavailable);
}

TEST_F(ServerProcessTest, ReadyPortWaitsForTheConnectionAndNotForALine) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(fd, 16), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ProcessOptions o = Shell("exec sleep 30");
  o.ready_port = ntohs(addr.sin_port);
  auto p = ServerProcess::Start(o);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ((*p)->port(), ntohs(addr.sin_port));
  ::close(fd);
}

TEST_F(ServerProcessTest, AProcessIgnoringSigtermIsKilledAndSaidSo) {
  ProcessOptions o = Shell(
      "trap '' TERM; echo 'listening on http://127.0.0.1:9999'; while :; do sleep 0.05; done");
  o.stop_timeout = std::chrono::milliseconds(300);
  auto p = ServerProcess::Start(o);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  auto code = (*p)->Stop();
  ASSERT_FALSE(code.ok());
  EXPECT_EQ(code.status().code(), StatusCode::kInternal);
  EXPECT_FALSE((*p)->running());
}

TEST_F(ServerProcessTest, OutputAfterTheLineIsDrainedSoTheChildNeverBlocks) {
  // 1 MiB after the line: far more than a pipe holds; without the drain the child would block
  // in write and never reach the marker file.
  const std::string marker = dir_ + "/wrote-all";
  auto p =
      ServerProcess::Start(Shell("echo 'listening on http://127.0.0.1:9998'; "
                                 "head -c 1048576 /dev/zero; touch " +
                                 marker + "; exec sleep 30"));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  for (int i = 0; i < 500 && !std::filesystem::exists(marker); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(std::filesystem::exists(marker));
  ASSERT_TRUE((*p)->Stop().ok());
  EXPECT_GE(std::filesystem::file_size(log_), 1048576u);
}

}  // namespace
}  // namespace hasivu::bench
