#include "http/access_log.h"

#include <stdexcept>

#include <spdlog/spdlog.h>

#include <chrono>
#include <exception>
#include <utility>

// Two vectors of slots trade places: the writer swaps the filled queue for its written batch
// under the lock. Slots keep their storage, so a Write() is a lock, a copy into memory this
// thread already owns, and an unlock: no malloc on the I/O thread, and no free of it on the
// writer's (a line allocated on one thread and freed on another goes through the allocator's
// locked arena path, which measured several times the cost of the copy).
//
// Wake-ups: signalling the writer costs the I/O thread a futex syscall (a few hundred ns, more
// than the rest of Write()), and a writer that drains each line as it comes would need one per
// request. So after a batch the writer naps for kNap and looks again without being signalled;
// only when a nap found nothing does it sleep until signalled (writer_idle_). Under steady load
// no Write() signals; a line waits at most kNap; an idle server's writer sleeps. A queue half
// full wakes a napping writer early.

namespace hasivu::http {
namespace {

constexpr std::chrono::milliseconds kNap{2};
// A slot whose line was longer than this gives its storage back after the write, so a few long
// paths do not pin capacity * their length.
constexpr size_t kKeepBytes = 1024;
// Only the first slots keep their storage between batches: a deep burst once in a while would
// otherwise leave every slot it reached holding a line's worth (up to capacity * kKeepBytes,
// twice over, the queue and the batch trading places), which grows slowly with the deepest
// burst seen and reads as a leak in a long run (docs/reliability.md, "6. Soak").
constexpr size_t kKeptSlots = 256;
// The stdio sink's batch buffer, kept between batches up to this.
constexpr size_t kKeepSinkBytes = size_t{64} << 10;

}  // namespace

AccessLogQueue::AccessLogQueue(size_t capacity, AccessLogSink sink, metrics::Counter& written,
                               metrics::Counter& dropped, metrics::Gauge* queued)
    : capacity_(capacity < 1 ? 1 : capacity),
      sink_(std::move(sink)),
      written_(written),
      dropped_(dropped),
      queued_gauge_(queued) {
  queue_.resize(capacity_);
  writer_ = std::thread([this] { Run(); });
}

AccessLogQueue::~AccessLogQueue() { Close(); }

void AccessLogQueue::Write(std::string_view line) {
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    if (closed_ || queued_ >= capacity_) {
      dropped_.Add();
      return;
    }
    queue_[queued_++].assign(line);
    if (queued_gauge_ != nullptr) queued_gauge_->Add(1);
    wake = writer_idle_ || queued_ == capacity_ / 2 + 1;
    writer_idle_ = false;
  }
  if (wake) cv_.notify_one();
}

void AccessLogQueue::Close() {
  std::lock_guard close_lock(close_mu_);
  {
    std::lock_guard lock(mu_);
    if (closed_ && !writer_.joinable()) return;
    closed_ = true;
  }
  cv_.notify_one();
  if (writer_.joinable()) writer_.join();
}

void AccessLogQueue::Run() {
  std::vector<std::string> batch(capacity_);
  size_t count = 0;
  bool napped = false;  // the last wait was a nap after a batch
  while (true) {
    {
      std::unique_lock lock(mu_);
      if (!napped && queued_ == 0 && !closed_) {
        cv_.wait_for(lock, kNap);
        napped = true;
        continue;
      }
      while (queued_ == 0 && !closed_) {
        writer_idle_ = true;
        cv_.wait(lock);
      }
      writer_idle_ = false;
      if (queued_ == 0) return;  // closed and drained
      batch.swap(queue_);
      count = queued_;
      queued_ = 0;
    }
    napped = false;
    // A sink that throws loses its batch (counted as dropped); the thread lives on.
    bool ok = false;
    try {
      sink_(std::span<const std::string>(batch.data(), count));
      ok = true;
    } catch (const std::exception& e) {
      spdlog::error("http: access log sink failed: {}", e.what());
    } catch (...) {
      spdlog::error("http: access log sink failed");
    }
    (ok ? written_ : dropped_).Add(count);
    if (queued_gauge_ != nullptr) queued_gauge_->Add(-static_cast<int64_t>(count));
    for (size_t i = 0; i < count; ++i) {
      if (i >= kKeptSlots || batch[i].capacity() > kKeepBytes) std::string().swap(batch[i]);
    }
  }
}

AccessLogSink NewStdioAccessLogSink(std::FILE* file) {
  return [file, buffer = std::string()](std::span<const std::string> lines) mutable {
    buffer.clear();
    for (const std::string& line : lines) {
      buffer += line;
      buffer += '\n';
    }
    const bool written = std::fwrite(buffer.data(), 1, buffer.size(), file) == buffer.size();
    const bool flushed = std::fflush(file) == 0;
    if (buffer.capacity() > kKeepSinkBytes) std::string().swap(buffer);
    if (!written || !flushed) throw std::runtime_error("cannot write the access log");
  };
}

}  // namespace hasivu::http
