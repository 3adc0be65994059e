// `grader mark`: a submission graded unattended, against pristine tests
// (submission.hpp), one verdict per task, rendered in the format the
// course's CI reads (mark_formats.hpp). Marking never stops at a task that
// does not compile, crashes or hangs: that task's verdict says so and the
// next one is marked.
#pragma once

#include "catalog.hpp"
#include "submission.hpp"
#include "verdict.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace grader {

struct mark_options {
  std::filesystem::path submission;
  std::vector<std::string> tasks;   // ids; empty with all: every task
  bool all = false;
  // One marking, rendered once per format into the output of the same
  // position: --format junit -o a.xml --format gradescope -o b.json.
  std::vector<std::string> formats; // exercism | gradescope | junit | json (none given: json)
  std::vector<std::filesystem::path> outputs;
};

struct marking {
  std::filesystem::path submission;
  workspace ws;
  std::vector<verdict> verdicts;    // one per task, in the catalog's order
  double seconds = 0;
};

// A failed case is run once more; one that passes then counts as passed and
// is flagged flaky, so a nondeterministic test never lowers a mark on a
// regrade, and the flag tells the instructor which test to fix.
void rerun_failures_once(verdict& v, std::vector<case_result> const& rerun);

} // namespace grader
