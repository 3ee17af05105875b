#include "metrics/trace.h"

#include <random>

namespace hasivu::metrics {
namespace {

constexpr char kHex[] = "0123456789abcdef";

// The spec allows lowercase hex only ("HEXDIGLC"); an uppercase digit makes the value invalid.
int LowerHexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Decodes 2 * out.size() lowercase hex characters of `in` from `pos`.
template <size_t N>
bool DecodeHex(std::string_view in, size_t pos, std::array<uint8_t, N>& out) {
  for (size_t i = 0; i < N; ++i) {
    const int hi = LowerHexValue(in[pos + 2 * i]);
    const int lo = LowerHexValue(in[pos + 2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

template <size_t N>
bool AllZero(const std::array<uint8_t, N>& bytes) {
  for (uint8_t b : bytes) {
    if (b != 0) return false;
  }
  return true;
}

// Into a stack buffer, then one append: per-character appends cost a capacity check each.
template <size_t N>
void AppendHex(std::string& out, const std::array<uint8_t, N>& bytes) {
  char text[2 * N];
  for (size_t i = 0; i < N; ++i) {
    text[2 * i] = kHex[bytes[i] >> 4];
    text[2 * i + 1] = kHex[bytes[i] & 0xf];
  }
  out.append(text, sizeof(text));
}

// xoshiro256** (Blackman and Vigna): a few ns per 64 bits, statistically strong, and seeded per
// thread, so id generation takes no lock and no syscall after a thread's first id. Ids need to
// be unique and unguessable enough to not collide, not secret: the CSPRNG is only the seed.
struct Xoshiro256 {
  uint64_t s[4];
  bool seeded;
};

thread_local Xoshiro256 tls_rng{};

uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t NextRandom() {
  Xoshiro256& r = tls_rng;
  if (!r.seeded) {
    std::random_device device;
    do {
      for (uint64_t& word : r.s) word = (static_cast<uint64_t>(device()) << 32) ^ device();
    } while ((r.s[0] | r.s[1] | r.s[2] | r.s[3]) == 0);  // the all-zero state is a fixed point
    r.seeded = true;
  }
  uint64_t* s = r.s;
  const uint64_t result = Rotl(s[1] * 5, 7) * 9;
  const uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = Rotl(s[3], 45);
  return result;
}

template <size_t N>
void FillRandomNonZero(std::array<uint8_t, N>& out) {
  do {
    for (size_t i = 0; i < N; i += 8) {
      const uint64_t v = NextRandom();
      for (size_t j = 0; j < 8 && i + j < N; ++j) out[i + j] = static_cast<uint8_t>(v >> (8 * j));
    }
  } while (AllZero(out));
}

// A POD pointer: no TLS initialisation guard on access.
thread_local RequestTrace* tls_current = nullptr;

}  // namespace

bool TraceContext::valid() const { return !AllZero(trace_id) && !AllZero(span_id); }

std::optional<TraceContext> ParseTraceparent(std::string_view v) {
  if (v.size() < kTraceparentLength) return std::nullopt;
  const int version_hi = LowerHexValue(v[0]);
  const int version_lo = LowerHexValue(v[1]);
  if (version_hi < 0 || version_lo < 0) return std::nullopt;
  const int version = version_hi << 4 | version_lo;
  if (version == 0xff) return std::nullopt;
  if (version == 0 && v.size() != kTraceparentLength) return std::nullopt;
  // A later version may append fields, each after a '-'.
  if (version > 0 && v.size() > kTraceparentLength && v[kTraceparentLength] != '-') {
    return std::nullopt;
  }
  if (v[2] != '-' || v[35] != '-' || v[52] != '-') return std::nullopt;
  TraceContext context;
  std::array<uint8_t, 1> flags{};
  if (!DecodeHex(v, 3, context.trace_id) || !DecodeHex(v, 36, context.span_id) ||
      !DecodeHex(v, 53, flags)) {
    return std::nullopt;
  }
  if (AllZero(context.trace_id) || AllZero(context.span_id)) return std::nullopt;
  context.flags = version == 0 ? flags[0] : static_cast<uint8_t>(flags[0] & TraceContext::kSampled);
  return context;
}

void AppendTraceIdHex(std::string& out, const TraceContext& context) {
  AppendHex(out, context.trace_id);
}

void AppendSpanIdHex(std::string& out, const TraceContext& context) {
  AppendHex(out, context.span_id);
}

void AppendTraceparent(std::string& out, const TraceContext& context) {
  char text[kTraceparentLength];
  char* p = text;
  auto hex = [&p](uint8_t b) {
    *p++ = kHex[b >> 4];
    *p++ = kHex[b & 0xf];
  };
  *p++ = '0';
  *p++ = '0';
  *p++ = '-';
  for (uint8_t b : context.trace_id) hex(b);
  *p++ = '-';
  for (uint8_t b : context.span_id) hex(b);
  *p++ = '-';
  hex(context.flags);
  out.append(text, sizeof(text));
}

std::string FormatTraceparent(const TraceContext& context) {
  std::string out;
  out.reserve(kTraceparentLength);
  AppendTraceparent(out, context);
  return out;
}

TraceContext NewTrace() {
  TraceContext context;
  FillRandomNonZero(context.trace_id);
  FillRandomNonZero(context.span_id);
  context.flags = TraceContext::kSampled;
  return context;
}

TraceContext ChildOf(const TraceContext& parent) {
  TraceContext child = parent;
  do {
    FillRandomNonZero(child.span_id);
  } while (child.span_id == parent.span_id);
  return child;
}

std::string_view SpanKindName(SpanKind kind) {
  switch (kind) {
    case SpanKind::kDb:
      return "db";
    case SpanKind::kCache:
      return "cache";
    case SpanKind::kGateway:
      return "gateway";
  }
  return "unknown";
}

ScopedRequestTrace::ScopedRequestTrace(RequestTrace& trace) : previous_(tls_current) {
  tls_current = &trace;
}

ScopedRequestTrace::~ScopedRequestTrace() { tls_current = previous_; }

void AddSpanTime(SpanKind kind, std::chrono::nanoseconds elapsed) {
  RequestTrace* current = tls_current;
  if (current == nullptr) return;
  const size_t i = static_cast<size_t>(kind);
  current->spans.nanos[i] += elapsed.count();
  ++current->spans.count[i];
}

std::optional<TraceContext> CurrentTrace() {
  const RequestTrace* current = tls_current;
  if (current == nullptr) return std::nullopt;
  return current->context;
}

}  // namespace hasivu::metrics
