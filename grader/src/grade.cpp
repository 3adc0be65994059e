#include "grade.hpp"
#include "text.hpp"

#include <algorithm>
#include <chrono>

namespace grader {

namespace {

double seconds_since(std::chrono::steady_clock::time_point start)
{
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// A failed build: the code's fault when it failed inside this task's own
// targets, the workbook's otherwise (the harness, CMake).
verdict build_failure(task const& t, std::string const& variant, build_result const& b)
{
  verdict v = assess(t, {}, variant);
  bool const task_code = std::any_of(b.failed_objects.begin(), b.failed_objects.end(),
                                     [&](std::string const& obj) { return obj.find(t.id + "-") != std::string::npos; });
  v.result = task_code ? verdict::outcome::did_not_compile : verdict::outcome::workbook_broken;
  v.detail = b.first_error.empty() ? "the build failed; see the log" : b.first_error;
  v.log = b.log.string();
  return v;
}

} // namespace

verdict assess(task const& t, run_result const& run, std::string variant)
{
  verdict v;
  v.task = t.id;
  v.title = t.title;
  v.variant = std::move(variant);
  v.run_seconds = run.seconds;
  if (!run.started) {
    v.result = verdict::outcome::did_not_run;
    v.detail = run.error.empty() ? "the test binary did not run" : run.error;
  }
  for (auto const& c : t.criteria) v.criteria.push_back({c, false, {}});
  for (auto const& c : run.cases) {
    bool placed = false;
    for (auto const& tag : c.tags)
      for (auto& cv : v.criteria)
        if (same_tag(tag, cv.what.id)) {
          cv.cases.push_back(c);
          placed = true;
        }
    if (!placed) v.untagged.push_back(c);
  }
  for (auto& cv : v.criteria)
    cv.passed = v.result == verdict::outcome::graded && criterion_holds(cv.cases);
  return v;
}

verdict grade(workbook_paths const& paths, task const& t, std::string const& variant, grade_options const& options)
{
  std::string const target = t.id + "-" + variant;
  auto const build_start = std::chrono::steady_clock::now();
  if (options.build_first) {
    auto settings = paths.build();
    settings.env = student_compile_env(options.sandbox, settings.build_dir);
    auto const b = build(settings, {target + "-all"}, target);
    if (!b.ok) return build_failure(t, variant, b);
  }
  double const build_seconds = seconds_since(build_start);
  run_settings s;
  s.executable = paths.executable(t.id, variant);
  s.log = paths.build_dir / "grader-logs" / (target + ".log");
  s.only_tag = options.only_tag;
  s.random_seed = options.random_seed;
  s.only_cases = options.only_cases;
  s.sandbox = options.sandbox;
  s.case_limits = t.case_limits;
  auto const run = run_tests(s);
  verdict v = assess(t, run, variant);
  v.log = s.log.string();
  v.build_seconds = build_seconds;
  v.sandbox = describe(s.sandbox, s.executable);
  return v;
}

} // namespace grader
