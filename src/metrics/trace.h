// Tracing: W3C Trace Context (https://www.w3.org/TR/trace-context/) identifiers and a per-request
// accumulator of span time by kind (database, cache, payment gateway).
//
//   TraceContext      a trace id (16 bytes), this span's id (8 bytes) and the trace flags.
//   ParseTraceparent  the `traceparent` header value as the spec reads it (below).
//   FormatTraceparent "00-<32 hex>-<16 hex>-<2 hex>", always version 00.
//   NewTrace          a fresh trace (random ids, flags 01: sampled, since every request is
//                     recorded in the access log); ChildOf: same trace and flags, new span id.
//
// Parsing (the spec's "traceparent header" and "versioning" sections): the version is two
// lowercase hex digits and "ff" is invalid. Version 00 is exactly 55 characters,
// "00-" trace-id "-" parent-id "-" trace-flags, lowercase hex only. A higher version is read by
// the same layout of its first 55 characters, which must be followed by nothing or by '-' (its
// later fields are ignored); from its flags only the sampled bit is kept, since the meaning of
// the others may change with the version. An all-zero trace id or parent id is invalid.
//
// Span accumulation: the HTTP server installs a ScopedRequestTrace on the thread that runs a
// request's handler (inline on the I/O thread or on its pool). Code under the handler that
// waits on a database, a cache or the gateway calls AddSpanTime(kind, elapsed); the totals
// (time and number of calls per kind) go into that request's access log line. With no request
// current (a background thread, a test) AddSpanTime does nothing. Cost: a thread_local pointer
// load and two adds; no allocation, no atomics, no lock.
//
// Thread-safety: TraceContext is a value. ParseTraceparent, FormatTraceparent, NewTrace and
// ChildOf are safe from any thread (NewTrace uses a per-thread generator). ScopedRequestTrace,
// AddSpanTime and CurrentTrace act on the calling thread only; a RequestTrace is written by the
// one thread it is installed on, and read by others only after that scope ends and a
// synchronising hand-off (the server posts the response back to the connection's thread).
#ifndef HASIVU_METRICS_TRACE_H_
#define HASIVU_METRICS_TRACE_H_

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hasivu::metrics {

struct TraceContext {
  std::array<uint8_t, 16> trace_id{};
  std::array<uint8_t, 8> span_id{};
  uint8_t flags = 0;

  static constexpr uint8_t kSampled = 0x01;

  // Both ids non-zero (a parsed or generated context always is).
  bool valid() const;
  bool sampled() const { return (flags & kSampled) != 0; }
  friend bool operator==(const TraceContext&, const TraceContext&) = default;
};

// Length of a version-00 traceparent value.
inline constexpr size_t kTraceparentLength = 55;

// The context a `traceparent` value carries (its parent-id as span_id), or nullopt when the
// value is invalid by the rules above (the caller then starts a new trace).
std::optional<TraceContext> ParseTraceparent(std::string_view value);

// "00-<trace id>-<span id>-<flags>", 55 lowercase characters.
std::string FormatTraceparent(const TraceContext& context);
// Appends the same 55 characters to `out`.
void AppendTraceparent(std::string& out, const TraceContext& context);
// 32 and 16 lowercase hex characters.
void AppendTraceIdHex(std::string& out, const TraceContext& context);
void AppendSpanIdHex(std::string& out, const TraceContext& context);

// A new trace: random non-zero trace id and span id, flags kSampled. Any thread; the ids come
// from a per-thread generator seeded once per thread from std::random_device.
TraceContext NewTrace();
// A span of `parent`'s trace: same trace id and flags, a new random non-zero span id.
TraceContext ChildOf(const TraceContext& parent);

enum class SpanKind : uint8_t { kDb, kCache, kGateway };
inline constexpr size_t kSpanKinds = 3;
// "db", "cache", "gateway".
std::string_view SpanKindName(SpanKind kind);

// One request's span totals, by SpanKind.
struct SpanTotals {
  std::array<int64_t, kSpanKinds> nanos{};
  std::array<uint32_t, kSpanKinds> count{};
};

// What the server keeps of a request's trace while its handler runs.
struct RequestTrace {
  TraceContext context;  // this server's span of the request
  SpanTotals spans;
};

// Makes `trace` the calling thread's current request for the scope's lifetime, then restores
// whatever was current before (scopes nest). `trace` must outlive the scope.
class ScopedRequestTrace {
 public:
  explicit ScopedRequestTrace(RequestTrace& trace);
  ~ScopedRequestTrace();
  ScopedRequestTrace(const ScopedRequestTrace&) = delete;
  ScopedRequestTrace& operator=(const ScopedRequestTrace&) = delete;

 private:
  RequestTrace* previous_;
};

// Adds `elapsed` and one call of `kind` to the current request's totals; nothing when no request
// is current on this thread.
void AddSpanTime(SpanKind kind, std::chrono::nanoseconds elapsed);

// The current request's context on this thread (this server's span), or nullopt.
std::optional<TraceContext> CurrentTrace();

// Times a scope as one call of `kind`: AddSpanTime(kind, time from construction to
// destruction). Reads the clock twice even with no request current.
class ScopedSpan {
 public:
  explicit ScopedSpan(SpanKind kind) : kind_(kind), start_(std::chrono::steady_clock::now()) {}
  ~ScopedSpan() { AddSpanTime(kind_, std::chrono::steady_clock::now() - start_); }
  ScopedSpan(const ScopedSpan&) = delete;
  ScopedSpan& operator=(const ScopedSpan&) = delete;

 private:
  const SpanKind kind_;
  const std::chrono::steady_clock::time_point start_;
};

}  // namespace hasivu::metrics

#endif  // HASIVU_METRICS_TRACE_H_
