#include "domain/demo_data.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <cstdio>
#include <random>
#include <string_view>
#include <utility>

#include "store/maintenance.h"
#include "store/users_repo.h"

namespace hasivu::domain {
namespace {

using std::chrono::days;
using std::chrono::microseconds;
using std::chrono::minutes;

constexpr std::string_view kZone = "Asia/Kolkata";
// Asia/Kolkata has had no DST since 1945, so local times convert with a fixed offset.
constexpr minutes kZoneOffset{330};
constexpr int kWindowDays = 20;
constexpr std::string_view kDomain = "@demo.hasivu.test";

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

constexpr SizeSpec kSizes[] = {
    {"demo", 2, 40, 30, 25, 600, 10, SIZE_MAX, true},
    {"medium", 20, 10'000, 7'000, 40, 200'000, 12, 200, false},
    {"large", 100, 100'000, 70'000, 40, 1'000'000, 12, 200, false},
};

// std::*_distribution are implementation-defined; these mappings keep a seed's data identical
// across standard libraries.
class Rng {
 public:
  explicit Rng(uint64_t seed) : gen_(seed) {}
  uint64_t Next() { return gen_(); }
  // Uniform in [0, n); n > 0.
  uint64_t Below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(gen_()) * n) >> 64);
  }
  // Uniform in [lo, hi].
  int64_t Range(int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(Below(hi - lo + 1)); }
  bool Chance(double p) { return static_cast<double>(gen_() >> 11) * 0x1.0p-53 < p; }
  void Chars(std::string& out, size_t n, std::string_view alphabet) {
    for (size_t i = 0; i < n; ++i) out.push_back(alphabet[Below(alphabet.size())]);
  }

 private:
  std::mt19937_64 gen_;
};

constexpr std::string_view kUpperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
constexpr std::string_view kAlnum =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
// 62^12 (about 71 bits) of OS randomness per generated password.
constexpr int kPasswordRandomChars = 12;
constexpr std::string_view kDigitsUpper = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
// The same characters in ASCII order, so counters written with it sort as numbers.
constexpr std::string_view kDigitsFirstAlnum =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

// UUIDv7-shaped ids: a 48-bit millisecond time from a fixed start (derived from the base date),
// advanced by a counter that also fills rand_a, so ids are unique and ascending in generation
// order (cheap B-tree appends); rand_b comes from the seeded PRNG.
class IdGen {
 public:
  IdGen(Rng& rng, uint64_t start_ms) : rng_(rng), start_ms_(start_ms) {}
  std::string Next() {
    const uint64_t ms = start_ms_ + (counter_ >> 12);
    const uint64_t rand_a = counter_ & 0xFFF;
    ++counter_;
    const uint64_t hi = (ms << 16) | 0x7000 | rand_a;
    const uint64_t lo = (rng_.Next() & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out(36, '-');
    int pos = 0;
    auto put = [&](uint64_t v, int nibbles) {
      for (int i = nibbles - 1; i >= 0; --i) {
        if (pos == 8 || pos == 13 || pos == 18 || pos == 23) ++pos;
        out[pos++] = kHex[(v >> (4 * i)) & 0xF];
      }
    };
    put(hi, 16);
    put(lo, 16);
    return out;
  }

 private:
  Rng& rng_;
  uint64_t start_ms_;
  uint64_t counter_ = 0;
};

TimePoint LocalTime(Date d, int hour, int minute, int64_t micros = 0) {
  return TimePoint(d) + std::chrono::hours(hour) + minutes(minute) - kZoneOffset +
         microseconds(micros);
}

Date LocalDateOf(TimePoint t) { return std::chrono::floor<days>(t + kZoneOffset); }

std::string CompactDate(Date d) {
  const std::chrono::year_month_day ymd{d};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d%02u%02u", int(ymd.year()), unsigned(ymd.month()),
                unsigned(ymd.day()));
  return buf;
}

TimePoint Clamp(TimePoint t, TimePoint lo, TimePoint hi) { return std::max(lo, std::min(t, hi)); }

struct CatalogItem {
  const char* name;
  const char* category;
  int64_t price_paise;
  int calories;
  const char* allergens;  // JSON array
};

// 40 dishes; "demo" uses the first 25.
constexpr CatalogItem kCatalog[] = {
    {"Masala Dosa", "BREAKFAST", 4500, 320, "[]"},
    {"Idli Sambar", "BREAKFAST", 3500, 250, "[]"},
    {"Poha", "BREAKFAST", 3000, 270, "[\"peanuts\"]"},
    {"Upma", "BREAKFAST", 3000, 260, "[\"gluten\"]"},
    {"Aloo Paratha", "BREAKFAST", 4000, 380, "[\"gluten\",\"dairy\"]"},
    {"Veg Pulao", "LUNCH", 6000, 450, "[]"},
    {"Dal Rice", "LUNCH", 5500, 480, "[]"},
    {"Rajma Chawal", "LUNCH", 6500, 520, "[]"},
    {"Chole Bhature", "LUNCH", 7000, 610, "[\"gluten\"]"},
    {"Paneer Butter Masala with Roti", "LUNCH", 8500, 560, "[\"dairy\",\"gluten\"]"},
    {"Vegetable Biryani", "LUNCH", 8000, 540, "[]"},
    {"Curd Rice", "LUNCH", 5000, 400, "[\"dairy\"]"},
    {"Sambar Rice", "LUNCH", 5000, 430, "[]"},
    {"Lemon Rice", "LUNCH", 4500, 390, "[\"peanuts\"]"},
    {"Mini Meals Thali", "LUNCH", 9500, 650, "[\"dairy\",\"gluten\"]"},
    {"Veg Sandwich", "SNACK", 3500, 280, "[\"gluten\",\"dairy\"]"},
    {"Samosa", "SNACK", 2000, 260, "[\"gluten\"]"},
    {"Fruit Bowl", "SNACK", 4000, 150, "[]"},
    {"Sprouts Chaat", "SNACK", 3000, 180, "[]"},
    {"Vada Pav", "SNACK", 2500, 290, "[\"gluten\"]"},
    {"Masala Chaas", "BEVERAGE", 2000, 90, "[\"dairy\"]"},
    {"Mango Lassi", "BEVERAGE", 3500, 210, "[\"dairy\"]"},
    {"Fresh Lime Water", "BEVERAGE", 1500, 60, "[]"},
    {"Gulab Jamun", "DESSERT", 2500, 300, "[\"dairy\",\"gluten\"]"},
    {"Rice Kheer", "DESSERT", 3000, 280, "[\"dairy\",\"nuts\"]"},
    {"Pongal", "BREAKFAST", 3500, 310, "[\"dairy\"]"},
    {"Medu Vada", "BREAKFAST", 3000, 290, "[]"},
    {"Uttapam", "BREAKFAST", 4000, 330, "[]"},
    {"Veg Fried Rice", "LUNCH", 7000, 500, "[\"soy\"]"},
    {"Bisi Bele Bath", "LUNCH", 6000, 470, "[\"dairy\"]"},
    {"Kadhi Chawal", "LUNCH", 5500, 450, "[\"dairy\"]"},
    {"Palak Paneer with Rice", "LUNCH", 8500, 530, "[\"dairy\"]"},
    {"Egg Curry with Rice", "LUNCH", 8000, 560, "[\"egg\"]"},
    {"Dhokla", "SNACK", 3000, 200, "[]"},
    {"Corn Chaat", "SNACK", 3000, 170, "[\"dairy\"]"},
    {"Banana Chips", "SNACK", 2000, 250, "[]"},
    {"Badam Milk", "BEVERAGE", 3500, 220, "[\"dairy\",\"nuts\"]"},
    {"Tender Coconut Water", "BEVERAGE", 3000, 60, "[]"},
    {"Carrot Halwa", "DESSERT", 3500, 320, "[\"dairy\",\"nuts\"]"},
    {"Fruit Custard", "DESSERT", 3000, 240, "[\"dairy\"]"},
};
static_assert(std::size(kCatalog) == 40);

