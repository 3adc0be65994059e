#include "selftest.hpp"
#include "task_checks.hpp"
#include "edition.hpp"
#include "files.hpp"
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

// A test binary of the grader's own, every case passing.
void check_own_tests(check_log& t, workbook_paths const& paths, std::filesystem::path const& binary, std::string const& what)
{
  run_settings s;
  s.executable = paths.build_dir / binary;
  s.log = paths.build_dir / "grader-logs" / (binary.filename().string() + ".log");
  s.case_timeout = std::chrono::minutes(5);   // the scenarios build and grade seven tasks in one case
  s.total_timeout = std::chrono::minutes(10);
  auto const own = run_tests(s);
  std::string failed = own.started ? "" : own.error;
  std::size_t passed_cases = 0;
  for (auto const& c : own.cases) {
    if (c.status == case_status::passed) ++passed_cases;
    else failed += "\"" + c.name + "\": " + describe(c) + "\n";
  }
  t.check(binary.filename().string(), own.started && failed.empty(), fmt::format("{} ({}/{} cases)", what, passed_cases, own.cases.size()), failed);
}

// The verdicts grader-scenarios kept (every status a case can have) against
// the published shape of --json, and the golden markings against the shapes
// Exercism, Gradescope and JUnit readers expect.
void check_schema(check_log& t, workbook_paths const& paths)
{
  auto const r = workbook::run_process({(paths.root / "grader" / "test" / "validate_verdicts.py").string(),
                                        (paths.build_dir / "grader-logs" / "verdicts").string()},
                                       std::chrono::minutes(1));
  t.check("schema", r.exit_code == 0 && !r.timed_out, "every scenario's --json validates against docs/verdict.schema.json",
          last_lines(r.output, 20));
  auto const m = workbook::run_process({(paths.root / "grader" / "test" / "validate_marking.py").string()},
                                       std::chrono::minutes(1));
  t.check("marking-schemas", m.exit_code == 0 && !m.timed_out,
          "grader mark's Exercism, Gradescope and JUnit renderings validate against docs/schemas/, which refuse broken copies",
          last_lines(m.output, 20));
}

// Scripts that drive bin/grader as its users do (grader/test/), each in a
// workspace of its own.
struct script_check {
  char const* id;
  char const* script;
  char const* doing;   // the progress line while it runs
  char const* what;    // the check, as reported
  int minutes = 15;    // its time limit, above its cold run on two cores
};
constexpr script_check script_checks[] = {
    {"end-to-end", "e2e.sh", "end to end: a student's session with task-01, in a scratch copy (about a minute)…",
     "end to end: list, fail with hints, fix, self-grade capped then earned, tally, reveal, watch, reset"},
    {"mark-corpus", "mark_corpus.sh", "marking task 07's reference, its stub and 17 misbehaving submissions (about four minutes)…",
     "marking: full marks for the reference, none for the stub, the right verdict for each misbehaving submission "
     "(crash, hang, bound port, memory, child process, fork bomb, flood, fake results, edited tests, the references "
     "read, included or embedded), all under bubblewrap"},
    {"export", "export.sh", "a student edition: exported, then built and graded on its own (about four minutes)…",
     "export: the student edition holds no reference, builds and grades task-01 on its own, refuses what needs "
     "the reference, and task-08 skips what needs its withheld handlers"},
    {"ci-examples", "ci_examples.py", "the example CI files of docs/ci/, run locally for task-01…",
     "docs/ci/: the GitHub Classroom workflow's and the GitLab job's commands, run locally, write every rendering "
     "where the files upload it, valid, with the outputs Classroom reads; their matrices list every task"},
    {"mark-references", "mark_references.sh",
     "grader mark --all on the reference edition and on the untouched stubs (about 4 minutes; 12 the first time, "
     "which builds every task's tests in build/mark)…",
     "marking every task as a submission: the references copied over the stubs get full marks under the marking "
     "sandbox, the untouched stubs none, and both results files are well formed",
     45},
    {"serve-browser", "serve_browser.py",
     "grader serve in headless Chromium, on a scratch copy (about three minutes the first time)…",
     "grader serve in a real browser: the map, task 01's page, a save graded again and pushed by Server-Sent "
     "Events, a hint recorded in the progress file; no token, a foreign Host and path traversal refused",
     20},
};

