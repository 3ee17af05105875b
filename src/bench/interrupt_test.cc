#include "bench/interrupt.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include "bench/server_process.h"

namespace hasivu::bench {
namespace {

// The state letter of /proc/<pid>/stat ('Z' once it has exited and waits to be reaped).
char StateOf(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(in, line);
  const size_t paren = line.rfind(')');
  return paren == std::string::npos || paren + 2 >= line.size() ? '?' : line[paren + 2];
}

ProcessOptions Listening(int port) {
  ProcessOptions o;
  o.argv = {"/bin/sh", "-c",
            "echo 'listening on http://127.0.0.1:" + std::to_string(port) + "'; exec sleep 60"};
  return o;
}

// One test: an interruption lasts for the rest of the process.
TEST(InterruptTest, SigtermStopsRegisteredChildrenRefusesNewOnesAndSparesTheBench) {
  InstallInterruptHandler();
  InstallInterruptHandler();  // idempotent
  EXPECT_FALSE(Interrupted());
  auto a = ServerProcess::Start(Listening(40001));
  auto b = ServerProcess::Start(Listening(40002));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  // A child stopped before the signal is forgotten; stopping it again is refused, not a crash.
  ASSERT_TRUE((*b)->Stop().ok());

  ASSERT_EQ(::raise(SIGTERM), 0);  // the bench survives its own handler
  EXPECT_TRUE(Interrupted());
  const pid_t pid = (*a)->pid();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (StateOf(pid) != 'Z' && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(StateOf(pid), 'Z') << "the running child got SIGTERM from the handler";
  auto stopped = (*a)->Stop();
  ASSERT_TRUE(stopped.ok()) << stopped.status().ToString();
  EXPECT_EQ(*stopped, 128 + SIGTERM);

  EXPECT_FALSE((*b)->Stop().ok());
  auto refused = ServerProcess::Start(Listening(40003));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("interrupted"), std::string::npos);
}

}  // namespace
}  // namespace hasivu::bench
