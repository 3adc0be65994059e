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

bool installed(std::string_view program)
{
  if (program.empty()) return false;
  std::string const name{program};
  if (name.find('/') != std::string::npos) return ::access(name.c_str(), X_OK) == 0;
  char const* path = std::getenv("PATH");
  std::string_view dirs = path && *path ? path : "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
  while (!dirs.empty()) {
    auto const colon = dirs.find(':');
    std::string dir{dirs.substr(0, colon)};
    dirs = colon == std::string_view::npos ? std::string_view{} : dirs.substr(colon + 1);
    if (dir.empty()) dir = ".";
    if (::access((dir + "/" + name).c_str(), X_OK) == 0) return true;
  }
  return false;
}

} // namespace workbook
