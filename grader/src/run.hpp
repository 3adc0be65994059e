// Running a task's test binary: in a child process group, with a time limit
// per test case and for the whole run, reading the event stream the harness
// writes (workbook/events.hpp). A crash or hang ends one test case, not the
// run: what is left runs again in a fresh process. Once a case of a
// criterion has timed out, the criterion's other cases are skipped, so a
// hanging stub gets its verdict in seconds, not a minute.
#pragma once

#include "sandbox.hpp"
#include "verdict.hpp"

#include <workbook/events.hpp>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace grader {

struct run_settings {
  std::filesystem::path executable;
  std::filesystem::path log;                       // the binary's full output
  std::chrono::milliseconds case_timeout{10000};   // a case with no limit of its own
  std::map<std::string, std::chrono::milliseconds> case_limits;  // from the task's limits.json
  std::chrono::milliseconds total_timeout{120000}; // the whole run
  std::string only_tag;                            // e.g. "[AC3]": run only the cases carrying it
  std::optional<unsigned> random_seed;             // cases in random order (Catch2's --order rand --rng-seed)
  std::vector<std::string> only_cases;             // run only the cases of these names (a rerun)
  sandbox_policy sandbox;

  std::chrono::milliseconds limit_for(std::string const& case_name) const;
};

struct run_result {
  bool started = false;            // the binary could be listed and run at all
  std::string error;               // why not
  std::vector<case_result> cases;  // in declaration order
  double seconds = 0;
};

run_result run_tests(run_settings const& s);

// Folds one event into the results; exposed for tests. `current` is the
// index of the case that started last, or -1.
void apply_event(workbook::events::event const& e, std::vector<case_result>& cases, int& current);

std::string signal_name(int sig);

// Catch2 test-spec escaping for a test name passed on the command line.
std::string escape_test_name(std::string const& name);

} // namespace grader
