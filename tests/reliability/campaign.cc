#include "tests/reliability/campaign.h"

#include <algorithm>
#include <boost/json.hpp>
#include <random>
#include <system_error>

#include "bench/http_client.h"

namespace hasivu::reliability {
namespace {

namespace json = boost::json;

constexpr std::string_view kWriteFunctions[] = {"orders-create", "payments-verify",
                                                "rfid-verify-card"};
constexpr std::string_view kReadFunctions[] = {"users-get", "menus-daily", "orders-list"};

bool IsWrite(std::string_view function) {
  return std::find(std::begin(kWriteFunctions), std::end(kWriteFunctions), function) !=
         std::end(kWriteFunctions);
}

json::value ParseOrNull(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  return ec ? json::value() : v;
}

const json::value* Path(const json::value& root, std::initializer_list<std::string_view> keys) {
  const json::value* at = &root;
  for (std::string_view key : keys) {
    if (!at->is_object()) return nullptr;
    at = at->as_object().if_contains(key);
    if (at == nullptr) return nullptr;
  }
  return at;
}

std::string StringAt(const json::value& root, std::initializer_list<std::string_view> keys) {
  const json::value* v = Path(root, keys);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : "";
}

// What names the resource in a write's 2xx answer.
std::string ResourceIdOf(std::string_view function, const json::value& answer) {
  if (function == "orders-create") return StringAt(answer, {"data", "order", "id"});
  if (function == "payments-verify") return StringAt(answer, {"data", "verification", "paymentId"});
  return StringAt(answer, {"data", "verification", "id"});
}

// The bench client reports a refused connect as Unavailable("connect ..."); a request that went
// out and got nothing back is any other Unavailable.
Outcome OutcomeOf(const Status& s) {
  if (s.code() == StatusCode::kDeadlineExceeded) return Outcome::kTimedOut;
  if (s.message().rfind("connect ", 0) == 0) return Outcome::kRefused;
  return Outcome::kNoAnswer;
}

bench::Endpoint Loopback(int port) {
  bench::Endpoint e;
  e.host = "127.0.0.1";
  e.port = static_cast<uint16_t>(port);
  return e;
}

// The client's kept-alive connection to `port`, made when there is none (or it was dropped).
std::unique_ptr<bench::HttpClient>& ConnectionTo(
    std::map<int, std::unique_ptr<bench::HttpClient>>& connections, int port,
    std::chrono::milliseconds timeout) {
  std::unique_ptr<bench::HttpClient>& client = connections[port];
  if (client == nullptr) client = bench::NewHttpClient(Loopback(port), timeout);
  return client;
}

std::string Excerpt(std::string_view body) { return std::string(body.substr(0, 300)); }

}  // namespace

std::string_view OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kAnswered:
      return "answered";
    case Outcome::kRefused:
      return "not accepted";
    case Outcome::kNoAnswer:
      return "no answer";
    case Outcome::kTimedOut:
      return "timed out";
  }
  return "?";
}