constexpr const char* kFirstNames[] = {
    "Aarav",   "Vivaan",  "Aditya", "Vihaan", "Arjun",  "Sai",    "Reyansh", "Ayaan",
    "Krishna", "Ishaan",  "Ananya", "Diya",   "Aadhya", "Saanvi", "Myra",    "Pari",
    "Anika",   "Kavya",   "Riya",   "Meera",  "Rohan",  "Kabir",  "Dev",     "Neha",
    "Priya",   "Lakshmi", "Ravi",   "Suresh", "Deepa",  "Farhan", "Zoya",    "Tanvi",
};
constexpr const char* kLastNames[] = {
    "Sharma", "Verma", "Iyer",   "Reddy", "Nair",  "Gupta",    "Patel",  "Rao",
    "Khan",   "Singh", "Menon",  "Joshi", "Das",   "Kulkarni", "Bhat",   "Hegde",
    "Pillai", "Mehta", "Shetty", "Gowda", "Kumar", "Banerjee", "Mishra", "Naidu",
};
constexpr const char* kSchoolNames[] = {
    "Sunrise Public School",  "Green Valley Academy",     "Little Flower School",
    "National Model School",  "Lotus International",      "St. Mary's Convent",
    "Vidya Niketan",          "Kendriya Vidyalaya No. 2", "Blue Bells School",
    "Delhi Public School",    "Sri Chaitanya School",     "Presidency School",
    "Bharatiya Vidya Bhavan", "Oakridge School",          "Silver Oaks School",
    "Gurukul Academy",        "Army Public School",       "Holy Cross School",
    "Amrita Vidyalayam",      "New Horizon School",
};
constexpr const char* kCities[] = {"Bengaluru", "Mysuru", "Chennai", "Hyderabad", "Pune"};
constexpr const char* kStates[] = {"Karnataka", "Karnataka", "Tamil Nadu", "Telangana",
                                   "Maharashtra"};
constexpr const char* kSections[] = {"A", "B", "C", "D"};
constexpr const char* kMethods[] = {"upi", "upi", "card", "netbanking", "wallet"};

enum class OrderStatus {
  kPending,
  kConfirmed,
  kPreparing,
  kReady,
  kOutForDelivery,
  kDelivered,
  kCancelled
};
enum class PayStatus { kPending, kPaid, kFailed, kRefunded };

constexpr const char* StatusName(OrderStatus s) {
  constexpr const char* kNames[] = {"pending",          "confirmed", "preparing", "ready",
                                    "out_for_delivery", "delivered", "cancelled"};
  return kNames[static_cast<int>(s)];
}
constexpr const char* PayName(PayStatus s) {
  constexpr const char* kNames[] = {"pending", "paid", "failed", "refunded"};
  return kNames[static_cast<int>(s)];
}

// A reusable row: string cells keep their capacity between rows, so appending a row does not
// allocate once the buffers have grown.
class RowWriter {
 public:
  explicit RowWriter(store::BulkLoader& loader) : loader_(loader) {}

  Status Begin(std::string_view table, std::vector<std::string> columns) {
    table_ = table;
    row_.assign(columns.size(), std::monostate{});
    next_ = 0;
    return loader_.Begin(table, std::move(columns)).WithContext("load " + table_);
  }
  RowWriter& Str(std::string_view s) {
    Value& v = row_[next_++];
    if (auto* p = std::get_if<std::string>(&v)) {
      p->assign(s);
    } else {
      v = std::string(s);
    }
    return *this;
  }
  // Same text as FormatRfc3339/FormatDate, written straight into the cell (these run millions
  // of times; snprintf showed in profiles).
  RowWriter& Time(TimePoint t) {
    const auto us = std::chrono::floor<microseconds>(t);
    const auto day = std::chrono::floor<days>(us);
    int64_t rest = (us - day).count();
    char buf[27];
    PutDate(buf, Date(day));
    buf[10] = 'T';
    const int64_t micros = rest % 1'000'000;
    rest /= 1'000'000;
    Put2(buf + 11, static_cast<int>(rest / 3600));
    buf[13] = ':';
    Put2(buf + 14, static_cast<int>(rest / 60 % 60));
    buf[16] = ':';
    Put2(buf + 17, static_cast<int>(rest % 60));
    buf[19] = '.';
    for (int i = 0, m = static_cast<int>(micros); i < 6; ++i, m /= 10) buf[25 - i] = '0' + m % 10;
    buf[26] = 'Z';
    return Str(std::string_view(buf, 27));
  }
  RowWriter& Day(Date d) {
    char buf[10];
    PutDate(buf, d);
    return Str(std::string_view(buf, 10));
  }
  RowWriter& Int(int64_t i) {
    row_[next_++] = i;
    return *this;
  }
  RowWriter& Bool(bool b) {
    row_[next_++] = b;
    return *this;
  }
  RowWriter& Null() {
    row_[next_++] = std::monostate{};
    return *this;
  }
  RowWriter& OptTime(const std::optional<TimePoint>& t) { return t ? Time(*t) : Null(); }
  Status End() {
    if (next_ != row_.size()) return InternalError("load " + table_ + ": row has wrong width");
    next_ = 0;
    Status s = loader_.Append(row_);
    if (!s.ok()) return s.WithContext("load " + table_);
    return Status::Ok();
  }

