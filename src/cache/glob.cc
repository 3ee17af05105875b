#include "cache/glob.h"

namespace hasivu::cache {
namespace {

// Matches one class starting after '['; sets `end` to the index past ']' (or the glob's end
// when unterminated, which Redis also accepts).
bool ClassMatch(std::string_view glob, size_t start, char c, size_t& end) {
  size_t i = start;
  bool negate = false;
  if (i < glob.size() && glob[i] == '^') {
    negate = true;
    ++i;
  }
  bool matched = false;
  while (i < glob.size() && glob[i] != ']') {
    if (glob[i] == '\\' && i + 1 < glob.size()) {
      if (glob[i + 1] == c) matched = true;
      i += 2;
    } else if (i + 2 < glob.size() && glob[i + 1] == '-' && glob[i + 2] != ']') {
      unsigned char lo = static_cast<unsigned char>(glob[i]);
      unsigned char hi = static_cast<unsigned char>(glob[i + 2]);
      if (lo > hi) std::swap(lo, hi);
      unsigned char uc = static_cast<unsigned char>(c);
      if (uc >= lo && uc <= hi) matched = true;
      i += 3;
    } else {
      if (glob[i] == c) matched = true;
      ++i;
    }
  }
  end = i < glob.size() ? i + 1 : i;
  return negate ? !matched : matched;
}

}  // namespace

bool GlobMatch(std::string_view glob, std::string_view text) {
  // Iterative with one backtrack point for the last '*': no exponential blow-up on "a*a*a*b".
  size_t g = 0, t = 0;
  size_t star_g = std::string_view::npos, star_t = 0;
  while (t < text.size()) {
    if (g < glob.size()) {
      char p = glob[g];
      if (p == '*') {
        while (g < glob.size() && glob[g] == '*') ++g;
        if (g == glob.size()) return true;
        star_g = g;
        star_t = t;
        continue;
      }
      if (p == '?') {
        ++g;
        ++t;
        continue;
      }
      if (p == '[') {
        size_t end = 0;
        if (ClassMatch(glob, g + 1, text[t], end)) {
          g = end;
          ++t;
          continue;
        }
      } else {
        char literal = p;
        size_t next = g + 1;
        if (p == '\\' && g + 1 < glob.size()) {
          literal = glob[g + 1];
          next = g + 2;
        }
        if (literal == text[t]) {
          g = next;
          ++t;
          continue;
        }
      }
    }
    if (star_g == std::string_view::npos) return false;
    g = star_g;
    t = ++star_t;
  }
  while (g < glob.size() && glob[g] == '*') ++g;
  return g == glob.size();
}

std::string GlobEscape(std::string_view literal) {
  std::string out;
  out.reserve(literal.size());
  for (char c : literal) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

}  // namespace hasivu::cache
