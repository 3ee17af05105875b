// UTF-8 at the edge: text from outside (headers, query parameters, other services) is checked or
// repaired before it is stored or echoed, and cut only on character boundaries, because
// PostgreSQL refuses invalid UTF-8 in text columns ("invalid byte sequence") where SQLite stores
// it as given. Valid UTF-8 here is RFC 3629: no overlong forms, no surrogates, nothing above
// U+10FFFF.
//
// Thread-safety: free functions, safe concurrently.
#ifndef HASIVU_COMMON_UTF8_H_
#define HASIVU_COMMON_UTF8_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace hasivu {

// True when `text` is entirely valid UTF-8 (the empty string is). NUL is valid UTF-8.
bool IsValidUtf8(std::string_view text);

// `text` with each maximal invalid subpart replaced by U+FFFD (the Unicode "substitution of
// maximal subparts" practice): valid input comes back unchanged.
std::string ToValidUtf8(std::string_view text);

// The longest prefix of `text` of at most `max_bytes` bytes that does not end inside a UTF-8
// sequence: a character that would be split is left out whole. For valid UTF-8 the result is
// valid UTF-8. Invalid input is cut at `max_bytes` less at most 3 bytes.
std::string_view Utf8Prefix(std::string_view text, size_t max_bytes);

// ToValidUtf8 then Utf8Prefix: text from outside made fit for a column of `max_bytes` bytes.
std::string Utf8Truncated(std::string_view text, size_t max_bytes);

}  // namespace hasivu

#endif  // HASIVU_COMMON_UTF8_H_
