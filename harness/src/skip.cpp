// WORKBOOK_SKIP's record of why a case did not run (workbook/skip.hpp), read
// by the harness main when the case ends.
#include <workbook/skip.hpp>

#include <unistd.h>

#include <cstdlib>
#include <mutex>
#include <string>
#include <utility>

namespace workbook {

namespace {
std::mutex reason_mutex;
std::string pending_reason;
} // namespace

void skip_case(std::string reason)
{
  std::lock_guard lock(reason_mutex);
  pending_reason = reason.empty() ? "no reason given" : std::move(reason);
}

std::string detail::take_skip_reason()
{
  std::lock_guard lock(reason_mutex);
  return std::exchange(pending_reason, {});
}


} // namespace workbook
