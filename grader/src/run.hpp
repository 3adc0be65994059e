// Running a task's test binary: in a child process group, with a time limit
// per test case and for the whole run, reading the event stream the harness's
// listener writes. A crash or hang ends one test case, not the run: the
// remaining cases run again in a fresh process.
#pragma once

#include "sandbox.hpp"

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace grader {

struct failure {
  std::string expr;
  std::string expanded;
  std::string message;
  std::vector<std::string> info;
  std::string file;
  int line = 0;
  std::string transcript;
};

enum class case_status { passed, failed, crashed, timed_out, not_run };

struct case_result {
  std::string name;
  std::vector<std::string> tags;
  case_status status = case_status::not_run;
  std::vector<failure> failures;
  int signal = 0;                  // for crashed
  double seconds = 0;
  std::string output_tail;         // for crashed / timed out: the last lines it printed
};

struct run_settings {
  std::filesystem::path executable;
  std::filesystem::path log;                       // the binary's full output
  std::chrono::milliseconds case_timeout{10000};   // one test case
  std::chrono::milliseconds total_timeout{120000}; // the whole run
  std::string only_tag;                            // e.g. "[AC3]": run only the cases carrying it
  sandbox_policy sandbox;
};

struct run_result {
  bool started = false;            // the binary could be listed and run at all
  std::string error;               // why not
  std::vector<case_result> cases;  // in declaration order
};

run_result run_tests(run_settings const& s);

// Folds one line of the event stream into the results; exposed for tests.
// `current` is the index of the case that started last, or -1.
void apply_event(std::string const& line, std::vector<case_result>& cases, int& current);

std::string signal_name(int sig);

// Catch2 test-spec escaping for a test name passed on the command line.
std::string escape_test_name(std::string const& name);

} // namespace grader
