// Grading one implementation of one task: build it, run its tests, assess
// them into a verdict.
#pragma once

#include "catalog.hpp"
#include "paths.hpp"
#include "run.hpp"
#include "sandbox.hpp"
#include "verdict.hpp"

#include <optional>
#include <string>
#include <vector>

namespace grader {

// Groups test cases by their [ACn] tag and decides each criterion: it passes
// when it has at least one test and all of them passed.
verdict assess(task const& t, run_result const& run, std::string variant);

struct grade_options {
  bool build_first = true;               // false when the caller built
  std::string only_tag;                  // "[AC3]": only that criterion's cases (proving a mutant fails it)
  std::optional<unsigned> random_seed;   // the cases in random order, reproducibly (finding order dependence)
  std::vector<std::string> only_cases;   // only the cases of these names (a rerun of those that failed)
  sandbox_policy sandbox;                // what confines the test binary, and the student's compiles (marking)
};

// variant: "stub", "reference" or "mutant-<name>".
verdict grade(workbook_paths const& paths, task const& t, std::string const& variant, grade_options const& options = {});

} // namespace grader
