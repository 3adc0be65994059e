// grader: build and grade the workbook's tasks. The command line comes from
// the table of verbs (verbs.cpp); each verb is a function of its own.
//
// Exit codes: 0 every criterion passes (or the verb succeeded); 1 a criterion
// fails, including code that does not compile, crashes or hangs (or the verb
// was refused, e.g. reveal before a pass); 2 usage errors, or the workbook
// itself cannot be configured or built.
#include "catalog.hpp"
#include "paths.hpp"
#include "terminal.hpp"
#include "text.hpp"
#include "verbs.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <map>

namespace fs = std::filesystem;
using namespace grader;

namespace {

constexpr char const* examples =
    "Examples:\n"
    "  grader                        the tasks, your status and score, what to do next\n"
    "  grader task-01                grade your code for task 01\n"
    "  grader task-01 --reference    what passing looks like\n"
    "  grader watch task-01          grade again on every save\n"
    "  grader hint task-01           the next hint\n"
    "  grader tally                  your scores against the rubric's bands\n"
    "  grader serve                  the workbook in your browser, graded live as you save\n"
    "  grader selftest               prove the workbook: references pass, stubs fail, mutants caught\n"
    "  grader new task-21 --title \"Rate limiter\" --difficulty Senior   scaffold a task (instructors)\n"
    "  grader check task-21          prove a task publishable (instructors)\n"
    "  grader export --student ../edition   a student edition, without the references (instructors)\n"
    "  grader mark --submission ../alice --format junit -o alice.xml   mark unattended (CI)\n"
    "\n"
    "Exit codes: 0 all criteria pass / done; 1 a criterion fails (including code that\n"
    "does not compile, crashes or hangs) or the verb was refused; 2 usage error or the\n"
    "workbook cannot be built.";

// "5", "05", "task-5" all name task-05; an unknown id gets the nearest guess.
task const* resolve(catalog const& cat, std::string const& word)
{
  if (task const* t = cat.find(normalize_task_id(word))) return t;
  std::string const guess = nearest(word, cat.ids());
  std::fprintf(stderr, "grader: no task '%s'.%s Try 'grader list'.\n", word.c_str(),
               guess.empty() ? "" : (" Did you mean '" + guess + "'?").c_str());
  return nullptr;
}

// `grader task-05 ...` is `grader grade task-05 ...`; `grader help` is
// `grader --help`. Returns false (having said why) for a word that is
// neither a verb nor a task.
bool expand_shortcuts(std::vector<std::string>& args, catalog const& cat)
{
  if (args.size() < 2 || args[1].empty() || args[1][0] == '-') return true;
  if (args[1] == "help") {
    args[1] = "--help";
    return true;
  }
  if (find_verb(args[1])) return true;
  if (cat.find(normalize_task_id(args[1]))) {
    args.insert(args.begin() + 1, "grade");
    return true;
  }
  std::vector<std::string> candidates = cat.ids();
  for (auto const& v : verbs()) candidates.emplace_back(v.name);
  std::string const guess = nearest(args[1], candidates);
  std::fprintf(stderr, "grader: no task or verb '%s'.%s Try 'grader --help'.\n", args[1].c_str(),
               guess.empty() ? "" : (" Did you mean '" + guess + "'?").c_str());
  return false;
}

// Runs the verb the command line chose, resolving the task ids it names.
int dispatch(context const& ctx, verb const& v, std::string const& task_id, verb_options& options)
{
  task const* t = nullptr;
  if (v.argument == takes::one_task && !(t = resolve(ctx.cat, task_id))) return exit_usage;
  if (v.argument == takes::some_tasks)
    for (auto& id : options.tasks) {
      task const* named = resolve(ctx.cat, id);
      if (!named) return exit_usage;
      id = named->id;
    }
  return v.run(ctx, t, options);
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

  std::vector<std::string> args(argv, argv + argc);
  if (!expand_shortcuts(args, cat)) return exit_usage;

  CLI::App app{"Build and grade the Beast HTTP workbook's tasks.", "grader"};
  app.require_subcommand(0, 1);
  app.footer(examples);
  std::string task_id;
  verb_options options;
  std::map<CLI::App*, verb const*> commands;
  for (auto const& v : verbs()) {
    auto* command = app.add_subcommand(std::string(v.name), std::string(v.summary));
    if (v.argument == takes::one_task) command->add_option("task", task_id, "Task id, e.g. task-05 (or 5)")->required();
    if (v.argument == takes::some_tasks) command->add_option("tasks", options.tasks, "Only these tasks");
    v.declare(*command, options);
    commands[command] = &v;
  }

  std::vector<char const*> cargs;
  for (auto const& a : args) cargs.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(cargs.size()), cargs.data());
  } catch (CLI::ParseError const& e) {
    int const rc = app.exit(e);
    return rc == 0 ? exit_pass : exit_usage;
  }

  try {
    for (auto const& [command, v] : commands)
      if (*command) return dispatch(ctx, *v, task_id, options);
    return cmd_list(ctx, nullptr, options);
  } catch (std::exception const& e) {
    std::fprintf(stderr, "grader: %s\n", e.what());
    return exit_usage;
  }
}
