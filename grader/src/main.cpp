// grader: build and grade the workbook's tasks.
//
//   grader                      list the tasks (same as `grader list`)
//   grader task-05              grade your stub for task 05
//   grader task-05 --reference  the same against the reference
//   grader selftest             prove the workbook: references pass, stubs fail
//
// Exit codes: 0 every criterion passes (or the verb succeeded); 1 a criterion
// fails, including code that does not compile, crashes or hangs; 2 usage
// errors, or the workbook itself cannot be configured or built.
#include "catalog.hpp"
#include "grade.hpp"
#include "progress.hpp"
#include "report.hpp"
#include "selftest.hpp"
#include "terminal.hpp"
#include "text.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>

namespace fs = std::filesystem;
using namespace grader;

namespace {

constexpr int exit_pass = 0;
constexpr int exit_fail = 1;
constexpr int exit_usage = 2;

// The workbook is the directory holding CMakePresets.json and exercises/:
// WORKBOOK_ROOT (set by bin/grader), else the nearest one above the binary.
fs::path find_root()
{
  if (char const* env = std::getenv("WORKBOOK_ROOT"); env && *env) return fs::path(env);
  std::error_code ec;
  fs::path p = fs::read_symlink("/proc/self/exe", ec);
  for (p = p.parent_path(); !p.empty() && p != p.root_path(); p = p.parent_path())
    if (fs::exists(p / "CMakePresets.json") && fs::is_directory(p / "exercises")) return p;
  return fs::current_path();
}

workbook_paths paths_for(fs::path const& root)
{
  workbook_paths paths;
  paths.root = root;
  if (char const* preset = std::getenv("WORKBOOK_PRESET"); preset && *preset) paths.preset = preset;
  if (char const* dir = std::getenv("WORKBOOK_BUILD_DIR"); dir && *dir) paths.build_dir = dir;
  else paths.build_dir = root / "build" / paths.preset;
  return paths;
}

progress_store open_progress(fs::path const& root)
{
  progress_store store(root / ".grader" / "progress.json");
  if (auto message = store.load()) std::fprintf(stderr, "grader: %s\n", message->c_str());
  return store;
}

int cmd_list(catalog const& cat)
{
  auto const progress = open_progress(cat.root());
  std::printf("%s\n\n", term::bold("Beast HTTP workbook").c_str());
  std::string next;
  for (auto const& t : cat.tasks()) {
    auto const record = progress.get(t.id);
    std::string mark = term::dim(std::string(term::dot()));
    std::string state = "";
    if (record && record->verdict == "passed") mark = term::green(std::string(term::tick()));
    else if (record) {
      mark = term::red(std::string(term::cross()));
      state = fmt::format("{}/{}", record->criteria_passed, record->criteria_total);
    }
    if (next.empty() && !(record && record->verdict == "passed")) next = t.id;
    std::string title = t.title;
    if (!t.sound()) title += term::yellow("  (incomplete: grader selftest says why)");
    std::printf("  %s %-10s %-8s %-5s %s\n", mark.c_str(), t.id.c_str(), t.difficulty.c_str(), state.c_str(), title.c_str());
  }
  if (cat.tasks().empty()) std::printf("  (no tasks found under %s)\n", (cat.root() / "exercises").c_str());
  if (!next.empty()) std::printf("\nNext: grader %s   (read exercises/%s/README.md first)\n", next.c_str(), next.c_str());
  else if (!cat.tasks().empty()) std::printf("\nEvery task passes.\n");
  return exit_pass;
}

int cmd_grade(workbook_paths const& paths, catalog const& cat, std::string const& id, bool reference,
              bool json, bool verbose)
{
  task const* t = cat.find(id);
  if (!t->sound()) {
    std::fprintf(stderr, "grader: %s is incomplete:\n", id.c_str());
    for (auto const& p : t->problems)
      std::fprintf(stderr, "  %s: %s\n    fix: %s\n", p.file.c_str(), p.what.c_str(), p.fix.c_str());
    return exit_usage;
  }
  std::string const variant = reference ? "reference" : "stub";
  auto const v = grade(paths, *t, variant);
  if (json) std::cout << to_json(*t, v).dump(2) << "\n";
  else {
    report_options options;
    if (verbose) options.max_failures_per_criterion = 100;
    print_verdict(*t, v, options);
  }
  if (v.result == verdict::outcome::workbook_broken) return exit_usage;
  if (!reference) {
    auto progress = open_progress(paths.root);
    task_record r;
    if (auto old = progress.get(id)) r = *old;
    r.verdict = v.all_passed() ? "passed" : "failed";
    r.criteria_passed = v.passed_count();
    r.criteria_total = static_cast<int>(v.criteria.size());
    r.when = now_iso8601();
    progress.set(id, r);
    try {
      progress.save();
    } catch (std::exception const& e) {
      std::fprintf(stderr, "grader: could not record progress: %s\n", e.what());
    }
  }
  return v.all_passed() ? exit_pass : exit_fail;
}

} // namespace

