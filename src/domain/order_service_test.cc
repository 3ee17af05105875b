#include "domain/order_service.h"

#include <gtest/gtest.h>

#include <set>

#include "common/ids.h"
#include "domain/idempotency.h"
#include "domain/menu_service.h"

namespace hasivu::domain {
namespace {

using std::chrono::days;

constexpr char kUuid[] = "0190f5a0-0000-7000-8000-00000000a001";

class OrderRulesTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(InitCrypto().ok()); }
};

CreateOrderInput ValidInput() {
  CreateOrderInput in;
  in.student_id = kUuid;
  in.delivery_date = "2026-11-30";
  in.items.push_back({kUuid, 2, "no onions"});
  return in;
}

bool HasField(const std::vector<FieldIssue>& issues, const std::string& field) {
  for (const FieldIssue& i : issues) {
    if (i.field == field) return true;
  }
  return false;
}

TEST_F(OrderRulesTest, ValidCreateHasNoIssues) {
  EXPECT_TRUE(ValidateCreateOrder(ValidInput()).empty());
}

TEST_F(OrderRulesTest, CreateIssuesNameTheirFields) {
  CreateOrderInput in = ValidInput();
  in.student_id = "42";
  in.delivery_date = "2026-02-30";
  in.items.push_back({"nope", 0, std::nullopt});
  in.items.push_back({kUuid, 11, std::string(501, 'x')});
  in.special_instructions = std::string(1001, 'y');
  const auto issues = ValidateCreateOrder(in);
  EXPECT_TRUE(HasField(issues, "studentId"));
  EXPECT_TRUE(HasField(issues, "deliveryDate"));
  EXPECT_TRUE(HasField(issues, "items[1].menuItemId"));
  EXPECT_TRUE(HasField(issues, "items[1].quantity"));
  EXPECT_TRUE(HasField(issues, "items[2].quantity"));
  EXPECT_TRUE(HasField(issues, "items[2].notes"));
  EXPECT_TRUE(HasField(issues, "specialInstructions"));
  EXPECT_FALSE(HasField(issues, "items[0].quantity"));
}

TEST_F(OrderRulesTest, LineCountIsOneToTwenty) {
  CreateOrderInput in = ValidInput();
  in.items.clear();
  EXPECT_TRUE(HasField(ValidateCreateOrder(in), "items"));
  in.items.assign(21, {kUuid, 1, std::nullopt});
  EXPECT_TRUE(HasField(ValidateCreateOrder(in), "items"));
  in.items.resize(20);
  EXPECT_TRUE(ValidateCreateOrder(in).empty());
}

TEST_F(OrderRulesTest, NulInNotesIsRefused) {
  CreateOrderInput in = ValidInput();
  in.items[0].notes = std::string("a\0b", 3);
  EXPECT_TRUE(HasField(ValidateCreateOrder(in), "items[0].notes"));
}

TEST_F(OrderRulesTest, DeliveryDateWindowAndWeekdays) {
  const Date today = *ParseDate("2026-11-25");  // a Wednesday
  EXPECT_TRUE(CheckDeliveryDate(today + days(1), today).ok());
  EXPECT_TRUE(CheckDeliveryDate(today + days(2), today).ok());  // Friday
  for (Date bad : {today, today - days(1), today + days(3) /* Saturday */,
                   today + days(4) /* Sunday */, today + days(31)}) {
    Status s = CheckDeliveryDate(bad, today);
    EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << FormatDate(bad);
    EXPECT_EQ(s.reason(), "INVALID_DELIVERY_DATE");
    ASSERT_EQ(s.details().size(), 1u);
    EXPECT_EQ(s.details()[0].field, "deliveryDate");
  }
  EXPECT_TRUE(CheckDeliveryDate(today + days(30), today).ok());  // Friday 2026-12-25
}

TEST_F(OrderRulesTest, OrderNumberFormat) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    std::string n = NewOrderNumber(*ParseDate("2026-11-27"));
    EXPECT_TRUE(IsOrderNumber(n)) << n;
    EXPECT_EQ(n.substr(0, 13), "ORD-20261127-");
    seen.insert(n);
  }
  EXPECT_EQ(seen.size(), 200u);
  EXPECT_FALSE(IsOrderNumber("ORD-20261127-abcdefgh"));
  EXPECT_FALSE(IsOrderNumber("ORD-2026112-ABCDEFGHI"));
  EXPECT_FALSE(IsOrderNumber("ORD-20261127-ABCDEFG"));
}

