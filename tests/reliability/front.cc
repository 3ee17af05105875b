#include "tests/reliability/front.h"

#include <utility>

#include "tests/integration/harness.h"

namespace hasivu::reliability {

ReadinessFront::ReadinessFront(std::vector<int> ports, std::chrono::milliseconds probe_interval)
    : ports_(std::move(ports)),
      probe_interval_(probe_interval),
      ready_(new std::atomic<bool>[ports_.size()]),
      chosen_(new std::atomic<uint64_t>[ports_.size()]) {
  for (size_t i = 0; i < ports_.size(); ++i) {
    ready_[i].store(true);
    chosen_[i].store(0);
  }
}

ReadinessFront::~ReadinessFront() { Stop(); }

void ReadinessFront::Start() {
  stop_.store(false);
  prober_ = std::thread([this] { Probe(); });
}

void ReadinessFront::Stop() {
  stop_.store(true);
  if (prober_.joinable()) prober_.join();
}

void ReadinessFront::Probe() {
  while (!stop_.load()) {
    for (size_t i = 0; i < ports_.size(); ++i) {
      // A refused or failed probe counts as not ready, as a health check's would.
      const testing::HttpResponse r = testing::HttpRequest(ports_[i], "GET", "/readyz");
      ready_[i].store(r.ok && r.status == 200);
    }
    std::this_thread::sleep_for(probe_interval_);
  }
}

int ReadinessFront::Choose() {
  const size_t n = ports_.size();
  const uint64_t start = next_.fetch_add(1);
  for (size_t k = 0; k < n; ++k) {
    const size_t i = (start + k) % n;
    if (ready_[i].load()) {
      chosen_[i].fetch_add(1);
      return ports_[i];
    }
  }
  without_ready_.fetch_add(1);
  const size_t i = start % n;
  chosen_[i].fetch_add(1);
  return ports_[i];
}

int ReadinessFront::IndexOf(int port) const {
  for (size_t i = 0; i < ports_.size(); ++i) {
    if (ports_[i] == port) return static_cast<int>(i);
  }
  return -1;
}

bool ReadinessFront::Ready(int port) const {
  const int i = IndexOf(port);
  return i >= 0 && ready_[i].load();
}

uint64_t ReadinessFront::Chosen(int port) const {
  const int i = IndexOf(port);
  return i < 0 ? 0 : chosen_[i].load();
}

}  // namespace hasivu::reliability
