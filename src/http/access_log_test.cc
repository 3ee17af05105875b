#include "http/access_log.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <malloc.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace hasivu::http {
namespace {

// A sink that records every line and, while closed, holds the writer inside the sink.
class GatedSink {
 public:
  AccessLogSink sink() {
    return [this](std::span<const std::string> lines) {
      std::unique_lock lock(mu_);
      if (!entered_) {
        entered_ = true;
        entered_promise_.set_value();
      }
      cv_.wait(lock, [this] { return open_; });
      received_.insert(received_.end(), lines.begin(), lines.end());
    };
  }
  void Open() {
    {
      std::lock_guard lock(mu_);
      open_ = true;
    }
    cv_.notify_all();
  }
  void WaitUntilEntered() { entered_future_.wait(); }
  std::vector<std::string> received() {
    std::lock_guard lock(mu_);
    return received_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
  bool entered_ = false;
  std::promise<void> entered_promise_;
  std::future<void> entered_future_ = entered_promise_.get_future();
  std::vector<std::string> received_;
};

class AccessLogQueueTest : public ::testing::Test {
 protected:
  metrics::RegistryPtr registry_ = metrics::NewRegistry();
  metrics::Counter& written_ = registry_->GetCounter("written_total", "");
  metrics::Counter& dropped_ = registry_->GetCounter("dropped_total", "");
};

TEST_F(AccessLogQueueTest, EveryLineReachesTheSinkInOrderByClose) {
  std::vector<std::string> got;
  {
    AccessLogQueue queue(
        1000,
        [&got](std::span<const std::string> lines) {
          got.insert(got.end(), lines.begin(), lines.end());
        },
        written_, dropped_);
    for (int i = 0; i < 200; ++i) queue.Write("line " + std::to_string(i));
    queue.Close();
    queue.Close();  // idempotent
    queue.Write("after close");
  }
  ASSERT_EQ(got.size(), 200u);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(got[i], "line " + std::to_string(i));
  EXPECT_EQ(written_.Value(), 200u);
  EXPECT_EQ(dropped_.Value(), 1u);  // the line after Close()
}

TEST_F(AccessLogQueueTest, ABlockedSinkDropsWhatDoesNotFitAndCountsIt) {
  GatedSink gate;
  AccessLogQueue queue(4, gate.sink(), written_, dropped_);
  queue.Write("first");
  gate.WaitUntilEntered();  // the writer holds "first" inside the sink
  for (int i = 0; i < 14; ++i) queue.Write("more " + std::to_string(i));  // returns at once
  // Four fit in the queue behind the stuck batch; the other ten are dropped.
  EXPECT_EQ(dropped_.Value(), 10u);
  EXPECT_EQ(written_.Value(), 0u);
  gate.Open();
  queue.Close();
  const std::vector<std::string> received = gate.received();
  ASSERT_EQ(received.size(), 5u);
  EXPECT_EQ(received[0], "first");
  EXPECT_EQ(received[4], "more 3");
  EXPECT_EQ(written_.Value(), 5u);
  EXPECT_EQ(written_.Value() + dropped_.Value(), 15u);
}

TEST_F(AccessLogQueueTest, TheQueuedGaugeCountsLinesNotYetHandedToTheSink) {
  metrics::Gauge& queued = registry_->GetGauge("queued_lines", "");
  GatedSink gate;
  AccessLogQueue queue(4, gate.sink(), written_, dropped_, &queued);
  queue.Write("first");
  gate.WaitUntilEntered();  // the writer holds "first" inside the sink
  EXPECT_EQ(queued.Value(), 1);
  for (int i = 0; i < 6; ++i) queue.Write("more " + std::to_string(i));
  // The batch in the sink and the four behind it; the two dropped are not queued.
  EXPECT_EQ(queued.Value(), 5);
  gate.Open();
  queue.Close();
  EXPECT_EQ(queued.Value(), 0);
  EXPECT_EQ(written_.Value(), 5u);
}

TEST_F(AccessLogQueueTest, AThrowingSinkLosesItsBatchButKeepsWriting) {
  std::vector<std::string> got;
  std::promise<void> failed;
  AccessLogQueue queue(
      100,
      [&](std::span<const std::string> lines) {
        if (lines.front() == "boom") {
          failed.set_value();
          throw std::runtime_error("disk full");
        }
        got.insert(got.end(), lines.begin(), lines.end());
      },
      written_, dropped_);
  queue.Write("boom");
  failed.get_future().wait();
  queue.Write("fine");
  queue.Close();
  EXPECT_EQ(got, std::vector<std::string>{"fine"});
  EXPECT_EQ(written_.Value(), 1u);
  EXPECT_EQ(dropped_.Value(), 1u);
}

// A deep burst's slots give their storage back once written: the queue keeps storage for its
// first slots only, so what it holds does not creep up with the deepest burst of a long run.
TEST_F(AccessLogQueueTest, ADeepBurstLeavesNoStorageBehindOnceWritten) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "a sanitizer's allocator replaces glibc's";
#endif
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  std::atomic<bool> entered = false;
  metrics::Gauge& queued = registry_->GetGauge("queued", "");
  AccessLogQueue queue(
      8192,
      [&](std::span<const std::string>) {
        std::unique_lock lock(mu);
        entered = true;
        cv.wait(lock, [&] { return open; });
      },
      written_, dropped_, &queued);
  // The writer's first batch (one line) holds it in the sink while the burst queues up.
  queue.Write("first");
  while (!entered) std::this_thread::yield();
  const size_t before = mallinfo2().uordblks;
  const std::string line(600, 'x');
  for (int i = 0; i < 8000; ++i) queue.Write(line);
  {
    std::lock_guard lock(mu);
    open = true;
  }
  cv.notify_all();
  while (written_.Value() < 8001) std::this_thread::yield();
  // Give the writer the moment after the sink returns, where it frees the batch's slots.
  queue.Write("last");
  while (written_.Value() < 8002) std::this_thread::yield();
  const double retained = static_cast<double>(mallinfo2().uordblks) - static_cast<double>(before);
  // The burst took 8000 * 600 B = 4.8 MB; 256 slots of 600 B (and the batch vector's) stay.
  EXPECT_LT(retained, 1e6) << "retained " << retained << " bytes";
  EXPECT_EQ(dropped_.Value(), 0u);
}

TEST(StdioAccessLogSinkTest, WritesEachBatchAsNewlineEndedLines) {
  std::FILE* file = std::tmpfile();
  ASSERT_NE(file, nullptr);
  metrics::RegistryPtr registry = metrics::NewRegistry();
  metrics::Counter& written = registry->GetCounter("w", "");
  metrics::Counter& dropped = registry->GetCounter("d", "");
  {
    AccessLogQueue queue(16, NewStdioAccessLogSink(file), written, dropped);
    for (int i = 0; i < 5; ++i) queue.Write(R"({"n":)" + std::to_string(i) + "}");
    queue.Close();
  }
  std::rewind(file);
  std::string text(256, '\0');
  text.resize(std::fread(text.data(), 1, text.size(), file));
  std::fclose(file);
  EXPECT_EQ(text, "{\"n\":0}\n{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n{\"n\":4}\n");
  EXPECT_EQ(written.Value(), 5u);
  EXPECT_EQ(dropped.Value(), 0u);
}

TEST(StdioAccessLogSinkTest, AStuckPipeHoldsOnlyTheWriterThread) {
  // A pipe nobody reads, filled to the brim: the sink's fwrite blocks in the writer thread.
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ASSERT_EQ(::fcntl(fds[1], F_SETFL, O_NONBLOCK), 0);
  const std::string chunk(4096, 'x');
  while (::write(fds[1], chunk.data(), chunk.size()) > 0) {
  }
  ASSERT_EQ(::fcntl(fds[1], F_SETFL, 0), 0);  // blocking again
  std::FILE* out = ::fdopen(fds[1], "w");
  ASSERT_NE(out, nullptr);
  metrics::RegistryPtr registry = metrics::NewRegistry();
  metrics::Counter& written = registry->GetCounter("w", "");
  metrics::Counter& dropped = registry->GetCounter("d", "");
  auto queue = std::make_unique<AccessLogQueue>(4, NewStdioAccessLogSink(out), written, dropped);
  // Every Write returns (lines beyond the queue's room are dropped), and the diagnostics logger,
  // which a request thread also uses, is not held up by the stuck stdout.
  for (int i = 0; i < 100; ++i) queue->Write("line " + std::to_string(i));
  spdlog::warn("access_log_test: logging while the access log's pipe is stuck");
  EXPECT_GE(dropped.Value(), 100u - 2 * 4);
  // Drain the pipe so the writer can finish; every line is then written or counted as dropped.
  std::thread reader([fd = fds[0]] {
    char buf[65536];
    while (::read(fd, buf, sizeof(buf)) > 0) {
    }
  });
  queue->Close();
  EXPECT_EQ(written.Value() + dropped.Value(), 100u);
  queue.reset();
  std::fclose(out);  // EOF for the reader
  reader.join();
  ::close(fds[0]);
}

}  // namespace
}  // namespace hasivu::http
