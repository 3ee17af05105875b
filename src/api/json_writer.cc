#include "api/json_writer.h"

#include <charconv>
#include <cstdint>
#include <cstring>

namespace hasivu::api {
namespace {

// 0: copied as it is; otherwise the letter after the backslash ('u': \u00xx).
constexpr char EscapeOf(unsigned char c) {
  switch (c) {
    case '"':
      return '"';
    case '\\':
      return '\\';
    case '\b':
      return 'b';
    case '\f':
      return 'f';
    case '\n':
      return 'n';
    case '\r':
      return 'r';
    case '\t':
      return 't';
    default:
      return c < 0x20 ? 'u' : 0;
  }
}

struct EscapeTable {
  char letter[256];
  constexpr EscapeTable() : letter() {
    for (int c = 0; c < 256; ++c) letter[c] = EscapeOf(static_cast<unsigned char>(c));
  }
};
constexpr EscapeTable kEscapes;

// True if one of the 8 bytes of `word` is a control character, '"' or '\\' (the bytes that
// take an escape), tested a word at a time because ids, dates and names almost never hold one.
bool MayNeedEscape(uint64_t word) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  auto has_zero = [](uint64_t v) { return (v - kOnes) & ~v & kHigh; };
  // A byte below 0x20 (bytes of 0x80 and up are not controls: masked out by ~word).
  const uint64_t below_space = (word - 0x20 * kOnes) & ~word & kHigh;
  return (below_space | has_zero(word ^ ('"' * kOnes)) | has_zero(word ^ ('\\' * kOnes))) != 0;
}

}  // namespace

void AppendJsonString(std::string& out, std::string_view s) {
  out.push_back('"');
  size_t run = 0;  // start of the bytes not yet copied
  size_t i = 0;
  // Whole words that need no escape are skipped (copied with the run).
  while (i + 8 <= s.size()) {
    uint64_t word;
    std::memcpy(&word, s.data() + i, sizeof(word));
    if (MayNeedEscape(word)) break;
    i += 8;
  }
  for (; i < s.size(); ++i) {
    const char letter = kEscapes.letter[static_cast<unsigned char>(s[i])];
    if (letter == 0) continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    out.push_back('\\');
    out.push_back(letter);
    if (letter == 'u') {
      static constexpr char kHex[] = "0123456789abcdef";
      const auto c = static_cast<unsigned char>(s[i]);
      const char digits[4] = {'0', '0', kHex[c >> 4], kHex[c & 0xf]};
      out.append(digits, sizeof(digits));
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

void JsonWriter::Separate() {
  if (after_value_) out_.push_back(',');
}

void JsonWriter::Open(char bracket) {
  Separate();
  out_.push_back(bracket);
  after_value_ = false;
}

void JsonWriter::Close(char bracket) {
  out_.push_back(bracket);
  after_value_ = true;
}

void JsonWriter::BeginObject() { Open('{'); }
void JsonWriter::EndObject() { Close('}'); }
void JsonWriter::BeginArray() { Open('['); }
void JsonWriter::EndArray() { Close(']'); }

void JsonWriter::Key(JsonKey name) {
  Separate();
  out_.push_back('"');
  out_ += name.name();
  out_ += "\":";
  after_value_ = false;
}

void JsonWriter::String(std::string_view s) {
  Separate();
  AppendJsonString(out_, s);
  after_value_ = true;
}

void JsonWriter::OptString(const std::optional<std::string>& s) {
  if (s) {
    String(*s);
  } else {
    Null();
  }
}

void JsonWriter::Int(int64_t v) {
  Separate();
  char buffer[24];
  const std::to_chars_result r = std::to_chars(buffer, buffer + sizeof(buffer), v);
  out_.append(buffer, r.ptr);
  after_value_ = true;
}

void JsonWriter::OptInt(const std::optional<int64_t>& v) {
  if (v) {
    Int(*v);
  } else {
    Null();
  }
}

void JsonWriter::Bool(bool v) {
  Separate();
  out_ += v ? "true" : "false";
  after_value_ = true;
}

void JsonWriter::Null() {
  Separate();
  out_ += "null";
  after_value_ = true;
}

void JsonWriter::Raw(std::string_view json) {
  Separate();
  out_ += json;
  after_value_ = true;
}

}  // namespace hasivu::api