StatusOr<std::unique_ptr<Campaign>> Campaign::Prepare(int port, std::string_view fixtures_json,
                                                      const CampaignSettings& settings) {
  ASSIGN_OR_RETURN(bench::Fixtures fixtures, bench::ParseFixtures(fixtures_json));
  std::unique_ptr<bench::HttpClient> client =
      bench::NewHttpClient(Loopback(port), std::chrono::seconds(30));
  bench::ScenarioOptions options;
  for (std::string_view f : kReadFunctions) options.functions.emplace_back(f);
  for (std::string_view f : kWriteFunctions) options.functions.emplace_back(f);
  options.writes_per_function = static_cast<uint64_t>(settings.writes_per_function);
  options.read_variety = 20;
  // Answers are read (ids, replays): uncompressed.
  options.accept_encoding = "";
  options.run_tag = settings.run_tag;
  options.checkout = settings.checkout;
  ASSIGN_OR_RETURN(bench::PreparedScenarios prepared,
                   bench::PrepareScenarios(fixtures, *client, options));
  if (!prepared.skipped.empty()) {
    return Status(StatusCode::kFailedPrecondition,
                  "could not prepare: " + prepared.skipped.front());
  }
  std::unique_ptr<Campaign> c(new Campaign());
  c->settings_ = settings;
  c->base_date_ = fixtures.base_date;
  for (bench::Scenario& scenario : prepared.scenarios) {
    for (bench::Request& request : scenario.requests) {
      if (!IsWrite(scenario.function)) {
        c->reads_.push_back(std::move(request));
        c->read_functions_.push_back(scenario.function);
        continue;
      }
      WriteRecord w;
      w.function = scenario.function;
      if (w.function == "rfid-verify-card") {
        w.card_number = StringAt(ParseOrNull(request.body), {"cardNumber"});
      }
      w.request = std::move(request);
      c->writes_.push_back(std::move(w));
    }
  }
  if (c->reads_.empty() || c->writes_.empty()) {
    return Status(StatusCode::kFailedPrecondition, "no reads or no writes were prepared");
  }
  // Interleaved, so that every fault lands among all three kinds of write.
  std::shuffle(c->writes_.begin(), c->writes_.end(), std::mt19937(20261207));
  c->in_flight_.assign(c->writes_.size(), false);
  c->not_before_.assign(c->writes_.size(), Clock::time_point{});
  c->pending_ = c->writes_.size();
  c->choose_port_ = [port] { return port; };
  return c;
}

Campaign::~Campaign() { Stop(); }

void Campaign::SetPortChooser(PortChooser chooser) { choose_port_ = std::move(chooser); }

void Campaign::SetWritePortChooser(PortChooser chooser) { choose_write_port_ = std::move(chooser); }

void Campaign::SetReadRate(double per_second) { settings_.read_rate = per_second; }

std::set<std::string> Campaign::Authorizations() const {
  std::set<std::string> out;
  const auto add = [&out](const bench::Request& r) {
    for (const bench::Header& h : r.headers) {
      if (h.name == "Authorization") out.insert(h.value);
    }
  };
  for (const bench::Request& r : reads_) add(r);
  for (const WriteRecord& w : writes_) add(w.request);
  return out;
}

void Campaign::ReplaceAuthorizations(const std::map<std::string, std::string>& replacements) {
  const auto replace = [&replacements](bench::Request& r) {
    for (bench::Header& h : r.headers) {
      if (h.name != "Authorization") continue;
      const auto it = replacements.find(h.value);
      if (it != replacements.end()) h.value = it->second;
    }
  };
  for (bench::Request& r : reads_) replace(r);
  for (WriteRecord& w : writes_) replace(w.request);
}

void Campaign::Start() {
  stop_ = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (first_start_ == Clock::time_point{}) first_start_ = Clock::now();
  }
  pace_start_ = Clock::now();
  read_slots_ = 0;
  for (int i = 0; i < settings_.clients; ++i) {
    // On a machine shared with other test runs thread creation can fail for a moment (EAGAIN:
    // every PID in use); a long run restarting its clients waits for one rather than aborting.
    for (int attempt = 0;; ++attempt) {
      try {
        clients_.emplace_back([this, i] { RunClient(i); });
        break;
      } catch (const std::system_error&) {
        if (attempt >= 200) throw;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
  }
}

void Campaign::Stop() {
  stop_ = true;
  for (std::thread& t : clients_) t.join();
  clients_.clear();
}

bool Campaign::Settle(std::chrono::milliseconds within) {
  if (clients_.empty()) Start();
  const Clock::time_point deadline = Clock::now() + within;
  bool settled = false;
  while (Clock::now() < deadline) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      settled = pending_ == 0;
    }
    if (settled) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  Stop();
  std::lock_guard<std::mutex> lock(mu_);
  return pending_ == 0;
}

int Campaign::TakeWrite(Clock::time_point now) {
  // Unsent writes go in order, paced; a pending one waits for its backoff.
  const bool fresh_allowed =
      settings_.write_rate <= 0 ||
      static_cast<double>(fresh_sent_) <
          std::chrono::duration<double>(now - first_start_).count() * settings_.write_rate;
  // Writes are taken in order, so the settled ones are a prefix to skip and the never-taken ones
  // a suffix: a long run's scan stays short.
  while (first_unsettled_ < writes_.size() &&
         writes_[first_unsettled_].state != WriteState::kPending) {
    ++first_unsettled_;
  }
  for (size_t i = first_unsettled_; i < writes_.size(); ++i) {
    if (writes_[i].state != WriteState::kPending || in_flight_[i] || not_before_[i] > now) continue;
    const bool fresh = writes_[i].attempts.empty();
    if (fresh && !fresh_allowed) break;
    if (fresh) ++fresh_sent_;
    in_flight_[i] = true;
    return static_cast<int>(i);
  }
  return -1;
}