 private:
  using Value = store::Value;
  static void Put2(char* p, int v) {
    p[0] = static_cast<char>('0' + v / 10);
    p[1] = static_cast<char>('0' + v % 10);
  }
  // "YYYY-MM-DD" into p[0..9]; years 2000-2999 (SeedDemoData checks the base date).
  static void PutDate(char* p, Date d) {
    const std::chrono::year_month_day ymd{d};
    const int y = int(ymd.year());
    Put2(p, y / 100);
    Put2(p + 2, y % 100);
    p[4] = '-';
    Put2(p + 5, static_cast<int>(unsigned(ymd.month())));
    p[7] = '-';
    Put2(p + 8, static_cast<int>(unsigned(ymd.day())));
  }

  store::BulkLoader& loader_;
  std::string table_;
  std::vector<Value> row_;
  size_t next_ = 0;
};

struct Student {
  std::string id;
  std::string card_id;
  int parent = 0;  // index into the school's parents
};

struct Slot {
  std::string id;
  int item = 0;
  int64_t price = 0;
  std::optional<int64_t> custom_price;
  int max_per_order = 0;  // 0: no limit
  bool limited = false;
  bool special = false;
  int64_t planned = 0;
  int64_t remaining = 0;
};

struct MenuDay {
  Date date;
  std::string id;
  bool weekend = false;
  std::vector<Slot> slots;
};

struct Line {
  int slot;
  int64_t quantity;
};

struct Order {
  std::string id;
  std::string number;
  int student = 0;
  bool placed_by_student = false;
  int day = 0;
  OrderStatus status = OrderStatus::kPending;
  PayStatus pay = PayStatus::kPending;
  int64_t total = 0;
  TimePoint created;
  TimePoint updated;
  std::optional<TimePoint> delivered_at;
  std::optional<TimePoint> cancelled_at;
  std::optional<TimePoint> paid_at;
  std::vector<Line> lines;
  int reader = 0;
};

struct SchoolState {
  std::string id;
  std::string code;
  std::vector<std::string> item_ids;
  std::vector<int64_t> item_prices;
  std::vector<std::string> parent_ids;
  std::vector<Student> students;
  std::vector<std::string> reader_ids;
};

class Seeder {
 public:
  Seeder(store::Database& db, const SeedSettings& settings, const SizeSpec& spec, Date base,
         TimePoint now)
      : db_(db),
        settings_(settings),
        spec_(spec),
        base_(base),
        now_(now),
        rng_(settings.seed),
        ids_(rng_, StartMs(base)),
        hasher_(settings.password) {}

  StatusOr<SeedReport> Run() {
    ASSIGN_OR_RETURN(loader_, db_.NewBulkLoader());
    writer_.emplace(*loader_);
    RETURN_IF_ERROR(PrepareSharedHash());
    report_.size = std::string(spec_.name);
    report_.seed = settings_.seed;
    report_.base_date = base_;
    BuildMenuDays();
    RETURN_IF_ERROR(WriteSchools());
    RETURN_IF_ERROR(WriteUsers());
    RETURN_IF_ERROR(WriteReadersAndCards());
    RETURN_IF_ERROR(WriteMenuItems());
    for (size_t s = 0; s < schools_.size(); ++s) RETURN_IF_ERROR(WriteSchoolActivity(s));
    RETURN_IF_ERROR(loader_->Finish().WithContext("commit the load"));
    return std::move(report_);
  }

