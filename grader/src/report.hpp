// Turning a run into a verdict per acceptance criterion, and showing it: to
// a student on a terminal, or as JSON for CI and scripts.
#pragma once

#include "build.hpp"
#include "catalog.hpp"
#include "run.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace grader {

struct criterion_verdict {
  criterion what;
  bool passed = false;
  std::vector<case_result> cases;     // the test cases tagged with it
};

struct verdict {
  enum class outcome { graded, did_not_compile, did_not_run, workbook_broken };
  outcome result = outcome::graded;
  std::string variant;                // "stub" or "reference"
  std::vector<criterion_verdict> criteria;
  std::vector<case_result> untagged;  // tests naming no criterion of the README
  std::string detail;                 // compiler error / why it did not run
  std::string log;                    // where the full log is

  int passed_count() const;
  bool all_passed() const;
};

// Groups test cases by their [ACn] tag and decides each criterion: it passes
// when it has at least one test and all of them passed.
verdict assess(task const& t, run_result const& run, std::string variant);

struct report_options {
  bool hints = true;
  bool transcripts = true;
  std::size_t max_failures_per_criterion = 2;
};

void print_verdict(task const& t, verdict const& v, report_options const& options);
nlohmann::json to_json(task const& t, verdict const& v);

// "tests: 12 cases, 3 failed" style one-liner for a run.
std::string summarize(verdict const& v);

} // namespace grader
