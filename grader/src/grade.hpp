// Grading one implementation of one task: build it, run its tests, assess
// them into a verdict.
#pragma once

#include "catalog.hpp"
#include "paths.hpp"
#include "run.hpp"
#include "verdict.hpp"

#include <string>

namespace grader {

// Groups test cases by their [ACn] tag and decides each criterion: it passes
// when it has at least one test and all of them passed.
verdict assess(task const& t, run_result const& run, std::string variant);

// variant: "stub", "reference" or "mutant-<name>". `build_first` false when
// the caller built. `only_tag` ("[AC3]"): run only that criterion's cases
// (the others are left out); selftest uses it to prove a mutant fails it.
verdict grade(workbook_paths const& paths, task const& t, std::string const& variant, bool build_first = true,
              std::string const& only_tag = {});

} // namespace grader
