#include "tests/reliability/server_under_test.h"

#include <fstream>
#include <sstream>

#include "payments/signature.h"

namespace hasivu::reliability {
namespace {

constexpr const char* kKeyId = "rzp_test_reliability";
constexpr const char* kSecret = "reliability-campaign-signing-secret-0123456789";

}  // namespace

ServerUnderTest::ServerUnderTest()
    : razorpay_(std::make_unique<payments::testing::RazorpayStandin>(kKeyId, kSecret)) {}

std::unique_ptr<ServerUnderTest> ServerUnderTest::Start(const std::vector<std::string>& extra_args,
                                                        std::string* error) {
  std::unique_ptr<ServerUnderTest> s(new ServerUnderTest());
  std::vector<std::string> args = {"--gateway", "razorpay", "--razorpay-base-url",
                                   s->razorpay_->base_url()};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  s->server_ = testing::ApiServer::Start(args,
                                         {{"HASIVU_JWT_SECRET", kSecret},
                                          {"HASIVU_RAZORPAY_KEY_ID", kKeyId},
                                          {"HASIVU_RAZORPAY_KEY_SECRET", kSecret},
                                          {"HASIVU_RAZORPAY_WEBHOOK_SECRET", kSecret}},
                                         error);
  if (s->server_ == nullptr) return nullptr;
  return s;
}

std::string ServerUnderTest::FixturesJson() const {
  std::ifstream in(server_->data_dir() + "/fixtures.json");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

SqlRunner ServerUnderTest::Sql() {
  return
      [this](const std::string& statement, std::string* e) { return server_->Sql(statement, e); };
}

std::function<StatusOr<bench::CheckoutResult>(const std::string&)> ServerUnderTest::Checkout() {
  payments::testing::RazorpayStandin* razorpay = razorpay_.get();
  return [razorpay](const std::string& gateway_order) -> StatusOr<bench::CheckoutResult> {
    const std::string payment = razorpay->Pay(gateway_order);
    if (payment.empty())
      return Status(StatusCode::kNotFound, "stand-in: no order " + gateway_order);
    return bench::CheckoutResult{payment,
                                 payments::CheckoutSignature(kSecret, gateway_order, payment)};
  };
}

}  // namespace hasivu::reliability
