// Redis glob matching (the MATCH of SCAN and KEYS), so the in-process cache invalidates exactly
// the keys Redis would.
//
// Syntax: `*` any run, `?` one byte, `[abc]` `[a-z]` `[^a]` a class, `\x` the byte x literally.
// Bytes, not UTF-8 characters. Thread-safety: pure functions.
#ifndef HASIVU_CACHE_GLOB_H_
#define HASIVU_CACHE_GLOB_H_

#include <string>
#include <string_view>

namespace hasivu::cache {

// True if `text` matches `glob`. Linear in practice; never recurses deeper than the glob.
bool GlobMatch(std::string_view glob, std::string_view text);

// `literal` with every glob metacharacter escaped (to prefix a glob with a key namespace).
std::string GlobEscape(std::string_view literal);

}  // namespace hasivu::cache

#endif  // HASIVU_CACHE_GLOB_H_
