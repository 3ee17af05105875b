// Demo and benchmark data: SeedDemoData() fills an empty, migrated database with a generated data
// set (../shared/spec/demo-data.md) and returns what the fixtures file lists (fixtures.h renders
// it). Library hasivu_seed; its units: seed_run (the state a run's phases share), population
// (schools, accounts, readers and cards, menu items), activity (menus, orders, payments,
// deliveries), random (the seeded draws), catalog (the vocabulary), fixtures (the report).
//
// Sizes (schools / students / parents / menu items per school / orders):
//   demo    2 /     40 /     30 / 25 /      ~600
//   medium 20 / 10 000 /  7 000 / 40 /  ~200 000
//   large 100 /100 000 / 70 000 / 40 / ~1 000 000
// Per school: one school_admin, two kitchen_staff, two active RFID readers, an RFID card for
// every student (about 2 % inactive and 2 % expired, and always at least one of each: the last
// student of a school has an inactive card, the one before an expired card), 25 or 40 menu
// items, a published daily menu on every weekday from 20 days before the base date to 20 days
// after it, and orders in every status whose lines follow that day's menu (price = the slot's
// custom price or the item's price; total = sum of lines; money in paise). Past orders are
// mostly delivered (with delivered_at and a delivery verification), future ones pending or
// confirmed, and on the base date most students have a paid, undelivered order
// (confirmed/preparing/ready/out_for_delivery) for RFID scans. Paid, failed and refunded orders
// have matching payment_orders/payment_transactions rows of the simulated gateway, and delivered
// orders a delivery_verifications row: in "demo" for every order; in "medium" and "large" only
// for orders of the base date and later (the only ones the live flows read), to keep seeding
// fast. Order numbers are "ORD-YYYYMMDD-" + 5 counter characters + 3 random ones (unique by
// construction, index-friendly); gateway ids are "order_"/"pay_" + 14 alphanumerics.
//
// The base date is "today" in the schools' zone (Asia/Kolkata) unless given. If it falls on a
// weekend, it still gets a published menu (day_type WEEKEND) and today's orders, so the RFID and
// menu flows work on the day the data is seeded, whatever the day; the rest of the window stays
// weekdays only.
//
// Determinism: the same seed and size give the same ids, emails, order numbers, amounts, statuses
// and dates (ids are UUIDv7-shaped, their time part derived from the base date). Passwords,
// password hashes (random salts) and row timestamps relative to the clock differ.
//
// Passwords: every account gets a password of the register policy ("Hasivu!" + 12 alphanumerics
// + "9a") drawn from the OS random source (libsodium) on each seeding, never from the seed: no
// two installations share a login, and none can be derived from the code. Accounts listed in the
// fixtures are hashed with their own password under `SeedSettings::password` (default: libsodium's
// minimum argon2id parameters, which login accepts and re-hashes). To keep `medium` and `large`
// fast, accounts NOT listed in the fixtures (parents beyond the first 200 per school and their
// children) share one hash of a random password drawn from a cryptographic source at seeding time:
// nobody knows it, so those accounts cannot log in.
//
// Loading: every row goes through the store's repositories (their bulk appenders, in one
// store::LoadInBulk: SQLite big transactions of one prepared INSERT, PostgreSQL COPY), so table
// and column names live in store/ only; the tables' non-unique secondary indexes are deferred,
// rebuilt once after the load (also after a failed one) and the planner statistics refreshed.
// Measured on the 2-core development machine, release build (docs/performance.md "Seeding"):
// SQLite demo 0.2 s, medium ~10-12 s, large ~52 s; PostgreSQL 15 medium ~13-14 s.
//
// Thread-safety: SeedDemoData uses the database's bulk loader; run one at a time.
#ifndef HASIVU_SEED_DEMO_DATA_H_
#define HASIVU_SEED_DEMO_DATA_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "common/time_util.h"
#include "domain/password.h"
#include "store/database.h"

namespace hasivu::seed {

struct SeedSettings {
  // "demo" | "medium" | "large". Default: "demo".
  std::string size = "demo";
  // PRNG seed; the same seed gives the same data. Default: 1.
  uint64_t seed = 1;
  // The day the data is centred on. Default: today in Asia/Kolkata by the clock.
  std::optional<Date> base_date;
  // argon2id parameters of the generated accounts. Default: the lightest libsodium allows.
  domain::PasswordSettings password = domain::LightPasswordSettings();
};

struct SeedAccount {
  std::string id;
  std::string email;
  std::string password;
};

struct SeedChild {
  SeedAccount account;
  std::string grade;
  std::string section;
  std::string card_number;
  bool card_active = true;
  bool card_expired = false;
};

struct SeedParent {
  SeedAccount account;
  std::vector<SeedChild> children;
};

struct SeedReader {
  std::string id;
  std::string name;
};

struct SeedSchool {
  std::string id;
  std::string name;
  std::string timezone;
  SeedAccount school_admin;
  std::vector<SeedAccount> kitchen_staff;
  std::vector<SeedReader> readers;
  std::vector<std::string> menu_item_ids;
  // All parents for "demo"; the first 200 per school for "medium" and "large".
  std::vector<SeedParent> parents;
};

// Rows written, per table.
struct SeedCounts {
  int64_t schools = 0;
  int64_t users = 0;
  int64_t parents = 0;
  int64_t students = 0;
  int64_t menu_items = 0;
  int64_t daily_menus = 0;
  int64_t menu_item_slots = 0;
  int64_t rfid_readers = 0;
  int64_t rfid_cards = 0;
  int64_t orders = 0;
  int64_t order_items = 0;
  int64_t payment_orders = 0;
  int64_t payment_transactions = 0;
  int64_t delivery_verifications = 0;
  int64_t today_deliverable_orders = 0;  // paid, undelivered, for the base date
};

struct SeedReport {
  std::string size;
  uint64_t seed = 0;
  Date base_date;
  SeedAccount admin;
  std::vector<SeedSchool> schools;
  SeedCounts counts;
};

// Seeds `db`, which must be migrated and empty (no users, schools or orders: else
// kFailedPrecondition, nothing written). kInvalidArgument for an unknown size or invalid password
// settings; store errors are passed on (a failure midway leaves the rows already committed).
StatusOr<SeedReport> SeedDemoData(store::Database& db, const SeedSettings& settings, Clock& clock);

// Whether `db` was seeded with a demo data set (its platform admin admin@demo.hasivu.test is
// there): their logins were printed and written to a fixtures file, so a production start
// refuses such a database.
StatusOr<bool> HoldsDemoAccounts(store::Database& db);

}  // namespace hasivu::seed

#endif  // HASIVU_SEED_DEMO_DATA_H_
