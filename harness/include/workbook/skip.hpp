// A test case that cannot run on this machine, because a program it talks
// to is not installed, says so instead of passing in silence:
//
//   auto const nghttpd = workbook::find_program("nghttpd");
//   if (!nghttpd) WORKBOOK_SKIP("nghttpd is not installed: apt install nghttp2-server");
//
// The case ends there. Catch2 prints the reason as a warning; the grader
// reports the case as "not run here" with the reason, and does not count it
// against its criterion (which still needs a case that ran and passed).
#pragma once

#include <workbook/process.hpp>

#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace workbook {

// Records why the running test case ends without running (harness main).
void skip_case(std::string reason);

namespace detail {
// The reason given by the case that just ended, and forgets it ("" for a
// case that ran).
std::string take_skip_reason();
} // namespace detail

// find_program (workbook/process.hpp) says where a program is, or nullopt.
inline bool installed(std::string_view program) { return find_program(program).has_value(); }

} // namespace workbook

#define WORKBOOK_SKIP(reason)                     \
  do {                                            \
    std::string const workbook_skip_reason_{reason}; \
    WARN("skipped: " << workbook_skip_reason_);   \
    ::workbook::skip_case(workbook_skip_reason_); \
    return;                                       \
  } while (false)
