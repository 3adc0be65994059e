#include "report.hpp"
#include "terminal.hpp"
#include "text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>

namespace grader {

namespace {

std::string upper(std::string s)
{
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

std::string status_text(case_result const& c)
{
  switch (c.status) {
  case case_status::passed: return "passed";
  case case_status::failed: return "failed";
  case case_status::crashed:
    return c.signal ? "crashed with " + signal_name(c.signal) : "exited while running";
  case case_status::timed_out: return fmt::format("timed out after {:.0f} s (killed)", c.seconds);
  case case_status::not_run: return "did not run (the run's time limit was reached)";
  }
  return "?";
}

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

int verdict::passed_count() const
{
  return static_cast<int>(std::count_if(criteria.begin(), criteria.end(), [](auto const& c) { return c.passed; }));
}

bool verdict::all_passed() const
{
  return result == outcome::graded && !criteria.empty() && passed_count() == static_cast<int>(criteria.size());
}

verdict assess(task const& t, run_result const& run, std::string variant)
{
  verdict v;
  v.variant = std::move(variant);
  if (!run.started) {
    v.result = verdict::outcome::did_not_run;
    v.detail = run.error;
  }
  for (auto const& c : t.criteria) v.criteria.push_back({c, false, {}});
  for (auto const& c : run.cases) {
    bool placed = false;
    for (auto const& tag : c.tags)
      for (auto& cv : v.criteria)
        if (upper(tag) == upper(cv.what.id)) {
          cv.cases.push_back(c);
          placed = true;
        }
    if (!placed) v.untagged.push_back(c);
  }
  for (auto& cv : v.criteria)
    cv.passed = v.result == verdict::outcome::graded && !cv.cases.empty() &&
                std::all_of(cv.cases.begin(), cv.cases.end(),
                            [](auto const& c) { return c.status == case_status::passed; });
  return v;
}

std::string summarize(verdict const& v)
{
  std::size_t cases = 0, failed = 0;
  for (auto const& cv : v.criteria)
    for (auto const& c : cv.cases) {
      ++cases;
      if (c.status != case_status::passed) ++failed;
    }
  return fmt::format("{} test cases, {} not passing", cases, failed);
}

void print_verdict(task const& t, verdict const& v, report_options const& options)
{
  std::printf("%s · %s  %s\n\n", term::bold(t.id).c_str(), t.title.c_str(),
              term::dim("(" + v.variant + ")").c_str());

  if (v.result == verdict::outcome::did_not_compile) {
    std::printf("  %s %s\n\n", term::red(std::string(term::cross())).c_str(),
                term::red(v.variant == "stub" ? "your code does not compile" : "the reference does not compile").c_str());
    std::fputs(indent(v.detail, "    ").c_str(), stdout);
    std::printf("\n  full build log: %s\n", v.log.c_str());
  } else if (v.result == verdict::outcome::did_not_run || v.result == verdict::outcome::workbook_broken) {
    std::printf("  %s %s\n", term::red(std::string(term::cross())).c_str(),
                term::red("the tests could not run").c_str());
    std::fputs(indent(v.detail, "    ").c_str(), stdout);
    if (!v.log.empty()) std::printf("\n  full log: %s\n", v.log.c_str());
  }

  if (v.result == verdict::outcome::graded || v.result == verdict::outcome::did_not_run) {
    for (auto const& cv : v.criteria) {
      std::string const mark = cv.passed ? term::green(std::string(term::tick())) : term::red(std::string(term::cross()));
      std::printf("  %s %s  %s\n", mark.c_str(), term::bold(cv.what.id).c_str(), cv.what.text.c_str());
      if (cv.passed || v.result != verdict::outcome::graded) continue;
      if (cv.cases.empty()) {
        std::printf("         %s\n", term::yellow("no test checks this criterion (a defect in the task: tell its author)").c_str());
        continue;
      }
      std::size_t shown = 0;
      for (auto const& c : cv.cases) {
        if (c.status == case_status::passed) continue;
        if (shown++ == options.max_failures_per_criterion) {
          std::printf("         %s\n", term::dim("(more failing tests for this criterion: see --verbose)").c_str());
          break;
        }
        std::printf("       %s %s\n", term::yellow(status_text(c)).c_str(), ("\"" + c.name + "\"").c_str());
        if (c.status == case_status::failed && !c.failures.empty()) {
          print_failure(c.failures.front(), options);
        } else if (c.status == case_status::crashed || c.status == case_status::timed_out) {
          if (!c.failures.empty()) print_failure(c.failures.back(), options);
          if (!c.output_tail.empty()) {
            std::printf("         %s\n", term::dim("its last output:").c_str());
            std::fputs(indent(last_lines(c.output_tail, 12), "           ").c_str(), stdout);
          }
        }
      }
      // One hint at a time: the first for this criterion here, the rest on request.
      auto const hints = t.hints_for(cv.what.id);
      if (options.hints && !hints.empty()) {
        std::printf("         %s %s\n", term::yellow("hint:").c_str(), hints.front().text.c_str());
        if (hints.size() > 1)
          std::printf("         %s\n", term::dim(fmt::format("({} more: grader hint {})", hints.size() - 1, t.id)).c_str());
      }
    }
    for (auto const& c : v.untagged)
      std::printf("  %s untagged test \"%s\": %s\n", term::yellow("!").c_str(), c.name.c_str(), status_text(c).c_str());
  }

  std::printf("\n");
  int const total = static_cast<int>(v.criteria.size());
  if (v.all_passed())
    std::printf("%s all %d criteria pass.\n", term::green(t.id).c_str(), total);
  else if (v.result == verdict::outcome::graded)
    std::printf("%s %d of %d criteria pass.\n", term::red(t.id).c_str(), v.passed_count(), total);
  else
    std::printf("%s 0 of %d criteria pass.\n", term::red(t.id).c_str(), total);
}

nlohmann::json to_json(task const& t, verdict const& v)
{
  auto status_word = [](case_status s) {
    switch (s) {
    case case_status::passed: return "passed";
    case case_status::failed: return "failed";
    case case_status::crashed: return "crashed";
    case case_status::timed_out: return "timed_out";
    case case_status::not_run: return "not_run";
    }
    return "unknown";
  };
  char const* outcome = v.result == verdict::outcome::graded            ? "graded"
                        : v.result == verdict::outcome::did_not_compile ? "did_not_compile"
                        : v.result == verdict::outcome::did_not_run     ? "did_not_run"
                                                                        : "workbook_broken";
  nlohmann::json j{{"task", t.id}, {"title", t.title}, {"variant", v.variant}, {"outcome", outcome},
                   {"passed", v.all_passed()}, {"criteria_passed", v.passed_count()},
                   {"criteria_total", v.criteria.size()}, {"detail", v.detail}, {"log", v.log}};
  j["criteria"] = nlohmann::json::array();
  for (auto const& cv : v.criteria) {
    nlohmann::json tests = nlohmann::json::array();
    for (auto const& c : cv.cases) {
      nlohmann::json failures = nlohmann::json::array();
      for (auto const& f : c.failures)
        failures.push_back({{"expr", f.expr}, {"expanded", f.expanded}, {"message", f.message},
                            {"info", f.info}, {"file", f.file}, {"line", f.line}, {"transcript", f.transcript}});
      tests.push_back({{"name", c.name}, {"status", status_word(c.status)}, {"signal", c.signal},
                       {"seconds", c.seconds}, {"failures", failures}});
    }
    j["criteria"].push_back({{"id", cv.what.id}, {"text", cv.what.text}, {"passed", cv.passed}, {"tests", tests}});
  }
  return j;
}

} // namespace grader
