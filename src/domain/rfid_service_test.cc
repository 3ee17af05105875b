// RfidService over a seeded SQLite database with a fixed clock: the card number grammar, the
// checks in order, "today" in the school's zone by the injected clock, and what one delivery
// writes.
#include "domain/rfid_service.h"

#include <gtest/gtest.h>

#include <chrono>

#include "common/ids.h"
#include "common/time_util.h"
#include "metrics/monitor.h"
#include "seed/demo_data.h"
#include "store/migrations.h"
#include "store/testing/test_backend.h"

namespace hasivu::domain {
namespace {

using seed::SeedChild;
using seed::SeedDemoData;
using seed::SeedParent;
using seed::SeedReport;
using seed::SeedSettings;
using std::chrono::days;
using std::chrono::hours;

TEST(CardNumberTest, Grammar) {
  const std::string longest = "RFID-" + std::string(60, 'A');
  const std::string too_long = "RFID-" + std::string(61, 'A');
  EXPECT_TRUE(IsValidCardNumber(longest));
  EXPECT_FALSE(IsValidCardNumber(too_long));
  for (const char* ok : {"RFID-ABCD", "RFID-SCH1-000001-AB12", "RFID-----", "RFID-0000"}) {
    EXPECT_TRUE(IsValidCardNumber(ok)) << ok;
  }
  for (const char* bad :
       {"", "RFID-", "RFID-ABC", "RFID----", "rfid-ABCD", "RFID-abcd", "RFID_ABCD", " RFID-ABCD",
        "RFID-ABCD ", "RFID-AB CD", "RFID-AB'D", "XRFID-ABCD", "RFID-ABCD\n"}) {
    EXPECT_FALSE(IsValidCardNumber(bad)) << bad;
  }
  EXPECT_FALSE(IsValidCardNumber(std::string_view("RFID-AB\0D", 9)));
}

// Seeded on a fixed base date (a Friday); the clock is that day, 11:30 in Asia/Kolkata.
class RfidServiceTest : public ::testing::Test {
 protected:
  static constexpr Date kBase = Date(std::chrono::year(2026) / 11 / 27);

  void SetUp() override {
    ASSERT_TRUE(InitCrypto().ok());
    auto db = store::testing::NewTestDatabase();
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    ASSERT_TRUE(store::Migrate(db_->db()).ok());
    SeedSettings seed;
    seed.base_date = kBase;
    auto report = SeedDemoData(db_->db(), seed, clock_);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    report_ = std::move(*report);
    clock_.Set(kBase + hours(6));  // 11:30 IST
    service_ = std::make_unique<RfidService>(&db_->db(), &clock_, monitor_);
  }