TEST_F(OrderRulesTest, CursorRoundTripsPerSort) {
  const std::string id = "0190f5a0-0000-7000-8000-00000000e001";
  std::string c = EncodeCursor(OrderSort::kCreatedDesc, "2026-11-20T10:00:00.000000Z", id);
  EXPECT_EQ(c.find_first_of("+/="), std::string::npos);
  StatusOr<CursorPosition> pos = DecodeCursor(c, OrderSort::kCreatedDesc);
  ASSERT_TRUE(pos.ok()) << pos.status().ToString();
  EXPECT_EQ(pos->key, "2026-11-20T10:00:00.000000Z");
  EXPECT_EQ(pos->id, id);
  c = EncodeCursor(OrderSort::kDeliveryAsc, "2026-11-20", id);
  pos = DecodeCursor(c, OrderSort::kDeliveryAsc);
  ASSERT_TRUE(pos.ok());
  EXPECT_EQ(pos->key, "2026-11-20");
  // A cursor of another sort is refused.
  EXPECT_EQ(DecodeCursor(c, OrderSort::kCreatedDesc).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(OrderRulesTest, TamperedCursorsAreRefused) {
  const std::string id = "0190f5a0-0000-7000-8000-00000000e001";
  const std::string good = EncodeCursor(OrderSort::kCreatedDesc, "2026-11-20T10:00:00Z", id);
  std::vector<std::string> bad = {
      "",
      "!!!!",
      "garbage",
      good + "A",
      good.substr(1),
      EncodeCursor(OrderSort::kCreatedDesc, "yesterday", id),
      EncodeCursor(OrderSort::kCreatedDesc, "2026-11-20T10:00:00Z", "1' OR '1'='1"),
      std::string(500, 'A')};
  std::string flipped = good;
  flipped[5] = flipped[5] == 'A' ? 'B' : 'A';
  bad.push_back(flipped);
  for (const std::string& c : bad) {
    StatusOr<CursorPosition> pos = DecodeCursor(c, OrderSort::kCreatedDesc);
    if (pos.ok()) {
      // A flip may still decode: then it must be a well-formed position.
      EXPECT_TRUE(IsUuid(pos->id)) << c;
      continue;
    }
    EXPECT_EQ(pos.status().code(), StatusCode::kInvalidArgument) << c;
    ASSERT_EQ(pos.status().details().size(), 1u);
    EXPECT_EQ(pos.status().details()[0].field, "cursor");
  }
}

TEST_F(OrderRulesTest, SortWords) {
  EXPECT_EQ(*ParseOrderSort("-createdAt"), OrderSort::kCreatedDesc);
  EXPECT_EQ(*ParseOrderSort("deliveryDate"), OrderSort::kDeliveryAsc);
  EXPECT_FALSE(ParseOrderSort("price").ok());
}

store::OrderDetailRow OrderIn(std::string status) {
  store::OrderDetailRow o;
  o.order.status = std::move(status);
  o.order.school_id = "school-a";
  o.order.user_id = "parent-1";
  o.order.student_id = "student-1";
  o.extras.student_parent_id = "parent-1";
  return o;
}

TEST_F(OrderRulesTest, KitchenFlow) {
  const Principal kitchen{"k1", Role::kKitchenStaff, "school-a", "s"};
  const Principal other_kitchen{"k2", Role::kKitchenStaff, "school-b", "s"};
  EXPECT_TRUE(CheckStatusChange(kitchen, OrderIn("confirmed"), "preparing").ok());
  EXPECT_TRUE(CheckStatusChange(kitchen, OrderIn("preparing"), "ready").ok());
  EXPECT_TRUE(CheckStatusChange(kitchen, OrderIn("ready"), "out_for_delivery").ok());
  Status skip = CheckStatusChange(kitchen, OrderIn("confirmed"), "ready");
  EXPECT_EQ(skip.reason(), "INVALID_STATUS_TRANSITION");
  EXPECT_EQ(CheckStatusChange(kitchen, OrderIn("pending"), "preparing").reason(),
            "INVALID_STATUS_TRANSITION");
  EXPECT_EQ(CheckStatusChange(kitchen, OrderIn("pending"), "confirmed").reason(),
            "INVALID_STATUS_TRANSITION");
  EXPECT_EQ(CheckStatusChange(kitchen, OrderIn("out_for_delivery"), "delivered").reason(),
            "INVALID_STATUS_TRANSITION");
  EXPECT_EQ(CheckStatusChange(other_kitchen, OrderIn("confirmed"), "preparing").code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(CheckStatusChange(kitchen, OrderIn("pending"), "cancelled").code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(CheckStatusChange(kitchen, OrderIn("confirmed"), "eaten").code(),
            StatusCode::kInvalidArgument);
}

TEST_F(OrderRulesTest, Cancellation) {
  const Principal parent{"parent-1", Role::kParent, "", "s"};
  const Principal student{"student-1", Role::kStudent, "school-a", "s"};
  const Principal school_admin{"a1", Role::kSchoolAdmin, "school-a", "s"};
  const Principal admin{"root", Role::kAdmin, "", "s"};
  for (const Principal* p : {&parent, &school_admin, &admin}) {
    EXPECT_TRUE(CheckStatusChange(*p, OrderIn("pending"), "cancelled").ok());
    EXPECT_TRUE(CheckStatusChange(*p, OrderIn("confirmed"), "cancelled").ok());
    EXPECT_EQ(CheckStatusChange(*p, OrderIn("preparing"), "cancelled").reason(),
              "INVALID_STATUS_TRANSITION");
    EXPECT_EQ(CheckStatusChange(*p, OrderIn("cancelled"), "cancelled").reason(),
              "INVALID_STATUS_TRANSITION");
  }
  // The student did not place this order (their parent did).
  EXPECT_EQ(CheckStatusChange(student, OrderIn("pending"), "cancelled").code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(CheckStatusChange(parent, OrderIn("confirmed"), "preparing").code(),
            StatusCode::kPermissionDenied);
}

TEST_F(OrderRulesTest, IdempotencyKeyAndHash) {
  EXPECT_TRUE(ValidateIdempotencyKey("abc-123").ok());
  EXPECT_TRUE(ValidateIdempotencyKey(std::string(255, 'k')).ok());
  EXPECT_FALSE(ValidateIdempotencyKey(std::string(256, 'k')).ok());
  EXPECT_FALSE(ValidateIdempotencyKey("").ok());
  EXPECT_FALSE(ValidateIdempotencyKey("a\nb").ok());
  const std::string h = IdempotencyRequestHash("POST", "/api/v1/orders", "{\"a\":1}");
  EXPECT_EQ(h.size(), 64u);
  EXPECT_EQ(h, IdempotencyRequestHash("POST", "/api/v1/orders", "{\"a\":1}"));
  EXPECT_NE(h, IdempotencyRequestHash("POST", "/api/v1/orders", "{\"a\":2}"));
  EXPECT_NE(IdempotencyRequestHash("POST", "/a", "b/c"),
            IdempotencyRequestHash("POST", "/ab", "/c"));
}

TEST_F(OrderRulesTest, MenuReplacementValidation) {
  MenuReplacement r;
  r.school_id = kUuid;
  r.date = "2026-11-30";
  r.items.push_back({kUuid, "LUNCH", 4500, 10, 2, false, 0});
  EXPECT_TRUE(ValidateMenuReplacement(r).empty());
  r.day_type = "FEAST";
  r.items.push_back({kUuid, "LUNCH", -1, -1, 11, false, std::nullopt});
  const auto issues = ValidateMenuReplacement(r);
  EXPECT_TRUE(HasField(issues, "dayType"));
  EXPECT_TRUE(HasField(issues, "items[1].customPrice"));
  EXPECT_TRUE(HasField(issues, "items[1].availableQuantity"));
  EXPECT_TRUE(HasField(issues, "items[1].maxPerOrder"));
  EXPECT_TRUE(HasField(issues, "items[1].menuItemId"));  // duplicate (item, category)
}

}  // namespace
}  // namespace hasivu::domain
