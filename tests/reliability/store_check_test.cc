// The store checks of the campaign must fail when the store is wrong: each case breaks one
// invariant of a freshly seeded store with SQL and expects CheckStore to name it. (Built for both
// backends like every scenario here: reliability_store_check_test and _pgtest.)
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/integration/api_fixture.h"
#include "tests/reliability/store_check.h"

namespace hasivu::reliability {
namespace {

using hasivu::testing::ApiServer;

class StoreCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    server_ = ApiServer::Start({}, {}, &error);
    ASSERT_NE(server_, nullptr) << error;
    sql_ = [this](const std::string& statement, std::string* e) {
      return server_->Sql(statement, e);
    };
    StatusOr<StoreCounts> counts = CountRows(sql_);
    ASSERT_TRUE(counts.ok()) << counts.status().ToString();
    before_ = *counts;
    base_date_ = std::string(server_->fixtures().at("baseDate").as_string());
  }

  std::string One(const std::string& statement) {
    std::string error;
    std::optional<std::string> v = server_->Sql(statement, &error);
    EXPECT_TRUE(v.has_value()) << error << " in " << statement;
    return v.value_or("");
  }

  StoreCheck Check(const std::vector<WriteRecord>& writes = {}) {
    return CheckStore(sql_, server_->postgres(), before_, writes, base_date_);
  }

  static bool Names(const StoreCheck& c, const std::string& fragment) {
    return std::any_of(c.violations.begin(), c.violations.end(),
                       [&](const std::string& v) { return v.find(fragment) != std::string::npos; });
  }

  static std::string Joined(const StoreCheck& c) {
    std::string out;
    for (const std::string& v : c.violations) out += v + "\n";
    return out;
  }

  std::unique_ptr<ApiServer> server_;
  SqlRunner sql_;
  StoreCounts before_;
  std::string base_date_;
};

TEST_F(StoreCheckTest, ASeededStoreHoldsEveryInvariant) {
  const StoreCheck c = Check();
  EXPECT_TRUE(c.violations.empty()) << Joined(c);
  EXPECT_FALSE(c.integrity.empty());
}

TEST_F(StoreCheckTest, AnAcknowledgedOrderThatIsMissingIsNamed) {
  WriteRecord w;
  w.function = "orders-create";
  w.state = WriteState::kAcknowledged;
  w.resource_id = "00000000-0000-7000-8000-000000000001";
  const StoreCheck c = Check({w});
  EXPECT_TRUE(Names(c, "acknowledged orders 1, found 0")) << Joined(c);
  EXPECT_TRUE(Names(c, "gained 0 orders for 1 acknowledged")) << Joined(c);
}

TEST_F(StoreCheckTest, AnUnsettledOrRefusedWriteIsNamed) {
  WriteRecord pending;
  pending.function = "payments-verify";
  WriteRecord refused;
  refused.function = "rfid-verify-card";
  refused.state = WriteState::kFailed;
  refused.failure = "422 CARD_INACTIVE";
  const StoreCheck c = Check({pending, refused});
  EXPECT_TRUE(Names(c, "payments-verify never settled")) << Joined(c);
  EXPECT_TRUE(Names(c, "rfid-verify-card refused: 422 CARD_INACTIVE")) << Joined(c);
}

TEST_F(StoreCheckTest, AHalfWrittenOrderIsNamed) {
  const std::string order =
      One("SELECT id FROM orders WHERE status = 'pending' ORDER BY id LIMIT 1");
  ASSERT_FALSE(order.empty());
  One("DELETE FROM order_items WHERE order_id = '" + order + "'");
  const StoreCheck c = Check();
  EXPECT_TRUE(Names(c, "orders without lines: 1")) << Joined(c);
  EXPECT_TRUE(Names(c, "orders whose total is not the sum of their lines: 1")) << Joined(c);
}

TEST_F(StoreCheckTest, AnUnbalancedLedgerIsNamed) {
  const std::string order =
      One("SELECT id FROM orders WHERE status = 'pending' AND payment_status = 'pending' "
          "ORDER BY id LIMIT 1");
  ASSERT_FALSE(order.empty());
  One("UPDATE orders SET payment_status = 'paid', status = 'confirmed' WHERE id = '" + order + "'");
  const StoreCheck c = Check();
  EXPECT_TRUE(Names(c, "paid orders without exactly one captured transaction: 1")) << Joined(c);
  EXPECT_TRUE(Names(c, "captured ")) << Joined(c);
}

TEST_F(StoreCheckTest, ADeliveryWithoutItsVerificationIsNamed) {
  const std::string order = One("SELECT id FROM orders WHERE status = 'ready' ORDER BY id LIMIT 1");
  ASSERT_FALSE(order.empty());
  One("UPDATE orders SET status = 'delivered' WHERE id = '" + order + "'");
  const StoreCheck c = Check();
  EXPECT_TRUE(Names(c, "delivered orders without a verification: 1")) << Joined(c);
}

TEST_F(StoreCheckTest, AnUnfinishedIdempotencyClaimIsNamed) {
  // A claim whose request never completed: what a crash between claim and answer would leave if
  // the claim were not part of the work's transaction.
  One("INSERT INTO idempotency_keys (id, user_id, key, request_hash, expires_at) VALUES "
      "('00000000-0000-7000-8000-0000000000aa', (SELECT id FROM users ORDER BY id LIMIT 1), "
      "'crash-claim', 'h', '2030-01-01T00:00:00.000000Z')");
  const StoreCheck c = Check();
  EXPECT_TRUE(Names(c, "idempotency claims left unfinished: 1")) << Joined(c);
  EXPECT_TRUE(Names(c, "gained 1 idempotency records for 0 orders")) << Joined(c);
}

}  // namespace
}  // namespace hasivu::reliability
