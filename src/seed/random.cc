#include "seed/random.h"

namespace hasivu::seed {

std::string IdGen::Next() {
  const uint64_t ms = start_ms_ + (counter_ >> 12);
  const uint64_t rand_a = counter_ & 0xFFF;
  ++counter_;
  const uint64_t hi = (ms << 16) | 0x7000 | rand_a;
  const uint64_t lo = (rng_.Next() & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(36, '-');
  int pos = 0;
  auto put = [&](uint64_t v, int nibbles) {
    for (int i = nibbles - 1; i >= 0; --i) {
      if (pos == 8 || pos == 13 || pos == 18 || pos == 23) ++pos;
      out[pos++] = kHex[(v >> (4 * i)) & 0xF];
    }
  };
  put(hi, 16);
  put(lo, 16);
  return out;
}

void AppendCounter(std::string& out, uint64_t n, int width, std::string_view alphabet) {
  const size_t at = out.size();
  out.append(width, alphabet[0]);
  for (int i = width - 1; i >= 0 && n > 0; --i) {
    out[at + i] = alphabet[n % alphabet.size()];
    n /= alphabet.size();
  }
}

}  // namespace hasivu::seed
