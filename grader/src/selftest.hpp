// `grader selftest`: the workbook proves itself. Everything builds; for every
// task the README is sound, every criterion has a test, the reference passes
// every criterion and the untouched stub fails every one; the grader's own
// unit tests pass. Ends with the line "N passed, M failed".
#pragma once

#include "catalog.hpp"
#include "paths.hpp"

namespace grader {

struct selftest_options {
  std::vector<std::string> only;   // task ids; empty: all
  bool verbose = false;
  bool quick = false;              // skip the end-to-end run (about a minute)
  bool record_limits = false;      // write each task's test/limits.json from the reference's times
};

int selftest(workbook_paths const& paths, catalog const& cat, selftest_options const& options);

} // namespace grader
