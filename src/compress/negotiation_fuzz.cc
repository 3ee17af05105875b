// libFuzzer target for the Accept-Encoding parser and the entity-tag helpers
// (compress/negotiation.h), built by the fuzz preset (cmake/fuzz.cmake) and run by scripts/fuzz.sh.
// Besides "no crash, no sanitizer report", it checks the parser's invariants.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "compress/negotiation.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using hasivu::compress::Encoding;
  using hasivu::compress::EncodingSet;
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  for (const auto& member : hasivu::compress::ParseAcceptEncoding(input)) {
    Check(member.q >= 0 && member.q <= 1000);
    Check(!member.coding.empty());
    Check(member.coding.data() >= input.data() &&
          member.coding.data() + member.coding.size() <= input.data() + input.size());
  }
  const EncodingSet sets[] = {EncodingSet::All(), EncodingSet().With(Encoding::kGzip),
                              EncodingSet().With(Encoding::kZstd).With(Encoding::kBrotli),
                              EncodingSet()};
  for (const EncodingSet& available : sets) {
    const Encoding e = hasivu::compress::Negotiate(input, available);
    Check(e == Encoding::kIdentity || available.Has(e));
  }

  for (Encoding e : hasivu::compress::kCodecs) {
    const std::string tagged = hasivu::compress::TagForEncoding(input, e);
    Check(tagged == input ||
          tagged.size() == input.size() + 1 + hasivu::compress::EncodingName(e).size());
    if (auto rewritten = hasivu::compress::IfNoneMatchForHandler(input, e)) {
      Check(rewritten->size() > input.size());
      Check(std::string_view(*rewritten).substr(0, input.size()) == input);
    }
    (void)hasivu::compress::IfNoneMatchLists(input, tagged);
  }
  std::string bad;
  (void)hasivu::compress::ParseEncodingList(input, &bad);
  (void)hasivu::compress::EncodingFromName(input);
  return 0;
}