// A script that cannot run here (Chromium not installed) exits with
// CTest's skip code and says why on its last line.
constexpr int script_skipped = 77;

void check_scripts(check_log& t, workbook_paths const& paths)
{
  for (auto const& c : script_checks) {
    term::progress(c.doing);
    auto const r = workbook::run_process({(paths.root / "grader" / "test" / c.script).string()}, std::chrono::minutes(c.minutes));
    term::progress_done();
    if (r.exit_code == script_skipped && !r.timed_out) {
      t.check(c.id, true, fmt::format("{} — not run here: {}", c.what, trim(last_lines(r.output, 1))));
      continue;
    }
    t.check(c.id, r.exit_code == 0 && !r.timed_out, c.what,
            r.timed_out ? fmt::format("timed out after {} minutes\n", c.minutes) + last_lines(r.output, 30)
                        : last_lines(r.output, 30));
  }
}

// Proving some tasks builds only them (and, for selftest, the grader's
// tests), so a task half-way through an edit elsewhere cannot fail this
// one's proof.
bool check_build(check_log& t, workbook_paths const& paths, selftest_options const& options)
{
  std::vector<std::string> targets;
  if (!options.only.empty()) {
    targets = options.only;
    if (options.own_tests) targets.insert(targets.end(), {"grader-tests", "harness-tests", "grader-scenarios"});
  }
  std::string const scope = targets.empty() ? "everything" : fmt::format("{}", fmt::join(options.only, ", "));
  std::printf("%s\n", term::bold("Building " + scope).c_str());
  auto const b = build(paths.build(), targets, "the workbook");
  t.check("build", b.ok, targets.empty() ? "the workbook builds" : scope + (options.own_tests ? " and the grader's tests build" : " build"),
          b.ok ? "" : b.first_error + "full log: " + b.log.string() + "\n");
  return b.ok;
}

void check_own(check_log& t, workbook_paths const& paths, selftest_options const& options)
{
  t.begin_task("");
  std::printf("\n%s\n", term::bold("The grader's own tests").c_str());
  check_own_tests(t, paths, "grader/grader-tests", "grader unit tests");
  check_own_tests(t, paths, "harness/harness-tests", "harness unit tests (URLs, misbehaving ports, heap counter, skips, round tripper, test CA, TLS test server, TLS client and TLS serving)");
  check_own_tests(t, paths, "grader/grader-scenarios", "the grader on broken tasks: golden verdicts");
  check_schema(t, paths);
  if (!options.quick && options.only.empty()) check_scripts(t, paths);
}

} // namespace

int selftest(workbook_paths const& paths, catalog const& cat, selftest_options const& options)
{
  check_log log;
  task_check_options const per_task{options.repeat, options.record_limits, options.verbose};
  if (check_build(log, paths, options)) {
    for (auto const& task : cat.tasks())
      if (options.only.empty() || std::find(options.only.begin(), options.only.end(), task.id) != options.only.end())
        check_task(log, paths, task, per_task);
    if (options.own_tests) check_own(log, paths, options);
  }
  std::printf("\n%d passed, %d failed\n", log.passed(), log.failed());
  bool const reported = options.report.empty() || write_file_atomically(options.report, log.to_json().dump(2) + "\n");
  if (!reported) std::fprintf(stderr, "grader: could not write the report %s\n", options.report.c_str());
  return log.failed() == 0 && reported ? 0 : 1;
}

int cmd_selftest(context const& ctx, task const*, verb_options const& options)
{
  if (refused_without_reference(ctx.paths.root, nullptr, "selftest")) return exit_usage;
  selftest_options o = options.selftest;
  o.only = options.tasks;
  o.own_tests = true;
  if (o.repeat == 0) o.repeat = 1;
  return selftest(ctx.paths, ctx.cat, o);
}

int cmd_check(context const& ctx, task const*, verb_options const& options)
{
  if (refused_without_reference(ctx.paths.root, nullptr, "check")) return exit_usage;
  selftest_options o = options.selftest;
  o.only = options.tasks;
  o.own_tests = false;
  if (o.repeat == 0) o.repeat = 3;
  if (o.only.empty() && !options.all) {
    std::fprintf(stderr, "grader check: name the tasks to check (grader check task-21), or --all\n");
    return exit_usage;
  }
  return selftest(ctx.paths, ctx.cat, o);
}

} // namespace grader