void Campaign::RunClient(int index) {
  std::map<int, std::unique_ptr<bench::HttpClient>> connections;
  std::mt19937 rng(static_cast<unsigned>(index) * 7919u + 17u);
  std::uniform_real_distribution<double> coin(0.0, 1.0);
  while (!stop_) {
    int write_index = -1;
    const Clock::time_point now = Clock::now();
    if (coin(rng) < settings_.write_share) {
      std::lock_guard<std::mutex> lock(mu_);
      write_index = TakeWrite(now);
    }
    const bench::Request* request = nullptr;
    std::string function;
    if (write_index >= 0) {
      std::lock_guard<std::mutex> lock(mu_);
      request = &writes_[write_index].request;
      function = writes_[write_index].function;
    } else {
      if (settings_.read_rate > 0) {
        // The next slot of the schedule; waiting in short steps keeps Stop() prompt.
        const uint64_t slot = read_slots_.fetch_add(1);
        const Clock::time_point due =
            pace_start_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                              static_cast<double>(slot) / settings_.read_rate));
        for (Clock::time_point t = Clock::now(); !stop_ && t < due; t = Clock::now()) {
          std::this_thread::sleep_for(
              std::min<Clock::duration>(due - t, std::chrono::milliseconds(50)));
        }
        if (stop_) break;
      }
      const uint64_t r = next_read_.fetch_add(1) % reads_.size();
      request = &reads_[r];
      function = read_functions_[r];
    }
    const int port = write_index >= 0 && choose_write_port_ ? choose_write_port_() : choose_port_();
    std::unique_ptr<bench::HttpClient>& client =
        ConnectionTo(connections, port, settings_.request_timeout);
    Attempt attempt;
    attempt.port = port;
    attempt.start = Clock::now();
    StatusOr<bench::Response> answer = client->Send(*request);
    attempt.end = Clock::now();
    std::string body;
    bool retry_after = false;
    if (answer.ok()) {
      retry_after = !answer->HeaderValue("retry-after").empty();
      attempt.status = answer->status;
      attempt.error_code = bench::ErrorCodeOf(answer->body);
      body = std::move(answer->body);
    } else {
      attempt.outcome = OutcomeOf(answer.status());
      // A failed connection is not reused.
      client.reset();
    }
    bool settles = attempt.outcome == Outcome::kAnswered && attempt.status < 500;
    {
      std::lock_guard<std::mutex> lock(mu_);
      FunctionTally& t = tallies_[function];
      ++t.sent;
      if (attempt.outcome == Outcome::kAnswered) {
        t.answered_us.push_back(
            std::chrono::duration_cast<std::chrono::microseconds>(attempt.end - attempt.start)
                .count());
        if (attempt.status < 300 || attempt.status == 304) {
          ++t.ok;
        } else if (attempt.status == 503) {
          ++t.unavailable;
          if (!retry_after) ++t.unavailable_without_retry_after;
        } else if (attempt.status >= 500) {
          ++t.server_error;
        } else {
          ++t.refused_status;
        }
      } else if (attempt.outcome == Outcome::kRefused) {
        ++t.not_accepted;
      } else if (attempt.outcome == Outcome::kNoAnswer) {
        ++t.no_answer;
      } else {
        ++t.timed_out;
      }
      if (write_index >= 0) Record(write_index, attempt, body);
    }
    if (!settles) std::this_thread::sleep_for(settings_.retry_backoff);
  }
}

