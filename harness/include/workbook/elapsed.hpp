// Elapsed time in whole milliseconds, for tests that check when something
// happened ("closed no sooner than the deadline, and within 1.3 s").
#pragma once

#include <chrono>

namespace workbook {

using clock_type = std::chrono::steady_clock;

inline std::chrono::milliseconds between(clock_type::time_point from, clock_type::time_point to)
{
  return std::chrono::duration_cast<std::chrono::milliseconds>(to - from);
}

inline std::chrono::milliseconds since(clock_type::time_point start) { return between(start, clock_type::now()); }

} // namespace workbook
