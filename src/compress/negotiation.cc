#include "compress/negotiation.h"

namespace hasivu::compress {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t'; }

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool SameToken(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsTokenChar(c)) return false;
  }
  return true;
}

// qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), in thousandths; -1 if invalid.
int ParseQValue(std::string_view v) {
  if (v.empty() || v.size() > 5) return -1;
  if (v[0] != '0' && v[0] != '1') return -1;
  int whole = v[0] - '0';
  int thousandths = 0;
  if (v.size() > 1) {
    if (v[1] != '.') return -1;
    int scale = 100;
    for (size_t i = 2; i < v.size(); ++i) {
      if (v[i] < '0' || v[i] > '9') return -1;
      thousandths += (v[i] - '0') * scale;
      scale /= 10;
    }
  }
  const int q = whole * 1000 + thousandths;
  return q > 1000 ? -1 : q;
}

// One member "coding *( OWS ; OWS param )". False when the member is malformed.
bool ParseMember(std::string_view member, CodingWeight& out) {
  member = TrimSpaces(member);
  const size_t semi = member.find(';');
  const std::string_view coding = TrimSpaces(member.substr(0, semi));
  if (!IsToken(coding)) return false;
  out.coding = coding;
  out.q = 1000;
  bool seen_q = false;
  std::string_view rest = semi == std::string_view::npos ? std::string_view() : member.substr(semi);
  while (!rest.empty()) {
    rest.remove_prefix(1);  // the ';'
    const size_t next = rest.find(';');
    const std::string_view param = TrimSpaces(rest.substr(0, next));
    rest = next == std::string_view::npos ? std::string_view() : rest.substr(next);
    if (param.empty()) continue;
    const size_t eq = param.find('=');
    if (eq == std::string_view::npos) return false;
    const std::string_view name = TrimSpaces(param.substr(0, eq));
    const std::string_view value = TrimSpaces(param.substr(eq + 1));
    if (!IsToken(name)) return false;
    if (SameToken(name, "q")) {
      if (seen_q) return false;
      seen_q = true;
      const int q = ParseQValue(value);
      if (q < 0) return false;
      out.q = q;
    }
  }
  return true;
}

// Calls fn(CodingWeight) for every valid member, in order, until fn returns false.
template <typename Fn>
void ForEachMember(std::string_view header, Fn&& fn) {
  while (!header.empty()) {
    const size_t comma = header.find(',');
    const std::string_view member = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    CodingWeight w;
    if (TrimSpaces(member).empty() || !ParseMember(member, w)) continue;
    if (!fn(w)) return;
  }
}

// Index into the per-coding weight table of Negotiate: 0 identity, 1 br, 2 zstd, 3 gzip, 4 "*".
int SlotOf(std::string_view coding) {
  if (coding == "*") return 4;
  if (std::optional<Encoding> e = EncodingFromName(coding)) return static_cast<int>(*e);
  return -1;
}

// Entity-tag list iteration: calls fn(tag) with each `[W/]"..."` (as written) in a list such as
// If-None-Match; stops when fn returns false. Commas inside quotes belong to the tag. Malformed
// members are skipped up to the next comma.
template <typename Fn>
void ForEachTag(std::string_view list, Fn&& fn) {
  size_t i = 0;
  while (i < list.size()) {
    while (i < list.size() && (IsSpace(list[i]) || list[i] == ',')) ++i;
    if (i >= list.size()) return;
    const size_t start = i;
    if (list.compare(i, 2, "W/") == 0) i += 2;
    if (i < list.size() && list[i] == '"') {
      const size_t close = list.find('"', i + 1);
      if (close != std::string_view::npos) {
        if (!fn(list.substr(start, close + 1 - start))) return;
        i = close + 1;
        continue;
      }
    }
    const size_t comma = list.find(',', i);
    if (comma == std::string_view::npos) return;
    i = comma + 1;
  }
}

// The opaque part of a tag without W/ and quotes; empty for a malformed tag.
std::string_view OpaqueOf(std::string_view tag) {
  if (tag.substr(0, 2) == "W/") tag.remove_prefix(2);
  if (tag.size() < 2 || tag.front() != '"' || tag.back() != '"') return {};
  return tag.substr(1, tag.size() - 2);
}

}  // namespace

