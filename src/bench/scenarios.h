// The ten functions of the platform (api.md) as `hasivu bench` exercises them: for each, requests
// a real client would send, drawn from the fixtures file (parents of many schools, real menu dates,
// today's cards, payable orders), and the status each must get.
//
// Reads rotate over many distinct requests. Writes are prepared so that a run can repeat: every
// orders-create is a new order (its own Idempotency-Key), every payments-create-order pays a
// fresh pending order, every payments-verify a fresh payment order with the simulated gateway's
// signature, every rfid-verify-card scans a card whose order for today is paid and undelivered.
// Preparing them writes through the API itself; those writes are counted in PreparedScenarios.
//
// Thread-safety: PrepareScenarios is thread-compatible; the result is a value.
#ifndef HASIVU_BENCH_SCENARIOS_H_
#define HASIVU_BENCH_SCENARIOS_H_

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "bench/http_client.h"
#include "bench/request.h"
#include "common/status.h"

namespace hasivu::bench {

// api.md's ten functions, in its order.
inline constexpr std::array<std::string_view, 10> kFunctions = {
    "auth-register",         "auth-login",      "users-get",
    "menus-daily",           "orders-list",     "orders-create",
    "payments-create-order", "payments-verify", "rfid-verify-card",
    "monitoring-dashboard"};

// Not one of the ten: users-get, menus-daily and orders-list requests taken in turn, one of each
// (the "mixed read set" of docs/performance.md). Prepared only when asked for by name, after
// the ten; each of its requests is one of those three functions' prepared requests.
inline constexpr std::string_view kMixedReads = "reads-mixed";

// One of kFunctions, or kMixedReads.
bool IsFunction(std::string_view name);

// The fixtures file (demo-data.md) as the bench needs it.
struct FixtureUser {
  std::string id;
  std::string email;
  std::string password;
};
struct FixtureChild {
  std::string id;
  std::string card_number;
  bool card_active = false;
  bool card_expired = false;
};
struct FixtureParent {
  FixtureUser user;
  std::vector<FixtureChild> children;
};
struct FixtureSchool {
  std::string id;
  std::string timezone;
  FixtureUser school_admin;
  std::vector<FixtureUser> kitchen_staff;
  std::vector<std::string> reader_ids;
  std::vector<std::string> menu_item_ids;
  std::vector<FixtureParent> parents;
};
struct Fixtures {
  std::string base_date;  // YYYY-MM-DD
  FixtureUser admin;
  std::vector<FixtureSchool> schools;
};
// InvalidArgument naming the missing or mistyped field.
StatusOr<Fixtures> ParseFixtures(std::string_view json);

// One function's requests.
struct Scenario {
  std::string function;  // one of kFunctions
  bool writes = false;   // each request is sent at most once (Workload::each_once)
  int expected_status = 200;
  std::vector<Request> requests;
};

// What the customer's checkout hands the browser for a payment order: the payment's id and the
// gateway's signature, as posted to payments-verify.
struct CheckoutResult {
  std::string payment_id;
  std::string signature;
};

struct ScenarioOptions {
  // Which functions to prepare (empty: all ten).
  std::vector<std::string> functions;
  // Requests prepared per write function (each used once). A phase of a write function ends when
  // they run out; rfid-verify-card may have fewer (as many cards as have a deliverable order
  // today).
  uint64_t writes_per_function = 2000;
  // Distinct requests per read function (rotated); also how many users are logged in.
  int read_variety = 50;
  // Sent as Accept-Encoding on every request ("" for none): what a browser sends.
  std::string accept_encoding = "br, gzip";
  // Makes registered emails and idempotency keys unique to the run, e.g. a time stamp and a random
  // number; REQUIRES: [a-z0-9-]{1,32}.
  std::string run_tag;
  // Plays the customer's checkout of a gateway order id for payments-verify. Empty (the
  // default): POST /payments/simulate, which only the simulated gateway answers. A caller in
  // front of a Razorpay stand-in pays through the stand-in instead.
  std::function<StatusOr<CheckoutResult>(const std::string& gateway_order_id)> checkout;
};

struct PreparedScenarios {
  std::vector<Scenario> scenarios;  // in kFunctions order, those asked for
  uint64_t setup_requests = 0;      // requests sent while preparing
  uint64_t setup_writes = 0;        // of which writes (orders, payment orders, simulated payments)
  // Why a function asked for was left out (e.g. "rfid-verify-card: no card has a paid order for
  // today"; "payments-verify: the gateway is not the simulated one").
  std::vector<std::string> skipped;
};

// Logs in the users it needs and prepares every function asked for through `client`. A function
// whose setup cannot be done is listed in `skipped`; an error of the setup itself (the server
// unreachable, a login refused) is returned as such.
StatusOr<PreparedScenarios> PrepareScenarios(const Fixtures& fixtures, HttpClient& client,
                                             const ScenarioOptions& options);

// For two sides measured on one database (a peer): rfid-verify-card's first scans draw on the
// cards with a paid, undelivered order of today, so two preparations find the same cards and the
// side that runs second finds them delivered. `ours` keeps the first half of its scans and
// `theirs` gets the second half (distinct cards); other functions are left as they are. A side
// without the function leaves both unchanged.
void SplitFirstScans(PreparedScenarios& ours, PreparedScenarios& theirs);

}  // namespace hasivu::bench

#endif  // HASIVU_BENCH_SCENARIOS_H_
