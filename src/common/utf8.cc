#include "common/utf8.h"

namespace hasivu {
namespace {

bool IsContinuation(unsigned char b) { return (b & 0xC0) == 0x80; }

// The length of the valid sequence starting at text[i], or, when it is invalid, 0 with
// `*invalid_length` set to the length of its maximal subpart (at least 1): the bytes that begin
// a valid sequence but stop before its end.
size_t SequenceAt(std::string_view text, size_t i, size_t* invalid_length) {
  const unsigned char lead = static_cast<unsigned char>(text[i]);
  *invalid_length = 1;
  if (lead < 0x80) return 1;
  size_t length = 0;
  // The second byte's range narrows for E0 (no overlongs), ED (no surrogates), F0 (no
  // overlongs) and F4 (nothing above U+10FFFF); the others are 80-BF.
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return 0;  // a stray continuation byte, C0, C1 or F5-FF
  }
  for (size_t k = 1; k < length; ++k) {
    if (i + k >= text.size()) return 0;
    const unsigned char b = static_cast<unsigned char>(text[i + k]);
    const bool ok = k == 1 ? (b >= low && b <= high) : IsContinuation(b);
    if (!ok) return 0;
    *invalid_length = k + 1;
  }
  return length;
}

}  // namespace

bool IsValidUtf8(std::string_view text) {
  size_t i = 0;
  size_t invalid = 0;
  while (i < text.size()) {
    // ASCII runs are the common case: skip them without the table above.
    if (static_cast<unsigned char>(text[i]) < 0x80) {
      ++i;
      continue;
    }
    const size_t n = SequenceAt(text, i, &invalid);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string ToValidUtf8(std::string_view text) {
  if (IsValidUtf8(text)) return std::string(text);
  std::string out;
  out.reserve(text.size() + 8);
  size_t i = 0;
  size_t invalid = 0;
  while (i < text.size()) {
    const size_t n = SequenceAt(text, i, &invalid);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      i += invalid;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string_view Utf8Prefix(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  // text[max_bytes] is the first byte left out: while it continues a sequence, the character it
  // belongs to started inside the prefix and is dropped whole.
  size_t cut = max_bytes;
  for (int back = 0; back < 3 && cut > 0 && IsContinuation(static_cast<unsigned char>(text[cut]));
       ++back) {
    --cut;
  }
  return text.substr(0, cut);
}

std::string Utf8Truncated(std::string_view text, size_t max_bytes) {
  return std::string(Utf8Prefix(ToValidUtf8(text), max_bytes));
}

}  // namespace hasivu