// Called with mu_ held.
void Campaign::Record(int write_index, const Attempt& attempt, std::string_view body) {
  WriteRecord& w = writes_[write_index];
  const bool earlier_unanswered = std::any_of(
      w.attempts.begin(), w.attempts.end(),
      [](const Attempt& a) { return a.outcome != Outcome::kAnswered || a.status >= 500; });
  w.attempts.push_back(attempt);
  in_flight_[write_index] = false;
  const int status = attempt.outcome == Outcome::kAnswered ? attempt.status : 0;
  // Retried as it is: no answer, 5xx, 429, or the key still held by an unfinished first request.
  if (status == 0 || status >= 500 || status == 429 ||
      attempt.error_code == "IDEMPOTENCY_KEY_IN_PROGRESS") {
    not_before_[write_index] = Clock::now() + settings_.retry_backoff * 5;
    return;
  }
  const json::value answer = ParseOrNull(body);
  if (status >= 200 && status < 300) {
    w.state = WriteState::kAcknowledged;
    w.resource_id = ResourceIdOf(w.function, answer);
    const json::value* data = Path(answer, {"data"});
    w.first_data = data != nullptr ? json::serialize(*data) : "";
  } else if (w.function == "rfid-verify-card" && status == 409 &&
             attempt.error_code == "ALREADY_DELIVERED" && earlier_unanswered) {
    w.state = WriteState::kAcknowledged;
    w.resource_id = StringAt(answer, {"error", "verification", "id"});
  } else {
    w.state = WriteState::kFailed;
    w.failure = std::to_string(status) + " " + attempt.error_code + ": " + Excerpt(body);
  }
  --pending_;
}

std::vector<std::string> Campaign::CheckReplays() {
  std::vector<std::string> problems;
  std::map<int, std::unique_ptr<bench::HttpClient>> connections;
  for (const WriteRecord& w : writes_) {
    if (w.state != WriteState::kAcknowledged) continue;
    const int port = choose_write_port_ ? choose_write_port_() : choose_port_();
    std::unique_ptr<bench::HttpClient>& client =
        ConnectionTo(connections, port, settings_.request_timeout);
    StatusOr<bench::Response> answer = client->Send(w.request);
    const std::string what = w.function + " " + w.resource_id;
    if (!answer.ok()) {
      problems.push_back(what + ": replay got no answer: " + answer.status().message());
      client.reset();
      continue;
    }
    const json::value parsed = ParseOrNull(answer->body);
    if (w.function == "rfid-verify-card") {
      const std::string again = StringAt(parsed, {"error", "verification", "id"});
      if (answer->status != 409 || bench::ErrorCodeOf(answer->body) != "ALREADY_DELIVERED" ||
          again != w.resource_id) {
        problems.push_back(what + ": a second scan answered " + std::to_string(answer->status) +
                           " " + Excerpt(answer->body));
      }
      continue;
    }
    const json::value* data = Path(parsed, {"data"});
    const std::string again = data != nullptr ? json::serialize(*data) : "";
    const int want = w.function == "orders-create" ? 201 : 200;
    if (answer->status != want || again != w.first_data) {
      problems.push_back(what + ": the repeat answered " + std::to_string(answer->status) + " " +
                         Excerpt(again.empty() ? answer->body : again) + " instead of " +
                         Excerpt(w.first_data));
    }
  }
  return problems;
}

size_t Campaign::WritesInFlight() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<size_t>(std::count(in_flight_.begin(), in_flight_.end(), true));
}

std::map<std::string, FunctionTally> Campaign::Tallies() const {
  std::lock_guard<std::mutex> lock(mu_);
  return tallies_;
}

std::map<std::string, FunctionTally> Campaign::Counts() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, FunctionTally> out;
  for (const auto& [function, t] : tallies_) {
    FunctionTally& c = out[function];
    c.sent = t.sent;
    c.ok = t.ok;
    c.unavailable = t.unavailable;
    c.unavailable_without_retry_after = t.unavailable_without_retry_after;
    c.server_error = t.server_error;
    c.refused_status = t.refused_status;
    c.not_accepted = t.not_accepted;
    c.no_answer = t.no_answer;
    c.timed_out = t.timed_out;
  }
  return out;
}

std::map<std::string, std::map<WriteState, int>> Campaign::WriteStates() const {
  std::map<std::string, std::map<WriteState, int>> out;
  for (const WriteRecord& w : writes_) ++out[w.function][w.state];
  return out;
}

}  // namespace hasivu::reliability
