#include "seed/population.h"

#include <sodium.h>

#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "domain/password.h"
#include "seed/catalog.h"
#include "store/menus_repo.h"
#include "store/rfid_repo.h"
#include "store/users_repo.h"

namespace hasivu::seed {
namespace {

using std::chrono::days;

// 62^12 (about 71 bits) of OS randomness per generated password.
constexpr int kPasswordRandomChars = 12;

class Population {
 public:
  explicit Population(SeedRun& run)
      : run_(run),
        rng_(run.rng),
        ids_(run.ids),
        report_(run.report),
        schools_(run.schools),
        base_(run.base),
        spec_(run.spec),
        hasher_(run.settings.password) {}

  Status Write() {
    RETURN_IF_ERROR(PrepareSharedHash());
    RETURN_IF_ERROR(WriteSchools());
    RETURN_IF_ERROR(WriteUsers());
    RETURN_IF_ERROR(WriteReadersAndCards());
    return WriteMenuItems();
  }

 private:
  Status PrepareSharedHash() {
    RETURN_IF_ERROR(domain::PasswordHasher::ValidateSettings(run_.settings.password));
    // Accounts outside the fixtures share the hash of a password nobody knows (not from the
    // seeded PRNG, which anyone with the seed could replay).
    unsigned char secret[24];
    randombytes_buf(secret, sizeof secret);
    char hex[2 * sizeof secret + 1];
    sodium_bin2hex(hex, sizeof hex, secret, sizeof secret);
    ASSIGN_OR_RETURN(shared_hash_, hasher_.Hash(hex));
    return Status::Ok();
  }

  // Passwords come from the OS random source, never from the seeded PRNG: anyone can replay a
  // seed, so a password derived from one would be known to every reader of the code. The PRNG
  // still advances as it did, so the rest of the data set for a given seed stays what it was.
  std::string NewPassword() {
    std::string replayable;
    rng_.Chars(replayable, 6, kAlnum);
    std::string pw = "Hasivu!";
    for (int i = 0; i < kPasswordRandomChars; ++i) {
      pw += kAlnum[randombytes_uniform(static_cast<uint32_t>(kAlnum.size()))];
    }
    pw += "9a";
    return pw;
  }

  std::string PersonName() {
    std::string name = kFirstNames[rng_.Below(std::size(kFirstNames))];
    name += ' ';
    name += kLastNames[rng_.Below(std::size(kLastNames))];
    return name;
  }

  Status WriteSchools() {
    const TimePoint created = LocalTime(base_ - days(365), 9, 0);
    for (int s = 0; s < spec_.schools; ++s) {
      SchoolState st;
      st.id = ids_.Next();
      char code[16];
      std::snprintf(code, sizeof code, "HSV%03d", s + 1);
      st.code = code;
      const size_t n_names = std::size(kSchoolNames);
      const int city = static_cast<int>((s / n_names + s) % std::size(kCities));
      std::string name = std::string(kSchoolNames[s % n_names]) + ", " + kCities[city];
      SeedSchool fx;
      fx.id = st.id;
      fx.name = name;
      fx.timezone = std::string(kZone);
      const std::string address = "{\"line1\":\"" + std::to_string(10 + s) +
                                  " School Road\",\"city\":\"" + kCities[city] +
                                  "\",\"country\":\"IN\"}";
      char phone[32];
      std::snprintf(phone, sizeof phone, "+91 80 4%07d", s + 1);
      const std::string email = "office.s" + std::to_string(s + 1) + std::string(kDomain);
      const std::string principal = PersonName();
      RETURN_IF_ERROR(store::AppendSchool(run_.writer, {.id = st.id,
                                                        .name = name,
                                                        .code = st.code,
                                                        .timezone = kZone,
                                                        .address_json = address,
                                                        .city = kCities[city],
                                                        .state = kStates[city],
                                                        .phone = phone,
                                                        .email = email,
                                                        .principal_name = principal,
                                                        .is_active = true,
                                                        .created_at = created,
                                                        .updated_at = created}));
      schools_.push_back(std::move(st));
      report_.schools.push_back(std::move(fx));
    }
    report_.counts.schools = spec_.schools;
    return Status::Ok();
  }

