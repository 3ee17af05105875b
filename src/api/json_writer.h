// JsonWriter: appends JSON text to a string as it is written, for the hot read pages whose
// boost::json DOM (thousands of small nodes, then a serialisation) cost more than their query
// (docs/performance.md, issue 15; decisions D32). The text is byte for byte what
// boost::json::serialize writes for the same values: the same escapes ("\"", "\\", \b \f \n \r
// \t, other control characters as \u00xx in lower-case hex), no spaces, integers in decimal.
//
// Usage:
//   std::string out;
//   JsonWriter w(out);
//   w.BeginObject();
//   w.Key("id"); w.String(id);
//   w.Key("total"); w.Int(total);
//   w.EndObject();
//
// The writer does not check nesting: a caller writes a Key before each member's value and closes
// what it opens. Strings are written as given (callers hold UTF-8, as the store does).
// Thread-safety: one writer per thread; it borrows `out`, which must outlive it.
#ifndef HASIVU_API_JSON_WRITER_H_
#define HASIVU_API_JSON_WRITER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hasivu::api {

// A member name known when the program is compiled, checked then to need no escape, so writing
// it is one copy: JsonWriter::Key("id") or a constexpr JsonKey table.
class JsonKey {
 public:
  consteval JsonKey(const char* name) : name_(name) {  // NOLINT: implicit from a literal
    for (char c : name_) {
      // Not a constant expression (so a compile error) for a name that needs an escape.
      if (static_cast<unsigned char>(c) < 0x20 || c == '"' || c == '\\') NeedsAnEscape();
    }
  }
  constexpr std::string_view name() const { return name_; }

 private:
  static void NeedsAnEscape() {}
  std::string_view name_;
};

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}
  JsonWriter(const JsonWriter&) = delete;
  JsonWriter& operator=(const JsonWriter&) = delete;

  void BeginObject();
  void EndObject();
  void BeginArray();
  void EndArray();
  // The member name; the next call writes its value.
  void Key(JsonKey name);
  void String(std::string_view s);
  // A string, or null for nullopt.
  void OptString(const std::optional<std::string>& s);
  void Int(int64_t v);
  // An integer, or null for nullopt.
  void OptInt(const std::optional<int64_t>& v);
  void Bool(bool v);
  void Null();
  // A value already serialised. REQUIRES: `json` is one JSON value.
  void Raw(std::string_view json);

 private:
  // A comma before a value or member that follows another.
  void Separate();
  void Open(char bracket);
  void Close(char bracket);

  std::string& out_;
  bool after_value_ = false;
};

// Appends `s` as a JSON string literal (quotes included) with JsonWriter's escapes.
void AppendJsonString(std::string& out, std::string_view s);

}  // namespace hasivu::api

#endif  // HASIVU_API_JSON_WRITER_H_
