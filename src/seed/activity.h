// The activity phase of a seeding run (seed_run.h): per school, a published daily menu on every
// planned day and orders in every status whose lines follow that day's menu, with the payment
// orders and gateway payments of the simulated gateway and the delivery verifications that
// demo_data.h describes.
#ifndef HASIVU_SEED_ACTIVITY_H_
#define HASIVU_SEED_ACTIVITY_H_

#include <cstddef>

#include "common/status.h"
#include "seed/seed_run.h"

namespace hasivu::seed {

// Fills run.day_dates, run.day_weekend and run.today_index: the weekdays from kWindowDays before
// the base date to as many after it, and the base date itself even on a weekend. No draws.
void PlanMenuDays(SeedRun& run);

// Writes the menus, orders, order lines, payments and verifications of run.schools[school]
// through the store's bulk appenders (menus, orders, payments, rfid repositories) and counts
// them in run.report. REQUIRES: PlanMenuDays and WritePopulation (population.h) ran. Errors: the
// store's.
Status WriteSchoolActivity(SeedRun& run, size_t school);

}  // namespace hasivu::seed

#endif  // HASIVU_SEED_ACTIVITY_H_
