#include "selftest.hpp"
#include "grade.hpp"
#include "report_terminal.hpp"
#include "terminal.hpp"
#include "text.hpp"
#include "verbs.hpp"

#include <workbook/process.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <map>
#include <cstdio>

namespace grader {

namespace {

class tally {
public:
  void check(bool ok, std::string const& what, std::string const& detail = {})
  {
    (ok ? passed_ : failed_)++;
    std::printf("  %s %s\n", ok ? term::green(std::string(term::tick())).c_str()
                                : term::red(std::string(term::cross())).c_str(),
                what.c_str());
    if (!ok && !detail.empty()) std::fputs(indent(detail, "      ").c_str(), stdout);
    std::fflush(stdout);
  }
  int passed() const { return passed_; }
  int failed() const { return failed_; }

private:
  int passed_ = 0;
  int failed_ = 0;
};

std::string failing_cases(verdict const& v)
{
  std::string out;
  for (auto const& cv : v.criteria)
    for (auto const& c : cv.cases)
      if (c.status != case_status::passed && c.status != case_status::unavailable) {
        out += cv.what.id + ": \"" + c.name + "\"";
        if (!c.failures.empty()) out += " at " + std::filesystem::path(c.failures.front().file).filename().string() + ":" + std::to_string(c.failures.front().line) + " " + c.failures.front().expr;
        out += "\n";
      }
  return out;
}

// Why a mutant is not caught by the criterion it names; empty when it is.
std::string mutant_escapes(workbook_paths const& paths, task const& t, mutant const& m, bool built)
{
  std::string const variant = "mutant-" + m.name;
  verdict const v = grade(paths, t, variant, !built, "[" + m.criterion + "]");
  std::string const who = "mutant " + m.name + " (" + m.criterion + ": " + m.mistake + ")";
  if (v.result == verdict::outcome::did_not_compile || v.result == verdict::outcome::workbook_broken)
    return who + " does not build:\n" + indent(v.detail, "  ") + "fix: " + std::filesystem::relative(m.patch, paths.root).string() + "\n";
  if (v.result != verdict::outcome::graded)
    return who + " did not run: " + v.detail + "\n";
  for (auto const& cv : v.criteria)
    if (cv.what.id == m.criterion) {
      if (!cv.passed) return {};
      return who + " survives: every test of " + m.criterion + " passes. Strengthen " + m.criterion +
             "'s tests until one fails; never weaken the mutant.\n";
    }
  return who + " names " + m.criterion + ", which has no tests\n";
}

void check_mutants(tally& t, workbook_paths const& paths, task const& task)
{
  std::vector<mutant const*> by_tests;
  std::size_t tsan_only = 0;
  for (auto const& m : task.mutants) {
    if (m.caught_by == "tsan") ++tsan_only;
    else by_tests.push_back(&m);
  }
  term::progress("building " + std::to_string(task.mutants.size()) + " mutants of " + task.id + "…");
  // One build for all of them; when it fails, each is built (and named) alone.
  bool const built = build(paths.build(), {task.id + "-mutants"}, task.id + " mutants").ok;
  std::string escaped;
  for (std::size_t i = 0; i < by_tests.size(); ++i) {
    term::progress(fmt::format("running {} mutant {}/{}: {}…", task.id, i + 1, by_tests.size(), by_tests[i]->name));
    escaped += mutant_escapes(paths, task, *by_tests[i], built);
  }
  term::progress_done();
  std::string what = fmt::format("{} mutant{}, each caught by the criterion it names", by_tests.size(), by_tests.size() == 1 ? "" : "s");
  if (tsan_only) what += fmt::format(" (+{} caught by ThreadSanitizer: ctest --preset tsan -L tsan-mutant)", tsan_only);
  if (by_tests.size() < 6)
    escaped += fmt::format("{} has {} mutants caught by its tests; ship at least 6 plausible student mistakes under "
                           "solutions/{}/mutants/ (docs/authoring.md, 'Mutants')\n", task.id, by_tests.size(), task.id);
  t.check(escaped.empty(), what, escaped);
}


// The reference's time per case against the limits the stub will run under:
// written with --record-limits, otherwise checked for room to spare.
void check_limits(tally& t, task const& task, verdict const& ref, bool record)
{
  std::map<std::string, double> seconds;
  for (auto const& cv : ref.criteria)
    for (auto const& c : cv.cases) seconds[c.name] = c.seconds;
  if (record) {
    nlohmann::json cases = nlohmann::json::object();
    for (auto const& [name, s] : seconds) cases[name] = limit_from_reference(s).count();
    nlohmann::json const j{{"version", 1},
                           {"note", fmt::format("per test case, in ms: {}x what the reference took, at least {} ms "
                                                "(grader selftest {} --record-limits)",
                                                limit_factor, limit_floor.count(), task.id)},
                           {"cases", cases}};
    std::ofstream out(limits_file(task));
    out << j.dump(2) << "\n";
    out.close();
    auto const shown = limits_file(task).lexically_relative(task.exercise_dir.parent_path().parent_path());
    t.check(out.good(), "recorded the reference's time limits in " + shown.string(),
            "could not write " + limits_file(task).string() + "\n");
    return;
  }
  std::string tight;
  for (auto const& [name, s] : seconds) {
    auto const it = task.case_limits.find(name);
    if (it == task.case_limits.end()) continue;
    double const limit = std::chrono::duration<double>(it->second).count();
    if (s > limit / 2)
      tight += fmt::format("\"{}\" took {:.2f} s of its {:.1f} s limit: record the limits again "
                           "(grader selftest {} --record-limits)\n", name, s, limit, task.id);
  }
  std::size_t const missing = std::count_if(seconds.begin(), seconds.end(),
                                            [&](auto const& e) { return !task.case_limits.contains(e.first); });
  t.check(tight.empty(),
          missing == 0 ? "every case of the reference runs in under half its time limit"
                       : fmt::format("the reference runs within its limits ({} case{} without one: the {} s default)",
                                     missing, missing == 1 ? "" : "s",
                                     std::chrono::duration_cast<std::chrono::seconds>(run_settings{}.case_timeout).count()),
          tight);
}

void check_reference_and_stub(tally& t, workbook_paths const& paths, task const& task, selftest_options const& options)
{
  term::progress("running " + task.id + " against the reference…");
  auto const ref = grade(paths, task, "reference", false);
  term::progress("running " + task.id + " against the stub…");
  auto const stub = grade(paths, task, "stub", false);
  term::progress_done();

  std::string untested;
  for (auto const& cv : ref.criteria)
    if (cv.cases.empty()) untested += cv.what.id + " has no test tagged [" + cv.what.id + "]\n";
  for (auto const& c : ref.untagged) untested += "test \"" + c.name + "\" is tagged with no criterion of the README\n";
  t.check(untested.empty(), "every criterion has a test, and every test a criterion", untested);

  // The reference meets the bonus criteria too: they are part of what it teaches.
  auto const rs = score_of(ref);
  bool const reference_passes = rs.passed && rs.bonus_passed == rs.bonus_total;
  t.check(reference_passes, fmt::format("the reference passes every criterion ({}/{})", rs.criteria_passed + rs.bonus_passed,
                                        rs.criteria_total + rs.bonus_total),
          ref.result == verdict::outcome::graded ? failing_cases(ref) : ref.detail);
  if (reference_passes) check_limits(t, task, ref, options.record_limits);

  std::string stub_passes;
  for (auto const& cv : stub.criteria)
    if (cv.passed) stub_passes += cv.what.id + " passes against the untouched stub: its tests cannot fail\n";
  if (stub.result != verdict::outcome::graded) stub_passes += "the stub did not build or run: " + stub.detail + "\n";
  auto const ss = score_of(stub);
  int const criteria = ss.criteria_total + ss.bonus_total;
  t.check(stub_passes.empty() && ss.criteria_total > 0,
          fmt::format("the stub fails every criterion ({}/{} failing, in {:.1f} s)",
                      criteria - ss.criteria_passed - ss.bonus_passed, criteria, stub.run_seconds),
          stub_passes);
  if (options.verbose)
    std::fputs(indent(summarize(ref) + " (reference)\n" + summarize(stub) + " (stub)\n", "      ").c_str(), stdout);
}

void check_task(tally& t, workbook_paths const& paths, task const& task, selftest_options const& options)
{
  std::printf("\n%s\n", term::bold(task.id + " · " + task.title).c_str());
  std::string problems;
  for (auto const& p : task.problems) problems += p.file.string() + ": " + p.what + " (fix: " + p.fix + ")\n";
  t.check(task.sound(), "the task directory is complete and its README well formed", problems);
  if (!task.sound()) return;
  check_reference_and_stub(t, paths, task, options);
  check_mutants(t, paths, task);
}

// A test binary of the grader's own, every case passing.
void check_own_tests(tally& t, workbook_paths const& paths, std::filesystem::path const& binary, std::string const& what)
{
  run_settings s;
  s.executable = paths.build_dir / binary;
  s.log = paths.build_dir / "grader-logs" / (binary.filename().string() + ".log");
  s.case_timeout = std::chrono::minutes(3);   // the scenarios build and grade six tasks in one case
  auto const own = run_tests(s);
  std::string failed = own.started ? "" : own.error;
  std::size_t passed_cases = 0;
  for (auto const& c : own.cases) {
    if (c.status == case_status::passed) ++passed_cases;
    else failed += "\"" + c.name + "\": " + describe(c) + "\n";
  }
  t.check(own.started && failed.empty(), fmt::format("{} ({}/{} cases)", what, passed_cases, own.cases.size()), failed);
}

// The verdicts grader-scenarios kept (every status a case can have) against
// the published shape of --json.
void check_schema(tally& t, workbook_paths const& paths)
{
  auto const r = workbook::run_process({(paths.root / "grader" / "test" / "validate_verdicts.py").string(),
                                        (paths.build_dir / "grader-logs" / "verdicts").string()},
                                       std::chrono::minutes(1));
  t.check(r.exit_code == 0 && !r.timed_out, "every scenario's --json validates against docs/verdict.schema.json",
          last_lines(r.output, 20));
}

void check_end_to_end(tally& t, workbook_paths const& paths)
{
  // The student's whole flow, driven through bin/grader in a scratch copy.
  term::progress("end to end: a student's session with task-01, in a scratch copy (about a minute)…");
  auto const e2e = workbook::run_process({(paths.root / "grader" / "test" / "e2e.sh").string()}, std::chrono::minutes(15));
  term::progress_done();
  t.check(e2e.exit_code == 0 && !e2e.timed_out,
          "end to end: list, fail with hints, fix, self-grade capped then earned, tally, reveal, watch, reset",
          e2e.timed_out ? "timed out after 15 minutes\n" + last_lines(e2e.output, 30) : last_lines(e2e.output, 30));
}

// Proving some tasks builds only them (and the grader's tests), so a task
// half-way through an edit elsewhere cannot fail this one's proof.
bool check_build(tally& t, workbook_paths const& paths, selftest_options const& options)
{
  std::vector<std::string> targets;
  if (!options.only.empty()) {
    targets = options.only;
    targets.insert(targets.end(), {"grader-tests", "harness-tests", "grader-scenarios"});
  }
  std::string const scope = targets.empty() ? "everything" : fmt::format("{}", fmt::join(options.only, ", "));
  std::printf("%s\n", term::bold("Building " + scope).c_str());
  auto const b = build(paths.build(), targets, "the workbook");
  t.check(b.ok, targets.empty() ? "the workbook builds" : scope + " and the grader's tests build",
          b.ok ? "" : b.first_error + "full log: " + b.log.string() + "\n");
  return b.ok;
}

} // namespace

int selftest(workbook_paths const& paths, catalog const& cat, selftest_options const& options)
{
  tally t;
  if (check_build(t, paths, options)) {
    for (auto const& task : cat.tasks())
      if (options.only.empty() || std::find(options.only.begin(), options.only.end(), task.id) != options.only.end())
        check_task(t, paths, task, options);
    std::printf("\n%s\n", term::bold("The grader's own tests").c_str());
    check_own_tests(t, paths, "grader/grader-tests", "grader unit tests");
    check_own_tests(t, paths, "harness/harness-tests", "harness unit tests (URLs, misbehaving ports, heap counter, skips)");
    check_own_tests(t, paths, "grader/grader-scenarios", "the grader on broken tasks: golden verdicts");
    check_schema(t, paths);
    if (!options.quick && options.only.empty()) check_end_to_end(t, paths);
  }
  std::printf("\n%d passed, %d failed\n", t.passed(), t.failed());
  return t.failed() == 0 ? 0 : 1;
}

int cmd_selftest(context const& ctx, task const*, verb_options const& options)
{
  return selftest(ctx.paths, ctx.cat, options.selftest);
}

} // namespace grader
