// libFuzzer harness: Razorpay's webhook as PaymentService::HandleWebhook takes it (the raw body
// and the X-Razorpay-Signature header), and the signature helpers of payments/signature.h. The
// service runs over a seeded SQLite database (the demo data set, a fixed base date and clock)
// with the simulated gateway; the harness adds four unpaid orders' payment orders, two of them
// with an authorized (uncaptured) checkout at the gateway.
//
// Input: a first byte, then the body. Placeholders in the body let mutations reach the payment
// orders of the store: $O<n> is the gateway order id of payment order n (0-3 the harness's
// unpaid ones, 4-7 seeded paid ones), $A<n> its amount, $P<n> a gateway payment id (0-1 the
// authorized checkouts, 4-7 the seeded captured payments). The first byte picks the signature:
// 0 the body's correct one; 1 the body's first line (the rest is the body); 2 the correct one
// altered; 3 none.
//
// Invariants, beyond "no crash, no sanitizer report":
//   - a body without its exact signature is refused INVALID_SIGNATURE and changes nothing;
//   - a signed body that is not a JSON object is refused INVALID_JSON and changes nothing;
//   - a signed object is answered (never an error a client would see as 500: kInternal or
//     kUnimplemented) with the body's "event" and a result of applied / duplicate / ignored; an
//     ignored one changes no payment, refund or order payment status;
//   - delivered again, a webhook is never applied twice and changes nothing the first did not;
//   - the payment ledger balances after every webhook: each paid order has exactly one captured
//     transaction, and the captured amounts sum to the paid orders' totals;
//   - signatures: 64 lowercase hex characters, verified by their own check, refused altered;
//     ConstantTimeEquals is ==.
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "common/status.h"
#include "common/testing/fuzz_check.h"
#include "common/time_util.h"
#include "domain/payment_service.h"
#include "domain/principal.h"
#include "domain/settings.h"
#include "metrics/metrics.h"
#include "metrics/monitor.h"
#include "payments/signature.h"
#include "payments/simulated/simulated_gateway.h"
#include "seed/demo_data.h"
#include "store/database.h"
#include "store/migrations.h"
#include "store/testing/test_backend.h"

