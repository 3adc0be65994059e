// The grader's verbs, one function each; main.cpp only parses arguments.
#pragma once

#include "catalog.hpp"
#include "grade.hpp"

#include <string>

namespace grader {

// Exit codes, stable for scripts and CI.
inline constexpr int exit_pass = 0;   // every criterion passes / the verb succeeded
inline constexpr int exit_fail = 1;   // a criterion fails (or the verb was refused)
inline constexpr int exit_usage = 2;  // usage error, or the workbook cannot be built

struct context {
  workbook_paths paths;
  catalog const& cat;
};

struct grade_options {
  bool reference = false;
  bool json = false;
  bool verbose = false;
  bool full_log = false;
  bool ask_self_grade = true;   // only ever asked on a terminal
};

int cmd_list(context const& ctx);
int cmd_grade(context const& ctx, task const& t, grade_options const& options);
int cmd_hint(context const& ctx, task const& t, bool all);
int cmd_reveal(context const& ctx, task const& t, bool force);
int cmd_reset(context const& ctx, task const& t, bool yes);
int cmd_tally(context const& ctx);
int cmd_watch(context const& ctx, task const& t, grade_options const& options);

} // namespace grader
