#include "mark.hpp"
#include "files.hpp"
#include "grade.hpp"
#include "mark_formats.hpp"
#include "sandbox.hpp"
#include "submission.hpp"
#include "terminal.hpp"
#include "verbs.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>

namespace fs = std::filesystem;

namespace grader {

void rerun_failures_once(verdict& v, std::vector<case_result> const& rerun)
{
  for (auto& cv : v.criteria) {
    for (auto& c : cv.cases) {
      auto const again = std::find_if(rerun.begin(), rerun.end(), [&](case_result const& r) { return r.name == c.name; });
      if (again == rerun.end() || again->status != case_status::passed) continue;
      c.status = case_status::passed;
      c.flaky = true;
    }
    cv.passed = v.result == verdict::outcome::graded && criterion_holds(cv.cases);
  }
}

namespace {

// Failed and crashed cases may be flaky; a time-out is not run again (it
// would cost its whole limit a second time).
std::vector<std::string> worth_rerunning(verdict const& v)
{
  std::vector<std::string> names;
  for (auto const& cv : v.criteria)
    for (auto const& c : cv.cases)
      if (c.status == case_status::failed || c.status == case_status::crashed) names.push_back(c.name);
  return names;
}

// A submission's code runs where it can change nothing the marking reads
// and cannot read the references: neither the workspace's nor the trusted
// tree's around it (the workspace is its build/mark/tree).
sandbox_policy marking_sandbox(workbook_paths const& paths, fs::path const& trusted)
{
  sandbox_policy policy;
  policy.confine_files = true;
  policy.concealed = {trusted};
  policy.visible = {paths.root};   // the workspace, even where it lies below /tmp
  policy.hidden = {paths.root / "solutions"};
  policy.data_limit = 4ull << 30;   // an allocation without bound meets std::bad_alloc, not the machine's OOM killer
  // Task 20's tests start 1,000 threads at once: with 8 MiB stacks they
  // would pass the data limit at about 500; with 2 MiB they need 2 GiB.
  policy.stack_limit = 2ull << 20;
  policy.process_limit = 2048;      // processes and threads: a fork bomb meets it
  return policy;
}

// The workspace holds the references (the build needs them), so a
// submission could compile one in; the compiler's own dependency record
// says whether it did.
void refuse_if_references_read(workbook_paths const& paths, task const& t, verdict& v)
{
  if (v.result != verdict::outcome::graded) return;
  auto const read = references_read(paths.root, paths.build_dir, t);
  if (read.empty()) return;
  verdict refused = assess(t, {}, "stub");
  refused.result = verdict::outcome::did_not_compile;
  refused.detail = fmt::format("the submission's code reads the reference solutions, which marking does not allow:\n  {}\n"
                               "A submission may include its own task's files, the harness (<workbook/...>) and "
                               "system headers.",
                               fmt::join(read, "\n  "));
  refused.log = v.log;
  refused.sandbox = v.sandbox;   // its tests did run, confined
  v = std::move(refused);
}

verdict mark_task(workbook_paths const& paths, fs::path const& trusted, task const& t)
{
  term::progress("marking " + t.id + "…");
  verdict v = grade(paths, t, "stub", {.sandbox = marking_sandbox(paths, trusted)});
  refuse_if_references_read(paths, t, v);
  auto const again = worth_rerunning(v);
  if (v.result == verdict::outcome::graded && !again.empty()) {
    term::progress(fmt::format("marking {}: running {} failed case{} again…", t.id, again.size(), again.size() == 1 ? "" : "s"));
    auto const rerun = grade(paths, t, "stub", {.build_first = false, .only_cases = again, .sandbox = marking_sandbox(paths, trusted)});
    std::vector<case_result> cases;
    for (auto const& cv : rerun.criteria) cases.insert(cases.end(), cv.cases.begin(), cv.cases.end());
    rerun_failures_once(v, cases);
  }
  term::progress_done();
  return v;
}

std::vector<std::string> tasks_to_mark(catalog const& cat, mark_options const& o)
{
  return o.all || o.tasks.empty() ? cat.ids() : o.tasks;
}

void print_summary(marking const& m)
{
  for (auto const& v : m.verdicts) {
    auto const s = score_of(v);
    // "6/6 +1 bonus (1/1)": the required criteria, then the extra credit.
    std::printf("  %s  %d/%d%s%s\n", v.task.c_str(), s.criteria_passed, s.max_points(),
                s.bonus_total ? fmt::format(" +{} bonus ({}/{})", s.bonus_passed, s.bonus_passed, s.bonus_total).c_str() : "",
                v.result == verdict::outcome::graded ? "" : fmt::format("  ({})", outcome_word(v.result)).c_str());
  }
  if (!m.ws.ignored.empty())
    std::printf("ignored (not the student's to edit): %s\n", fmt::format("{}", fmt::join(m.ws.ignored, ", ")).c_str());
  if (!m.ws.tampered.empty())
    std::printf("changed since the student edition was exported (its manifest.json), and ignored: %s\n",
                fmt::format("{}", fmt::join(m.ws.tampered, ", ")).c_str());
  if (!m.ws.missing.empty())
    std::printf("missing from the submission (the original stub stood in): %s\n",
                fmt::format("{}", fmt::join(m.ws.missing, ", ")).c_str());
}

} // namespace

int cmd_mark(context const& ctx, task const*, verb_options const& options)
{
  mark_options o = options.mark;
  o.tasks = options.tasks;
  if (o.formats.empty()) o.formats = {"json"};
  if (o.formats.size() != o.outputs.size()) {
    std::fprintf(stderr, "grader mark: %zu formats and %zu outputs: give one -o per --format, in the same order\n",
                 o.formats.size(), o.outputs.size());
    return exit_usage;
  }
  auto const started = std::chrono::steady_clock::now();
  marking m;
  m.submission = fs::absolute(o.submission);
  auto const ids = tasks_to_mark(ctx.cat, o);
  m.ws = prepare_workspace(ctx.paths.root, ctx.cat, m.submission, ids, ctx.paths.root / "build" / "mark" / "tree");
  if (!m.ws.error.empty()) {
    std::fprintf(stderr, "grader mark: %s\n", m.ws.error.c_str());
    return exit_usage;
  }
  if (!bubblewrap_refusal().empty())
    std::fprintf(stderr,
                 "grader mark: warning: %s. The tests run with time, CPU, file-size and data limits only: they can "
                 "read the references and write outside their directory (each verdict's sandbox says so).\n",
                 bubblewrap_refusal().c_str());
  catalog const pristine(m.ws.root);
  // The workspace's own build directory, whatever the environment says of the trusted one's.
  workbook_paths paths = ctx.paths;
  paths.root = m.ws.root;
  paths.build_dir = m.ws.root / "build" / ctx.paths.preset;
  for (auto const& id : ids)
    if (task const* t = pristine.find(id)) m.verdicts.push_back(mark_task(paths, ctx.paths.root, *t));
  m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  print_summary(m);
  int status = exit_pass;
  for (std::size_t i = 0; i < o.formats.size(); ++i) {
    if (!write_file_atomically(o.outputs[i], render_marking(m, o.formats[i]))) {
      std::fprintf(stderr, "grader mark: could not write %s\n", o.outputs[i].c_str());
      status = exit_usage;  // the other renderings are still written
      continue;
    }
    std::printf("%s results: %s\n", o.formats[i].c_str(), o.outputs[i].c_str());
  }
  return status;
}

} // namespace grader