 private:
  static uint64_t StartMs(Date base) {
    const auto start = TimePoint(base - days(60));
    return static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(start.time_since_epoch()).count());
  }

  Status PrepareSharedHash() {
    RETURN_IF_ERROR(PasswordHasher::ValidateSettings(settings_.password));
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

  void BuildMenuDays() {
    for (int offset = -kWindowDays; offset <= kWindowDays; ++offset) {
      const Date d = base_ + days(offset);
      const bool weekend = IsoWeekday(d) >= 6;
      if (weekend && offset != 0) continue;
      if (offset == 0) today_index_ = static_cast<int>(day_dates_.size());
      day_dates_.push_back(d);
      day_weekend_.push_back(weekend);
    }
  }

  Status WriteSchools() {
    RowWriter& w = *writer_;
    RETURN_IF_ERROR(
        w.Begin("schools", {"id", "name", "code", "timezone", "address", "city", "state", "phone",
                            "email", "principal_name", "is_active", "created_at", "updated_at"}));
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
      RETURN_IF_ERROR(w.Str(st.id)
                          .Str(name)
                          .Str(st.code)
                          .Str(kZone)
                          .Str(address)
                          .Str(kCities[city])
                          .Str(kStates[city])
                          .Str(phone)
                          .Str("office.s" + std::to_string(s + 1) + std::string(kDomain))
                          .Str(PersonName())
                          .Bool(true)
                          .Time(created)
                          .Time(created)
                          .End());
      schools_.push_back(std::move(st));
      report_.schools.push_back(std::move(fx));
    }
    report_.counts.schools = spec_.schools;
    return Status::Ok();
  }

  // One account row. `listed` accounts (in the fixtures) get their own hash.
  struct UserRow {
    std::string_view id;
    std::string_view email;
    std::string_view role;
    std::string_view first;
    std::string_view last;
    std::optional<std::string_view> phone = std::nullopt;
    std::optional<std::string_view> school_id = std::nullopt;
    std::optional<std::string_view> parent_id = std::nullopt;
    std::optional<std::string_view> grade = std::nullopt;
    std::optional<std::string_view> section = std::nullopt;
    TimePoint created = {};
  };

  Status AppendUser(const UserRow& u, std::string_view password, bool listed) {
    std::string own_hash;
    if (listed) {
      ASSIGN_OR_RETURN(own_hash, hasher_.Hash(password));
    }
    RowWriter& w = *writer_;
    w.Str(u.id).Str(u.email).Str(listed ? own_hash : shared_hash_).Str(u.first).Str(u.last);
    u.phone ? w.Str(*u.phone) : w.Null();
    w.Str(u.role).Str("active");
    u.school_id ? w.Str(*u.school_id) : w.Null();
    u.parent_id ? w.Str(*u.parent_id) : w.Null();
    u.grade ? w.Str(*u.grade) : w.Null();
    u.section ? w.Str(*u.section) : w.Null();
    w.Str(kZone).Bool(true).Bool(true).Time(u.created).Time(u.created);
    ++report_.counts.users;
    return w.End();
  }

  std::string Email(std::string_view local, int number, int school) {
    std::string e(local);
    if (number > 0) e += std::to_string(number);
    if (school > 0) e += ".s" + std::to_string(school);
    e += kDomain;
    return e;
  }

  TimePoint AccountCreated() { return RandomLocalTime(base_ - days(rng_.Range(60, 120)), 8, 19); }

  // A time between hour_lo:00 and hour_hi:59 of local day `d`. Draws are sequenced statements:
  // argument evaluation order is unspecified and would make the data compiler-dependent.
  TimePoint RandomLocalTime(Date d, int hour_lo, int hour_hi) {
    const int hour = static_cast<int>(rng_.Range(hour_lo, hour_hi));
    const int minute = static_cast<int>(rng_.Range(0, 59));
    const int64_t micros = rng_.Range(0, 59'999'999);
    return LocalTime(d, hour, minute, micros);
  }

  std::string PersonName() {
    std::string name = kFirstNames[rng_.Below(std::size(kFirstNames))];
    name += ' ';
    name += kLastNames[rng_.Below(std::size(kLastNames))];
    return name;
  }

  Status MakeStaff(SeedAccount& out, std::string_view role, std::string_view local, int number,
                   int school_no, const std::string& school_id) {
    out.id = ids_.Next();
    out.email = Email(local, number, school_no);
    out.password = NewPassword();
    const char* first = kFirstNames[rng_.Below(std::size(kFirstNames))];
    const char* last = kLastNames[rng_.Below(std::size(kLastNames))];
    UserRow u{
        .id = out.id,
        .email = out.email,
        .role = role,
        .first = first,
        .last = last,
        .school_id = school_id.empty() ? std::nullopt : std::optional<std::string_view>(school_id),
        .created = AccountCreated()};
    return AppendUser(u, out.password, true);
  }

  Status WriteUsers() {
    RowWriter& w = *writer_;
    RETURN_IF_ERROR(
        w.Begin("users", {"id", "email", "password_hash", "first_name", "last_name", "phone",
                          "role", "status", "school_id", "parent_id", "grade", "section",
                          "timezone", "email_verified", "is_active", "created_at", "updated_at"}));
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
        UserRow u{.id = id,
                  .email = email,
                  .role = "parent",
                  .first = first,
                  .last = last_names[p],
                  .phone = phone,
                  .school_id = st.id,
                  .created = AccountCreated()};
        RETURN_IF_ERROR(AppendUser(u, password, listed));
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
          UserRow u{.id = stu.id,
                    .email = email,
                    .role = "student",
                    .first = first,
                    .last = last_names[p],
                    .school_id = st.id,
                    .parent_id = st.parent_ids[p],
                    .grade = grade,
                    .section = section,
                    .created = AccountCreated()};
          RETURN_IF_ERROR(AppendUser(u, password, listed));
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
    RowWriter& w = *writer_;
    RETURN_IF_ERROR(
        w.Begin("rfid_readers", {"id", "school_id", "name", "location", "ip_address", "status",
                                 "last_heartbeat", "is_active", "created_at", "updated_at"}));
    const TimePoint installed = LocalTime(base_ - days(200), 10, 0);
    for (int s = 0; s < spec_.schools; ++s) {
      for (int r = 0; r < 2; ++r) {
        std::string id = ids_.Next();
        const std::string name = r == 0 ? "Canteen Gate A" : "Canteen Gate B";
        const std::string ip = "10.20." + std::to_string(s + 1) + "." + std::to_string(11 + r);
        RETURN_IF_ERROR(w.Str(id)
                            .Str(schools_[s].id)
                            .Str(name)
                            .Str(r == 0 ? "Main canteen" : "Junior block canteen")
                            .Str(ip)
                            .Str("online")
                            .Time(now_)
                            .Bool(true)
                            .Time(installed)
                            .Time(installed)
                            .End());
        report_.schools[s].readers.push_back({.id = id, .name = name});
        schools_[s].reader_ids.push_back(std::move(id));
        ++report_.counts.rfid_readers;
      }
    }
    RETURN_IF_ERROR(w.Begin("rfid_cards", {"id", "card_number", "student_id", "school_id",
                                           "is_active", "issued_at", "expires_at", "deactivated_at",
                                           "deactivation_reason", "created_at", "updated_at"}));
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
        const TimePoint issued = RandomLocalTime(base_ - days(rng_.Range(100, 300)), 10, 10);
        const TimePoint expires = expired ? LocalTime(base_ - days(rng_.Range(1, 60)), 0, 0)
                                          : LocalTime(base_ + days(rng_.Range(180, 540)), 0, 0);
        w.Str(stu.card_id)
            .Str(number)
            .Str(stu.id)
            .Str(st.id)
            .Bool(!inactive)
            .Time(issued)
            .Time(expires);
        if (inactive) {
          w.Time(LocalTime(base_ - days(rng_.Range(1, 30)), 11, 0)).Str("lost");
        } else {
          w.Null().Null();
        }
        RETURN_IF_ERROR(w.Time(issued).Time(issued).End());
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
    RowWriter& w = *writer_;
    RETURN_IF_ERROR(
        w.Begin("menu_items", {"id", "school_id", "name", "description", "category", "price_paise",
                               "currency", "available", "featured", "allergens", "tags", "calories",
                               "preparation_time", "sort_order", "created_at", "updated_at"}));
    const TimePoint created = LocalTime(base_ - days(150), 9, 30);
    for (int s = 0; s < spec_.schools; ++s) {
      SchoolState& st = schools_[s];
      for (int i = 0; i < spec_.items_per_school; ++i) {
        const CatalogItem& item = kCatalog[i];
        std::string id = ids_.Next();
        // Prices differ a little between schools, in whole rupees.
        const int64_t price = item.price_paise + 100 * rng_.Range(-5, 5);
        const bool veg = std::string_view(item.allergens).find("egg") == std::string_view::npos;
        RETURN_IF_ERROR(
            w.Str(id)
                .Str(st.id)
                .Str(item.name)
                .Str(std::string("Freshly made ") + item.name + " from the school kitchen")
                .Str(item.category)
                .Int(price)
                .Str("INR")
                .Bool(true)
                .Bool(rng_.Chance(0.1))
                .Str(item.allergens)
                .Str(veg ? "[\"veg\"]" : "[\"non-veg\"]")
                .Int(item.calories)
                .Int(rng_.Range(10, 40))
                .Int(i)
                .Time(created)
                .Time(created)
                .End());
        report_.schools[s].menu_item_ids.push_back(id);
        st.item_ids.push_back(std::move(id));
        st.item_prices.push_back(price);
        ++report_.counts.menu_items;
      }
    }
    return Status::Ok();
  }

  std::vector<MenuDay> MakeMenus(const SchoolState& st) {
    std::vector<MenuDay> out;
    const int n_items = static_cast<int>(st.item_ids.size());
    const int64_t students = static_cast<int64_t>(st.students.size());
    std::vector<int> order(n_items);
    for (size_t d = 0; d < day_dates_.size(); ++d) {
      MenuDay day;
      day.date = day_dates_[d];
      day.weekend = day_weekend_[d];
      day.id = ids_.Next();
      for (int i = 0; i < n_items; ++i) order[i] = i;
      const int k = std::min(spec_.slots_per_menu, n_items);
      for (int i = 0; i < k; ++i) {
        std::swap(order[i], order[i + rng_.Below(n_items - i)]);
        Slot slot;
        slot.id = ids_.Next();
        slot.item = order[i];
        slot.price = st.item_prices[slot.item];
        if (rng_.Chance(0.15)) {
          slot.custom_price = std::max<int64_t>(500, slot.price - 500);
          slot.price = *slot.custom_price;
        }
        slot.special = rng_.Chance(0.1);
        if (rng_.Chance(0.3)) slot.max_per_order = static_cast<int>(rng_.Range(2, 3));
        // Slot 0 stays unlimited so every order finds something to buy.
        if (i > 0 && rng_.Chance(0.2)) {
          slot.limited = true;
          slot.planned = 10 + students / 8;
          slot.remaining = slot.planned;
        }
        day.slots.push_back(std::move(slot));
      }
      out.push_back(std::move(day));
    }
    return out;
  }

  struct StatusPick {
    OrderStatus status;
    PayStatus pay;
  };

  StatusPick PickStatus(int day) {
    const uint64_t r = rng_.Below(100);
    if (day < today_index_) {
      if (r < 86) return {OrderStatus::kDelivered, PayStatus::kPaid};
      if (r < 90) return {OrderStatus::kCancelled, PayStatus::kRefunded};
      if (r < 94) return {OrderStatus::kCancelled, PayStatus::kPending};
      if (r < 97) return {OrderStatus::kPending, PayStatus::kFailed};
      return {OrderStatus::kPending, PayStatus::kPending};
    }
    if (day == today_index_) {
      if (r < 35) return {OrderStatus::kConfirmed, PayStatus::kPaid};
      if (r < 60) return {OrderStatus::kPreparing, PayStatus::kPaid};
      if (r < 80) return {OrderStatus::kReady, PayStatus::kPaid};
      if (r < 88) return {OrderStatus::kOutForDelivery, PayStatus::kPaid};
      if (r < 92) return {OrderStatus::kDelivered, PayStatus::kPaid};
      if (r < 97) return {OrderStatus::kPending, PayStatus::kPending};
      return {OrderStatus::kCancelled, PayStatus::kRefunded};
    }
    if (r < 50) return {OrderStatus::kConfirmed, PayStatus::kPaid};
    if (r < 88) return {OrderStatus::kPending, PayStatus::kPending};
    if (r < 93) return {OrderStatus::kPending, PayStatus::kFailed};
    if (r < 96) return {OrderStatus::kCancelled, PayStatus::kRefunded};
    return {OrderStatus::kCancelled, PayStatus::kPending};
  }

  // Appends `width` digits of `n` in base `alphabet.size()`, most significant first.
  static void AppendCounter(std::string& out, uint64_t n, int width, std::string_view alphabet) {
    const size_t at = out.size();
    out.append(width, alphabet[0]);
    for (int i = width - 1; i >= 0 && n > 0; --i) {
      out[at + i] = alphabet[n % alphabet.size()];
      n /= alphabet.size();
    }
  }

  // "ORD-YYYYMMDD-" + 5 characters of a counter + 3 random ones: unique by construction, and
  // ascending within a date, so the unique index is appended to rather than split at random.
  std::string NewOrderNumber(TimePoint created) {
    std::string number = "ORD-" + CompactDate(LocalDateOf(created)) + "-";
    AppendCounter(number, order_counter_++, 5, kDigitsUpper);
    rng_.Chars(number, 3, kUpperAlnum);
    return number;
  }

  void FillOrder(Order& o, MenuDay& day, int day_index, StatusPick pick, int readers) {
    o.id = ids_.Next();
    o.day = day_index;
    o.status = pick.status;
    o.pay = pick.pay;
    o.placed_by_student = rng_.Chance(0.1);
    o.reader = static_cast<int>(rng_.Below(readers));
    const Date d = day.date;
    const int64_t jitter_us = rng_.Range(0, 59'999'999);
    if (day_index < today_index_) {
      o.created = RandomLocalTime(d - days(rng_.Range(1, 7)), 7, 21);
    } else {
      // Ordered before the day (orders-create allows from tomorrow on) and before "now".
      const TimePoint latest = std::min(now_, LocalTime(d - days(1), 21, 0));
      o.created = latest - minutes(rng_.Range(5, 4 * 24 * 60)) - microseconds(jitter_us);
    }
    o.number = NewOrderNumber(o.created);
    o.updated = o.created;
    if (o.pay == PayStatus::kPaid || o.pay == PayStatus::kRefunded) {
      o.paid_at =
          Clamp(o.created + minutes(rng_.Range(1, 10)), o.created, std::max(o.created, now_));
      o.updated = *o.paid_at;
    }
    if (o.status == OrderStatus::kDelivered) {
      const TimePoint lo = LocalTime(d, 0, 1);
      TimePoint at = LocalTime(d, 12, static_cast<int>(rng_.Range(0, 90)), jitter_us);
      if (day_index == today_index_) at = Clamp(now_ - minutes(rng_.Range(1, 60)), lo, at);
      o.delivered_at = at;
      o.updated = at;
    } else if (o.status == OrderStatus::kCancelled) {
      const TimePoint from = o.paid_at.value_or(o.created);
      o.cancelled_at = Clamp(from + minutes(rng_.Range(5, 600)), from, std::max(from, now_));
      o.updated = *o.cancelled_at;
    } else if (day_index == today_index_ && o.status != OrderStatus::kPending &&
               o.status != OrderStatus::kConfirmed) {
      // The kitchen moved it along this morning.
      o.updated = Clamp(now_ - minutes(rng_.Range(1, 120)), o.updated, std::max(o.updated, now_));
    }
    // Lines: 1-3 distinct slots of that day's menu; sold-out limited slots are skipped.
    const bool consumes = o.status != OrderStatus::kCancelled;
    const int n_slots = static_cast<int>(day.slots.size());
    const uint64_t lr = rng_.Below(100);
    const int want = lr < 55 ? 1 : (lr < 90 ? 2 : 3);
    uint64_t used = 0;  // bitmask of slots taken (menus have at most 12 slots)
    for (int attempt = 0; attempt < 6 && static_cast<int>(o.lines.size()) < want; ++attempt) {
      const int si = static_cast<int>(rng_.Below(n_slots));
      Slot& slot = day.slots[si];
      if ((used >> si) & 1) continue;
      const uint64_t qr = rng_.Below(100);
      int64_t q = qr < 75 ? 1 : (qr < 95 ? 2 : 3);
      if (slot.max_per_order > 0) q = std::min<int64_t>(q, slot.max_per_order);
      if (slot.limited && consumes) {
        if (slot.remaining <= 0) continue;
        q = std::min(q, slot.remaining);
        slot.remaining -= q;
      }
      used |= uint64_t{1} << si;
      o.lines.push_back({si, q});
    }
    if (o.lines.empty()) o.lines.push_back({0, 1});  // slot 0 is never limited
    o.total = 0;
    for (const Line& l : o.lines) o.total += day.slots[l.slot].price * l.quantity;
  }

  Status WriteSchoolActivity(size_t s) {
    SchoolState& st = schools_[s];
    std::vector<MenuDay> menus = MakeMenus(st);
    const int n_students = static_cast<int>(st.students.size());
    const int readers = static_cast<int>(st.reader_ids.size());
    // Order probability per student and non-base day, so that the total lands near the target.
    constexpr double kTodayShare = 0.9;
    const double other_days = static_cast<double>(menus.size() - 1);
    const double per_school_target =
        static_cast<double>(spec_.target_orders) / spec_.schools - kTodayShare * n_students;
    const double p = std::clamp(per_school_target / (n_students * other_days), 0.0, 1.0);

    std::vector<Order> orders;
    orders.reserve(static_cast<size_t>(n_students * (kTodayShare + p * other_days) * 1.1) + 16);
    // The last seven students of each school order for the base date in each status in turn, so
    // every status exists in every school (they hold the inactive/expired cards too).
    constexpr OrderStatus kAll[] = {OrderStatus::kCancelled,      OrderStatus::kDelivered,
                                    OrderStatus::kOutForDelivery, OrderStatus::kReady,
                                    OrderStatus::kPreparing,      OrderStatus::kConfirmed,
                                    OrderStatus::kPending};
    for (size_t d = 0; d < menus.size(); ++d) {
      const int di = static_cast<int>(d);
      for (int i = 0; i < n_students; ++i) {
        const int from_end = n_students - 1 - i;
        StatusPick pick;
        if (di == today_index_ && from_end < 7) {
          const OrderStatus forced = kAll[from_end];
          pick.status = forced;
          pick.pay = forced == OrderStatus::kPending     ? PayStatus::kPending
                     : forced == OrderStatus::kCancelled ? PayStatus::kRefunded
                                                         : PayStatus::kPaid;
        } else {
          if (!rng_.Chance(di == today_index_ ? kTodayShare : p)) continue;
          pick = PickStatus(di);
        }
        Order& o = orders.emplace_back();
        o.student = i;
        FillOrder(o, menus[d], di, pick, readers);
      }
    }
    RETURN_IF_ERROR(WriteMenus(st, menus));
    return WriteOrders(st, menus, orders);
  }

  Status WriteMenus(const SchoolState& st, const std::vector<MenuDay>& menus) {
    RowWriter& w = *writer_;
    RETURN_IF_ERROR(
        w.Begin("daily_menus", {"id", "school_id", "date", "day_type", "is_active", "is_published",
                                "published_at", "notes", "created_at", "updated_at"}));
    for (const MenuDay& m : menus) {
      const TimePoint published = std::min(now_, LocalTime(m.date - days(10), 9, 0));
      RETURN_IF_ERROR(w.Str(m.id)
                          .Str(st.id)
                          .Day(m.date)
                          .Str(m.weekend ? "WEEKEND" : "WEEKDAY")
                          .Bool(true)
                          .Bool(true)
                          .Time(published)
                          .Null()
                          .Time(published)
                          .Time(published)
                          .End());
      ++report_.counts.daily_menus;
    }
    RETURN_IF_ERROR(w.Begin("menu_item_slots",
                            {"id", "daily_menu_id", "menu_item_id", "category", "planned_quantity",
                             "available_quantity", "custom_price_paise", "is_special", "is_limited",
                             "max_per_order", "display_order", "is_visible"}));
    for (const MenuDay& m : menus) {
      for (size_t i = 0; i < m.slots.size(); ++i) {
        const Slot& slot = m.slots[i];
        w.Str(slot.id).Str(m.id).Str(st.item_ids[slot.item]).Str(kCatalog[slot.item].category);
        if (slot.limited) {
          w.Int(slot.planned).Int(slot.remaining);
        } else {
          w.Null().Null();
        }
        slot.custom_price ? w.Int(*slot.custom_price) : w.Null();
        w.Bool(slot.special).Bool(slot.limited);
        slot.max_per_order > 0 ? w.Int(slot.max_per_order) : w.Null();
        RETURN_IF_ERROR(w.Int(static_cast<int64_t>(i)).Bool(true).End());
        ++report_.counts.menu_item_slots;
      }
    }
    return Status::Ok();
  }

  // Razorpay's shape (prefix + 14 alphanumerics): a 6-character counter, then 8 random ones.
  std::string GatewayId(std::string_view prefix) {
    std::string id(prefix);
    AppendCounter(id, gateway_counter_++, 6, kDigitsFirstAlnum);
    rng_.Chars(id, 8, kAlnum);
    return id;
  }

  bool WithDetails(const Order& o) const { return spec_.full_history || o.day >= today_index_; }

  Status WriteOrders(const SchoolState& st, const std::vector<MenuDay>& menus,
                     const std::vector<Order>& orders) {
    RowWriter& w = *writer_;
    RETURN_IF_ERROR(w.Begin(
        "orders", {"id", "order_number", "user_id", "student_id", "school_id", "status",
                   "payment_status", "total_amount_paise", "currency", "delivery_date",
                   "delivered_at", "cancelled_at", "created_at", "updated_at", "item_count"}));
    for (const Order& o : orders) {
      const Student& stu = st.students[o.student];
      RETURN_IF_ERROR(w.Str(o.id)
                          .Str(o.number)
                          .Str(o.placed_by_student ? stu.id : st.parent_ids[stu.parent])
                          .Str(stu.id)
                          .Str(st.id)
                          .Str(StatusName(o.status))
                          .Str(PayName(o.pay))
                          .Int(o.total)
                          .Str("INR")
                          .Day(menus[o.day].date)
                          .OptTime(o.delivered_at)
                          .OptTime(o.cancelled_at)
                          .Time(o.created)
                          .Time(o.updated)
                          .Int(static_cast<int64_t>(o.lines.size()))
                          .End());
      ++report_.counts.orders;
      if (o.day == today_index_ && o.pay == PayStatus::kPaid &&
          o.status != OrderStatus::kDelivered && o.status != OrderStatus::kCancelled &&
          o.status != OrderStatus::kPending) {
        ++report_.counts.today_deliverable_orders;
      }
    }
    RETURN_IF_ERROR(w.Begin("order_items",
                            {"id", "order_id", "menu_item_id", "slot_id", "name", "quantity",
                             "unit_price_paise", "total_price_paise", "created_at", "updated_at"}));
    for (const Order& o : orders) {
      for (const Line& l : o.lines) {
        const Slot& slot = menus[o.day].slots[l.slot];
        RETURN_IF_ERROR(w.Str(ids_.Next())
                            .Str(o.id)
                            .Str(st.item_ids[slot.item])
                            .Str(slot.id)
                            .Str(kCatalog[slot.item].name)
                            .Int(l.quantity)
                            .Int(slot.price)
                            .Int(slot.price * l.quantity)
                            .Time(o.created)
                            .Time(o.created)
                            .End());
        ++report_.counts.order_items;
      }
    }
    // Payment orders and gateway payments of the simulated gateway, for orders that were paid
    // (or refunded) or whose payment failed (see SizeSpec::full_history).
    struct Payment {
      std::string order_row;
      std::string transaction_row;
      const Order* order;
    };
    std::vector<Payment> payments;
    RETURN_IF_ERROR(w.Begin(
        "payment_orders",
        {"id", "gateway_order_id", "gateway", "order_id", "user_id", "amount_paise", "currency",
         "status", "receipt", "expires_at", "paid_at", "created_at", "updated_at"}));
    for (const Order& o : orders) {
      if (o.pay == PayStatus::kPending || o.total <= 0 || !WithDetails(o)) continue;
      const Student& stu = st.students[o.student];
      Payment p{.order_row = ids_.Next(), .transaction_row = ids_.Next(), .order = &o};
      const TimePoint created = o.created + std::chrono::seconds(20);
      RETURN_IF_ERROR(w.Str(p.order_row)
                          .Str(GatewayId("order_"))
                          .Str("simulated")
                          .Str(o.id)
                          .Str(o.placed_by_student ? stu.id : st.parent_ids[stu.parent])
                          .Int(o.total)
                          .Str("INR")
                          .Str(o.pay == PayStatus::kFailed ? "failed" : "paid")
                          .Str(o.number)
                          .Time(created + minutes(30))
                          .OptTime(o.paid_at)
                          .Time(created)
                          .Time(o.paid_at.value_or(created + minutes(2)))
                          .End());
      ++report_.counts.payment_orders;
      payments.push_back(std::move(p));
    }
    RETURN_IF_ERROR(
        w.Begin("payment_transactions",
                {"id", "gateway_payment_id", "payment_order_id", "amount_paise", "currency",
                 "status", "method", "gateway", "error_code", "error_description", "captured_at",
                 "refunded_at", "created_at", "updated_at"}));
    for (const Payment& p : payments) {
      const Order& o = *p.order;
      const TimePoint created = o.created + std::chrono::seconds(80);
      w.Str(p.transaction_row).Str(GatewayId("pay_")).Str(p.order_row).Int(o.total).Str("INR");
      if (o.pay == PayStatus::kFailed) {
        w.Str("failed").Str(kMethods[rng_.Below(std::size(kMethods))]).Str("simulated");
        w.Str("BAD_REQUEST_ERROR").Str("Payment failed").Null().Null();
      } else {
        w.Str(o.pay == PayStatus::kRefunded ? "refunded" : "captured")
            .Str(kMethods[rng_.Below(std::size(kMethods))])
            .Str("simulated")
            .Null()
            .Null()
            .OptTime(o.paid_at)
            .OptTime(o.pay == PayStatus::kRefunded ? o.cancelled_at : std::nullopt);
      }
      RETURN_IF_ERROR(w.Time(created).Time(o.updated).End());
      ++report_.counts.payment_transactions;
    }
    RETURN_IF_ERROR(
        w.Begin("delivery_verifications", {"id", "order_id", "student_id", "card_id", "reader_id",
                                           "verified_at", "status", "location", "created_at"}));
    for (const Order& o : orders) {
      if (!o.delivered_at || !WithDetails(o)) continue;
      const Student& stu = st.students[o.student];
      RETURN_IF_ERROR(w.Str(ids_.Next())
                          .Str(o.id)
                          .Str(stu.id)
                          .Str(stu.card_id)
                          .Str(st.reader_ids[o.reader])
                          .Time(*o.delivered_at)
                          .Str("verified")
                          .Str(o.reader == 0 ? "Main canteen" : "Junior block canteen")
                          .Time(*o.delivered_at)
                          .End());
      ++report_.counts.delivery_verifications;
    }
    return Status::Ok();
  }

  store::Database& db_;
  const SeedSettings& settings_;
  const SizeSpec& spec_;
  const Date base_;
  const TimePoint now_;
  Rng rng_;
  IdGen ids_;
  PasswordHasher hasher_;
  std::string shared_hash_;
  std::unique_ptr<store::BulkLoader> loader_;
  std::optional<RowWriter> writer_;
  SeedReport report_;
  std::vector<SchoolState> schools_;
  std::vector<Date> day_dates_;
  std::vector<bool> day_weekend_;
  int today_index_ = 0;
  uint64_t order_counter_ = 0;
  uint64_t gateway_counter_ = 0;
};

