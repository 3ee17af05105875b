// The seeded draws of the demo data set: a PRNG whose mappings do not depend on the standard
// library, UUIDv7-shaped ids, and counters written in a given alphabet. The same seed gives the
// same sequence on every platform; every draw of a seeding run comes from one Rng, in program
// order, so reordering draws changes the data set of a seed.
//
// Thread-safety: none; one run uses its own instances.
#ifndef HASIVU_SEED_RANDOM_H_
#define HASIVU_SEED_RANDOM_H_

#include <cstdint>
#include <random>
#include <string>
#include <string_view>

namespace hasivu::seed {

inline constexpr std::string_view kUpperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
inline constexpr std::string_view kAlnum =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
inline constexpr std::string_view kDigitsUpper = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
// The same characters in ASCII order, so counters written with it sort as numbers.
inline constexpr std::string_view kDigitsFirstAlnum =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

// std::*_distribution are implementation-defined; these mappings keep a seed's data identical
// across standard libraries.
class Rng {
 public:
  explicit Rng(uint64_t seed) : gen_(seed) {}
  uint64_t Next() { return gen_(); }
  // Uniform in [0, n). REQUIRES: n > 0.
  uint64_t Below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(gen_()) * n) >> 64);
  }
  // Uniform in [lo, hi].
  int64_t Range(int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(Below(hi - lo + 1)); }
  bool Chance(double p) { return static_cast<double>(gen_() >> 11) * 0x1.0p-53 < p; }
  // Appends `n` characters drawn from `alphabet`.
  void Chars(std::string& out, size_t n, std::string_view alphabet) {
    for (size_t i = 0; i < n; ++i) out.push_back(alphabet[Below(alphabet.size())]);
  }

 private:
  std::mt19937_64 gen_;
};

// UUIDv7-shaped ids: a 48-bit millisecond time from `start_ms`, advanced by a counter that also
// fills rand_a, so ids are unique and ascending in generation order (cheap B-tree appends);
// rand_b comes from `rng` (one draw per id). `rng` must outlive the generator.
class IdGen {
 public:
  IdGen(Rng& rng, uint64_t start_ms) : rng_(rng), start_ms_(start_ms) {}
  // "xxxxxxxx-xxxx-7xxx-yxxx-xxxxxxxxxxxx", lower-case hex.
  std::string Next();

 private:
  Rng& rng_;
  uint64_t start_ms_;
  uint64_t counter_ = 0;
};

// Appends `width` digits of `n` in base `alphabet.size()`, most significant first (higher digits
// of a larger `n` are dropped).
void AppendCounter(std::string& out, uint64_t n, int width, std::string_view alphabet);

}  // namespace hasivu::seed

#endif  // HASIVU_SEED_RANDOM_H_