  // One account row, active with a verified email. `listed` accounts (in the fixtures) get
  // their own hash of `password`, the others the shared one.
  Status AppendAccount(store::UserLoadRow row, std::string_view password, bool listed) {
    std::string own_hash;
    if (listed) {
      ASSIGN_OR_RETURN(own_hash, hasher_.Hash(password));
    }
    row.password_hash = listed ? own_hash : shared_hash_;
    row.status = "active";
    row.timezone = kZone;
    row.email_verified = true;
    row.is_active = true;
    row.updated_at = row.created_at;
    ++report_.counts.users;
    return store::AppendUser(run_.writer, row);
  }

  std::string Email(std::string_view local, int number, int school) {
    std::string e(local);
    if (number > 0) e += std::to_string(number);
    if (school > 0) e += ".s" + std::to_string(school);
    e += kDomain;
    return e;
  }

  TimePoint AccountCreated() {
    return RandomLocalTime(rng_, base_ - days(rng_.Range(60, 120)), 8, 19);
  }

  Status MakeStaff(SeedAccount& out, std::string_view role, std::string_view local, int number,
                   int school_no, const std::string& school_id) {
    out.id = ids_.Next();
    out.email = Email(local, number, school_no);
    out.password = NewPassword();
    const char* first = kFirstNames[rng_.Below(std::size(kFirstNames))];
    const char* last = kLastNames[rng_.Below(std::size(kLastNames))];
    const TimePoint created = AccountCreated();
    return AppendAccount({.id = out.id,
                          .email = out.email,
                          .first_name = first,
                          .last_name = last,
                          .role = role,
                          .school_id = school_id,
                          .created_at = created},
                         out.password, true);
  }

  Status WriteUsers() {
    RETURN_IF_ERROR(MakeStaff(report_.admin, "admin", "admin", 0, 0, std::string()));
    const int parents_per_school = spec_.parents / spec_.schools;
    const int students_per_school = spec_.students / spec_.schools;
    for (int s = 0; s < spec_.schools; ++s) {
      SchoolState& st = schools_[s];
      SeedSchool& fx = report_.schools[s];
      RETURN_IF_ERROR(MakeStaff(fx.school_admin, "school_admin", "schooladmin", 0, s + 1, st.id));
      for (int k = 1; k <= 2; ++k) {
        SeedAccount acc;
        RETURN_IF_ERROR(MakeStaff(acc, "kitchen_staff", "kitchen", k, s + 1, st.id));
        fx.kitchen_staff.push_back(std::move(acc));
      }
      // Every parent has one child, then the remaining children go to parents with fewer than
      // three, so families have 1-3 children.
      std::vector<int> children(parents_per_school, 1);
      for (int extra = students_per_school - parents_per_school; extra > 0;) {
        const int p = static_cast<int>(rng_.Below(parents_per_school));
        if (children[p] < 3) {
          ++children[p];
          --extra;
        }
      }
      std::vector<std::string> last_names(parents_per_school);
      for (int p = 0; p < parents_per_school; ++p) {
        const bool listed = static_cast<size_t>(p) < spec_.fixture_parents_per_school;
        std::string id = ids_.Next();
        std::string email = Email("parent", p + 1, s + 1);
        std::string password = NewPassword();
        last_names[p] = kLastNames[rng_.Below(std::size(kLastNames))];
        const char* first = kFirstNames[rng_.Below(std::size(kFirstNames))];
        std::string phone = "+91 9";
        rng_.Chars(phone, 9, "0123456789");
        const TimePoint created = AccountCreated();
        RETURN_IF_ERROR(AppendAccount({.id = id,
                                       .email = email,
                                       .first_name = first,
                                       .last_name = last_names[p],
                                       .phone = phone,
                                       .role = "parent",
                                       .school_id = st.id,
                                       .created_at = created},
                                      password, listed));
        if (listed) {
          SeedParent parent;
          parent.account = {.id = id, .email = email, .password = password};
          fx.parents.push_back(std::move(parent));
        }
        st.parent_ids.push_back(std::move(id));
      }
      report_.counts.parents += parents_per_school;
      int student_no = 0;
      for (int p = 0; p < parents_per_school; ++p) {
        const bool listed = static_cast<size_t>(p) < spec_.fixture_parents_per_school;
        for (int c = 0; c < children[p]; ++c) {
          Student stu;
          stu.id = ids_.Next();
          stu.parent = p;
          ++student_no;
          std::string email = Email("student", student_no, s + 1);
          std::string password = NewPassword();
          const std::string grade = std::to_string(rng_.Range(1, 10));
          const std::string section = kSections[rng_.Below(std::size(kSections))];
          const char* first = kFirstNames[rng_.Below(std::size(kFirstNames))];
          const TimePoint created = AccountCreated();
          RETURN_IF_ERROR(AppendAccount({.id = stu.id,
                                         .email = email,
                                         .first_name = first,
                                         .last_name = last_names[p],
                                         .role = "student",
                                         .school_id = st.id,
                                         .parent_id = st.parent_ids[p],
                                         .grade = grade,
                                         .section = section,
                                         .created_at = created},
                                        password, listed));
          if (listed) {
            SeedChild child;
            child.account = {.id = stu.id, .email = email, .password = password};
            child.grade = grade;
            child.section = section;
            fx.parents[p].children.push_back(std::move(child));
          }
          st.students.push_back(std::move(stu));
        }
      }
      report_.counts.students += student_no;
    }
    return Status::Ok();
  }

