// EmfFlusher: every interval, collects what the series did since the previous flush, encodes it
// as EMF documents (metrics/emf.h) and hands the lines to a bounded queue that a writer thread
// drains into a sink (standard output or a file). Nothing here runs on a request's thread: a
// slow or failing sink costs only dropped lines, counted, never a stalled request.
//
// Prometheus series (in the Registry given):
//   hasivu_emf_documents_total                    lines written
//   hasivu_emf_dropped_documents_total{reason}    lines not written: "queue_full", "write_error",
//                                                 "oversize" (a document over 256 KB)
//   hasivu_emf_dropped_values_total               observations not sent (EmfStats::values_dropped)
//   hasivu_emf_queued_lines                       lines queued and not yet written (a gauge)
//
// Ownership: the flusher owns its sink and its threads; the Registry, the Clock and whatever
// `collect` reads must outlive it. Thread-safety: FlushNow(), WaitIdle() and Stop() may be called
// from any thread (collect is never called concurrently with itself).
#ifndef HASIVU_METRICS_EMF_FLUSHER_H_
#define HASIVU_METRICS_EMF_FLUSHER_H_

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "metrics/emf.h"
#include "metrics/metrics.h"
#include "metrics/periodic.h"
#include "metrics/series.h"

namespace hasivu::metrics {

// Where EMF lines go. Called from the flusher's writer thread only.
class EmfSink {
 public:
  virtual ~EmfSink() = default;
  // Writes `line` and a newline in one piece (lines never interleave with other writers of the
  // same FILE*). False when the write failed.
  virtual bool WriteLine(std::string_view line) = 0;
  // Pushes buffered lines out; called after each batch. False when that failed.
  virtual bool Flush() = 0;
};
using EmfSinkPtr = std::unique_ptr<EmfSink>;

// A sink on `file`; it is closed on destruction when `owned`. REQUIRES: file != nullptr.
EmfSinkPtr NewFileEmfSink(std::FILE* file, bool owned);
// "-": standard output; anything else: that file, opened for appending (created 0644 when it
// does not exist). Errors: kInvalidArgument for an empty output, kUnavailable when the file
// cannot be opened (the message names the path and the reason).
StatusOr<EmfSinkPtr> OpenEmfSink(const std::string& output);

struct EmfFlusherSettings {
  // Time between flushes. Default: 60 s. REQUIRES: > 0.
  std::chrono::milliseconds interval{60000};
  EmfLimits limits;
  // Lines waiting for the writer; a flush that finds the queue full drops the rest of its lines
  // (counted). Default: 10000.
  size_t max_queued_lines = 10000;
  // Whether a background thread flushes every interval; false leaves flushing to FlushNow() and
  // Stop() (tests). Default: true.
  bool run_timer = true;
};

class EmfFlusher {
 public:
  // What the series did since the previous call (e.g. a monitor's Collect(cursor)).
  using CollectFn = std::function<std::vector<SeriesInterval>()>;

  // Starts the writer thread (and the timer thread when settings.run_timer). `clock` stamps the
  // documents (_aws.Timestamp = the flush's wall time). REQUIRES: sink != nullptr.
  EmfFlusher(EmfFlusherSettings settings, CollectFn collect, EmfSinkPtr sink, const Clock& clock,
             Registry& registry);
  ~EmfFlusher();  // Stop()
  EmfFlusher(const EmfFlusher&) = delete;
  EmfFlusher& operator=(const EmfFlusher&) = delete;

  // One flush now, in the caller's thread: collects, encodes and queues. Returns the number of
  // lines queued (lines dropped because the queue was full are not among them). After Stop(),
  // does nothing and returns 0.
  size_t FlushNow();
  // Blocks until the writer has handled (written or dropped) every line queued so far.
  void WaitIdle();
  // Stops the timer, flushes the last interval, writes everything queued and joins the threads.
  // Idempotent.
  void Stop();

  // Totals since construction (the values of the Prometheus counters above).
  uint64_t documents_written() const { return written_.Value(); }
  uint64_t documents_dropped() const;
  uint64_t values_dropped() const { return dropped_values_.Value(); }

 private:
  void WriterLoop();

  const EmfFlusherSettings settings_;
  const CollectFn collect_;
  const EmfSinkPtr sink_;
  const Clock& clock_;
  Counter& written_;
  Counter& dropped_queue_full_;
  Counter& dropped_write_error_;
  Counter& dropped_oversize_;
  Counter& dropped_values_;
  Gauge& queued_;

  std::mutex flush_mu_;         // serialises collect + encode
  bool flush_stopped_ = false;  // GUARDED_BY(flush_mu_)

  std::mutex mu_;
  std::condition_variable wake_writer_;
  std::condition_variable idle_;
  std::deque<std::string> queue_;  // GUARDED_BY(mu_)
  bool writing_ = false;           // GUARDED_BY(mu_): a batch is being written
  bool writer_stop_ = false;       // GUARDED_BY(mu_)

  std::thread writer_;
  std::unique_ptr<PeriodicThread> timer_;
  std::once_flag stop_once_;
};

}  // namespace hasivu::metrics

#endif  // HASIVU_METRICS_EMF_FLUSHER_H_
