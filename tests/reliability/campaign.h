// The load half of a reliability scenario (docs/reliability.md): many clients send a mix of reads
// and writes to a seeded `hasivu serve` while a test injects a fault, every request's outcome is
// recorded, and every write is followed until it is settled, the way a careful client would: a
// write that got no answer, a 503 or a 500 is sent again, unchanged (same Idempotency-Key, same
// payment, same card), until an answer says what became of it.
//
// The writes are the three whose loss or duplication users would feel: orders-create (each with
// its own Idempotency-Key), payments-verify (each a fresh payment order with the simulated
// gateway's signature) and rfid-verify-card (each a card with a paid order for today); the reads
// are users-get, menus-daily and orders-list. All are prepared through the API by
// bench::PrepareScenarios before the load starts.
//
// A write is acknowledged by its 2xx answer, or, for a card whose earlier scan got no answer, by
// 409 ALREADY_DELIVERED naming the delivery that earlier scan made. Any other 4xx settles it as
// failed (a bug to report: every prepared write is valid).
//
// Thread-safety: Start, Stop, Settle, CheckReplays and the accessors from one controlling thread;
// the clients are the campaign's own threads. Tallies(), Counts() and WritesInFlight() may be
// called while the clients run.
#ifndef HASIVU_TESTS_RELIABILITY_CAMPAIGN_H_
#define HASIVU_TESTS_RELIABILITY_CAMPAIGN_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench/request.h"
#include "bench/scenarios.h"
#include "common/status.h"

namespace hasivu::reliability {

using Clock = std::chrono::steady_clock;

// How one request ended, from the client's side.
enum class Outcome {
  kAnswered,  // an HTTP status came back
  kRefused,   // the connection was not accepted: nothing was sent
  kNoAnswer,  // the connection closed or failed after the request went out
  kTimedOut,  // no answer within CampaignSettings::request_timeout
};
std::string_view OutcomeName(Outcome outcome);

struct Attempt {
  Outcome outcome = Outcome::kAnswered;
  int status = 0;          // when answered
  std::string error_code;  // the envelope's code of an error answer
  int port = 0;            // which server it went to
  Clock::time_point start;
  Clock::time_point end;
};

// Requests of one function by how they ended.
struct FunctionTally {
  uint64_t sent = 0;
  uint64_t ok = 0;              // 2xx, or 304
  uint64_t unavailable = 0;     // 503
  uint64_t server_error = 0;    // 500 and other 5xx but 503: never acceptable
  uint64_t refused_status = 0;  // other answers (4xx)
  uint64_t not_accepted = 0;    // Outcome::kRefused
  uint64_t no_answer = 0;       // Outcome::kNoAnswer
  uint64_t timed_out = 0;       // Outcome::kTimedOut
  // 503 answers without a Retry-After header (every 503 of hasivu should carry one).
  uint64_t unavailable_without_retry_after = 0;
  // Latency of the answered requests, microseconds, in the order they ended.
  std::vector<int64_t> answered_us;
};

enum class WriteState {
  kPending,       // not sent yet, or only unsettled answers so far
  kAcknowledged,  // see the file comment
  kFailed,        // a definitive refusal (see failure)
};

struct WriteRecord {
  std::string function;  // orders-create, payments-verify or rfid-verify-card
  bench::Request request;
  std::vector<Attempt> attempts;
  WriteState state = WriteState::kPending;
  // What the acknowledgement names: the order's id, the gateway payment id, the delivery's id.
  std::string resource_id;
  // The acknowledging answer's `data`, serialised (empty when it was a 409 ALREADY_DELIVERED).
  std::string first_data;
  std::string failure;  // for kFailed: status, code and body excerpt
  // For rfid-verify-card: the card scanned.
  std::string card_number;
};

struct CampaignSettings {
  int clients = 16;
  // Requests prepared per write function (rfid-verify-card may get fewer: as many cards as have
  // a deliverable order today).
  int writes_per_function = 200;
  // Share of requests that are writes while unsent or unsettled writes remain; afterwards only
  // reads go out (until Stop).
  double write_share = 0.5;
  // Unsent writes go out at most this many per second (0: as fast as the clients go), so that the
  // writes last through the faults a test injects; resends are not paced.
  double write_rate = 0;
  // Reads go out at most this many per second in all, on a fixed schedule from each Start() (0:
  // as fast as the clients go): with write_rate it sets the load a soak holds. A client whose
  // read slot is not due yet waits for it; slots missed while the server was slow are not
  // skipped, so the rate held over a run is the one set unless the server cannot keep up.
  double read_rate = 0;
  std::chrono::milliseconds request_timeout{5000};
  // A client's pause after an answer that settles nothing (no answer, 503, 500), so that a server
  // that is down is not spun against.
  std::chrono::milliseconds retry_backoff{20};
  // Makes the run's emails and idempotency keys unique: [a-z0-9-]{1,32}.
  std::string run_tag = "reliability";
  // The customer's checkout for payments-verify (bench::ScenarioOptions::checkout): a test whose
  // server talks to a Razorpay stand-in pays there. Empty: the simulated gateway's
  // /payments/simulate (whose payments live in the server's memory, so not across a restart).
  std::function<StatusOr<bench::CheckoutResult>(const std::string&)> checkout;
};

class Campaign {
 public:
  // Which server a request goes to (a port on 127.0.0.1). The default sends everything to the one
  // port given to Prepare; a test with several servers passes its front's choice. Called by every
  // client for every request.
  using PortChooser = std::function<int()>;

