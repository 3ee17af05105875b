#include "seed/demo_data.h"

#include <sodium.h>

#include <chrono>
#include <utility>

#include "seed/activity.h"
#include "seed/population.h"
#include "seed/seed_run.h"
#include "store/bulk_load.h"
#include "store/orders_repo.h"
#include "store/users_repo.h"

namespace hasivu::seed {
namespace {

Status CheckEmpty(store::Database& db) {
  return db.Read([](store::Connection& c) -> Status {
    for (auto* any : {&store::AnyUser, &store::AnySchool, &store::AnyOrder}) {
      StatusOr<bool> held = any(c);
      if (!held.ok()) return held.status().WithContext("is the database migrated?");
      if (*held) {
        return FailedPreconditionError("the database is not empty; seeding needs an empty one");
      }
    }
    return Status::Ok();
  });
}

}  // namespace

StatusOr<SeedReport> SeedDemoData(store::Database& db, const SeedSettings& settings, Clock& clock) {
  const SizeSpec* spec = FindSize(settings.size);
  if (spec == nullptr) {
    return InvalidArgumentError("unknown size '" + settings.size.substr(0, 40) +
                                "' (demo, medium or large)");
  }
  RETURN_IF_ERROR(domain::PasswordHasher::ValidateSettings(settings.password));
  if (sodium_init() < 0) return InternalError("libsodium failed to initialise");
  const TimePoint real_now = clock.Now();
  ASSIGN_OR_RETURN(const Date today, LocalDate(real_now, kZone));
  const Date base = settings.base_date.value_or(today);
  using std::chrono::year;
  if (base < Date(year(2000) / 1 / 1) || base > Date(year(2999) / 12 / 31)) {
    return InvalidArgumentError("base date must be between 2000-01-01 and 2999-12-31");
  }
  // Seeding around another day: "now" is that day's mid-morning, so orders of the base date are
  // still on their way to delivery.
  const TimePoint now = base == today ? real_now : LocalTime(base, 10, 0);
  RETURN_IF_ERROR(CheckEmpty(db));
  SeedReport report;
  RETURN_IF_ERROR(store::LoadInBulk(db, [&](store::BulkWriter& writer) -> Status {
    SeedRun run(settings, *spec, base, now, writer);
    PlanMenuDays(run);
    RETURN_IF_ERROR(WritePopulation(run));
    for (size_t s = 0; s < run.schools.size(); ++s) RETURN_IF_ERROR(WriteSchoolActivity(run, s));
    report = std::move(run.report);
    return Status::Ok();
  }));
  return report;
}

StatusOr<bool> HoldsDemoAccounts(store::Database& db) {
  // Every seeding creates the platform admin (population.cc): one probe of the email index finds
  // a seeded database, where a suffix match would read the whole users table.
  const std::string admin_email = "admin" + std::string(kDomain);
  bool holds = false;
  RETURN_IF_ERROR(db.ReadOnce([&](store::Connection& c) -> Status {
    ASSIGN_OR_RETURN(std::optional<store::UserRecord> admin,
                     store::FindUserByEmail(c, admin_email));
    holds = admin.has_value();
    return Status::Ok();
  }));
  return holds;
}

}  // namespace hasivu::seed
