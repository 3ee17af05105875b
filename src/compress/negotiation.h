// Content codings and Accept-Encoding negotiation (RFC 9110 12.5.3), plus the entity-tag
// spelling of an encoded variant. Plain functions over std::string_view with no dependencies
// beyond the standard library, so the fuzz target (scripts/fuzz.sh) compiles this file alone.
//
// Negotiation rules:
//   - The header is a comma-separated list of `coding[;q=qvalue][;other=params]`. Codings are
//     compared case-insensitively; spaces and tabs are allowed around every separator; other
//     parameters are ignored. A member that is not a valid token, or whose q is not a number in
//     [0, 1] with at most three decimals, is skipped (the rest of the header still counts).
//     Empty members (",,") are skipped. The first occurrence of a coding wins.
//   - A coding's weight is its own q, else the q of `*` if listed, else 0 (not acceptable).
//     "x-gzip" counts as gzip. `identity` is acceptable unless excluded ("identity;q=0", or
//     "*;q=0" without an identity entry); it competes on weight only when listed itself or
//     through `*`.
//   - The result is the available coding with the highest weight > 0, preferring br, then zstd,
//     then gzip among equal weights. Identity wins only when its weight is strictly higher than
//     every available coding's (e.g. "gzip;q=0.5, identity"). When nothing is acceptable, not
//     even identity, the answer is still identity: the server never answers 406.
//   - An empty or absent header means identity.
//
// Thread-safety: pure functions, safe concurrently. Nothing here allocates except the functions
// returning std::string or std::vector.
#ifndef HASIVU_COMPRESS_NEGOTIATION_H_
#define HASIVU_COMPRESS_NEGOTIATION_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hasivu::compress {

enum class Encoding : uint8_t { kIdentity = 0, kBrotli = 1, kZstd = 2, kGzip = 3 };

// The codecs in preference order (ties go to the earlier one).
inline constexpr std::array<Encoding, 3> kCodecs = {Encoding::kBrotli, Encoding::kZstd,
                                                    Encoding::kGzip};

// The Content-Encoding token: "identity", "br", "zstd", "gzip".
std::string_view EncodingName(Encoding encoding);
// The encoding of a Content-Encoding token (case-insensitive; "x-gzip" is gzip), or nullopt.
std::optional<Encoding> EncodingFromName(std::string_view name);

// A set of codecs (identity is always implied).
class EncodingSet {
 public:
  constexpr EncodingSet() = default;
  static constexpr EncodingSet All() {
    return EncodingSet().With(Encoding::kBrotli).With(Encoding::kZstd).With(Encoding::kGzip);
  }
  constexpr EncodingSet With(Encoding e) const {
    EncodingSet s = *this;
    s.bits_ |= Bit(e);
    return s;
  }
  constexpr bool Has(Encoding e) const { return (bits_ & Bit(e)) != 0; }
  constexpr bool empty() const { return bits_ == 0; }
  constexpr bool operator==(const EncodingSet&) const = default;

 private:
  static constexpr uint8_t Bit(Encoding e) {
    return e == Encoding::kIdentity ? 0 : static_cast<uint8_t>(1u << static_cast<int>(e));
  }
  uint8_t bits_ = 0;
};

// Parses a comma-separated codec list such as "br,zstd,gzip" (configuration). Unknown names,
// "identity" and empty lists are errors: nullopt, with the offending member in *bad.
std::optional<EncodingSet> ParseEncodingList(std::string_view list, std::string* bad);

// One member of an Accept-Encoding header. `coding` points into the header.
struct CodingWeight {
  std::string_view coding;
  int q = 1000;  // weight in thousandths, 0..1000
  bool operator==(const CodingWeight&) const = default;
};

// The valid members of the header in order (see the rules above). For tests and tools; the
// server calls Negotiate, which does not allocate.
std::vector<CodingWeight> ParseAcceptEncoding(std::string_view header);

// The encoding to send for this Accept-Encoding value, among `available` (see the rules above).
Encoding Negotiate(std::string_view accept_encoding, EncodingSet available = EncodingSet::All());

// Entity tags of encoded variants. A strong tag "X" of the identity body becomes "X-br" for the
// br-encoded body (W/"X" becomes W/"X-br"), so a cache never confuses the variants. Identity,
// and a value that is not a quoted entity tag, are returned unchanged.
std::string TagForEncoding(std::string_view etag, Encoding encoding);

// For If-None-Match handling in front of a handler that only knows identity tags: the header
// with, after every listed tag that ends in "-<name of `encoding`>", the same tag without that
// suffix appended ("\"X-br\"" -> "\"X-br\", \"X\""). Returns nullopt when no tag carries the
// suffix (nothing to change) or when `encoding` is identity.
std::optional<std::string> IfNoneMatchForHandler(std::string_view if_none_match, Encoding encoding);

// Whether an If-None-Match value lists `etag` (weak comparison: W/ prefixes are ignored on both
// sides). "*" is not expanded here.
bool IfNoneMatchLists(std::string_view if_none_match, std::string_view etag);

}  // namespace hasivu::compress

#endif  // HASIVU_COMPRESS_NEGOTIATION_H_
