// A verdict: what grading one implementation of one task found. Plain data,
// produced by grading (grade.cpp, from a build and a run) and consumed by
// every renderer: the terminal report, --json, and the formats CI reads. The
// grading policy (which cases make a criterion pass, what the score is)
// lives here and nowhere else.
#pragma once

#include "catalog.hpp"

#include <optional>
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
  bool fatal = false;              // a signal the test framework caught before the process died
};

enum class case_status {
  passed,
  failed,      // an assertion failed
  crashed,     // ended by a signal
  exited,      // the test binary exited in the middle of the case (std::exit, _exit)
  timed_out,   // killed at its time limit
  skipped,     // not run: another case of its criterion timed out first
  unavailable, // not run here: it needs what this machine lacks (WORKBOOK_SKIP)
  not_run,     // not run: the run's time limit was reached
};

struct case_result {
  std::string name;
  std::vector<std::string> tags;
  case_status status = case_status::not_run;
  std::vector<failure> failures;
  int signal = 0;                  // crashed: the signal
  int exit_code = 0;               // exited: the code
  double seconds = 0;
  double limit_seconds = 0;        // the time limit it ran under
  std::string output_tail;         // crashed / exited / timed out: the last lines it printed
  std::string skipped_because;     // skipped: which case timed out
  std::string unavailable_because; // unavailable: the reason the test gave
  bool flaky = false;              // failed, then passed when run again (marking reruns what failed, once)
};

struct criterion_verdict {
  criterion what;
  bool passed = false;
  std::vector<case_result> cases;  // the test cases tagged with it
};

struct verdict {
  enum class outcome { graded, did_not_compile, did_not_run, workbook_broken };

  std::string task;                   // "task-05"
  std::string title;
  std::string variant;                // "stub", "reference" or "mutant-<name>"
  outcome result = outcome::graded;
  std::string detail;                 // compiler error / why it did not run; never empty unless graded
  std::string log;                    // where the full log is
  std::vector<criterion_verdict> criteria;
  std::vector<case_result> untagged;  // tests naming no criterion of the README
  double build_seconds = 0;
  double run_seconds = 0;
  std::string sandbox;                // what confined the run
};

// A criterion holds when none of its cases failed in any way and at least
// one of them ran and passed: a case that could not run here (unavailable)
// neither fails it nor proves it.
bool criterion_holds(std::vector<case_result> const& cases);

// The score, computed in one place for every rendering.
struct score {
  int criteria_passed = 0;            // of the required criteria
  int criteria_total = 0;
  int bonus_passed = 0;               // of the bonus criteria, which no pass depends on
  int bonus_total = 0;
  bool passed = false;                // graded, and every required criterion passes

  // Marks, for every format CI reads: a point per required criterion, and
  // one more per bonus criterion met (extra credit above the maximum).
  int points() const { return criteria_passed + bonus_passed; }
  int max_points() const { return criteria_total; }
};
score score_of(verdict const& v);

// What one case's outcome means, in a sentence; never empty.
std::string describe(case_result const& c);

// The words for a status and an outcome, as the JSON and other formats spell them.
char const* status_word(case_status s);
char const* outcome_word(verdict::outcome o);

} // namespace grader