int main(int argc, char** argv)
{
  term::init();
  fs::path const root = find_root();
  if (!fs::is_directory(root / "exercises")) {
    std::fprintf(stderr, "grader: %s is not a workbook (no exercises/ directory); set WORKBOOK_ROOT\n", root.c_str());
    return exit_usage;
  }
  catalog const cat(root);
  auto const paths = paths_for(root);

  // `grader task-05 ...` is shorthand for `grader grade task-05 ...`; "5",
  // "05" and "task-5" mean task-05 too.
  std::vector<std::string> args(argv, argv + argc);
  std::vector<std::string> const verbs{"list", "grade", "selftest", "help"};
  if (args.size() > 1 && !args[1].empty() && args[1][0] != '-' &&
      std::find(verbs.begin(), verbs.end(), args[1]) == verbs.end()) {
    std::string const id = normalize_task_id(args[1]);
    if (!cat.find(id)) {
      std::vector<std::string> candidates = cat.ids();
      candidates.insert(candidates.end(), verbs.begin(), verbs.end());
      std::string const guess = nearest(args[1], candidates);
      std::fprintf(stderr, "grader: no task or verb '%s'.%s Try 'grader list'.\n", args[1].c_str(),
                   guess.empty() ? "" : (" Did you mean '" + guess + "'?").c_str());
      return exit_usage;
    }
    args[1] = id;
    args.insert(args.begin() + 1, "grade");
  }
  if (args.size() > 1 && args[1] == "help") args[1] = "--help";

  CLI::App app{"Build and grade the Beast HTTP workbook's tasks.", "grader"};
  app.require_subcommand(0, 1);
  app.footer(
      "Examples:\n"
      "  grader                      list the tasks and what to do next\n"
      "  grader task-01              grade your code for task 01\n"
      "  grader task-01 --reference  grade the reference (what passing looks like)\n"
      "  grader selftest             prove every reference passes and every stub fails\n"
      "\n"
      "Exit codes: 0 all criteria pass; 1 a criterion fails (including code that does\n"
      "not compile, crashes or hangs); 2 usage error or the workbook cannot be built.\n"
      "Coming: hint, reveal, watch, tally, reset (students); check, new, export\n"
      "(instructors); mark (CI).");

  auto* list = app.add_subcommand("list", "Every task with its difficulty and status (the default)");

  std::string task_id;
  bool reference = false, json = false, verbose = false;
  auto* grade_cmd = app.add_subcommand("grade", "Grade one task (also: grader task-NN)");
  grade_cmd->add_option("task", task_id, "Task id, e.g. task-05")->required();
  grade_cmd->add_flag("--reference", reference, "Grade the reference instead of your stub");
  grade_cmd->add_flag("--json", json, "Print the verdict as JSON (for scripts and CI)");
  grade_cmd->add_flag("-v,--verbose", verbose, "Show every failing test, not the first two per criterion");
  grade_cmd->footer("Exit codes: 0 all criteria pass; 1 any fails; 2 usage or workbook error.");

  selftest_options st;
  auto* selftest_cmd = app.add_subcommand("selftest", "Prove the workbook sound: build all, references pass, stubs fail, grader tests pass");
  selftest_cmd->add_option("tasks", st.only, "Only these tasks (default: all)");
  selftest_cmd->add_flag("-v,--verbose", st.verbose, "Show test counts per task");
  selftest_cmd->footer("Ends with the line 'N passed, M failed'; exits 0 only when M is 0.");

  std::vector<char const*> cargs;
  for (auto const& a : args) cargs.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(cargs.size()), cargs.data());
  } catch (CLI::ParseError const& e) {
    int const rc = app.exit(e);
    return rc == 0 ? exit_pass : exit_usage;
  }

  try {
    if (*grade_cmd) {
      std::string const id = normalize_task_id(task_id);
      if (!cat.find(id)) {
        std::string const guess = nearest(task_id, cat.ids());
        std::fprintf(stderr, "grader: no task '%s'.%s\n", task_id.c_str(),
                     guess.empty() ? "" : (" Did you mean '" + guess + "'?").c_str());
        return exit_usage;
      }
      return cmd_grade(paths, cat, id, reference, json, verbose);
    }
    if (*selftest_cmd) {
      for (auto& id : st.only) {
        id = normalize_task_id(id);
        if (!cat.find(id)) {
          std::fprintf(stderr, "grader: no task '%s'\n", id.c_str());
          return exit_usage;
        }
      }
      return selftest(paths, cat, st);
    }
    (void)list;
    return cmd_list(cat);
  } catch (std::exception const& e) {
    std::fprintf(stderr, "grader: %s\n", e.what());
    return exit_usage;
  }
}
