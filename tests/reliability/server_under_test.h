// The server a reliability scenario runs against: a seeded `hasivu serve` (ApiServer: SQLite, or
// PostgreSQL in the _pgtest builds) with fixed secrets, as every deployment has, so that tokens
// outlive a restart, and its payments sent to a Razorpay stand-in in the test process, which
// outlives the server as Razorpay would.
//
// Thread-safety: the stand-in is safe from any thread; the rest from the test's thread.
#ifndef HASIVU_TESTS_RELIABILITY_SERVER_UNDER_TEST_H_
#define HASIVU_TESTS_RELIABILITY_SERVER_UNDER_TEST_H_

#include <memory>
#include <string>
#include <vector>

#include "payments/testing/razorpay_standin.h"
#include "tests/integration/api_fixture.h"
#include "tests/reliability/campaign.h"
#include "tests/reliability/store_check.h"

namespace hasivu::reliability {

class ServerUnderTest {
 public:
  // Null (with the reason in *error) if the server did not start. `extra_args` go to serve.
  static std::unique_ptr<ServerUnderTest> Start(const std::vector<std::string>& extra_args,
                                                std::string* error);

  testing::ApiServer& server() { return *server_; }
  bool postgres() const { return server_->postgres(); }
  // The fixtures file the server wrote when it seeded.
  std::string FixturesJson() const;
  // SQL on the server's store (ApiServer::Sql).
  SqlRunner Sql();
  // For CampaignSettings::checkout: pays at the stand-in and signs as Razorpay's checkout does.
  std::function<StatusOr<bench::CheckoutResult>(const std::string&)> Checkout();

 private:
  ServerUnderTest();
  std::unique_ptr<payments::testing::RazorpayStandin> razorpay_;
  std::unique_ptr<testing::ApiServer> server_;
};

}  // namespace hasivu::reliability

#endif  // HASIVU_TESTS_RELIABILITY_SERVER_UNDER_TEST_H_
