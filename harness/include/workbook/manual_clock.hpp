// A clock that moves only when the test says so: time-driven logic (idle
// timeouts, breaker resets, backoff) is tested without waiting for real time.
#pragma once

#include <atomic>
#include <chrono>

namespace workbook {

class manual_clock {
public:
  using duration = std::chrono::steady_clock::duration;
  using time_point = std::chrono::steady_clock::time_point;

  explicit manual_clock(time_point start = time_point{} + std::chrono::hours(1))
      : now_(start.time_since_epoch().count()) {}

  time_point now() const noexcept { return time_point{duration{now_.load()}}; }
  void advance(duration d) noexcept { now_ += d.count(); }

private:
  std::atomic<duration::rep> now_;
};

} // namespace workbook