Status CheckEmpty(store::Database& db) {
  return db.Read([](store::Connection& c) -> Status {
    for (const char* sql : {"SELECT 1 FROM users LIMIT 1", "SELECT 1 FROM schools LIMIT 1",
                            "SELECT 1 FROM orders LIMIT 1"}) {
      auto rs = c.Query(sql);
      if (!rs.ok()) return rs.status().WithContext("is the database migrated?");
      if (!rs->rows.empty()) {
        return FailedPreconditionError("the database is not empty; seeding needs an empty one");
      }
    }
    return Status::Ok();
  });
}

boost::json::object AccountJson(const SeedAccount& a) {
  return {{"id", a.id}, {"email", a.email}, {"password", a.password}};
}

}  // namespace

StatusOr<SeedReport> SeedDemoData(store::Database& db, const SeedSettings& settings, Clock& clock) {
  const SizeSpec* spec = nullptr;
  for (const SizeSpec& s : kSizes) {
    if (s.name == settings.size) spec = &s;
  }
  if (spec == nullptr) {
    return InvalidArgumentError("unknown size '" + settings.size.substr(0, 40) +
                                "' (demo, medium or large)");
  }
  RETURN_IF_ERROR(PasswordHasher::ValidateSettings(settings.password));
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
  // Secondary indexes are built once, after the load, rather than grown row by row.
  static constexpr std::string_view kLoadedTables[] = {
      "schools",     "users",          "rfid_readers",         "rfid_cards",
      "menu_items",  "daily_menus",    "menu_item_slots",      "orders",
      "order_items", "payment_orders", "payment_transactions", "delivery_verifications"};
  RETURN_IF_ERROR(store::DeferIndexes(db, kLoadedTables));
  StatusOr<SeedReport> report = InternalError("seeding did not run");
  {
    // The seeder (and its loader connection) must be gone before the indexes are rebuilt.
    Seeder seeder(db, settings, *spec, base, now);
    report = seeder.Run();
  }
  // Rebuilt even after a failed load, so the database keeps its indexes.
  Status restored = store::RestoreDeferredIndexes(db);
  if (!report.ok()) return report.status();
  RETURN_IF_ERROR(restored);
  RETURN_IF_ERROR(store::UpdatePlannerStatistics(db));
  return report;
}

