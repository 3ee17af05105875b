#include "metrics/emf_flusher.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>

namespace hasivu::metrics {
namespace {

using std::chrono::milliseconds;

// What a test sink saw, shared with the test (the flusher owns the sink itself).
struct SinkState {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> lines;
  int flushes = 0;
  bool fail = false;
  // While `hold` is set, WriteLine blocks (after saying so through `entered`).
  bool hold = false;
  bool entered = false;
};

class TestSink final : public EmfSink {
 public:
  explicit TestSink(std::shared_ptr<SinkState> s) : s_(std::move(s)) {}
  bool WriteLine(std::string_view line) override {
    std::unique_lock lock(s_->mu);
    s_->entered = true;
    s_->cv.notify_all();
    s_->cv.wait(lock, [&] { return !s_->hold; });
    if (s_->fail) return false;
    s_->lines.emplace_back(line);
    return true;
  }
  bool Flush() override {
    std::lock_guard lock(s_->mu);
    ++s_->flushes;
    return true;
  }

 private:
  std::shared_ptr<SinkState> s_;
};

// A collect function handing out `n` series per call, each call's values distinct.
struct Source {
  std::atomic<int> calls{0};
  int series = 1;
  std::vector<SeriesInterval> operator()() {
    const int call = ++calls;
    std::vector<SeriesInterval> out;
    for (int i = 0; i < series; ++i) {
      SeriesInterval s;
      // One dimension set per series: one document each.
      s.info = {
          "ApiRequests", Unit::kCount, {{"Function", "f" + std::to_string(i)}}, Aggregation::kSum};
      s.data.count = 1;
      s.data.sum = call;
      out.push_back(std::move(s));
    }
    return out;
  }
};

EmfFlusherSettings ManualSettings() {
  EmfFlusherSettings s;
  s.run_timer = false;
  return s;
}

const FixedClock kClock(std::chrono::system_clock::time_point(milliseconds(1760431200000)));

TEST(EmfFlusherTest, FlushNowWritesEachDocumentAsALine) {
  auto state = std::make_shared<SinkState>();
  Source source;
  source.series = 3;
  RegistryPtr registry = NewRegistry();
  EmfFlusher flusher(ManualSettings(), std::ref(source), std::make_unique<TestSink>(state), kClock,
                     *registry);
  EXPECT_EQ(flusher.FlushNow(), 3u);
  flusher.WaitIdle();
  {
    std::lock_guard lock(state->mu);
    ASSERT_EQ(state->lines.size(), 3u);
    for (const std::string& line : state->lines) {
      const boost::json::object doc = boost::json::parse(line).as_object();
      EXPECT_EQ(doc.at("_aws").at("Timestamp").as_int64(), 1760431200000);
      EXPECT_EQ(doc.at("ApiRequests").as_int64(), 1);
    }
    EXPECT_GE(state->flushes, 1);
  }
  EXPECT_EQ(flusher.documents_written(), 3u);
  EXPECT_EQ(source.calls, 1);
  const std::string text = registry->RenderPrometheus();
  EXPECT_NE(text.find("hasivu_emf_documents_total 3"), std::string::npos) << text;
}

TEST(EmfFlusherTest, StopFlushesTheLastIntervalAndTheDestructorStops) {
  auto state = std::make_shared<SinkState>();
  Source source;
  RegistryPtr registry = NewRegistry();
  {
    EmfFlusher flusher(ManualSettings(), std::ref(source), std::make_unique<TestSink>(state),
                       kClock, *registry);
    flusher.FlushNow();
    // No Stop(): the destructor flushes the last interval and writes it before returning.
  }
  EXPECT_EQ(source.calls, 2);
  std::lock_guard lock(state->mu);
  ASSERT_EQ(state->lines.size(), 2u);
  EXPECT_NE(state->lines[1].find(R"("ApiRequests":2)"), std::string::npos) << state->lines[1];
}

TEST(EmfFlusherTest, StopIsIdempotentAndFlushNowAfterStopDoesNothing) {
  auto state = std::make_shared<SinkState>();
  Source source;
  RegistryPtr registry = NewRegistry();
  EmfFlusher flusher(ManualSettings(), std::ref(source), std::make_unique<TestSink>(state), kClock,
                     *registry);
  flusher.Stop();
  flusher.Stop();
  EXPECT_EQ(flusher.FlushNow(), 0u);
  EXPECT_EQ(source.calls, 1);  // the one flush of Stop()
  EXPECT_EQ(flusher.documents_written(), 1u);
}

TEST(EmfFlusherTest, AFullQueueDropsLinesAndCountsThem) {
  auto state = std::make_shared<SinkState>();
  state->hold = true;
  Source source;
  RegistryPtr registry = NewRegistry();
  EmfFlusherSettings settings = ManualSettings();
  settings.max_queued_lines = 2;
  EmfFlusher flusher(settings, std::ref(source), std::make_unique<TestSink>(state), kClock,
                     *registry);
  // One line, taken by the writer, which then blocks in the sink: the queue is empty again.
  EXPECT_EQ(flusher.FlushNow(), 1u);
  {
    std::unique_lock lock(state->mu);
    state->cv.wait(lock, [&] { return state->entered; });
  }
  source.series = 5;
  EXPECT_EQ(flusher.FlushNow(), 2u);  // 2 fit, 3 dropped
  EXPECT_EQ(flusher.documents_dropped(), 3u);
  {
    std::lock_guard lock(state->mu);
    state->hold = false;
  }
  state->cv.notify_all();
  flusher.WaitIdle();
  EXPECT_EQ(flusher.documents_written(), 3u);
  const std::string text = registry->RenderPrometheus();
  EXPECT_NE(text.find(R"(hasivu_emf_dropped_documents_total{reason="queue_full"} 3)"),
            std::string::npos)
      << text;
}

TEST(EmfFlusherTest, TheQueuedGaugeCountsLinesNotYetWritten) {
  auto state = std::make_shared<SinkState>();
  state->hold = true;
  Source source;
  RegistryPtr registry = NewRegistry();
  EmfFlusher flusher(ManualSettings(), std::ref(source), std::make_unique<TestSink>(state), kClock,
                     *registry);
  Gauge& queued = registry->GetGauge("hasivu_emf_queued_lines", "");
  EXPECT_EQ(queued.Value(), 0);
  EXPECT_EQ(flusher.FlushNow(), 1u);
  {
    std::unique_lock lock(state->mu);
    state->cv.wait(lock, [&] { return state->entered; });
  }
  // The line in the sink is not written yet; three more wait behind it.
  source.series = 3;
  EXPECT_EQ(flusher.FlushNow(), 3u);
  EXPECT_EQ(queued.Value(), 4);
  {
    std::lock_guard lock(state->mu);
    state->hold = false;
  }
  state->cv.notify_all();
  flusher.WaitIdle();
  EXPECT_EQ(queued.Value(), 0);
  EXPECT_EQ(flusher.documents_written(), 4u);
}

TEST(EmfFlusherTest, FailedWritesAreCountedAsDropped) {
  auto state = std::make_shared<SinkState>();
  state->fail = true;
  Source source;
  source.series = 4;
  RegistryPtr registry = NewRegistry();
  EmfFlusher flusher(ManualSettings(), std::ref(source), std::make_unique<TestSink>(state), kClock,
                     *registry);
  flusher.FlushNow();
  flusher.WaitIdle();
  EXPECT_EQ(flusher.documents_written(), 0u);
  EXPECT_EQ(flusher.documents_dropped(), 4u);
  EXPECT_NE(registry->RenderPrometheus().find(
                R"(hasivu_emf_dropped_documents_total{reason="write_error"} 4)"),
            std::string::npos);
}

TEST(EmfFlusherTest, ScaledAwayValuesAreCounted) {
  auto state = std::make_shared<SinkState>();
  RegistryPtr registry = NewRegistry();
  EmfFlusherSettings settings = ManualSettings();
  settings.limits.max_values_per_series = 10;
  auto collect = [] {
    SeriesInterval s;
    s.info = {"ApiLatency", Unit::kMilliseconds, {{"Function", "f"}}, Aggregation::kDistribution};
    s.data = {.count = 25, .sum = 50, .min = 1, .max = 3, .values = {{1, 10}, {2, 10}, {3, 5}}};
    return std::vector<SeriesInterval>{s};
  };
  EmfFlusher flusher(settings, collect, std::make_unique<TestSink>(state), kClock, *registry);
  flusher.FlushNow();
  flusher.WaitIdle();
  EXPECT_EQ(flusher.values_dropped(), 15u);
  EXPECT_NE(registry->RenderPrometheus().find("hasivu_emf_dropped_values_total 15"),
            std::string::npos);
}

TEST(EmfFlusherTest, TheTimerFlushesOnItsOwn) {
  auto state = std::make_shared<SinkState>();
  RegistryPtr registry = NewRegistry();
  std::mutex mu;
  std::condition_variable cv;
  int calls = 0;
  auto collect = [&] {
    std::lock_guard lock(mu);
    ++calls;
    cv.notify_all();
    return std::vector<SeriesInterval>{};
  };
  EmfFlusherSettings settings;
  settings.interval = milliseconds(1);
  EmfFlusher flusher(settings, collect, std::make_unique<TestSink>(state), kClock, *registry);
  {
    // Waits for the timer's calls (no sleep, no time asserted): it must come on its own.
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return calls >= 2; });
  }
  flusher.Stop();
}

TEST(EmfFlusherTest, FileSinkAppendsAndBadPathsFail) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("emf_flusher_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "emf.log").string();
  for (const char* line : {"{\"a\":1}", "{\"b\":2}"}) {
    StatusOr<EmfSinkPtr> sink = OpenEmfSink(path);
    ASSERT_TRUE(sink.ok()) << sink.status().ToString();
    EXPECT_TRUE((*sink)->WriteLine(line));
    EXPECT_TRUE((*sink)->Flush());
  }
  std::ifstream in(path);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "{\"a\":1}\n{\"b\":2}\n");
  StatusOr<EmfSinkPtr> bad = OpenEmfSink((dir / "missing" / "emf.log").string());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("missing/emf.log"), std::string::npos);
  EXPECT_FALSE(OpenEmfSink("").ok());
  EXPECT_TRUE(OpenEmfSink("-").ok());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace hasivu::metrics
