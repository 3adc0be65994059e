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

std::optional<std::string> find_program(std::string_view program)
{
  if (program.empty()) return std::nullopt;
  std::string const name{program};
  if (name.find('/') != std::string::npos)
    return ::access(name.c_str(), X_OK) == 0 ? std::optional{name} : std::nullopt;
  char const* path = std::getenv("PATH");
  std::string dirs = path && *path ? path : "/usr/local/bin:/usr/bin:/bin";
  dirs += ":/usr/local/sbin:/usr/sbin:/sbin";
  std::string_view rest = dirs;
  while (!rest.empty()) {
    auto const colon = rest.find(':');
    std::string dir{rest.substr(0, colon)};
    rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
    if (dir.empty()) dir = ".";   // an empty entry is the current directory, as for a shell
    std::string const candidate = dir + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

} // namespace workbook
