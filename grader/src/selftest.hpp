// `grader selftest` and `grader check`: the workbook proves itself.
// Everything builds; for every task the README is sound, every criterion has a test, the reference passes
// every criterion and the untouched stub fails every one; the grader's own
// unit tests pass. Ends with the line "N passed, M failed". `check` is the
// same for the tasks named (task_checks.hpp), without the grader's tests.
#pragma once

#include "catalog.hpp"
#include "paths.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace grader {

struct selftest_options {
  std::vector<std::string> only;   // task ids; empty: all
  bool verbose = false;
  bool quick = false;              // skip the end-to-end run (about a minute)
  bool record_limits = false;      // write each task's test/limits.json from the reference's times
  int repeat = 0;                  // reference runs per task (0: the verb's default)
  std::filesystem::path report;    // where to write the checks as JSON; empty: nowhere
  bool own_tests = true;           // selftest: the grader's and harness's own tests too; check: tasks only
};

int selftest(workbook_paths const& paths, catalog const& cat, selftest_options const& options);

} // namespace grader