StatusOr<bool> HoldsDemoAccounts(store::Database& db) {
  // Every seeding creates the platform admin (MakeStaff "admin" above): one probe of the email
  // index finds a seeded database, where a suffix match would read the whole users table.
  const std::string admin_email = "admin" + std::string(kDomain);
  bool holds = false;
  RETURN_IF_ERROR(db.Read([&](store::Connection& c) -> Status {
    ASSIGN_OR_RETURN(std::optional<store::UserRecord> admin,
                     store::FindUserByEmail(c, admin_email));
    holds = admin.has_value();
    return Status::Ok();
  }));
  return holds;
}

std::string FixturesJson(const SeedReport& report) {
  namespace json = boost::json;
  json::array schools;
  for (const SeedSchool& s : report.schools) {
    json::array kitchen;
    for (const SeedAccount& k : s.kitchen_staff) kitchen.push_back(AccountJson(k));
    json::array readers;
    for (const SeedReader& r : s.readers) readers.push_back({{"id", r.id}, {"name", r.name}});
    json::array items;
    for (const std::string& id : s.menu_item_ids) items.push_back(json::value(id));
    json::array parents;
    for (const SeedParent& p : s.parents) {
      json::object po = AccountJson(p.account);
      json::array children;
      for (const SeedChild& c : p.children) {
        json::object co = AccountJson(c.account);
        co["grade"] = c.grade;
        co["section"] = c.section;
        co["cardNumber"] = c.card_number;
        co["cardActive"] = c.card_active;
        co["cardExpired"] = c.card_expired;
        children.push_back(std::move(co));
      }
      po["children"] = std::move(children);
      parents.push_back(std::move(po));
    }
    schools.push_back(json::object{{"id", s.id},
                                   {"name", s.name},
                                   {"timezone", s.timezone},
                                   {"schoolAdmin", AccountJson(s.school_admin)},
                                   {"kitchenStaff", std::move(kitchen)},
                                   {"readers", std::move(readers)},
                                   {"menuItemIds", std::move(items)},
                                   {"parents", std::move(parents)}});
  }
  json::object root{{"baseDate", FormatDate(report.base_date)},
                    {"admin", AccountJson(report.admin)},
                    {"schools", std::move(schools)}};
  return json::serialize(root);
}