  // Logs in and prepares the requests against the seeded server on 127.0.0.1:`port`, whose
  // fixtures.json is `fixtures_json`. Errors: what went wrong in preparing (unreachable server, a
  // refused login, a function that could not be prepared).
  static StatusOr<std::unique_ptr<Campaign>> Prepare(int port, std::string_view fixtures_json,
                                                     const CampaignSettings& settings);
  ~Campaign();
  Campaign(const Campaign&) = delete;
  Campaign& operator=(const Campaign&) = delete;

  // Before Start: where requests go.
  void SetPortChooser(PortChooser chooser);
  // Before Start: where writes (and CheckReplays' repeats) go instead, e.g. to one process of a
  // pair while the other takes reads only. Default: the PortChooser.
  void SetWritePortChooser(PortChooser chooser);
  // Before Start, or between Stop and Start: CampaignSettings::read_rate from then on (a soak
  // measures its peak unpaced, then holds a share of it with the same prepared writes).
  void SetReadRate(double per_second);
  // The Authorization values the prepared requests carry ("Bearer <access token>" of each account
  // logged in), and their replacement (old -> new) in every prepared request, writes included: a
  // run longer than an access token's life logs its accounts in again. REQUIRES: stopped.
  std::set<std::string> Authorizations() const;
  void ReplaceAuthorizations(const std::map<std::string, std::string>& replacements);

  // Starts the clients. REQUIRES: not running.
  void Start();
  // Lets each client finish its request and joins them. Idempotent.
  void Stop();
  // Runs (starting the clients if they are not running) until no write is pending or `within`
  // has passed, then stops the clients. True when none is pending.
  bool Settle(std::chrono::milliseconds within);

  // Sends every acknowledged write once more, as a client repeating itself would, and returns
  // each answer that is not the first answer again (orders-create: 201 with the same `data`;
  // payments-verify: 200 with the same `data`; rfid-verify-card: 409 ALREADY_DELIVERED naming
  // the same delivery). REQUIRES: stopped.
  std::vector<std::string> CheckReplays();

  // Writes sent and not answered yet.
  size_t WritesInFlight() const;
  // A copy of the counts so far, per function.
  std::map<std::string, FunctionTally> Tallies() const;
  // The same without the latencies (answered_us empty): cheap enough to take every second while
  // the clients run, where Tallies() copies every latency under the clients' lock.
  std::map<std::string, FunctionTally> Counts() const;
  // REQUIRES: stopped.
  const std::vector<WriteRecord>& writes() const { return writes_; }
  // How many writes per function are in each state. REQUIRES: stopped.
  std::map<std::string, std::map<WriteState, int>> WriteStates() const;
  // The base date of the fixtures (today in the schools' zone when the server seeded).
  const std::string& base_date() const { return base_date_; }

 private:
  Campaign() = default;
  void RunClient(int index);
  // The next write a client may send (unsent, or pending and past its backoff), or -1.
  int TakeWrite(Clock::time_point now);
  void Record(int write_index, const Attempt& attempt, std::string_view body);

  CampaignSettings settings_;
  std::string base_date_;
  std::vector<bench::Request> reads_;
  std::vector<std::string> read_functions_;  // parallel to reads_

  mutable std::mutex mu_;
  std::vector<WriteRecord> writes_;               // guarded by mu_ while clients run
  std::vector<bool> in_flight_;                   // guarded by mu_
  std::vector<Clock::time_point> not_before_;     // guarded by mu_
  size_t pending_ = 0;                            // guarded by mu_
  size_t fresh_sent_ = 0;                         // guarded by mu_
  size_t first_unsettled_ = 0;                    // guarded by mu_; all before it are settled
  Clock::time_point first_start_;                 // guarded by mu_
  std::map<std::string, FunctionTally> tallies_;  // guarded by mu_

  PortChooser choose_port_;
  PortChooser choose_write_port_;  // empty: choose_port_
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> next_read_{0};
  // Read pacing (settings_.read_rate): slots handed out since pace_start_.
  std::atomic<uint64_t> read_slots_{0};
  Clock::time_point pace_start_;
  std::vector<std::thread> clients_;
};

}  // namespace hasivu::reliability

#endif  // HASIVU_TESTS_RELIABILITY_CAMPAIGN_H_
