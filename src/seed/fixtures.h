// What a seeding reports to people and tests: the fixtures file with every listed login and id
// (demo-data.md), the few logins printed on a first start, and a one-line summary of the rows.
//
// Thread-safety: pure functions of the report.
#ifndef HASIVU_SEED_FIXTURES_H_
#define HASIVU_SEED_FIXTURES_H_

#include <string>

#include "seed/demo_data.h"

namespace hasivu::seed {

// The fixtures file (demo-data.md): {"baseDate","admin","schools":[...]}, compact JSON.
std::string FixturesJson(const SeedReport& report);

// A few ready-to-use logins (platform admin, first school's admin, kitchen staff and parent),
// one per line, for the console on first start.
std::string DemoLoginsText(const SeedReport& report);

// One line of row counts: "base date 2026-11-25; 2 schools, 77 users (30 parents, 40 students),
// ... 586 orders (24 deliverable today), ...".
std::string SeedSummary(const SeedReport& report);

}  // namespace hasivu::seed

#endif  // HASIVU_SEED_FIXTURES_H_
