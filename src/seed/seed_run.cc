#include "seed/seed_run.h"

#include <cstdint>

namespace hasivu::seed {
namespace {

using std::chrono::days;

constexpr SizeSpec kSizes[] = {
    {"demo", 2, 40, 30, 25, 600, 10, SIZE_MAX, true},
    {"medium", 20, 10'000, 7'000, 40, 200'000, 12, 200, false},
    {"large", 100, 100'000, 70'000, 40, 1'000'000, 12, 200, false},
};

// Ids count from 60 days before the base date, so the same base date gives the same ids.
uint64_t StartMs(Date base) {
  const auto start = TimePoint(base - days(60));
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(start.time_since_epoch()).count());
}

}  // namespace

const SizeSpec* FindSize(std::string_view name) {
  for (const SizeSpec& s : kSizes) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

TimePoint LocalTime(Date d, int hour, int minute, int64_t micros) {
  return TimePoint(d) + std::chrono::hours(hour) + std::chrono::minutes(minute) - kZoneOffset +
         std::chrono::microseconds(micros);
}

TimePoint RandomLocalTime(Rng& rng, Date d, int hour_lo, int hour_hi) {
  // Sequenced statements: argument evaluation order is unspecified and would make the data
  // compiler-dependent.
  const int hour = static_cast<int>(rng.Range(hour_lo, hour_hi));
  const int minute = static_cast<int>(rng.Range(0, 59));
  const int64_t micros = rng.Range(0, 59'999'999);
  return LocalTime(d, hour, minute, micros);
}

SeedRun::SeedRun(const SeedSettings& settings, const SizeSpec& spec, Date base, TimePoint now,
                 store::BulkWriter& writer)
    : settings(settings),
      spec(spec),
      base(base),
      now(now),
      rng(settings.seed),
      ids(rng, StartMs(base)),
      writer(writer) {
  report.size = std::string(spec.name);
  report.seed = settings.seed;
  report.base_date = base;
}

}  // namespace hasivu::seed
