// Wait for a condition instead of sleeping for a guessed time.
#pragma once

#include <algorithm>
#include <chrono>
#include <thread>

namespace workbook {

// Polls pred until it returns true (-> true) or timeout passes (-> false).
// Polling starts at 1 ms and backs off to 20 ms, so a condition that is
// already true costs nothing and a slow one costs little CPU.
template <class Predicate>
bool eventually(Predicate&& pred,
                std::chrono::milliseconds timeout = std::chrono::seconds(2))
{
  auto const deadline = std::chrono::steady_clock::now() + timeout;
  auto step = std::chrono::milliseconds(1);
  for (;;) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return pred();
    std::this_thread::sleep_for(step);
    step = std::min(step * 2, std::chrono::milliseconds(20));
  }
}

} // namespace workbook
