// AccessLogQueue: the server's access log written off the I/O threads. Write() hands a finished
// line to a bounded queue and returns; one writer thread takes the queued lines in batches and
// passes each batch, in order, to the sink. A line that finds the queue full is dropped and
// counted: a slow or stuck sink (stdout into a pipe nobody reads) never stalls a request.
// docs/decisions.md ("The access log off the I/O thread") says why this is not spdlog's
// async logger.
//
// Bound: at most `capacity` lines wait in the queue, plus the batch the writer is handing to the
// sink (also at most `capacity`). Lines are copied into slots that keep their storage, so after
// warm-up a Write() allocates nothing (a slot that held a line over 1 KiB gives its storage back).
// Counters (not owned; must outlive the queue): `written` counts lines handed to the sink,
// `dropped` lines refused because the queue was full or closed, and batches a throwing sink lost;
// `queued`, when given, the lines queued and not yet handed to the sink (the batch the sink holds
// included).
// Shutdown: Close() (and the destructor) lets the writer hand every queued line to the sink,
// then joins it; lines written after that are dropped and counted.
//
// Thread-safety: Write() from any number of threads; Close() from any one thread. The sink is
// called on the writer thread only, never concurrently with itself, and never under the queue's
// lock.
#ifndef HASIVU_HTTP_ACCESS_LOG_H_
#define HASIVU_HTTP_ACCESS_LOG_H_

#include <condition_variable>
#include <cstddef>
#include <cstdio>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "metrics/metrics.h"

namespace hasivu::http {

// Receives a batch of access log lines (no trailing newlines), in the order they were written.
using AccessLogSink = std::function<void(std::span<const std::string> lines)>;

// The default sink: each batch joined into one buffer (a newline after every line) and written
// with one fwrite and one fflush to `file` (not owned; stdout for the server), under stdio's own
// lock on that FILE only. Not through spdlog: spdlog 1.10's console sinks hold one process-wide
// mutex that the diagnostics logger on stderr shares, so a stdout that blocks (a pipe nobody
// reads) would stall every thread that logs a warning, request threads included. Here it stalls
// the writer thread alone. A failed write loses that batch (the queue counts it as dropped).
AccessLogSink NewStdioAccessLogSink(std::FILE* file);

class AccessLogQueue {
 public:
  // Starts the writer thread. REQUIRES: capacity >= 1, sink non-empty.
  AccessLogQueue(size_t capacity, AccessLogSink sink, metrics::Counter& written,
                 metrics::Counter& dropped, metrics::Gauge* queued = nullptr);
  ~AccessLogQueue();
  AccessLogQueue(const AccessLogQueue&) = delete;
  AccessLogQueue& operator=(const AccessLogQueue&) = delete;

  // Queues a copy of `line`, or drops and counts it when the queue is full or closed. Never
  // waits on the sink; takes the queue's lock only to copy the line into a free slot.
  void Write(std::string_view line);
  // Hands everything queued to the sink and joins the writer. Idempotent.
  void Close();

 private:
  void Run();

  const size_t capacity_;
  const AccessLogSink sink_;
  metrics::Counter& written_;
  metrics::Counter& dropped_;
  metrics::Gauge* const queued_gauge_;

  std::mutex mu_;
  std::condition_variable cv_;
  // `capacity_` slots; the first `queued_` hold lines. GUARDED_BY(mu_)
  std::vector<std::string> queue_;
  size_t queued_ = 0;         // GUARDED_BY(mu_)
  bool writer_idle_ = false;  // GUARDED_BY(mu_): the writer waits on cv_
  bool closed_ = false;       // GUARDED_BY(mu_)
  std::mutex close_mu_;       // serialises Close()
  std::thread writer_;
};

}  // namespace hasivu::http

#endif  // HASIVU_HTTP_ACCESS_LOG_H_