  // The student `from_end` places before the last of school `s` (see demo_data.h: from the end,
  // orders of today cancelled, delivered, out_for_delivery, ready, preparing, confirmed,
  // pending; the last two cards inactive and expired).
  const SeedChild& Student(size_t s, int from_end) {
    std::vector<const SeedChild*> all;
    for (const SeedParent& p : report_.schools[s].parents) {
      for (const SeedChild& c : p.children) all.push_back(&c);
    }
    return *all.at(all.size() - 1 - from_end);
  }
  Principal Kitchen(size_t s) {
    return Principal{.user_id = report_.schools[s].kitchen_staff[0].id,
                     .role = Role::kKitchenStaff,
                     .school_id = report_.schools[s].id,
                     .session_id = "test"};
  }
  StatusOr<RfidVerifyResult> Scan(const Principal& p, const std::string& card,
                                  std::optional<std::string> order_id = std::nullopt,
                                  std::string user_agent = "") {
    RfidVerifyInput input{.card_number = card,
                          .reader_id = report_.schools[0].readers[0].id,
                          .order_id = std::move(order_id),
                          .location = "Hall"};
    if (p.school_id != report_.schools[0].id) input.reader_id.reset();
    return service_->Verify(
        p, input,
        {.request_id = "req-1", .ip_address = "127.0.0.1", .user_agent = std::move(user_agent)});
  }
  std::string One(std::string_view sql, const std::string& param) {
    std::string out;
    Status s = db_->db().Read([&](store::Connection& c) -> Status {
      const store::Value params[] = {param};
      ASSIGN_OR_RETURN(store::ResultSet rs, c.Query(sql, params));
      if (!rs.empty()) out = rs.rows[0].Text(0);
      return Status::Ok();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  }

  // What the monitor's series (name, dims) counted since the start.
  uint64_t Counted(std::string_view name, const metrics::Dimensions& dims) {
    metrics::Cursor cursor;
    for (const metrics::SeriesInterval& s : monitor_.Collect(cursor)) {
      if (s.info.name == name && s.info.dimensions == dims) return s.data.count;
    }
    return 0;
  }

  FixedClock clock_{std::chrono::system_clock::now()};
  metrics::RegistryPtr registry_ = metrics::NewRegistry();
  metrics::Monitor monitor_{*registry_};
  std::unique_ptr<store::testing::TestDatabase> db_;
  SeedReport report_;
  std::unique_ptr<RfidService> service_;
};

TEST_F(RfidServiceTest, CountsEachDeliveryOnceAndTimesTheVerifyFlow) {
  const SeedChild& student = Student(0, 3);  // ready
  ASSERT_TRUE(Scan(Kitchen(0), student.card_number).ok());
  ASSERT_TRUE(Scan(Kitchen(0), student.card_number).ok());  // already delivered
  EXPECT_FALSE(Scan(Kitchen(0), "RFID-NO-SUCH-CARD").ok());
  EXPECT_EQ(Counted("BusinessEvents", {{"Event", "delivery_verified"}}), 1u);
  auto reached = [&](std::string_view checkpoint) {
    return Counted("FlowCumulativeDuration",
                   {{"Checkpoint", std::string(checkpoint)}, {"Flow", "rfid_verify"}});
  };
  EXPECT_EQ(reached("validated"), 3u);
  EXPECT_EQ(reached("committed"), 2u);  // the unknown card's transaction failed
  EXPECT_EQ(reached("invalidated"), 1u);
  EXPECT_EQ(Counted("FlowSegmentDuration", {{"Flow", "rfid_verify"}, {"Segment", "committed"}}),
            2u);
}

TEST_F(RfidServiceTest, DeliversInOneTransactionAndWritesEverything) {
  const SeedChild& student = Student(0, 3);  // ready
  ASSERT_TRUE(student.card_active && !student.card_expired);
  auto r = Scan(Kitchen(0), student.card_number);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->kind, RfidVerifyResult::Kind::kVerified);
  ASSERT_TRUE(r->verification.has_value());
  const std::string now = FormatRfc3339(clock_.Now());
  EXPECT_EQ(r->verification->verified_at, now);
  EXPECT_EQ(r->order.status, "delivered");
  EXPECT_FALSE(r->order.items.empty());
  EXPECT_EQ(r->student.id, student.account.id);

  EXPECT_EQ(One("SELECT status FROM orders WHERE id = $1", r->order.id), "delivered");
  EXPECT_EQ(One("SELECT delivered_at FROM orders WHERE id = $1", r->order.id), now);
  EXPECT_EQ(One("SELECT last_used_at FROM rfid_cards WHERE id = $1", r->card_id), now);
  EXPECT_EQ(One("SELECT order_id FROM delivery_verifications WHERE id = $1", r->verification->id),
            r->order.id);
  EXPECT_EQ(One("SELECT reader_id FROM delivery_verifications WHERE id = $1", r->verification->id),
            report_.schools[0].readers[0].id);
  EXPECT_EQ(One("SELECT action FROM audit_logs WHERE entity_id = $1", r->order.id),
            "rfid_delivery_verified");
  EXPECT_EQ(One("SELECT request_id FROM audit_logs WHERE entity_id = $1", r->order.id), "req-1");

  // Again: the first verification comes back, nothing new is written.
  auto again = Scan(Kitchen(0), student.card_number);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->kind, RfidVerifyResult::Kind::kAlreadyDelivered);
  ASSERT_TRUE(again->verification.has_value());
  EXPECT_EQ(again->verification->id, r->verification->id);
  EXPECT_EQ(One("SELECT CAST(COUNT(*) AS TEXT) FROM audit_logs WHERE entity_id = $1", r->order.id),
            "1");
}

// Issue 19: the audit row keeps 512 bytes of the User-Agent, cut on a character boundary (a byte
// cut would leave invalid UTF-8, which PostgreSQL refuses, failing the delivery).
TEST_F(RfidServiceTest, TheAuditKeepsTheUserAgentCutOnACharacterBoundary) {
  const SeedChild& student = Student(0, 3);  // ready
  auto r = Scan(Kitchen(0), student.card_number, std::nullopt,
                std::string(511, 'A') + "\xE2\x82\xAC" + "tail");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(One("SELECT user_agent FROM audit_logs WHERE entity_id = $1", r->order.id),
            std::string(511, 'A'));
}

TEST_F(RfidServiceTest, TodayIsTheSchoolsDayByTheInjectedClock) {
  const SeedChild& student = Student(0, 4);  // preparing
  ASSERT_TRUE(student.card_active && !student.card_expired);
  // 00:30 IST of the next day (still the 27th in UTC): no order today.
  clock_.Set(kBase + hours(19));
  auto next_day = Scan(Kitchen(0), student.card_number);
  EXPECT_EQ(next_day.status().reason(), "NO_ORDER_TODAY") << next_day.status().ToString();
  // 23:30 IST of the base date (18:00 UTC): still today.
  clock_.Set(kBase + hours(18));
  auto same_day = Scan(Kitchen(0), student.card_number);
  ASSERT_TRUE(same_day.ok()) << same_day.status().ToString();
  EXPECT_EQ(same_day->kind, RfidVerifyResult::Kind::kVerified);
}

TEST_F(RfidServiceTest, ExpiryIsJudgedByTheInjectedClock) {
  const SeedChild& expired = Student(0, 1);
  ASSERT_TRUE(expired.card_expired);
  EXPECT_EQ(Scan(Kitchen(0), expired.card_number).status().reason(), "CARD_EXPIRED");
  // Long before it expired the card is fine (and that day has no order of the student).
  clock_.Set(kBase - days(90));
  EXPECT_EQ(Scan(Kitchen(0), expired.card_number).status().reason(), "NO_ORDER_TODAY");
}

TEST_F(RfidServiceTest, ChecksAndTheirOrder) {
  const SeedChild& student = Student(0, 2);
  Principal parent{.user_id = report_.schools[0].parents[0].account.id,
                   .role = Role::kParent,
                   .school_id = "",
                   .session_id = ""};
  auto forbidden = Scan(parent, "not even a card number");
  EXPECT_EQ(forbidden.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(forbidden.status().reason(), "FORBIDDEN");

  RfidVerifyInput bad{.card_number = "RFID-x",
                      .reader_id = "reader",
                      .order_id = "order",
                      .location = std::string(256, 'l')};
  auto invalid = service_->Verify(Kitchen(0), bad, {});
  ASSERT_EQ(invalid.status().code(), StatusCode::kInvalidArgument);
  ASSERT_EQ(invalid.status().details().size(), 4u);
  EXPECT_EQ(invalid.status().details()[0].field, "cardNumber");
  EXPECT_EQ(invalid.status().details()[3].field, "location");

  // Staff of the other school: the card does not exist for them.
  auto other = Scan(Kitchen(1), student.card_number);
  EXPECT_EQ(other.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(other.status().reason(), "CARD_NOT_FOUND");
  // Admins act everywhere.
  Principal admin{
      .user_id = report_.admin.id, .role = Role::kAdmin, .school_id = "", .session_id = ""};
  auto by_admin = Scan(admin, Student(1, 2).card_number);
  EXPECT_TRUE(by_admin.ok()) << by_admin.status().ToString();

  EXPECT_EQ(Scan(Kitchen(0), Student(0, 0).card_number).status().reason(), "CARD_INACTIVE");
  // A reader of another school.
  RfidVerifyInput wrong_reader{.card_number = student.card_number,
                               .reader_id = report_.schools[1].readers[0].id,
                               .order_id = std::nullopt,
                               .location = std::nullopt};
  EXPECT_EQ(service_->Verify(Kitchen(0), wrong_reader, {}).status().reason(), "READER_MISMATCH");
  // Someone else's order.
  auto theirs = Scan(admin, Student(1, 3).card_number);
  ASSERT_TRUE(theirs.ok()) << theirs.status().ToString();
  EXPECT_EQ(Scan(Kitchen(0), student.card_number, theirs->order.id).status().reason(),
            "NO_ORDER_TODAY");
}

}  // namespace
}  // namespace hasivu::domain