std::string DemoLoginsText(const SeedReport& report) {
  std::string out = "demo logins (email / password):\n";
  auto line = [&out](std::string_view role, const SeedAccount& a) {
    out += "  ";
    out += role;
    out += ": ";
    out += a.email;
    out += " / ";
    out += a.password;
    out += "\n";
  };
  line("admin", report.admin);
  if (!report.schools.empty()) {
    const SeedSchool& s = report.schools.front();
    line("school admin", s.school_admin);
    if (!s.kitchen_staff.empty()) line("kitchen staff", s.kitchen_staff.front());
    if (!s.parents.empty()) {
      line("parent", s.parents.front().account);
      if (!s.parents.front().children.empty()) {
        line("student", s.parents.front().children.front().account);
      }
    }
  }
  return out;
}

std::string SeedSummary(const SeedReport& r) {
  const SeedCounts& c = r.counts;
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "base date %s; %lld schools, %lld users (%lld parents, %lld students), %lld menu "
                "items, %lld daily menus, %lld slots, %lld RFID cards, %lld readers, %lld orders "
                "(%lld deliverable today), %lld order items, %lld payment orders",
                FormatDate(r.base_date).c_str(), (long long)c.schools, (long long)c.users,
                (long long)c.parents, (long long)c.students, (long long)c.menu_items,
                (long long)c.daily_menus, (long long)c.menu_item_slots, (long long)c.rfid_cards,
                (long long)c.rfid_readers, (long long)c.orders,
                (long long)c.today_deliverable_orders, (long long)c.order_items,
                (long long)c.payment_orders);
  return buf;
}

}  // namespace hasivu::domain
