#include "metrics/emf_flusher.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace hasivu::metrics {
namespace {

class FileEmfSink final : public EmfSink {
 public:
  FileEmfSink(std::FILE* file, bool owned) : file_(file), owned_(owned) {}
  ~FileEmfSink() override {
    if (owned_) std::fclose(file_);
  }
  bool WriteLine(std::string_view line) override {
    // One fwrite per line: stdio locks the FILE per call, so a line written here never
    // interleaves with another thread's (the access log also writes to stdout).
    line_.assign(line);
    line_.push_back('\n');
    return std::fwrite(line_.data(), 1, line_.size(), file_) == line_.size();
  }
  bool Flush() override { return std::fflush(file_) == 0; }

 private:
  std::FILE* const file_;
  const bool owned_;
  std::string line_;
};

}  // namespace

EmfSinkPtr NewFileEmfSink(std::FILE* file, bool owned) {
  return std::make_unique<FileEmfSink>(file, owned);
}

StatusOr<EmfSinkPtr> OpenEmfSink(const std::string& output) {
  if (output.empty()) return InvalidArgumentError("EMF output: empty");
  if (output == "-") return NewFileEmfSink(stdout, false);
  const int fd = ::open(output.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    return UnavailableError("cannot open " + output + " for appending: " + std::strerror(errno));
  }
  std::FILE* file = ::fdopen(fd, "a");
  if (file == nullptr) {
    const int err = errno;
    ::close(fd);
    return UnavailableError("cannot open " + output + ": " + std::strerror(err));
  }
  return NewFileEmfSink(file, true);
}

EmfFlusher::EmfFlusher(EmfFlusherSettings settings, CollectFn collect, EmfSinkPtr sink,
                       const Clock& clock, Registry& registry)
    : settings_(std::move(settings)),
      collect_(std::move(collect)),
      sink_(std::move(sink)),
      clock_(clock),
      written_(
          registry.GetCounter("hasivu_emf_documents_total", "CloudWatch EMF documents written")),
      dropped_queue_full_(registry.GetCounter("hasivu_emf_dropped_documents_total",
                                              "CloudWatch EMF documents not written",
                                              {{"reason", "queue_full"}})),
      dropped_write_error_(registry.GetCounter("hasivu_emf_dropped_documents_total",
                                               "CloudWatch EMF documents not written",
                                               {{"reason", "write_error"}})),
      dropped_oversize_(registry.GetCounter("hasivu_emf_dropped_documents_total",
                                            "CloudWatch EMF documents not written",
                                            {{"reason", "oversize"}})),
      dropped_values_(registry.GetCounter(
          "hasivu_emf_dropped_values_total",
          "Observations of distributions not sent in CloudWatch EMF documents")),
      queued_(registry.GetGauge("hasivu_emf_queued_lines",
                                "CloudWatch EMF lines queued and not yet written")),
      writer_([this] { WriterLoop(); }) {
  if (settings_.run_timer) {
    timer_ = std::make_unique<PeriodicThread>(settings_.interval, [this] { FlushNow(); });
  }
}

EmfFlusher::~EmfFlusher() { Stop(); }

uint64_t EmfFlusher::documents_dropped() const {
  return dropped_queue_full_.Value() + dropped_write_error_.Value() + dropped_oversize_.Value();
}

size_t EmfFlusher::FlushNow() {
  std::lock_guard flush_lock(flush_mu_);
  if (flush_stopped_) return 0;
  std::vector<SeriesInterval> intervals = collect_();
  const int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch())
          .count();
  EmfStats stats;
  std::vector<std::string> lines = EncodeEmf(intervals, now_ms, settings_.limits, &stats);
  if (stats.values_dropped > 0) dropped_values_.Add(stats.values_dropped);
  if (stats.oversize_documents > 0) dropped_oversize_.Add(stats.oversize_documents);
  size_t queued = 0;
  {
    std::lock_guard lock(mu_);
    for (std::string& line : lines) {
      if (queue_.size() >= settings_.max_queued_lines) break;
      queue_.push_back(std::move(line));
      ++queued;
    }
    // Under the lock, so the writer's subtraction of these lines always comes after.
    queued_.Add(static_cast<int64_t>(queued));
  }
  if (queued < lines.size()) dropped_queue_full_.Add(lines.size() - queued);
  if (queued > 0) wake_writer_.notify_one();
  return queued;
}

void EmfFlusher::WaitIdle() {
  std::unique_lock lock(mu_);
  idle_.wait(lock, [this] { return queue_.empty() && !writing_; });
}

void EmfFlusher::Stop() {
  std::call_once(stop_once_, [this] {
    if (timer_) timer_->Stop();
    FlushNow();
    {
      std::lock_guard flush_lock(flush_mu_);
      flush_stopped_ = true;
    }
    {
      std::lock_guard lock(mu_);
      writer_stop_ = true;
    }
    wake_writer_.notify_all();
    writer_.join();
  });
}

void EmfFlusher::WriterLoop() {
  std::deque<std::string> batch;
  std::unique_lock lock(mu_);
  while (true) {
    wake_writer_.wait(lock, [this] { return writer_stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and everything is written
    batch.swap(queue_);
    writing_ = true;
    lock.unlock();
    uint64_t ok = 0, failed = 0;
    for (const std::string& line : batch) {
      if (sink_->WriteLine(line)) {
        ++ok;
      } else {
        ++failed;
      }
    }
    // Lines a failed flush leaves in the buffer may or may not reach the file: the counters
    // count them written (the write call succeeded), which a failed flush makes optimistic.
    sink_->Flush();
    if (ok > 0) written_.Add(ok);
    if (failed > 0) dropped_write_error_.Add(failed);
    queued_.Add(-static_cast<int64_t>(batch.size()));
    batch.clear();
    lock.lock();
    writing_ = false;
    if (queue_.empty()) idle_.notify_all();
  }
}

}  // namespace hasivu::metrics
