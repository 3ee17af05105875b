#include "bench/cold_start.h"

#include <thread>

#include "bench/http_client.h"

namespace hasivu::bench {
namespace {

using Clock = std::chrono::steady_clock;

double MsBetween(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

std::string Describe(const StatusOr<Response>& answer) {
  if (!answer.ok()) return answer.status().ToString();
  std::string code = ErrorCodeOf(answer->body);
  return "status " + std::to_string(answer->status) + (code.empty() ? "" : " " + code);
}

}  // namespace

StatusOr<std::vector<ColdStartResult>> MeasureColdStarts(const std::vector<Scenario>& scenarios,
                                                         const ColdStartOptions& options) {
  std::vector<ColdStartResult> results;
  for (const Scenario& scenario : scenarios) {
    ColdStartResult& result = results.emplace_back();
    result.function = scenario.function;
    if (scenario.requests.empty()) continue;
    for (int start = 0; start < options.starts; ++start) {
      StatusOr<std::unique_ptr<ServerProcess>> process = ServerProcess::Start(options.server);
      if (!process.ok()) return process.status();
      const Clock::time_point spawned = (*process)->spawned_at();
      result.listening_ms.push_back(MsBetween(spawned, (*process)->ready_at()));
      Endpoint endpoint{"127.0.0.1", (*process)->port(), ""};
      std::unique_ptr<HttpClient> client = NewHttpClient(endpoint, options.first_success_timeout);
      const Clock::time_point give_up = Clock::now() + options.first_success_timeout;
      std::string first_failure;
      bool succeeded = false;
      StatusOr<Request> made =
          options.first_request
              ? options.first_request(scenario, start, *client)
              : StatusOr<Request>(scenario.requests[start % scenario.requests.size()]);
      if (!made.ok()) first_failure = "its setup: " + made.status().ToString();
      const Request request = made.ok() ? *made : Request{};
      for (; made.ok();) {
        StatusOr<Response> answer = client->Send(request);
        const Clock::time_point answered = Clock::now();
        if (answer.ok() && answer->status == scenario.expected_status) {
          result.first_success_ms.push_back(MsBetween(spawned, answered));
          succeeded = true;
          break;
        }
        if (first_failure.empty()) first_failure = Describe(answer);
        if (answered >= give_up) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      if (!succeeded) {
        result.failures.push_back("start " + std::to_string(start + 1) + ": " + first_failure);
      }
      StatusOr<int> stopped = (*process)->Stop();
      if (!stopped.ok()) {
        result.failures.push_back("start " + std::to_string(start + 1) + ": " +
                                  stopped.status().message());
      }
      if (options.on_start) options.on_start(scenario.function, start, options.starts);
    }
  }
  return results;
}

}  // namespace hasivu::bench