namespace {

namespace json = boost::json;
using hasivu::Status;
using hasivu::StatusCode;
using hasivu::StatusOr;

constexpr std::string_view kKeySecret = "fuzz-razorpay-key-secret";
constexpr std::string_view kWebhookSecret = "fuzz-razorpay-webhook-secret";

struct Placeholders {
  std::string order_ids[8];
  int64_t amounts[8] = {};
  std::string payment_ids[8];
};

struct World {
  std::unique_ptr<hasivu::store::testing::TestDatabase> db;
  std::unique_ptr<hasivu::FixedClock> clock;
  hasivu::metrics::RegistryPtr registry;
  std::unique_ptr<hasivu::metrics::Monitor> monitor;
  std::unique_ptr<hasivu::payments::SimulatedGateway> gateway;
  std::unique_ptr<hasivu::domain::PaymentService> payments;
  Placeholders placeholders;
};

StatusOr<hasivu::store::ResultSet> Query(World& w, std::string_view sql) {
  hasivu::store::ResultSet out;
  Status s = w.db->db().Read([&](hasivu::store::Connection& c) -> Status {
    ASSIGN_OR_RETURN(out, c.Query(sql));
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return out;
}

// What a webhook may change: payments, refunds, and orders' payment states.
std::string Fingerprint(World& w) {
  StatusOr<hasivu::store::ResultSet> r = Query(
      w,
      "SELECT (SELECT count(*) FROM payment_transactions), "
      "(SELECT group_concat(status) FROM (SELECT status FROM payment_transactions ORDER BY id)), "
      "(SELECT count(*) FROM payment_refunds), "
      "(SELECT group_concat(status) FROM (SELECT status FROM payment_refunds ORDER BY id)), "
      "(SELECT group_concat(payment_status) FROM (SELECT payment_status FROM orders ORDER BY id)), "
      "(SELECT group_concat(status) FROM (SELECT status FROM payment_orders ORDER BY id))");
  FUZZ_CHECK(r.ok() && r->rows.size() == 1);
  std::string out;
  for (size_t i = 0; i < r->rows[0].size(); ++i) out += r->rows[0].Text(i) + "|";
  return out;
}

void CheckLedger(World& w) {
  StatusOr<hasivu::store::ResultSet> r = Query(
      w,
      "SELECT (SELECT count(*) FROM orders o WHERE o.payment_status = 'paid' AND "
      "(SELECT count(*) FROM payment_transactions t JOIN payment_orders p "
      "ON p.id = t.payment_order_id WHERE p.order_id = o.id AND t.status = 'captured') <> 1), "
      "(SELECT coalesce(sum(amount_paise), 0) FROM payment_transactions "
      "WHERE status = 'captured'), "
      "(SELECT coalesce(sum(total_amount_paise), 0) FROM orders WHERE payment_status = 'paid')");
  FUZZ_CHECK(r.ok() && r->rows.size() == 1);
  FUZZ_CHECK(r->rows[0].Text(0) == "0");
  FUZZ_CHECK(r->rows[0].Text(1) == r->rows[0].Text(2));
}

World& TheWorld() {
  static World* world = [] {
    auto* w = new World();
    FUZZ_CHECK(hasivu::InitCrypto().ok());
    auto db = hasivu::store::testing::NewTestDatabase(2);
    FUZZ_CHECK(db.ok());
    w->db = std::move(*db);
    FUZZ_CHECK(hasivu::store::Migrate(w->db->db()).ok());
    // Noon in Kolkata of a fixed Wednesday: the same data set on every run.
    w->clock = std::make_unique<hasivu::FixedClock>(
        std::chrono::system_clock::time_point(std::chrono::seconds(1'788'935'400)));
    hasivu::seed::SeedSettings seed;
    StatusOr<hasivu::Date> base = hasivu::ParseDate("2026-09-09");
    FUZZ_CHECK(base.ok());
    seed.base_date = *base;
    FUZZ_CHECK(hasivu::seed::SeedDemoData(w->db->db(), seed, *w->clock).ok());
    w->registry = hasivu::metrics::NewRegistry();
    w->monitor = std::make_unique<hasivu::metrics::Monitor>(*w->registry);
    hasivu::payments::SimulatedGatewayOptions options;
    options.auto_capture = false;  // checkouts are authorized; payment.authorized captures
    w->gateway = std::make_unique<hasivu::payments::SimulatedGateway>(std::string(kKeySecret),
                                                                      options, w->clock.get());
    hasivu::domain::PaymentSettings settings;
    settings.key_secret = std::string(kKeySecret);
    settings.webhook_secret = std::string(kWebhookSecret);
    w->payments = std::make_unique<hasivu::domain::PaymentService>(
        &w->db->db(), w->clock.get(), w->gateway.get(), settings, *w->monitor);

    Placeholders& p = w->placeholders;
    // Unpaid orders that can still be paid, with their payment orders made through the service.
    StatusOr<hasivu::store::ResultSet> unpaid =
        Query(*w,
              "SELECT o.id, o.user_id, o.school_id FROM orders o WHERE o.status = 'pending' AND "
              "o.payment_status = 'pending' AND o.delivery_date > '2026-09-09' AND NOT EXISTS "
              "(SELECT 1 FROM payment_orders p WHERE p.order_id = o.id) ORDER BY o.id LIMIT 4");
    FUZZ_CHECK(unpaid.ok() && unpaid->rows.size() == 4);
    for (size_t i = 0; i < 4; ++i) {
      const hasivu::store::Row& row = unpaid->rows[i];
      hasivu::domain::Principal parent{.user_id = row.Text(1),
                                       .role = hasivu::domain::Role::kParent,
                                       .school_id = row.Text(2),
                                       .session_id = "fuzz"};
      auto created = w->payments->CreatePaymentOrder(parent, row.Text(0), std::nullopt);
      FUZZ_CHECK(created.ok());
      p.order_ids[i] = created->payment_order.gateway_order_id;
      p.amounts[i] = created->payment_order.amount_paise;
      p.payment_ids[i] = "pay_Fuzz" + std::to_string(i);
      if (i < 2) {
        auto checkout = w->payments->SimulateCheckout(parent, p.order_ids[i], /*success=*/true);
        FUZZ_CHECK(checkout.ok());
        p.payment_ids[i] = checkout->payment_id;
      }
    }
    StatusOr<hasivu::store::ResultSet> paid = Query(
        *w,
        "SELECT p.gateway_order_id, p.amount_paise, t.gateway_payment_id FROM payment_orders p "
        "JOIN payment_transactions t ON t.payment_order_id = p.id WHERE t.status = 'captured' "
        "ORDER BY p.id LIMIT 4");
    FUZZ_CHECK(paid.ok() && paid->rows.size() == 4);
    for (size_t i = 0; i < 4; ++i) {
      p.order_ids[4 + i] = paid->rows[i].Text(0);
      p.amounts[4 + i] = paid->rows[i].Int(1);
      p.payment_ids[4 + i] = paid->rows[i].Text(2);
    }
    CheckLedger(*w);
    return w;
  }();
  return *world;
}

std::string Substitute(std::string_view body, const Placeholders& p) {
  std::string out;
  for (size_t i = 0; i < body.size(); ++i) {
    if (body[i] == '$' && i + 2 < body.size() && body[i + 2] >= '0' && body[i + 2] <= '7') {
      const int n = body[i + 2] - '0';
      switch (body[i + 1]) {
        case 'O':
          out += p.order_ids[n];
          i += 2;
          continue;
        case 'A':
          out += std::to_string(p.amounts[n]);
          i += 2;
          continue;
        case 'P':
          out += p.payment_ids[n];
          i += 2;
          continue;
      }
    }
    out += body[i];
  }
  return out;
}

bool IsLowerHex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

void CheckSignatures(std::string_view body, std::string_view other) {
  using namespace hasivu::payments;
  const std::string sig = WebhookSignature(kWebhookSecret, body);
  FUZZ_CHECK(IsLowerHex64(sig));
  FUZZ_CHECK(sig == HmacSha256Hex(kWebhookSecret, body));
  FUZZ_CHECK(VerifyWebhookSignature(kWebhookSecret, body, sig));
  FUZZ_CHECK(VerifyWebhookSignature(kWebhookSecret, body, other) == (other == sig));
  std::string altered = sig;
  altered[body.size() % 64] = altered[body.size() % 64] == '0' ? '1' : '0';
  FUZZ_CHECK(!VerifyWebhookSignature(kWebhookSecret, body, altered));
  FUZZ_CHECK(ConstantTimeEquals(body, other) == (body == other));
  const size_t bar = other.find('|');
  const std::string_view order = other.substr(0, bar);
  const std::string_view payment = bar == std::string_view::npos ? "" : other.substr(bar + 1);
  const std::string checkout = CheckoutSignature(kKeySecret, order, payment);
  FUZZ_CHECK(IsLowerHex64(checkout));
  FUZZ_CHECK(VerifyCheckoutSignature(kKeySecret, order, payment, checkout));
  FUZZ_CHECK(!VerifyCheckoutSignature(kKeySecret, order, payment, sig) || checkout == sig);
}

std::string EventOf(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return {};
  const json::value* e = v.as_object().if_contains("event");
  return e && e->is_string() ? std::string(e->as_string()) : std::string();
}

bool IsSignedObject(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  return !ec && v.is_object();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  World& w = TheWorld();
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  std::string signature;
  std::string body;
  const std::string_view first_line = rest.substr(0, rest.find('\n'));
  switch (data[0] % 4) {
    case 0:
      body = Substitute(rest, w.placeholders);
      signature = hasivu::payments::WebhookSignature(kWebhookSecret, body);
      break;
    case 1:
      body = Substitute(rest.substr(std::min(rest.size(), first_line.size() + 1)), w.placeholders);
      signature = std::string(first_line);
      break;
    case 2:
      body = Substitute(rest, w.placeholders);
      signature = hasivu::payments::WebhookSignature(kWebhookSecret, body);
      signature[body.size() % signature.size()] ^= 0x20;  // a hex letter's case, or a digit
      break;
    default:
      body = Substitute(rest, w.placeholders);
      break;
  }
  CheckSignatures(body, first_line);

  const bool genuine =
      !signature.empty() && signature == hasivu::payments::WebhookSignature(kWebhookSecret, body);
  const std::string before = Fingerprint(w);
  StatusOr<hasivu::domain::WebhookOutcome> outcome =
      w.payments->HandleWebhook(body, signature, "fuzz-request");
  const std::string after = Fingerprint(w);
  if (!genuine) {
    FUZZ_CHECK(!outcome.ok() && outcome.status().reason() == "INVALID_SIGNATURE");
    FUZZ_CHECK(before == after);
    return 0;
  }
  if (!IsSignedObject(body)) {
    FUZZ_CHECK(!outcome.ok() && outcome.status().reason() == "INVALID_JSON");
    FUZZ_CHECK(before == after);
    return 0;
  }
  if (!outcome.ok()) {
    if (std::getenv("HASIVU_FUZZ_VERBOSE")) {
      std::fprintf(stderr, "webhook refused: %s\n", outcome.status().ToString().c_str());
    }
    FUZZ_CHECK(outcome.status().code() != StatusCode::kInternal &&
               outcome.status().code() != StatusCode::kUnimplemented);
    CheckLedger(w);
    return 0;
  }
  // HASIVU_FUZZ_VERBOSE=1: what each input did (to see which paths a corpus reaches).
  static const bool verbose = std::getenv("HASIVU_FUZZ_VERBOSE") != nullptr;
  if (verbose)
    std::fprintf(stderr, "webhook %s: %s\n", outcome->event.c_str(), outcome->result.c_str());
  FUZZ_CHECK(outcome->event == EventOf(body));
  FUZZ_CHECK(outcome->result == "applied" || outcome->result == "duplicate" ||
             outcome->result == "ignored");
  if (outcome->result != "applied") FUZZ_CHECK(before == after);
  CheckLedger(w);

  // Delivered again: never applied a second time, and nothing more changes.
  StatusOr<hasivu::domain::WebhookOutcome> again =
      w.payments->HandleWebhook(body, signature, "fuzz-request-again");
  FUZZ_CHECK(again.ok() && again->result != "applied");
  FUZZ_CHECK(Fingerprint(w) == after);
  return 0;
}
