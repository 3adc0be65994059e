#include "report_terminal.hpp"
#include "run.hpp"
#include "terminal.hpp"
#include "text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>

namespace grader {

namespace {

void print_failure(failure const& f, report_options const& options)
{
  std::string const where = f.file.empty() ? "" : fmt::format("{}:{}", std::filesystem::path(f.file).filename().string(), f.line);
  if (!f.expr.empty()) {
    std::printf("         %s  %s\n", term::dim(where).c_str(), f.expr.c_str());
    if (!f.expanded.empty() && f.expanded != f.expr)
      std::printf("           with expansion: %s\n", f.expanded.c_str());
  } else if (!f.message.empty()) {
    std::printf("         %s  %s\n", term::dim(where).c_str(), f.message.c_str());
  }
  if (!f.expr.empty() && !f.message.empty() && f.message != f.expr) std::printf("           %s\n", f.message.c_str());
  for (auto const& info : f.info) std::fputs(indent(info, "           ").c_str(), stdout);
  if (options.transcripts && !f.transcript.empty()) {
    std::printf("         %s\n", term::dim("the exchange (> sent, < received, by the side in brackets):").c_str());
    std::fputs(indent(last_lines(f.transcript, 40), "           ").c_str(), stdout);
  }
}

} // namespace

std::string summarize(verdict const& v)
{
  std::size_t cases = 0, failed = 0, unavailable = 0;
  for (auto const& cv : v.criteria)
    for (auto const& c : cv.cases) {
      ++cases;
      if (c.status == case_status::unavailable) ++unavailable;
      else if (c.status != case_status::passed) ++failed;
    }
  std::string out = fmt::format("{} test cases, {} not passing", cases, failed);
  if (unavailable) out += fmt::format(", {} not run here", unavailable);
  return out;
}

namespace {

// Why nothing could be graded: a compile error, or a binary that would not run.
void print_unrunnable(verdict const& v)
{
  bool const compile = v.result == verdict::outcome::did_not_compile;
  std::string const what = compile ? (v.variant == "stub" ? "your code does not compile" : "the " + v.variant + " does not compile")
                                   : "the tests could not run";
  std::printf("  %s %s\n%s", term::red(std::string(term::cross())).c_str(), term::red(what).c_str(), compile ? "\n" : "");
  std::fputs(indent(v.detail, "    ").c_str(), stdout);
  if (!v.log.empty()) std::printf("\n  full %slog: %s\n", compile ? "build " : "", v.log.c_str());
}

void print_failing_case(case_result const& c, report_options const& options)
{
  std::printf("       %s %s\n", term::yellow(describe(c)).c_str(), ("\"" + c.name + "\"").c_str());
  if (c.status == case_status::failed) {
    if (!c.failures.empty()) print_failure(c.failures.front(), options);
    return;
  }
  if (!c.failures.empty()) print_failure(c.failures.back(), options);
  if (!c.output_tail.empty()) {
    std::printf("         %s\n", term::dim("its last output:").c_str());
    std::fputs(indent(last_lines(c.output_tail, 12), "           ").c_str(), stdout);
  }
}

void print_criterion(task const& t, criterion_verdict const& cv, bool graded, report_options const& options)
{
  std::string const mark = cv.passed ? term::green(std::string(term::tick())) : term::red(std::string(term::cross()));
  std::string const bonus = cv.what.bonus ? term::dim(" (bonus)") : "";
  std::printf("  %s %s%s  %s\n", mark.c_str(), term::bold(cv.what.id).c_str(), bonus.c_str(), cv.what.text.c_str());
  if (!graded) return;
  if (cv.passed) {
    // Passing without a test that could not run here is worth a word.
    for (auto const& c : cv.cases)
      if (c.status == case_status::unavailable)
        std::printf("       %s %s\n", term::dim(describe(c)).c_str(), term::dim("\"" + c.name + "\"").c_str());
    return;
  }
  if (cv.cases.empty()) {
    std::printf("         %s\n", term::yellow("no test checks this criterion (a defect in the task: tell its author)").c_str());
    return;
  }
  std::size_t shown = 0;
  for (auto const& c : cv.cases) {
    if (c.status == case_status::passed) continue;
    if (shown++ == options.max_failures_per_criterion) {
      std::printf("         %s\n", term::dim("(more failing tests for this criterion: see --verbose)").c_str());
      break;
    }
    print_failing_case(c, options);
  }
  // One hint at a time: the first for this criterion here, the rest on request.
  auto const hints = t.hints_for(cv.what.id);
  if (options.hints && !hints.empty()) {
    std::printf("         %s %s\n", term::yellow("hint:").c_str(), hints.front().text.c_str());
    if (hints.size() > 1)
      std::printf("         %s\n", term::dim(fmt::format("({} more: grader hint {})", hints.size() - 1, t.id)).c_str());
  }
}

} // namespace

void print_verdict(task const& t, verdict const& v, report_options const& options)
{
  std::printf("%s · %s  %s\n\n", term::bold(t.id).c_str(), t.title.c_str(), term::dim("(" + v.variant + ")").c_str());
  if (v.result != verdict::outcome::graded) print_unrunnable(v);
  if (v.result == verdict::outcome::graded || v.result == verdict::outcome::did_not_run) {
    for (auto const& cv : v.criteria) print_criterion(t, cv, v.result == verdict::outcome::graded, options);
    for (auto const& c : v.untagged)
      std::printf("  %s untagged test \"%s\": %s\n", term::yellow("!").c_str(), c.name.c_str(), describe(c).c_str());
  }
  std::printf("\n");
  auto const sc = score_of(v);
  std::string const bonus =
      sc.bonus_total == 0 ? "" : fmt::format(" Bonus: {} of {}.", sc.bonus_passed, sc.bonus_total);
  if (sc.passed)
    std::printf("%s all %d criteria pass.%s\n", term::green(t.id).c_str(), sc.criteria_total, bonus.c_str());
  else
    std::printf("%s %d of %d criteria pass.%s\n", term::red(t.id).c_str(), sc.criteria_passed, sc.criteria_total,
                bonus.c_str());
}

} // namespace grader
