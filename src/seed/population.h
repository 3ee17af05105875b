// The population phase of a seeding run (seed_run.h): the schools, every account (the platform
// admin; per school its admin, two kitchen staff, the parents and their 1-3 children), two RFID
// readers per school, a card for every student, and the schools' menu items. It fills the run's
// report (fixtures: accounts, readers, menu item ids, card facts) and its SchoolState, which the
// activity phase reads.
#ifndef HASIVU_SEED_POPULATION_H_
#define HASIVU_SEED_POPULATION_H_

#include "common/status.h"
#include "seed/seed_run.h"

namespace hasivu::seed {

// Writes through the store's bulk appenders (users, rfid, menus repositories). Errors: the
// password hasher's (invalid settings: kInvalidArgument) and the store's.
Status WritePopulation(SeedRun& run);

}  // namespace hasivu::seed

#endif  // HASIVU_SEED_POPULATION_H_