  Status WriteReadersAndCards() {
    const TimePoint installed = LocalTime(base_ - days(200), 10, 0);
    for (int s = 0; s < spec_.schools; ++s) {
      for (int r = 0; r < 2; ++r) {
        std::string id = ids_.Next();
        const std::string name = r == 0 ? "Canteen Gate A" : "Canteen Gate B";
        const std::string ip = "10.20." + std::to_string(s + 1) + "." + std::to_string(11 + r);
        RETURN_IF_ERROR(store::AppendReader(
            run_.writer, {.id = id,
                          .school_id = schools_[s].id,
                          .name = name,
                          .location = r == 0 ? "Main canteen" : "Junior block canteen",
                          .ip_address = ip,
                          .status = "online",
                          .last_heartbeat = run_.now,
                          .is_active = true,
                          .created_at = installed,
                          .updated_at = installed}));
        report_.schools[s].readers.push_back({.id = id, .name = name});
        schools_[s].reader_ids.push_back(std::move(id));
        ++report_.counts.rfid_readers;
      }
    }
    for (int s = 0; s < spec_.schools; ++s) {
      SchoolState& st = schools_[s];
      const int n = static_cast<int>(st.students.size());
      // Map student index -> fixture child, to copy card facts into the fixtures.
      std::vector<SeedChild*> fixture_child(n, nullptr);
      {
        int i = 0;
        size_t p_fx = 0;
        for (int p = 0; p < static_cast<int>(st.parent_ids.size()) && i < n; ++p) {
          const bool listed = p_fx < report_.schools[s].parents.size() &&
                              report_.schools[s].parents[p_fx].account.id == st.parent_ids[p];
          int c = 0;
          while (i < n && st.students[i].parent == p) {
            if (listed) fixture_child[i] = &report_.schools[s].parents[p_fx].children[c++];
            ++i;
          }
          if (listed) ++p_fx;
        }
      }
      for (int i = 0; i < n; ++i) {
        Student& stu = st.students[i];
        stu.card_id = ids_.Next();
        char number[64];
        std::string suffix;
        rng_.Chars(suffix, 4, kUpperAlnum);
        std::snprintf(number, sizeof number, "RFID-%s-%06d-%s", st.code.c_str(), i + 1,
                      suffix.c_str());
        // The last student of each school has an inactive card and the one before an expired
        // card, so every size has both cases; the rest are ~2 % each.
        const double roll = static_cast<double>(rng_.Below(1'000'000)) / 1e6;
        bool inactive = roll < 0.02 || i == n - 1;
        bool expired = !inactive && (roll < 0.04 || i == n - 2);
        const TimePoint issued = RandomLocalTime(rng_, base_ - days(rng_.Range(100, 300)), 10, 10);
        const TimePoint expires = expired ? LocalTime(base_ - days(rng_.Range(1, 60)), 0, 0)
                                          : LocalTime(base_ + days(rng_.Range(180, 540)), 0, 0);
        std::optional<TimePoint> deactivated;
        if (inactive) deactivated = LocalTime(base_ - days(rng_.Range(1, 30)), 11, 0);
        RETURN_IF_ERROR(
            store::AppendCard(run_.writer, {.id = stu.card_id,
                                            .card_number = number,
                                            .student_id = stu.id,
                                            .school_id = st.id,
                                            .is_active = !inactive,
                                            .issued_at = issued,
                                            .expires_at = expires,
                                            .deactivated_at = deactivated,
                                            .deactivation_reason = inactive ? "lost" : "",
                                            .created_at = issued,
                                            .updated_at = issued}));
        ++report_.counts.rfid_cards;
        if (SeedChild* fx = fixture_child[i]) {
          fx->card_number = number;
          fx->card_active = !inactive;
          fx->card_expired = expired;
        }
      }
    }
    return Status::Ok();
  }

