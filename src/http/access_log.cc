#include "http/access_log.h"

#include <spdlog/spdlog.h>

#include <exception>
#include <utility>

// Two vectors trade places: the writer swaps the filled queue for its emptied batch under the
// lock, so after warm-up neither reallocates and a Write() is a lock, a move and an unlock. The
// condition variable is signalled only when the writer sleeps, so a busy server pays no wake-up
// per line.

namespace hasivu::http {

AccessLogQueue::AccessLogQueue(size_t capacity, AccessLogSink sink, metrics::Counter& written,
                               metrics::Counter& dropped)
    : capacity_(capacity < 1 ? 1 : capacity),
      sink_(std::move(sink)),
      written_(written),
      dropped_(dropped) {
  queue_.reserve(capacity_);
  writer_ = std::thread([this] { Run(); });
}

AccessLogQueue::~AccessLogQueue() { Close(); }

void AccessLogQueue::Write(std::string line) {
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    if (closed_ || queue_.size() >= capacity_) {
      dropped_.Add();
      return;
    }
    queue_.push_back(std::move(line));
    wake = writer_idle_;
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
  std::vector<std::string> batch;
  batch.reserve(capacity_);
  while (true) {
    {
      std::unique_lock lock(mu_);
      while (queue_.empty() && !closed_) {
        writer_idle_ = true;
        cv_.wait(lock);
      }
      writer_idle_ = false;
      if (queue_.empty()) return;  // closed and drained
      batch.swap(queue_);
    }
    // A sink that throws loses its batch (counted as dropped); the thread lives on.
    bool ok = false;
    try {
      sink_(batch);
      ok = true;
    } catch (const std::exception& e) {
      spdlog::error("http: access log sink failed: {}", e.what());
    } catch (...) {
      spdlog::error("http: access log sink failed");
    }
    (ok ? written_ : dropped_).Add(batch.size());
    batch.clear();
  }
}

}  // namespace hasivu::http
