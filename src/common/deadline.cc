#include "common/deadline.h"

#include <algorithm>

namespace hasivu {
namespace {

// A thread_local std::optional would need a guard on every access; a flag and a value do not.
thread_local bool has_deadline = false;
thread_local std::chrono::steady_clock::time_point deadline_at;

}  // namespace

ScopedDeadline::ScopedDeadline(std::chrono::steady_clock::time_point at) {
  if (has_deadline) outer_ = deadline_at;
  if (!has_deadline || at < deadline_at) deadline_at = at;
  has_deadline = true;
}

ScopedDeadline::~ScopedDeadline() {
  has_deadline = outer_.has_value();
  if (outer_) deadline_at = *outer_;
}

std::optional<std::chrono::steady_clock::time_point> CurrentDeadline() {
  if (!has_deadline) return std::nullopt;
  return deadline_at;
}

std::optional<std::chrono::steady_clock::time_point> EarlierDeadline(
    std::optional<std::chrono::steady_clock::time_point> bound) {
  const std::optional<std::chrono::steady_clock::time_point> current = CurrentDeadline();
  if (!current) return bound;
  if (!bound) return current;
  return std::min(*current, *bound);
}

}  // namespace hasivu