  Status WriteMenuItems() {
    const TimePoint created = LocalTime(base_ - days(150), 9, 30);
    for (int s = 0; s < spec_.schools; ++s) {
      SchoolState& st = schools_[s];
      for (int i = 0; i < spec_.items_per_school; ++i) {
        const CatalogItem& item = kCatalog[i];
        std::string id = ids_.Next();
        // Prices differ a little between schools, in whole rupees.
        const int64_t price = item.price_paise + 100 * rng_.Range(-5, 5);
        const bool veg = std::string_view(item.allergens).find("egg") == std::string_view::npos;
        const std::string description =
            std::string("Freshly made ") + item.name + " from the school kitchen";
        const bool featured = rng_.Chance(0.1);
        const int64_t preparation_minutes = rng_.Range(10, 40);
        RETURN_IF_ERROR(
            store::AppendMenuItem(run_.writer, {.id = id,
                                                .school_id = st.id,
                                                .name = item.name,
                                                .description = description,
                                                .category = item.category,
                                                .price_paise = price,
                                                .currency = "INR",
                                                .available = true,
                                                .featured = featured,
                                                .allergens_json = item.allergens,
                                                .tags_json = veg ? "[\"veg\"]" : "[\"non-veg\"]",
                                                .calories = item.calories,
                                                .preparation_time = preparation_minutes,
                                                .sort_order = i,
                                                .created_at = created,
                                                .updated_at = created}));
        report_.schools[s].menu_item_ids.push_back(id);
        st.item_ids.push_back(std::move(id));
        st.item_prices.push_back(price);
        ++report_.counts.menu_items;
      }
    }
    return Status::Ok();
  }

  SeedRun& run_;
  Rng& rng_;
  IdGen& ids_;
  SeedReport& report_;
  std::vector<SchoolState>& schools_;
  const Date base_;
  const SizeSpec& spec_;
  domain::PasswordHasher hasher_;
  std::string shared_hash_;
};

}  // namespace

Status WritePopulation(SeedRun& run) { return Population(run).Write(); }

}  // namespace hasivu::seed
