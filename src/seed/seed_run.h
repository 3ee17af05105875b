// One seeding run as its phases share it (inside seed/; app/ uses demo_data.h): the sizes, the
// schools' zone and the state that the population phase (population.h) leaves for the activity
// phase (activity.h). SeedDemoData (demo_data.cc) builds a SeedRun over the writer of a bulk load
// and runs, in this order: PlanMenuDays, WritePopulation, then WriteSchoolActivity per school.
//
// Thread-safety: none; a run belongs to the thread of its load.
#ifndef HASIVU_SEED_SEED_RUN_H_
#define HASIVU_SEED_SEED_RUN_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/time_util.h"
#include "seed/demo_data.h"
#include "seed/random.h"
#include "store/bulk_load.h"

namespace hasivu::seed {

inline constexpr std::string_view kZone = "Asia/Kolkata";
// Asia/Kolkata has had no DST since 1945, so local times convert with a fixed offset.
inline constexpr std::chrono::minutes kZoneOffset{330};
// Daily menus run from this many days before the base date to as many after it.
inline constexpr int kWindowDays = 20;
inline constexpr std::string_view kDomain = "@demo.hasivu.test";

struct SizeSpec {
  std::string_view name;
  int schools;
  int students;
  int parents;
  int items_per_school;
  int64_t target_orders;
  int slots_per_menu;
  size_t fixture_parents_per_school;
  // Payment rows and delivery verifications also for orders before the base date. The live
  // flows only read those of the base date and later, so the big sizes skip the history to keep
  // seeding fast.
  bool full_history;
};

// "demo", "medium" or "large" (demo_data.h); nullptr for another name.
const SizeSpec* FindSize(std::string_view name);

// hour:minute (+ micros) of local day `d` in kZone.
TimePoint LocalTime(Date d, int hour, int minute, int64_t micros = 0);
// A time between hour_lo:00 and hour_hi:59 of local day `d`: three draws of `rng`.
TimePoint RandomLocalTime(Rng& rng, Date d, int hour_lo, int hour_hi);

struct Student {
  std::string id;
  std::string card_id;
  int parent = 0;  // index into the school's parent_ids
};

// What later phases need of a school written by the population phase.
struct SchoolState {
  std::string id;
  std::string code;
  std::vector<std::string> item_ids;
  std::vector<int64_t> item_prices;
  std::vector<std::string> parent_ids;
  std::vector<Student> students;  // by parent, in order
  std::vector<std::string> reader_ids;
};

// The state of one run. `settings` and `writer` must outlive it.
struct SeedRun {
  SeedRun(const SeedSettings& settings, const SizeSpec& spec, Date base, TimePoint now,
          store::BulkWriter& writer);
  SeedRun(const SeedRun&) = delete;
  SeedRun& operator=(const SeedRun&) = delete;

  const SeedSettings& settings;
  const SizeSpec& spec;
  const Date base;
  // "Now" of the data set: rows dated relative to the clock use it.
  const TimePoint now;
  // Every seeded draw, in program order (random.h); `ids` draws from it too.
  Rng rng;
  IdGen ids;
  store::BulkWriter& writer;
  SeedReport report;
  std::vector<SchoolState> schools;
  // The days with a published menu (PlanMenuDays), ascending; the base date is at today_index.
  std::vector<Date> day_dates;
  std::vector<bool> day_weekend;
  int today_index = 0;
  // Counters of order numbers and gateway ids, across schools.
  uint64_t order_counter = 0;
  uint64_t gateway_counter = 0;
};

}  // namespace hasivu::seed

#endif  // HASIVU_SEED_SEED_RUN_H_
