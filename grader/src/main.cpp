// grader: build and grade the workbook's tasks. Argument parsing only; the
// verbs live in commands.cpp, watch.cpp and selftest.cpp.
//
// Exit codes: 0 every criterion passes (or the verb succeeded); 1 a criterion
// fails, including code that does not compile, crashes or hangs (or the verb
// was refused, e.g. reveal before a pass); 2 usage errors, or the workbook
// itself cannot be configured or built.
#include "catalog.hpp"
#include "commands.hpp"
#include "selftest.hpp"
#include "terminal.hpp"
#include "text.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

namespace fs = std::filesystem;
using namespace grader;

namespace {

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

// "5", "05", "task-5" all name task-05; an unknown id gets the nearest guess.
task const* resolve(catalog const& cat, std::string const& word)
{
  if (task const* t = cat.find(normalize_task_id(word))) return t;
  std::string const guess = nearest(word, cat.ids());
  std::fprintf(stderr, "grader: no task '%s'.%s Try 'grader list'.\n", word.c_str(),
               guess.empty() ? "" : (" Did you mean '" + guess + "'?").c_str());
  return nullptr;
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
  context const ctx{paths_for(root), cat};

  // `grader task-05 ...` is shorthand for `grader grade task-05 ...`.
  std::vector<std::string> args(argv, argv + argc);
  std::vector<std::string> const verbs{"list", "grade", "hint", "reveal", "watch", "reset", "tally", "selftest", "help"};
  if (args.size() > 1 && !args[1].empty() && args[1][0] != '-' &&
      std::find(verbs.begin(), verbs.end(), args[1]) == verbs.end()) {
    if (!cat.find(normalize_task_id(args[1]))) {
      std::vector<std::string> candidates = cat.ids();
      candidates.insert(candidates.end(), verbs.begin(), verbs.end());
      std::string const guess = nearest(args[1], candidates);
      std::fprintf(stderr, "grader: no task or verb '%s'.%s Try 'grader --help'.\n", args[1].c_str(),
                   guess.empty() ? "" : (" Did you mean '" + guess + "'?").c_str());
      return exit_usage;
    }
    args.insert(args.begin() + 1, "grade");
  }
  if (args.size() > 1 && args[1] == "help") args[1] = "--help";

  CLI::App app{"Build and grade the Beast HTTP workbook's tasks.", "grader"};
  app.require_subcommand(0, 1);
  app.footer(
      "Examples:\n"
      "  grader                        the tasks, your status and score, what to do next\n"
      "  grader task-01                grade your code for task 01\n"
      "  grader task-01 --reference    what passing looks like\n"
      "  grader watch task-01          grade again on every save\n"
      "  grader hint task-01           the next hint\n"
      "  grader tally                  your scores against the rubric's bands\n"
      "  grader selftest               prove the workbook: references pass, stubs fail, mutants caught\n"
      "\n"
      "Exit codes: 0 all criteria pass / done; 1 a criterion fails (including code that\n"
      "does not compile, crashes or hangs) or the verb was refused; 2 usage error or the\n"
      "workbook cannot be built.");

  auto* list_cmd = app.add_subcommand("list", "Every task: difficulty, status, score, and what to do next (the default)");

  std::string task_id;
  grade_options go;
  auto* grade_cmd = app.add_subcommand("grade", "Grade one task (also: grader task-NN)");
  grade_cmd->add_option("task", task_id, "Task id, e.g. task-05 (or 5)")->required();
  grade_cmd->add_flag("--reference", go.reference, "Grade the reference instead of your code");
  grade_cmd->add_flag("--json", go.json, "Print the verdict as JSON (for scripts and CI)");
  grade_cmd->add_flag("-v,--verbose", go.verbose, "Show every failing test, not the first two per criterion");
  grade_cmd->add_flag("--log", go.full_log, "Also print the full build or test log");
  grade_cmd->add_flag("--no-prompt", [&](std::int64_t) { go.ask_self_grade = false; },
                      "Do not ask for a self-grade (NOTES.md's 'Self-grade: N' still counts)");
  grade_cmd->footer("After a passing run on a terminal the grader asks for your self-grade (rubric.md)\n"
                    "and records it, capped by the evidence. Exit codes: 0 all pass; 1 any fails; 2 usage.");

  bool all_hints = false;
  auto* hint_cmd = app.add_subcommand("hint", "Show the task's next hint (they come one at a time)");
  hint_cmd->add_option("task", task_id, "Task id")->required();
  hint_cmd->add_flag("--all", all_hints, "Show every hint");

  bool force = false;
  auto* reveal_cmd = app.add_subcommand("reveal", "Show the reference and its WHY.md, once your code passes");
  reveal_cmd->add_option("task", task_id, "Task id")->required();
  reveal_cmd->add_flag("--force", force, "Show it before a pass; caps the task's score at 0");

  auto* watch_cmd = app.add_subcommand("watch", "Grade again on every save of the task's files; q quits");
  watch_cmd->add_option("task", task_id, "Task id")->required();
  watch_cmd->add_flag("-v,--verbose", go.verbose, "Show every failing test");

  bool yes = false;
  auto* reset_cmd = app.add_subcommand("reset", "Restore the task's original stub (NOTES.md untouched; your version is backed up)");
  reset_cmd->add_option("task", task_id, "Task id")->required();
  reset_cmd->add_flag("-y,--yes", yes, "Do not ask for confirmation");

  auto* tally_cmd = app.add_subcommand("tally", "Your scores, the total, and the rubric's band for it");

  selftest_options st;
  auto* selftest_cmd = app.add_subcommand("selftest", "Prove the workbook sound: build, references pass, stubs fail, mutants are caught, grader tests pass");
  selftest_cmd->add_option("tasks", st.only, "Only these tasks (default: all)");
  selftest_cmd->add_flag("-v,--verbose", st.verbose, "Show test counts per task");
  selftest_cmd->add_flag("--quick", st.quick, "Skip the end-to-end run of a student's session (about a minute)");
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
    auto with_task = [&](auto&& verb) -> int {
      task const* t = resolve(cat, task_id);
      return t ? verb(*t) : exit_usage;
    };
    if (*grade_cmd) return with_task([&](task const& t) { return cmd_grade(ctx, t, go); });
    if (*hint_cmd) return with_task([&](task const& t) { return cmd_hint(ctx, t, all_hints); });
    if (*reveal_cmd) return with_task([&](task const& t) { return cmd_reveal(ctx, t, force); });
    if (*watch_cmd) return with_task([&](task const& t) { return cmd_watch(ctx, t, go); });
    if (*reset_cmd) return with_task([&](task const& t) { return cmd_reset(ctx, t, yes); });
    if (*tally_cmd) return cmd_tally(ctx);
    if (*selftest_cmd) {
      for (auto& id : st.only) {
        task const* t = resolve(cat, id);
        if (!t) return exit_usage;
        id = t->id;
      }
      return selftest(ctx.paths, cat, st);
    }
    (void)list_cmd;
    return cmd_list(ctx);
  } catch (std::exception const& e) {
    std::fprintf(stderr, "grader: %s\n", e.what());
    return exit_usage;
  }
}