std::string_view EncodingName(Encoding encoding) {
  switch (encoding) {
    case Encoding::kBrotli:
      return "br";
    case Encoding::kZstd:
      return "zstd";
    case Encoding::kGzip:
      return "gzip";
    case Encoding::kIdentity:
      break;
  }
  return "identity";
}

std::optional<Encoding> EncodingFromName(std::string_view name) {
  if (SameToken(name, "br")) return Encoding::kBrotli;
  if (SameToken(name, "zstd")) return Encoding::kZstd;
  if (SameToken(name, "gzip") || SameToken(name, "x-gzip")) return Encoding::kGzip;
  if (SameToken(name, "identity")) return Encoding::kIdentity;
  return std::nullopt;
}

std::optional<EncodingSet> ParseEncodingList(std::string_view list, std::string* bad) {
  EncodingSet set;
  bool any = false;
  while (true) {
    const size_t comma = list.find(',');
    const std::string_view name = TrimSpaces(list.substr(0, comma));
    const std::optional<Encoding> e = EncodingFromName(name);
    if (!e || *e == Encoding::kIdentity) {
      if (bad != nullptr) *bad = std::string(name.substr(0, 32));
      return std::nullopt;
    }
    set = set.With(*e);
    any = true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  if (!any) return std::nullopt;
  return set;
}

std::vector<CodingWeight> ParseAcceptEncoding(std::string_view header) {
  std::vector<CodingWeight> out;
  ForEachMember(header, [&](const CodingWeight& w) {
    out.push_back(w);
    return true;
  });
  return out;
}

Encoding Negotiate(std::string_view accept_encoding, EncodingSet available) {
  if (accept_encoding.empty() || available.empty()) return Encoding::kIdentity;
  int weight[5] = {-1, -1, -1, -1, -1};  // -1: not listed
  ForEachMember(accept_encoding, [&](const CodingWeight& w) {
    const int slot = SlotOf(w.coding);
    if (slot >= 0 && weight[slot] < 0) weight[slot] = w.q;
    return true;
  });
  auto weight_of = [&](Encoding e) {
    const int own = weight[static_cast<int>(e)];
    if (own >= 0) return own;
    if (weight[4] >= 0) return weight[4];
    // An unlisted identity stays acceptable but never outranks a listed coding: a client that
    // writes "br;q=0.5" is ranking codings, not asking for uncompressed bytes.
    return 0;
  };
  Encoding best = Encoding::kIdentity;
  int best_weight = 0;
  for (Encoding e : kCodecs) {
    if (!available.Has(e)) continue;
    const int w = weight_of(e);
    if (w > best_weight) {
      best = e;
      best_weight = w;
    }
  }
  if (best != Encoding::kIdentity && weight_of(Encoding::kIdentity) > best_weight) {
    return Encoding::kIdentity;
  }
  return best;
}

std::string TagForEncoding(std::string_view etag, Encoding encoding) {
  if (encoding == Encoding::kIdentity || OpaqueOf(etag).data() == nullptr || etag.size() < 2 ||
      etag.back() != '"') {
    return std::string(etag);
  }
  std::string out(etag.substr(0, etag.size() - 1));
  out += '-';
  out += EncodingName(encoding);
  out += '"';
  return out;
}

std::optional<std::string> IfNoneMatchForHandler(std::string_view if_none_match,
                                                 Encoding encoding) {
  if (encoding == Encoding::kIdentity) return std::nullopt;
  std::string suffix = "-";
  suffix += EncodingName(encoding);
  suffix += '"';
  std::string added;
  ForEachTag(if_none_match, [&](std::string_view tag) {
    if (tag.size() > suffix.size() + 1 && tag.ends_with(suffix) && !OpaqueOf(tag).empty()) {
      added += ", ";
      added += tag.substr(0, tag.size() - suffix.size());
      added += '"';
    }
    return true;
  });
  if (added.empty()) return std::nullopt;
  std::string out(if_none_match);
  out += added;
  return out;
}

bool IfNoneMatchLists(std::string_view if_none_match, std::string_view etag) {
  const std::string_view wanted = OpaqueOf(etag);
  if (wanted.data() == nullptr) return false;
  bool found = false;
  ForEachTag(if_none_match, [&](std::string_view tag) {
    const std::string_view opaque = OpaqueOf(tag);
    found = opaque.data() != nullptr && opaque == wanted;
    return !found;
  });
  return found;
}

}  // namespace hasivu::compress
