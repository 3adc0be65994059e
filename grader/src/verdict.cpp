#include "verdict.hpp"
#include "run.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace grader {

score score_of(verdict const& v)
{
  score s;
  for (auto const& c : v.criteria) {
    (c.what.bonus ? s.bonus_total : s.criteria_total) += 1;
    (c.what.bonus ? s.bonus_passed : s.criteria_passed) += c.passed ? 1 : 0;
  }
  s.passed = v.result == verdict::outcome::graded && s.criteria_total > 0 && s.criteria_passed == s.criteria_total;
  return s;
}

bool criterion_holds(std::vector<case_result> const& cases)
{
  auto const is = [](case_status s) { return [s](case_result const& c) { return c.status == s; }; };
  return std::any_of(cases.begin(), cases.end(), is(case_status::passed)) &&
         std::all_of(cases.begin(), cases.end(), [](case_result const& c) {
           return c.status == case_status::passed || c.status == case_status::unavailable;
         });
}

std::string describe(case_result const& c)
{
  switch (c.status) {
  case case_status::passed: return "passed";
  case case_status::failed:
    return c.failures.empty() ? "failed" : fmt::format("failed: {} assertion{} did not hold", c.failures.size(),
                                                       c.failures.size() == 1 ? "" : "s");
  case case_status::crashed: return "crashed with " + signal_name(c.signal) + " while this test ran";
  case case_status::exited:
    return fmt::format("the test binary exited with code {} while this test ran "
                       "(std::exit, _exit or quick_exit in the code under test?)",
                       c.exit_code);
  case case_status::timed_out:
    return fmt::format("timed out: still running after its {:.1f} s limit (killed)", c.limit_seconds);
  case case_status::skipped:
    return "not run: \"" + c.skipped_because + "\", a test of the same criterion, timed out first; fix that one";
  case case_status::not_run: return "not run: the whole run's time limit was reached first";
  case case_status::unavailable: return "not run here: " + c.unavailable_because;
  }
  return "unknown";
}

char const* status_word(case_status s)
{
  switch (s) {
  case case_status::passed: return "passed";
  case case_status::failed: return "failed";
  case case_status::crashed: return "crashed";
  case case_status::exited: return "exited";
  case case_status::timed_out: return "timed_out";
  case case_status::skipped: return "skipped";
  case case_status::not_run: return "not_run";
  case case_status::unavailable: return "unavailable";
  }
  return "unknown";
}

char const* outcome_word(verdict::outcome o)
{
  switch (o) {
  case verdict::outcome::graded: return "graded";
  case verdict::outcome::did_not_compile: return "did_not_compile";
  case verdict::outcome::did_not_run: return "did_not_run";
  case verdict::outcome::workbook_broken: return "workbook_broken";
  }
  return "unknown";
}

} // namespace grader
